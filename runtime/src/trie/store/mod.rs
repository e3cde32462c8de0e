//! The node store: where committed trie nodes live, behind the small [`NodeStore`] trait.
//!
//! Nodes are keyed by `(version, namespace, path)` ([`NodeKey`]), not by hash: every commit
//! writes one contiguous run of keys at the end of the key space, which keeps a B-tree store
//! (redb) from rewriting a random page per node. A parent's record lists the version each hashed
//! child was written at, so loading a node is one lookup. Both backends group a commit's records
//! into pages (`page`): one database value per ~16 KiB of records. Each commit also records which
//! older nodes it superseded (the stale index) so that [`NodeStore::prune`] can delete exactly
//! the nodes no retained version needs. See `docs/trie.md`.

pub mod memory;
pub(crate) mod page;
pub mod redb;

use super::codec::Hash;
use super::error::StoreError;
use super::nibbles::pack_padded;
use super::node::{push_varint, read_varint};

/// Separates tries sharing one store (e.g. the account trie and each contract's storage trie).
pub type Namespace = [u8; 32];

/// Where a stored node lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeKey {
    /// The trie the node belongs to.
    pub namespace: Namespace,
    /// The commit version that wrote the node.
    pub version: u64,
    /// The node's nibble path from the root.
    pub path: Vec<u8>,
}

impl NodeKey {
    /// Byte encoding used as the database key: `version (BE) ‖ namespace ‖ packed path ‖ odd`.
    /// Version first, so one commit's nodes are contiguous and appended after older ones.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 + self.path.len() / 2 + 2);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.namespace);
        self.encode_suffix(&mut out);
        out
    }

    /// The part of [`NodeKey::encode`] after `version ‖ namespace`: `packed path ‖ odd`.
    pub(crate) fn encode_suffix(&self, out: &mut Vec<u8>) {
        pack_padded(&self.path, out);
        out.push((self.path.len() % 2) as u8);
    }
}

/// A committed root: its hash and the version its root node was written at
/// (`None` for the empty trie, which has no node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredRoot {
    /// The root hash.
    pub hash: Hash,
    /// Version of the root node's record, if the trie is not empty.
    pub node_version: Option<u64>,
}

impl StoredRoot {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = self.hash.to_vec();
        if let Some(v) = self.node_version {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let bad =
            || StoreError::Database(format!("malformed root record of {} bytes", bytes.len()));
        let hash: Hash = bytes
            .get(..32)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(bad)?;
        let node_version = match bytes.len() {
            32 => None,
            40 => Some(u64::from_be_bytes(
                bytes[32..].try_into().map_err(|_| bad())?,
            )),
            _ => return Err(bad()),
        };
        Ok(Self { hash, node_version })
    }
}

/// Key of a root record: `namespace ‖ version (BE)`, so the roots of one trie are ordered.
pub(crate) fn root_key(namespace: &Namespace, version: u64) -> Vec<u8> {
    let mut out = namespace.to_vec();
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// Version part of a root key.
pub(crate) fn version_of_root_key(key: &[u8]) -> Result<u64, StoreError> {
    key.get(32..40)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Database("malformed root key".into()))
}

/// Root keys (given in key order) that pruning to `keep_from` deletes: every root older than a
/// later root of the same namespace that is itself at or before `keep_from`.
pub(crate) fn superseded_roots<'a>(
    keys: impl Iterator<Item = &'a [u8]>,
    keep_from: u64,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    let mut prev: Option<&[u8]> = None;
    for key in keys {
        let version = version_of_root_key(key)?;
        if let Some(p) = prev {
            if p.get(..32) == key.get(..32) && version <= keep_from {
                out.push(p.to_vec());
            }
        }
        prev = Some(key);
    }
    Ok(out)
}

/// The first key (of node pages and of stale-index entries, which both start with a version)
/// that a rewind to `to_version` deletes, or `None` if no version follows it.
pub(crate) fn rewind_bound(to_version: u64) -> Option<[u8; 8]> {
    to_version.checked_add(1).map(u64::to_be_bytes)
}

/// Whether a root key belongs to a version after `to_version` (a malformed key is kept).
pub(crate) fn root_after(key: &[u8], to_version: u64) -> bool {
    version_of_root_key(key).is_ok_and(|v| v > to_version)
}

/// Key of a stale-index entry: `stale_since (BE) ‖ namespace`. Its value lists every node of
/// that namespace superseded at `stale_since` (one entry per commit, not one per node, so the
/// index costs one insert per commit).
pub(crate) fn stale_key(stale_since: u64, namespace: &Namespace) -> Vec<u8> {
    let mut out = stale_since.to_be_bytes().to_vec();
    out.extend_from_slice(namespace);
    out
}

/// Appends `key` to a stale list: LEB128 length, then the encoded node key.
fn push_stale(list: &mut Vec<u8>, key: &[u8]) {
    push_varint(key.len() as u64, list);
    list.extend_from_slice(key);
}

/// The encoded node keys in a stale list.
pub(crate) fn parse_stale(mut list: &[u8]) -> Result<Vec<&[u8]>, StoreError> {
    let bad = || StoreError::Database("malformed stale list".into());
    let mut out = Vec::new();
    while !list.is_empty() {
        let len = read_varint(&mut list).map_err(|_| bad())?;
        let len = usize::try_from(len).map_err(|_| bad())?;
        if len > list.len() {
            return Err(bad());
        }
        let (key, rest) = list.split_at(len);
        out.push(key);
        list = rest;
    }
    Ok(out)
}

/// Everything one atomic commit writes: new nodes, the stale index, new roots and new contract
/// code. Several tries can add their commits to one batch (see `Trie::prepare_commit`).
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    /// New node records.
    pub nodes: Vec<(NodeKey, Vec<u8>)>,
    /// Nodes superseded by this batch, with the version from which they are no longer needed.
    pub stale: Vec<(u64, NodeKey)>,
    /// Roots committed by this batch.
    pub roots: Vec<(Namespace, u64, StoredRoot)>,
    /// Contract code by keccak-256 hash. Code is content-addressed and never pruned.
    pub code: Vec<(Hash, Vec<u8>)>,
}

impl WriteBatch {
    /// Stale-index entries, one per `(stale_since, namespace)`, sorted by key.
    pub(crate) fn stale_lists(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut lists: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = Default::default();
        for (since, node) in &self.stale {
            let list = lists.entry(stale_key(*since, &node.namespace)).or_default();
            push_stale(list, &node.encode());
        }
        lists.into_iter().collect()
    }
}

/// What a prune or a rewind removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Node records deleted.
    pub nodes: u64,
    /// Root records deleted.
    pub roots: u64,
}

/// Storage for committed trie nodes and contract code. Implementations are cheap handles
/// (clone to share).
pub trait NodeStore {
    /// The record stored under `key`, if any.
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError>;

    /// The contract code whose keccak-256 hash is `hash`, if stored.
    fn code(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError>;

    /// The latest root of `namespace` committed at or before `version`.
    fn root_at(
        &self,
        namespace: &Namespace,
        version: u64,
    ) -> Result<Option<(u64, StoredRoot)>, StoreError>;

    /// Applies a batch atomically: after an error nothing of it is visible.
    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError>;

    /// Deletes every node and root not needed to read versions `>= keep_from`.
    /// Versions below `keep_from` may no longer be readable afterwards.
    fn prune(&self, keep_from: u64) -> Result<PruneStats, StoreError>;

    /// Deletes everything the versions after `to_version` wrote (their node records,
    /// stale-index entries and roots), atomically: the store then reads exactly as it did right
    /// after `to_version` was committed, and later version numbers can be committed again.
    /// Code is content-addressed and stays. Versions pruned away before stay unreadable.
    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError>;
}

impl<T: NodeStore + ?Sized> NodeStore for &T {
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).node(key)
    }
    fn code(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).code(hash)
    }
    fn root_at(
        &self,
        namespace: &Namespace,
        version: u64,
    ) -> Result<Option<(u64, StoredRoot)>, StoreError> {
        (**self).root_at(namespace, version)
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        (**self).write(batch)
    }
    fn prune(&self, keep_from: u64) -> Result<PruneStats, StoreError> {
        (**self).prune(keep_from)
    }
    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        (**self).rewind(to_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_keys_are_unique_and_version_ordered() {
        let key = |v, p: &[u8]| {
            NodeKey {
                namespace: [0; 32],
                version: v,
                path: p.to_vec(),
            }
            .encode()
        };
        let paths: [&[u8]; 5] = [&[], &[0], &[0, 0], &[1], &[1, 0]];
        let mut encoded: Vec<_> = paths.iter().map(|p| key(1, p)).collect();
        encoded.sort();
        encoded.dedup();
        assert_eq!(encoded.len(), paths.len());
        assert!(key(1, &[15, 15, 15]) < key(2, &[]));
    }

    #[test]
    fn stale_lists_roundtrip() {
        let node = |v, p: &[u8]| NodeKey {
            namespace: [1; 32],
            version: v,
            path: p.to_vec(),
        };
        let batch = WriteBatch {
            stale: vec![
                (5, node(1, &[1, 2])),
                (5, node(2, &[])),
                (6, node(3, &[0; 300])),
            ],
            ..WriteBatch::default()
        };
        let lists = batch.stale_lists();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].0, stale_key(5, &[1; 32]));
        let keys = parse_stale(&lists[0].1).unwrap();
        assert_eq!(
            keys,
            vec![node(1, &[1, 2]).encode().as_slice(), &node(2, &[]).encode()]
        );
        assert_eq!(
            parse_stale(&lists[1].1).unwrap(),
            vec![node(3, &[0; 300]).encode().as_slice()]
        );
        assert!(parse_stale(&[5, 1]).is_err());
    }

    #[test]
    fn root_record_roundtrip() {
        for r in [
            StoredRoot {
                hash: [7; 32],
                node_version: None,
            },
            StoredRoot {
                hash: [8; 32],
                node_version: Some(99),
            },
        ] {
            assert_eq!(StoredRoot::decode(&r.encode()).unwrap(), r);
        }
        assert!(StoredRoot::decode(&[0; 33]).is_err());
    }
}
