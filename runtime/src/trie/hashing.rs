//! Hashing and commit collection over the in-memory node tree: incremental node references
//! (only dirty nodes are re-encoded and re-hashed; clean children's references are read from the
//! parent's slot array), optional parallel hashing of the root's subtrees, and the walk that turns
//! unstored nodes into store records.
//!
//! A trie that commits (one that has a confirmed version) builds each new node's record while
//! hashing it, when the node's slots are in cache; the commit then only follows the `pending`
//! masks and moves the records out. A node without a prepared record (a first commit, or a
//! retry after a failed write) has it built by the commit walk instead.

use super::codec::{encode_branch, encode_extension, encode_leaf, NodeRef, EMPTY_ROOT};
use super::node::{encode_record, Node, Prepared, Slot};
use super::store::{Namespace, NodeKey};

/// State of one hashing pass.
pub(crate) struct Hasher {
    pub(crate) buf: Vec<u8>,
    /// The trie's confirmed version; records are prepared only when it is set.
    pub(crate) confirmed: Option<u64>,
}

impl Hasher {
    pub(crate) fn new(confirmed: Option<u64>) -> Self {
        Self {
            buf: Vec::with_capacity(600),
            confirmed,
        }
    }

    /// Computes (and caches) the reference of the child in `slot`, hashing only dirty
    /// descendants. An empty slot has no reference.
    pub(crate) fn hash_slot(&mut self, slot: &mut Slot) -> Option<NodeRef> {
        if slot.cache.is_some() {
            return slot.cache;
        }
        let node = slot.node.as_mut()?;
        self.hash_children(node);
        self.buf.clear();
        encode_current(node, &mut self.buf);
        let r = NodeRef::of_encoding(&self.buf);
        let prepared = if self.confirmed.is_some() && r.is_hash() {
            let (codes, count, pending) = child_codes(node, self.confirmed);
            let mut record = Vec::with_capacity(self.buf.len() + 1 + count * 3);
            encode_record(&codes[..count], &self.buf, &mut record);
            Prepared { record, pending }
        } else {
            Prepared::default()
        };
        *node.prepared_mut() = prepared;
        slot.cache = Some(r);
        Some(r)
    }

    /// Hashes the dirty children of `node`.
    fn hash_children(&mut self, node: &mut Node) {
        match node {
            Node::Leaf(_) => {}
            Node::Extension(ext) => {
                self.hash_slot(&mut ext.child);
            }
            Node::Branch(branch) => {
                // Touch every dirty child first: the loads are independent, so their cache
                // misses overlap instead of being paid one (keccak-separated) recursion at a
                // time.
                let mut warm = 0usize;
                for child in &branch.children {
                    if let (None, Some(node)) = (child.cache, &child.node) {
                        warm = warm.wrapping_add(node.warm());
                    }
                }
                std::hint::black_box(warm);
                for child in &mut branch.children {
                    if child.cache.is_none() && child.node.is_some() {
                        self.hash_slot(child);
                    }
                }
            }
        }
    }
}

/// Version codes of a node's hashed children in encoding order (0: not stored yet, so written
/// by the same commit as the node; `v + 1`: stored at `v`), their count, and the mask of the
/// children that are not stored.
fn child_codes(node: &Node, confirmed: Option<u64>) -> ([u64; 16], usize, u16) {
    let mut codes = [0u64; 16];
    let mut count = 0;
    let mut pending = 0u16;
    let mut add = |bit: usize, child: &Slot| {
        if child.is_hashed() {
            match child.stored_at(confirmed) {
                // A stored child is older than the commit writing its parent, so v < u64::MAX.
                Some(v) => codes[count] = v.saturating_add(1),
                None => pending |= 1 << bit,
            }
            count += 1;
        }
    };
    match node {
        Node::Leaf(_) => {}
        Node::Extension(ext) => add(0, &ext.child),
        Node::Branch(branch) => {
            for (i, child) in branch.children.iter().enumerate() {
                add(i, child);
            }
        }
    }
    (codes, count, pending)
}

/// Like [`Hasher::hash_slot`], but hashes a root branch's dirty children on all available
/// cores.
pub(crate) fn hash_parallel(root: &mut Slot, confirmed: Option<u64>) -> Option<NodeRef> {
    if root.cache.is_none() {
        if let Some(Node::Branch(branch)) = &mut root.node {
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            if threads > 1 {
                let mut dirty: Vec<&mut Slot> = branch
                    .children
                    .iter_mut()
                    .filter(|c| c.cache.is_none() && c.node.is_some())
                    .collect();
                let per_thread = dirty.len().div_ceil(threads).max(1);
                std::thread::scope(|scope| {
                    for chunk in dirty.chunks_mut(per_thread) {
                        scope.spawn(move || {
                            let mut hasher = Hasher::new(confirmed);
                            for child in chunk {
                                hasher.hash_slot(child);
                            }
                        });
                    }
                });
            }
        }
    }
    Hasher::new(confirmed).hash_slot(root)
}

/// Walks the unstored part of the tree after hashing and emits one record per node that is
/// stored on its own (hashed nodes and the root), assigning each the commit's version.
pub(crate) struct Collect<'a> {
    pub(crate) namespace: &'a Namespace,
    pub(crate) version: u64,
    /// The trie's last confirmed version (slot versions above it are not stored).
    pub(crate) confirmed: Option<u64>,
    pub(crate) buf: Vec<u8>,
    pub(crate) out: &'a mut Vec<(NodeKey, Vec<u8>)>,
}

impl Collect<'_> {
    /// Emits the records of the slot's unstored subtree; `slot` must have been hashed.
    pub(crate) fn collect(&mut self, slot: &mut Slot, path: &mut Vec<u8>, is_root: bool) {
        if slot.stored_at(self.confirmed).is_some() {
            return;
        }
        if !slot.is_hashed() && !is_root {
            // Embedded in its parent's encoding; its descendants are embedded too.
            return;
        }
        let Some(node) = &mut slot.node else {
            // A stub is always stored; nothing to write.
            return;
        };
        let prepared = std::mem::take(node.prepared_mut());
        let (record, pending) = if prepared.record.is_empty() {
            let (codes, count, pending) = child_codes(node, self.confirmed);
            self.buf.clear();
            encode_current(node, &mut self.buf);
            let mut record = Vec::with_capacity(self.buf.len() + 1 + count * 3);
            encode_record(&codes[..count], &self.buf, &mut record);
            (record, pending)
        } else {
            (prepared.record, prepared.pending)
        };
        match node {
            Node::Branch(branch) => {
                // Read every pending child's record header first: the loads are independent, so
                // their cache misses overlap instead of being paid one recursion at a time.
                let mut warm = 0usize;
                let mut mask = pending;
                while mask != 0 {
                    let i = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    if let Some(child) = &branch.children[i].node {
                        warm = warm.wrapping_add(child.prepared_len());
                    }
                }
                std::hint::black_box(warm);
                let mut mask = pending;
                while mask != 0 {
                    let i = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    // i < 16, so the cast is lossless.
                    path.push(i as u8);
                    self.collect(&mut branch.children[i], path, false);
                    path.pop();
                }
            }
            Node::Extension(ext) => {
                if pending & 1 != 0 {
                    let len = path.len();
                    path.extend_from_slice(&ext.path);
                    self.collect(&mut ext.child, path, false);
                    path.truncate(len);
                }
            }
            Node::Leaf(_) => {}
        }
        self.out.push((
            NodeKey {
                namespace: *self.namespace,
                version: self.version,
                path: path.clone(),
            },
            record,
        ));
        slot.version = Some(self.version);
    }
}

/// The RLP of a loaded node whose children all have cached references, i.e. after hashing
/// (children loaded from the store always have one).
pub(crate) fn encode_current(node: &Node, out: &mut Vec<u8>) {
    // Invariant: callers hash the tree first, so every non-empty child has a cached reference;
    // the fallback is never used.
    let child_ref = |c: &Slot| c.cache.unwrap_or_else(|| NodeRef::hash(EMPTY_ROOT));
    match node {
        Node::Leaf(leaf) => encode_leaf(&leaf.path, &leaf.value, out),
        Node::Extension(ext) => encode_extension(&ext.path, &child_ref(&ext.child), out),
        Node::Branch(branch) => {
            let mut refs = [None; 16];
            for (r, c) in refs.iter_mut().zip(&branch.children) {
                if !c.is_empty() {
                    *r = Some(child_ref(c));
                }
            }
            encode_branch(&refs, branch.value.as_deref(), out);
        }
    }
}
