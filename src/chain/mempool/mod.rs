//! The transaction pool (mempool) of the single-node chain.
//!
//! A pure, deterministic data structure: the chain hands it already decoded and verified
//! transactions ([`PoolTx`] plus an opaque payload `T`, typically the signed transaction) together
//! with the sender's current account state, and the block builder asks it for the best
//! transactions in order ([`Mempool::best`]). There is no I/O, no clock and no signature check
//! here, and no hash-map iteration order reaches any output: every collection that is iterated
//! is a `BTreeMap`, `BTreeSet` or a heap with a total order; the one hash map (transactions by
//! hash) is only looked up.
//!
//! # Terms
//!
//! - The **cost** of a transaction is `gas_limit * max_fee_per_gas + value` (the amount the
//!   runtime requires the balance to cover before executing it).
//! - Its **effective tip** at base fee `b` is `min(max_priority_fee_per_gas, max_fee_per_gas - b)`;
//!   it is *undefined* when `max_fee_per_gas < b` (the transaction cannot pay the base fee and
//!   **waits**). Where a number is needed to rank a waiting transaction (eviction), it counts as 0.
//! - Every accepted transaction gets an **arrival number** (`seq`), from a counter the pool
//!   increments by one per accepted transaction (a replacement is a new arrival). It is never
//!   reset, not even by [`Mempool::clear`]. Wall-clock time plays no part.
//! - The **account nonce** of a sender is the nonce its next transaction must have on chain, as
//!   last told to the pool by [`Mempool::insert`], [`Mempool::update_account`] or
//!   [`Mempool::on_block`].
//!
//! # Rules
//!
//! 1. **Per sender, by nonce.** A sender's transactions are kept by nonce. Those whose nonces
//!    run without a gap from the account nonce are **pending**; the ones after the first gap are
//!    **queued** and wait until the gap is filled (by an insertion or by the account nonce moving
//!    up), when they become pending with no further action. A nonce below the account nonce is
//!    rejected ([`PoolError::NonceTooLow`]). Pending includes transactions waiting for the base
//!    fee (rule 3): pending is about nonces only.
//! 2. **Across senders, by effective tip, then arrival.** The builder's [`Selection`] returns
//!    the available transaction with the highest effective tip at the pool's base fee, ties
//!    broken by the lower arrival number. Only a sender's next transaction is available: at the
//!    start, its transaction at the account nonce; after one of its transactions was returned
//!    (and taken, see [`Selection`]), the one with the following nonce. So a sender's
//!    transactions always come out in nonce order, with no gap, and the sequence of returned
//!    tips is non-increasing except where a sender's later transaction pays more than its
//!    earlier one (it becomes available only after the earlier one).
//! 3. **Base fee.** A transaction with `max_fee_per_gas < base_fee` is never returned by the
//!    selection, and neither are the sender's later transactions; it is not dropped or evicted
//!    for that reason alone and becomes available again when the base fee falls to its max fee.
//! 4. **Replacement.** A transaction with the (sender, nonce) of a pooled one replaces it only
//!    if it raises *both* fees by the price bump (`price_bump_percent`, default **10**), like
//!    geth's: for each of `max_fee_per_gas` and `max_priority_fee_per_gas`,
//!    `new >= max(old + 1, floor(old * (100 + bump) / 100))`, computed exactly in integers and
//!    **rounded down** (saturating at `U256::MAX`). With the default bump, replacing fees
//!    1000/100 needs at least 1100/110, replacing 105 needs 115, and replacing 0 needs 1.
//!    Otherwise [`PoolError::ReplacementUnderpriced`] gives the old fees and the bump (the
//!    minimum new fees are [`min_replacement_fee`] of each). A replacement does not count
//!    against the size limits. The same hash twice is [`PoolError::AlreadyKnown`].
//! 5. **Funds (cumulative).** A transaction is rejected with [`PoolError::InsufficientFunds`]
//!    when the sum of the costs of all the sender's pooled transactions (pending and queued,
//!    without the one it replaces) plus its own cost exceeds the balance passed to
//!    [`Mempool::insert`]; a sum or cost that overflows `U256` is insufficient. When the chain
//!    reports a new balance ([`Mempool::on_block`], [`Mempool::update_account`]), the sender's
//!    transactions are summed in nonce order and the first one whose running sum exceeds the
//!    balance is dropped together with every later one
//!    ([`RemovalReason::InsufficientFunds`]). So after each successful insertion and each
//!    account update, the sender's pooled transactions cost at most the balance just given.
//! 6. **Size limits.** At most `max_txs` transactions in total (default **4096**) and
//!    `max_per_sender` per sender (default **64**). A new (non-replacing) transaction from a
//!    sender that already has `max_per_sender` is rejected ([`PoolError::SenderLimit`]). When the
//!    pool holds `max_txs`, the **victim** is the highest-nonce transaction of the sender whose
//!    highest-nonce transaction has the lowest effective tip at the current base fee (waiting
//!    ones count as 0), ties going to the latest arrival. Removing a sender's last transaction
//!    never creates a nonce gap. The newcomer evicts the victim
//!    ([`RemovalReason::Evicted`]) only if its own effective tip (same convention) is strictly
//!    higher and, when the victim belongs to the newcomer's own sender, only if the newcomer's
//!    nonce is below the victim's (otherwise the newcomer would depend on the transaction it
//!    evicts); in every other case it is rejected with [`PoolError::PoolFull`].
//! 7. **Other rejections.** [`PoolError::FeeCapBelowTip`] when `max_priority_fee_per_gas >
//!    max_fee_per_gas`; [`PoolError::GasLimitTooHigh`] when `gas_limit > block_gas_limit`
//!    (default **30 000 000**; set it to the chain's block gas limit);
//!    [`PoolError::Underpriced`] when `max_fee_per_gas < min_max_fee` (default **0**, so off).
//! 8. **Check order and atomicity.** [`Mempool::insert`] checks, in this order: `AlreadyKnown`,
//!    `FeeCapBelowTip`, `Underpriced`, `GasLimitTooHigh`, `NonceTooLow`; then it applies the
//!    given account nonce (dropping the sender's transactions below it as
//!    [`RemovalReason::Included`], even if the insertion then fails: they can never execute);
//!    then `ReplacementUnderpriced`, `InsufficientFunds`, `SenderLimit`, `PoolFull`. Apart from
//!    that nonce update, a rejected transaction changes nothing.
//! 9. **After a block.** [`Mempool::on_block`] takes the next block's base fee and the new
//!    account state (nonce and balance) of the senders the block touched: every transaction
//!    below its sender's new nonce is dropped ([`RemovalReason::Included`]: it, or another
//!    transaction with its nonce, was included), rule 5 is re-applied with the new balance, and
//!    queued transactions whose gap closed become pending.
//! 10. [`Mempool::remove`] removes one transaction; the sender's later transactions stay, queued
//!     behind the gap it leaves.
//!
//! # Complexity and the base fee
//!
//! The ordering of rule 2 and the victim of rule 6 depend on the base fee. The pool keeps one
//! base fee (given to [`Mempool::new`], changed by [`Mempool::set_base_fee`] or
//! [`Mempool::on_block`]) and two ordered indexes at that base fee: each sender's transaction at
//! its account nonce if it can pay the base fee, keyed by (tip descending, arrival), and each
//! sender's highest-nonce transaction keyed by (tip ascending, latest arrival first). Changing
//! the base fee rebuilds both indexes, `O(S log S)` for `S` senders, once per block. Insertion,
//! removal and each step of a selection are then `O(log n)` plus `O(max_per_sender)` work on the
//! one sender concerned (recounting its pending run); a selection merges the head index with a
//! small heap of senders' follow-up transactions and never scans the pool.

mod selection;
mod types;

pub use selection::Selection;
pub use types::*;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use foldhash::HashMap;
use tally_runtime::{H160, H256, U256};

/// Rank in the selection: higher tip first, then earlier arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReadyRank {
    tip: U256,
    seq: u64,
}

impl Ord for ReadyRank {
    fn cmp(&self, other: &Self) -> Ordering {
        other.tip.cmp(&self.tip).then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for ReadyRank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Rank for eviction: lower tip first, then later arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TailRank {
    tip: U256,
    seq: u64,
}

impl Ord for TailRank {
    fn cmp(&self, other: &Self) -> Ordering {
        self.tip.cmp(&other.tip).then(other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for TailRank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One sender's transactions and its entries in the indexes.
#[derive(Clone, Debug)]
struct SenderTxs<T> {
    account_nonce: u64,
    txs: BTreeMap<u64, Pooled<T>>,
    /// Key in `Mempool::ready`, if its transaction at the account nonce can pay the base fee.
    ready: Option<ReadyRank>,
    /// Key in `Mempool::tails` (its highest-nonce transaction).
    tail: Option<TailRank>,
    /// Length of the gap-free run from the account nonce.
    pending: usize,
}

/// The transaction pool. See the [module documentation](self) for its rules.
#[derive(Clone, Debug)]
pub struct Mempool<T> {
    config: PoolConfig,
    base_fee: U256,
    next_seq: u64,
    senders: BTreeMap<H160, SenderTxs<T>>,
    /// Only looked up, never iterated: its order does not matter.
    by_hash: HashMap<H256, (H160, u64)>,
    /// Each sender's transaction at its account nonce, if it can pay the base fee.
    ready: BTreeMap<ReadyRank, H160>,
    /// Each sender's highest-nonce transaction.
    tails: BTreeMap<TailRank, H160>,
    pending: usize,
}

impl<T> Mempool<T> {
    /// An empty pool ranking transactions at `base_fee`.
    pub fn new(config: PoolConfig, base_fee: U256) -> Self {
        Mempool {
            config,
            base_fee,
            next_seq: 0,
            senders: BTreeMap::new(),
            by_hash: HashMap::default(),
            ready: BTreeMap::new(),
            tails: BTreeMap::new(),
            pending: 0,
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// The base fee the pool ranks and selects at.
    pub fn base_fee(&self) -> U256 {
        self.base_fee
    }

    /// Adds a transaction from a sender whose account currently has `account`'s nonce and
    /// balance (rules 1, 4-8).
    pub fn insert(
        &mut self,
        tx: PoolTx,
        payload: T,
        account: AccountState,
    ) -> Result<Inserted<T>, PoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown(tx.hash));
        }
        if tx.max_priority_fee_per_gas > tx.max_fee_per_gas {
            return Err(PoolError::FeeCapBelowTip {
                max_fee: tx.max_fee_per_gas,
                priority_fee: tx.max_priority_fee_per_gas,
            });
        }
        if tx.max_fee_per_gas < self.config.min_max_fee {
            return Err(PoolError::Underpriced {
                max_fee: tx.max_fee_per_gas,
                min_max_fee: self.config.min_max_fee,
            });
        }
        if tx.gas_limit > self.config.block_gas_limit {
            return Err(PoolError::GasLimitTooHigh {
                gas_limit: tx.gas_limit,
                block_gas_limit: self.config.block_gas_limit,
            });
        }
        if tx.nonce < account.nonce {
            return Err(PoolError::NonceTooLow {
                account_nonce: account.nonce,
                tx_nonce: tx.nonce,
            });
        }

        let sender = tx.sender;
        let mut removed = self.set_account_nonce(sender, account.nonce);

        let existing = self.senders.get(&sender).and_then(|s| s.txs.get(&tx.nonce));
        if let Some(old) = existing {
            let bump = self.config.price_bump_percent;
            if tx.max_fee_per_gas < min_replacement_fee(old.tx.max_fee_per_gas, bump)
                || tx.max_priority_fee_per_gas
                    < min_replacement_fee(old.tx.max_priority_fee_per_gas, bump)
            {
                return Err(PoolError::ReplacementUnderpriced {
                    old_max_fee: old.tx.max_fee_per_gas,
                    old_priority_fee: old.tx.max_priority_fee_per_gas,
                    price_bump_percent: bump,
                });
            }
        }
        let replacing = existing.is_some();

        let others = self.senders.get(&sender).map_or(Some(U256::zero()), |s| {
            s.txs
                .values()
                .filter(|e| e.tx.nonce != tx.nonce)
                .try_fold(U256::zero(), |sum, e| sum.checked_add(e.tx.cost()?))
        });
        let required = others.and_then(|o| o.checked_add(tx.cost()?));
        if required.is_none_or(|r| r > account.balance) {
            return Err(PoolError::InsufficientFunds {
                balance: account.balance,
                required: required.unwrap_or(U256::MAX),
            });
        }

        if !replacing {
            let count = self.senders.get(&sender).map_or(0, |s| s.txs.len());
            if count >= self.config.max_per_sender {
                return Err(PoolError::SenderLimit {
                    sender,
                    limit: self.config.max_per_sender,
                });
            }
            if self.len() >= self.config.max_txs {
                let (victim, nonce) = self.eviction_victim(&tx)?;
                let entry = self.remove_at(victim, nonce).expect("victim is pooled");
                removed.push(Removed {
                    entry,
                    reason: RemovalReason::Evicted { by: tx.hash },
                });
            }
        }

        let seq = self.next_seq;
        self.next_seq += 1;
        self.unindex(sender);
        let s = self.senders.entry(sender).or_insert_with(|| SenderTxs {
            account_nonce: account.nonce,
            txs: BTreeMap::new(),
            ready: None,
            tail: None,
            pending: 0,
        });
        s.account_nonce = account.nonce;
        if let Some(old) = s.txs.insert(tx.nonce, Pooled { tx, payload, seq }) {
            self.by_hash.remove(&old.tx.hash);
            removed.push(Removed {
                entry: old,
                reason: RemovalReason::Replaced { by: tx.hash },
            });
        }
        self.by_hash.insert(tx.hash, (sender, tx.nonce));
        self.index(sender);
        let status = self.status(&tx.hash).expect("just inserted");
        Ok(Inserted { status, removed })
    }

    /// Applies a block: applies each touched sender's new account state (rule 9) and ranks at
    /// the next block's `base_fee`. Accounts are processed in address order; a repeated address
    /// counts once, with its last state. Returns the transactions dropped, in that order.
    pub fn on_block(
        &mut self,
        base_fee: U256,
        accounts: impl IntoIterator<Item = (H160, AccountState)>,
    ) -> Vec<Removed<T>> {
        let accounts: BTreeMap<H160, AccountState> = accounts.into_iter().collect();
        let mut removed = Vec::new();
        for (sender, account) in accounts {
            removed.extend(self.update_account(sender, account));
        }
        // Ranking does not depend on account states, nor they on it: ranked last, only the
        // transactions the block left behind are ranked again, not those it included.
        self.set_base_fee(base_fee);
        removed
    }

    /// Applies one sender's new account state: drops its transactions below the nonce, then
    /// those its balance no longer covers (rules 5 and 9).
    pub fn update_account(&mut self, sender: H160, account: AccountState) -> Vec<Removed<T>> {
        let mut removed = self.set_account_nonce(sender, account.nonce);
        let Some(s) = self.senders.get(&sender) else {
            return removed;
        };
        let mut sum = Some(U256::zero());
        let first_unaffordable = s.txs.values().find_map(|e| {
            sum = sum.and_then(|total| total.checked_add(e.tx.cost()?));
            sum.is_none_or(|total| total > account.balance)
                .then_some(e.tx.nonce)
        });
        if let Some(nonce) = first_unaffordable {
            self.unindex(sender);
            let s = self.senders.get_mut(&sender).expect("sender is pooled");
            let dropped = s.txs.split_off(&nonce);
            for entry in dropped.into_values() {
                self.by_hash.remove(&entry.tx.hash);
                removed.push(Removed {
                    entry,
                    reason: RemovalReason::InsufficientFunds,
                });
            }
            self.index(sender);
        }
        removed
    }

    /// Ranks transactions at a new base fee (rules 2, 3 and 6); rebuilds the indexes if it
    /// changed.
    pub fn set_base_fee(&mut self, base_fee: U256) {
        if base_fee == self.base_fee {
            return;
        }
        let senders: Vec<H160> = self.senders.keys().copied().collect();
        for &sender in &senders {
            self.unindex(sender);
        }
        self.base_fee = base_fee;
        for sender in senders {
            self.index(sender);
        }
    }

    /// The block builder's view: transactions in the order of rule 2 at the pool's base fee.
    pub fn best(&self) -> Selection<'_, T> {
        Selection {
            pool: self,
            heads: self.ready.iter().peekable(),
            followers: BinaryHeap::new(),
            skipped: BTreeSet::new(),
            last: None,
        }
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Transactions with no nonce gap before them (including those waiting for the base fee).
    pub fn pending_count(&self) -> usize {
        self.pending
    }

    /// Transactions behind a nonce gap.
    pub fn queued_count(&self) -> usize {
        self.len() - self.pending
    }

    pub fn contains(&self, hash: &H256) -> bool {
        self.by_hash.contains_key(hash)
    }

    pub fn get(&self, hash: &H256) -> Option<&Pooled<T>> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.txs.get(nonce)
    }

    /// Whether a pooled transaction is pending or queued.
    pub fn status(&self, hash: &H256) -> Option<TxStatus> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        let s = self.senders.get(sender)?;
        let pending_end = s.account_nonce.saturating_add(s.pending as u64);
        Some(if *nonce < pending_end {
            TxStatus::Pending
        } else {
            TxStatus::Queued
        })
    }

    /// A sender's pooled transactions in nonce order.
    pub fn by_sender(&self, sender: &H160) -> impl Iterator<Item = &Pooled<T>> + '_ {
        self.senders
            .get(sender)
            .into_iter()
            .flat_map(|s| s.txs.values())
    }

    /// The nonce following the sender's pending transactions (its account nonce if it has
    /// none), or `None` if the pool holds nothing from it.
    pub fn pending_nonce(&self, sender: &H160) -> Option<u64> {
        let s = self.senders.get(sender)?;
        Some(s.account_nonce.saturating_add(s.pending as u64))
    }

    /// Every pooled transaction, by sender address then nonce.
    pub fn iter(&self) -> impl Iterator<Item = &Pooled<T>> + '_ {
        self.senders.values().flat_map(|s| s.txs.values())
    }

    /// Removes a transaction; the sender's later ones stay, queued behind the gap (rule 10).
    pub fn remove(&mut self, hash: &H256) -> Option<Pooled<T>> {
        let (sender, nonce) = *self.by_hash.get(hash)?;
        self.remove_at(sender, nonce)
    }

    /// Removes every transaction. The configuration, base fee and arrival counter stay.
    pub fn clear(&mut self) {
        self.senders.clear();
        self.by_hash.clear();
        self.ready.clear();
        self.tails.clear();
        self.pending = 0;
    }

    fn remove_at(&mut self, sender: H160, nonce: u64) -> Option<Pooled<T>> {
        self.unindex(sender);
        let entry = self.senders.get_mut(&sender)?.txs.remove(&nonce);
        if let Some(entry) = &entry {
            self.by_hash.remove(&entry.tx.hash);
        }
        self.index(sender);
        entry
    }

    /// Records a sender's account nonce and drops its transactions below it.
    fn set_account_nonce(&mut self, sender: H160, nonce: u64) -> Vec<Removed<T>> {
        if !self.senders.contains_key(&sender) {
            return Vec::new();
        }
        self.unindex(sender);
        let s = self.senders.get_mut(&sender).expect("checked");
        s.account_nonce = nonce;
        let kept = s.txs.split_off(&nonce);
        let stale = std::mem::replace(&mut s.txs, kept);
        let removed = stale
            .into_values()
            .map(|entry| {
                self.by_hash.remove(&entry.tx.hash);
                Removed {
                    entry,
                    reason: RemovalReason::Included,
                }
            })
            .collect();
        self.index(sender);
        removed
    }

    /// The transaction a full pool would evict for `tx` (rule 6).
    fn eviction_victim(&self, tx: &PoolTx) -> Result<(H160, u64), PoolError> {
        let tip = tx.rank_tip(self.base_fee);
        let full = |worst_tip| PoolError::PoolFull {
            max_txs: self.config.max_txs,
            tip,
            worst_tip,
        };
        let Some((rank, victim)) = self.tails.first_key_value() else {
            return Err(full(U256::zero()));
        };
        let victim_nonce = *self.senders[victim]
            .txs
            .keys()
            .next_back()
            .expect("a tail is pooled");
        if tip <= rank.tip || (*victim == tx.sender && tx.nonce > victim_nonce) {
            return Err(full(rank.tip));
        }
        Ok((*victim, victim_nonce))
    }

    /// Takes a sender out of the indexes (before changing its transactions).
    fn unindex(&mut self, sender: H160) {
        let Some(s) = self.senders.get_mut(&sender) else {
            return;
        };
        if let Some(rank) = s.ready.take() {
            self.ready.remove(&rank);
        }
        if let Some(rank) = s.tail.take() {
            self.tails.remove(&rank);
        }
        self.pending -= s.pending;
        s.pending = 0;
    }

    /// Puts a sender back into the indexes (after changing its transactions), or forgets it if
    /// it has none left.
    fn index(&mut self, sender: H160) {
        let Some(s) = self.senders.get_mut(&sender) else {
            return;
        };
        let Some(last) = s.txs.values().next_back() else {
            self.senders.remove(&sender);
            return;
        };
        let tail = TailRank {
            tip: last.tx.rank_tip(self.base_fee),
            seq: last.seq,
        };
        self.tails.insert(tail, sender);
        s.tail = Some(tail);

        let mut expected = s.account_nonce;
        let mut pending = 0;
        for &nonce in s.txs.range(s.account_nonce..).map(|(n, _)| n) {
            if nonce != expected {
                break;
            }
            pending += 1;
            match expected.checked_add(1) {
                Some(next) => expected = next,
                None => break,
            }
        }
        s.pending = pending;
        self.pending += pending;

        if let Some(head) = s.txs.get(&s.account_nonce) {
            if let Some(tip) = head.tx.effective_tip(self.base_fee) {
                let rank = ReadyRank { tip, seq: head.seq };
                self.ready.insert(rank, sender);
                s.ready = Some(rank);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(v: u64) -> U256 {
        U256::from(v)
    }

    #[test]
    fn bump_threshold_rounds_down_and_is_strict() {
        assert_eq!(min_replacement_fee(u(1000), 10), u(1100));
        assert_eq!(min_replacement_fee(u(105), 10), u(115)); // 115.5 rounded down
        assert_eq!(min_replacement_fee(u(109), 10), u(119)); // 119.9 rounded down
        assert_eq!(min_replacement_fee(u(5), 10), u(6)); // floor(5.5) = 5 is not higher: old + 1
        assert_eq!(min_replacement_fee(u(0), 10), u(1));
        assert_eq!(min_replacement_fee(u(1000), 0), u(1001));
        assert_eq!(min_replacement_fee(u(1000), 100), u(2000));
        assert_eq!(min_replacement_fee(U256::MAX, 10), U256::MAX);
        let big = U256::MAX / u(2);
        assert_eq!(min_replacement_fee(big, 10), big + big / u(10));
    }

    #[test]
    fn ranks_order_best_and_worst_first() {
        let a = ReadyRank { tip: u(5), seq: 9 };
        let b = ReadyRank { tip: u(3), seq: 1 };
        let c = ReadyRank { tip: u(5), seq: 10 };
        let mut ready = [b, c, a];
        ready.sort();
        assert_eq!(ready, [a, c, b]);

        let a = TailRank { tip: u(1), seq: 3 };
        let b = TailRank { tip: u(1), seq: 7 };
        let c = TailRank { tip: u(0), seq: 1 };
        let mut tails = [a, b, c];
        tails.sort();
        assert_eq!(tails, [c, b, a]);
    }

    #[test]
    fn effective_tip_and_cost() {
        let tx = PoolTx {
            hash: H256::zero(),
            sender: H160::zero(),
            nonce: 0,
            max_fee_per_gas: u(100),
            max_priority_fee_per_gas: u(7),
            gas_limit: 21_000,
            value: u(5),
        };
        assert_eq!(tx.effective_tip(u(0)), Some(u(7)));
        assert_eq!(tx.effective_tip(u(95)), Some(u(5)));
        assert_eq!(tx.effective_tip(u(100)), Some(u(0)));
        assert_eq!(tx.effective_tip(u(101)), None);
        assert_eq!(tx.rank_tip(u(101)), u(0));
        assert_eq!(tx.cost(), Some(u(2_100_005)));
        let huge = PoolTx {
            max_fee_per_gas: U256::MAX,
            ..tx
        };
        assert_eq!(huge.cost(), None);
    }

    #[test]
    fn indexes_stay_consistent() {
        let mut pool = Mempool::new(PoolConfig::default(), u(10));
        let account = AccountState {
            nonce: 0,
            balance: U256::MAX,
        };
        for (i, nonce) in [0u64, 1, 3, 4].into_iter().enumerate() {
            let tx = PoolTx {
                hash: H256::repeat_byte(i as u8 + 1),
                sender: H160::repeat_byte(1),
                nonce,
                max_fee_per_gas: u(20 + i as u64),
                max_priority_fee_per_gas: u(2),
                gas_limit: 21_000,
                value: u(0),
            };
            pool.insert(tx, (), account).unwrap();
        }
        assert_eq!(pool.ready.len(), 1);
        assert_eq!(pool.tails.len(), 1);
        assert_eq!(pool.pending_count(), 2);
        pool.set_base_fee(u(21));
        // The head (max fee 20) now waits: out of the ready index, still pending.
        assert!(pool.ready.is_empty());
        assert_eq!(pool.pending_count(), 2);
        pool.set_base_fee(u(0));
        assert_eq!(pool.ready.len(), 1);
        pool.clear();
        assert!(pool.ready.is_empty() && pool.tails.is_empty() && pool.senders.is_empty());
        assert_eq!(pool.next_seq, 4);
    }
}
