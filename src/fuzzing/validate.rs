//! `validate`: arbitrary bytes, modules generated with any WebAssembly feature, and mutated
//! valid modules, into the deploy-time validator.
//!
//! Oracles: the validator never panics; it never accepts what wasmtime with the contract
//! features rejects; what it accepts instruments into a module wasmtime accepts too; and
//! when it calls a module malformed or ill-typed (not a policy or feature rejection), wasmtime
//! rejects it as well.

use arbitrary::{Arbitrary, Result, Unstructured};
use tally_vm::instrument::instrument;
use tally_vm::{validate, GasSchedule, ModuleLimits, ValidationError};

use super::mutate::mutate;
use super::reference::wasmtime_accepts;
use super::smith::contract_module;

/// Runs one input; panics when an oracle fails.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(wasm) = candidate(&mut u) else {
        return;
    };
    let limits = ModuleLimits::default();
    let verdict = validate(&wasm, &limits);
    let reference = wasmtime_accepts(&wasm);
    match verdict {
        Ok(_) => {
            assert!(reference, "Tally accepts a module wasmtime rejects");
            let instrumented =
                match instrument(&wasm, &GasSchedule::default(), limits.max_memory_pages) {
                    Ok(done) => done,
                    Err(e) => panic!("an accepted module does not instrument: {e}"),
                };
            assert!(
                wasmtime_accepts(&instrumented.wasm),
                "the instrumented module is invalid"
            );
        }
        Err(
            error @ (ValidationError::Empty
            | ValidationError::NotWasm
            | ValidationError::Truncated { .. }
            | ValidationError::Invalid { .. }),
        ) => assert!(
            !reference,
            "Tally calls a module wasmtime accepts invalid: {error}"
        ),
        Err(_) => {}
    }
}

/// Where the bytes come from.
#[derive(Arbitrary, Debug)]
enum Source {
    /// The rest of the input as it is.
    Raw,
    /// A module generated with any configuration (every feature, any imports and exports).
    AnyModule,
    /// A module of the deterministic subset.
    Contract,
}

fn candidate(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut wasm = match u.arbitrary()? {
        Source::Raw => return Ok(u.bytes(u.len())?.to_vec()),
        Source::AnyModule => {
            let config: wasm_smith::Config = u.arbitrary()?;
            wasm_smith::Module::new(config, u)?.to_bytes()
        }
        Source::Contract => contract_module(u)?,
    };
    for _ in 0..u.int_in_range(0..=3)? {
        wasm = mutate(wasm, u)?;
    }
    Ok(wasm)
}
