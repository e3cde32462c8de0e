//! Deterministic limits: the caps a module must respect to be deployed ([`ModuleLimits`]) and the
//! resources one execution may use ([`ExecutionLimits`]).

use serde::{Deserialize, Serialize};

/// Size of a WebAssembly page in bytes.
pub const WASM_PAGE_SIZE: u64 = 65_536;

/// Caps checked at deploy time. Every cap is inclusive: a module exactly at a cap is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleLimits {
    /// Size of the whole module binary, in bytes.
    pub max_code_size: usize,
    /// Number of functions, imported and defined.
    pub max_functions: u32,
    /// Locals declared by one function (parameters not included).
    pub max_locals_per_function: u32,
    /// Number of globals, imported and defined.
    pub max_globals: u32,
    /// Elements of the (single) table, initial and declared maximum.
    pub max_table_size: u32,
    /// Number of data segments.
    pub max_data_segments: u32,
    /// Memory pages (64 KiB), initial and declared maximum; also the runtime growth cap.
    pub max_memory_pages: u32,
    /// Number of imports.
    pub max_imports: u32,
    /// Number of exports.
    pub max_exports: u32,
}

impl Default for ModuleLimits {
    fn default() -> Self {
        ModuleLimits {
            max_code_size: 256 * 1024,
            max_functions: 8_192,
            max_locals_per_function: 2_048,
            max_globals: 256,
            max_table_size: 8_192,
            max_data_segments: 1_024,
            max_memory_pages: 256,
            max_imports: 64,
            max_exports: 64,
        }
    }
}

/// Resources one execution may use, beyond gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionLimits {
    /// Budget of the deterministic wasm stack, in stack units. Each call of a wasm function costs
    /// `FRAME_OVERHEAD + params + locals + max operand stack height` units for as long as it runs;
    /// a call that would exceed the budget traps with `StackExhausted`.
    pub stack_units: u32,
    /// Largest return or revert data an execution may produce, in bytes.
    pub max_return_data: u32,
}

impl Default for ExecutionLimits {
    fn default() -> Self {
        ExecutionLimits {
            stack_units: 65_536,
            max_return_data: 1024 * 1024,
        }
    }
}
