//! RLP helpers shared by accounts, transactions, addresses and the chain's blocks and
//! receipts: lists of byte strings, lists of already-encoded items, and integers without
//! leading zeros (RLP itself comes from `alloy-rlp`).

use alloy_rlp::{Encodable, Header};

/// `rlp([fields...])` where every field is a byte string.
pub fn encode_list(fields: &[&[u8]]) -> Vec<u8> {
    let payload_length = fields.iter().map(|f| f.length()).sum();
    let mut out = Vec::with_capacity(payload_length + 9);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    for field in fields {
        field.encode(&mut out);
    }
    out
}

/// The list whose items are already RLP-encoded in `payload` (the header is derived from the
/// bytes themselves, so it cannot disagree with them).
pub fn wrap_list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 9);
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(payload);
    out
}

/// The big-endian bytes of an integer without leading zeros (RLP's integer form).
pub fn trim_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}
