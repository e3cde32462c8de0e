//! Running one entry point of a compiled module: the per-execution context, gas set-up,
//! instantiation, the call, and turning whatever happened into one [`Outcome`].

use std::sync::Arc;

use wasmtime::{Global, Memory, Store, Trap, Val};

use crate::host::{Host, HostError};
use crate::host_abi::HostFn;
use crate::limits::ExecutionLimits;
use crate::outcome::{Execution, GasBreakdown, HostGas, Outcome, TrapKind};
use crate::vm::{CompiledModule, HostCosts, Vm, VmConfig, VmError};

/// Largest gas limit an execution accepts; larger limits are clamped to it. Far above any real
/// limit, and small enough that the instrumented i64 counter can never overflow.
pub const MAX_GAS_LIMIT: u64 = 1 << 62;

/// What a host function ends the execution with (carried through wasmtime as an error).
#[derive(Debug)]
pub(crate) enum HostExit {
    Revert(Vec<u8>),
    OutOfGas,
    Trap(TrapKind),
    Fatal(HostError),
}

impl std::fmt::Display for HostExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for HostExit {}

impl HostExit {
    /// An out-of-bounds or otherwise invalid argument to `function`.
    pub(crate) fn argument(function: HostFn, reason: impl Into<String>) -> wasmtime::Error {
        wasmtime::Error::new(HostExit::Trap(TrapKind::HostArgument {
            function,
            reason: reason.into(),
        }))
    }

    pub(crate) fn from_host(error: HostError, function: HostFn) -> wasmtime::Error {
        wasmtime::Error::new(match error {
            HostError::OutOfGas => HostExit::OutOfGas,
            HostError::InvalidArgument(reason) => {
                HostExit::Trap(TrapKind::HostArgument { function, reason })
            }
            fatal @ HostError::Fatal(_) => HostExit::Fatal(fatal),
        })
    }
}

/// The store data of one execution.
pub struct Ctx<H> {
    pub(crate) host: H,
    pub(crate) input: Vec<u8>,
    pub(crate) return_data: Vec<u8>,
    /// Output of the last nested call or create.
    pub(crate) last_output: Vec<u8>,
    pub(crate) memory: Option<Memory>,
    pub(crate) gas: Option<Global>,
    pub(crate) stack: Option<Global>,
    pub(crate) config: Arc<VmConfig>,
    pub(crate) host_costs: Arc<HostCosts>,
    /// Gas per host function, indexed by `HostFn as usize`.
    pub(crate) host_gas: [HostGas; HostFn::ALL.len()],
}

/// The result of [`Vm::execute`]: the outcome and the host handed back.
pub struct Executed<H> {
    pub execution: Execution,
    pub host: H,
}

impl<H: Host> Vm<H> {
    /// Runs the exported `entry` function of `module` with `input` as calldata and at most
    /// `gas_limit` gas, against `host`, with the VM's default execution limits.
    ///
    /// Only a fatal host error is an `Err`; everything a contract does is an [`Outcome`].
    pub fn execute(
        &self,
        module: &CompiledModule<H>,
        entry: &str,
        input: Vec<u8>,
        gas_limit: u64,
        host: H,
    ) -> Result<Executed<H>, (VmError, H)> {
        let limits = self.config.execution_limits;
        self.execute_with(module, entry, input, gas_limit, limits, host)
    }

    /// [`Vm::execute`] with explicit execution limits (nested calls pass the caller's remaining
    /// stack budget).
    pub fn execute_with(
        &self,
        module: &CompiledModule<H>,
        entry: &str,
        input: Vec<u8>,
        gas_limit: u64,
        limits: ExecutionLimits,
        host: H,
    ) -> Result<Executed<H>, (VmError, H)> {
        if !wasmtime::Engine::same(&self.engine, module.module.engine()) {
            return Err((VmError::ForeignModule, host));
        }
        let limit = gas_limit.min(MAX_GAS_LIMIT);
        let ctx = Ctx {
            host,
            input,
            return_data: Vec::new(),
            last_output: Vec::new(),
            memory: None,
            gas: None,
            stack: None,
            config: self.config.clone(),
            host_costs: self.host_costs.clone(),
            host_gas: [HostGas::default(); HostFn::ALL.len()],
        };
        let mut store = Store::new(&self.engine, ctx);
        let result = run(&mut store, module, entry, limit, limits);
        let ctx = store.into_data();
        match result {
            Ok((outcome, remaining)) => {
                let gas_used = match outcome {
                    Outcome::Trap { .. } => limit,
                    _ => limit - remaining.min(limit),
                };
                let breakdown = breakdown(&ctx.host_gas, module.instantiation_gas, gas_used);
                Ok(Executed {
                    execution: Execution {
                        outcome,
                        gas_used,
                        breakdown,
                    },
                    host: ctx.host,
                })
            }
            Err(e) => Err((e, ctx.host)),
        }
    }
}

/// Splits `gas_used` into instantiation, host functions and (the rest) instructions.
fn breakdown(host_gas: &[HostGas], instantiation: u64, gas_used: u64) -> GasBreakdown {
    let host: std::collections::BTreeMap<HostFn, HostGas> = HostFn::ALL
        .iter()
        .zip(host_gas)
        .filter(|(_, g)| g.calls > 0)
        .map(|(f, g)| (*f, *g))
        .collect();
    let instantiation = instantiation.min(gas_used);
    let host_total: u64 = host.values().map(|g| g.gas).sum();
    GasBreakdown {
        instantiation,
        instructions: gas_used
            .saturating_sub(instantiation)
            .saturating_sub(host_total),
        host,
    }
}

fn trap(kind: TrapKind) -> Result<(Outcome, u64), VmError> {
    Ok((Outcome::Trap { kind }, 0))
}

/// Instantiates and calls; returns the outcome and the gas remaining.
fn run<H: Host>(
    store: &mut Store<Ctx<H>>,
    module: &CompiledModule<H>,
    entry: &str,
    limit: u64,
    limits: ExecutionLimits,
) -> Result<(Outcome, u64), VmError> {
    let Some(gas_left) = limit.checked_sub(module.instantiation_gas) else {
        return trap(TrapKind::OutOfGas);
    };
    let instance = match module.pre.instantiate(&mut *store) {
        Ok(instance) => instance,
        Err(e) => return trap(TrapKind::Instantiation(format!("{e:#}"))),
    };
    let exports = &module.exports;
    let global = |store: &mut Store<Ctx<H>>, export| {
        instance
            .get_module_export(&mut *store, export)
            .and_then(|e| e.into_global())
    };
    // Both globals are added and exported by the instrumenter (checked when the module was
    // cached).
    let (Some(gas), Some(stack)) = (global(store, &exports.gas), global(store, &exports.stack))
    else {
        return Err(VmError::Engine(
            "instrumented module lacks its metering globals".into(),
        ));
    };
    // MAX_GAS_LIMIT < i64::MAX, and the stack budget is clamped to i32 range.
    set_global(store, gas, Val::I64(gas_left as i64))?;
    set_global(
        store,
        stack,
        Val::I32(limits.stack_units.min(i32::MAX as u32) as i32),
    )?;
    let memory = exports
        .memory
        .as_ref()
        .and_then(|export| instance.get_module_export(&mut *store, export))
        .and_then(|e| e.into_memory());
    let data = store.data_mut();
    data.gas = Some(gas);
    data.stack = Some(stack);
    data.memory = memory;

    let func = module
        .module
        .get_export_index(entry)
        .and_then(|export| instance.get_module_export(&mut *store, &export))
        .and_then(|e| e.into_func())
        .and_then(|f| f.typed::<(), ()>(&*store).ok());
    let Some(func) = func else {
        return trap(TrapKind::MissingEntryPoint(entry.to_string()));
    };
    let result = func.call(&mut *store, ());
    let remaining = read_i64(&mut *store, gas);
    match result {
        Ok(()) => {
            let return_data = std::mem::take(&mut store.data_mut().return_data);
            Ok((Outcome::Success { return_data }, remaining.max(0) as u64))
        }
        Err(error) => classify(store, error, stack, remaining),
    }
}

fn classify<H: Host>(
    store: &mut Store<Ctx<H>>,
    error: wasmtime::Error,
    stack: Global,
    remaining: i64,
) -> Result<(Outcome, u64), VmError> {
    let error = match error.downcast::<HostExit>() {
        Ok(exit) => {
            return match exit {
                HostExit::Revert(data) => Ok((Outcome::Revert { data }, remaining.max(0) as u64)),
                HostExit::OutOfGas => trap(TrapKind::OutOfGas),
                HostExit::Trap(kind) => trap(kind),
                HostExit::Fatal(e) => Err(VmError::Host(e)),
            };
        }
        Err(error) => error,
    };
    if read_i32(store, stack) < 0 {
        return trap(TrapKind::StackExhausted);
    }
    if remaining < 0 {
        return trap(TrapKind::OutOfGas);
    }
    let kind = match error.downcast_ref::<Trap>() {
        Some(Trap::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(Trap::UnreachableCodeReached) => TrapKind::Unreachable,
        Some(Trap::IntegerDivisionByZero) => TrapKind::IntegerDivisionByZero,
        Some(Trap::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(Trap::IndirectCallToNull) => TrapKind::IndirectCallToNull,
        Some(Trap::BadSignature) => TrapKind::IndirectCallBadSignature,
        Some(Trap::TableOutOfBounds) => TrapKind::TableOutOfBounds,
        // The deterministic stack budget is sized far below the native stack, so this is only
        // reachable through a host bug; it is still reported as exhaustion, never a crash.
        Some(Trap::StackOverflow) => TrapKind::StackExhausted,
        Some(other) => TrapKind::Other(other.to_string()),
        None => TrapKind::Other(format!("{error:#}")),
    };
    trap(kind)
}

fn set_global<H>(store: &mut Store<Ctx<H>>, global: Global, value: Val) -> Result<(), VmError> {
    global.set(&mut *store, value).map_err(VmError::engine)
}

pub(crate) fn read_i64(mut store: impl wasmtime::AsContextMut, global: Global) -> i64 {
    global.get(&mut store).i64().unwrap_or(0)
}

fn read_i32(mut store: impl wasmtime::AsContextMut, global: Global) -> i32 {
    global.get(&mut store).i32().unwrap_or(0)
}
