//! Shared set-up for the integration tests: chain configurations, signed transfers from the
//! dev accounts and temporary data directories; the node's helpers are in [`node`].
#![allow(dead_code)]

pub mod contracts;
pub mod node;

use std::path::PathBuf;

use tally::chain::sequencer::{ChainConfig, MiningMode};
use tally::chain::tx::{dev_accounts, SignedTransaction};
use tally_runtime::tx::Transaction;
use tally_runtime::H160;

pub const PRODUCER: H160 = H160([0xfe; 20]);

pub fn config(mining: MiningMode) -> ChainConfig {
    ChainConfig {
        mining,
        producer: PRODUCER,
        ..ChainConfig::default()
    }
}

/// A transfer of `value` to `to`, signed by dev account `key`, with 21,000 gas.
pub fn transfer(key: usize, nonce: u64, to: H160, value: u64, chain_id: u64) -> SignedTransaction {
    let (signing, _) = &dev_accounts()[key];
    let tx = Transaction {
        chain_id,
        nonce,
        max_priority_fee_per_gas: 2_000_000_000u64.into(),
        max_fee_per_gas: 10_000_000_000u64.into(),
        gas_limit: 21_000,
        to: Some(to),
        value: value.into(),
        data: vec![],
    };
    SignedTransaction::sign(tx, signing)
}

/// The address of dev account `i`.
pub fn dev(i: usize) -> H160 {
    dev_accounts()[i].1
}

/// An empty directory for a test's database, unique to the test process.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tally-chain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
