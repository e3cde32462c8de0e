//! The in-memory node tree: nodes are decoded lazily from the store, carry a cached reference
//! (hash or inline encoding) while clean, and remember the version they were stored at.
//! Also owns the stored record format: `[count][count × LEB128 child version][node RLP]`.

use super::codec::{decode_node, ChildRef, Decoded, Hash, NodeRef};

/// A node of the in-memory tree.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// The node's reference as seen by its parent; `None` while the node is dirty.
    pub(crate) cache: Option<NodeRef>,
    /// The version this node was written to the store at; `None` if it is not stored on its own
    /// (new since the last commit, or embedded in its parent).
    pub(crate) stored: Option<u64>,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Leaf {
        path: Vec<u8>,
        value: Vec<u8>,
    },
    Extension {
        path: Vec<u8>,
        child: Box<Node>,
    },
    Branch {
        children: Box<[Option<Box<Node>>; 16]>,
        value: Option<Vec<u8>>,
    },
    /// A stored node that has not been loaded yet.
    Stub(Hash),
}

impl Node {
    pub(crate) fn new(kind: Kind) -> Box<Node> {
        Box::new(Node {
            kind,
            cache: None,
            stored: None,
        })
    }

    pub(crate) fn leaf(path: Vec<u8>, value: Vec<u8>) -> Box<Node> {
        Self::new(Kind::Leaf { path, value })
    }

    pub(crate) fn empty_branch() -> Kind {
        Kind::Branch {
            children: Box::default(),
            value: None,
        }
    }

    pub(crate) fn stub(hash: Hash, version: u64) -> Box<Node> {
        Box::new(Node {
            kind: Kind::Stub(hash),
            cache: Some(NodeRef::hash(hash)),
            stored: Some(version),
        })
    }

    /// Builds a node from its RLP; hashed children become stubs whose versions are taken in order
    /// from `versions`, embedded children are decoded in place.
    pub(crate) fn from_rlp(
        rlp: &[u8],
        cache: NodeRef,
        stored: Option<u64>,
        versions: &mut dyn Iterator<Item = u64>,
    ) -> Result<Box<Node>, String> {
        let child = |c: ChildRef<'_>, versions: &mut dyn Iterator<Item = u64>| match c {
            ChildRef::Empty => Ok(None),
            ChildRef::Hash(h) => {
                let v = versions
                    .next()
                    .ok_or("record lists too few child versions")?;
                Ok(Some(Node::stub(h, v)))
            }
            ChildRef::Inline(bytes) => {
                Node::from_rlp(bytes, NodeRef::of_encoding(bytes), None, versions).map(Some)
            }
        };
        let kind = match decode_node(rlp)? {
            Decoded::Leaf { path, value } => Kind::Leaf {
                path,
                value: value.to_vec(),
            },
            Decoded::Extension { path, child: c } => Kind::Extension {
                path,
                child: child(c, versions)?.ok_or("extension without child")?,
            },
            Decoded::Branch {
                children: refs,
                value,
            } => {
                let mut children: Box<[Option<Box<Node>>; 16]> = Box::default();
                for (slot, r) in children.iter_mut().zip(refs) {
                    *slot = child(r, versions)?;
                }
                Kind::Branch {
                    children,
                    value: value.map(<[u8]>::to_vec),
                }
            }
        };
        Ok(Box::new(Node {
            kind,
            cache: Some(cache),
            stored,
        }))
    }
}

/// Builds a stored record: child versions (for hashed children, in order) followed by the RLP.
pub(crate) fn encode_record(child_versions: &[u64], rlp: &[u8], out: &mut Vec<u8>) {
    // A node has at most 16 hashed children, so the count fits in a byte.
    out.push(child_versions.len() as u8);
    for &v in child_versions {
        let mut v = v;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out.extend_from_slice(rlp);
}

/// Splits a stored record into its child versions and its RLP.
pub(crate) fn decode_record(record: &[u8]) -> Result<(Vec<u64>, &[u8]), String> {
    let (&count, mut rest) = record.split_first().ok_or("empty record")?;
    if count > 16 {
        return Err(format!("record lists {count} child versions"));
    }
    let mut versions = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let (&byte, tail) = rest.split_first().ok_or("truncated child version")?;
            rest = tail;
            if shift > 63 {
                return Err("child version overflows".into());
            }
            v |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        versions.push(v);
    }
    Ok((versions, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_roundtrip() {
        let mut out = Vec::new();
        encode_record(&[0, 127, 128, u64::MAX], b"\xc2\x20\x01", &mut out);
        let (versions, rlp) = decode_record(&out).unwrap();
        assert_eq!(versions, vec![0, 127, 128, u64::MAX]);
        assert_eq!(rlp, b"\xc2\x20\x01");
        assert!(decode_record(&[]).is_err());
        assert!(decode_record(&[1, 0x80]).is_err());
        assert!(decode_record(&[17]).is_err());
    }
}
