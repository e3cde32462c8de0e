//! Chains that keep the states of only their last blocks (`ChainConfig::state_history`): the
//! same blocks as a chain that keeps every state, the recent states readable with the right
//! contents, older ones a typed error (reading, tracing, reverting to a snapshot), fewer trie
//! records held, and the pruning point surviving a restart.

mod support;

use std::num::NonZeroU64;

use support::*;
use tally::chain::genesis::Genesis;
use tally::chain::sequencer::{Chain, ChainConfig, ChainError, Clock, MiningMode};
use tally::chain::store::{ChainStore, ChainStoreError, StateStore};
use tally_runtime::exec::Status;
use tally_runtime::{H160, H256, U256};

const BOB: H160 = H160([0xb0; 20]);

fn with_history(blocks: Option<u64>) -> ChainConfig {
    ChainConfig {
        state_history: blocks.and_then(NonZeroU64::new),
        clock: Clock::Deterministic { step: 12 },
        ..config(MiningMode::OnDemand)
    }
}

/// Mines one transfer to BOB per block, from dev 0, nonces `nonces` (value: nonce + 1);
/// returns the transaction hashes.
fn mine(chain: &mut Chain, nonces: std::ops::Range<u64>) -> Vec<H256> {
    nonces
        .map(|nonce| {
            let tx = transfer(0, nonce, BOB, nonce + 1, Genesis::dev().chain_id);
            chain.submit(tx).unwrap()
        })
        .collect()
}

/// BOB's balance after block `number` of [`mine`]: 1 + 2 + ... + number.
fn bob_after(number: u64) -> U256 {
    U256::from(number * (number + 1) / 2)
}

/// Trie node records the chain's state store holds.
fn trie_records(chain: &Chain) -> usize {
    match chain.store().state_store() {
        StateStore::Memory(s) => s.node_count().unwrap(),
        StateStore::Redb(s) => s.node_count().unwrap(),
    }
}

fn assert_pruned(result: Result<impl std::fmt::Debug, ChainError>, block: u64, oldest: u64) {
    match result {
        Err(ChainError::Store(ChainStoreError::StatePruned {
            block: b,
            oldest: o,
        })) => {
            assert_eq!((b, o), (block, oldest));
        }
        other => panic!("expected the state of block {block} to be pruned, got {other:?}"),
    }
}

#[test]
fn a_pruned_chain_mines_the_same_blocks_and_keeps_only_recent_states() {
    let genesis = Genesis::dev();
    let mut full = Chain::open(ChainStore::memory(), &genesis, with_history(None)).unwrap();
    let mut pruned = Chain::open(ChainStore::memory(), &genesis, with_history(Some(4))).unwrap();
    mine(&mut full, 0..30);
    mine(&mut pruned, 0..30);
    assert_eq!(pruned.head().number, 30);
    assert_eq!(full.head().hash(), pruned.head().hash());
    assert_eq!(full.store().oldest_state().unwrap(), 0);
    assert_eq!(pruned.store().oldest_state().unwrap(), 27);
    for number in 27..=30 {
        let mut state = pruned.state_at(number).unwrap();
        assert_eq!(state.balance(&BOB).unwrap(), bob_after(number));
        let header = pruned.store().block(number).unwrap().unwrap().header;
        assert_eq!(state.root().unwrap(), header.state_root);
    }
    assert_pruned(pruned.state_at(26).map(|_| ()), 26, 27);
    assert_pruned(pruned.state_at(0).map(|_| ()), 0, 27);
    assert_eq!(
        full.state_at(3).unwrap().balance(&BOB).unwrap(),
        bob_after(3)
    );
    // Blocks and receipts of pruned states stay.
    assert_eq!(pruned.store().receipts(3).unwrap().len(), 1);
    let (held, all) = (trie_records(&pruned), trie_records(&full));
    assert!(
        held < all,
        "{held} trie records held, {all} without pruning"
    );
}

#[test]
fn tracing_and_reverting_need_the_state_they_start_from() {
    let genesis = Genesis::dev();
    let mut chain = Chain::open(ChainStore::memory(), &genesis, with_history(Some(4))).unwrap();
    let first = mine(&mut chain, 0..2)[0];
    let old = chain.snapshot().unwrap();
    let last = *mine(&mut chain, 2..10).last().unwrap();
    let recent = chain.snapshot().unwrap();
    mine(&mut chain, 10..12);
    // Block 1 runs from the genesis state, long pruned; block 10 from block 9's, kept.
    assert_pruned(chain.trace_transaction(first), 0, 9);
    let (receipt, _) = chain.trace_transaction(last).unwrap().unwrap();
    assert_eq!(
        (receipt.status, receipt.gas_used),
        (Status::Success, TRANSFER_GAS)
    );
    // A snapshot whose state was pruned cannot be reverted to, and nothing changes.
    assert_pruned(chain.revert(old), 2, 9);
    assert_eq!(chain.head().number, 12);
    assert_eq!(
        chain.runtime().state_mut().balance(&BOB).unwrap(),
        bob_after(12)
    );
    assert!(chain.revert(recent).unwrap());
    assert_eq!(chain.head().number, 10);
    assert_eq!(
        chain.runtime().state_mut().balance(&BOB).unwrap(),
        bob_after(10)
    );
}

#[test]
fn the_pruning_point_survives_a_restart() {
    let genesis = Genesis::dev();
    let dir = temp_dir("state-history");
    let open = |history| {
        let store = ChainStore::open(&dir).unwrap();
        Chain::open(store, &genesis, with_history(history)).unwrap()
    };
    let mut chain = open(Some(3));
    mine(&mut chain, 0..10);
    assert_eq!(chain.store().oldest_state().unwrap(), 8);
    drop(chain);
    // Reopened without a history: what was pruned stays pruned, nothing more is.
    let mut chain = open(None);
    assert_pruned(chain.state_at(7).map(|_| ()), 7, 8);
    assert_eq!(
        chain.state_at(8).unwrap().balance(&BOB).unwrap(),
        bob_after(8)
    );
    mine(&mut chain, 10..12);
    assert_eq!(chain.store().oldest_state().unwrap(), 8);
    drop(chain);
    let mut chain = open(Some(2));
    mine(&mut chain, 12..13);
    assert_eq!(chain.store().oldest_state().unwrap(), 12);
    assert_eq!(
        chain.runtime().state_mut().balance(&BOB).unwrap(),
        bob_after(13)
    );
    drop(chain);
    let _ = std::fs::remove_dir_all(&dir);
}
