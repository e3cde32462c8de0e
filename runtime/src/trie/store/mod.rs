//! The node store: where committed trie nodes live, behind the small [`NodeStore`] trait.
//!
//! Nodes are keyed by `(version, namespace, path)` ([`NodeKey`]), not by hash: every commit
//! writes one contiguous run of keys at the end of the key space, which keeps a B-tree store
//! (redb) from rewriting a random page per node. A parent's record lists the version each hashed
//! child was written at, so loading a node is one lookup. Both backends group a commit's records
//! into pages (`page`): one database value per ~16 KiB of records. Each commit also records which
//! older nodes it superseded (the stale index) so that [`NodeStore::prune`] can release the
//! nodes no retained version needs and reclaim their space (`prune`). See `docs/trie.md`.

pub mod memory;
pub(crate) mod page;
pub(crate) mod prune;
pub mod redb;
pub(crate) mod roots;
pub(crate) mod segment;

pub use prune::Reclaim;

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
        encode_path(&self.path, out);
    }
}

/// A nibble path as node keys end: `packed path ‖ odd`.
fn encode_path(path: &[u8], out: &mut Vec<u8>) {
    pack_padded(path, out);
    out.push((path.len() % 2) as u8);
}

/// Length of [`encode_path`]'s output for a path of `nibbles` nibbles.
fn encoded_path_len(nibbles: usize) -> usize {
    nibbles.div_ceil(2) + 1
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

/// Key of a stale-index entry: `stale_since (BE) ‖ namespace`. Its value lists every node of
/// that namespace superseded at `stale_since` (one entry per commit, not one per node, so the
/// index costs one insert per commit).
pub(crate) fn stale_key(stale_since: u64, namespace: &Namespace) -> Vec<u8> {
    let mut out = stale_since.to_be_bytes().to_vec();
    out.extend_from_slice(namespace);
    out
}

/// The stored nodes of one trie that edits superseded, encoded as the value of a stale-index
/// entry: per node `[LEB128 length][version (8, BE) ‖ packed path ‖ odd]`, i.e. its
/// [`NodeKey::encode`] without the namespace, which the index key carries. Kept encoded from
/// the edit that supersedes a node on, so a commit copies one buffer instead of building a
/// key per node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaleNodes {
    bytes: Vec<u8>,
    count: usize,
}

impl StaleNodes {
    /// Records the node stored at `version` under nibble path `path`.
    pub(crate) fn push(&mut self, version: u64, path: &[u8]) {
        push_varint((8 + encoded_path_len(path.len())) as u64, &mut self.bytes);
        self.bytes.extend_from_slice(&version.to_be_bytes());
        encode_path(path, &mut self.bytes);
        self.count += 1;
    }

    /// Number of nodes listed.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no node is listed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The listed nodes' keys, in `namespace`.
    pub fn keys(&self, namespace: &Namespace) -> Result<Vec<NodeKey>, StoreError> {
        parse_stale(&self.bytes)?
            .into_iter()
            .map(|entry| decode_stale_entry(namespace, entry))
            .collect()
    }
}

/// The entries (`version ‖ packed path ‖ odd`) of a stale list.
pub(crate) fn parse_stale(list: &[u8]) -> Result<Vec<&[u8]>, StoreError> {
    parse_items(list, 9, "stale list")
}

/// The items of a list of `[LEB128 length][item]`, each at least `min_len` bytes long (`what`
/// names the list in the error).
pub(crate) fn parse_items<'a>(
    mut list: &'a [u8],
    min_len: usize,
    what: &str,
) -> Result<Vec<&'a [u8]>, StoreError> {
    let bad = || StoreError::Database(format!("malformed {what}"));
    let mut out = Vec::new();
    while !list.is_empty() {
        let len = read_varint(&mut list).map_err(|_| bad())?;
        let len = usize::try_from(len).map_err(|_| bad())?;
        if len > list.len() || len < min_len {
            return Err(bad());
        }
        let (item, rest) = list.split_at(len);
        out.push(item);
        list = rest;
    }
    Ok(out)
}

fn bad_stale() -> StoreError {
    StoreError::Database("malformed stale list".into())
}

fn decode_stale_entry(namespace: &Namespace, entry: &[u8]) -> Result<NodeKey, StoreError> {
    let (version, suffix) = entry.split_at(8);
    let (packed, odd) = suffix.split_at(suffix.len() - 1);
    let mut path = super::nibbles::unpack(packed);
    match odd {
        [0] => {}
        [1] if !path.is_empty() => {
            path.pop();
        }
        _ => return Err(bad_stale()),
    }
    Ok(NodeKey {
        namespace: *namespace,
        // `parse_stale` guarantees at least 9 bytes per entry.
        version: u64::from_be_bytes(version.try_into().map_err(|_| bad_stale())?),
        path,
    })
}

/// One stale-index entry of a batch: the nodes of `namespace` superseded at `since`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleEntry {
    /// The version from which the nodes are no longer needed.
    pub since: u64,
    /// The trie the nodes belong to.
    pub namespace: Namespace,
    /// The superseded nodes.
    pub nodes: StaleNodes,
}

/// Everything one atomic commit writes: new nodes, the stale index, new roots and new contract
/// code. Several tries can add their commits to one batch (see `Trie::prepare_commit`).
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    /// New node records.
    pub nodes: Vec<(NodeKey, Vec<u8>)>,
    /// Nodes superseded by this batch, per trie.
    pub stale: Vec<StaleEntry>,
    /// Roots committed by this batch.
    pub roots: Vec<(Namespace, u64, StoredRoot)>,
    /// Contract code by keccak-256 hash. Code is content-addressed and never pruned.
    pub code: Vec<(Hash, Vec<u8>)>,
}

impl WriteBatch {
    /// Stale-index entries, one per `(stale_since, namespace)`, sorted by key.
    pub(crate) fn stale_lists(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut lists: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = Default::default();
        for entry in &self.stale {
            if entry.nodes.is_empty() {
                continue;
            }
            lists
                .entry(stale_key(entry.since, &entry.namespace))
                .or_default()
                .extend_from_slice(entry.nodes.as_bytes());
        }
        lists.into_iter().collect()
    }

    /// Number of superseded nodes the batch lists.
    pub fn stale_count(&self) -> usize {
        self.stale.iter().map(|e| e.nodes.len()).sum()
    }
}

/// What a prune or a rewind did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Node records deleted from the store.
    pub nodes: u64,
    /// Root records deleted.
    pub roots: u64,
    /// Node records a prune released: no retained version needs them any more. Their space is
    /// reclaimed when their segment is compacted (see [`Reclaim`]), so `nodes` counts them then.
    pub released: u64,
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

    /// Releases every node and deletes every root not needed to read versions `>= keep_from`,
    /// and reclaims the space of released nodes as `reclaim` says. Versions below `keep_from`
    /// may no longer be readable afterwards.
    fn prune(&self, keep_from: u64, reclaim: Reclaim) -> Result<PruneStats, StoreError>;

    /// The pruning point: the greatest `keep_from` pruned to (0 if the store was never
    /// pruned). Every version from it on reads whole.
    fn kept_from(&self) -> Result<u64, StoreError>;

    /// Deletes everything the versions after `to_version` wrote (their node records,
    /// stale-index entries and roots), atomically: the store then reads exactly as it did right
    /// after `to_version` was committed, and later version numbers can be committed again.
    /// Code is content-addressed and stays. A version below the pruning point (the greatest
    /// `keep_from` pruned to) is refused with [`StoreError::RewindPastPrune`].
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
    fn prune(&self, keep_from: u64, reclaim: Reclaim) -> Result<PruneStats, StoreError> {
        (**self).prune(keep_from, reclaim)
    }
    fn kept_from(&self) -> Result<u64, StoreError> {
        (**self).kept_from()
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
        let nodes = |keys: &[NodeKey]| {
            let mut list = StaleNodes::default();
            for k in keys {
                list.push(k.version, &k.path);
            }
            list
        };
        let first = [node(1, &[1, 2]), node(2, &[]), node(4, &[3, 4, 5])];
        let second = [node(3, &[0xf; 63])];
        let entry = |since, keys: &[NodeKey]| StaleEntry {
            since,
            namespace: [1; 32],
            nodes: nodes(keys),
        };
        let batch = WriteBatch {
            stale: vec![
                entry(6, &second),
                entry(5, &first[..2]),
                entry(5, &first[2..]),
                entry(7, &[]),
            ],
            ..WriteBatch::default()
        };
        assert_eq!(batch.stale_count(), 4);
        assert_eq!(batch.stale[0].nodes.keys(&[1; 32]).unwrap(), second);
        // Sorted by key, lists of one key merged, empty lists left out.
        let lists = batch.stale_lists();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].0, stale_key(5, &[1; 32]));
        assert_eq!(lists[1].0, stale_key(6, &[1; 32]));
        // Each entry is the database key of the node it lists without the namespace.
        let without_namespace = |k: &NodeKey| {
            let key = k.encode();
            [&key[..8], &key[40..]].concat()
        };
        let entries = |list| -> Vec<Vec<u8>> {
            parse_stale(list)
                .unwrap()
                .iter()
                .map(|e| e.to_vec())
                .collect()
        };
        let expected: Vec<Vec<u8>> = first.iter().map(without_namespace).collect();
        assert_eq!(entries(&lists[0].1), expected);
        assert_eq!(entries(&lists[1].1), vec![without_namespace(&second[0])]);
        // Truncated lists and entries too short to hold a version are errors.
        assert!(parse_stale(&[5, 1]).is_err());
        assert!(parse_stale(&[2, 0, 0]).is_err());
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
