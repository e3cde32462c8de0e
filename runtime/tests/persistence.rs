//! Commits, reopening, atomicity of interrupted commits, pruning, rewinding, and missing or
//! corrupt nodes.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{alloy_root, Rng};
use tally_runtime::trie::{
    MemoryStore, Namespace, NodeKey, NodeStore, PruneStats, Reclaim, RedbStore, StoreError,
    StoredRoot, Trie, TrieError, WriteBatch,
};

const NS: Namespace = [3; 32];

fn tmp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tally-trie-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    dir
}

fn random_updates(
    rng: &mut Rng,
    trie: &mut Trie<impl NodeStore>,
    model: &mut BTreeMap<Vec<u8>, Vec<u8>>,
    n: usize,
) {
    for _ in 0..n {
        if !model.is_empty() && rng.below(4) == 0 {
            let keys: Vec<_> = model.keys().cloned().collect();
            let k = keys[rng.below(keys.len() as u64) as usize].clone();
            assert!(trie.delete(&k).unwrap());
            model.remove(&k);
        } else {
            let k = rng.bytes(32);
            let len = 1 + rng.below(64) as usize;
            let v = rng.bytes(len);
            trie.insert(&k, &v).unwrap();
            model.insert(k, v);
        }
    }
}

fn contents(trie: &Trie<impl NodeStore>) -> BTreeMap<Vec<u8>, Vec<u8>> {
    trie.iter().map(Result::unwrap).collect()
}

#[test]
fn redb_commit_reopen_and_read_old_roots() {
    let path = tmp_path("reopen.redb");
    let mut rng = Rng::new(1);
    let mut model = BTreeMap::new();
    let (root1, model1, root2) = {
        let store = RedbStore::open(&path).unwrap();
        let mut trie = Trie::new_in(store, NS);
        random_updates(&mut rng, &mut trie, &mut model, 300);
        let root1 = trie.commit(1).unwrap();
        let model1 = model.clone();
        random_updates(&mut rng, &mut trie, &mut model, 100);
        let root2 = trie.commit(2).unwrap();
        assert_eq!(root2, alloy_root(&model));
        (root1, model1, root2)
    };
    let store = RedbStore::open(&path).unwrap();
    let mut latest = Trie::open(store.clone(), NS, 2).unwrap();
    assert_eq!(latest.root(), root2);
    for (k, v) in &model {
        assert_eq!(latest.get(k).unwrap().as_ref(), Some(v));
    }
    assert_eq!(contents(&latest), model);
    let mut old = Trie::open(store.clone(), NS, 1).unwrap();
    assert_eq!(old.root(), root1);
    assert_eq!(contents(&old), model1);

    // Keep writing on top of lazily loaded nodes, then reopen again.
    random_updates(&mut rng, &mut latest, &mut model, 50);
    let root3 = latest.commit(3).unwrap();
    assert_eq!(root3, alloy_root(&model));
    drop(latest);
    let mut again = Trie::open(store, NS, 3).unwrap();
    assert_eq!(again.root(), root3);
    assert_eq!(contents(&again), model);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn interrupted_redb_commit_keeps_the_previous_root() {
    let path = tmp_path("interrupted.redb");
    let mut rng = Rng::new(2);
    let mut model = BTreeMap::new();
    let store = RedbStore::open(&path).unwrap();
    let mut trie = Trie::new_in(store.clone(), NS);
    random_updates(&mut rng, &mut trie, &mut model, 200);
    let root1 = trie.commit(1).unwrap();
    let committed = model.clone();
    random_updates(&mut rng, &mut trie, &mut model, 200);
    let pending = trie.prepare_commit(2).unwrap();
    assert!(!pending.batch.nodes.is_empty());
    // The write transaction is dropped before commit, as in a crash mid-write.
    store.write_then_abort(&pending.batch).unwrap();
    drop(trie);
    drop(store);

    let store = RedbStore::open(&path).unwrap();
    assert_eq!(store.root_at(&NS, u64::MAX).unwrap().map(|r| r.0), Some(1));
    let mut reopened = Trie::open(store, NS, u64::MAX).unwrap();
    assert_eq!(reopened.root(), root1);
    assert_eq!(contents(&reopened), committed);
    let _ = std::fs::remove_file(&path);
}

/// A store wrapper that can refuse writes or damage what it reads.
#[derive(Clone, Default)]
struct Faulty {
    inner: MemoryStore,
    fail_writes: Arc<AtomicBool>,
    corrupt_reads: Arc<AtomicBool>,
    lose_reads: Arc<AtomicBool>,
}

impl NodeStore for Faulty {
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError> {
        if self.lose_reads.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let mut record = self.inner.node(key)?;
        if self.corrupt_reads.load(Ordering::SeqCst) {
            if let Some(r) = &mut record {
                let last = r.len() - 1;
                r[last] ^= 0x01;
            }
        }
        Ok(record)
    }
    fn code(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.code(hash)
    }
    fn root_at(&self, ns: &Namespace, v: u64) -> Result<Option<(u64, StoredRoot)>, StoreError> {
        self.inner.root_at(ns, v)
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::WriteRefused("injected".into()));
        }
        self.inner.write(batch)
    }
    fn prune(&self, keep_from: u64, reclaim: Reclaim) -> Result<PruneStats, StoreError> {
        self.inner.prune(keep_from, reclaim)
    }
    fn kept_from(&self) -> Result<u64, StoreError> {
        self.inner.kept_from()
    }
    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        self.inner.rewind(to_version)
    }
}

#[test]
fn failed_write_leaves_previous_root_and_reports_an_error() {
    let store = Faulty::default();
    let mut rng = Rng::new(3);
    let mut model = BTreeMap::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    random_updates(&mut rng, &mut trie, &mut model, 100);
    let root1 = trie.commit(1).unwrap();
    random_updates(&mut rng, &mut trie, &mut model, 100);
    store.fail_writes.store(true, Ordering::SeqCst);
    assert!(matches!(
        trie.commit(2),
        Err(TrieError::Store(StoreError::WriteRefused(_)))
    ));
    store.fail_writes.store(false, Ordering::SeqCst);
    let mut reopened = Trie::open(store.clone(), NS, 2).unwrap();
    assert_eq!(reopened.root(), root1);
    // Retrying the same commit succeeds.
    let root2 = trie.commit(2).unwrap();
    assert_eq!(root2, alloy_root(&model));
    assert_eq!(contents(&Trie::open(store, NS, 2).unwrap()), model);
}

#[test]
fn missing_and_corrupt_nodes_are_errors() {
    let store = Faulty::default();
    let mut rng = Rng::new(4);
    let mut model = BTreeMap::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    random_updates(&mut rng, &mut trie, &mut model, 100);
    trie.commit(1).unwrap();
    let key = model.keys().next().unwrap().clone();

    let fresh = Trie::open(store.clone(), NS, 1).unwrap();
    store.corrupt_reads.store(true, Ordering::SeqCst);
    assert!(matches!(
        fresh.get(&key),
        Err(TrieError::CorruptNode { .. })
    ));
    let mut fresh2 = Trie::open(store.clone(), NS, 1).unwrap();
    assert!(matches!(
        fresh2.insert(&key, b"x"),
        Err(TrieError::CorruptNode { .. })
    ));
    assert!(fresh.iter().any(|e| e.is_err()));
    store.corrupt_reads.store(false, Ordering::SeqCst);

    store.lose_reads.store(true, Ordering::SeqCst);
    assert!(matches!(
        fresh.get(&key),
        Err(TrieError::MissingNode { version: 1, .. })
    ));
    let mut fresh3 = Trie::open(store.clone(), NS, 1).unwrap();
    assert!(matches!(
        fresh3.proof(&key),
        Err(TrieError::MissingNode { .. })
    ));
    assert!(matches!(
        fresh3.delete(&key),
        Err(TrieError::MissingNode { .. })
    ));
    store.lose_reads.store(false, Ordering::SeqCst);
    assert_eq!(fresh.get(&key).unwrap().as_ref(), model.get(&key));
    assert!(matches!(
        Trie::open(store, NS, 0),
        Err(TrieError::MissingRoot(0))
    ));
}

#[test]
fn versions_must_increase_and_prepared_commits_are_invalidated_by_changes() {
    let mut trie = Trie::new(MemoryStore::new());
    trie.insert(b"k", b"v").unwrap();
    trie.commit(5).unwrap();
    assert!(matches!(
        trie.commit(5),
        Err(TrieError::VersionNotIncreasing {
            requested: 5,
            last: 5
        })
    ));
    // The largest version marks "none" in the node tree: not a commit version.
    assert!(matches!(
        trie.commit(u64::MAX),
        Err(TrieError::VersionOutOfRange(u64::MAX))
    ));
    let prepared = trie.prepare_commit(6).unwrap();
    trie.insert(b"k2", b"v2").unwrap();
    assert!(matches!(
        trie.finish_commit(&prepared),
        Err(TrieError::CommitInvalidated)
    ));
}

fn check_prune(store: impl NodeStore + Clone, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut model = BTreeMap::new();
    let mut snapshots = Vec::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    // A second trie in another namespace sharing the store, committed less often.
    let mut other = Trie::new_in(store.clone(), [9; 32]);
    other.insert(b"other", b"trie").unwrap();
    other.commit(1).unwrap();
    for version in 1..=8u64 {
        random_updates(&mut rng, &mut trie, &mut model, 60);
        let root = trie.commit(version).unwrap();
        snapshots.push((version, root, model.clone()));
    }
    let stats = store.prune(5, Reclaim::Eager).unwrap();
    assert!(stats.released > 0, "superseded nodes were released");
    assert_eq!(stats.nodes, stats.released, "and all deleted at once");
    assert!(stats.roots >= 4);
    for (version, root, snapshot) in &snapshots {
        if *version >= 5 {
            let mut t = Trie::open(store.clone(), NS, *version).unwrap();
            assert_eq!(t.root(), *root);
            assert_eq!(&contents(&t), snapshot, "version {version} fully readable");
        } else {
            assert!(matches!(
                Trie::open(store.clone(), NS, *version),
                Err(TrieError::MissingRoot(_))
            ));
        }
    }
    // The other namespace's only root is older than 5 but still current at 5.
    let other = Trie::open(store.clone(), [9; 32], 8).unwrap();
    assert_eq!(other.get(b"other").unwrap(), Some(b"trie".to_vec()));
    // Pruning everything but the latest keeps the latest readable.
    store.prune(8, Reclaim::Lazy).unwrap();
    let t = Trie::open(store, NS, 8).unwrap();
    assert_eq!(contents(&t), model);
}

#[test]
fn prune_keeps_exactly_what_retained_versions_need_memory() {
    check_prune(MemoryStore::new(), 5);
}

#[test]
fn prune_keeps_exactly_what_retained_versions_need_redb() {
    let path = tmp_path("prune.redb");
    check_prune(RedbStore::open(&path).unwrap(), 6);
    let _ = std::fs::remove_file(&path);
}

/// Commits versions 1..=6, rewinds to 3, commits other versions 4..=6 over it and prunes:
/// the rewound store reads as it did at 3, the new versions read as committed, and the stale
/// index holds nothing of the abandoned versions (otherwise the prune would delete live nodes).
fn check_rewind(store: impl NodeStore + Clone, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut model = BTreeMap::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    let mut other = Trie::new_in(store.clone(), [9; 32]);
    other.insert(b"other", b"trie").unwrap();
    other.commit(2).unwrap();
    let mut snapshots = Vec::new();
    for version in 1..=6u64 {
        random_updates(&mut rng, &mut trie, &mut model, 60);
        snapshots.push((trie.commit(version).unwrap(), model.clone()));
        if version == 5 {
            other.insert(b"later", b"write").unwrap();
            other.commit(5).unwrap();
        }
    }
    let stats = store.rewind(3).unwrap();
    assert!(stats.nodes > 0);
    // Versions 4, 5 and 6 of NS and version 5 of the other namespace.
    assert_eq!(stats.roots, 4);
    assert_eq!(store.root_at(&NS, u64::MAX).unwrap().map(|r| r.0), Some(3));
    let other = Trie::open(store.clone(), [9; 32], u64::MAX).unwrap();
    assert_eq!(other.get(b"later").unwrap(), None);
    assert_eq!(
        store.rewind(3).unwrap(),
        PruneStats::default(),
        "idempotent"
    );

    let mut trie = Trie::open(store.clone(), NS, 3).unwrap();
    assert_eq!(trie.root(), snapshots[2].0);
    let mut model = snapshots[2].1.clone();
    assert_eq!(contents(&trie), model);
    let mut replaced = Vec::new();
    for version in 4..=6u64 {
        random_updates(&mut rng, &mut trie, &mut model, 60);
        replaced.push((version, trie.commit(version).unwrap(), model.clone()));
    }
    assert_eq!(store.kept_from().unwrap(), 0, "never pruned");
    store.prune(4, Reclaim::Lazy).unwrap();
    assert_eq!(store.kept_from().unwrap(), 4);
    // Pruning to an older version does not move the pruning point back.
    store.prune(2, Reclaim::Lazy).unwrap();
    assert_eq!(store.kept_from().unwrap(), 4);
    // Below the pruning point a rewind is refused, and changes nothing.
    assert!(matches!(
        store.rewind(3),
        Err(StoreError::RewindPastPrune {
            to_version: 3,
            kept_from: 4
        })
    ));
    for (version, root, snapshot) in &replaced {
        let mut t = Trie::open(store.clone(), NS, *version).unwrap();
        assert_eq!(t.root(), *root, "version {version}");
        assert_eq!(&contents(&t), snapshot, "version {version}");
    }
    store.prune(6, Reclaim::Eager).unwrap();
    let (_, root, latest) = replaced.last().unwrap();
    let mut t = Trie::open(store.clone(), NS, 6).unwrap();
    assert_eq!((t.root(), contents(&t)), (*root, latest.clone()));
}

#[test]
fn rewind_forgets_later_versions_memory() {
    check_rewind(MemoryStore::new(), 21);
    // Rewinding an unpruned store to before everything empties it.
    let store = MemoryStore::new();
    let mut trie = Trie::new_in(store.clone(), NS);
    for version in 1..=3u64 {
        trie.insert(&version.to_be_bytes(), &[7; 40]).unwrap();
        trie.commit(version).unwrap();
    }
    assert!(store.node_count().unwrap() > 0);
    store.rewind(0).unwrap();
    assert_eq!(store.node_count().unwrap(), 0);
    assert_eq!(store.root_at(&NS, u64::MAX).unwrap(), None);
}

#[test]
fn rewind_forgets_later_versions_redb() {
    let path = tmp_path("rewind.redb");
    check_rewind(RedbStore::open(&path).unwrap(), 22);
    // Durable: a reopened database has no version after 6.
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(store.root_at(&NS, u64::MAX).unwrap().map(|r| r.0), Some(6));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn unchanged_trie_commits_write_no_nodes() {
    let store = MemoryStore::new();
    let mut trie = Trie::new(store.clone());
    for i in 0u32..50 {
        trie.insert(&i.to_be_bytes(), &[1; 40]).unwrap();
    }
    trie.commit(1).unwrap();
    let count = store.node_count().unwrap();
    trie.insert(&7u32.to_be_bytes(), &[1; 40]).unwrap();
    let prepared = trie.prepare_commit(2).unwrap();
    assert!(prepared.batch.nodes.is_empty());
    assert_eq!(prepared.batch.stale_count(), 0);
    // A single change rewrites only its path.
    trie.insert(&7u32.to_be_bytes(), &[2; 40]).unwrap();
    let prepared = trie.prepare_commit(3).unwrap();
    assert!(
        prepared.batch.nodes.len() <= 4,
        "{}",
        prepared.batch.nodes.len()
    );
    assert_eq!(prepared.batch.nodes.len(), prepared.batch.stale_count());
    assert_eq!(store.node_count().unwrap(), count);
}
