//! Genesis: the chain's parameters and initial accounts, from a JSON file or the built-in dev
//! default (ten prefunded accounts from the well-known test keys, as anvil has).
//!
//! ```json
//! {
//!   "chain_id": 31337,
//!   "gas_limit": 30000000,
//!   "base_fee": "1000000000",
//!   "timestamp": 0,
//!   "accounts": {
//!     "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266": { "balance": "0x21e19e0c9bab2400000" },
//!     "0x0000000000000000000000000000000000000100": {
//!       "balance": "0", "nonce": 1, "code": "0x0061736d01000000",
//!       "storage": { "0x01": "0x2a" }
//!     }
//!   }
//! }
//! ```
//! Quantities are decimal strings or `0x` hex; storage keys and values are `0x` hex up to 32
//! bytes (left-padded).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use tally_runtime::costs::RuntimeCosts;
use tally_runtime::state::{StateError, WorldState};
use tally_runtime::trie::NodeStore;
use tally_runtime::{H160, H256, U256};
use thiserror::Error;

use super::tx::dev_accounts;

/// Chain id of the dev default (anvil's).
pub const DEV_CHAIN_ID: u64 = 31_337;
/// Balance of each dev account: 10,000 units of 10^18.
pub const DEV_BALANCE_UNITS: u64 = 10_000;
/// Gas limit of the dev chain's blocks: about a second of worst-case work at the gas schedule's
/// conversion of 0.1 ns per gas (see `docs/gas.md`).
pub const DEV_GAS_LIMIT: u64 = 10_000_000_000;

/// Why a genesis file was rejected.
#[derive(Debug, Error)]
pub enum GenesisError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid genesis JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid {what} {value:?}: {reason}")]
    Value {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("the gas limit must be at least {min} (one transaction), got {limit}")]
    GasLimit { limit: u64, min: u64 },
    #[error(transparent)]
    State(#[from] StateError),
}

/// One genesis account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenesisAccount {
    pub balance: U256,
    pub nonce: u64,
    pub code: Vec<u8>,
    pub storage: BTreeMap<H256, H256>,
}

/// The genesis of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    pub chain_id: u64,
    pub gas_limit: u64,
    pub base_fee: U256,
    pub timestamp: u64,
    pub accounts: BTreeMap<H160, GenesisAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisJson {
    chain_id: u64,
    gas_limit: u64,
    base_fee: String,
    #[serde(default)]
    timestamp: u64,
    #[serde(default)]
    accounts: BTreeMap<String, AccountJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountJson {
    #[serde(default)]
    balance: Option<String>,
    #[serde(default)]
    nonce: u64,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    storage: BTreeMap<String, String>,
}

fn bad(what: &'static str, value: &str, reason: &'static str) -> GenesisError {
    GenesisError::Value {
        what,
        value: value.to_string(),
        reason,
    }
}

fn parse_hex(what: &'static str, s: &str) -> Result<Vec<u8>, GenesisError> {
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| bad(what, s, "expected 0x-prefixed hex"))?;
    let padded;
    let digits = if digits.len() % 2 == 1 {
        padded = format!("0{digits}");
        padded.as_str()
    } else {
        digits
    };
    hex::decode(digits).map_err(|_| bad(what, s, "not hex"))
}

fn parse_word(what: &'static str, s: &str) -> Result<H256, GenesisError> {
    let bytes = parse_hex(what, s)?;
    if bytes.len() > 32 {
        return Err(bad(what, s, "longer than 32 bytes"));
    }
    let mut word = [0u8; 32];
    word[32 - bytes.len()..].copy_from_slice(&bytes);
    Ok(H256(word))
}

/// A quantity: decimal, or `0x` hex.
pub fn parse_quantity(what: &'static str, s: &str) -> Result<U256, GenesisError> {
    if s.starts_with("0x") {
        return Ok(U256::from_big_endian(parse_word(what, s)?.as_bytes()));
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(what, s, "expected a decimal or 0x-hex number"));
    }
    U256::from_dec_str(s).map_err(|_| bad(what, s, "does not fit 256 bits"))
}

impl Genesis {
    /// The built-in dev genesis: chain id 31337, [`DEV_GAS_LIMIT`] gas, 1 gwei base fee, the
    /// ten dev accounts with 10,000 * 10^18 each.
    pub fn dev() -> Self {
        let balance = U256::from(DEV_BALANCE_UNITS) * U256::exp10(18);
        Genesis {
            chain_id: DEV_CHAIN_ID,
            gas_limit: DEV_GAS_LIMIT,
            base_fee: U256::from(1_000_000_000u64),
            timestamp: 0,
            accounts: dev_accounts()
                .into_iter()
                .map(|(_, address)| {
                    let account = GenesisAccount {
                        balance,
                        ..GenesisAccount::default()
                    };
                    (address, account)
                })
                .collect(),
        }
    }

    /// Parses a genesis JSON document.
    pub fn from_json(json: &str) -> Result<Self, GenesisError> {
        let raw: GenesisJson = serde_json::from_str(json)?;
        let min = RuntimeCosts::default().transaction;
        if raw.gas_limit < min {
            return Err(GenesisError::GasLimit {
                limit: raw.gas_limit,
                min,
            });
        }
        let mut accounts = BTreeMap::new();
        for (address, account) in raw.accounts {
            let bytes = parse_hex("address", &address)?;
            if bytes.len() != 20 {
                return Err(bad("address", &address, "not 20 bytes"));
            }
            let mut storage = BTreeMap::new();
            for (k, v) in &account.storage {
                storage.insert(
                    parse_word("storage key", k)?,
                    parse_word("storage value", v)?,
                );
            }
            let parsed = GenesisAccount {
                balance: match &account.balance {
                    Some(b) => parse_quantity("balance", b)?,
                    None => U256::zero(),
                },
                nonce: account.nonce,
                code: match &account.code {
                    Some(c) => parse_hex("code", c)?,
                    None => Vec::new(),
                },
                storage,
            };
            accounts.insert(H160::from_slice(&bytes), parsed);
        }
        Ok(Genesis {
            chain_id: raw.chain_id,
            gas_limit: raw.gas_limit,
            base_fee: parse_quantity("base_fee", &raw.base_fee)?,
            timestamp: raw.timestamp,
            accounts,
        })
    }

    /// Reads and parses a genesis file.
    pub fn from_file(path: &Path) -> Result<Self, GenesisError> {
        let json = std::fs::read_to_string(path).map_err(|source| GenesisError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&json)
    }

    /// Writes the genesis accounts into `state` (code is stored as given, not validated:
    /// genesis is trusted).
    pub fn apply<S: NodeStore + Clone>(
        &self,
        state: &mut WorldState<S>,
    ) -> Result<(), GenesisError> {
        for (address, account) in &self.accounts {
            state.update_account(address, |a| {
                a.balance = account.balance;
                a.nonce = account.nonce;
            })?;
            if !account.code.is_empty() {
                state.set_code(address, &account.code)?;
            }
            for (key, value) in &account.storage {
                state.set_storage(address, key, *value)?;
            }
        }
        state.finish_transaction();
        Ok(())
    }

    /// Sum of the genesis balances.
    pub fn supply(&self) -> U256 {
        self.accounts
            .values()
            .fold(U256::zero(), |sum, a| sum + a.balance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let json = r#"{
          "chain_id": 7, "gas_limit": 30000000, "base_fee": "1000000000", "timestamp": 5,
          "accounts": {
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266": { "balance": "0x21e19e0c9bab2400000" },
            "0x0000000000000000000000000000000000000100": {
              "balance": "0", "nonce": 1, "code": "0x0061736d01000000",
              "storage": { "0x01": "0x2a" }
            }
          }
        }"#;
        let g = Genesis::from_json(json).unwrap();
        assert_eq!((g.chain_id, g.gas_limit, g.timestamp), (7, 30_000_000, 5));
        assert_eq!(g.base_fee, U256::from(1_000_000_000u64));
        assert_eq!(g.supply(), U256::from(10_000u64) * U256::exp10(18));
        let mut address = [0u8; 20];
        address[18] = 1;
        let contract = &g.accounts[&H160(address)];
        assert_eq!(contract.code, b"\0asm\x01\0\0\0");
        let word = |v: u8| {
            let mut w = [0u8; 32];
            w[31] = v;
            H256(w)
        };
        assert_eq!(contract.storage[&word(1)], word(42));
    }

    #[test]
    fn rejects_bad_values_with_clear_errors() {
        let base = |accounts: &str| {
            format!(r#"{{"chain_id":1,"gas_limit":30000000,"base_fee":"1","accounts":{accounts}}}"#)
        };
        for (json, needle) in [
            (base(r#"{"0x12":{}}"#), "not 20 bytes"),
            (
                base(r#"{"f39fd6e51aad88f6f4ce6ab8827279cfffb92266":{}}"#),
                "0x-prefixed",
            ),
            (
                base(r#"{"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266":{"balance":"-1"}}"#),
                "decimal",
            ),
            (
                base(r#"{"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266":{"code":"0xzz"}}"#),
                "not hex",
            ),
            (
                base(r#"{"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266":{"x":1}}"#),
                "unknown field",
            ),
            (
                format!(
                    r#"{{"chain_id":1,"gas_limit":{},"base_fee":"1"}}"#,
                    RuntimeCosts::default().transaction - 1
                ),
                "(one transaction)",
            ),
        ] {
            let err = Genesis::from_json(&json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn the_dev_genesis_funds_ten_accounts() {
        let g = Genesis::dev();
        assert_eq!(g.accounts.len(), 10);
        assert_eq!(g.chain_id, DEV_CHAIN_ID);
        assert_eq!(g.supply(), U256::from(100_000u64) * U256::exp10(18));
    }
}
