//! Receipts ([`Receipt`]: the standard fields and Tally's `output`, `failure` and
//! `intrinsicGas`) and logs, printed as aligned text or as one JSON object.

use std::process::ExitCode;

use alloy_primitives::{Bytes, U256};
use alloy_rpc_types_eth::{Log, TransactionReceipt};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::cli::EXIT_FAILED_EXECUTION;
use crate::eth::{ether, revert_reason};

/// A receipt as the node returns it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    #[serde(flatten)]
    pub inner: TransactionReceipt,
    /// The return data, or the revert data of a reverted transaction.
    #[serde(default)]
    pub output: Bytes,
    /// Why a transaction that did not revert failed (a trap, out of gas...).
    #[serde(default)]
    pub failure: Option<String>,
    #[serde(default, with = "alloy_serde::quantity::opt")]
    pub intrinsic_gas: Option<u64>,
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    /// The contract reverted; the output is the revert data.
    Reverted,
    /// The execution failed otherwise (the receipt's `failure` says how).
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Reverted => "reverted",
            Status::Failed => "failed",
        }
    }
}

impl Receipt {
    pub fn status(&self) -> Status {
        match (self.inner.inner.status(), &self.failure) {
            (true, _) => Status::Success,
            (false, Some(_)) => Status::Failed,
            (false, None) => Status::Reverted,
        }
    }

    /// The reason of a revert with Solidity's `Error(string)`.
    pub fn revert_reason(&self) -> Option<String> {
        (self.status() == Status::Reverted)
            .then(|| revert_reason(&self.output))
            .flatten()
    }

    /// Prints the receipt, as JSON if `json`.
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", self.json());
        } else {
            print!("{}", self.text());
        }
    }

    /// The exit status of a command that sent this transaction: whether it succeeded.
    pub fn exit_code(&self) -> ExitCode {
        match self.status() {
            Status::Success => ExitCode::SUCCESS,
            Status::Reverted | Status::Failed => ExitCode::from(EXIT_FAILED_EXECUTION),
        }
    }

    /// The receipt as one JSON object: numbers that fit 64 bits are JSON numbers, wei amounts
    /// decimal strings, addresses checksummed.
    pub fn json(&self) -> Value {
        let r = &self.inner;
        json!({
            "status": self.status().as_str(),
            "transactionHash": r.transaction_hash,
            "blockNumber": r.block_number,
            "blockHash": r.block_hash,
            "from": r.from.to_string(),
            "to": r.to.map(|a| a.to_string()),
            "contractAddress": r.contract_address.map(|a| a.to_string()),
            "gasUsed": r.gas_used,
            "intrinsicGas": self.intrinsic_gas,
            "effectiveGasPrice": r.effective_gas_price.to_string(),
            "output": self.output,
            "revertReason": self.revert_reason(),
            "failure": self.failure,
            "logs": r.inner.logs().iter().map(log_json).collect::<Vec<_>>(),
        })
    }

    /// The receipt as aligned `field value` lines.
    pub fn text(&self) -> String {
        let r = &self.inner;
        let mut lines = vec![
            ("status", self.status().as_str().to_string()),
            ("transaction", r.transaction_hash.to_string()),
        ];
        if let Some(n) = r.block_number {
            lines.push(("block", n.to_string()));
        }
        lines.push(("from", r.from.to_string()));
        if let Some(to) = r.to {
            lines.push(("to", to.to_string()));
        }
        if let Some(created) = r.contract_address {
            lines.push(("contract", created.to_string()));
        }
        let intrinsic = self
            .intrinsic_gas
            .map(|g| format!(" (intrinsic {g})"))
            .unwrap_or_default();
        lines.push(("gas used", format!("{}{intrinsic}", r.gas_used)));
        let price = U256::from(r.effective_gas_price);
        let fee = price.saturating_mul(U256::from(r.gas_used));
        lines.push(("gas price", format!("{price} wei")));
        lines.push(("fee", format!("{fee} wei ({} ether)", ether(fee))));
        match self.revert_reason() {
            Some(reason) => lines.push(("revert reason", reason)),
            None if !self.output.is_empty() => lines.push(("output", self.output.to_string())),
            None => {}
        }
        if let Some(failure) = &self.failure {
            lines.push(("failure", failure.clone()));
        }
        let logs = r.inner.logs();
        lines.push(("logs", logs.len().to_string()));
        let mut text = fields(&lines);
        for log in logs {
            text.push_str(&log_text(log, None));
        }
        text
    }
}

/// `(name, value)` lines with the values aligned.
fn fields(lines: &[(&str, String)]) -> String {
    let width = lines.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    lines
        .iter()
        .map(|(name, value)| format!("{name:width$}  {value}\n"))
        .collect()
}

/// A log as JSON: where it is, who emitted it, its topics and data.
pub fn log_json(log: &Log) -> Value {
    json!({
        "address": log.address().to_string(),
        "topics": log.topics(),
        "data": log.data().data,
        "blockNumber": log.block_number,
        "transactionHash": log.transaction_hash,
        "logIndex": log.log_index,
    })
}

/// A log as text: its index and emitter, then the decoded event if given, else its topics and
/// data, indented.
pub fn log_text(log: &Log, decoded: Option<&str>) -> String {
    let index = log.log_index.map(|i| format!("[{i}] ")).unwrap_or_default();
    let mut text = format!("  {index}{}\n", log.address());
    match decoded {
        Some(event) => text.push_str(&format!("      {event}\n")),
        None => {
            for (i, topic) in log.topics().iter().enumerate() {
                text.push_str(&format!("      topic {i}  {topic}\n"));
            }
            text.push_str(&format!("      data     {}\n", log.data().data));
        }
    }
    text
}
