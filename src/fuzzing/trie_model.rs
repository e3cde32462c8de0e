//! `trie_model`: arbitrary insert, delete, lookup, proof, root, commit, abandoned-commit, reopen,
//! old-version and prune sequences on a [`Trie`] (over the memory or the redb store), against a
//! `BTreeMap` model.
//!
//! Oracles: every lookup, delete result and proven value agrees with the model; every root
//! equals the root computed from scratch (`ordered_root` of the model, and a new trie holding
//! the model); a reopened trie and every old version still readable hold exactly what the
//! model held then; nothing panics and no store or trie operation fails.

use std::collections::BTreeMap;
use std::sync::Arc;

use arbitrary::{Result, Unstructured};
use tally_runtime::trie::{
    ordered_root_on, verify_proof, Hash, MemoryStore, Namespace, NodeStore, Reclaim, RedbStore,
    Trie,
};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Key bytes: few, so keys share long prefixes and are often prefixes of one another.
const KEY_BYTES: [u8; 6] = [0x00, 0x01, 0x10, 0x12, 0xab, 0xff];
const NAMESPACE: Namespace = [7; 32];

/// Runs one input; panics when an oracle fails.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(on_redb) = u.arbitrary::<bool>() else {
        return;
    };
    if on_redb {
        let backend = redb::backends::InMemoryBackend::new();
        let db = match redb::Database::builder().create_with_backend(backend) {
            Ok(db) => db,
            Err(e) => panic!("in-memory redb: {e}"),
        };
        let mut store = RedbStore::with_database(Arc::new(db)).unwrap_or_else(|e| panic!("{e}"));
        store.set_durable(false);
        Session::new(store).run(&mut u);
    } else {
        Session::new(MemoryStore::new()).run(&mut u);
    }
}

/// A trie, its model, and the models of the versions committed so far.
struct Session<S: NodeStore + Clone> {
    store: S,
    trie: Trie<S>,
    model: Model,
    /// Every committed version with the model it committed, in order.
    history: Vec<(u64, Model)>,
    /// Versions below this may have been pruned.
    keep_from: u64,
}

impl<S: NodeStore + Clone> Session<S> {
    fn new(store: S) -> Self {
        Session {
            trie: Trie::new_in(store.clone(), NAMESPACE),
            store,
            model: Model::new(),
            history: Vec::new(),
            keep_from: 0,
        }
    }

    fn version(&self) -> u64 {
        self.history.last().map_or(0, |(v, _)| *v)
    }

    fn run(mut self, u: &mut Unstructured<'_>) {
        while let Ok(done) = self.step(u) {
            if done {
                break;
            }
        }
        self.check_root();
        self.check_contents(&self.trie, &self.model);
    }

    /// One operation; `Ok(true)` when the input asks to stop.
    fn step(&mut self, u: &mut Unstructured<'_>) -> Result<bool> {
        match u.int_in_range(0..=15)? {
            0..=4 => {
                let (key, value) = (key(u)?, value(u)?);
                ok(self.trie.insert(&key, &value));
                if value.is_empty() {
                    self.model.remove(&key);
                } else {
                    self.model.insert(key.clone(), value);
                }
                self.check_get(&key);
            }
            5 | 6 => {
                let key = key(u)?;
                let existed = self.model.remove(&key).is_some();
                assert_eq!(ok(self.trie.delete(&key)), existed, "delete of {key:02x?}");
                self.check_get(&key);
            }
            7 => self.check_get(&key(u)?),
            8 => {
                let key = key(u)?;
                let root = self.trie.root();
                let proof = ok(self.trie.proof(&key));
                let proven = verify_proof(&root, &key, &proof);
                assert_eq!(
                    proven,
                    Ok(self.model.get(&key).cloned()),
                    "proof of {key:02x?}"
                );
            }
            9 => self.check_root(),
            10 | 11 => {
                let gap = u.int_in_range(1..=3)?;
                self.commit(gap);
            }
            12 => {
                // A prepared commit that is never written: the next one must still be complete.
                let version = self.version() + 1;
                ok(self.trie.prepare_commit(version));
            }
            13 => {
                self.commit(1);
                let version = self.version();
                self.trie = ok(Trie::open(self.store.clone(), NAMESPACE, version));
                self.check_contents(&self.trie, &self.model);
            }
            14 => self.open_old(u)?,
            _ => self.prune(u)?,
        }
        Ok(u.is_empty())
    }

    fn check_get(&self, key: &[u8]) {
        assert_eq!(
            ok(self.trie.get(key)),
            self.model.get(key).cloned(),
            "get of {key:02x?}"
        );
    }

    fn check_root(&mut self) {
        assert_eq!(self.trie.root(), scratch_root(&self.model), "root");
    }

    /// The trie holds exactly `model`, in key order, with its root.
    fn check_contents(&self, trie: &Trie<S>, model: &Model) {
        let listed: Model = trie.iter().map(ok).collect();
        assert_eq!(&listed, model, "contents");
    }

    fn commit(&mut self, gap: u64) {
        let version = self.version() + gap;
        let root = ok(self.trie.commit(version));
        assert_eq!(root, scratch_root(&self.model), "committed root");
        self.history.push((version, self.model.clone()));
    }

    /// Opens a version at or above the pruning point and compares it with its model.
    fn open_old(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let last = self.version();
        if last == 0 || self.keep_from > last {
            return Ok(());
        }
        let version = u.int_in_range(self.keep_from.max(1)..=last)?;
        let Some((_, model)) = self.history.iter().rev().find(|(v, _)| *v <= version) else {
            return Ok(());
        };
        let mut old = ok(Trie::open(self.store.clone(), NAMESPACE, version));
        self.check_contents(&old, model);
        assert_eq!(old.root(), scratch_root(model), "root of version {version}");
        Ok(())
    }

    /// Prunes below a committed version, then checks the latest commit is fully readable.
    fn prune(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        if self.history.is_empty() {
            return Ok(());
        }
        let index = u.choose_index(self.history.len())?;
        let keep_from = self.history[index].0.max(self.keep_from);
        let reclaim = match u.arbitrary()? {
            true => Reclaim::Eager,
            false => Reclaim::Lazy,
        };
        ok(self.store.prune(keep_from, reclaim));
        self.keep_from = keep_from;
        let (version, model) = self.history.last().cloned().unwrap_or_default();
        let latest = ok(Trie::open(self.store.clone(), NAMESPACE, version));
        self.check_contents(&latest, &model);
        Ok(())
    }
}

fn key(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=5)?;
    (0..len).map(|_| Ok(*u.choose(&KEY_BYTES)?)).collect()
}

fn value(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=40)?;
    Ok(u.bytes(len)?.to_vec())
}

/// The root of `model` computed without the trie under test's history: by `ordered_root`, and
/// by a new trie inserting everything at once (the two must agree).
fn scratch_root(model: &Model) -> Hash {
    let entries: Vec<(&Vec<u8>, &Vec<u8>)> = model.iter().collect();
    let ordered = ordered_root_on(&entries, 1);
    let mut fresh = Trie::new(MemoryStore::new());
    for (key, value) in model {
        ok(fresh.insert(key, value));
    }
    assert_eq!(
        fresh.root(),
        ordered,
        "ordered_root and a fresh trie disagree"
    );
    ordered
}

/// The value of a trie or store operation, which must not fail on a healthy store.
fn ok<T, E: std::fmt::Display>(result: std::result::Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("trie operation failed: {e}"))
}
