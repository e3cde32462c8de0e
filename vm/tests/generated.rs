//! Generated modules (wasm-smith, restricted to the deterministic subset and the host ABI): every
//! module the validator accepts must instrument and compile, and every execution must be
//! deterministic and exact at the gas-limit boundary.

use arbitrary::Unstructured;
use tally_vm::{Execution, Outcome, ScratchHost, TrapKind, Vm, VmConfig};

/// Modules generated per test run (each is compiled by Cranelift, so keep it modest); set
/// `TALLY_GENERATED_MODULES` to run more.
fn modules() -> u64 {
    std::env::var("TALLY_GENERATED_MODULES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}
const GAS: u64 = 2_000_000;

fn config() -> wasm_smith::Config {
    // No `gas_left`: a module that branches on the gas left legitimately behaves differently
    // under another gas limit, which would void the boundary property checked here.
    let imports = wat::parse_str(
        r#"(module
          (import "tally" "input_size" (func (result i32)))
          (import "tally" "keccak256" (func (param i32 i32 i32)))
          (import "tally" "set_return" (func (param i32 i32))))"#,
    )
    .unwrap();
    let exports =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "call")))"#).unwrap();
    wasm_smith::Config {
        available_imports: Some(imports),
        exports: Some(exports),
        allow_floats: false,
        allow_start_export: false,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: false,
        reference_types_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        extended_const_enabled: false,
        memory64_enabled: false,
        allowed_instructions: wasm_smith::InstructionKinds::new(&[
            wasm_smith::InstructionKind::NumericInt,
            wasm_smith::InstructionKind::Parametric,
            wasm_smith::InstructionKind::Variable,
            wasm_smith::InstructionKind::MemoryInt,
            wasm_smith::InstructionKind::Control,
        ]),
        // The exported memory is generated from `exports`; allow no other.
        max_memories: 0,
        max_table_elements: 1_000,
        max_memory32_bytes: 64 * 65_536,
        max_tables: 1,
        max_instructions: 200,
        max_funcs: 20,
        ..wasm_smith::Config::default()
    }
}

/// Deterministic pseudo-random bytes for wasm-smith (splitmix64).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

fn execute(vm: &Vm<ScratchHost>, code: &[u8], gas: u64) -> Execution {
    let module = vm.compile(code).expect("accepted modules compile");
    vm.execute(&module, "call", vec![1, 2, 3], gas, ScratchHost::default())
        .map_err(|(e, _)| e)
        .expect("no host failure")
        .execution
}

#[test]
fn generated_modules_compile_and_run_deterministically_and_exactly() {
    let vm: Vm<ScratchHost> = Vm::new(VmConfig::default()).unwrap();
    let (mut accepted, mut finished) = (0, 0);
    let total = modules();
    for seed in 0..total {
        let data = bytes(seed, 4096);
        let Ok(module) = wasm_smith::Module::new(config(), &mut Unstructured::new(&data)) else {
            continue;
        };
        let code = module.to_bytes();
        if tally_vm::validate(&code, &vm.config().module_limits).is_err() {
            continue;
        }
        accepted += 1;
        let first = execute(&vm, &code, GAS);
        assert_eq!(
            execute(&vm, &code, GAS),
            first,
            "seed {seed}: same run, same result"
        );
        if matches!(first.outcome, Outcome::Trap { .. }) {
            assert_eq!(
                first.gas_used, GAS,
                "seed {seed}: a trap uses the whole limit"
            );
            continue;
        }
        finished += 1;
        let used = first.gas_used;
        assert_eq!(
            execute(&vm, &code, used),
            first,
            "seed {seed}: limit = gas_used"
        );
        if used > 0 {
            let below = execute(&vm, &code, used - 1);
            assert_eq!(
                below.outcome,
                Outcome::Trap {
                    kind: TrapKind::OutOfGas
                },
                "seed {seed}: limit = gas_used - 1"
            );
        }
    }
    eprintln!("{accepted} of {total} modules accepted, {finished} ran to completion");
    // The generator must actually exercise the VM, not just produce rejected modules.
    assert!(
        accepted >= total / 2,
        "only {accepted} of {total} modules accepted"
    );
    assert!(
        finished >= total / 10,
        "only {finished} runs finished without a trap"
    );
}
