//! [`TxReceipt`]: what a transaction sent through the harness produced, read with Ethereum's
//! types: status, exact gas with its breakdown (intrinsic, instantiation, instructions, each
//! host function), fee, return data, the revert reason of `Error(string)`, logs decoded
//! against `sol!` events or event signatures, and the call trace. Its `Display` is the report
//! of a failed call.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use alloy_dyn_abi::DynSolValue;
use alloy_primitives::{Address, Bytes, Log, LogData, B256, U256};
use alloy_sol_types::SolEvent;
use tally_runtime::exec::{CallTrace, GasReport, Receipt, Status};

use super::error::TestError;
use super::labels::Labels;
use super::thousands;
use crate::cli::client::abi::{decode_log, parse_event};
use crate::eth::{address, b256, revert_reason, u256};

/// The receipt of a transaction sent through a [`TestChain`](super::TestChain).
#[derive(Clone)]
pub struct TxReceipt {
    pub(super) hash: B256,
    pub(super) block_number: u64,
    pub(super) from: Address,
    pub(super) to: Option<Address>,
    /// The called function's signature, the contract's name for a creation, empty for a
    /// plain transfer.
    pub(super) function: Cow<'static, str>,
    pub(super) gas_limit: u64,
    pub(super) inner: Receipt,
    pub(super) labels: Arc<Labels>,
}

impl TxReceipt {
    /// The transaction hash.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// The block the transaction is in.
    pub fn block_number(&self) -> u64 {
        self.block_number
    }

    pub fn from(&self) -> Address {
        self.from
    }

    /// The callee (`None` for a creation).
    pub fn to(&self) -> Option<Address> {
        self.to
    }

    /// The contract a successful creation deployed.
    pub fn contract_address(&self) -> Option<Address> {
        self.inner.contract_address.map(address)
    }

    pub fn status(&self) -> &Status {
        &self.inner.status
    }

    pub fn is_success(&self) -> bool {
        self.inner.status.is_success()
    }

    /// Gas charged for the whole transaction, intrinsic gas included: exactly what the chain
    /// charges.
    pub fn gas_used(&self) -> u64 {
        self.inner.gas_used
    }

    /// Where the gas went: intrinsic gas, then the top-level execution's instantiation,
    /// instructions and host functions (a nested call's gas is inside the `call` entry; the
    /// trace splits it per frame). Its `Display` is a table.
    pub fn gas(&self) -> GasTable<'_> {
        GasTable {
            used: self.inner.gas_used,
            report: &self.inner.gas,
        }
    }

    /// The fee paid: gas used times the effective gas price.
    pub fn fee(&self) -> U256 {
        u256(self.inner.effective_gas_price) * U256::from(self.inner.gas_used)
    }

    /// Return data on success, revert data on revert, empty on failure.
    pub fn output(&self) -> &[u8] {
        &self.inner.output
    }

    /// The reason of a revert with Solidity's `Error(string)` data.
    pub fn revert_reason(&self) -> Option<String> {
        match self.inner.status {
            Status::Revert => revert_reason(&self.inner.output),
            _ => None,
        }
    }

    /// The logs of the successful frames, in emission order.
    pub fn logs(&self) -> Vec<Log> {
        self.inner.logs.iter().map(to_log).collect()
    }

    /// Every log of event `E` (matched by its signature hash, from any contract), decoded.
    pub fn events<E: SolEvent>(&self) -> Result<Vec<E>, TestError> {
        self.inner
            .logs
            .iter()
            .filter(|l| l.topics.first().map(|t| b256(*t)) == Some(E::SIGNATURE_HASH))
            .map(|l| decode_event::<E>(&to_log(l)))
            .collect()
    }

    /// The one log of event `E`, decoded; an error if there is none or more than one.
    pub fn event<E: SolEvent>(&self) -> Result<E, TestError> {
        let mut events = self.events::<E>()?;
        match events.len() {
            1 => Ok(events.remove(0)),
            n => Err(TestError::Decode {
                what: E::SIGNATURE.to_string(),
                reason: format!("expected one such log, found {n}"),
            }),
        }
    }

    /// Every log of the event with `signature`, written as `cast` takes it
    /// (`"Transfer(address indexed from,address indexed to,uint256 value)"`), decoded: each
    /// parameter's name (empty if the signature gives none) with its value, in order.
    pub fn events_by_signature(
        &self,
        signature: &str,
    ) -> Result<Vec<Vec<(String, DynSolValue)>>, TestError> {
        let event = parse_event(signature).map_err(|e| TestError::Signature {
            signature: signature.to_string(),
            reason: e.to_string(),
        })?;
        Ok(self
            .logs()
            .into_iter()
            .filter_map(|inner| {
                let log = alloy_rpc_types_eth::Log {
                    inner,
                    ..Default::default()
                };
                decode_log(&event, &log)
            })
            .collect())
    }

    /// The call tree (when the chain traces, which it does by default).
    pub fn trace(&self) -> Option<&CallTrace> {
        self.inner.trace.as_ref()
    }

    /// The call tree with contract names and function signatures, one frame per line.
    pub fn render_trace(&self) -> Option<String> {
        self.inner
            .trace
            .as_ref()
            .map(|t| self.labels.render_trace(t))
    }

    /// The runtime's receipt.
    pub fn runtime_receipt(&self) -> &Receipt {
        &self.inner
    }

    /// `contract.function` (or what the transaction did), for messages.
    pub(super) fn action(&self) -> String {
        describe(&self.labels, self.to, &self.function)
    }

    /// How the transaction ended, for messages: `succeeded`, `reverted: "reason"`...
    pub(super) fn outcome(&self) -> String {
        outcome(&self.inner.status, &self.inner.output)
    }
}

/// What a transaction to `to` calling `function` does, for messages: `token.transfer(address,
/// uint256)`, `deploy token` (`function` is then the contract's name), `transfer to bob`.
pub(super) fn describe(labels: &Labels, to: Option<Address>, function: &str) -> String {
    match to {
        None => format!("deploy {function}"),
        Some(to) if function.is_empty() => format!("transfer to {}", labels.name_or_address(to)),
        Some(to) => format!("{}.{function}", labels.name_or_address(to)),
    }
}

/// `succeeded`, `reverted: "reason"`, `reverted with 0x...` or `failed: why`.
pub(super) fn outcome(status: &Status, output: &[u8]) -> String {
    match status {
        Status::Success => "succeeded".into(),
        Status::Revert => match revert_reason(output) {
            Some(reason) => format!("reverted: {reason:?}"),
            None if output.is_empty() => "reverted".into(),
            None => format!("reverted with 0x{}", hex::encode(output)),
        },
        Status::Failure(failure) => format!("failed: {failure}"),
    }
}

fn to_log(l: &tally_runtime::state::Log) -> Log {
    Log {
        address: address(l.address),
        data: LogData::new_unchecked(
            l.topics.iter().map(|t| b256(*t)).collect(),
            Bytes::copy_from_slice(&l.data),
        ),
    }
}

pub(super) fn decode_event<E: SolEvent>(log: &Log) -> Result<E, TestError> {
    E::decode_log_data(&log.data).map_err(|e| TestError::Decode {
        what: E::SIGNATURE.to_string(),
        reason: e.to_string(),
    })
}

/// The report of a transaction: what it did, how it ended, its gas and its trace.
impl fmt::Display for TxReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} from {} {}",
            self.action(),
            self.labels.name_or_address(self.from),
            self.outcome()
        )?;
        write!(
            f,
            "  gas used {} of {}, block {}, transaction {}",
            thousands(self.inner.gas_used),
            thousands(self.gas_limit),
            self.block_number,
            self.hash
        )?;
        match self.render_trace() {
            Some(trace) => {
                write!(f, "\n  trace:")?;
                for line in trace.lines() {
                    write!(f, "\n    {line}")?;
                }
                Ok(())
            }
            None => write!(f, "\n  (no trace: tracing is off)"),
        }
    }
}

impl fmt::Debug for TxReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A transaction's gas: intrinsic gas, instantiation, instructions and each host function.
pub struct GasTable<'a> {
    used: u64,
    report: &'a GasReport,
}

impl GasTable<'_> {
    /// Gas charged before execution (per transaction, calldata, creation and code).
    pub fn intrinsic(&self) -> u64 {
        self.report.intrinsic
    }

    /// The runtime's breakdown.
    pub fn report(&self) -> &GasReport {
        self.report
    }
}

/// ```text
/// gas used         53,396
///   intrinsic      21,572
///   instantiation   1,254
///   instructions    4,914
///   storage_write  20,000  (2 calls)
/// ```
impl fmt::Display for GasTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows = vec![("intrinsic".to_string(), self.report.intrinsic, None)];
        if let Some(b) = &self.report.execution {
            rows.push(("instantiation".into(), b.instantiation, None));
            rows.push(("instructions".into(), b.instructions, None));
            for (function, g) in &b.host {
                rows.push((function.name().to_string(), g.gas, Some(g.calls)));
            }
        }
        let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(8);
        let total = thousands(self.used);
        let gas_width = rows
            .iter()
            .map(|r| thousands(r.1).len())
            .max()
            .unwrap_or(0)
            .max(total.len());
        write!(
            f,
            "{:label_width$}  {total:>gas_width$}",
            "gas used",
            label_width = name_width + 2
        )?;
        for (name, gas, calls) in rows {
            write!(f, "\n  {name:name_width$}  {:>gas_width$}", thousands(gas))?;
            match calls {
                Some(1) => write!(f, "  (1 call)")?,
                Some(n) => write!(f, "  ({n} calls)")?,
                None => {}
            }
        }
        Ok(())
    }
}
