//! The result of one execution: success, revert or a typed trap, always with the gas used.

use std::collections::BTreeMap;
use std::fmt;

use crate::host_abi::HostFn;

/// How an execution ended, with the gas it used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub outcome: Outcome,
    /// Gas charged, instantiation included. A trap uses the whole gas limit.
    pub gas_used: u64,
    /// Where `gas_used` went.
    pub breakdown: GasBreakdown,
}

/// `gas_used` split by what charged it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GasBreakdown {
    /// Instantiating the module.
    pub instantiation: u64,
    /// The instrumented code: instructions, memory growth and bulk memory. For a trap this also
    /// holds the rest of the limit, which the trap forfeits.
    pub instructions: u64,
    /// Each host function called: its schedule cost plus whatever the host charged.
    pub host: BTreeMap<HostFn, HostGas>,
}

/// Calls to one host function and the gas they used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostGas {
    pub calls: u64,
    pub gas: u64,
}

/// How an execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The entry point returned; `return_data` is what the contract passed to `set_return`.
    Success { return_data: Vec<u8> },
    /// The contract called `revert`: its effects are to be rolled back, the unused gas is not
    /// charged.
    Revert { data: Vec<u8> },
    /// The execution trapped: its effects are to be rolled back and all its gas is used.
    Trap { kind: TrapKind },
}

impl Outcome {
    /// A short lowercase name: `success`, `revert` or `trap`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Success { .. } => "success",
            Outcome::Revert { .. } => "revert",
            Outcome::Trap { .. } => "trap",
        }
    }

    /// The return or revert data (empty for a trap).
    pub fn data(&self) -> &[u8] {
        match self {
            Outcome::Success { return_data } => return_data,
            Outcome::Revert { data } => data,
            Outcome::Trap { .. } => &[],
        }
    }
}

/// Why an execution trapped. Every kind is deterministic: the same module, input, host
/// responses and gas limit always give the same kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// The gas limit was reached.
    OutOfGas,
    /// The deterministic stack budget was exhausted (too deep recursion).
    StackExhausted,
    /// A load, store or bulk-memory operation was out of the memory's bounds.
    MemoryOutOfBounds,
    /// The `unreachable` instruction ran (Rust panics end here).
    Unreachable,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Signed integer division overflow (`i32::MIN / -1`).
    IntegerOverflow,
    /// `call_indirect` through an empty or out-of-range table slot.
    IndirectCallToNull,
    /// `call_indirect` to a function of another type.
    IndirectCallBadSignature,
    /// A table access out of bounds.
    TableOutOfBounds,
    /// The requested entry point is not an exported `() -> ()` function.
    MissingEntryPoint(String),
    /// The module could not be instantiated (e.g. a data segment out of bounds).
    Instantiation(String),
    /// A host function was called with an invalid argument (out-of-bounds pointer, too many
    /// topics, ...).
    HostArgument { function: HostFn, reason: String },
    /// Return or revert data above the execution limit.
    ReturnDataTooLarge { len: u64, max: u64 },
    /// Any other wasmtime trap (none is reachable from the deterministic subset).
    Other(String),
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrapKind::OutOfGas => write!(f, "out of gas"),
            TrapKind::StackExhausted => write!(f, "stack exhausted"),
            TrapKind::MemoryOutOfBounds => write!(f, "memory access out of bounds"),
            TrapKind::Unreachable => write!(f, "unreachable executed"),
            TrapKind::IntegerDivisionByZero => write!(f, "integer division by zero"),
            TrapKind::IntegerOverflow => write!(f, "integer overflow"),
            TrapKind::IndirectCallToNull => write!(f, "indirect call to a null table entry"),
            TrapKind::IndirectCallBadSignature => write!(f, "indirect call signature mismatch"),
            TrapKind::TableOutOfBounds => write!(f, "table access out of bounds"),
            TrapKind::MissingEntryPoint(name) => {
                write!(f, "no exported entry point `{name}` of type () -> ()")
            }
            TrapKind::Instantiation(msg) => write!(f, "instantiation failed: {msg}"),
            TrapKind::HostArgument { function, reason } => {
                write!(
                    f,
                    "invalid argument to host function `{}`: {reason}",
                    function.name()
                )
            }
            TrapKind::ReturnDataTooLarge { len, max } => {
                write!(f, "return data of {len} bytes exceeds the {max}-byte limit")
            }
            TrapKind::Other(msg) => write!(f, "{msg}"),
        }
    }
}

impl TrapKind {
    /// A stable snake_case name for machine-readable output.
    pub fn code(&self) -> &'static str {
        match self {
            TrapKind::OutOfGas => "out_of_gas",
            TrapKind::StackExhausted => "stack_exhausted",
            TrapKind::MemoryOutOfBounds => "memory_out_of_bounds",
            TrapKind::Unreachable => "unreachable",
            TrapKind::IntegerDivisionByZero => "integer_division_by_zero",
            TrapKind::IntegerOverflow => "integer_overflow",
            TrapKind::IndirectCallToNull => "indirect_call_to_null",
            TrapKind::IndirectCallBadSignature => "indirect_call_bad_signature",
            TrapKind::TableOutOfBounds => "table_out_of_bounds",
            TrapKind::MissingEntryPoint(_) => "missing_entry_point",
            TrapKind::Instantiation(_) => "instantiation",
            TrapKind::HostArgument { .. } => "host_argument",
            TrapKind::ReturnDataTooLarge { .. } => "return_data_too_large",
            TrapKind::Other(_) => "other",
        }
    }
}
