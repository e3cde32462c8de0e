//! The transaction pool: ordering, nonce gaps, replacement, eviction, base-fee waiting, every
//! rejection, block updates, and property tests of the builder's selection against a model.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tally::chain::mempool::{
    min_replacement_fee, AccountState, Mempool, PoolConfig, PoolError, PoolTx, RemovalReason,
    TxStatus,
};
use tally_runtime::{H160, H256, U256};

const GAS: u64 = 21_000;

fn u(v: u64) -> U256 {
    U256::from(v)
}

fn addr(n: u8) -> H160 {
    H160::repeat_byte(n)
}

/// A transaction whose hash encodes sender, nonce and fees, so distinct test transactions have
/// distinct hashes.
fn tx(sender: u8, nonce: u64, max_fee: u64, priority_fee: u64) -> PoolTx {
    let mut hash = [0u8; 32];
    hash[0] = sender;
    hash[8..16].copy_from_slice(&nonce.to_be_bytes());
    hash[16..24].copy_from_slice(&max_fee.to_be_bytes());
    hash[24..32].copy_from_slice(&priority_fee.to_be_bytes());
    PoolTx {
        hash: H256(hash),
        sender: addr(sender),
        nonce,
        max_fee_per_gas: u(max_fee),
        max_priority_fee_per_gas: u(priority_fee),
        gas_limit: GAS,
        value: U256::zero(),
    }
}

fn hash_of(n: u64) -> H256 {
    let mut hash = [0u8; 32];
    hash[24..].copy_from_slice(&n.to_be_bytes());
    H256(hash)
}

fn rich(nonce: u64) -> AccountState {
    AccountState {
        nonce,
        balance: u(1) << 100,
    }
}

fn pool(base_fee: u64) -> Mempool<&'static str> {
    Mempool::new(PoolConfig::default(), u(base_fee))
}

fn add(pool: &mut Mempool<&'static str>, t: PoolTx) -> TxStatus {
    pool.insert(t, "payload", rich(0)).unwrap().status
}

/// The selection without skips, as (sender byte, nonce).
fn selection<T>(pool: &Mempool<T>) -> Vec<(u8, u64)> {
    pool.best()
        .map(|e| (e.tx.sender.0[0], e.tx.nonce))
        .collect()
}

fn nonces<T>(pool: &Mempool<T>, sender: u8) -> Vec<u64> {
    pool.by_sender(&addr(sender)).map(|e| e.tx.nonce).collect()
}

#[test]
fn orders_senders_by_effective_tip_then_arrival() {
    let mut pool = pool(10);
    add(&mut pool, tx(5, 0, 30, 5)); // tip 5
    add(&mut pool, tx(6, 0, 12, 5)); // tip min(5, 12 - 10) = 2
    add(&mut pool, tx(1, 0, 20, 5)); // tip 5, arrived after sender 5 (address order is irrelevant)
    add(&mut pool, tx(7, 0, 100, 1)); // tip 1
    add(&mut pool, tx(8, 0, 15, 9)); // tip 5, arrived last
    assert_eq!(selection(&pool), [(5, 0), (1, 0), (8, 0), (6, 0), (7, 0)]);
    // At base fee 0 the caps no longer bind: sender 8's priority fee 9 wins.
    pool.set_base_fee(u(0));
    assert_eq!(selection(&pool), [(8, 0), (5, 0), (6, 0), (1, 0), (7, 0)]);
}

#[test]
fn a_senders_transactions_come_in_nonce_order() {
    let mut pool = pool(0);
    add(&mut pool, tx(1, 0, 100, 1));
    add(&mut pool, tx(1, 1, 100, 100));
    add(&mut pool, tx(2, 0, 100, 50));
    add(&mut pool, tx(2, 1, 100, 2));
    // Sender 1's tip-100 transaction only becomes available after its tip-1 one.
    assert_eq!(selection(&pool), [(2, 0), (2, 1), (1, 0), (1, 1)]);
}

#[test]
fn nonce_gaps_wait_until_filled() {
    let mut pool = pool(0);
    assert_eq!(add(&mut pool, tx(1, 0, 10, 1)), TxStatus::Pending);
    assert_eq!(add(&mut pool, tx(1, 2, 10, 9)), TxStatus::Queued);
    assert_eq!(add(&mut pool, tx(1, 3, 10, 9)), TxStatus::Queued);
    assert_eq!((pool.pending_count(), pool.queued_count()), (1, 2));
    assert_eq!(pool.pending_nonce(&addr(1)), Some(1));
    assert_eq!(selection(&pool), [(1, 0)]);

    assert_eq!(add(&mut pool, tx(1, 1, 10, 1)), TxStatus::Pending);
    assert_eq!((pool.pending_count(), pool.queued_count()), (4, 0));
    assert_eq!(pool.status(&tx(1, 3, 10, 9).hash), Some(TxStatus::Pending));
    assert_eq!(pool.pending_nonce(&addr(1)), Some(4));
    assert_eq!(selection(&pool), [(1, 0), (1, 1), (1, 2), (1, 3)]);
}

#[test]
fn a_gap_closed_by_the_account_nonce_promotes() {
    let mut pool = pool(0);
    assert_eq!(add(&mut pool, tx(1, 2, 10, 1)), TxStatus::Queued);
    assert!(selection(&pool).is_empty());
    // Nonces 0 and 1 were included by some other route.
    let removed = pool.on_block(u(0), [(addr(1), rich(2))]);
    assert!(removed.is_empty());
    assert_eq!(pool.status(&tx(1, 2, 10, 1).hash), Some(TxStatus::Pending));
    assert_eq!(selection(&pool), [(1, 2)]);
}

#[test]
fn replacement_needs_both_fees_raised_by_ten_percent() {
    let mut pool = pool(0);
    let old = tx(1, 0, 1000, 100);
    add(&mut pool, old);
    let underpriced = PoolError::ReplacementUnderpriced {
        old_max_fee: u(1000),
        old_priority_fee: u(100),
        price_bump_percent: 10,
    };
    assert_eq!(min_replacement_fee(u(1000), 10), u(1100));
    assert_eq!(min_replacement_fee(u(100), 10), u(110));
    assert_eq!(
        underpriced.to_string(),
        "replacement underpriced: replacing max fee 1000 and priority fee 100 needs at least \
         1100 and 110 (a 10% bump)"
    );
    for (max_fee, priority_fee) in [(1099, 110), (1100, 109), (5000, 100), (1000, 1000)] {
        let err = pool
            .insert(tx(1, 0, max_fee, priority_fee), "new", rich(0))
            .unwrap_err();
        assert_eq!(err, underpriced, "{max_fee}/{priority_fee}");
    }
    assert_eq!(pool.len(), 1);

    let new = tx(1, 0, 1100, 110);
    let inserted = pool.insert(new, "new", rich(0)).unwrap();
    assert_eq!(inserted.status, TxStatus::Pending);
    assert_eq!(inserted.removed.len(), 1);
    assert_eq!(inserted.removed[0].entry.tx, old);
    assert_eq!(
        inserted.removed[0].reason,
        RemovalReason::Replaced { by: new.hash }
    );
    assert!(!pool.contains(&old.hash));
    assert_eq!(pool.get(&new.hash).unwrap().payload, "new");
    assert!(pool.get(&new.hash).unwrap().seq() > inserted.removed[0].entry.seq());
    assert_eq!(pool.len(), 1);
}

#[test]
fn replacement_threshold_rounds_down_and_must_rise() {
    let mut pool = pool(0);
    add(&mut pool, tx(1, 0, 105, 105));
    // 105 * 1.1 = 115.5, rounded down to 115.
    assert!(pool.insert(tx(1, 0, 114, 115), "", rich(0)).is_err());
    assert!(pool.insert(tx(1, 0, 115, 115), "", rich(0)).is_ok());

    // floor(5 * 1.1) = 5 would not be a rise: at least old + 1.
    add(&mut pool, tx(2, 0, 5, 0));
    let err = pool.insert(tx(2, 0, 5, 1), "", rich(0)).unwrap_err();
    assert_eq!(
        err,
        PoolError::ReplacementUnderpriced {
            old_max_fee: u(5),
            old_priority_fee: u(0),
            price_bump_percent: 10,
        }
    );
    assert_eq!(min_replacement_fee(u(5), 10), u(6));
    assert_eq!(min_replacement_fee(u(0), 10), u(1));
    assert!(pool.insert(tx(2, 0, 6, 1), "", rich(0)).is_ok());

    // A configured bump of 25%.
    let mut pool = Mempool::new(
        PoolConfig {
            price_bump_percent: 25,
            ..PoolConfig::default()
        },
        u(0),
    );
    pool.insert(tx(1, 0, 100, 10), (), rich(0)).unwrap();
    assert!(pool.insert(tx(1, 0, 124, 13), (), rich(0)).is_err());
    assert!(pool.insert(tx(1, 0, 125, 12), (), rich(0)).is_ok());
}

#[test]
fn replacement_is_allowed_at_the_sender_limit_and_in_a_full_pool() {
    let mut pool = Mempool::new(
        PoolConfig {
            max_txs: 2,
            max_per_sender: 2,
            ..PoolConfig::default()
        },
        u(0),
    );
    pool.insert(tx(1, 0, 10, 1), (), rich(0)).unwrap();
    pool.insert(tx(1, 1, 10, 1), (), rich(0)).unwrap();
    let inserted = pool.insert(tx(1, 1, 11, 2), (), rich(0)).unwrap();
    assert!(matches!(
        inserted.removed[..],
        [ref r] if matches!(r.reason, RemovalReason::Replaced { .. })
    ));
    assert_eq!(pool.len(), 2);
}

fn no_gaps<T>(pool: &Mempool<T>, senders: &[u8], account_nonce: u64) {
    for &s in senders {
        let n = nonces(pool, s);
        let expected: Vec<u64> = (account_nonce..account_nonce + n.len() as u64).collect();
        assert_eq!(n, expected, "sender {s} has a gap");
    }
}

#[test]
fn a_full_pool_evicts_the_lowest_tail_without_creating_a_gap() {
    let mut pool = Mempool::new(
        PoolConfig {
            max_txs: 4,
            ..PoolConfig::default()
        },
        u(10),
    );
    // Sender 1: tips 1 then 9. Sender 2: tips 5 then 2. The lowest tip overall is sender 1's
    // nonce 0, but evicting it would strand nonce 1: the victim is a sender's last transaction.
    for t in [
        tx(1, 0, 11, 5),
        tx(1, 1, 19, 9),
        tx(2, 0, 15, 5),
        tx(2, 1, 12, 2),
    ] {
        pool.insert(t, (), rich(0)).unwrap();
    }
    let newcomer = tx(3, 0, 13, 3);
    let inserted = pool.insert(newcomer, (), rich(0)).unwrap();
    assert_eq!(inserted.removed.len(), 1);
    assert_eq!(inserted.removed[0].entry.tx, tx(2, 1, 12, 2));
    assert_eq!(
        inserted.removed[0].reason,
        RemovalReason::Evicted { by: newcomer.hash }
    );
    assert_eq!(pool.len(), 4);
    no_gaps(&pool, &[1, 2, 3], 0);

    // Tails now: sender 1 tip 9, sender 2 tip 5, sender 3 tip 3. A newcomer must beat 3.
    let err = pool.insert(tx(4, 0, 12, 2), (), rich(0)).unwrap_err();
    assert_eq!(
        err,
        PoolError::PoolFull {
            max_txs: 4,
            tip: u(2),
            worst_tip: u(3),
        }
    );
    let err = pool.insert(tx(4, 0, 13, 3), (), rich(0)).unwrap_err();
    assert!(
        matches!(err, PoolError::PoolFull { .. }),
        "a tie does not evict"
    );
    let inserted = pool.insert(tx(4, 0, 14, 4), (), rich(0)).unwrap();
    assert_eq!(inserted.removed[0].entry.tx, newcomer);
    no_gaps(&pool, &[1, 2, 3, 4], 0);
}

#[test]
fn eviction_ties_go_to_the_latest_arrival() {
    let mut pool = Mempool::new(
        PoolConfig {
            max_txs: 2,
            ..PoolConfig::default()
        },
        u(0),
    );
    pool.insert(tx(9, 0, 10, 1), (), rich(0)).unwrap();
    pool.insert(tx(1, 0, 10, 1), (), rich(0)).unwrap();
    let inserted = pool.insert(tx(5, 0, 10, 2), (), rich(0)).unwrap();
    assert_eq!(inserted.removed[0].entry.tx, tx(1, 0, 10, 1));
}

#[test]
fn eviction_ranks_waiting_transactions_as_tip_zero() {
    let mut pool = Mempool::new(
        PoolConfig {
            max_txs: 2,
            ..PoolConfig::default()
        },
        u(10),
    );
    pool.insert(tx(1, 0, 5, 5), (), rich(0)).unwrap(); // waits: max fee 5 < base fee 10
    pool.insert(tx(2, 0, 20, 1), (), rich(0)).unwrap(); // tip 1
    let inserted = pool.insert(tx(3, 0, 20, 1), (), rich(0)).unwrap();
    assert_eq!(inserted.removed[0].entry.tx, tx(1, 0, 5, 5));
    // A waiting newcomer never evicts.
    let err = pool.insert(tx(4, 0, 9, 9), (), rich(0)).unwrap_err();
    assert!(matches!(err, PoolError::PoolFull { tip, .. } if tip.is_zero()));
}

#[test]
fn eviction_never_evicts_what_the_newcomer_depends_on() {
    let config = PoolConfig {
        max_txs: 2,
        ..PoolConfig::default()
    };
    // The worst tail is the newcomer's own predecessor: rejected, whatever its tip.
    let mut pool = Mempool::new(config.clone(), u(0));
    pool.insert(tx(1, 0, 50, 5), (), rich(0)).unwrap();
    pool.insert(tx(1, 1, 50, 1), (), rich(0)).unwrap();
    let err = pool.insert(tx(1, 2, 50, 9), (), rich(0)).unwrap_err();
    assert!(matches!(err, PoolError::PoolFull { .. }));

    // The newcomer fills a gap below its own sender's worst tail: the tail goes.
    let mut pool = Mempool::new(config, u(0));
    pool.insert(tx(1, 0, 50, 5), (), rich(0)).unwrap();
    pool.insert(tx(1, 2, 50, 1), (), rich(0)).unwrap();
    let inserted = pool.insert(tx(1, 1, 50, 3), (), rich(0)).unwrap();
    assert_eq!(inserted.removed[0].entry.tx, tx(1, 2, 50, 1));
    assert_eq!(nonces(&pool, 1), [0, 1]);
}

#[test]
fn transactions_below_the_base_fee_wait() {
    let mut pool = pool(10);
    add(&mut pool, tx(1, 0, 9, 1)); // waits
    add(&mut pool, tx(1, 1, 50, 40)); // behind it
    add(&mut pool, tx(2, 0, 11, 1));
    add(&mut pool, tx(2, 1, 9, 1)); // waits, after a selectable one
    add(&mut pool, tx(2, 2, 50, 1));
    assert_eq!(selection(&pool), [(2, 0)]);
    assert_eq!(
        pool.pending_count(),
        5,
        "waiting for the fee is still pending"
    );
    assert_eq!(pool.len(), 5);

    pool.set_base_fee(u(9));
    assert_eq!(selection(&pool), [(2, 0), (1, 0), (1, 1), (2, 1), (2, 2)]);

    let removed = pool.on_block(u(12), []);
    assert!(removed.is_empty(), "not dropped for waiting");
    assert!(selection(&pool).is_empty());
    assert_eq!(pool.base_fee(), u(12));
}

#[test]
fn every_rejection_has_its_reason() {
    let config = PoolConfig {
        max_txs: 3,
        max_per_sender: 2,
        block_gas_limit: 100_000,
        min_max_fee: u(7),
        price_bump_percent: 10,
    };
    let mut pool = Mempool::new(config, u(0));
    let ok = tx(1, 0, 10, 1);
    pool.insert(ok, (), rich(0)).unwrap();

    assert_eq!(
        pool.insert(ok, (), rich(0)),
        Err(PoolError::AlreadyKnown(ok.hash))
    );
    assert_eq!(
        pool.insert(tx(2, 0, 10, 11), (), rich(0)),
        Err(PoolError::FeeCapBelowTip {
            max_fee: u(10),
            priority_fee: u(11),
        })
    );
    assert_eq!(
        pool.insert(tx(2, 0, 6, 1), (), rich(0)),
        Err(PoolError::Underpriced {
            max_fee: u(6),
            min_max_fee: u(7),
        })
    );
    assert_eq!(
        pool.insert(
            PoolTx {
                gas_limit: 100_001,
                ..tx(2, 0, 10, 1)
            },
            (),
            rich(0)
        ),
        Err(PoolError::GasLimitTooHigh {
            gas_limit: 100_001,
            block_gas_limit: 100_000,
        })
    );
    assert_eq!(
        pool.insert(tx(2, 4, 10, 1), (), rich(5)),
        Err(PoolError::NonceTooLow {
            account_nonce: 5,
            tx_nonce: 4,
        })
    );
    assert!(matches!(
        pool.insert(tx(1, 0, 10, 2), (), rich(0)),
        Err(PoolError::ReplacementUnderpriced { .. })
    ));
    let cost = u(GAS * 10);
    assert_eq!(
        pool.insert(
            tx(2, 0, 10, 1),
            (),
            AccountState {
                nonce: 0,
                balance: cost - 1,
            }
        ),
        Err(PoolError::InsufficientFunds {
            balance: cost - 1,
            required: cost,
        })
    );
    pool.insert(tx(1, 1, 10, 1), (), rich(0)).unwrap();
    assert_eq!(
        pool.insert(tx(1, 2, 10, 1), (), rich(0)),
        Err(PoolError::SenderLimit {
            sender: addr(1),
            limit: 2,
        })
    );
    pool.insert(tx(2, 0, 10, 1), (), rich(0)).unwrap();
    assert_eq!(
        pool.insert(tx(3, 0, 10, 1), (), rich(0)),
        Err(PoolError::PoolFull {
            max_txs: 3,
            tip: u(1),
            worst_tip: u(1),
        })
    );
    assert_eq!(pool.len(), 3, "rejections change nothing");
    // The messages are readable.
    let message = PoolError::NonceTooLow {
        account_nonce: 5,
        tx_nonce: 4,
    }
    .to_string();
    assert_eq!(
        message,
        "nonce too low: account nonce is 5, transaction has 4"
    );
}

#[test]
fn funds_are_checked_cumulatively_including_queued_transactions() {
    let mut pool = pool(0);
    let cost = GAS * 10 + 100;
    let balance = |b: u64| AccountState {
        nonce: 0,
        balance: u(b),
    };
    let with_value = |nonce| PoolTx {
        value: u(100),
        ..tx(1, nonce, 10, 1)
    };
    pool.insert(with_value(0), "", balance(2 * cost)).unwrap();
    // A queued transaction counts too.
    pool.insert(with_value(5), "", balance(2 * cost)).unwrap();
    assert_eq!(
        pool.insert(with_value(1), "", balance(3 * cost - 1)),
        Err(PoolError::InsufficientFunds {
            balance: u(3 * cost - 1),
            required: u(3 * cost),
        })
    );
    pool.insert(with_value(1), "", balance(3 * cost)).unwrap();
    // A replacement's old cost is not counted: 2 * cost + the new cost.
    let replacement = PoolTx {
        value: u(100),
        ..tx(1, 5, 11, 2)
    };
    let new_cost = GAS * 11 + 100;
    assert_eq!(
        pool.insert(replacement, "", balance(2 * cost + new_cost - 1)),
        Err(PoolError::InsufficientFunds {
            balance: u(2 * cost + new_cost - 1),
            required: u(2 * cost + new_cost),
        })
    );
    pool.insert(replacement, "", balance(2 * cost + new_cost))
        .unwrap();
    // A cost that overflows is never affordable.
    let huge = PoolTx {
        max_fee_per_gas: U256::MAX,
        ..tx(2, 0, 0, 0)
    };
    assert_eq!(
        pool.insert(huge, "", balance(u64::MAX)),
        Err(PoolError::InsufficientFunds {
            balance: u(u64::MAX),
            required: U256::MAX,
        })
    );
}

#[test]
fn on_block_removes_included_and_unaffordable_transactions_and_promotes() {
    let mut pool = pool(0);
    for t in [
        tx(1, 0, 10, 1),
        tx(1, 1, 10, 1),
        tx(1, 2, 10, 1),
        tx(1, 4, 10, 1),
        tx(2, 0, 10, 1),
        tx(2, 1, 10, 1),
        tx(2, 2, 10, 1),
        tx(3, 0, 10, 1),
    ] {
        add(&mut pool, t);
    }
    assert_eq!((pool.pending_count(), pool.queued_count()), (7, 1));
    let cost = u(GAS * 10);
    // The block included sender 1's nonces 0 and 1 and sender 2's nonce 0; sender 2 can now
    // afford one more transaction only.
    let removed = pool.on_block(
        u(3),
        [
            (
                addr(2),
                AccountState {
                    nonce: 1,
                    balance: cost * 2 - 1,
                },
            ),
            (addr(1), rich(2)),
        ],
    );
    let removed: Vec<(PoolTx, RemovalReason)> = removed
        .into_iter()
        .map(|r| (r.entry.tx, r.reason))
        .collect();
    assert_eq!(
        removed,
        [
            (tx(1, 0, 10, 1), RemovalReason::Included),
            (tx(1, 1, 10, 1), RemovalReason::Included),
            (tx(2, 0, 10, 1), RemovalReason::Included),
            (tx(2, 2, 10, 1), RemovalReason::InsufficientFunds),
        ],
        "in address order, then nonce order"
    );
    assert_eq!(nonces(&pool, 1), [2, 4]);
    assert_eq!(nonces(&pool, 2), [1]);
    assert_eq!(nonces(&pool, 3), [0]);
    assert_eq!((pool.pending_count(), pool.queued_count()), (3, 1));
    assert_eq!(pool.base_fee(), u(3));
    assert_eq!(selection(&pool), [(1, 2), (2, 1), (3, 0)]);

    // Filling the gap promotes nonce 4.
    pool.insert(tx(1, 3, 10, 1), "", rich(2)).unwrap();
    assert_eq!(pool.status(&tx(1, 4, 10, 1).hash), Some(TxStatus::Pending));
    assert_eq!((pool.pending_count(), pool.queued_count()), (5, 0));

    // Everything of a sender included: the sender is forgotten.
    pool.on_block(u(3), [(addr(3), rich(1))]);
    assert_eq!(pool.by_sender(&addr(3)).count(), 0);
    assert_eq!(pool.pending_nonce(&addr(3)), None);
}

#[test]
fn insert_applies_the_account_nonce_it_is_given() {
    let mut pool = pool(0);
    add(&mut pool, tx(1, 0, 10, 1));
    add(&mut pool, tx(1, 1, 10, 1));
    let inserted = pool.insert(tx(1, 2, 10, 1), "", rich(2)).unwrap();
    assert_eq!(inserted.status, TxStatus::Pending);
    assert_eq!(inserted.removed.len(), 2);
    assert!(inserted
        .removed
        .iter()
        .all(|r| r.reason == RemovalReason::Included));
    assert_eq!(nonces(&pool, 1), [2]);
}

#[test]
fn queries_remove_and_clear() {
    let mut pool = pool(0);
    for nonce in 0..3 {
        add(&mut pool, tx(1, nonce, 10, 1));
    }
    add(&mut pool, tx(2, 0, 10, 1));
    assert_eq!(pool.len(), 4);
    assert!(!pool.is_empty());
    let middle = tx(1, 1, 10, 1);
    assert!(pool.contains(&middle.hash));
    assert_eq!(pool.get(&middle.hash).unwrap().tx, middle);
    assert_eq!(
        pool.iter().map(|e| e.tx.sender.0[0]).collect::<Vec<_>>(),
        [1, 1, 1, 2]
    );

    let removed = pool.remove(&middle.hash).unwrap();
    assert_eq!(removed.tx, middle);
    assert!(pool.remove(&middle.hash).is_none());
    assert!(!pool.contains(&middle.hash));
    assert!(pool.get(&middle.hash).is_none());
    // The later nonce stays, queued behind the gap.
    assert_eq!(nonces(&pool, 1), [0, 2]);
    assert_eq!(pool.status(&tx(1, 2, 10, 1).hash), Some(TxStatus::Queued));
    assert_eq!((pool.pending_count(), pool.queued_count()), (2, 1));
    assert_eq!(selection(&pool), [(1, 0), (2, 0)]);

    let seq = pool.get(&tx(2, 0, 10, 1).hash).unwrap().seq();
    pool.clear();
    assert!(pool.is_empty());
    assert_eq!((pool.pending_count(), pool.queued_count()), (0, 0));
    assert!(selection(&pool).is_empty());
    // Arrival numbers keep increasing after a clear.
    add(&mut pool, tx(2, 0, 10, 1));
    assert!(pool.get(&tx(2, 0, 10, 1).hash).unwrap().seq() > seq);
}

#[test]
fn the_builder_skips_a_sender_that_does_not_fit() {
    let mut pool = pool(0);
    add(&mut pool, tx(1, 0, 10, 9));
    add(&mut pool, tx(1, 1, 10, 9));
    add(&mut pool, tx(2, 0, 10, 5));
    add(&mut pool, tx(2, 1, 10, 5));
    add(&mut pool, tx(3, 0, 10, 1));

    let mut best = pool.best();
    let mut taken = Vec::new();
    while let Some(entry) = best.next() {
        if entry.tx.sender == addr(2) {
            // Sender 2's first transaction turned out invalid: none of its others either.
            best.skip_sender(entry.tx.sender);
            continue;
        }
        taken.push((entry.tx.sender.0[0], entry.tx.nonce));
    }
    assert_eq!(taken, [(1, 0), (1, 1), (3, 0)]);

    // Skipping a sender before it comes up.
    let mut best = pool.best();
    best.skip_sender(addr(1));
    let order: Vec<_> = best.map(|e| (e.tx.sender.0[0], e.tx.nonce)).collect();
    assert_eq!(order, [(2, 0), (2, 1), (3, 0)]);
}

// ---------------------------------------------------------------------------------------------
// Property tests.

const SENDERS: u8 = 3;
const BLOCK_GAS_LIMIT: u64 = 100_000;
const GAS_LIMITS: [u64; 3] = [21_000, 60_000, 150_000];
const BALANCES: [u64; 4] = [0, 1_000_000, 5_000_000, 100_000_000];

#[derive(Clone, Debug)]
enum Op {
    Insert {
        sender: u8,
        /// 0-6: right after the sender's pending run; 7-8: account nonce + `nonce_delta`;
        /// 9: just below the account nonce.
        mode: u8,
        nonce_delta: u64,
        max_fee: u64,
        priority_fee: u64,
        gas: usize,
        value: u64,
        balance: usize,
    },
    /// Re-sends the transaction at this index of the history (known or not).
    Resend(usize),
    /// Replaces the pooled transaction at this index with fees near the bump threshold.
    Replace {
        index: usize,
        d_max: i64,
        d_tip: i64,
    },
    Remove(usize),
    SetBaseFee(u64),
    Block {
        base_fee: u64,
        skips: u32,
        balances: [usize; SENDERS as usize],
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            (0..SENDERS, 0u8..10, 0u64..7),
            (0u64..40, 0u64..25, 0u8..8),
            (0usize..8, 0u64..5000, 0usize..8),
        )
            .prop_map(|((sender, mode, nonce_delta), (max_fee, priority_fee, over), (gas, value, balance))| {
                // Mostly a priority fee within the max fee; sometimes above it.
                let priority_fee = if over == 0 { priority_fee } else { priority_fee.min(max_fee) };
                // Mostly 21 000 gas; sometimes 60 000 or above the block gas limit.
                let gas = gas.saturating_sub(5).min(2);
                // Mostly rich; sometimes poor.
                let balance = balance.min(3);
                Op::Insert { sender, mode, nonce_delta, max_fee, priority_fee, gas, value, balance }
            }),
        1 => any::<usize>().prop_map(Op::Resend),
        2 => (any::<usize>(), -1i64..=1, -1i64..=1)
            .prop_map(|(index, d_max, d_tip)| Op::Replace { index, d_max, d_tip }),
        1 => any::<usize>().prop_map(Op::Remove),
        1 => (0u64..30).prop_map(Op::SetBaseFee),
        2 => (0u64..30, any::<(u32, u32)>(), [0usize..6, 0usize..6, 0usize..6])
            .prop_map(|(base_fee, (a, b), balances)| Op::Block {
                base_fee,
                skips: a & b,
                balances: balances.map(|b| b.min(3)),
            }),
    ]
}

/// The model's minimum replacement fee, in plain integers.
fn model_bump(old: u64) -> u64 {
    (old * 110 / 100).max(old + 1)
}

fn low(v: U256) -> u64 {
    v.low_u64()
}

/// A straightforward reimplementation of the pool's rules (without the total size limit).
#[derive(Default)]
struct Model {
    base_fee: u64,
    seq: u64,
    /// Account nonce per sender, as the chain knows it.
    nonces: BTreeMap<H160, u64>,
    txs: BTreeMap<H160, BTreeMap<u64, (PoolTx, u64)>>,
}

type Outcome = Result<(TxStatus, Vec<(H256, RemovalReason)>), PoolError>;

impl Model {
    fn known(&self, hash: H256) -> bool {
        self.txs
            .values()
            .any(|txs| txs.values().any(|(t, _)| t.hash == hash))
    }

    fn drop_below(&mut self, sender: H160, nonce: u64) -> Vec<(H256, RemovalReason)> {
        let txs = self.txs.entry(sender).or_default();
        let stale: Vec<u64> = txs.range(..nonce).map(|(n, _)| *n).collect();
        stale
            .into_iter()
            .map(|n| (txs.remove(&n).unwrap().0.hash, RemovalReason::Included))
            .collect()
    }

    fn pending_end(&self, sender: H160) -> u64 {
        let mut next = self.nonces.get(&sender).copied().unwrap_or(0);
        let txs = self.txs.get(&sender);
        while txs.is_some_and(|t| t.contains_key(&next)) {
            next += 1;
        }
        next
    }

    fn insert(&mut self, t: PoolTx, balance: u64, per_sender: usize) -> Outcome {
        let account = self.nonces.get(&t.sender).copied().unwrap_or(0);
        if self.known(t.hash) {
            return Err(PoolError::AlreadyKnown(t.hash));
        }
        if t.max_priority_fee_per_gas > t.max_fee_per_gas {
            return Err(PoolError::FeeCapBelowTip {
                max_fee: t.max_fee_per_gas,
                priority_fee: t.max_priority_fee_per_gas,
            });
        }
        if low(t.max_fee_per_gas) < 2 {
            return Err(PoolError::Underpriced {
                max_fee: t.max_fee_per_gas,
                min_max_fee: u(2),
            });
        }
        if t.gas_limit > BLOCK_GAS_LIMIT {
            return Err(PoolError::GasLimitTooHigh {
                gas_limit: t.gas_limit,
                block_gas_limit: BLOCK_GAS_LIMIT,
            });
        }
        if t.nonce < account {
            return Err(PoolError::NonceTooLow {
                account_nonce: account,
                tx_nonce: t.nonce,
            });
        }
        let mut removed = self.drop_below(t.sender, account);
        let txs = &self.txs[&t.sender];
        if let Some((old, _)) = txs.get(&t.nonce) {
            let (old_max, old_tip) = (low(old.max_fee_per_gas), low(old.max_priority_fee_per_gas));
            if low(t.max_fee_per_gas) < model_bump(old_max)
                || low(t.max_priority_fee_per_gas) < model_bump(old_tip)
            {
                return Err(PoolError::ReplacementUnderpriced {
                    old_max_fee: u(old_max),
                    old_priority_fee: u(old_tip),
                    price_bump_percent: 10,
                });
            }
        }
        let cost = |t: &PoolTx| t.gas_limit * low(t.max_fee_per_gas) + low(t.value);
        let required: u64 = txs
            .values()
            .filter(|(o, _)| o.nonce != t.nonce)
            .map(|(o, _)| cost(o))
            .sum::<u64>()
            + cost(&t);
        if required > balance {
            return Err(PoolError::InsufficientFunds {
                balance: u(balance),
                required: u(required),
            });
        }
        if !txs.contains_key(&t.nonce) && txs.len() >= per_sender {
            return Err(PoolError::SenderLimit {
                sender: t.sender,
                limit: per_sender,
            });
        }
        let seq = self.seq;
        self.seq += 1;
        if let Some((old, _)) = self
            .txs
            .get_mut(&t.sender)
            .unwrap()
            .insert(t.nonce, (t, seq))
        {
            removed.push((old.hash, RemovalReason::Replaced { by: t.hash }));
        }
        let status = if t.nonce < self.pending_end(t.sender) {
            TxStatus::Pending
        } else {
            TxStatus::Queued
        };
        Ok((status, removed))
    }

    fn on_block(&mut self, accounts: &BTreeMap<H160, AccountState>) -> Vec<(H256, RemovalReason)> {
        let mut removed = Vec::new();
        for (sender, account) in accounts {
            self.nonces.insert(*sender, account.nonce);
            removed.extend(self.drop_below(*sender, account.nonce));
            let txs = self.txs.get_mut(sender).unwrap();
            let mut sum = 0u64;
            let mut cut = None;
            for (n, (t, _)) in txs.iter() {
                sum += t.gas_limit * low(t.max_fee_per_gas) + low(t.value);
                if u(sum) > account.balance {
                    cut = Some(*n);
                    break;
                }
            }
            if let Some(cut) = cut {
                for (_, (t, _)) in txs.split_off(&cut) {
                    removed.push((t.hash, RemovalReason::InsufficientFunds));
                }
            }
        }
        removed
    }

    fn contents(&self) -> Vec<(H256, u64)> {
        self.txs
            .values()
            .flat_map(|txs| txs.values().map(|(t, seq)| (t.hash, *seq)))
            .collect()
    }

    fn pending_count(&self) -> usize {
        self.txs
            .keys()
            .map(|s| (self.pending_end(*s) - self.nonces.get(s).copied().unwrap_or(0)) as usize)
            .sum()
    }
}

/// Runs the builder's selection, skipping the k-th returned transaction's sender when bit k of
/// `skips` is set, and checks every step against the pool's contents: each returned
/// transaction is the best (highest effective tip, then earliest arrival) of the transactions
/// available at that moment (each sender's next nonce after what it had taken, starting at its
/// account nonce), so nonce order holds, no max fee is below the base fee, and tips never rise
/// among available transactions. Returns the taken transactions.
fn check_selection<T>(
    pool: &Mempool<T>,
    account_nonces: &BTreeMap<H160, u64>,
    skips: u32,
) -> Vec<PoolTx> {
    let base_fee = pool.base_fee();
    let senders: Vec<H160> = {
        let mut s: Vec<H160> = pool.iter().map(|e| e.tx.sender).collect();
        s.dedup();
        s
    };
    let mut next: BTreeMap<H160, Option<u64>> = senders
        .iter()
        .map(|s| (*s, Some(account_nonces.get(s).copied().unwrap_or(0))))
        .collect();
    let available = |next: &BTreeMap<H160, Option<u64>>| -> Vec<(U256, u64, PoolTx)> {
        next.iter()
            .filter_map(|(s, n)| {
                let n = (*n)?;
                let e = pool.by_sender(s).find(|e| e.tx.nonce == n)?;
                Some((e.tx.effective_tip(base_fee)?, e.seq(), e.tx))
            })
            .collect()
    };
    let mut taken = Vec::new();
    let mut best = pool.best();
    let mut k = 0;
    loop {
        let candidates = available(&next);
        let Some(entry) = best.next() else {
            assert!(
                candidates.is_empty(),
                "selection ended with {candidates:?} available"
            );
            break;
        };
        let t = entry.tx;
        assert!(
            t.max_fee_per_gas >= base_fee,
            "{t:?} below base fee {base_fee}"
        );
        assert_eq!(next[&t.sender], Some(t.nonce), "out of nonce order: {t:?}");
        let tip = t.effective_tip(base_fee).unwrap();
        let expected = candidates
            .iter()
            .min_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)))
            .expect("something is available");
        assert_eq!(expected.2, t, "not the best available");
        // No available transaction pays a higher tip than the one returned.
        assert!(candidates.iter().all(|c| c.0 <= tip));
        if skips & (1 << (k % 32)) != 0 {
            best.skip_sender(t.sender);
            next.insert(t.sender, None);
        } else {
            next.insert(t.sender, t.nonce.checked_add(1));
            taken.push(t);
        }
        k += 1;
    }
    taken
}

fn pool_contents<T>(pool: &Mempool<T>) -> Vec<(H256, u64)> {
    pool.iter().map(|e| (e.tx.hash, e.seq())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random inserts, replacements, removals and blocks: the pool agrees with the model on
    /// every outcome and its contents, and the builder's selection is always ordered correctly.
    #[test]
    fn pool_matches_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let per_sender = 4;
        let config = PoolConfig {
            max_txs: 1000,
            max_per_sender: per_sender,
            block_gas_limit: BLOCK_GAS_LIMIT,
            min_max_fee: u(2),
            price_bump_percent: 10,
        };
        let mut pool: Mempool<u64> = Mempool::new(config, u(0));
        let mut model = Model::default();
        let mut history: Vec<PoolTx> = Vec::new();
        let mut balance_of: BTreeMap<H160, u64> = BTreeMap::new();
        let mut counter = 0u64;

        for op in ops {
            let mut attempt: Option<(PoolTx, u64)> = None;
            match op {
                Op::Insert { sender, mode, nonce_delta, max_fee, priority_fee, gas, value, balance } => {
                    let sender = addr(sender + 1);
                    let account = model.nonces.get(&sender).copied().unwrap_or(0);
                    let nonce = match mode {
                        0..=6 => model.pending_end(sender),
                        7 | 8 => account + nonce_delta,
                        _ => account.saturating_sub(1),
                    };
                    counter += 1;
                    let t = PoolTx {
                        hash: hash_of(counter),
                        sender,
                        nonce,
                        max_fee_per_gas: u(max_fee),
                        max_priority_fee_per_gas: u(priority_fee),
                        gas_limit: GAS_LIMITS[gas],
                        value: u(value),
                    };
                    attempt = Some((t, BALANCES[balance]));
                }
                Op::Resend(i) if !history.is_empty() => {
                    let t = history[i % history.len()];
                    attempt = Some((t, *balance_of.get(&t.sender).unwrap_or(&BALANCES[3])));
                }
                Op::Replace { index, d_max, d_tip } => {
                    let pooled: Vec<PoolTx> = pool.iter().map(|e| e.tx).collect();
                    if !pooled.is_empty() {
                        let old = pooled[index % pooled.len()];
                        let bump = |v: U256, d: i64| {
                            u(model_bump(low(v)).saturating_add_signed(d))
                        };
                        counter += 1;
                        let t = PoolTx {
                            hash: hash_of(counter),
                            max_fee_per_gas: bump(old.max_fee_per_gas, d_max),
                            max_priority_fee_per_gas: bump(old.max_priority_fee_per_gas, d_tip),
                            ..old
                        };
                        attempt = Some((t, BALANCES[3]));
                    }
                }
                Op::Remove(i) if !history.is_empty() => {
                    let hash = history[i % history.len()].hash;
                    let in_model = model.known(hash);
                    let removed = pool.remove(&hash);
                    prop_assert_eq!(removed.is_some(), in_model);
                    if let Some(r) = removed {
                        prop_assert_eq!(r.tx.hash, hash);
                        let txs = model.txs.get_mut(&r.tx.sender).unwrap();
                        txs.remove(&r.tx.nonce);
                    }
                }
                Op::SetBaseFee(base_fee) => {
                    pool.set_base_fee(u(base_fee));
                    model.base_fee = base_fee;
                }
                Op::Block { base_fee, skips, balances } => {
                    let taken = check_selection(&pool, &model.nonces, skips);
                    let mut accounts = BTreeMap::new();
                    for s in 1..=SENDERS {
                        let sender = addr(s);
                        let included = taken.iter().filter(|t| t.sender == sender).count() as u64;
                        let nonce = model.nonces.get(&sender).copied().unwrap_or(0) + included;
                        accounts.insert(sender, AccountState { nonce, balance: u(BALANCES[balances[s as usize - 1]]) });
                    }
                    let removed: Vec<(H256, RemovalReason)> = pool
                        .on_block(u(base_fee), accounts.clone())
                        .into_iter()
                        .map(|r| (r.entry.tx.hash, r.reason))
                        .collect();
                    model.base_fee = base_fee;
                    prop_assert_eq!(removed, model.on_block(&accounts));
                }
                Op::Resend(_) | Op::Remove(_) => {}
            }

            if let Some((t, balance)) = attempt {
                history.push(t);
                balance_of.insert(t.sender, balance);
                let account = AccountState {
                    nonce: model.nonces.get(&t.sender).copied().unwrap_or(0),
                    balance: u(balance),
                };
                let got: Outcome = pool.insert(t, counter, account).map(|ins| {
                    (ins.status, ins.removed.into_iter().map(|r| (r.entry.tx.hash, r.reason)).collect())
                });
                let expected = model.insert(t, balance, per_sender);
                prop_assert_eq!(got, expected);
            }

            prop_assert_eq!(pool.base_fee(), u(model.base_fee));
            prop_assert_eq!(pool_contents(&pool), model.contents());
            prop_assert_eq!(pool.pending_count(), model.pending_count());
            prop_assert_eq!(pool.len(), pool.pending_count() + pool.queued_count());
            for e in pool.iter() {
                let expected = if e.tx.nonce < model.pending_end(e.tx.sender) {
                    TxStatus::Pending
                } else {
                    TxStatus::Queued
                };
                prop_assert_eq!(pool.status(&e.tx.hash), Some(expected));
                prop_assert!(pool.contains(&e.tx.hash));
            }
            check_selection(&pool, &model.nonces, 0);
        }
    }

    /// A small pool under pressure: limits always hold, every eviction takes the documented
    /// victim (the lowest-ranked sender's highest nonce, so no gap appears), every `PoolFull` is
    /// justified, and the selection stays correct.
    #[test]
    fn eviction_takes_the_documented_victim(
        ops in proptest::collection::vec(
            prop_oneof![
                6 => (0u8..4, 0u64..4, 0u64..30, 0u64..20).prop_map(|(s, d, m, p)| (0u8, s, d, m, p)),
                1 => (0u64..25, any::<u32>()).prop_map(|(b, k)| (1u8, 0, b, u64::from(k), 0)),
            ],
            1..80,
        )
    ) {
        let config = PoolConfig {
            max_txs: 6,
            max_per_sender: 3,
            ..PoolConfig::default()
        };
        let mut pool: Mempool<()> = Mempool::new(config, u(5));
        let mut nonces: BTreeMap<H160, u64> = BTreeMap::new();
        let mut counter = 0u64;
        for (kind, s, a, b, c) in ops {
            if kind == 1 {
                let taken = check_selection(&pool, &nonces, b as u32);
                for t in &taken {
                    nonces.insert(t.sender, t.nonce + 1);
                }
                let accounts: Vec<(H160, AccountState)> =
                    nonces.iter().map(|(s, n)| (*s, rich(*n))).collect();
                pool.on_block(u(a), accounts);
                continue;
            }
            let sender = addr(s + 1);
            let account = nonces.get(&sender).copied().unwrap_or(0);
            let priority = c.min(b);
            counter += 1;
            let t = PoolTx {
                hash: hash_of(counter),
                sender,
                nonce: account + a,
                max_fee_per_gas: u(b),
                max_priority_fee_per_gas: u(priority),
                gas_limit: GAS,
                value: U256::zero(),
            };
            let base_fee = pool.base_fee();
            let rank_tip = |t: &PoolTx| t.effective_tip(base_fee).unwrap_or_default();
            // Each sender's highest-nonce transaction, worst first.
            let mut tails: Vec<(U256, std::cmp::Reverse<u64>, PoolTx)> = nonces
                .keys()
                .chain(std::iter::once(&sender))
                .filter_map(|s| pool.by_sender(s).last())
                .map(|e| (rank_tip(&e.tx), std::cmp::Reverse(e.seq()), e.tx))
                .collect();
            tails.sort_by_key(|x| (x.0, x.1));
            tails.dedup_by_key(|x| x.2.hash);
            let was_full = pool.len() == 6;
            let replacing = pool.by_sender(&sender).any(|e| e.tx.nonce == t.nonce);
            let before: Vec<PoolTx> = pool.iter().map(|e| e.tx).collect();

            match pool.insert(t, (), rich(account)) {
                Ok(inserted) => {
                    let evicted: Vec<PoolTx> = inserted
                        .removed
                        .iter()
                        .filter(|r| matches!(r.reason, RemovalReason::Evicted { .. }))
                        .map(|r| r.entry.tx)
                        .collect();
                    if was_full && !replacing {
                        prop_assert_eq!(evicted.len(), 1);
                        let victim = evicted[0];
                        let worst = tails[0].2;
                        prop_assert_eq!(victim, worst, "not the documented victim");
                        prop_assert!(rank_tip(&t) > rank_tip(&victim));
                        // The victim was its sender's highest nonce: no gap behind it.
                        prop_assert!(before
                            .iter()
                            .all(|o| o.sender != victim.sender || o.nonce <= victim.nonce));
                        if victim.sender == t.sender {
                            prop_assert!(t.nonce < victim.nonce);
                        }
                    } else {
                        prop_assert!(evicted.is_empty());
                    }
                }
                Err(PoolError::PoolFull { .. }) => {
                    prop_assert!(was_full && !replacing);
                    let worst = tails[0].2;
                    prop_assert!(
                        rank_tip(&t) <= tails[0].0
                            || (worst.sender == t.sender && t.nonce > worst.nonce)
                    );
                }
                Err(PoolError::SenderLimit { .. }) => {
                    prop_assert_eq!(pool.by_sender(&sender).count(), 3);
                }
                Err(PoolError::ReplacementUnderpriced { .. }) => prop_assert!(replacing),
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
            prop_assert!(pool.len() <= 6);
            for s in nonces.keys().chain(std::iter::once(&sender)) {
                prop_assert!(pool.by_sender(s).count() <= 3);
            }
            nonces.entry(sender).or_insert(0);
            check_selection(&pool, &nonces, 0);
        }
    }
}
