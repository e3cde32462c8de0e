//! ABI calldata into the decoders that actually run on it: the SDK's, compiled into each
//! well-behaved example contract, executed by the VM on a scratch host.
//!
//! Constructor input and calldata are either canonical encodings of fuzzed arguments, a known
//! selector with arbitrary bytes after it, or arbitrary bytes. Oracles: every execution ends in
//! success or a revert, never a trap; a contract reverts with `Error("ABI decode")` exactly
//! when the reference decoder (`fuzzing::abi`) rejects the arguments of a known function; and
//! what a constructor decoded comes back from its getters as the canonical encoding of the
//! same values (decode, store, load, encode).

use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};
use tally_vm::{CompiledModule, Executed, Outcome, ScratchHost, Vm, VmConfig};

use crate::fuzzing::abi::{
    arbitrary_arg, arg_types, decode, encode, encode_call, selector, Arg, ArgType,
};
use crate::fuzzing::contracts::{Example, WELL_BEHAVED};

/// Enough for any input the fuzzer sends (8 KiB): under the default schedule a constructor
/// storing 256 words of strings pays about 1.2 * 10^8 gas for the writes alone.
const GAS: u64 = 1_000_000_000;
const OWNER: [u8; 20] = [0xaa; 20];
const CONTRACT: [u8; 20] = [0xcc; 20];
/// Addresses the fuzzed arguments use.
const ADDRESSES: [[u8; 20]; 4] = [OWNER, CONTRACT, [0xb0; 20], [0; 20]];

fn vm() -> &'static Vm<ScratchHost> {
    static VM: OnceLock<Vm<ScratchHost>> = OnceLock::new();
    // The default configuration is valid.
    VM.get_or_init(|| Vm::new(VmConfig::default()).expect("default VM"))
}

/// One session: deploy one contract, then call it a few times.
pub fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let example = u.choose(WELL_BEHAVED)?;
    let module = match vm().compile(example.code) {
        Ok(module) => module,
        Err(e) => panic!("{} does not compile: {e}", example.name),
    };
    let mut host = ScratchHost {
        caller: OWNER,
        address: CONTRACT,
        ..ScratchHost::default()
    };
    if module.has_entry_point("deploy") {
        let types = arg_types(example.constructor).unwrap_or_default();
        let (input, args) = input(u, &types)?;
        let done = execute(&module, "deploy", input.clone(), host);
        // Some constructors take empty input as their defaults instead of decoding it.
        if input.is_empty() {
            check_ends_cleanly(example, "constructor", &done);
            host = done.host;
        } else {
            let decoded = decode(&types, &input);
            check_decoding(example, "constructor", &input, &done, decoded.is_some());
            let deployed = matches!(done.execution.outcome, Outcome::Success { .. });
            host = done.host;
            if let (true, Some(decoded)) = (deployed, decoded) {
                if let Some(args) = args {
                    assert_eq!(
                        args, decoded,
                        "the reference decoder does not invert encode"
                    );
                }
                host = check_getters(example, &module, &decoded, host);
            }
        }
    }
    for _ in 0..u.int_in_range(1..=4)? {
        let function = *u.choose(example.functions)?;
        let types = arg_types(function).unwrap_or_default();
        let (args, _) = input(u, &types)?;
        let calldata = match u.int_in_range(0..=5)? {
            0 => args,
            1 => u.arbitrary()?,
            _ => [&selector(function)[..], &args].concat(),
        };
        let done = execute(&module, "call", calldata.clone(), host);
        if calldata.get(..4) == Some(&selector(function)[..]) {
            let ok = decode(&types, &calldata[4..]).is_some();
            check_decoding(example, function, &calldata, &done, ok);
        } else {
            check_ends_cleanly(example, function, &done);
        }
        host = done.host;
    }
    Ok(())
}

/// Input for `types`: a canonical encoding of fuzzed values (returned too), or arbitrary
/// bytes.
fn input(u: &mut Unstructured<'_>, types: &[ArgType]) -> Result<(Vec<u8>, Option<Vec<Arg>>)> {
    if u.ratio(1, 3)? {
        return Ok((u.arbitrary()?, None));
    }
    let args = types
        .iter()
        .map(|ty| arbitrary_arg(u, *ty, &ADDRESSES))
        .collect::<Result<Vec<_>>>()?;
    Ok((encode(&args), Some(args)))
}

fn execute(
    module: &CompiledModule<ScratchHost>,
    entry: &str,
    input: Vec<u8>,
    host: ScratchHost,
) -> Executed<ScratchHost> {
    match vm().execute(module, entry, input, GAS, host) {
        Ok(done) => done,
        Err((e, _)) => panic!("the scratch host never fails, yet: {e}"),
    }
}

fn check_ends_cleanly(example: &Example, what: &str, done: &Executed<ScratchHost>) {
    if let Outcome::Trap { kind } = &done.execution.outcome {
        panic!(
            "{} {what} trapped ({kind}) instead of reverting",
            example.name
        );
    }
}

/// The run reverted with `Error("ABI decode")` exactly when the reference decoder rejects.
fn check_decoding(
    example: &Example,
    what: &str,
    input: &[u8],
    done: &Executed<ScratchHost>,
    reference_decodes: bool,
) {
    check_ends_cleanly(example, what, done);
    let abi_error = encode_call("Error(string)", &[Arg::Bytes(b"ABI decode".to_vec())]);
    let rejected = done.execution.outcome == Outcome::Revert { data: abi_error };
    assert_eq!(
        rejected, !reference_decodes,
        "{} {what}: the contract and the reference decoder disagree on {input:02x?}",
        example.name
    );
}

/// Each constructor argument comes back from its getter as its canonical encoding.
fn check_getters(
    example: &Example,
    module: &CompiledModule<ScratchHost>,
    args: &[Arg],
    mut host: ScratchHost,
) -> ScratchHost {
    for (getter, arg) in example.getters.iter().zip(args) {
        let done = execute(module, "call", selector(getter).to_vec(), host);
        let expected = Outcome::Success {
            return_data: encode(std::slice::from_ref(arg)),
        };
        assert_eq!(
            done.execution.outcome, expected,
            "{} {getter} does not return what the constructor decoded",
            example.name
        );
        host = done.host;
    }
    host
}
