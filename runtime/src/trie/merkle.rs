//! [`Trie`]: the Merkle-Patricia trie's public face — lookups, inserts and deletes on a lazily
//! loaded node tree (edits in `edit`), incremental root hashing (`hashing`), and two-phase
//! commits to a [`NodeStore`].

use super::codec::{Hash, EMPTY_ROOT};
use super::edit::{delete_node, insert_node, load_node, Ctx, Deleted};
use super::error::TrieError;
use super::hashing::{hash_root, Collect, Records};
use super::nibbles::unpack_small;
use super::node::{Node, Slot};
use super::store::{Namespace, NodeKey, NodeStore, StaleEntry, StaleNodes, StoredRoot, WriteBatch};

/// Above this many changes since the last root, [`Trie::root`] hashes the root's subtrees on
/// several threads (the result does not depend on it).
const PARALLEL_THRESHOLD: usize = 20_000;

/// An Ethereum-compatible Merkle-Patricia trie over a [`NodeStore`].
///
/// Keys and values are arbitrary byte strings; an empty value is the same as no value (as in
/// Ethereum). Changes stay in memory until [`Trie::commit`], which writes every new node once.
#[derive(Debug)]
pub struct Trie<S: NodeStore> {
    store: S,
    namespace: Namespace,
    /// The root node's slot (empty for the empty trie).
    root: Slot,
    /// Stored nodes superseded since the last commit.
    stale: StaleNodes,
    /// Last committed (or opened) version. Slot versions above it belong to a prepared commit
    /// that was not finished, so they do not count as stored.
    version: Option<u64>,
    /// Changes since the root was last hashed.
    changes: usize,
    /// Version of a prepared but not yet finished commit; cleared by any change.
    pending: Option<u64>,
    /// Records of the new nodes, gathered while hashing for a commit at the version after the
    /// confirmed one (see `hashing`). `None` when the list may not cover every unstored node
    /// (no confirmed version yet, an edit after a hash that gathered, a prepared commit not
    /// finished): the commit then walks the tree instead.
    gathered: Option<Records>,
}

/// The output of [`Trie::prepare_commit`]: the root and the writes that make it durable.
#[derive(Clone, Debug)]
pub struct TrieCommit {
    /// The committed root hash.
    pub root: Hash,
    /// The commit version.
    pub version: u64,
    /// Nodes, stale-index entries and the root record to write (atomically).
    pub batch: WriteBatch,
}

impl<S: NodeStore> Trie<S> {
    /// An empty trie in the default (all-zero) namespace.
    pub fn new(store: S) -> Self {
        Self::new_in(store, [0; 32])
    }

    /// An empty trie in `namespace`.
    pub fn new_in(store: S, namespace: Namespace) -> Self {
        Self {
            store,
            namespace,
            root: Slot::default(),
            stale: StaleNodes::default(),
            version: None,
            changes: 0,
            pending: None,
            gathered: None,
        }
    }

    /// Opens the trie of `namespace` as of `version` (its latest root committed at or before it).
    pub fn open(store: S, namespace: Namespace, version: u64) -> Result<Self, TrieError> {
        let (at, root) = store
            .root_at(&namespace, version)?
            .ok_or(TrieError::MissingRoot(version))?;
        let mut trie = Self::from_root(store, namespace, root);
        trie.version = Some(at.max(version));
        trie.gathered = Some(Vec::new());
        Ok(trie)
    }

    /// Opens the trie whose root is `root` (e.g. a storage root read from an account).
    pub fn from_root(store: S, namespace: Namespace, root: StoredRoot) -> Self {
        let mut trie = Self::new_in(store, namespace);
        trie.version = root.node_version;
        if let Some(v) = root.node_version {
            trie.root = Slot::stub(root.hash, v);
            trie.gathered = Some(Vec::new());
        }
        trie
    }

    /// The store this trie reads from and commits to.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The namespace of this trie in its store.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The last version committed or opened, if any.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// Whether the trie holds no keys.
    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
    }

    pub(crate) fn root_slot(&self) -> &Slot {
        &self.root
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        let key = unpack_small(key);
        let mut path = Vec::with_capacity(key.len() + 1);
        self.get_in(&self.root, &mut path, &key)
    }

    fn get_in(
        &self,
        slot: &Slot,
        path: &mut Vec<u8>,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, TrieError> {
        let loaded;
        let node = match (&slot.node, slot.cache.and_then(|r| r.as_hash().copied())) {
            (Some(node), _) => node,
            (None, None) => return Ok(None),
            (None, Some(hash)) => {
                let version = slot.version.get().unwrap_or_default();
                loaded = load_node(&self.store, &self.namespace, version, path, &hash)?;
                &loaded
            }
        };
        match node {
            Node::Leaf(leaf) => Ok((leaf.path.as_slice() == key).then(|| leaf.value.to_vec())),
            Node::Extension(ext) => {
                if !key.starts_with(&ext.path) {
                    return Ok(None);
                }
                path.extend_from_slice(&ext.path);
                self.get_in(&ext.child, path, &key[ext.path.len()..])
            }
            Node::Branch(branch) => match key.split_first() {
                None => Ok(branch.value.clone()),
                Some((&i, rest)) => {
                    path.push(i);
                    self.get_in(&branch.children[usize::from(i)], path, rest)
                }
            },
        }
    }

    /// Sets `key` to `value`. An empty `value` deletes the key.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<(), TrieError> {
        if value.is_empty() {
            return self.delete(key).map(|_| ());
        }
        let key = unpack_small(key);
        let mut ctx = Ctx {
            store: &self.store,
            namespace: &self.namespace,
            stale: &mut self.stale,
            confirmed: self.version,
        };
        let mut path = Vec::with_capacity(key.len() + 1);
        let changed = insert_node(&mut ctx, &mut self.root, &mut path, &key, value)?;
        if changed {
            self.changes += 1;
            self.pending = None;
        }
        Ok(())
    }

    /// Sets each key to its value in order (an empty value deletes it): the same result as
    /// [`Trie::insert`] for each entry, faster for many keys in a large loaded trie, whose
    /// paths are first walked together so that their cache misses overlap.
    pub fn insert_batch<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        entries: &[(K, V)],
    ) -> Result<(), TrieError> {
        super::warm::warm_paths(&self.root, entries.iter().map(|(k, _)| k.as_ref()));
        for (key, value) in entries {
            self.insert(key.as_ref(), value.as_ref())?;
        }
        Ok(())
    }

    /// Removes `key`; returns whether it was present.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, TrieError> {
        let key = unpack_small(key);
        let mut ctx = Ctx {
            store: &self.store,
            namespace: &self.namespace,
            stale: &mut self.stale,
            confirmed: self.version,
        };
        let mut path = Vec::with_capacity(key.len() + 1);
        let outcome = delete_node(&mut ctx, &mut self.root, &mut path, &key)?;
        if outcome == Deleted::Removed {
            self.root = Slot::default();
        }
        let changed = outcome != Deleted::Unchanged;
        if changed {
            self.changes += 1;
            self.pending = None;
        }
        Ok(changed)
    }

    /// The root hash, re-hashing only nodes changed since the last call.
    pub fn root(&mut self) -> Hash {
        let changes = std::mem::take(&mut self.changes);
        if changes > 0 && self.gathered.as_ref().is_some_and(|g| !g.is_empty()) {
            // Edits since the records were gathered may have replaced some of their nodes.
            self.gathered = None;
        }
        let gather = self.gathered.as_ref().and(self.next_version());
        let parallel = changes >= PARALLEL_THRESHOLD;
        let (r, mut records) = hash_root(&mut self.root, self.version, gather, parallel);
        if let Some(gathered) = &mut self.gathered {
            gathered.append(&mut records);
        }
        r.map_or(EMPTY_ROOT, |r| r.node_hash())
    }

    /// Hashes the trie and collects everything a commit at `version` must write, without
    /// changing what the trie considers stored. Write `commit.batch` (possibly together with
    /// other tries' batches) atomically, then call [`Trie::finish_commit`]. If the write fails,
    /// drop this trie and reopen it from the store.
    pub fn prepare_commit(&mut self, version: u64) -> Result<TrieCommit, TrieError> {
        if version == u64::MAX {
            return Err(TrieError::VersionOutOfRange(version));
        }
        if let Some(last) = self.version {
            if version <= last {
                return Err(TrieError::VersionNotIncreasing {
                    requested: version,
                    last,
                });
            }
        }
        let root = self.root();
        let mut batch = WriteBatch::default();
        let gathered = self.gathered.take();
        let node_version = if self.root.is_empty() {
            None
        } else if let Some(records) = gathered.filter(|_| self.gathered_for(version)) {
            batch.nodes = records
                .into_iter()
                .map(|(path, record)| {
                    let key = NodeKey {
                        namespace: self.namespace,
                        version,
                        path,
                    };
                    (key, record)
                })
                .collect();
            self.root.version.get()
        } else {
            let mut ctx = Collect {
                namespace: &self.namespace,
                version,
                confirmed: self.version,
                buf: Vec::with_capacity(600),
                out: &mut batch.nodes,
            };
            ctx.collect(&mut self.root, &mut Vec::new(), true);
            self.root.version.get()
        };
        if !self.stale.is_empty() {
            batch.stale.push(StaleEntry {
                since: version,
                namespace: self.namespace,
                nodes: self.stale.clone(),
            });
        }
        batch.roots.push((
            self.namespace,
            version,
            StoredRoot {
                hash: root,
                node_version,
            },
        ));
        self.pending = Some(version);
        Ok(TrieCommit {
            root,
            version,
            batch,
        })
    }

    /// Records that `commit` was durably written: its nodes now count as stored.
    pub fn finish_commit(&mut self, commit: &TrieCommit) -> Result<(), TrieError> {
        if self.pending != Some(commit.version) {
            return Err(TrieError::CommitInvalidated);
        }
        self.gathered = Some(Vec::new());
        // Every node the commit wrote carries its version, which now counts as confirmed.
        self.stale.clear();
        self.version = Some(commit.version);
        self.pending = None;
        Ok(())
    }

    /// The version after the confirmed one: the commit records are gathered for.
    fn next_version(&self) -> Option<u64> {
        self.version.and_then(|v| v.checked_add(1))
    }

    /// Whether the gathered records are exactly what a commit at `version` writes: they were
    /// gathered for it, and the root is stored, or hashed (and so gathered) rather than embedded.
    fn gathered_for(&self, version: u64) -> bool {
        self.next_version() == Some(version)
            && (self.root.is_hashed() || self.root.stored_at(self.version).is_some())
    }

    /// Prepares, writes and finishes a commit at `version`; returns the root.
    pub fn commit(&mut self, version: u64) -> Result<Hash, TrieError> {
        let commit = self.prepare_commit(version)?;
        self.store.write(&commit.batch)?;
        self.finish_commit(&commit)?;
        Ok(commit.root)
    }
}
