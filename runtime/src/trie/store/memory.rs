//! In-memory [`NodeStore`] for tests, the harness and purely in-memory tries. Same layout and
//! pruning semantics as the redb backend, kept in ordered maps.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use super::page::{self, Layout};
use super::prune::{self, Entries, Entry, Reclaim, Table, Tables};
use super::{
    root_key, version_of_root_key, Namespace, NodeKey, NodeStore, PruneStats, StoredRoot,
    WriteBatch,
};
use crate::trie::codec::Hash;
use crate::trie::error::StoreError;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// The tables of a memory store.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Node pages (see `store::page`), by page key.
    nodes: Map,
    stale: Map,
    dead: Map,
    segments: Map,
    due: Map,
    meta: Map,
    roots: Map,
    root_log: Map,
    code: BTreeMap<Hash, Vec<u8>>,
}

impl Inner {
    fn table(&mut self, table: Table) -> &mut Map {
        match table {
            Table::Nodes => &mut self.nodes,
            Table::Stale => &mut self.stale,
            Table::Dead => &mut self.dead,
            Table::Segments => &mut self.segments,
            Table::Due => &mut self.due,
            Table::Meta => &mut self.meta,
            Table::Roots => &mut self.roots,
            Table::RootLog => &mut self.root_log,
        }
    }
}

impl Tables for Inner {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.table(table).get(key).cloned())
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.table(table).insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        self.table(table).remove(key);
        Ok(())
    }

    fn range(
        &mut self,
        table: Table,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> Result<Entries, StoreError> {
        let end = end.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self
            .table(table)
            .range::<[u8], _>((Bound::Included(start), end))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn before(&mut self, table: Table, key: &[u8]) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .table(table)
            .range::<[u8], _>((Bound::Unbounded, Bound::Excluded(key)))
            .next_back()
            .map(|(k, v)| (k.clone(), v.clone())))
    }
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

    /// Number of node records held (released ones included until they are reclaimed).
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
        let layout = Layout::new(&batch.nodes);
        let mut inner = self.lock()?;
        for span in &layout.pages {
            let mut page = vec![0; span.len];
            layout.fill(span, &mut page);
            inner.nodes.insert(span.key.clone(), page);
        }
        prune::index_batch(&mut *inner, &layout, batch)?;
        for (hash, code) in &batch.code {
            inner.code.insert(*hash, code.clone());
        }
        Ok(())
    }

    fn prune(&self, keep_from: u64, reclaim: Reclaim) -> Result<PruneStats, StoreError> {
        prune::prune(&mut *self.lock()?, keep_from, reclaim)
    }

    fn kept_from(&self) -> Result<u64, StoreError> {
        prune::kept_from(&mut *self.lock()?)
    }

    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        prune::rewind(&mut *self.lock()?, to_version)
    }
}
