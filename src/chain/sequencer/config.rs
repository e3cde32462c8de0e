//! How a [`Chain`](super::Chain) runs: [`ChainConfig`], its [`MiningMode`] and its [`Clock`].

use std::num::NonZeroU64;

use tally_runtime::exec::RuntimeConfig;
use tally_runtime::H160;

use crate::chain::mempool::PoolConfig;

/// When blocks are produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiningMode {
    /// One block per accepted transaction, as soon as it arrives (anvil's default).
    OnDemand,
    /// A block every `n` seconds, driven by whoever owns the chain (`tally node`).
    Interval(u64),
    /// Only when [`Chain::mine`](super::Chain::mine) is called.
    Manual,
}

/// Where block timestamps come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The system clock, in seconds since the Unix epoch (the node's default).
    System,
    /// A clock that only moves when a block is mined, by `step` seconds, starting from the head's
    /// timestamp when the chain opens (the genesis timestamp for a new chain): identical runs
    /// give identical timestamps, hence identical block hashes (the test harness's choice).
    Deterministic { step: u64 },
}

/// How a chain runs.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    pub runtime: RuntimeConfig,
    pub pool: PoolConfig,
    pub mining: MiningMode,
    pub clock: Clock,
    /// Receives the priority fees of every block.
    pub producer: H160,
    /// How many of the latest blocks' states stay readable (`None`: every block's). Older
    /// states are pruned as blocks are committed; see `ChainStore::set_state_history`.
    pub state_history: Option<NonZeroU64>,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            runtime: RuntimeConfig::default(),
            pool: PoolConfig::default(),
            mining: MiningMode::OnDemand,
            clock: Clock::System,
            producer: H160::zero(),
            state_history: None,
        }
    }
}
