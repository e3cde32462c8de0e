//! Paged node records (many records per database value) and pending commit versions: large
//! commits spanning many pages read back from redb, pruning releases and reclaims dead records
//! (at once, or lazily once half of a segment is dead) without losing what retained versions
//! need, and a prepared commit that is never written does not make its nodes count as stored.

mod common;

use std::collections::BTreeMap;

use common::{alloy_root, Rng};
use tally_runtime::trie::{
    MemoryStore, Namespace, NodeStore, Reclaim, RedbStore, Trie, TrieCommit,
};

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
fn large_commits_and_prune(store: impl NodeStore + Clone, seed: u64, reclaim: Reclaim) {
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
        let stats = store.prune(keep_from, reclaim).unwrap();
        assert!(stats.released > 0);
        if reclaim == Reclaim::Eager {
            assert_eq!(stats.nodes, stats.released);
        }
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
    let again = store.prune(6, reclaim).unwrap();
    assert_eq!((again.released, again.nodes), (0, 0));
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
    large_commits_and_prune(MemoryStore::new(), 11, Reclaim::Eager);
}

#[test]
fn large_commits_and_prune_redb() {
    let path = tmp_path("large.redb");
    large_commits_and_prune(RedbStore::open(&path).unwrap(), 12, Reclaim::Lazy);
    let _ = std::fs::remove_file(&path);
}

/// Records a trie with exactly `model`'s contents stores: what a retained version needs.
fn needed_records(model: &BTreeMap<Vec<u8>, Vec<u8>>) -> usize {
    let fresh = MemoryStore::new();
    let mut trie = Trie::new_in(fresh.clone(), NS);
    for (k, v) in model {
        trie.insert(k, v).unwrap();
    }
    trie.commit(1).unwrap();
    fresh.node_count().unwrap()
}

/// A chain-like history (a large first commit, then small ones), pruned after every commit
/// down to the latest version: lazily, the store never holds as many dead records as live
/// ones, some prunes release without rewriting anything and some compact; eagerly, it holds
/// exactly what the latest version needs.
fn lazy_prune_bounds_dead_records(store: impl NodeStore + Clone, node_count: impl Fn() -> usize) {
    const LAST: u64 = 30;
    let mut rng = Rng::new(31);
    let mut model = BTreeMap::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    for _ in 0..1500 {
        update(&mut rng, &mut trie, &mut model);
    }
    trie.commit(1).unwrap();
    let (mut lazy_only, mut compacted) = (0, 0);
    for version in 2..=LAST {
        for _ in 0..80 {
            update(&mut rng, &mut trie, &mut model);
        }
        trie.commit(version).unwrap();
        let stats = store.prune(version, Reclaim::Lazy).unwrap();
        assert!(stats.released > 0);
        match stats.nodes {
            0 => lazy_only += 1,
            _ => compacted += 1,
        }
        let needed = needed_records(&model);
        let held = node_count();
        assert!(
            (needed..2 * needed).contains(&held),
            "version {version}: {held} records held, {needed} needed"
        );
        let reopened = Trie::open(store.clone(), NS, version).unwrap();
        assert_eq!(contents(&reopened), model, "version {version}");
    }
    assert!(lazy_only > 0 && compacted > 0, "{lazy_only} / {compacted}");
    // Reclaiming eagerly now deletes the dead records lazy pruning left, and nothing else.
    let stats = store.prune(LAST, Reclaim::Eager).unwrap();
    assert_eq!(stats.released, 0, "everything was already released");
    assert!(stats.nodes > 0);
    assert_eq!(node_count(), needed_records(&model));
    assert_eq!(contents(&Trie::open(store, NS, LAST).unwrap()), model);
}

#[test]
fn lazy_prune_bounds_dead_records_memory() {
    let store = MemoryStore::new();
    let counted = store.clone();
    lazy_prune_bounds_dead_records(store, move || counted.node_count().unwrap());
}

#[test]
fn lazy_prune_bounds_dead_records_redb() {
    let path = tmp_path("lazy.redb");
    let store = RedbStore::open(&path).unwrap();
    let counted = store.clone();
    lazy_prune_bounds_dead_records(store, move || counted.node_count().unwrap());
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
    // Lazily: the few dead records of the large first commit are released, not yet deleted.
    let stats = store.prune(2, Reclaim::Lazy).unwrap();
    assert_eq!(
        (stats.released as usize, stats.nodes),
        (written, 0),
        "one record released per record rewritten"
    );
    assert_eq!(store.node_count().unwrap(), before + written);
    assert_eq!(contents(&Trie::open(store.clone(), NS, 2).unwrap()), model);
    let stats = store.prune(2, Reclaim::Eager).unwrap();
    assert_eq!((stats.released, stats.nodes as usize), (0, written));
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
    assert!(commit.batch.stale_count() > 0);
    for entry in &commit.batch.stale {
        assert!(entry
            .nodes
            .keys(&entry.namespace)
            .unwrap()
            .iter()
            .all(|key| key.version == 1));
    }
    store.write(&commit.batch).unwrap();
    trie.finish_commit(&commit).unwrap();
    assert_eq!(commit.root, alloy_root(&model));
    let reopened = Trie::open(store.clone(), NS, 3).unwrap();
    assert_eq!(contents(&reopened), model);
    // Pruning up to 3 keeps version 3 whole.
    store.prune(3, Reclaim::Eager).unwrap();
    assert_eq!(contents(&Trie::open(store.clone(), NS, 3).unwrap()), model);
    // An unchanged trie commits nothing new after that.
    let again = trie.prepare_commit(4).unwrap();
    assert!(again.batch.nodes.is_empty());
}

/// A commit's records as `(path, record)`, sorted: what it writes, whatever the order.
fn records(commit: &TrieCommit) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<_> = commit
        .batch
        .nodes
        .iter()
        .map(|(key, record)| (key.path.clone(), record.clone()))
        .collect();
    out.sort();
    out
}

/// A commit at the version after the confirmed one takes the records gathered while hashing;
/// any other commit walks the tree. Both must write exactly the same records and stale lists:
/// here one trie only hashes before its commits (it gathers), the other also hashes halfway
/// through each round of edits (its later edits void what it gathered, so it walks), over
/// rounds of every size (one above the parallel hashing threshold), a version gap and an
/// abandoned commit.
#[test]
fn gathered_records_equal_the_walked_ones() {
    let mut rng = Rng::new(77);
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut gathering = Trie::new_in(MemoryStore::new(), NS);
    let mut walking = Trie::new_in(MemoryStore::new(), NS);
    let rounds = [
        (1, 3000),
        (2, 500),
        (3, 25_000),
        (4, 1),
        (6, 40),
        (7, 2000),
        (8, 300),
    ];
    for (version, edits) in rounds {
        for i in 0..edits {
            let (key, value) = if !model.is_empty() && rng.below(4) == 0 {
                let keys: Vec<_> = model.keys().cloned().collect();
                (
                    keys[rng.below(keys.len() as u64) as usize].clone(),
                    Vec::new(),
                )
            } else {
                let len = 1 + rng.below(60) as usize;
                (rng.bytes(32), rng.bytes(len))
            };
            gathering.insert(&key, &value).unwrap();
            walking.insert(&key, &value).unwrap();
            if value.is_empty() {
                model.remove(&key);
            } else {
                model.insert(key, value);
            }
            if i == edits / 2 {
                walking.root();
            }
        }
        if version == 7 {
            // Prepared and never written: the next commit writes those nodes again.
            gathering.prepare_commit(version).unwrap();
            walking.prepare_commit(version).unwrap();
            let key = rng.bytes(32);
            gathering.insert(&key, b"late").unwrap();
            walking.insert(&key, b"late").unwrap();
            model.insert(key, b"late".to_vec());
        }
        let a = gathering.prepare_commit(version).unwrap();
        let b = walking.prepare_commit(version).unwrap();
        assert_eq!(a.root, alloy_root(&model), "version {version}");
        assert_eq!(a.root, b.root, "version {version}");
        assert!(!a.batch.nodes.is_empty());
        assert_eq!(records(&a), records(&b), "version {version}");
        assert_eq!(a.batch.stale, b.batch.stale, "version {version}");
        gathering.store().write(&a.batch).unwrap();
        walking.store().write(&b.batch).unwrap();
        gathering.finish_commit(&a).unwrap();
        walking.finish_commit(&b).unwrap();
    }
    let reopened = Trie::open(gathering.store().clone(), NS, 8).unwrap();
    assert_eq!(contents(&reopened), model);
}
