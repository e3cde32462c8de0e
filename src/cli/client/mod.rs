//! What the commands that talk to a node share: the connection flags ([`ClientArgs`]), the
//! JSON-RPC transport ([`rpc`]), Solidity signatures and values ([`abi`]), amounts of ether
//! ([`units`]), sending transactions ([`tx`]) and printing receipts and logs ([`report`]).
//! [`ClientError`] says why a command failed.

pub mod abi;
pub mod report;
pub mod rpc;
pub mod tx;
pub mod units;

use std::time::Duration;

use alloy_primitives::{Bytes, B256};
use clap::Args;
use thiserror::Error;

use crate::node::DEFAULT_ADDR;

/// The flags every client command takes.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The node's JSON-RPC endpoint.
    #[arg(long, env = "TALLY_RPC_URL", default_value_t = format!("http://{DEFAULT_ADDR}"))]
    pub rpc_url: String,
    /// Print one JSON value (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for the node: for each request, and for a transaction's receipt.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

impl ClientArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    /// A client of the node these flags name.
    pub fn client(&self) -> rpc::RpcClient {
        rpc::RpcClient::new(&self.rpc_url, self.timeout())
    }
}

/// Why a client command failed.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot reach the node at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the node at {url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("request to {url} failed: {message}")]
    Http { url: String, message: String },
    #[error("{method}: unexpected answer from the node: {message}")]
    BadResponse { method: String, message: String },
    #[error("{method}: {message} (JSON-RPC error {code})")]
    Rpc {
        method: String,
        code: i64,
        message: String,
    },
    /// The contract reverted (a call, or the gas estimate of a transaction).
    #[error("execution reverted{}", revert_suffix(reason.as_deref(), data))]
    Reverted { reason: Option<String>, data: Bytes },
    #[error("transaction {hash} was not mined within {seconds} s")]
    ReceiptTimeout { hash: B256, seconds: u64 },
    #[error("no receipt for {0}: the transaction is unknown or not mined yet")]
    NoReceipt(B256),
    #[error("bad signature `{signature}`: {message}")]
    Signature { signature: String, message: String },
    #[error("{signature} takes {expected} argument{}, {given} given", plural(*expected))]
    ArgumentCount {
        signature: String,
        expected: usize,
        given: usize,
    },
    #[error("argument {position} ({ty}): cannot read `{value}`: {message}")]
    Argument {
        position: usize,
        ty: String,
        value: String,
        message: String,
    },
    #[error("{what} is not valid: {message}")]
    Invalid { what: String, message: String },
    #[error("cannot decode {what}: {message}")]
    Decode { what: String, message: String },
}

impl ClientError {
    /// An invalid flag or argument value.
    pub fn invalid(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ClientError::Invalid {
            what: what.into(),
            message: message.to_string(),
        }
    }
}

fn revert_suffix(reason: Option<&str>, data: &Bytes) -> String {
    match reason {
        Some(reason) => format!(": {reason}"),
        None if data.is_empty() => String::new(),
        None => format!(" with data {data}"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
