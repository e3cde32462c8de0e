//! Merkle proofs in the EIP-1186 shape: the RLP of every node on the path to a key, root first
//! (embedded nodes travel inside their parent, as in geth). Verification needs only keccak and
//! RLP, and also accepts proofs that list embedded nodes separately (as alloy-trie does).

use super::codec::{decode_node, keccak256, ChildRef, Decoded, Hash, EMPTY_ROOT};
use super::edit::load_node;
use super::error::{ProofError, TrieError};
use super::hashing::encode_current;
use super::merkle::Trie;
use super::nibbles::unpack;
use super::node::{Node, Slot};
use super::store::NodeStore;

impl<S: NodeStore> Trie<S> {
    /// The proof for `key` against the current root (hashing pending changes first). It proves
    /// the value if the key is present and its absence otherwise.
    pub fn proof(&mut self, key: &[u8]) -> Result<Vec<Vec<u8>>, TrieError> {
        self.root();
        let mut out = Vec::new();
        self.prove_in(
            self.root_slot(),
            &mut Vec::new(),
            &unpack(key),
            true,
            &mut out,
        )?;
        Ok(out)
    }

    fn prove_in(
        &self,
        slot: &Slot,
        path: &mut Vec<u8>,
        key: &[u8],
        is_root: bool,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), TrieError> {
        let loaded;
        let node = match (&slot.node, slot.cache.and_then(|r| r.as_hash().copied())) {
            (Some(node), _) => node,
            (None, None) => return Ok(()),
            (None, Some(hash)) => {
                let version = slot.version.get().unwrap_or_default();
                loaded = load_node(self.store(), self.namespace(), version, path, &hash)?;
                &loaded
            }
        };
        if is_root || slot.is_hashed() {
            let mut rlp = Vec::new();
            encode_current(node, &mut rlp);
            out.push(rlp);
        }
        match node {
            Node::Extension(ext) if key.starts_with(&ext.path) => {
                path.extend_from_slice(&ext.path);
                self.prove_in(&ext.child, path, &key[ext.path.len()..], false, out)
            }
            Node::Branch(branch) => match key.split_first() {
                Some((&i, rest)) => {
                    path.push(i);
                    self.prove_in(&branch.children[usize::from(i)], path, rest, false, out)
                }
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
