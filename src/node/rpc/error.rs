//! [`RpcError`]: why a request failed, mapped to the JSON-RPC error codes Ethereum clients
//! know (the JSON-RPC 2.0 codes, EIP-1474's server codes, and geth's code 3 with the revert
//! data for a reverted call).

use jsonrpsee::types::error::{INTERNAL_ERROR_CODE, INVALID_PARAMS_CODE};
use jsonrpsee::types::ErrorObjectOwned;
use thiserror::Error;

use crate::chain::sequencer::{ChainError, SubmitError};

/// EIP-1474: the requested resource does not exist.
pub const RESOURCE_NOT_FOUND: i32 = -32001;
/// EIP-1474: the transaction was not accepted.
pub const TRANSACTION_REJECTED: i32 = -32003;
/// EIP-1474: the method is not available (e.g. a block range too large).
pub const LIMIT_EXCEEDED: i32 = -32005;
/// geth: the call reverted; `data` holds the revert data.
pub const EXECUTION_REVERTED: i32 = 3;
/// EIP-1474: invalid input (a call that failed for another reason than a revert).
pub const INVALID_INPUT: i32 = -32000;

/// A failed request.
#[derive(Debug, Error)]
pub enum RpcError {
    /// Parameters that do not parse or make no sense (-32602).
    #[error("{0}")]
    InvalidParams(String),
    /// A parse error already shaped by the server library.
    #[error("{}", .0.message())]
    Shaped(ErrorObjectOwned),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    LimitExceeded(String),
    /// The call reverted with `data` (decoded into the message when it is `Error(string)`).
    #[error("execution reverted{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted {
        reason: Option<String>,
        data: Vec<u8>,
    },
    /// The call failed (a trap, out of gas...).
    #[error("execution failed: {0}")]
    Failed(String),
    /// The node's own failure (the store, a poisoned lock...).
    #[error("internal error: {0}")]
    Internal(String),
}

impl RpcError {
    pub fn invalid(message: impl Into<String>) -> Self {
        RpcError::InvalidParams(message.into())
    }

    fn code(&self) -> i32 {
        match self {
            RpcError::InvalidParams(_) => INVALID_PARAMS_CODE,
            RpcError::Shaped(e) => e.code(),
            RpcError::NotFound(_) => RESOURCE_NOT_FOUND,
            RpcError::Rejected(_) => TRANSACTION_REJECTED,
            RpcError::LimitExceeded(_) => LIMIT_EXCEEDED,
            RpcError::Reverted { .. } => EXECUTION_REVERTED,
            RpcError::Failed(_) => INVALID_INPUT,
            RpcError::Internal(_) => INTERNAL_ERROR_CODE,
        }
    }
}

impl From<ErrorObjectOwned> for RpcError {
    fn from(e: ErrorObjectOwned) -> Self {
        RpcError::Shaped(e)
    }
}

impl From<ChainError> for RpcError {
    fn from(e: ChainError) -> Self {
        RpcError::Internal(e.to_string())
    }
}

impl From<SubmitError> for RpcError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Chain(e) => e.into(),
            other => RpcError::Rejected(other.to_string()),
        }
    }
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        match e {
            RpcError::Shaped(e) => e,
            RpcError::Reverted { ref data, .. } => ErrorObjectOwned::owned(
                e.code(),
                e.to_string(),
                Some(format!("0x{}", hex::encode(data))),
            ),
            e => ErrorObjectOwned::owned(e.code(), e.to_string(), None::<()>),
        }
    }
}
