//! Property test: after any sequence of inserts, deletes and commits (with reopening from the
//! store), the trie holds exactly what a `BTreeMap` model holds, and its root matches alloy-trie;
//! and a batch of edits gives the trie the same edits one at a time give.

mod common;

use std::collections::BTreeMap;

use common::alloy_root;
use proptest::prelude::*;
use tally_runtime::trie::{verify_proof, MemoryStore, Trie};

#[derive(Clone, Debug)]
enum Op {
    Insert(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    /// `Trie::insert_batch`; an empty value deletes.
    Batch(Vec<(Vec<u8>, Vec<u8>)>),
    CommitAndReopen,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    // Fixed-length keys over a small alphabet: many shared prefixes, no key is a prefix of
    // another (alloy-trie's HashBuilder requires that).
    proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0x10), Just(0xff)], 4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (key(), proptest::collection::vec(any::<u8>(), 1..40)).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => key().prop_map(Op::Delete),
        2 => proptest::collection::vec((key(), proptest::collection::vec(any::<u8>(), 0..40)), 0..24)
            .prop_map(Op::Batch),
        1 => Just(Op::CommitAndReopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x7a11_7e57),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn trie_equals_model(ops in proptest::collection::vec(op(), 1..80)) {
        let store = MemoryStore::new();
        let mut trie = Trie::new(store.clone());
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut version = 0;
        for op in &ops {
            match op {
                Op::Insert(k, v) => {
                    trie.insert(k, v).unwrap();
                    model.insert(k.clone(), v.clone());
                }
                Op::Delete(k) => {
                    let was = model.remove(k).is_some();
                    prop_assert_eq!(trie.delete(k).unwrap(), was);
                }
                Op::Batch(entries) => {
                    trie.insert_batch(entries).unwrap();
                    for (k, v) in entries {
                        match v.is_empty() {
                            true => model.remove(k),
                            false => model.insert(k.clone(), v.clone()),
                        };
                    }
                    for (k, _) in entries {
                        prop_assert_eq!(trie.get(k).unwrap(), model.get(k).cloned());
                    }
                }
                Op::CommitAndReopen => {
                    version += 1;
                    let root = trie.commit(version).unwrap();
                    trie = Trie::open(store.clone(), [0; 32], version).unwrap();
                    prop_assert_eq!(trie.root(), root);
                }
            }
            if let Op::Insert(k, _) | Op::Delete(k) = op {
                prop_assert_eq!(trie.get(k).unwrap(), model.get(k).cloned());
            }
        }
        let listed: BTreeMap<_, _> = trie.iter().map(Result::unwrap).collect();
        prop_assert_eq!(&listed, &model);
        let keys: Vec<_> = trie.iter().map(|e| e.unwrap().0).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]), "iteration is in key order");
        let root = trie.root();
        prop_assert_eq!(root, alloy_root(&model));
        for (_, k) in ops.iter().filter_map(|o| match o { Op::Insert(k, _) | Op::Delete(k) => Some(k), _ => None }).enumerate().take(8) {
            let proof = trie.proof(k).unwrap();
            prop_assert_eq!(verify_proof(&root, k, &proof).unwrap(), model.get(k).cloned());
        }
    }
}

fn any_key() -> impl Strategy<Value = Vec<u8>> {
    // Keys of 0 to 5 bytes over a small alphabet: some are prefixes of others.
    proptest::collection::vec(
        prop_oneof![Just(0u8), Just(0x01), Just(0x10), Just(0xff)],
        0..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xba7c_4ed0),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn batch_equals_one_at_a_time(
        before in proptest::collection::vec((any_key(), proptest::collection::vec(any::<u8>(), 1..40)), 0..40),
        batch in proptest::collection::vec((any_key(), proptest::collection::vec(any::<u8>(), 0..40)), 0..40),
        reopen in any::<bool>(),
    ) {
        let store = MemoryStore::new();
        let mut base = Trie::new(store.clone());
        base.insert_batch(&before).unwrap();
        base.commit(1).unwrap();
        let open = || match reopen {
            // Reopened: every node below the root is a stub the walk must stop at.
            true => Trie::open(store.clone(), [0; 32], 1).unwrap(),
            false => {
                let mut t = Trie::new(MemoryStore::new());
                for (k, v) in &before {
                    t.insert(k, v).unwrap();
                }
                t
            }
        };
        let (mut batched, mut single) = (open(), open());
        batched.insert_batch(&batch).unwrap();
        for (k, v) in &batch {
            single.insert(k, v).unwrap();
        }
        prop_assert_eq!(batched.root(), single.root());
        let listed = |t: &Trie<MemoryStore>| t.iter().map(Result::unwrap).collect::<Vec<_>>();
        prop_assert_eq!(listed(&batched), listed(&single));
    }
}
