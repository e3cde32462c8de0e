//! The host: what a contract's environment (the runtime's world state, or a scratch state for
//! tests and `tally run`) must provide. The VM implements the memory-only host functions itself
//! (input, return data, revert, gas, keccak) and delegates the rest to a [`Host`].

mod scratch;

pub use scratch::ScratchHost;

use thiserror::Error;

/// A 20-byte account address.
pub type Address = [u8; 20];
/// A 32-byte word: storage keys and values, big-endian amounts, log topics.
pub type Word = [u8; 32];

/// Gas available to a host function. The VM has already charged the function's schedule cost
/// (base + per word) before calling the host; the host charges any state-dependent part (a new
/// storage slot, the gas a nested call used) here, before doing the work.
#[derive(Debug)]
pub struct GasMeter {
    remaining: u64,
}

impl GasMeter {
    pub(crate) fn new(remaining: u64) -> Self {
        GasMeter { remaining }
    }

    /// Gas left.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Takes `gas`, or fails with [`HostError::OutOfGas`] (taking everything) if there is not
    /// enough.
    pub fn charge(&mut self, gas: u64) -> Result<(), HostError> {
        match self.remaining.checked_sub(gas) {
            Some(left) => {
                self.remaining = left;
                Ok(())
            }
            None => {
                self.remaining = 0;
                Err(HostError::OutOfGas)
            }
        }
    }
}

/// Why a host function failed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum HostError {
    /// The contract cannot pay for the operation: the execution ends out of gas.
    #[error("out of gas")]
    OutOfGas,
    /// The contract passed an invalid argument: the execution traps.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The host itself failed (e.g. its database): the execution is aborted with an error, not
    /// an outcome, because it says nothing about the contract.
    #[error("host failure: {0}")]
    Fatal(String),
}

/// Block context visible to contracts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    pub number: u64,
    pub timestamp: u64,
    pub chain_id: u64,
    /// Base fee per gas, 32-byte big-endian.
    pub base_fee: Word,
    pub producer: Address,
}

/// How a nested call or create ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum CallStatus {
    Success = 0,
    Revert = 1,
    Failure = 2,
}

/// A call from a contract to another contract.
#[derive(Clone, Copy, Debug)]
pub struct CallRequest<'a> {
    pub to: Address,
    /// Value to transfer, 32-byte big-endian.
    pub value: Word,
    /// Gas the caller offers (the host applies its forwarding rule).
    pub gas: u64,
    pub input: &'a [u8],
    /// What remains of the caller's stack budget; the callee runs within it.
    pub stack_units: u32,
}

/// The result of a nested call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutput {
    pub status: CallStatus,
    /// Return data on success, revert data on revert, empty on failure.
    pub output: Vec<u8>,
}

/// A contract creating another contract.
#[derive(Clone, Copy, Debug)]
pub struct CreateRequest<'a> {
    pub code: &'a [u8],
    pub value: Word,
    /// Input passed to the new contract's `deploy` entry point.
    pub input: &'a [u8],
    pub stack_units: u32,
}

/// The result of a create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOutput {
    pub status: CallStatus,
    /// The new contract's address (zero unless the status is success).
    pub address: Address,
    pub output: Vec<u8>,
}

/// The environment a contract runs in. Every method that can cost state-dependent gas gets the
/// [`GasMeter`]; none may be called by the VM before the function's schedule cost was paid.
pub trait Host: 'static {
    fn storage_read(&mut self, gas: &mut GasMeter, key: &Word) -> Result<Word, HostError>;
    fn storage_write(
        &mut self,
        gas: &mut GasMeter,
        key: &Word,
        value: &Word,
    ) -> Result<(), HostError>;
    fn caller(&self) -> Address;
    fn address(&self) -> Address;
    fn call_value(&self) -> Word;
    fn balance(&mut self, gas: &mut GasMeter, address: &Address) -> Result<Word, HostError>;
    /// Moves `value` from the running contract to `to`; `Ok(false)` if its balance is too low.
    fn transfer(
        &mut self,
        gas: &mut GasMeter,
        to: &Address,
        value: &Word,
    ) -> Result<bool, HostError>;
    fn block(&self) -> BlockInfo;
    fn emit_log(
        &mut self,
        gas: &mut GasMeter,
        topics: &[Word],
        data: &[u8],
    ) -> Result<(), HostError>;
    fn call(
        &mut self,
        gas: &mut GasMeter,
        request: CallRequest<'_>,
    ) -> Result<CallOutput, HostError>;
    fn create(
        &mut self,
        gas: &mut GasMeter,
        request: CreateRequest<'_>,
    ) -> Result<CreateOutput, HostError>;
}
