//! Merkle proofs in the EIP-1186 shape: the RLP of every node on the path to a key, root first
//! (embedded nodes travel inside their parent, as in geth). Verification needs only keccak and
//! RLP, and also accepts proofs that list embedded nodes separately (as alloy-trie does).

use super::codec::{decode_node, keccak256, ChildRef, Decoded, Hash, EMPTY_ROOT};
use super::error::{ProofError, TrieError};
use super::merkle::{encode_current, load_node, Trie};
use super::nibbles::unpack;
use super::node::{Kind, Node};
use super::store::NodeStore;

impl<S: NodeStore> Trie<S> {
    /// The proof for `key` against the current root (hashing pending changes first). It proves
    /// the value if the key is present and its absence otherwise.
    pub fn proof(&mut self, key: &[u8]) -> Result<Vec<Vec<u8>>, TrieError> {
        self.root();
        let mut out = Vec::new();
        if let Some(root) = self.root_node() {
            self.prove_in(root, &mut Vec::new(), &unpack(key), true, &mut out)?;
        }
        Ok(out)
    }

    fn prove_in(
        &self,
        node: &Node,
        path: &mut Vec<u8>,
        key: &[u8],
        is_root: bool,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), TrieError> {
        if let Kind::Stub(hash) = &node.kind {
            let version = node.stored.unwrap_or_default();
            let loaded = load_node(self.store(), self.namespace(), version, path, hash)?;
            return self.prove_in(&loaded, path, key, is_root, out);
        }
        if is_root || node.cache.is_some_and(|r| r.is_hash()) {
            let mut rlp = Vec::new();
            encode_current(node, &mut rlp);
            out.push(rlp);
        }
        match &node.kind {
            Kind::Extension { path: p, child } if key.starts_with(p) => {
                path.extend_from_slice(p);
                self.prove_in(child, path, &key[p.len()..], false, out)
            }
            Kind::Branch { children, .. } => match key.split_first() {
                Some((&i, rest)) => match &children[usize::from(i)] {
                    Some(child) => {
                        path.push(i);
                        self.prove_in(child, path, rest, false, out)
                    }
                    None => Ok(()),
                },
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// Verifies `proof` for `key` against `root`. Returns the proven value, or `None` if the proof
/// shows the key is absent.
pub fn verify_proof<P: AsRef<[u8]>>(
    root: &Hash,
    key: &[u8],
    proof: &[P],
) -> Result<Option<Vec<u8>>, ProofError> {
    if *root == EMPTY_ROOT {
        return match proof {
            [] => Ok(None),
            [only] if only.as_ref() == [alloy_rlp::EMPTY_STRING_CODE] => Ok(None),
            _ => Err(ProofError::RootMismatch),
        };
    }
    let nibbles = unpack(key);
    let mut remaining: &[u8] = &nibbles;
    let mut next = ChildRef::Hash(*root);
    let mut used = 0;
    let value = loop {
        let (rlp, index) = match next {
            ChildRef::Hash(expected) => {
                let rlp = proof.get(used).ok_or(ProofError::Incomplete)?.as_ref();
                if keccak256(rlp) != expected {
                    return Err(if used == 0 {
                        ProofError::RootMismatch
                    } else {
                        ProofError::HashMismatch(used)
                    });
                }
                used += 1;
                (rlp, used - 1)
            }
            ChildRef::Inline(rlp) => {
                // Embedded nodes travel inside their parent. Some producers (alloy-trie) also
                // list them separately; accept such a copy when it is byte-identical.
                if proof.get(used).map(AsRef::as_ref) == Some(rlp) {
                    used += 1;
                }
                (rlp, used.saturating_sub(1))
            }
            ChildRef::Empty => break None,
        };
        let node = decode_node(rlp).map_err(|reason| ProofError::Malformed { index, reason })?;
        match node {
            Decoded::Leaf { path, value } => {
                break (path.as_slice() == remaining).then(|| value.to_vec());
            }
            Decoded::Extension { path, child } => {
                if !remaining.starts_with(&path) {
                    break None;
                }
                remaining = &remaining[path.len()..];
                next = child;
            }
            Decoded::Branch { children, value } => match remaining.split_first() {
                None => break value.map(<[u8]>::to_vec),
                Some((&i, rest)) => {
                    remaining = rest;
                    next = children[usize::from(i)];
                }
            },
        }
    };
    if used < proof.len() {
        return Err(ProofError::TrailingNodes(proof.len() - used));
    }
    Ok(value)
}
