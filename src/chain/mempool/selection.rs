//! [`Selection`]: the block builder's cursor over the pool, best transaction first.

use std::cmp::Reverse;
use std::collections::{btree_map, BTreeSet, BinaryHeap};
use std::iter::Peekable;

use tally_runtime::{H160, U256};

use super::{Mempool, Pooled, ReadyRank};

/// The block builder's cursor over a pool's transactions (rule 2), at the pool's base fee.
///
/// Each [`next`](Iterator::next) returns the best available transaction. It counts as taken,
/// making the sender's following nonce available, unless [`skip_sender`](Self::skip_sender) is
/// called for its sender before the next call: a builder that cannot include it (it no longer
/// fits in the block's gas, or the runtime finds it invalid) skips the sender, whose remaining
/// transactions are then not returned by this selection. The pool is borrowed, so drop the
/// selection before [`Mempool::on_block`].
///
/// ```
/// use tally::chain::mempool::{AccountState, Mempool, PoolConfig, PoolTx};
/// use tally_runtime::{H160, H256, U256};
///
/// let mut pool = Mempool::new(PoolConfig::default(), U256::from(7));
/// let account = AccountState { nonce: 0, balance: U256::from(10u64.pow(18)) };
/// for nonce in 0..3 {
///     let tx = PoolTx {
///         hash: H256::repeat_byte(nonce as u8 + 1),
///         sender: H160::repeat_byte(0xaa),
///         nonce,
///         max_fee_per_gas: U256::from(10),
///         max_priority_fee_per_gas: U256::from(1),
///         gas_limit: 50_000,
///         value: U256::zero(),
///     };
///     pool.insert(tx, format!("signed tx {nonce}"), account).unwrap();
/// }
///
/// let mut gas_left = 120_000u64;
/// let mut block = Vec::new();
/// let mut best = pool.best();
/// while let Some(entry) = best.next() {
///     // A real builder also skips when the runtime rejects the transaction.
///     if entry.tx.gas_limit > gas_left {
///         best.skip_sender(entry.tx.sender);
///         continue;
///     }
///     gas_left -= entry.tx.gas_limit;
///     block.push(entry.payload.clone());
/// }
/// assert_eq!(block, ["signed tx 0", "signed tx 1"]);
/// ```
pub struct Selection<'a, T> {
    pub(super) pool: &'a Mempool<T>,
    /// Senders' transactions at their account nonces, best first.
    pub(super) heads: Peekable<btree_map::Iter<'a, ReadyRank, H160>>,
    /// Transactions that became available after their predecessor was taken.
    pub(super) followers: BinaryHeap<Reverse<(ReadyRank, H160, u64)>>,
    pub(super) skipped: BTreeSet<H160>,
    /// The transaction returned last, whose follower is not yet available.
    pub(super) last: Option<(H160, u64)>,
}

impl<T> Selection<'_, T> {
    /// Returns none of `sender`'s transactions any more in this selection.
    pub fn skip_sender(&mut self, sender: H160) {
        self.skipped.insert(sender);
    }

    /// The base fee the selection ranks at.
    pub fn base_fee(&self) -> U256 {
        self.pool.base_fee
    }
}

impl<'a, T> Iterator for Selection<'a, T> {
    type Item = &'a Pooled<T>;

    fn next(&mut self) -> Option<&'a Pooled<T>> {
        let pool = self.pool;
        if let Some((sender, nonce)) = self.last.take() {
            if !self.skipped.contains(&sender) {
                let follower = nonce
                    .checked_add(1)
                    .and_then(|next| pool.senders[&sender].txs.get(&next));
                if let Some(entry) = follower {
                    if let Some(tip) = entry.tx.effective_tip(pool.base_fee) {
                        let rank = ReadyRank {
                            tip,
                            seq: entry.seq,
                        };
                        self.followers.push(Reverse((rank, sender, entry.tx.nonce)));
                    }
                }
            }
        }
        while self
            .heads
            .peek()
            .is_some_and(|(_, sender)| self.skipped.contains(sender))
        {
            self.heads.next();
        }
        while self
            .followers
            .peek()
            .is_some_and(|Reverse((_, sender, _))| self.skipped.contains(sender))
        {
            self.followers.pop();
        }
        let head = self.heads.peek().map(|(rank, _)| **rank);
        let follower = self.followers.peek().map(|Reverse((rank, _, _))| *rank);
        let (sender, nonce) = match (head, follower) {
            (None, None) => return None,
            (Some(head), Some(follower)) if head < follower => {
                let (_, &sender) = self.heads.next().expect("peeked");
                (sender, None)
            }
            (Some(_), None) => {
                let (_, &sender) = self.heads.next().expect("peeked");
                (sender, None)
            }
            (_, Some(_)) => {
                let Reverse((_, sender, nonce)) = self.followers.pop().expect("peeked");
                (sender, Some(nonce))
            }
        };
        // A head is the transaction at its sender's account nonce.
        let txs = &pool.senders[&sender];
        let nonce = nonce.unwrap_or(txs.account_nonce);
        self.last = Some((sender, nonce));
        Some(&txs.txs[&nonce])
    }
}
