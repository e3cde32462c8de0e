//! Paged node records (many records per database value) and pending commit versions: large
//! commits spanning many pages read back from redb, pruning rewrites partly dead pages and
//! deletes empty ones without losing what retained versions need, and a prepared commit that is
//! never written does not make its nodes count as stored.

mod common;

use std::collections::BTreeMap;

use common::{alloy_root, Rng};
use tally_runtime::trie::{MemoryStore, Namespace, NodeStore, RedbStore, Trie};

const NS: Namespace = [5; 32];

fn tmp_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("tally-pages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

fn contents(trie: &Trie<impl NodeStore>) -> BTreeMap<Vec<u8>, Vec<u8>> {
    trie.iter().map(Result::unwrap).collect()
}

fn update(rng: &mut Rng, trie: &mut Trie<impl NodeStore>, model: &mut BTreeMap<Vec<u8>, Vec<u8>>) {
    if !model.is_empty() && rng.below(5) == 0 {
        let keys: Vec<_> = model.keys().cloned().collect();
        let k = keys[rng.below(keys.len() as u64) as usize].clone();
        assert!(trie.delete(&k).unwrap());
        model.remove(&k);
    } else {
        let k = rng.bytes(32);
        let len = 1 + rng.below(80) as usize;
        let v = rng.bytes(len);
        trie.insert(&k, &v).unwrap();
        model.insert(k, v);
    }
}

/// Large commits (hundreds of pages), many versions, then pruning in two steps.
fn large_commits_and_prune(store: impl NodeStore + Clone, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut model = BTreeMap::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    for _ in 0..6000 {
        update(&mut rng, &mut trie, &mut model);
    }
    let mut snapshots = vec![(1u64, trie.commit(1).unwrap(), model.clone())];
    for version in 2..=6u64 {
        for _ in 0..700 {
            update(&mut rng, &mut trie, &mut model);
        }
        snapshots.push((version, trie.commit(version).unwrap(), model.clone()));
    }
    assert_eq!(snapshots.last().unwrap().1, alloy_root(&model));
    for (version, root, snapshot) in &snapshots {
        let mut t = Trie::open(store.clone(), NS, *version).unwrap();
        assert_eq!(t.root(), *root);
        assert_eq!(&contents(&t), snapshot, "version {version}");
    }
    for keep_from in [3u64, 6] {
        let stats = store.prune(keep_from).unwrap();
        assert!(stats.nodes > 0);
        for (version, root, snapshot) in &snapshots {
            if *version >= keep_from {
                let mut t = Trie::open(store.clone(), NS, *version).unwrap();
                assert_eq!(t.root(), *root);
                assert_eq!(&contents(&t), snapshot, "version {version} after prune");
            } else {
                assert!(Trie::open(store.clone(), NS, *version).is_err());
            }
        }
    }
    // Pruning again is a no-op.
    assert_eq!(store.prune(6).unwrap().nodes, 0);
    // Keep going on top of the pruned store.
    let mut latest = Trie::open(store.clone(), NS, 6).unwrap();
    for _ in 0..300 {
        update(&mut rng, &mut latest, &mut model);
    }
    let root = latest.commit(7).unwrap();
    assert_eq!(root, alloy_root(&model));
    assert_eq!(contents(&Trie::open(store, NS, 7).unwrap()), model);
}

#[test]
fn large_commits_and_prune_memory() {
    large_commits_and_prune(MemoryStore::new(), 11);
}

#[test]
fn large_commits_and_prune_redb() {
    let path = tmp_path("large.redb");
    large_commits_and_prune(RedbStore::open(&path).unwrap(), 12);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn pruning_only_deletes_records_of_retained_pages_that_are_dead() {
    // Every node of version 1 stays current except one path: pruning must keep the rest of
    // the (shared) pages readable.
    let store = MemoryStore::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    let mut model = BTreeMap::new();
    for i in 0u32..3000 {
        let k = common::Rng::new(u64::from(i)).bytes(32);
        trie.insert(&k, &[7; 40]).unwrap();
        model.insert(k, vec![7; 40]);
    }
    trie.commit(1).unwrap();
    let before = store.node_count().unwrap();
    let k = model.keys().next().unwrap().clone();
    trie.insert(&k, &[8; 40]).unwrap();
    model.insert(k, vec![8; 40]);
    trie.commit(2).unwrap();
    let written = store.node_count().unwrap() - before;
    let stats = store.prune(2).unwrap();
    assert_eq!(
        stats.nodes as usize, written,
        "one record dead per record rewritten"
    );
    assert_eq!(store.node_count().unwrap(), before);
    assert_eq!(contents(&Trie::open(store, NS, 2).unwrap()), model);
}

#[test]
fn unwritten_prepared_commit_does_not_count_as_stored() {
    let store = MemoryStore::new();
    let mut rng = Rng::new(21);
    let mut model = BTreeMap::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    for _ in 0..400 {
        update(&mut rng, &mut trie, &mut model);
    }
    trie.commit(1).unwrap();
    for _ in 0..100 {
        update(&mut rng, &mut trie, &mut model);
    }
    // Prepared at 2 but never written, then changed: its nodes must be written by the next
    // commit, and nothing it assigned may be listed as superseded.
    let abandoned = trie.prepare_commit(2).unwrap();
    assert!(!abandoned.batch.nodes.is_empty());
    for _ in 0..100 {
        update(&mut rng, &mut trie, &mut model);
    }
    let commit = trie.prepare_commit(3).unwrap();
    assert!(commit.batch.stale.iter().all(|(_, key)| key.version == 1));
    store.write(&commit.batch).unwrap();
    trie.finish_commit(&commit).unwrap();
    assert_eq!(commit.root, alloy_root(&model));
    let reopened = Trie::open(store.clone(), NS, 3).unwrap();
    assert_eq!(contents(&reopened), model);
    // Pruning up to 3 keeps version 3 whole.
    store.prune(3).unwrap();
    assert_eq!(contents(&Trie::open(store.clone(), NS, 3).unwrap()), model);
    // An unchanged trie commits nothing new after that.
    let again = trie.prepare_commit(4).unwrap();
    assert!(again.batch.nodes.is_empty());
}
