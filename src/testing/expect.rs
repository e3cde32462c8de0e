//! Expectations: a transaction succeeded, reverted with a reason, emitted an event, moved
//! balances by given amounts. Each returns [`TestError::Expectation`] naming the line of the
//! test that made it (they are `#[track_caller]`), with the transaction's report (outcome,
//! gas, trace) when that explains the failure.

use alloy_primitives::{Address, LogData, I256, U256};
use alloy_sol_types::SolEvent;

use super::error::TestError;
use super::receipt::TxReceipt;
use super::TestChain;

impl TxReceipt {
    /// Expects the transaction to have succeeded.
    #[track_caller]
    pub fn expect_success(&self) -> Result<&Self, TestError> {
        if self.is_success() {
            return Ok(self);
        }
        Err(TestError::expectation(format!(
            "expected success, but {self}"
        )))
    }

    /// Expects a revert with Solidity's `Error(reason)`.
    #[track_caller]
    pub fn expect_revert(&self, reason: &str) -> Result<&Self, TestError> {
        if self.revert_reason().as_deref() == Some(reason) {
            return Ok(self);
        }
        Err(TestError::expectation(format!(
            "expected a revert with {reason:?}, but {self}"
        )))
    }

    /// Expects a revert with exactly `data` (a custom error, or no data at all).
    #[track_caller]
    pub fn expect_revert_data(&self, data: &[u8]) -> Result<&Self, TestError> {
        if matches!(self.status(), tally_runtime::exec::Status::Revert) && self.output() == data {
            return Ok(self);
        }
        Err(TestError::expectation(format!(
            "expected a revert with 0x{}, but {self}",
            hex::encode(data)
        )))
    }

    /// Expects a log of `event` (same topics, same data) emitted by `emitter`.
    #[track_caller]
    pub fn expect_event<E: SolEvent>(
        &self,
        emitter: Address,
        event: &E,
    ) -> Result<&Self, TestError> {
        let expected = event.encode_log_data();
        let logs = self.logs();
        if logs
            .iter()
            .any(|l| l.address == emitter && l.data == expected)
        {
            return Ok(self);
        }
        let describe = |data: &LogData| {
            format!(
                "topics {:?} data 0x{}",
                data.topics(),
                hex::encode(&data.data)
            )
        };
        let mut seen = String::new();
        for log in &logs {
            let from = self.labels.name_or_address(log.address);
            seen.push_str(&format!("\n    {from}: {}", describe(&log.data)));
        }
        if logs.is_empty() {
            seen.push_str(" none");
        }
        Err(TestError::expectation(format!(
            "expected {} to emit {}: {}; logs:{seen}\n{self}",
            self.labels.name_or_address(emitter),
            E::SIGNATURE,
            describe(&expected)
        )))
    }
}

impl TestChain {
    /// Runs `action` and expects the native balance of each account listed to have moved by
    /// its amount (negative for a decrease; fees count: a sender pays its gas). Returns what
    /// `action` returned.
    #[track_caller]
    pub fn expect_balance_changes<T>(
        &mut self,
        changes: &[(Address, I256)],
        action: impl FnOnce(&mut TestChain) -> Result<T, TestError>,
    ) -> Result<T, TestError> {
        let location = std::panic::Location::caller();
        let before = changes
            .iter()
            .map(|(account, _)| self.balance(*account))
            .collect::<Result<Vec<U256>, _>>()?;
        let result = action(self)?;
        let mut wrong = Vec::new();
        for ((account, expected), before) in changes.iter().zip(before) {
            let after = self.balance(*account)?;
            let actual = signed(after).wrapping_sub(signed(before));
            if actual != *expected {
                wrong.push(format!(
                    "{}: expected {}, changed by {} ({before} -> {after})",
                    self.labels.name_or_address(*account),
                    with_sign(*expected),
                    with_sign(actual)
                ));
            }
        }
        if wrong.is_empty() {
            return Ok(result);
        }
        Err(TestError::Expectation {
            message: format!("balances moved otherwise:\n  {}", wrong.join("\n  ")),
            location,
        })
    }
}

/// A balance as a signed number (balances in tests are far below 2^255).
fn signed(v: U256) -> I256 {
    I256::from_raw(v)
}

/// `+5`, `-5`, `+0`.
fn with_sign(v: I256) -> String {
    if v.is_negative() {
        v.to_string()
    } else {
        format!("+{v}")
    }
}
