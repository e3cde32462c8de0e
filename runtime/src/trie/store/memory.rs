//! In-memory [`NodeStore`] for tests, the harness and purely in-memory tries. Same layout and
//! pruning semantics as the redb backend, kept in ordered maps.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    page, rewind_bound, root_after, root_key, stale_node_keys, version_of_root_key, Namespace,
    NodeKey, NodeStore, PruneStats, StoredRoot, WriteBatch,
};
use crate::trie::codec::Hash;
use crate::trie::error::StoreError;

#[derive(Debug, Default)]
struct Inner {
    /// Node pages (see `store::page`), by page key.
    nodes: BTreeMap<Vec<u8>, Vec<u8>>,
    stale: BTreeMap<Vec<u8>, Vec<u8>>,
    roots: BTreeMap<Vec<u8>, Vec<u8>>,
    code: BTreeMap<Hash, Vec<u8>>,
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
        let inner = self.lock()?;
        let mut count = 0;
        for page in inner.nodes.values() {
            count += page::entries(page)?.len();
        }
        Ok(count)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Database("memory store lock poisoned".into()))
    }
}

impl NodeStore for MemoryStore {
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.encode();
        let inner = self.lock()?;
        match inner.nodes.range(..=key.clone()).next_back() {
            Some((page_key, page)) if page::same_prefix(&key, page_key) => {
                Ok(page::find(page, &key[page::PREFIX..])?.map(<[u8]>::to_vec))
            }
            _ => Ok(None),
        }
    }

    fn code(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.code.get(hash).cloned())
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
        let nodes = batch.pages();
        let stale = batch.stale_lists();
        let mut inner = self.lock()?;
        for (k, v) in nodes {
            inner.nodes.insert(k, v);
        }
        for (k, list) in stale {
            inner.stale.entry(k).or_default().extend(list);
        }
        for (ns, version, root) in &batch.roots {
            inner.roots.insert(root_key(ns, *version), root.encode());
        }
        for (hash, code) in &batch.code {
            inner.code.insert(*hash, code.clone());
        }
        Ok(())
    }

    fn prune(&self, keep_from: u64) -> Result<PruneStats, StoreError> {
        let mut inner = self.lock()?;
        let mut stats = PruneStats::default();
        let bound = keep_from.saturating_add(1).to_be_bytes().to_vec();
        let doomed: Vec<Vec<u8>> = inner.stale.range(..bound).map(|(k, _)| k.clone()).collect();
        // Dead record suffixes per page, sorted.
        let mut dead: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
        for entry in doomed {
            let list = inner.stale.remove(&entry).unwrap_or_default();
            for key in stale_node_keys(&entry, &list)? {
                let page_key = inner
                    .nodes
                    .range::<[u8], _>((Bound::Unbounded, Bound::Included(key.as_slice())))
                    .next_back()
                    .map(|(k, _)| k);
                if let Some(page_key) = page_key.filter(|pk| page::same_prefix(&key, pk)) {
                    let suffixes = dead.entry(page_key.clone()).or_default();
                    suffixes.push(key[page::PREFIX..].to_vec());
                }
            }
        }
        for (page_key, mut suffixes) in dead {
            suffixes.sort();
            let Some(page) = inner.nodes.get(&page_key) else {
                continue;
            };
            let (kept, removed) = page::without(page, &suffixes)?;
            stats.nodes += removed;
            match kept {
                Some(kept) => inner.nodes.insert(page_key, kept),
                None => inner.nodes.remove(&page_key),
            };
        }
        let old_roots = super::superseded_roots(inner.roots.keys().map(Vec::as_slice), keep_from)?;
        for k in old_roots {
            inner.roots.remove(&k);
            stats.roots += 1;
        }
        Ok(stats)
    }

    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        let Some(bound) = rewind_bound(to_version) else {
            return Ok(PruneStats::default());
        };
        let mut inner = self.lock()?;
        let mut stats = PruneStats::default();
        // Counted before anything changes, so a malformed page leaves the store untouched.
        for page in inner.nodes.range(bound.to_vec()..).map(|(_, p)| p) {
            stats.nodes += page::entries(page)?.len() as u64;
        }
        inner.nodes.split_off(bound.as_slice());
        inner.stale.split_off(bound.as_slice());
        let before = inner.roots.len();
        inner.roots.retain(|k, _| !root_after(k, to_version));
        stats.roots = (before - inner.roots.len()) as u64;
        Ok(stats)
    }
}
