//! [`TestChainBuilder`]: the genesis (accounts, chain id, gas limit, base fee, time), the block
//! time, the runtime configuration and the transaction defaults of a [`TestChain`].

use std::sync::Arc;

use alloy_primitives::{Address, U256};
use tally_runtime::exec::RuntimeConfig;

use super::error::TestError;
use super::gas_report::{print_at_exit_if_asked, GasReport};
use super::labels::Labels;
use super::TestChain;
use crate::chain::genesis::Genesis;
use crate::chain::sequencer::{Chain, ChainConfig, Clock, MiningMode};
use crate::chain::store::ChainStore;
use crate::chain::tx::dev_accounts;
use crate::eth::{address, from_address, from_u256};

/// Default gas limit of a transaction (lower if the block gas limit is).
pub const DEFAULT_GAS_LIMIT: u64 = 10_000_000;

/// Default block gas limit of a test chain. Transactions fill the open block until one does not
/// fit; with the dev genesis's 30,000,000 a block would hold about 400 token transfers, every
/// block would be above the EIP-1559 target, and the base fee would grow by 12.5% per block
/// (a thousand times after 60 blocks). A larger block is sealed when a test needs it, rarely
/// because it is full.
pub const DEFAULT_BLOCK_GAS_LIMIT: u64 = 1_000_000_000;

/// How to build a [`TestChain`].
#[derive(Clone, Debug)]
pub struct TestChainBuilder {
    genesis: Genesis,
    block_time: u64,
    runtime: RuntimeConfig,
    gas_limit: Option<u64>,
    block_per_transaction: bool,
}

impl Default for TestChainBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TestChainBuilder {
    /// The dev genesis (chain id 31337, 1 gwei base fee, timestamp 0, the ten dev accounts
    /// with 10,000 * 10^18 each) with [`DEFAULT_BLOCK_GAS_LIMIT`], one-second blocks, tracing
    /// on.
    pub fn new() -> Self {
        TestChainBuilder {
            genesis: Genesis {
                gas_limit: DEFAULT_BLOCK_GAS_LIMIT,
                ..Genesis::dev()
            },
            block_time: 1,
            runtime: RuntimeConfig {
                trace: true,
                ..RuntimeConfig::default()
            },
            gas_limit: None,
            block_per_transaction: false,
        }
    }

    /// Starts from `genesis` instead of the dev genesis (the dev accounts are then funded only
    /// if it funds them).
    pub fn genesis(mut self, genesis: Genesis) -> Self {
        self.genesis = genesis;
        self
    }

    pub fn chain_id(mut self, chain_id: u64) -> Self {
        self.genesis.chain_id = chain_id;
        self
    }

    /// The block gas limit.
    pub fn block_gas_limit(mut self, gas_limit: u64) -> Self {
        self.genesis.gas_limit = gas_limit;
        self
    }

    /// The genesis base fee (later blocks follow EIP-1559).
    pub fn base_fee(mut self, base_fee: U256) -> Self {
        self.genesis.base_fee = from_u256(base_fee);
        self
    }

    /// The genesis timestamp.
    pub fn timestamp(mut self, timestamp: u64) -> Self {
        self.genesis.timestamp = timestamp;
        self
    }

    /// Seconds between blocks (the clock is deterministic: a block is `block_time` after its
    /// parent unless time is advanced).
    pub fn block_time(mut self, seconds: u64) -> Self {
        self.block_time = seconds;
        self
    }

    /// Gives `account` `balance` at genesis.
    pub fn fund(mut self, account: Address, balance: U256) -> Self {
        let entry = self
            .genesis
            .accounts
            .entry(from_address(account))
            .or_default();
        entry.balance = from_u256(balance);
        self
    }

    /// Whether receipts carry call traces (on by default; off saves a little time per call).
    pub fn trace(mut self, on: bool) -> Self {
        self.runtime.trace = on;
        self
    }

    /// The runtime configuration (VM limits, gas schedule, runtime costs, tracing).
    pub fn runtime(mut self, runtime: RuntimeConfig) -> Self {
        self.runtime = runtime;
        self
    }

    /// The default gas limit of a transaction ([`DEFAULT_GAS_LIMIT`], or the block gas limit
    /// if lower).
    pub fn gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = Some(gas_limit);
        self
    }

    /// Seals a block after every transaction (anvil's automine) instead of filling the open
    /// block until something needs it sealed.
    pub fn block_per_transaction(mut self, on: bool) -> Self {
        self.block_per_transaction = on;
        self
    }

    /// Opens the chain in memory.
    pub fn build(self) -> Result<TestChain, TestError> {
        let config = ChainConfig {
            runtime: self.runtime,
            mining: MiningMode::Manual,
            clock: Clock::Deterministic {
                step: self.block_time,
            },
            ..ChainConfig::default()
        };
        let gas_limit = self
            .gas_limit
            .unwrap_or(DEFAULT_GAS_LIMIT.min(self.genesis.gas_limit));
        let chain = Chain::open(ChainStore::memory(), &self.genesis, config)?;
        let accounts: Vec<Address> = dev_accounts()
            .into_iter()
            .map(|(_, a)| address(a))
            .collect();
        print_at_exit_if_asked();
        Ok(TestChain {
            chain,
            sender: accounts.first().copied().unwrap_or(Address::ZERO),
            accounts,
            labels: Arc::new(Labels::default()),
            gas: GasReport::new(),
            gas_limit,
            block_per_transaction: self.block_per_transaction,
        })
    }
}
