//! [`RuntimeCosts`]: the gas the runtime charges on top of the VM's schedule — per transaction
//! (intrinsic gas), per byte of deployed code, and for state-dependent work the VM cannot price
//! alone (which kind of storage write, moving value, creating an account).
//!
//! Storage writes are priced EIP-2200 style against the slot's value at the start of the
//! transaction, so a slot changed twice pays the expensive part once. There are no refunds:
//! clearing a slot costs less than setting one instead of paying back later, which keeps gas
//! used equal to gas charged and leaves no refund to game.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::state::SlotWrite;

/// Gas the runtime adds to the VM's schedule. Units are the VM's (one gas is 0.1 ns of
/// worst-case time on the reference machine; see `docs/gas.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeCosts {
    /// Format version of this table.
    pub version: u32,
    /// Every transaction.
    pub transaction: u64,
    /// A transaction that creates a contract, on top of `transaction`.
    pub create: u64,
    /// Each zero byte of transaction data.
    pub calldata_zero_byte: u64,
    /// Each non-zero byte of transaction data.
    pub calldata_nonzero_byte: u64,
    /// Each byte of code deployed (by a transaction or by `create`): validating, compiling and
    /// storing it.
    pub code_byte: u64,
    /// A storage write that makes a slot that was zero at the start of the transaction
    /// non-zero (state grows).
    pub storage_set: u64,
    /// A storage write that first changes a non-zero slot to another non-zero value.
    pub storage_reset: u64,
    /// A storage write that first changes a non-zero slot to zero.
    pub storage_clear: u64,
    /// A nested call or `transfer` that moves value.
    pub value_transfer: u64,
    /// Value sent to an address with no account (the account trie grows).
    pub new_account: u64,
}

/// The default costs as JSON: written by the calibration command (`tally-calibrate`) from its
/// measurements; `docs/gas.md` explains every figure.
pub const DEFAULT_COSTS_JSON: &str = include_str!("costs.json");

impl Default for RuntimeCosts {
    /// The default costs ([`DEFAULT_COSTS_JSON`]).
    fn default() -> Self {
        static DEFAULT: OnceLock<RuntimeCosts> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                // A unit test parses the built-in file, so this cannot fail.
                RuntimeCosts::from_json(DEFAULT_COSTS_JSON).expect("built-in runtime costs")
            })
            .clone()
    }
}

impl RuntimeCosts {
    /// Gas for a storage write on top of the VM's `storage_write` cost: nothing when the value
    /// does not change or the slot was already changed in this transaction.
    pub fn storage_write(&self, write: &SlotWrite) -> u64 {
        if write.new == write.current || write.original != write.current {
            0
        } else if write.original.is_zero() {
            self.storage_set
        } else if write.new.is_zero() {
            self.storage_clear
        } else {
            self.storage_reset
        }
    }

    /// Gas for moving a non-zero value to a recipient that exists or not, on top of the VM's
    /// cost (moving zero costs nothing extra).
    pub fn value_move(&self, recipient_exists: bool) -> u64 {
        if recipient_exists {
            self.value_transfer
        } else {
            self.value_transfer.saturating_add(self.new_account)
        }
    }

    /// Intrinsic gas of transaction data: per byte, zero bytes cheaper.
    pub fn calldata(&self, data: &[u8]) -> u64 {
        let zeros = data.iter().filter(|b| **b == 0).count() as u64;
        let nonzeros = data.len() as u64 - zeros;
        zeros
            .saturating_mul(self.calldata_zero_byte)
            .saturating_add(nonzeros.saturating_mul(self.calldata_nonzero_byte))
    }

    /// Gas for deploying `code_len` bytes of code.
    pub fn code(&self, code_len: usize) -> u64 {
        (code_len as u64).saturating_mul(self.code_byte)
    }

    /// The table as pretty JSON.
    pub fn to_json(&self) -> String {
        // Plain integers and string keys always serialize.
        serde_json::to_string_pretty(self).expect("runtime costs serialize")
    }

    /// Parses a table written by [`RuntimeCosts::to_json`].
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use primitive_types::H256;

    fn word(v: u8) -> H256 {
        H256(primitive_types::U256::from(v).to_big_endian())
    }

    #[test]
    fn storage_writes_are_priced_by_original_value() {
        let c = RuntimeCosts::default();
        let w = |original, current, new| SlotWrite {
            original: word(original),
            current: word(current),
            new: word(new),
        };
        assert_eq!(c.storage_write(&w(0, 0, 1)), c.storage_set);
        assert_eq!(c.storage_write(&w(1, 1, 2)), c.storage_reset);
        assert_eq!(c.storage_write(&w(1, 1, 0)), c.storage_clear);
        assert_eq!(c.storage_write(&w(1, 1, 1)), 0, "no change");
        assert_eq!(c.storage_write(&w(0, 1, 2)), 0, "already changed");
        assert_eq!(c.storage_write(&w(1, 0, 1)), 0, "already changed");
    }

    #[test]
    fn built_in_costs_are_canonical() {
        let c = RuntimeCosts::from_json(DEFAULT_COSTS_JSON).unwrap();
        // The file is exactly what `to_json` writes, so regenerating it changes no byte.
        assert_eq!(format!("{}\n", c.to_json()), DEFAULT_COSTS_JSON);
    }

    #[test]
    fn calldata_and_json() {
        let c = RuntimeCosts::default();
        assert_eq!(
            c.calldata(&[0, 0, 1, 2, 0]),
            3 * c.calldata_zero_byte + 2 * c.calldata_nonzero_byte
        );
        assert_eq!(RuntimeCosts::from_json(&c.to_json()).unwrap(), c);
        assert!(RuntimeCosts::from_json(r#"{"version":1}"#).is_err());
    }
}
