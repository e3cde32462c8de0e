//! The wasmtime configuration Tally runs contracts with: the same feature set as the validator,
//! no native-stack-dependent behaviour relied upon, the pooling allocator sized for contracts,
//! and the choice of compiler ([`Compiler`]).

use wasmtime::{Config, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Strategy};

use crate::features::{contract_features, rejected_features};
use crate::limits::{ModuleLimits, WASM_PAGE_SIZE};

/// Native stack wasmtime may use for wasm frames. The deterministic stack budget
/// ([`crate::ExecutionLimits::stack_units`]) is always exhausted long before this backstop.
pub const NATIVE_WASM_STACK: usize = 4 * 1024 * 1024;

/// Instances the pooling allocator keeps slots for (nested calls and concurrent executions).
pub const POOLED_INSTANCES: u32 = 1_024;

/// Bytes of a pooled linear memory kept resident and reset in place on reuse instead of being
/// returned to the kernel (which costs a system call per instance); see `pagemap_scan` below
/// for which of those bytes are reset.
const KEEP_RESIDENT: usize = 1024 * 1024;

/// The wasmtime compiler that turns instrumented contracts into machine code. Metering and the
/// stack budget are part of the instrumented wasm, so every compiler gives the same outcome and
/// the same gas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compiler {
    /// Cranelift, wasmtime's optimizing compiler: what the VM uses unless told otherwise.
    #[default]
    Cranelift,
    /// Winch, wasmtime's single-pass baseline compiler (x86-64 only). It needs the crate's
    /// `winch` feature; without it creating a VM with it fails with a `VmError::Engine`.
    Winch,
}

impl Compiler {
    fn strategy(self) -> Strategy {
        match self {
            Compiler::Cranelift => Strategy::Cranelift,
            Compiler::Winch => Strategy::Winch,
        }
    }
}

/// Builds the wasmtime [`Config`] for contract execution, compiled by Cranelift.
///
/// `pooling` selects the pooling instance allocator (what the VM uses); benchmarks turn it off
/// to compare against plain wasmtime.
pub fn engine_config(limits: &ModuleLimits, pooling: bool) -> Config {
    engine_config_for(limits, pooling, Compiler::Cranelift)
}

/// [`engine_config`] with the given compiler.
pub fn engine_config_for(limits: &ModuleLimits, pooling: bool, compiler: Compiler) -> Config {
    let mut config = Config::new();
    config
        .strategy(compiler.strategy())
        .wasm_features(rejected_features(), false)
        .wasm_features(contract_features(), true)
        .cranelift_opt_level(OptLevel::Speed)
        .consume_fuel(false)
        .epoch_interruption(false)
        .max_wasm_stack(NATIVE_WASM_STACK)
        // Unused without async support, but wasmtime requires it to be at least the wasm stack.
        .async_stack_size(NATIVE_WASM_STACK)
        .parallel_compilation(true);
    if pooling {
        let max_memory = u64::from(limits.max_memory_pages) * WASM_PAGE_SIZE;
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(POOLED_INSTANCES)
            .total_memories(POOLED_INSTANCES)
            .total_tables(POOLED_INSTANCES)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .table_elements(limits.max_table_size as usize)
            // Cap on bytes of memory an instance may have; `usize` always holds it on 64-bit hosts.
            .max_memory_size(max_memory as usize)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(64 * 1024)
            // On Linux 6.7 and later, reset only the pages the instance wrote (found with the
            // `PAGEMAP_SCAN` ioctl) instead of clearing the whole resident part; elsewhere the
            // plain reset. Either way the next instance sees the same initial memory.
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}
