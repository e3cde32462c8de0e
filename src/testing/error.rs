//! [`TestError`]: everything a harness operation or expectation can fail with. Its `Debug` is
//! its `Display`, so a test returning `Result<(), TestError>` (or calling `unwrap`) prints a
//! readable message: the revert reason and call trace of a failed call, the diff of a changed
//! gas snapshot, the line of a failed expectation.

use std::fmt;
use std::panic::Location;

use thiserror::Error;

use super::receipt::TxReceipt;
use crate::chain::sequencer::{ChainError, SubmitError};

/// What a test built on the harness can fail with.
#[derive(Error)]
pub enum TestError {
    /// The chain itself failed (its store, its state).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The transaction was not accepted (too little balance for its gas, a gas limit above
    /// the block's...): nothing changed.
    #[error("{what} rejected: {reason}")]
    Rejected { what: String, reason: SubmitError },
    /// A call that had to succeed reverted or failed.
    #[error("{0}")]
    CallFailed(Box<TxReceipt>),
    /// A read-only call reverted or failed.
    #[error("view {function} on {contract} {outcome}")]
    ViewFailed {
        contract: String,
        function: String,
        outcome: String,
    },
    /// A contract artifact could not be read.
    #[error("cannot read contract {path}: {reason}")]
    Artifact { path: String, reason: String },
    /// A signature string or its arguments do not parse.
    #[error("bad call {signature:?}: {reason}")]
    Signature { signature: String, reason: String },
    /// Return data or a log did not decode as the expected type.
    #[error("cannot decode {what}: {reason}")]
    Decode { what: String, reason: String },
    /// No chain snapshot has this id (or it was dropped by reverting to an earlier one).
    #[error("no chain snapshot {0}")]
    UnknownSnapshot(u64),
    /// An expectation (`expect_*`) did not hold.
    #[error("{message}\n  at {location}")]
    Expectation {
        message: String,
        location: &'static Location<'static>,
    },
    /// A gas snapshot file could not be read or written.
    #[error("gas snapshot {path}: {reason}")]
    SnapshotFile { path: String, reason: String },
    /// Measurements differ from the gas snapshot file (the diff, ready to print).
    #[error("{0}")]
    SnapshotMismatch(String),
}

impl fmt::Debug for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl TestError {
    /// A failed expectation at the caller's caller (expectations are `#[track_caller]`).
    #[track_caller]
    pub(crate) fn expectation(message: String) -> Self {
        TestError::Expectation {
            message,
            location: Location::caller(),
        }
    }
}

/// The result of a test built on the harness.
pub type TestResult<T = ()> = Result<T, TestError>;
