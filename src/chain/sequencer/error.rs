//! The chain's errors: [`ChainError`] (the chain itself) and [`SubmitError`] (a transaction
//! not accepted).

use tally_runtime::state::StateError;
use tally_runtime::tx::TxError;
use tally_runtime::H256;
use tally_vm::VmError;
use thiserror::Error;

use crate::chain::genesis::GenesisError;
use crate::chain::mempool::PoolError;
use crate::chain::store::ChainStoreError;
use crate::chain::tx::TxDecodeError;

/// Errors of the chain itself (never of a transaction's execution).
#[derive(Debug, Error)]
pub enum ChainError {
    #[error(transparent)]
    Store(#[from] ChainStoreError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    #[error("vm: {0}")]
    Vm(#[from] VmError),
    #[error("execution: {0}")]
    Execution(String),
    #[error("the database holds another chain: its genesis hash is {stored:?}, this genesis gives {given:?}")]
    GenesisMismatch { stored: H256, given: H256 },
    #[error("the database holds chain id {stored:?}, the genesis says {given}")]
    ChainIdMismatch { stored: Option<u64>, given: u64 },
    #[error("the state at block {number} has root {found:?}, its header says {expected:?}")]
    StateRootMismatch {
        number: u64,
        expected: H256,
        found: H256,
    },
    #[error("block {0} is missing from the store")]
    MissingBlock(u64),
    /// Code given to `Chain::set_code` is not a valid contract module.
    #[error("invalid code: {0}")]
    InvalidCode(VmError),
}

/// Why a submitted transaction was not accepted.
#[derive(Debug, Error)]
pub enum SubmitError {
    #[error("malformed transaction: {0}")]
    Decode(#[from] TxDecodeError),
    /// Invalid whatever the state: the runtime's checks that need no account.
    #[error("invalid transaction: {0}")]
    Invalid(#[from] TxError),
    #[error("rejected by the mempool: {0}")]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Chain(#[from] ChainError),
}
