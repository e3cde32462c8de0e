//! Differential tests against independent implementations: alloy-trie (roots and proofs, both
//! directions) on random insert/delete sequences, and the Yellow Paper reference on keys that
//! are prefixes of each other.

mod common;

use std::collections::BTreeMap;

use common::{alloy_proof, alloy_root, alloy_verify, reference_root, Rng};
use tally_runtime::trie::{verify_proof, MemoryStore, Trie};

/// A 32-byte key that often shares a long prefix with other keys.
fn clustered_key(rng: &mut Rng, prefixes: &[Vec<u8>]) -> Vec<u8> {
    let base = &prefixes[rng.below(prefixes.len() as u64) as usize];
    let shared = rng.below(33) as usize;
    let mut key = base[..shared].to_vec();
    key.extend(rng.bytes(32 - shared));
    key
}

fn random_value(rng: &mut Rng) -> Vec<u8> {
    let len = 1 + rng.below(100) as usize;
    rng.bytes(len)
}

#[test]
fn random_sequences_match_alloy_at_every_step() {
    for seed in 0..6u64 {
        let mut rng = Rng::new(seed);
        let prefixes: Vec<Vec<u8>> = (0..3).map(|_| rng.bytes(32)).collect();
        let mut trie = Trie::new(MemoryStore::new());
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for step in 0..300 {
            let existing: Vec<_> = model.keys().cloned().collect();
            if !existing.is_empty() && rng.below(3) == 0 {
                let key = existing[rng.below(existing.len() as u64) as usize].clone();
                assert!(trie.delete(&key).unwrap());
                model.remove(&key);
            } else if !existing.is_empty() && rng.below(4) == 0 {
                // Overwrite an existing key.
                let key = existing[rng.below(existing.len() as u64) as usize].clone();
                let value = random_value(&mut rng);
                trie.insert(&key, &value).unwrap();
                model.insert(key, value);
            } else {
                let key = clustered_key(&mut rng, &prefixes);
                let value = random_value(&mut rng);
                trie.insert(&key, &value).unwrap();
                model.insert(key, value);
            }
            // Hash only every few steps too, so batches of changes are hashed together.
            if step % 3 == 0 || step > 280 {
                assert_eq!(trie.root(), alloy_root(&model), "seed {seed} step {step}");
            }
        }
        assert_eq!(trie.root(), alloy_root(&model));
    }
}

#[test]
fn proofs_cross_verify_with_alloy() {
    let mut rng = Rng::new(42);
    let prefixes: Vec<Vec<u8>> = (0..2).map(|_| rng.bytes(32)).collect();
    let mut trie = Trie::new(MemoryStore::new());
    let mut model = BTreeMap::new();
    for _ in 0..200 {
        let key = clustered_key(&mut rng, &prefixes);
        let value = random_value(&mut rng);
        trie.insert(&key, &value).unwrap();
        model.insert(key, value);
    }
    let root = trie.root();
    assert_eq!(root, alloy_root(&model));
    let present: Vec<_> = model.keys().take(40).cloned().collect();
    let absent: Vec<_> = (0..40)
        .map(|_| clustered_key(&mut rng, &prefixes))
        .collect();
    for key in present.iter().chain(&absent) {
        let expected = model.get(key).map(Vec::as_slice);
        let ours = trie.proof(key).unwrap();
        let theirs = alloy_proof(&model, key);
        // alloy-trie also lists embedded (< 32 byte) nodes separately; geth and we do not.
        // Otherwise the node lists are identical.
        let theirs_hashed: Vec<_> = theirs
            .iter()
            .enumerate()
            .filter(|(i, n)| *i == 0 || n.len() >= 32)
            .map(|(_, n)| n.clone())
            .collect();
        assert_eq!(ours, theirs_hashed, "same EIP-1186 node lists");
        assert!(
            alloy_verify(root, key, expected, &ours),
            "alloy verifies ours"
        );
        assert_eq!(
            verify_proof(&root, key, &theirs).unwrap().as_deref(),
            expected,
            "we verify alloy's"
        );
        if let Some(v) = expected {
            // A wrong value must not verify, and a tampered proof must fail.
            let mut wrong = v.to_vec();
            wrong[0] ^= 1;
            assert!(!alloy_verify(root, key, Some(&wrong), &ours));
            let mut tampered = ours.clone();
            let last = tampered.len() - 1;
            let n = tampered[last].len();
            tampered[last][n - 1] ^= 1;
            assert!(verify_proof(&root, key, &tampered).is_err());
        }
        // Truncated proofs (for keys with more than one node) never verify.
        if ours.len() > 1 {
            assert!(verify_proof(&root, key, &ours[..ours.len() - 1]).is_err());
        }
        // Extra trailing nodes are rejected.
        let mut extended = ours.clone();
        extended.push(ours[0].clone());
        assert!(verify_proof(&root, key, &extended).is_err());
    }
}

#[test]
fn prefix_keys_match_the_yellow_paper_reference() {
    let mut rng = Rng::new(7);
    let mut trie = Trie::new(MemoryStore::new());
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for step in 0..400 {
        // Short keys over a tiny alphabet: many keys are prefixes of others.
        let len = rng.below(5) as usize;
        let key: Vec<u8> = (0..len)
            .map(|_| [0x00, 0x01, 0x10, 0xff][rng.below(4) as usize])
            .collect();
        if rng.below(3) == 0 {
            let was = model.remove(&key).is_some();
            assert_eq!(trie.delete(&key).unwrap(), was);
        } else {
            let value = random_value(&mut rng);
            trie.insert(&key, &value).unwrap();
            model.insert(key, value);
        }
        assert_eq!(trie.root(), reference_root(&model), "step {step}");
    }
    let listed: Vec<_> = trie.iter().map(Result::unwrap).collect();
    let expected: Vec<_> = model.into_iter().collect();
    assert_eq!(listed, expected);
}

#[test]
fn ordered_root_matches_the_trie_and_the_oracles() {
    use tally_runtime::trie::{ordered_root, ordered_root_unsorted};
    let mut rng = Rng::new(11);
    let prefixes: Vec<Vec<u8>> = (0..3).map(|_| rng.bytes(32)).collect();
    for n in [0usize, 1, 2, 17, 300] {
        let mut model = BTreeMap::new();
        for _ in 0..n {
            model.insert(clustered_key(&mut rng, &prefixes), random_value(&mut rng));
        }
        let sorted: Vec<_> = model.clone().into_iter().collect();
        assert_eq!(ordered_root(&sorted), alloy_root(&model), "n = {n}");
    }
    // Prefix keys, duplicates and empty values, in any order.
    let mut model = BTreeMap::new();
    let mut unsorted = Vec::new();
    let mut trie = Trie::new(MemoryStore::new());
    for _ in 0..300 {
        let len = rng.below(4) as usize;
        let key: Vec<u8> = (0..len)
            .map(|_| [0x00, 0x01, 0x10][rng.below(3) as usize])
            .collect();
        let value = if rng.below(5) == 0 {
            Vec::new()
        } else {
            random_value(&mut rng)
        };
        trie.insert(&key, &value).unwrap();
        if value.is_empty() {
            model.remove(&key);
        } else {
            model.insert(key.clone(), value.clone());
        }
        unsorted.push((key, value));
    }
    assert_eq!(ordered_root_unsorted(unsorted), reference_root(&model));
    assert_eq!(trie.root(), reference_root(&model));
}

#[test]
fn ordered_root_parallel_path_matches_alloy() {
    // Above the parallel threshold (50k entries).
    let mut rng = Rng::new(12);
    let model: BTreeMap<Vec<u8>, Vec<u8>> =
        (0..60_000).map(|_| (rng.bytes(32), rng.bytes(8))).collect();
    let sorted: Vec<_> = model
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    assert_eq!(
        tally_runtime::trie::ordered_root(&sorted),
        alloy_root(&model)
    );
}
