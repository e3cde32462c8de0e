//! In-memory [`NodeStore`] for tests, the harness and purely in-memory tries. Same layout and
//! pruning semantics as the redb backend, kept in ordered maps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    root_key, version_of_root_key, Namespace, NodeKey, NodeStore, PruneStats, StoredRoot,
    WriteBatch,
};
use crate::trie::error::StoreError;

#[derive(Debug, Default)]
struct Inner {
    nodes: BTreeMap<Vec<u8>, Vec<u8>>,
    stale: BTreeSet<Vec<u8>>,
    roots: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// An in-memory node store. Clones share the same contents.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of node records held.
    pub fn node_count(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.nodes.len())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Database("memory store lock poisoned".into()))
    }
}

impl NodeStore for MemoryStore {
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.nodes.get(&key.encode()).cloned())
    }

    fn root_at(
        &self,
        namespace: &Namespace,
        version: u64,
    ) -> Result<Option<(u64, StoredRoot)>, StoreError> {
        let inner = self.lock()?;
        let found = inner
            .roots
            .range(root_key(namespace, 0)..=root_key(namespace, version))
            .next_back();
        match found {
            Some((k, v)) => Ok(Some((version_of_root_key(k)?, StoredRoot::decode(v)?))),
            None => Ok(None),
        }
    }

    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        let nodes = batch.sorted_nodes();
        let stale = batch.sorted_stale();
        let mut inner = self.lock()?;
        for (k, v) in nodes {
            inner.nodes.insert(k, v.to_vec());
        }
        inner.stale.extend(stale);
        for (ns, version, root) in &batch.roots {
            inner.roots.insert(root_key(ns, *version), root.encode());
        }
        Ok(())
    }

    fn prune(&self, keep_from: u64) -> Result<PruneStats, StoreError> {
        let mut inner = self.lock()?;
        let mut stats = PruneStats::default();
        let bound = keep_from.saturating_add(1).to_be_bytes().to_vec();
        let doomed: Vec<Vec<u8>> = inner.stale.range(..bound).cloned().collect();
        for entry in doomed {
            inner.stale.remove(&entry);
            if inner.nodes.remove(&entry[8..]).is_some() {
                stats.nodes += 1;
            }
        }
        let old_roots = super::superseded_roots(inner.roots.keys().map(Vec::as_slice), keep_from)?;
        for k in old_roots {
            inner.roots.remove(&k);
            stats.roots += 1;
        }
        Ok(stats)
    }
}
