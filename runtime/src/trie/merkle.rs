//! [`Trie`]: the Merkle-Patricia trie itself — lookups, inserts and deletes (with node
//! collapsing) on a lazily loaded node tree, incremental root hashing, and two-phase commits.

use super::codec::{encode_branch, encode_extension, encode_leaf, Hash, NodeRef, EMPTY_ROOT};
use super::error::{path_hex, TrieError};
use super::nibbles::{common_prefix_len, unpack};
use super::node::{decode_record, encode_record, Kind, Node};
use super::store::{Namespace, NodeKey, NodeStore, StoredRoot, WriteBatch};

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
    root: Option<Box<Node>>,
    /// Stored nodes superseded since the last commit.
    stale: Vec<NodeKey>,
    /// Last committed (or opened) version.
    version: Option<u64>,
    /// Changes since the root was last hashed.
    changes: usize,
    /// Version of a prepared but not yet finished commit; cleared by any change.
    pending: Option<u64>,
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

/// Context for operations that may load nodes and supersede stored ones.
struct Ctx<'a, S> {
    store: &'a S,
    namespace: &'a Namespace,
    stale: &'a mut Vec<NodeKey>,
}

impl<S: NodeStore> Ctx<'_, S> {
    /// Marks a node as changed: drops its cached reference and, if it was stored on its own,
    /// records its old key as superseded.
    fn touch(&mut self, cache: &mut Option<NodeRef>, stored: &mut Option<u64>, path: &[u8]) {
        *cache = None;
        if let Some(version) = stored.take() {
            self.stale.push(NodeKey {
                namespace: *self.namespace,
                version,
                path: path.to_vec(),
            });
        }
    }

    /// Loads a stub in place.
    fn resolve(&self, node: &mut Box<Node>, path: &[u8]) -> Result<(), TrieError> {
        if let Kind::Stub(hash) = node.kind {
            let version = node.stored.unwrap_or_default();
            *node = load_node(self.store, self.namespace, version, path, &hash)?;
        }
        Ok(())
    }
}

/// Reads, verifies and decodes the node stored at `(namespace, version, path)` with hash `hash`.
pub(crate) fn load_node<S: NodeStore>(
    store: &S,
    namespace: &Namespace,
    version: u64,
    path: &[u8],
    hash: &Hash,
) -> Result<Box<Node>, TrieError> {
    let key = NodeKey {
        namespace: *namespace,
        version,
        path: path.to_vec(),
    };
    let record = store.node(&key)?.ok_or_else(|| TrieError::MissingNode {
        version,
        path: path_hex(path),
    })?;
    let corrupt = |reason: String| TrieError::CorruptNode {
        version,
        path: path_hex(path),
        reason,
    };
    let (versions, rlp) = decode_record(&record).map_err(corrupt)?;
    if super::codec::keccak256(rlp) != *hash {
        return Err(corrupt("hash mismatch".into()));
    }
    let mut versions_iter = versions.iter().copied();
    let node = Node::from_rlp(rlp, NodeRef::hash(*hash), Some(version), &mut versions_iter)
        .map_err(corrupt)?;
    if versions_iter.next().is_some() {
        return Err(corrupt("record lists too many child versions".into()));
    }
    Ok(node)
}

/// What a delete did to a node.
#[derive(PartialEq, Eq)]
enum Deleted {
    Unchanged,
    Changed,
    Removed,
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
            root: None,
            stale: Vec::new(),
            version: None,
            changes: 0,
            pending: None,
        }
    }

    /// Opens the trie of `namespace` as of `version` (its latest root committed at or before it).
    pub fn open(store: S, namespace: Namespace, version: u64) -> Result<Self, TrieError> {
        let (at, root) = store
            .root_at(&namespace, version)?
            .ok_or(TrieError::MissingRoot(version))?;
        let mut trie = Self::from_root(store, namespace, root);
        trie.version = Some(at.max(version));
        Ok(trie)
    }

    /// Opens the trie whose root is `root` (e.g. a storage root read from an account).
    pub fn from_root(store: S, namespace: Namespace, root: StoredRoot) -> Self {
        let mut trie = Self::new_in(store, namespace);
        trie.version = root.node_version;
        if let Some(v) = root.node_version {
            trie.root = Some(Node::stub(root.hash, v));
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
        self.root.is_none()
    }

    pub(crate) fn root_node(&self) -> Option<&Node> {
        self.root.as_deref()
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        match &self.root {
            None => Ok(None),
            Some(root) => {
                let mut path = Vec::new();
                self.get_in(root, &mut path, &unpack(key))
            }
        }
    }

    fn get_in(
        &self,
        node: &Node,
        path: &mut Vec<u8>,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, TrieError> {
        match &node.kind {
            Kind::Leaf { path: p, value } => Ok((p == key).then(|| value.clone())),
            Kind::Extension { path: p, child } => {
                if !key.starts_with(p) {
                    return Ok(None);
                }
                path.extend_from_slice(p);
                self.get_in(child, path, &key[p.len()..])
            }
            Kind::Branch { children, value } => match key.split_first() {
                None => Ok(value.clone()),
                Some((&i, rest)) => match &children[usize::from(i)] {
                    None => Ok(None),
                    Some(child) => {
                        path.push(i);
                        self.get_in(child, path, rest)
                    }
                },
            },
            Kind::Stub(hash) => {
                let version = node.stored.unwrap_or_default();
                let loaded = load_node(&self.store, &self.namespace, version, path, hash)?;
                self.get_in(&loaded, path, key)
            }
        }
    }

    /// Sets `key` to `value`. An empty `value` deletes the key.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<(), TrieError> {
        if value.is_empty() {
            return self.delete(key).map(|_| ());
        }
        let key = unpack(key);
        let mut ctx = Ctx {
            store: &self.store,
            namespace: &self.namespace,
            stale: &mut self.stale,
        };
        let changed = match &mut self.root {
            None => {
                self.root = Some(Node::leaf(key, value.to_vec()));
                true
            }
            Some(root) => insert_node(&mut ctx, root, &mut Vec::new(), &key, value)?,
        };
        if changed {
            self.changes += 1;
            self.pending = None;
        }
        Ok(())
    }

    /// Removes `key`; returns whether it was present.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, TrieError> {
        let key = unpack(key);
        let mut ctx = Ctx {
            store: &self.store,
            namespace: &self.namespace,
            stale: &mut self.stale,
        };
        let outcome = match &mut self.root {
            None => Deleted::Unchanged,
            Some(root) => delete_node(&mut ctx, root, &mut Vec::new(), &key)?,
        };
        if outcome == Deleted::Removed {
            self.root = None;
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
        let parallel = self.changes >= PARALLEL_THRESHOLD;
        self.changes = 0;
        match &mut self.root {
            None => EMPTY_ROOT,
            Some(root) => if parallel {
                hash_parallel(root)
            } else {
                hash_node(root, &mut Vec::with_capacity(600))
            }
            .node_hash(),
        }
    }

    /// Hashes the trie and collects everything a commit at `version` must write, without
    /// changing what the trie considers stored. Write `commit.batch` (possibly together with
    /// other tries' batches) atomically, then call [`Trie::finish_commit`]. If the write fails,
    /// drop this trie and reopen it from the store.
    pub fn prepare_commit(&mut self, version: u64) -> Result<TrieCommit, TrieError> {
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
        let node_version = match &mut self.root {
            None => None,
            Some(node) => {
                let mut ctx = Collect {
                    namespace: &self.namespace,
                    version,
                    buf: Vec::with_capacity(600),
                    out: &mut batch.nodes,
                };
                Some(ctx.collect(node, &mut Vec::new(), true))
            }
        };
        batch.stale = self.stale.iter().map(|k| (version, k.clone())).collect();
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
        if let Some(root) = &mut self.root {
            mark_stored(root, commit.version, true);
        }
        self.stale.clear();
        self.version = Some(commit.version);
        self.pending = None;
        Ok(())
    }

    /// Prepares, writes and finishes a commit at `version`; returns the root.
    pub fn commit(&mut self, version: u64) -> Result<Hash, TrieError> {
        let commit = self.prepare_commit(version)?;
        self.store.write(&commit.batch)?;
        self.finish_commit(&commit)?;
        Ok(commit.root)
    }
}

fn insert_node<S: NodeStore>(
    ctx: &mut Ctx<'_, S>,
    node: &mut Box<Node>,
    path: &mut Vec<u8>,
    key: &[u8],
    value: &[u8],
) -> Result<bool, TrieError> {
    ctx.resolve(node, path)?;
    let Node {
        kind,
        cache,
        stored,
    } = &mut **node;
    match kind {
        Kind::Leaf {
            path: leaf_path,
            value: leaf_value,
        } => {
            if leaf_path.as_slice() == key {
                if leaf_value.as_slice() == value {
                    return Ok(false);
                }
                ctx.touch(cache, stored, path);
                *leaf_value = value.to_vec();
                return Ok(true);
            }
            ctx.touch(cache, stored, path);
            let common = common_prefix_len(leaf_path, key);
            let mut branch = Node::empty_branch();
            place(
                &mut branch,
                &leaf_path[common..],
                std::mem::take(leaf_value),
            );
            place(&mut branch, &key[common..], value.to_vec());
            *kind = wrap_in_extension(&key[..common], branch);
            Ok(true)
        }
        Kind::Extension {
            path: ext_path,
            child,
        } => {
            let common = common_prefix_len(ext_path, key);
            if common == ext_path.len() {
                let len = path.len();
                path.extend_from_slice(ext_path);
                let changed = insert_node(ctx, child, path, &key[common..], value)?;
                path.truncate(len);
                if changed {
                    ctx.touch(cache, stored, path);
                }
                return Ok(changed);
            }
            ctx.touch(cache, stored, path);
            let old_path = std::mem::take(ext_path);
            let old_child = std::mem::replace(child, Node::leaf(Vec::new(), Vec::new()));
            let mut branch = Node::empty_branch();
            if let Kind::Branch { children, .. } = &mut branch {
                let rest = &old_path[common + 1..];
                children[usize::from(old_path[common])] = Some(if rest.is_empty() {
                    old_child
                } else {
                    Node::new(Kind::Extension {
                        path: rest.to_vec(),
                        child: old_child,
                    })
                });
            }
            place(&mut branch, &key[common..], value.to_vec());
            *kind = wrap_in_extension(&old_path[..common], branch);
            Ok(true)
        }
        Kind::Branch {
            children,
            value: branch_value,
        } => {
            let changed = match key.split_first() {
                None => {
                    if branch_value.as_deref() == Some(value) {
                        false
                    } else {
                        *branch_value = Some(value.to_vec());
                        true
                    }
                }
                Some((&i, rest)) => match &mut children[usize::from(i)] {
                    slot @ None => {
                        *slot = Some(Node::leaf(rest.to_vec(), value.to_vec()));
                        true
                    }
                    Some(child) => {
                        path.push(i);
                        let changed = insert_node(ctx, child, path, rest, value)?;
                        path.pop();
                        changed
                    }
                },
            };
            if changed {
                ctx.touch(cache, stored, path);
            }
            Ok(changed)
        }
        Kind::Stub(_) => Err(unresolved(path)),
    }
}

/// Puts `value` under the nibbles `rest` of a fresh branch: in the branch itself if `rest` is
/// empty, otherwise in a new leaf below it.
fn place(branch: &mut Kind, rest: &[u8], value: Vec<u8>) {
    if let Kind::Branch {
        children,
        value: slot,
    } = branch
    {
        match rest.split_first() {
            None => *slot = Some(value),
            Some((&i, tail)) => children[usize::from(i)] = Some(Node::leaf(tail.to_vec(), value)),
        }
    }
}

fn wrap_in_extension(prefix: &[u8], branch: Kind) -> Kind {
    if prefix.is_empty() {
        branch
    } else {
        Kind::Extension {
            path: prefix.to_vec(),
            child: Node::new(branch),
        }
    }
}

fn unresolved(path: &[u8]) -> TrieError {
    TrieError::CorruptNode {
        version: 0,
        path: path_hex(path),
        reason: "node was not loaded".into(),
    }
}

fn delete_node<S: NodeStore>(
    ctx: &mut Ctx<'_, S>,
    node: &mut Box<Node>,
    path: &mut Vec<u8>,
    key: &[u8],
) -> Result<Deleted, TrieError> {
    ctx.resolve(node, path)?;
    let Node {
        kind,
        cache,
        stored,
    } = &mut **node;
    match kind {
        Kind::Leaf { path: p, .. } => {
            if p.as_slice() != key {
                return Ok(Deleted::Unchanged);
            }
            ctx.touch(cache, stored, path);
            Ok(Deleted::Removed)
        }
        Kind::Extension {
            path: ext_path,
            child,
        } => {
            if !key.starts_with(ext_path) {
                return Ok(Deleted::Unchanged);
            }
            let len = path.len();
            path.extend_from_slice(ext_path);
            let outcome = delete_node(ctx, child, path, &key[ext_path.len()..])?;
            path.truncate(len);
            if outcome == Deleted::Unchanged {
                return Ok(outcome);
            }
            ctx.touch(cache, stored, path);
            if outcome == Deleted::Removed {
                return Ok(Deleted::Removed);
            }
            // The child changed, so it is loaded and no longer stored; merge it if it is no
            // longer a branch.
            match &mut child.kind {
                Kind::Leaf { path: p, value } => {
                    let mut merged = std::mem::take(ext_path);
                    merged.append(p);
                    *kind = Kind::Leaf {
                        path: merged,
                        value: std::mem::take(value),
                    };
                }
                Kind::Extension { path: p, child: c } => {
                    let mut merged = std::mem::take(ext_path);
                    merged.append(p);
                    let grandchild = std::mem::replace(c, Node::leaf(Vec::new(), Vec::new()));
                    *kind = Kind::Extension {
                        path: merged,
                        child: grandchild,
                    };
                }
                Kind::Branch { .. } | Kind::Stub(_) => {}
            }
            Ok(Deleted::Changed)
        }
        Kind::Branch { children, value } => {
            match key.split_first() {
                None => {
                    if value.take().is_none() {
                        return Ok(Deleted::Unchanged);
                    }
                }
                Some((&i, rest)) => {
                    let slot = &mut children[usize::from(i)];
                    let Some(child) = slot else {
                        return Ok(Deleted::Unchanged);
                    };
                    path.push(i);
                    let outcome = delete_node(ctx, child, path, rest)?;
                    path.pop();
                    match outcome {
                        Deleted::Unchanged => return Ok(outcome),
                        Deleted::Removed => *slot = None,
                        Deleted::Changed => {}
                    }
                }
            }
            ctx.touch(cache, stored, path);
            let occupied = children.iter().filter(|c| c.is_some()).count();
            match (occupied, value.is_some()) {
                (0, false) => Ok(Deleted::Removed),
                (0, true) => {
                    let value = value.take().unwrap_or_default();
                    *kind = Kind::Leaf {
                        path: Vec::new(),
                        value,
                    };
                    Ok(Deleted::Changed)
                }
                (1, false) => {
                    let Some((index, only)) = children
                        .iter_mut()
                        .enumerate()
                        .find_map(|(i, c)| c.take().map(|c| (i, c)))
                    else {
                        return Ok(Deleted::Changed);
                    };
                    *kind = collapse(ctx, path, index as u8, only)?;
                    Ok(Deleted::Changed)
                }
                _ => Ok(Deleted::Changed),
            }
        }
        Kind::Stub(_) => Err(unresolved(path)),
    }
}

/// The node replacing a branch left with a single child `only` at nibble `index`.
fn collapse<S: NodeStore>(
    ctx: &mut Ctx<'_, S>,
    path: &mut Vec<u8>,
    index: u8,
    mut only: Box<Node>,
) -> Result<Kind, TrieError> {
    path.push(index);
    ctx.resolve(&mut only, path)?;
    let Node {
        kind,
        cache,
        stored,
    } = &mut *only;
    let result = match kind {
        Kind::Leaf { path: p, value } => {
            ctx.touch(cache, stored, path);
            let mut merged = vec![index];
            merged.append(p);
            Kind::Leaf {
                path: merged,
                value: std::mem::take(value),
            }
        }
        Kind::Extension { path: p, child } => {
            ctx.touch(cache, stored, path);
            let mut merged = vec![index];
            merged.append(p);
            let grandchild = std::mem::replace(child, Node::leaf(Vec::new(), Vec::new()));
            Kind::Extension {
                path: merged,
                child: grandchild,
            }
        }
        Kind::Branch { .. } | Kind::Stub(_) => Kind::Extension {
            path: vec![index],
            child: only,
        },
    };
    path.pop();
    Ok(result)
}

/// Computes (and caches) the reference of `node`, hashing only uncached descendants.
pub(crate) fn hash_node(node: &mut Node, buf: &mut Vec<u8>) -> NodeRef {
    if let Some(r) = node.cache {
        return r;
    }
    let r = match &mut node.kind {
        Kind::Leaf { path, value } => {
            buf.clear();
            encode_leaf(path, value, buf);
            NodeRef::of_encoding(buf)
        }
        Kind::Extension { path, child } => {
            let child_ref = hash_node(child, buf);
            buf.clear();
            encode_extension(path, &child_ref, buf);
            NodeRef::of_encoding(buf)
        }
        Kind::Branch { children, value } => {
            let mut refs = [None; 16];
            for (r, child) in refs.iter_mut().zip(children.iter_mut()) {
                if let Some(child) = child {
                    *r = Some(hash_node(child, buf));
                }
            }
            buf.clear();
            encode_branch(&refs, value.as_deref(), buf);
            NodeRef::of_encoding(buf)
        }
        Kind::Stub(hash) => NodeRef::hash(*hash),
    };
    node.cache = Some(r);
    r
}

/// Like [`hash_node`], but hashes a root branch's children on all available cores.
fn hash_parallel(root: &mut Node) -> NodeRef {
    if root.cache.is_none() {
        if let Kind::Branch { children, .. } = &mut root.kind {
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            if threads > 1 {
                let mut dirty: Vec<&mut Box<Node>> = children
                    .iter_mut()
                    .flatten()
                    .filter(|c| c.cache.is_none())
                    .collect();
                let per_thread = dirty.len().div_ceil(threads).max(1);
                std::thread::scope(|scope| {
                    for chunk in dirty.chunks_mut(per_thread) {
                        scope.spawn(move || {
                            let mut buf = Vec::with_capacity(600);
                            for child in chunk {
                                hash_node(child, &mut buf);
                            }
                        });
                    }
                });
            }
        }
    }
    hash_node(root, &mut Vec::with_capacity(600))
}

/// Walks the unstored part of the tree after hashing and emits one record per node that is
/// stored on its own (hashed nodes and the root).
struct Collect<'a> {
    namespace: &'a Namespace,
    version: u64,
    buf: Vec<u8>,
    out: &'a mut Vec<(NodeKey, Vec<u8>)>,
}

impl Collect<'_> {
    /// Returns the version the node is (or will be) stored at.
    fn collect(&mut self, node: &mut Node, path: &mut Vec<u8>, is_root: bool) -> u64 {
        if let Some(v) = node.stored {
            return v;
        }
        let hashed = node.cache.is_some_and(|r| r.is_hash());
        if !hashed && !is_root {
            // Embedded in its parent's encoding; its descendants are embedded too.
            return self.version;
        }
        let mut versions = Vec::new();
        match &mut node.kind {
            Kind::Branch { children, .. } => {
                for (i, child) in children.iter_mut().enumerate() {
                    if let Some(child) = child {
                        // i < 16, so the cast is lossless.
                        path.push(i as u8);
                        let v = self.collect(child, path, false);
                        path.pop();
                        if child.cache.is_some_and(|r| r.is_hash()) {
                            versions.push(v);
                        }
                    }
                }
            }
            Kind::Extension { path: p, child } => {
                let len = path.len();
                path.extend_from_slice(p);
                let v = self.collect(child, path, false);
                path.truncate(len);
                if child.cache.is_some_and(|r| r.is_hash()) {
                    versions.push(v);
                }
            }
            Kind::Leaf { .. } | Kind::Stub(_) => {}
        }
        self.buf.clear();
        encode_current(node, &mut self.buf);
        let mut record = Vec::with_capacity(self.buf.len() + 1 + versions.len() * 3);
        encode_record(&versions, &self.buf, &mut record);
        self.out.push((
            NodeKey {
                namespace: *self.namespace,
                version: self.version,
                path: path.clone(),
            },
            record,
        ));
        self.version
    }
}

/// The RLP of a loaded node whose children all have cached references, i.e. after
/// [`hash_node`] (children loaded from the store always have one).
pub(crate) fn encode_current(node: &Node, out: &mut Vec<u8>) {
    // Invariant: callers hash the tree first, so every child has a cached reference; the
    // fallback is never used.
    let child_ref = |c: &Node| c.cache.unwrap_or_else(|| NodeRef::hash(EMPTY_ROOT));
    match &node.kind {
        Kind::Leaf { path, value } => encode_leaf(path, value, out),
        Kind::Extension { path, child } => encode_extension(path, &child_ref(child), out),
        Kind::Branch { children, value } => {
            let mut refs = [None; 16];
            for (r, c) in refs.iter_mut().zip(children.iter()) {
                *r = c.as_deref().map(child_ref);
            }
            encode_branch(&refs, value.as_deref(), out);
        }
        Kind::Stub(_) => {}
    }
}

fn mark_stored(node: &mut Node, version: u64, is_root: bool) {
    if node.stored.is_some() {
        return;
    }
    if !(is_root || node.cache.is_some_and(|r| r.is_hash())) {
        return;
    }
    node.stored = Some(version);
    match &mut node.kind {
        Kind::Branch { children, .. } => {
            for child in children.iter_mut().flatten() {
                mark_stored(child, version, false);
            }
        }
        Kind::Extension { child, .. } => mark_stored(child, version, false),
        Kind::Leaf { .. } | Kind::Stub(_) => {}
    }
}
