//! Hashing and commit collection over the in-memory node tree: incremental node references
//! (only dirty nodes are re-encoded and re-hashed; clean children's references are read from the
//! parent's slot array), optional parallel hashing of the root's subtrees, and the walk that turns
//! unstored nodes into store records.
//!
//! A trie that commits (one that has a confirmed version) builds each new node's record while
//! hashing it, when the node's slots are in cache. In the common case, where the next commit's
//! version follows the confirmed one, hashing also *gathers* the records with their paths and
//! marks the nodes as written at that version, so the commit only moves the list out: no walk
//! over the new nodes, whose cache misses cost more than building the records. Otherwise each
//! record is left in its node, and the commit follows the `pending` masks to collect them; a
//! node without a prepared record (a first commit, or a retry after a failed write) has it built
//! by that walk.

use super::codec::{encode_branch, encode_extension, encode_leaf, NodeRef, EMPTY_ROOT};
use super::node::{encode_record, Node, Prepared, Slot, SlotVersion};
use super::store::{Namespace, NodeKey};

/// New nodes' records as `(nibble path, record)`.
pub(crate) type Records = Vec<(Vec<u8>, Vec<u8>)>;

/// Records being gathered (see the module documentation): the commit version they are for, the
/// path of the node being hashed, and the records so far.
struct Gather {
    version: u64,
    path: Vec<u8>,
    records: Records,
}

/// State of one hashing pass.
pub(crate) struct Hasher {
    buf: Vec<u8>,
    /// The trie's confirmed version; records are prepared only when it is set.
    confirmed: Option<u64>,
    gather: Option<Gather>,
}

impl Hasher {
    /// A hashing pass over a trie confirmed at `confirmed`; with `gather` set to a commit
    /// version, it gathers the new nodes' records for that commit.
    fn new(confirmed: Option<u64>, gather: Option<u64>) -> Self {
        Self {
            buf: Vec::with_capacity(600),
            confirmed,
            gather: gather.map(|version| Gather {
                version,
                path: Vec::new(),
                records: Vec::new(),
            }),
        }
    }

    /// Sets the path of the next node hashed: the root's child `nibble`, or the root.
    fn start_at(&mut self, nibble: Option<u8>) {
        if let Some(gather) = &mut self.gather {
            gather.path.clear();
            gather.path.extend(nibble);
        }
    }

    /// The records gathered (empty when not gathering).
    fn into_records(self) -> Records {
        self.gather.map(|g| g.records).unwrap_or_default()
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
            match &mut self.gather {
                Some(gather) => {
                    gather.records.push((gather.path.clone(), record));
                    slot.version = SlotVersion::new(Some(gather.version));
                    Prepared::default()
                }
                None => Prepared { record, pending },
            }
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
                let len = self.path_len();
                self.extend_path(&ext.path);
                self.hash_slot(&mut ext.child);
                self.truncate_path(len);
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
                let len = self.path_len();
                for (i, child) in branch.children.iter_mut().enumerate() {
                    if child.cache.is_none() && child.node.is_some() {
                        // i < 16, so the cast is lossless.
                        self.extend_path(&[i as u8]);
                        self.hash_slot(child);
                        self.truncate_path(len);
                    }
                }
            }
        }
    }

    fn path_len(&self) -> usize {
        self.gather.as_ref().map_or(0, |g| g.path.len())
    }

    fn extend_path(&mut self, nibbles: &[u8]) {
        if let Some(gather) = &mut self.gather {
            gather.path.extend_from_slice(nibbles);
        }
    }

    fn truncate_path(&mut self, len: usize) {
        if let Some(gather) = &mut self.gather {
            gather.path.truncate(len);
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

/// Hashes the trie whose root is in `root` (see [`Hasher::hash_slot`]); with `parallel`, the
/// root branch's dirty children on all available cores. With `gather` set to a commit version,
/// also returns the new nodes' records for that commit.
pub(crate) fn hash_root(
    root: &mut Slot,
    confirmed: Option<u64>,
    gather: Option<u64>,
    parallel: bool,
) -> (Option<NodeRef>, Records) {
    let mut records = Vec::new();
    let threads = match parallel {
        true => std::thread::available_parallelism().map_or(1, usize::from),
        false => 1,
    };
    if let (true, None, Some(Node::Branch(branch))) = (threads > 1, root.cache, &mut root.node) {
        let mut dirty: Vec<(u8, &mut Slot)> = (0u8..)
            .zip(branch.children.iter_mut())
            .filter(|(_, c)| c.cache.is_none() && c.node.is_some())
            .collect();
        let per_thread = dirty.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = dirty
                .chunks_mut(per_thread)
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut hasher = Hasher::new(confirmed, gather);
                        for (nibble, child) in chunk {
                            hasher.start_at(Some(*nibble));
                            hasher.hash_slot(child);
                        }
                        hasher.into_records()
                    })
                })
                .collect();
            for worker in workers {
                // A worker only hashes; a panic there is a bug, re-raised here.
                match worker.join() {
                    Ok(mut gathered) => records.append(&mut gathered),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    let mut hasher = Hasher::new(confirmed, gather);
    let r = hasher.hash_slot(root);
    records.append(&mut hasher.into_records());
    (r, records)
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
        slot.version = SlotVersion::new(Some(self.version));
    }
}

/// The RLP of a loaded node whose children all have cached references, i.e. after hashing
/// (children loaded from the store always have one).
pub(crate) fn encode_current(node: &Node, out: &mut Vec<u8>) {
    // Invariant: callers hash the tree first, so every non-empty child has a cached reference;
    // the fallback is never used.
    const MISSING: NodeRef = NodeRef::hash(EMPTY_ROOT);
    fn child_ref(c: &Slot) -> &NodeRef {
        c.cache.as_ref().unwrap_or(&MISSING)
    }
    match node {
        Node::Leaf(leaf) => encode_leaf(&leaf.path, &leaf.value, out),
        Node::Extension(ext) => encode_extension(&ext.path, child_ref(&ext.child), out),
        Node::Branch(branch) => {
            let children = branch
                .children
                .each_ref()
                .map(|c| (!c.is_empty()).then(|| child_ref(c)));
            encode_branch(children, branch.value.as_deref(), out);
        }
    }
}
