//! Nibble paths and the hex-prefix (compact) encoding of the Ethereum Yellow Paper, appendix C.
//!
//! Paths are plain byte slices holding one nibble (0..=15) per byte; this keeps slicing and
//! comparison trivial. Packing happens only at the edges (hex-prefix encoding, store keys).

/// Expands bytes into nibbles, high nibble first.
pub fn unpack(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(b >> 4);
        out.push(b & 0x0f);
    }
    out
}

/// [`unpack`] without a heap allocation for keys of up to 32 bytes (the common case).
pub(crate) fn unpack_small(bytes: &[u8]) -> smallvec::SmallVec<[u8; 64]> {
    if bytes.len() > 32 {
        return unpack(bytes).into();
    }
    // Filled in place: pushing nibble by nibble checked the capacity 64 times per key.
    let mut nibbles = [0u8; 64];
    for (pair, b) in nibbles.chunks_exact_mut(2).zip(bytes) {
        pair[0] = b >> 4;
        pair[1] = b & 0x0f;
    }
    smallvec::SmallVec::from_buf_and_len(nibbles, bytes.len() * 2)
}

/// The nibble at `index` of the packed key `bytes`, if the key is that long (no unpacking).
pub(crate) fn nibble_at(bytes: &[u8], index: usize) -> Option<usize> {
    (index / 2 < bytes.len()).then(|| usize::from(nibble(bytes, index)))
}

/// The nibble at `index` of the packed key `bytes`, for callers that know the key is that long
/// (it panics otherwise).
pub(crate) fn nibble(bytes: &[u8], index: usize) -> u8 {
    let byte = bytes[index / 2];
    if index.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}

/// Packs an even number of nibbles back into bytes. Returns `None` for an odd count.
pub fn pack(nibbles: &[u8]) -> Option<Vec<u8>> {
    if !nibbles.len().is_multiple_of(2) {
        return None;
    }
    Some(
        nibbles
            .chunks_exact(2)
            .map(|pair| (pair[0] << 4) | (pair[1] & 0x0f))
            .collect(),
    )
}

/// Packs any number of nibbles; an odd count leaves the low half of the last byte zero.
pub(crate) fn pack_padded(nibbles: &[u8], out: &mut Vec<u8>) {
    for pair in nibbles.chunks(2) {
        let low = pair.get(1).copied().unwrap_or(0);
        out.push((pair[0] << 4) | (low & 0x0f));
    }
}

/// Length of the longest common prefix of two nibble paths.
pub fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The first byte of a hex-prefix encoding: the leaf and odd-length flags, and the first nibble
/// when the number of nibbles is odd.
fn hex_prefix_head(leaf: bool, odd_first: Option<u8>) -> u8 {
    let flag = if leaf { 0x20 } else { 0x00 };
    match odd_first {
        Some(nibble) => flag | 0x10 | (nibble & 0x0f),
        None => flag,
    }
}

/// Hex-prefix encodes `nibbles`, flagging a leaf (terminator) or an extension.
pub fn hex_prefix_encode(nibbles: &[u8], leaf: bool, out: &mut Vec<u8>) {
    let rest = if nibbles.len() % 2 == 1 {
        out.push(hex_prefix_head(leaf, Some(nibbles[0])));
        &nibbles[1..]
    } else {
        out.push(hex_prefix_head(leaf, None));
        nibbles
    };
    for pair in rest.chunks_exact(2) {
        out.push((pair[0] << 4) | (pair[1] & 0x0f));
    }
}

/// Hex-prefix encodes the nibbles of the packed `key` from nibble `from` to its end: the same
/// bytes as [`hex_prefix_encode`] of those nibbles, copied rather than unpacked and repacked
/// (a suffix stays aligned to bytes whatever `from` is). `from` is at most `2 * key.len()`.
pub(crate) fn hex_prefix_encode_suffix(key: &[u8], from: usize, leaf: bool, out: &mut Vec<u8>) {
    if from % 2 == 1 {
        out.push(hex_prefix_head(leaf, Some(key[from / 2])));
        out.extend_from_slice(&key[from / 2 + 1..]);
    } else {
        out.push(hex_prefix_head(leaf, None));
        out.extend_from_slice(&key[from / 2..]);
    }
}

/// Length in bytes of the hex-prefix encoding of `n` nibbles.
pub fn hex_prefix_len(n: usize) -> usize {
    n / 2 + 1
}

/// Decodes a hex-prefix encoded path into `(nibbles, is_leaf)`; `None` if the flag is invalid.
pub fn hex_prefix_decode(encoded: &[u8]) -> Option<(Vec<u8>, bool)> {
    let (&first, rest) = encoded.split_first()?;
    let flag = first >> 4;
    if flag > 3 {
        return None;
    }
    let leaf = flag & 0x2 != 0;
    let odd = flag & 0x1 != 0;
    let mut nibbles = Vec::with_capacity(rest.len() * 2 + 1);
    if odd {
        nibbles.push(first & 0x0f);
    } else if first & 0x0f != 0 {
        return None;
    }
    for b in rest {
        nibbles.push(b >> 4);
        nibbles.push(b & 0x0f);
    }
    Some((nibbles, leaf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibbles_of_packed_keys() {
        let key = [0xab, 0x0c];
        let nibbles: Vec<_> = (0..5).map(|i| nibble_at(&key, i)).collect();
        assert_eq!(nibbles, [Some(0xa), Some(0xb), Some(0), Some(0xc), None]);
    }

    #[test]
    fn yellow_paper_examples() {
        // Examples from the Ethereum wiki's Patricia tree page.
        let cases: &[(&[u8], bool, &[u8])] = &[
            (&[1, 2, 3, 4, 5], false, &[0x11, 0x23, 0x45]),
            (&[0, 1, 2, 3, 4, 5], false, &[0x00, 0x01, 0x23, 0x45]),
            (&[0, 15, 1, 12, 11, 8], true, &[0x20, 0x0f, 0x1c, 0xb8]),
            (&[15, 1, 12, 11, 8], true, &[0x3f, 0x1c, 0xb8]),
            (&[], true, &[0x20]),
            (&[], false, &[0x00]),
        ];
        for (nibbles, leaf, encoded) in cases {
            let mut out = Vec::new();
            hex_prefix_encode(nibbles, *leaf, &mut out);
            assert_eq!(&out[..], *encoded);
            assert_eq!(hex_prefix_len(nibbles.len()), encoded.len());
            assert_eq!(hex_prefix_decode(encoded), Some((nibbles.to_vec(), *leaf)));
        }
    }

    #[test]
    fn small_and_large_keys_unpack_alike() {
        for len in [0usize, 1, 31, 32, 33, 70] {
            let key: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(29) ^ 0xa5).collect();
            assert_eq!(
                unpack_small(&key).as_slice(),
                unpack(&key).as_slice(),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn suffixes_encode_like_their_nibbles() {
        let key = [0x12, 0x34, 0x5f];
        let nibbles = unpack(&key);
        for from in 0..=nibbles.len() {
            for leaf in [true, false] {
                let (mut packed, mut unpacked) = (Vec::new(), Vec::new());
                hex_prefix_encode_suffix(&key, from, leaf, &mut packed);
                hex_prefix_encode(&nibbles[from..], leaf, &mut unpacked);
                assert_eq!(packed, unpacked, "from nibble {from}, leaf {leaf}");
            }
        }
    }

    #[test]
    fn rejects_bad_flags() {
        assert_eq!(hex_prefix_decode(&[0x40]), None);
        assert_eq!(hex_prefix_decode(&[0x01]), None);
        assert_eq!(hex_prefix_decode(&[]), None);
    }

    #[test]
    fn pack_roundtrip() {
        let bytes = vec![0xab, 0x01, 0xf0];
        let n = unpack(&bytes);
        assert_eq!(n, vec![0xa, 0xb, 0, 1, 0xf, 0]);
        assert_eq!(pack(&n), Some(bytes));
        assert_eq!(pack(&n[..3]), None);
        let mut padded = Vec::new();
        pack_padded(&n[..3], &mut padded);
        assert_eq!(padded, vec![0xab, 0x00]);
        assert_eq!(common_prefix_len(&n, &[0xa, 0xb, 1]), 2);
    }
}
