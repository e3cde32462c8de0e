//! # tally-vm
//!
//! Tally's deterministic WebAssembly engine, built on wasmtime. It knows nothing about
//! blockchains. A [`Vm`] validates contract modules against a deterministic subset
//! ([`validate()`]), instruments them ([`instrument`]) so every instruction is metered by a
//! [`GasSchedule`] and every call frame counts against a deterministic stack budget, compiles and
//! caches them by code hash ([`CompiledModule`]), and runs an entry point against a [`Host`] that
//! supplies storage, calls and the rest of the host interface ([`HostFn`]). Every execution ends
//! in one [`Outcome`] with the gas it used ([`Execution`]); nothing a contract does can panic the
//! host process.

pub mod engine_config;
mod exec;
pub mod features;
pub mod gas;
pub mod host;
pub mod host_abi;
mod host_fns;
pub mod instrument;
pub mod limits;
mod outcome;
pub mod validate;
mod vm;

pub use engine_config::{engine_config, engine_config_for, Compiler};
pub use exec::{Executed, MAX_GAS_LIMIT};
pub use gas::{GasSchedule, Linear, OperatorClass, ScheduleError};
pub use host::{Host, HostError, ScratchHost};
pub use host_abi::{AbiType, HostFn, HOST_MODULE};
pub use host_fns::MAX_LOG_TOPICS;
pub use limits::{ExecutionLimits, ModuleLimits, WASM_PAGE_SIZE};
pub use outcome::{Execution, GasBreakdown, HostGas, Outcome, TrapKind};
pub use validate::{validate, ModuleSummary, ValidationError};
pub use vm::{Allocation, CompiledModule, Vm, VmConfig, VmError};

/// keccak-256 of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    use tiny_keccak::{Hasher, Keccak};
    let mut hasher = Keccak::v256();
    hasher.update(data);
    let mut out = [0u8; 32];
    hasher.finalize(&mut out);
    out
}
