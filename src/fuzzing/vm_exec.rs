//! `vm_exec`: a generated module of the deterministic subset, validated and executed under a
//! fuzzed gas limit, schedule and execution limits against the model host.
//!
//! Oracles: nothing panics; Tally's validator accepts the module exactly when wasmtime (with
//! the contract features) does, and what it accepts compiles; two runs give the same outcome,
//! gas, breakdown and host effects; the breakdown adds up to the gas used; a trap uses the
//! whole limit; for a run that ends without a trap (and does not read `gas_left`), running
//! again with `limit = gas_used` gives the identical result and with `gas_used - 1` runs out of
//! gas.

use arbitrary::Unstructured;
use tally_vm::{validate, Execution, HostFn, Outcome, TrapKind, Vm};

use super::model_host::ModelHost;
use super::reference::wasmtime_accepts;
use super::vm_case::Case;

/// How a checked case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Not generated: the input ran out.
    Incomplete,
    /// Rejected by the validator (and by wasmtime).
    Rejected,
    /// The first run trapped.
    Trapped,
    /// The first run ended in success or a revert.
    Finished,
}

/// Runs one input; panics when an oracle fails.
pub fn run(data: &[u8]) {
    check(data);
}

/// [`run`], saying how the case ended.
pub fn check(data: &[u8]) -> Checked {
    let Ok(case) = Case::generate(&mut Unstructured::new(data)) else {
        return Checked::Incomplete;
    };
    let vm: Vm<ModelHost> = Vm::new(case.config.clone()).expect("generated schedules are valid");
    let accepted = validate(&case.code, &vm.config().module_limits);
    assert_eq!(
        accepted.is_ok(),
        wasmtime_accepts(&case.code),
        "Tally and wasmtime disagree on a generated module: {accepted:?}"
    );
    if accepted.is_err() {
        return Checked::Rejected;
    }
    let module = match vm.compile(&case.code) {
        Ok(module) => module,
        Err(e) => panic!("a module the validator accepts does not compile: {e}"),
    };
    let (first, host) = case.execute(&vm, &module, case.gas_limit);
    check_breakdown(&first);
    let (again, host_again) = case.execute(&vm, &module, case.gas_limit);
    assert_eq!(again, first, "a second run differs");
    assert!(host_again.same_as(&host), "a second run has other effects");
    if let Outcome::Trap { .. } = first.outcome {
        assert_eq!(
            first.gas_used, case.gas_limit,
            "a trap uses the whole limit"
        );
        return Checked::Trapped;
    }
    // `gas_left` tells the contract its limit, which may then legitimately behave otherwise.
    if first.breakdown.host.contains_key(&HostFn::GasLeft) {
        return Checked::Finished;
    }
    let (exact, host_exact) = case.execute(&vm, &module, first.gas_used);
    assert_eq!(exact, first, "limit = gas_used changes the result");
    assert!(
        host_exact.same_as(&host),
        "limit = gas_used changes the effects"
    );
    if first.gas_used > 0 {
        let (below, _) = case.execute(&vm, &module, first.gas_used - 1);
        assert_eq!(
            below.outcome,
            Outcome::Trap {
                kind: TrapKind::OutOfGas
            },
            "limit = gas_used - 1 must run out of gas"
        );
    }
    Checked::Finished
}

/// Instantiation, instructions and host functions add up to the gas used.
fn check_breakdown(execution: &Execution) {
    let breakdown = &execution.breakdown;
    let host: u64 = breakdown.host.values().map(|g| g.gas).sum();
    assert_eq!(
        breakdown.instantiation + breakdown.instructions + host,
        execution.gas_used,
        "the gas breakdown does not add up: {breakdown:?}"
    );
}
