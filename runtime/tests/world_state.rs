//! The world state: its root agrees with an independent Ethereum implementation, commits
//! reopen to the same state, old versions stay readable, and checkpoints roll back exactly.

mod support;

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256 as AU256};
use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};
use alloy_trie::TrieAccount;
use support::*;
use tally_runtime::state::{encode_storage_value, Log, WorldState};
use tally_runtime::trie::{keccak256, MemoryStore, SecureTrie};
use tally_runtime::{H160, H256, U256};

/// A small deterministic state: balances, nonces, code and storage (some slots cleared).
fn populate(state: &mut WorldState<MemoryStore>) {
    for i in 1..=20u8 {
        let a = addr(i);
        state
            .set_balance(&a, U256::from(i as u64) * U256::exp10(18))
            .unwrap();
        state.set_nonce(&a, i as u64 % 4).unwrap();
        if i % 5 == 0 {
            state.set_code(&a, &[i; 40]).unwrap();
            for k in 0..(i as u64) {
                state.set_storage(&a, &word(k), word(k * 1000 + 1)).unwrap();
            }
            // Written then cleared: must not appear in the trie.
            state.set_storage(&a, &word(999), word(5)).unwrap();
            state.set_storage(&a, &word(999), H256::zero()).unwrap();
        }
    }
    state.finish_transaction();
}

/// The same state's root computed by alloy-trie from plain maps.
fn alloy_state_root(state: &mut WorldState<MemoryStore>) -> [u8; 32] {
    let mut accounts = Vec::new();
    for i in 1..=20u8 {
        let a = addr(i);
        let account = state.account(&a).unwrap().unwrap();
        let mut storage = Vec::new();
        if i % 5 == 0 {
            for k in 0..(i as u64) {
                let value = state.storage(&a, &word(k)).unwrap();
                storage.push((B256::from(word(k).0), AU256::from_be_bytes(value.0)));
            }
        }
        let trie_account = TrieAccount {
            nonce: account.nonce,
            balance: AU256::from_be_bytes(account.balance.to_big_endian()),
            storage_root: storage_root_unhashed(storage),
            code_hash: B256::from(account.code_hash.0),
        };
        accounts.push((Address::from(a.0), trie_account));
    }
    state_root_unhashed(accounts).0
}

#[test]
fn state_root_matches_an_independent_ethereum_implementation() {
    let mut state = WorldState::new(MemoryStore::new());
    populate(&mut state);
    let root = state.root().unwrap();
    assert_eq!(root.0, alloy_state_root(&mut state));
    // The committed root is the same, and the account's storage root is filled in.
    assert_eq!(state.commit(1).unwrap(), root);
    let contract = state.account(&addr(5)).unwrap().unwrap();
    assert_ne!(contract.storage_root.0, tally_runtime::trie::EMPTY_ROOT);
}

#[test]
fn a_committed_state_reopens_identically_and_old_versions_stay_readable() {
    let store = MemoryStore::new();
    let mut state = WorldState::new(store.clone());
    populate(&mut state);
    let root1 = state.commit(1).unwrap();

    let mut reopened = WorldState::open(store.clone(), 1).unwrap();
    assert_eq!(reopened.root().unwrap(), root1);
    assert_eq!(
        reopened.balance(&addr(7)).unwrap(),
        U256::from(7) * U256::exp10(18)
    );
    assert_eq!(reopened.storage(&addr(10), &word(3)).unwrap(), word(3001));
    assert_eq!(&*reopened.code(&addr(15)).unwrap(), &[15u8; 40][..]);

    // Version 2 changes storage of a contract and a balance.
    reopened.set_storage(&addr(10), &word(3), word(77)).unwrap();
    reopened
        .set_storage(&addr(10), &word(4), H256::zero())
        .unwrap();
    reopened.set_balance(&addr(7), U256::one()).unwrap();
    reopened.finish_transaction();
    let root2 = reopened.commit(2).unwrap();
    assert_ne!(root2, root1);

    let mut v2 = WorldState::open(store.clone(), 2).unwrap();
    assert_eq!(v2.root().unwrap(), root2);
    assert_eq!(v2.storage(&addr(10), &word(3)).unwrap(), word(77));
    assert_eq!(v2.storage(&addr(10), &word(4)).unwrap(), H256::zero());
    let mut v1 = WorldState::open(store, 1).unwrap();
    assert_eq!(v1.root().unwrap(), root1);
    assert_eq!(v1.storage(&addr(10), &word(3)).unwrap(), word(3001));
    assert_eq!(
        v1.balance(&addr(7)).unwrap(),
        U256::from(7) * U256::exp10(18)
    );
}

/// The store layout a restart depends on: a contract's storage trie is written under the
/// namespace keccak(address), so a database written before reopens to the same storage.
#[test]
fn a_contracts_storage_trie_is_stored_under_the_keccak_of_its_address() {
    let store = MemoryStore::new();
    let mut state = WorldState::new(store.clone());
    populate(&mut state);
    state.commit(1).unwrap();

    let contract = addr(10);
    let account = state.account(&contract).unwrap().unwrap();
    let mut storage = SecureTrie::open(store, keccak256(&contract.0), 1).unwrap();
    assert_eq!(storage.root(), account.storage_root.0);
    assert_eq!(
        storage.get(&word(3).0).unwrap(),
        Some(encode_storage_value(&word(3001)))
    );
}

#[test]
fn reverting_to_a_checkpoint_restores_everything_after_it() {
    let mut state = WorldState::new(MemoryStore::new());
    populate(&mut state);
    let root = state.root().unwrap();
    let (a, b, fresh) = (addr(1), addr(5), addr(99));
    let before_a = state.balance(&a).unwrap();

    let checkpoint = state.checkpoint();
    assert!(state.transfer(&a, &fresh, U256::from(10)).unwrap());
    state.set_storage(&b, &word(1), word(123)).unwrap();
    state.set_storage(&b, &word(0), H256::zero()).unwrap();
    state.set_code(&fresh, b"\0asm").unwrap();
    state.push_log(Log {
        address: b,
        topics: vec![],
        data: vec![1],
    });
    // A root computed in the middle must not survive the rollback.
    assert_ne!(state.root().unwrap(), root);
    state.revert_to(checkpoint);

    assert!(state.logs().is_empty());
    assert_eq!(state.balance(&a).unwrap(), before_a);
    assert!(!state.exists(&fresh).unwrap());
    assert_eq!(state.storage(&b, &word(1)).unwrap(), word(1001));
    assert_eq!(state.storage(&b, &word(0)).unwrap(), word(1));
    assert_eq!(state.root().unwrap(), root);
}

#[test]
fn nested_checkpoints_roll_back_independently() {
    let mut state = WorldState::new(MemoryStore::new());
    let a = addr(1);
    let outer = state.checkpoint();
    state.set_storage(&a, &word(1), word(1)).unwrap();
    let inner = state.checkpoint();
    state.set_storage(&a, &word(1), word(2)).unwrap();
    state.set_storage(&a, &word(2), word(2)).unwrap();
    state.revert_to(inner);
    assert_eq!(state.storage(&a, &word(1)).unwrap(), word(1));
    assert_eq!(state.storage(&a, &word(2)).unwrap(), H256::zero());
    state.revert_to(outer);
    assert_eq!(state.storage(&a, &word(1)).unwrap(), H256::zero());
    assert!(!state.exists(&a).unwrap());
    assert_eq!(state.root().unwrap().0, tally_runtime::trie::EMPTY_ROOT);
}

#[test]
fn storage_slots_report_their_value_at_the_start_of_the_transaction() {
    let mut state = WorldState::new(MemoryStore::new());
    let a = addr(1);
    state.set_storage(&a, &word(1), word(5)).unwrap();
    state.finish_transaction();
    let w = state.set_storage(&a, &word(1), word(6)).unwrap();
    assert_eq!((w.original, w.current, w.new), (word(5), word(5), word(6)));
    let w = state.set_storage(&a, &word(1), word(7)).unwrap();
    assert_eq!((w.original, w.current, w.new), (word(5), word(6), word(7)));
    state.finish_transaction();
    assert_eq!(
        state.storage_slot(&a, &word(1)).unwrap(),
        (word(7), word(7))
    );
}

#[test]
fn the_same_changes_in_any_order_give_the_same_root() {
    let mut roots = BTreeMap::new();
    for order in [false, true] {
        let mut state = WorldState::new(MemoryStore::new());
        let mut ops: Vec<u8> = (1..=30).collect();
        if order {
            ops.reverse();
        }
        for i in ops {
            let a = H160::from_slice(&keccak256(&[i])[..20]);
            state.set_balance(&a, U256::from(i)).unwrap();
            state
                .set_storage(&addr(1), &word(i as u64), word(i as u64))
                .unwrap();
        }
        state.finish_transaction();
        roots.insert(order, state.commit(1).unwrap());
    }
    assert_eq!(roots[&false], roots[&true]);
}

#[test]
fn accounts_lists_every_account_of_the_last_root_by_hashed_address() {
    let mut state = WorldState::new(MemoryStore::new());
    populate(&mut state);
    assert_eq!(state.accounts().count(), 0, "nothing before a root");
    state.root().unwrap();
    let listed: Vec<(H256, U256)> = state
        .accounts()
        .map(|entry| entry.map(|(key, account)| (key, account.balance)).unwrap())
        .collect();
    let mut expected: Vec<(H256, U256)> = (1..=20u8)
        .map(|i| {
            let key = H256(keccak256(addr(i).as_bytes()));
            (key, U256::from(i as u64) * U256::exp10(18))
        })
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    let total = listed.iter().fold(U256::zero(), |sum, (_, b)| sum + b);
    assert_eq!(total, U256::from(210u64) * U256::exp10(18));
}
