//! One generated execution for the VM targets: a module of the deterministic subset (random
//! code from wasm-smith, or a script of host calls), a VM
//! configuration (gas schedule and execution limits), a model host, the input, the entry point
//! and the gas limit, all from the fuzz input.

use arbitrary::{Result, Unstructured};
use serde_json::Value;
use tally_vm::gas::MAX_COST;
use tally_vm::{CompiledModule, Execution, ExecutionLimits, GasSchedule, Vm, VmConfig};

use super::host_script::host_script_module;
use super::model_host::ModelHost;
use super::smith::{contract_module, ENTRY_POINTS};

/// Largest gas limit a case runs with. Every loop iteration costs at least one gas, so this
/// bounds the time of one execution (a few tens of milliseconds); under the default schedule
/// it pays for instantiating up to 60 memory pages.
pub const MAX_CASE_GAS: u64 = 20_000_000;

/// A generated execution; see the module documentation.
#[derive(Clone, Debug)]
pub struct Case {
    pub code: Vec<u8>,
    pub config: VmConfig,
    pub host: ModelHost,
    pub input: Vec<u8>,
    pub entry: &'static str,
    pub gas_limit: u64,
}

impl Case {
    /// Generates a case, or fails when the fuzz input runs out.
    pub fn generate(u: &mut Unstructured<'_>) -> Result<Case> {
        // The small parameters first and the module from whatever is left, so that a short
        // input still varies them and a long one makes a large module.
        let gas_limit = u.int_in_range(0..=MAX_CASE_GAS)?;
        let scripted = u.arbitrary()?;
        let entry = match u.int_in_range(0..=8)? {
            0 => ENTRY_POINTS[1],
            1 => "missing",
            _ => ENTRY_POINTS[0],
        };
        let config = VmConfig {
            schedule: schedule(u)?,
            execution_limits: execution_limits(u)?,
            ..VmConfig::default()
        };
        let host = ModelHost::arbitrary(u)?;
        let input_len = u.int_in_range(0..=64)?;
        let input = u.bytes(input_len)?.to_vec();
        let code = if scripted {
            host_script_module(u)?
        } else {
            contract_module(u)?
        };
        Ok(Case {
            code,
            config,
            host,
            input,
            entry,
            gas_limit,
        })
    }

    /// Runs the case's entry point on `module` with `gas_limit`, against a copy of the host.
    /// The model host never fails, so a VM error is an oracle failure.
    pub fn execute(
        &self,
        vm: &Vm<ModelHost>,
        module: &CompiledModule<ModelHost>,
        gas_limit: u64,
    ) -> (Execution, ModelHost) {
        let host = self.host.clone();
        match vm.execute(module, self.entry, self.input.clone(), gas_limit, host) {
            Ok(done) => (done.execution, done.host),
            Err((e, _)) => panic!("the VM failed on a host that never fails: {e}"),
        }
    }
}

/// The default schedule, or one with every cost drawn from the fuzz input (mostly small, some
/// zero, some at the maximum a schedule allows).
fn schedule(u: &mut Unstructured<'_>) -> Result<GasSchedule> {
    let default = GasSchedule::default();
    if u.arbitrary()? {
        return Ok(default);
    }
    // A schedule is integers in nested objects: replace each of them.
    let mut value = serde_json::to_value(&default).expect("the default schedule serializes");
    randomize_costs(&mut value, u)?;
    // The version is not a cost.
    value["version"] = default.version.into();
    Ok(serde_json::from_value(value).expect("a schedule with other integers deserializes"))
}

fn randomize_costs(value: &mut Value, u: &mut Unstructured<'_>) -> Result<()> {
    match value {
        Value::Number(_) => {
            let cost = match u.int_in_range(0..=15)? {
                0 => 0,
                15 => MAX_COST,
                _ => u.int_in_range(0..=64)?,
            };
            *value = cost.into();
        }
        Value::Object(fields) => {
            for field in fields.values_mut() {
                randomize_costs(field, u)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The default limits, or a small stack budget and return-data cap from the fuzz input.
fn execution_limits(u: &mut Unstructured<'_>) -> Result<ExecutionLimits> {
    let default = ExecutionLimits::default();
    if u.arbitrary()? {
        return Ok(default);
    }
    Ok(ExecutionLimits {
        stack_units: u.int_in_range(0..=default.stack_units)?,
        max_return_data: u.int_in_range(0..=256)?,
    })
}
