//! The mempool's public vocabulary: configuration, the description of a pooled transaction,
//! account states, outcomes of insertions and removals, and the typed rejections.

use tally_runtime::{H160, H256, U256};
use thiserror::Error;

/// Default of [`PoolConfig::max_txs`].
pub const DEFAULT_MAX_TXS: usize = 4096;
/// Default of [`PoolConfig::max_per_sender`].
pub const DEFAULT_MAX_PER_SENDER: usize = 64;
/// Default of [`PoolConfig::block_gas_limit`] (the dev chain's block gas limit).
pub const DEFAULT_BLOCK_GAS_LIMIT: u64 = crate::chain::genesis::DEV_GAS_LIMIT;
/// Default of [`PoolConfig::price_bump_percent`].
pub const DEFAULT_PRICE_BUMP_PERCENT: u64 = 10;

/// Limits and thresholds of a [`Mempool`](super::Mempool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most transactions held in total (rule 6).
    pub max_txs: usize,
    /// Most transactions held per sender (rule 6).
    pub max_per_sender: usize,
    /// Transactions with a higher gas limit are rejected (rule 7).
    pub block_gas_limit: u64,
    /// Transactions with a lower max fee per gas are rejected (rule 7); 0 turns it off.
    pub min_max_fee: U256,
    /// Percentage both fees must rise by to replace a transaction (rule 4).
    pub price_bump_percent: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_txs: DEFAULT_MAX_TXS,
            max_per_sender: DEFAULT_MAX_PER_SENDER,
            block_gas_limit: DEFAULT_BLOCK_GAS_LIMIT,
            min_max_fee: U256::zero(),
            price_bump_percent: DEFAULT_PRICE_BUMP_PERCENT,
        }
    }
}

/// What the pool needs to know about a transaction; the chain fills it in from the decoded,
/// signature-checked transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolTx {
    pub hash: H256,
    pub sender: H160,
    pub nonce: u64,
    pub max_fee_per_gas: U256,
    pub max_priority_fee_per_gas: U256,
    pub gas_limit: u64,
    pub value: U256,
}

impl PoolTx {
    /// `min(max_priority_fee_per_gas, max_fee_per_gas - base_fee)`, or `None` when the max fee
    /// is below the base fee.
    pub fn effective_tip(&self, base_fee: U256) -> Option<U256> {
        let headroom = self.max_fee_per_gas.checked_sub(base_fee)?;
        Some(headroom.min(self.max_priority_fee_per_gas))
    }

    /// `gas_limit * max_fee_per_gas + value`, or `None` if it overflows.
    pub fn cost(&self) -> Option<U256> {
        U256::from(self.gas_limit)
            .checked_mul(self.max_fee_per_gas)?
            .checked_add(self.value)
    }

    /// The effective tip used for ranking: a waiting transaction counts as 0.
    pub(super) fn rank_tip(&self, base_fee: U256) -> U256 {
        self.effective_tip(base_fee).unwrap_or_default()
    }
}

/// A transaction held by the pool: its description, the payload given with it and its
/// arrival number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pooled<T> {
    pub tx: PoolTx,
    pub payload: T,
    pub(super) seq: u64,
}

impl<T> Pooled<T> {
    /// The arrival number the pool assigned (rule 2's tie-break).
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// A sender's account as the chain sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountState {
    pub nonce: u64,
    pub balance: U256,
}

/// Whether a pooled transaction's nonce is reachable from the account nonce (rule 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// No nonce gap before it (it may still wait for the base fee).
    Pending,
    /// Behind a nonce gap.
    Queued,
}

/// Why a transaction left the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalReason {
    /// Its nonce is below the account nonce: it, or another transaction with its nonce, was
    /// included in a block.
    Included,
    /// Replaced by the transaction with this hash (rule 4).
    Replaced { by: H256 },
    /// Evicted to make room for the transaction with this hash (rule 6).
    Evicted { by: H256 },
    /// The sender's balance no longer covers it (rule 5).
    InsufficientFunds,
}

/// A transaction that left the pool, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed<T> {
    pub entry: Pooled<T>,
    pub reason: RemovalReason,
}

/// The result of a successful [`Mempool::insert`](super::Mempool::insert).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inserted<T> {
    /// Whether the new transaction is pending or queued.
    pub status: TxStatus,
    /// The transactions that left the pool: stale ones below the account nonce, the replaced
    /// one, the evicted one.
    pub removed: Vec<Removed<T>>,
}

/// Why a transaction was not accepted.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PoolError {
    #[error("transaction {0:?} is already in the pool")]
    AlreadyKnown(H256),
    #[error("nonce too low: account nonce is {account_nonce}, transaction has {tx_nonce}")]
    NonceTooLow { account_nonce: u64, tx_nonce: u64 },
    /// The minimum fees of a replacement are
    /// [`min_replacement_fee`]`(old fee, price_bump_percent)` for each fee.
    #[error(
        "replacement underpriced: replacing max fee {old_max_fee} and priority fee \
         {old_priority_fee} needs at least {} and {} (a {price_bump_percent}% bump)",
        min_replacement_fee(*old_max_fee, *price_bump_percent),
        min_replacement_fee(*old_priority_fee, *price_bump_percent)
    )]
    ReplacementUnderpriced {
        old_max_fee: U256,
        old_priority_fee: U256,
        price_bump_percent: u64,
    },
    #[error(
        "insufficient funds: balance {balance}, the sender's pooled transactions need {required}"
    )]
    InsufficientFunds { balance: U256, required: U256 },
    #[error("max priority fee {priority_fee} is above the max fee {max_fee}")]
    FeeCapBelowTip { max_fee: U256, priority_fee: U256 },
    #[error("gas limit {gas_limit} is above the block gas limit {block_gas_limit}")]
    GasLimitTooHigh {
        gas_limit: u64,
        block_gas_limit: u64,
    },
    #[error("max fee {max_fee} is below the pool's minimum {min_max_fee}")]
    Underpriced { max_fee: U256, min_max_fee: U256 },
    #[error("sender {sender:?} already has {limit} transactions in the pool")]
    SenderLimit { sender: H160, limit: usize },
    #[error(
        "pool is full ({max_txs} transactions) and tip {tip} does not beat the worst {worst_tip}"
    )]
    PoolFull {
        max_txs: usize,
        tip: U256,
        worst_tip: U256,
    },
}

/// The smallest fee that replaces fee `old` with a bump of `percent` (rule 4):
/// `max(old + 1, floor(old * (100 + percent) / 100))`, saturating at `U256::MAX`.
pub fn min_replacement_fee(old: U256, percent: u64) -> U256 {
    let hundred = U256::from(100u64);
    let percent = U256::from(percent);
    // floor(old * percent / 100) without overflowing in the product: old = 100q + r.
    let extra = (old / hundred)
        .checked_mul(percent)
        .and_then(|q| q.checked_add((old % hundred) * percent / hundred));
    let threshold = extra.and_then(|e| old.checked_add(e)).unwrap_or(U256::MAX);
    threshold.max(old.saturating_add(U256::one()))
}
