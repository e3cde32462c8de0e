//! What executing a transaction produced: the [`Receipt`] with its [`Status`], gas, fees and,
//! when tracing, its call tree.

use std::fmt;

use primitive_types::{H160, U256};
use tally_vm::{GasBreakdown, TrapKind};

use super::trace::CallTrace;
use crate::state::Log;

/// How a transaction (or a nested call) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its changes are kept.
    Success,
    /// The contract reverted: its changes are rolled back, unused gas is not charged.
    Revert,
    /// It failed: changes rolled back; a trap uses all the gas it was given.
    Failure(Failure),
}

impl Status {
    /// Whether the execution succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Status::Success)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Success => write!(f, "success"),
            Status::Revert => write!(f, "revert"),
            Status::Failure(failure) => write!(f, "failure: {failure}"),
        }
    }
}

/// Why an execution failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The contract trapped (out of gas, stack exhausted, unreachable, ...).
    Trap(TrapKind),
    /// Deployed code is not a valid contract module.
    InvalidCode(String),
    /// The caller cannot pay the value it sends.
    InsufficientBalance,
    /// The nested-call depth limit was reached.
    CallDepth,
    /// A contract already exists at the address a creation derives.
    AddressCollision,
    /// The creator's nonce cannot be incremented.
    NonceOverflow,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Trap(kind) => write!(f, "{kind}"),
            Failure::InvalidCode(reason) => write!(f, "invalid code: {reason}"),
            Failure::InsufficientBalance => write!(f, "the caller cannot pay the value"),
            Failure::CallDepth => write!(f, "call depth limit reached"),
            Failure::AddressCollision => write!(f, "a contract exists at the address"),
            Failure::NonceOverflow => write!(f, "the creator's nonce is at its maximum"),
        }
    }
}

/// Where a transaction's gas went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GasReport {
    /// Charged before execution (per transaction, data bytes, creation and code).
    pub intrinsic: u64,
    /// The top-level contract execution (instantiation, instructions, each host function; a
    /// nested call's gas is inside its caller's `call` entry). `None` when no code ran.
    pub execution: Option<GasBreakdown>,
}

/// The result of an executed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub status: Status,
    /// Gas charged, intrinsic gas included.
    pub gas_used: u64,
    /// Gas used in the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Logs of the successful frames, in emission order.
    pub logs: Vec<Log>,
    /// Return data on success, revert data on revert, empty on failure.
    pub output: Vec<u8>,
    /// The created contract, for a successful creation.
    pub contract_address: Option<H160>,
    /// Price paid per gas.
    pub effective_gas_price: U256,
    /// Base fee part of the fee, destroyed.
    pub burned: U256,
    /// Priority fee part, paid to the block producer.
    pub tip: U256,
    pub gas: GasReport,
    /// The call tree, when tracing is on ([`RuntimeConfig::trace`](super::RuntimeConfig)).
    pub trace: Option<CallTrace>,
}
