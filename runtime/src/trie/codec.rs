//! RLP encoding and decoding of trie nodes (leaf, extension, branch), node references
//! (a keccak hash, or the node itself when its encoding is shorter than 32 bytes) and keccak-256.

use alloy_rlp::{Encodable, Header, EMPTY_STRING_CODE};

use super::nibbles::{
    hex_prefix_decode, hex_prefix_encode, hex_prefix_encode_suffix, hex_prefix_len,
};

/// A 32-byte keccak-256 hash.
pub type Hash = [u8; 32];

/// Root of the empty trie: keccak-256 of the RLP empty string (`0x80`).
pub const EMPTY_ROOT: Hash = [
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
];

/// keccak-256 of `data` (the one implementation, shared with the VM).
pub use tally_vm::keccak256;

/// How a parent refers to a child: by hash, or by embedding the child's encoding (< 32 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeRef {
    /// 32 for a hash, otherwise the length of the inline encoding.
    len: u8,
    bytes: [u8; 32],
}

impl std::fmt::Debug for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.is_hash() { "hash" } else { "inline" };
        write!(f, "NodeRef::{kind}({:02x?})", self.as_slice())
    }
}

impl NodeRef {
    /// The reference to a node whose RLP encoding is `rlp`.
    pub(crate) fn of_encoding(rlp: &[u8]) -> Self {
        let mut bytes = [0u8; 32];
        if rlp.len() < 32 {
            bytes[..rlp.len()].copy_from_slice(rlp);
            // rlp.len() < 32, so the cast is lossless.
            Self {
                len: rlp.len() as u8,
                bytes,
            }
        } else {
            Self::hash(keccak256(rlp))
        }
    }

    pub(crate) const fn hash(hash: Hash) -> Self {
        Self {
            len: 32,
            bytes: hash,
        }
    }

    pub(crate) fn is_hash(&self) -> bool {
        self.len == 32
    }

    pub(crate) fn as_hash(&self) -> Option<&Hash> {
        self.is_hash().then_some(&self.bytes)
    }

    /// The hash bytes, or the inline encoding.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Hash of the node: the hash itself, or keccak of the inline encoding (used for roots).
    pub(crate) fn node_hash(&self) -> Hash {
        match self.as_hash() {
            Some(h) => *h,
            None => keccak256(self.as_slice()),
        }
    }

    fn encoded_len(&self) -> usize {
        if self.is_hash() {
            33
        } else {
            usize::from(self.len)
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        if self.is_hash() {
            // The whole array, so the copy has a length known at compile time.
            out.push(EMPTY_STRING_CODE + 32);
            out.extend_from_slice(&self.bytes);
        } else {
            out.extend_from_slice(self.as_slice());
        }
    }
}

/// Encoded length of a hex-prefix path as an RLP string.
fn path_item_len(nibbles: usize) -> usize {
    let hp = hex_prefix_len(nibbles);
    // A one-byte hex prefix is always < 0x80 (at most 0x3f), so it encodes as itself.
    if hp == 1 {
        1
    } else {
        hp + alloy_rlp::length_of_length(hp)
    }
}

/// Appends the RLP string header of a hex-prefix path of `nibbles` nibbles (none for one byte).
fn write_path_header(nibbles: usize, out: &mut Vec<u8>) {
    let hp = hex_prefix_len(nibbles);
    if hp > 1 {
        Header {
            list: false,
            payload_length: hp,
        }
        .encode(out);
    }
}

fn write_path_item(nibbles: &[u8], leaf: bool, out: &mut Vec<u8>) {
    write_path_header(nibbles.len(), out);
    hex_prefix_encode(nibbles, leaf, out);
}

fn write_leaf_header(path_nibbles: usize, value: &[u8], out: &mut Vec<u8>) {
    Header {
        list: true,
        payload_length: path_item_len(path_nibbles) + value.length(),
    }
    .encode(out);
}

/// Appends the RLP of a leaf node `[hp(path, leaf), value]`.
pub(crate) fn encode_leaf(path: &[u8], value: &[u8], out: &mut Vec<u8>) {
    write_leaf_header(path.len(), value, out);
    write_path_item(path, true, out);
    value.encode(out);
}

/// [`encode_leaf`] whose path is the nibbles of the packed `key` from nibble `from` on, without
/// unpacking them. `from` is at most `2 * key.len()`.
pub(crate) fn encode_leaf_of_key_suffix(key: &[u8], from: usize, value: &[u8], out: &mut Vec<u8>) {
    let nibbles = key.len() * 2 - from;
    write_leaf_header(nibbles, value, out);
    write_path_header(nibbles, out);
    hex_prefix_encode_suffix(key, from, true, out);
    value.encode(out);
}

/// Appends the RLP of an extension node `[hp(path, extension), child]`.
pub(crate) fn encode_extension(path: &[u8], child: &NodeRef, out: &mut Vec<u8>) {
    let payload_length = path_item_len(path.len()) + child.encoded_len();
    Header {
        list: true,
        payload_length,
    }
    .encode(out);
    write_path_item(path, false, out);
    child.write(out);
}

/// Appends the RLP of a branch node `[c0, ..., c15, value]` (`None` for an empty child).
pub(crate) fn encode_branch(
    children: [Option<&NodeRef>; 16],
    value: Option<&[u8]>,
    out: &mut Vec<u8>,
) {
    // The children go to a buffer on the stack first (at most 16 x 33 bytes), so the list
    // header can be written before them without a first pass over the slots, and the output
    // grows once instead of once per child.
    let mut body = [0u8; 16 * 33];
    let mut len = 0;
    for child in children {
        match child {
            Some(c) if c.is_hash() => {
                body[len] = EMPTY_STRING_CODE + 32;
                body[len + 1..len + 33].copy_from_slice(&c.bytes);
                len += 33;
            }
            Some(c) => {
                let inline = c.as_slice();
                body[len..len + inline.len()].copy_from_slice(inline);
                len += inline.len();
            }
            None => {
                body[len] = EMPTY_STRING_CODE;
                len += 1;
            }
        }
    }
    let value_len = value.map_or(1, |v| v.length());
    Header {
        list: true,
        payload_length: len + value_len,
    }
    .encode(out);
    out.extend_from_slice(&body[..len]);
    match value {
        Some(v) => v.encode(out),
        None => out.push(EMPTY_STRING_CODE),
    }
}

/// A child reference as found in an encoded node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChildRef<'a> {
    Empty,
    Hash(Hash),
    Inline(&'a [u8]),
}

/// A node decoded from RLP, borrowing from the encoding. Short-lived and on the stack, so the
/// branch variant's size does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decoded<'a> {
    Leaf {
        path: Vec<u8>,
        value: &'a [u8],
    },
    Extension {
        path: Vec<u8>,
        child: ChildRef<'a>,
    },
    Branch {
        children: [ChildRef<'a>; 16],
        value: Option<&'a [u8]>,
    },
}

/// One RLP item: its full encoding, whether it is a list, and its payload.
#[derive(Clone, Copy, Default)]
struct Item<'a> {
    raw: &'a [u8],
    list: bool,
    payload: &'a [u8],
}

/// Splits the next RLP item (header included) off `buf`.
fn next_item<'a>(buf: &mut &'a [u8]) -> Result<Item<'a>, String> {
    let all = *buf;
    let mut rest = all;
    let header = Header::decode(&mut rest).map_err(|e| e.to_string())?;
    let header_len = all.len() - rest.len();
    let total = header_len
        .checked_add(header.payload_length)
        .filter(|t| *t <= all.len())
        .ok_or("item overruns its list")?;
    *buf = &all[total..];
    Ok(Item {
        raw: &all[..total],
        list: header.list,
        payload: &all[header_len..total],
    })
}

fn string_payload(item: Item<'_>) -> Result<&[u8], String> {
    if item.list {
        return Err("expected a string, found a list".into());
    }
    Ok(item.payload)
}

fn child_ref(item: Item<'_>) -> Result<ChildRef<'_>, String> {
    if item.list {
        if item.raw.len() >= 32 {
            return Err("embedded node of 32 bytes or more".into());
        }
        return Ok(ChildRef::Inline(item.raw));
    }
    match item.payload.len() {
        0 => Ok(ChildRef::Empty),
        32 => {
            let mut h = [0u8; 32];
            h.copy_from_slice(item.payload);
            Ok(ChildRef::Hash(h))
        }
        n => Err(format!("child reference of {n} bytes")),
    }
}

/// Decodes one trie node from its RLP encoding.
pub(crate) fn decode_node(rlp: &[u8]) -> Result<Decoded<'_>, String> {
    let mut buf = rlp;
    let node = next_item(&mut buf)?;
    if !node.list {
        return Err("node is not an RLP list".into());
    }
    if !buf.is_empty() {
        return Err("trailing bytes after node".into());
    }
    let mut payload = node.payload;
    let mut items = [Item::default(); 17];
    let mut count = 0;
    while !payload.is_empty() {
        if count == 17 {
            return Err("node has more than 17 items".into());
        }
        items[count] = next_item(&mut payload)?;
        count += 1;
    }
    match count {
        2 => {
            let encoded_path = string_payload(items[0])?;
            let (path, leaf) = hex_prefix_decode(encoded_path).ok_or("invalid hex-prefix path")?;
            if leaf {
                let value = string_payload(items[1])?;
                Ok(Decoded::Leaf { path, value })
            } else {
                if path.is_empty() {
                    return Err("extension with an empty path".into());
                }
                let child = child_ref(items[1])?;
                if child == ChildRef::Empty {
                    return Err("extension without a child".into());
                }
                Ok(Decoded::Extension { path, child })
            }
        }
        17 => {
            let mut children = [ChildRef::Empty; 16];
            for (slot, item) in children.iter_mut().zip(&items[..16]) {
                *slot = child_ref(*item)?;
            }
            let value = string_payload(items[16])?;
            let value = (!value.is_empty()).then_some(value);
            Ok(Decoded::Branch { children, value })
        }
        n => Err(format!("node has {n} items")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_keccak_of_empty_string() {
        assert_eq!(keccak256(&[EMPTY_STRING_CODE]), EMPTY_ROOT);
    }

    #[test]
    fn leaf_roundtrip_and_inline_ref() {
        let mut out = Vec::new();
        encode_leaf(&[1, 2, 3], b"ab", &mut out);
        // [0x31 0x23] path, "ab": list of 3 + 3 bytes.
        assert_eq!(out, vec![0xc6, 0x82, 0x31, 0x23, 0x82, b'a', b'b']);
        let r = NodeRef::of_encoding(&out);
        assert!(!r.is_hash());
        assert_eq!(r.as_slice(), &out[..]);
        match decode_node(&out).unwrap() {
            Decoded::Leaf { path, value } => {
                assert_eq!(path, vec![1, 2, 3]);
                assert_eq!(value, b"ab");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn leaves_of_key_suffixes_encode_like_unpacked_paths() {
        // Every starting nibble, odd and even, of a 33-byte key; a 1-byte value keeps the leaf
        // under 56 bytes (a one-byte list header) and a 40-byte value takes it over (a longer one).
        let key: Vec<u8> = (0..33u8).map(|i| i.wrapping_mul(37)).collect();
        let nibbles = super::super::nibbles::unpack(&key);
        for value in [&b"v"[..], &[9; 40]] {
            for from in 0..=nibbles.len() {
                let (mut packed, mut unpacked) = (Vec::new(), Vec::new());
                encode_leaf_of_key_suffix(&key, from, value, &mut packed);
                encode_leaf(&nibbles[from..], value, &mut unpacked);
                assert_eq!(packed, unpacked, "from nibble {from}");
            }
        }
    }

    #[test]
    fn branch_roundtrip() {
        let mut leaf = Vec::new();
        encode_leaf(&[5], &[7; 40], &mut leaf);
        let hashed = NodeRef::of_encoding(&leaf);
        assert!(hashed.is_hash());
        let mut small = Vec::new();
        encode_leaf(&[], b"x", &mut small);
        let inline = NodeRef::of_encoding(&small);
        let mut children = [None; 16];
        children[3] = Some(hashed);
        children[9] = Some(inline);
        let mut out = Vec::new();
        encode_branch(
            children.each_ref().map(Option::as_ref),
            Some(b"v"),
            &mut out,
        );
        match decode_node(&out).unwrap() {
            Decoded::Branch { children: c, value } => {
                assert_eq!(c[3], ChildRef::Hash(*hashed.as_hash().unwrap()));
                assert_eq!(c[9], ChildRef::Inline(&small));
                assert_eq!(c[0], ChildRef::Empty);
                assert_eq!(value, Some(&b"v"[..]));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode_node(&[0x80]).is_err());
        assert!(decode_node(&[0xc0]).is_err());
        assert!(decode_node(&[0xc3, 0x80, 0x80, 0x80]).is_err());
        assert!(decode_node(&[0xc2, 0x00]).is_err());
        // Trailing byte after the list.
        assert!(decode_node(&[0xc2, 0x20, 0x01, 0x00]).is_err());
        // Extension (flag 0) pointing at an empty child.
        assert!(decode_node(&[0xc2, 0x11, 0x80]).is_err());
    }
}
