//! `vm_differential`: the same generated module, input, host and gas limit compiled by
//! Cranelift and by Winch (wasmtime's baseline compiler) under the same schedule. Metering and
//! the stack budget live in the instrumented wasm, so the two must agree exactly: same
//! outcome, gas, breakdown and host effects.

use arbitrary::Unstructured;
use tally_vm::{validate, Compiler, Vm};

use super::model_host::ModelHost;
use super::vm_case::Case;

/// Runs one input; panics when an oracle fails.
pub fn run(data: &[u8]) {
    let Ok(case) = Case::generate(&mut Unstructured::new(data)) else {
        return;
    };
    let vm = |compiler| -> Vm<ModelHost> {
        match Vm::with_compiler(case.config.clone(), compiler) {
            Ok(vm) => vm,
            Err(e) => panic!("cannot create a {compiler:?} VM: {e}"),
        }
    };
    let (cranelift, winch) = (vm(Compiler::Cranelift), vm(Compiler::Winch));
    if validate(&case.code, &cranelift.config().module_limits).is_err() {
        return;
    }
    let compile = |vm: &Vm<ModelHost>| match vm.compile(&case.code) {
        Ok(module) => module,
        Err(e) => panic!("a module the validator accepts does not compile: {e}"),
    };
    let (by_cranelift, host_cranelift) =
        case.execute(&cranelift, &compile(&cranelift), case.gas_limit);
    let (by_winch, host_winch) = case.execute(&winch, &compile(&winch), case.gas_limit);
    assert_eq!(by_winch, by_cranelift, "Winch and Cranelift disagree");
    assert!(
        host_winch.same_as(&host_cranelift),
        "Winch and Cranelift have other host effects"
    );
}
