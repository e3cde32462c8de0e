//! Shared test helpers: a seeded RNG, and two independent oracles for roots and proofs:
//! alloy-trie's `HashBuilder`/`verify_proof`, and a direct transcription of the Yellow Paper's
//! definition (appendix D) with its own RLP and hex-prefix code.
#![allow(dead_code)]

use std::collections::BTreeMap;

use alloy_primitives::{Bytes, B256};
use alloy_trie::proof::ProofRetainer;
use alloy_trie::{HashBuilder, Nibbles};
use tally_runtime::trie::keccak256;

/// SplitMix64: tiny, seeded, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Root according to alloy-trie's HashBuilder (keys must be prefix-free).
pub fn alloy_root(map: &BTreeMap<Vec<u8>, Vec<u8>>) -> [u8; 32] {
    let mut hb = HashBuilder::default();
    for (k, v) in map {
        hb.add_leaf(Nibbles::unpack(k), v);
    }
    hb.root().0
}

/// Proof for `key` produced by alloy-trie.
pub fn alloy_proof(map: &BTreeMap<Vec<u8>, Vec<u8>>, key: &[u8]) -> Vec<Vec<u8>> {
    let target = Nibbles::unpack(key);
    let mut hb = HashBuilder::default().with_proof_retainer(ProofRetainer::new(vec![target]));
    for (k, v) in map {
        hb.add_leaf(Nibbles::unpack(k), v);
    }
    hb.root();
    hb.take_proof_nodes()
        .matching_nodes_sorted(&target)
        .into_iter()
        .map(|(_, node)| node.to_vec())
        .collect()
}

/// Verifies a proof with alloy-trie's verifier.
pub fn alloy_verify(root: [u8; 32], key: &[u8], value: Option<&[u8]>, proof: &[Vec<u8>]) -> bool {
    let nodes: Vec<Bytes> = proof.iter().map(|n| Bytes::from(n.clone())).collect();
    alloy_trie::proof::verify_proof(
        B256::from(root),
        Nibbles::unpack(key),
        value.map(<[u8]>::to_vec),
        nodes.iter(),
    )
    .is_ok()
}

// ---- Yellow Paper reference: c(J, i), written from the definition, nothing shared. ----

fn rlp_string(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        return bytes.to_vec();
    }
    let mut out = rlp_length(bytes.len(), 0x80);
    out.extend_from_slice(bytes);
    out
}

fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload: Vec<u8> = items.concat();
    let mut out = rlp_length(payload.len(), 0xc0);
    out.extend(payload);
    out
}

fn rlp_length(len: usize, offset: u8) -> Vec<u8> {
    if len < 56 {
        return vec![offset + len as u8];
    }
    let be: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![offset + 55 + be.len() as u8];
    out.extend(be);
    out
}

fn hex_prefix(nibbles: &[u8], leaf: bool) -> Vec<u8> {
    let t = if leaf { 2 } else { 0 };
    let mut out = Vec::new();
    let mut rest = nibbles;
    if nibbles.len() % 2 == 1 {
        out.push(16 * (t + 1) + nibbles[0]);
        rest = &nibbles[1..];
    } else {
        out.push(16 * t);
    }
    for pair in rest.chunks(2) {
        out.push(16 * pair[0] + pair[1]);
    }
    out
}

/// n(J, i): how a node is referenced by its parent.
fn reference(items: &[(Vec<u8>, Vec<u8>)], depth: usize) -> Vec<u8> {
    let encoded = structure(items, depth);
    if encoded.len() < 32 {
        encoded
    } else {
        rlp_string(&keccak256(&encoded))
    }
}

/// c(J, i): the structural composition of the items below depth `depth`.
fn structure(items: &[(Vec<u8>, Vec<u8>)], depth: usize) -> Vec<u8> {
    if items.len() == 1 {
        let (k, v) = &items[0];
        return rlp_list(&[rlp_string(&hex_prefix(&k[depth..], true)), rlp_string(v)]);
    }
    let first = &items[0].0;
    let mut common = first.len() - depth;
    for (k, _) in items {
        let shared = k[depth..]
            .iter()
            .zip(&first[depth..])
            .take_while(|(a, b)| a == b)
            .count();
        common = common.min(shared);
    }
    if common > 0 {
        return rlp_list(&[
            rlp_string(&hex_prefix(&first[depth..depth + common], false)),
            reference(items, depth + common),
        ]);
    }
    let mut fields = Vec::new();
    for nibble in 0..16u8 {
        let below: Vec<_> = items
            .iter()
            .filter(|(k, _)| k.len() > depth && k[depth] == nibble)
            .cloned()
            .collect();
        fields.push(if below.is_empty() {
            rlp_string(&[])
        } else {
            reference(&below, depth + 1)
        });
    }
    let value = items
        .iter()
        .find(|(k, _)| k.len() == depth)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    fields.push(rlp_string(&value));
    rlp_list(&fields)
}

/// Root per the Yellow Paper definition; handles keys that are prefixes of each other.
pub fn reference_root(map: &BTreeMap<Vec<u8>, Vec<u8>>) -> [u8; 32] {
    if map.is_empty() {
        return keccak256(&rlp_string(&[]));
    }
    let items: Vec<(Vec<u8>, Vec<u8>)> = map
        .iter()
        .map(|(k, v)| (k.iter().flat_map(|b| [b >> 4, b & 15]).collect(), v.clone()))
        .collect();
    keccak256(&structure(&items, 0))
}

pub fn hex(s: &str) -> Vec<u8> {
    let s = s.trim_start_matches("0x");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn h256(s: &str) -> [u8; 32] {
    hex(s).try_into().unwrap()
}
