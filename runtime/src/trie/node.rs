//! The in-memory node tree. A parent holds, for each child, a [`Slot`]: the child's cached
//! reference (hash or inline encoding, `None` while dirty), the version it is stored at, and the
//! child itself once loaded. Keeping references and versions in the parent's array means hashing,
//! committing and deciding what to visit read one contiguous array instead of chasing sixteen
//! pointers per branch. Also owns the stored record format:
//! `[count][count × LEB128 child version code][node RLP]`, where a child written by the same
//! commit as its parent has code 0 and any other child at version `v` has code `v + 1` (so a
//! record can be built while hashing, before the commit's version is known).

use smallvec::SmallVec;

use super::codec::{decode_node, ChildRef, Decoded, Hash, NodeRef};

/// The store record of a node, built while hashing a trie that commits, so the commit does not
/// walk and re-encode every new node. Empty when there is none.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    pub(crate) record: Vec<u8>,
    /// Children (by nibble; bit 0 for an extension's child) that are new in the same commit.
    pub(crate) pending: u16,
}

/// A leaf's path, inline up to a 32-byte key's 64 nibbles (no separate allocation to miss).
pub(crate) type LeafPath = SmallVec<[u8; 64]>;
/// A leaf's value, inline up to 32 bytes (a storage slot).
pub(crate) type LeafValue = SmallVec<[u8; 32]>;

/// A leaf: the rest of the key and the value.
#[derive(Debug)]
pub(crate) struct Leaf {
    pub(crate) path: LeafPath,
    pub(crate) value: LeafValue,
    pub(crate) prepared: Prepared,
}

/// An extension: a shared path and the node below it.
#[derive(Debug)]
pub(crate) struct Extension {
    pub(crate) path: Vec<u8>,
    pub(crate) child: Slot,
    pub(crate) prepared: Prepared,
}

/// A branch: sixteen child slots and an optional value.
#[derive(Debug, Default)]
pub(crate) struct Branch {
    pub(crate) children: [Slot; 16],
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) prepared: Prepared,
}

/// A loaded node. Each variant is boxed so a [`Slot`] stays small.
#[derive(Debug)]
pub(crate) enum Node {
    Leaf(Box<Leaf>),
    Extension(Box<Extension>),
    Branch(Box<Branch>),
}

/// A parent's view of one child (or the trie's view of its root).
///
/// States: empty (`node` and `cache` both `None`); a stub, stored but not loaded (`node` is
/// `None`, `cache` holds its hash, `version` its version); loaded and clean (`cache` set); loaded
/// and dirty (`cache` is `None`).
#[derive(Debug, Default)]
pub(crate) struct Slot {
    pub(crate) node: Option<Node>,
    /// The child's reference as seen by its parent; `None` while the child is dirty or absent.
    pub(crate) cache: Option<NodeRef>,
    /// The version the child was (or, during a prepared commit, is being) written at. It only
    /// counts as stored once that version is confirmed (see [`Slot::stored_at`]).
    pub(crate) version: SlotVersion,
}

/// A slot's version in 8 bytes instead of `Option<u64>`'s 16, so that a slot takes 64 bytes and
/// a branch's sixteen slots 16 cache lines instead of 18 (hashing reads all of them).
/// `u64::MAX` means none: it is not a version a trie commits (see
/// [`TrieError::VersionOutOfRange`](super::TrieError::VersionOutOfRange)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotVersion(u64);

impl SlotVersion {
    pub(crate) const NONE: Self = Self(u64::MAX);

    pub(crate) fn new(version: Option<u64>) -> Self {
        Self(version.unwrap_or(u64::MAX))
    }

    pub(crate) fn get(self) -> Option<u64> {
        (self.0 != u64::MAX).then_some(self.0)
    }

    /// The version, leaving none behind.
    pub(crate) fn take(&mut self) -> Option<u64> {
        std::mem::replace(self, Self::NONE).get()
    }
}

impl Default for SlotVersion {
    fn default() -> Self {
        Self::NONE
    }
}

impl Slot {
    /// A new, dirty slot holding `node`.
    pub(crate) fn dirty(node: Node) -> Self {
        Self {
            node: Some(node),
            cache: None,
            version: SlotVersion::NONE,
        }
    }

    /// A stored child that is not loaded yet.
    pub(crate) fn stub(hash: Hash, version: u64) -> Self {
        Self {
            node: None,
            cache: Some(NodeRef::hash(hash)),
            version: SlotVersion::new(Some(version)),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.node.is_none() && self.cache.is_none()
    }

    /// The version this child is durably stored at, given the trie's last confirmed version.
    /// Versions above it belong to a prepared commit that was not finished.
    pub(crate) fn stored_at(&self, confirmed: Option<u64>) -> Option<u64> {
        match (self.version.get(), confirmed) {
            (Some(v), Some(c)) if v <= c => Some(v),
            _ => None,
        }
    }

    /// Whether the parent refers to this child by hash (so it has a record of its own).
    pub(crate) fn is_hashed(&self) -> bool {
        self.cache.is_some_and(|r| r.is_hash())
    }
}

impl Node {
    pub(crate) fn leaf(path: &[u8], value: &[u8]) -> Node {
        Node::Leaf(Box::new(Leaf {
            path: LeafPath::from_slice(path),
            value: LeafValue::from_slice(value),
            prepared: Prepared::default(),
        }))
    }

    pub(crate) fn extension(path: Vec<u8>, child: Slot) -> Node {
        Node::Extension(Box::new(Extension {
            path,
            child,
            prepared: Prepared::default(),
        }))
    }

    /// Reads the first bytes hashing this node will need (a cache warm-up; the value means
    /// nothing).
    pub(crate) fn warm(&self) -> usize {
        match self {
            Node::Leaf(leaf) => {
                usize::from(leaf.path.first().copied().unwrap_or(0))
                    + usize::from(leaf.value.first().copied().unwrap_or(0))
            }
            Node::Extension(ext) => usize::from(ext.child.cache.is_some()),
            Node::Branch(branch) => {
                usize::from(branch.children[0].cache.is_some())
                    + usize::from(branch.children[8].cache.is_some())
            }
        }
    }

    /// Length of the record prepared while hashing (0 if none).
    pub(crate) fn prepared_len(&self) -> usize {
        match self {
            Node::Leaf(leaf) => leaf.prepared.record.len(),
            Node::Extension(ext) => ext.prepared.record.len(),
            Node::Branch(branch) => branch.prepared.record.len(),
        }
    }

    /// The record prepared while hashing, if any.
    pub(crate) fn prepared_mut(&mut self) -> &mut Prepared {
        match self {
            Node::Leaf(leaf) => &mut leaf.prepared,
            Node::Extension(ext) => &mut ext.prepared,
            Node::Branch(branch) => &mut branch.prepared,
        }
    }

    /// Builds a node from its RLP; hashed children become stubs whose versions are taken in order
    /// from `versions`, embedded children are decoded in place.
    pub(crate) fn from_rlp(
        rlp: &[u8],
        versions: &mut dyn Iterator<Item = u64>,
    ) -> Result<Node, String> {
        let child =
            |c: ChildRef<'_>, versions: &mut dyn Iterator<Item = u64>| -> Result<Slot, String> {
                match c {
                    ChildRef::Empty => Ok(Slot::default()),
                    ChildRef::Hash(h) => {
                        let v = versions
                            .next()
                            .ok_or("record lists too few child versions")?;
                        Ok(Slot::stub(h, v))
                    }
                    ChildRef::Inline(bytes) => Ok(Slot {
                        node: Some(Node::from_rlp(bytes, versions)?),
                        cache: Some(NodeRef::of_encoding(bytes)),
                        version: SlotVersion::NONE,
                    }),
                }
            };
        Ok(match decode_node(rlp)? {
            Decoded::Leaf { path, value } => Node::leaf(&path, value),
            Decoded::Extension { path, child: c } => {
                let slot = child(c, versions)?;
                if slot.is_empty() {
                    return Err("extension without child".into());
                }
                Node::extension(path, slot)
            }
            Decoded::Branch {
                children: refs,
                value,
            } => {
                let mut branch = Box::<Branch>::default();
                for (slot, r) in branch.children.iter_mut().zip(refs) {
                    *slot = child(r, versions)?;
                }
                branch.value = value.map(<[u8]>::to_vec);
                Node::Branch(branch)
            }
        })
    }
}

/// The LEB128 encoding of `v`: its bytes, and how many of them are used.
pub(crate) fn varint(mut v: u64) -> ([u8; 10], usize) {
    let mut bytes = [0u8; 10];
    let mut len = 0;
    loop {
        // Masked to 7 bits, so the cast is lossless.
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        // A u64 has at most 10 groups of 7 bits, so `len` stays below 10.
        if v == 0 {
            bytes[len] = byte;
            return (bytes, len + 1);
        }
        bytes[len] = byte | 0x80;
        len += 1;
    }
}

/// Appends one LEB128 varint.
pub(crate) fn push_varint(v: u64, out: &mut Vec<u8>) {
    let (bytes, len) = varint(v);
    out.extend_from_slice(&bytes[..len]);
}

/// Reads one LEB128 varint off the front of `buf`.
pub(crate) fn read_varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let (&byte, tail) = buf.split_first().ok_or("truncated varint")?;
        *buf = tail;
        if shift > 63 || (shift == 63 && byte > 1) {
            return Err("varint overflows".into());
        }
        v |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// Builds a stored record: child version codes (for hashed children, in order: 0 for a child
/// written by the same commit, `v + 1` for one stored at `v`) followed by the RLP.
pub(crate) fn encode_record(child_codes: &[u64], rlp: &[u8], out: &mut Vec<u8>) {
    // A node has at most 16 hashed children, so the count fits in a byte.
    out.push(child_codes.len() as u8);
    for &code in child_codes {
        push_varint(code, out);
    }
    out.extend_from_slice(rlp);
}

/// Splits a stored record written at `version` into its child versions and its RLP.
pub(crate) fn decode_record(record: &[u8], version: u64) -> Result<(Vec<u64>, &[u8]), String> {
    let (&count, mut rest) = record.split_first().ok_or("empty record")?;
    if count > 16 {
        return Err(format!("record lists {count} child versions"));
    }
    let mut versions = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let code = read_varint(&mut rest)?;
        // A child is never newer than its parent: code - 1 < version when code > 0.
        let child = match code {
            0 => version,
            c if c - 1 < version => c - 1,
            _ => return Err("child version above its parent's".into()),
        };
        versions.push(child);
    }
    Ok((versions, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_one_cache_line_and_its_version_roundtrips() {
        assert_eq!(std::mem::size_of::<Slot>(), 64);
        for v in [None, Some(0), Some(7), Some(u64::MAX - 1)] {
            assert_eq!(SlotVersion::new(v).get(), v);
        }
        let mut version = SlotVersion::new(Some(3));
        assert_eq!((version.take(), version.get()), (Some(3), None));
    }

    #[test]
    fn varints_roundtrip_at_their_length_boundaries() {
        for (v, len) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            let (bytes, n) = varint(v);
            assert_eq!(n, len, "{v}");
            let mut rest = &bytes[..n];
            assert_eq!(read_varint(&mut rest), Ok(v));
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn record_roundtrip() {
        let mut out = Vec::new();
        encode_record(&[0, 1, 128, 129, u64::MAX], b"\xc2\x20\x01", &mut out);
        let (versions, rlp) = decode_record(&out, u64::MAX).unwrap();
        assert_eq!(versions, vec![u64::MAX, 0, 127, 128, u64::MAX - 1]);
        assert_eq!(rlp, b"\xc2\x20\x01");
        // A child version at or above the record's own is corrupt.
        assert!(decode_record(&out, 200).is_err());
        assert!(decode_record(&[], 1).is_err());
        assert!(decode_record(&[1, 0x80], 1).is_err());
        assert!(decode_record(&[17], 1).is_err());
        // Eleven continuation bytes overflow a u64.
        let long = [
            1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert!(decode_record(&long, 1).is_err());
    }

    #[test]
    fn slot_states() {
        let empty = Slot::default();
        assert!(empty.is_empty() && !empty.is_hashed());
        let stub = Slot::stub([1; 32], 4);
        assert!(!stub.is_empty() && stub.is_hashed());
        assert_eq!(stub.stored_at(Some(4)), Some(4));
        assert_eq!(
            stub.stored_at(Some(3)),
            None,
            "a pending version is not stored"
        );
        assert_eq!(stub.stored_at(None), None);
        let dirty = Slot::dirty(Node::leaf(&[1], &[2]));
        assert!(!dirty.is_empty() && !dirty.is_hashed());
    }
}
