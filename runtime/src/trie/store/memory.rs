//! In-memory [`NodeStore`] for tests, the harness and purely in-memory tries. Same layout and
//! pruning semantics as the redb backend, kept in ordered maps. Like the redb backend's
//! transactions, a write, prune or rewind that fails halfway (on a corrupt record) leaves the
//! store as it was: its changes are undone (`Inner::all_or_nothing`).

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

/// A table change as it can be undone: the table, the key and the value it replaced.
type Replaced = (Table, Vec<u8>, Option<Vec<u8>>);

/// The tables of a memory store.
#[derive(Debug, Default)]
#[cfg_attr(test, derive(Clone, PartialEq))]
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
    /// While an operation runs ([`Inner::all_or_nothing`]), what each of its changes replaced.
    undo: Option<Vec<Replaced>>,
}

impl Inner {
    /// Runs `operation` on the tables, all or nothing: if it fails, its changes are undone,
    /// newest first. Operations do not nest: a nested one would replace the outer undo log.
    fn all_or_nothing<R>(
        &mut self,
        operation: impl FnOnce(&mut Self) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        debug_assert!(self.undo.is_none(), "store operations do not nest");
        self.undo = Some(Vec::new());
        let result = operation(self);
        let undo = self.undo.take().unwrap_or_default();
        if result.is_err() {
            for (table, key, old) in undo.into_iter().rev() {
                let map = self.table(table);
                match old {
                    Some(value) => map.insert(key, value),
                    None => map.remove(&key),
                };
            }
        }
        result
    }

    /// Sets `key` to `value`, remembering what it replaced while an operation runs.
    fn insert(&mut self, table: Table, key: Vec<u8>, value: Vec<u8>) {
        let old = self.table(table).insert(key.clone(), value);
        if let Some(undo) = &mut self.undo {
            undo.push((table, key, old));
        }
    }

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
        self.insert(table, key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        let old = self.table(table).remove(key);
        if let (Some(undo), Some(old)) = (&mut self.undo, old) {
            undo.push((table, key.to_vec(), Some(old)));
        }
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
        inner.all_or_nothing(|tables| {
            for span in &layout.pages {
                let mut page = vec![0; span.len];
                layout.fill(span, &mut page);
                tables.insert(Table::Nodes, span.key.clone(), page);
            }
            prune::index_batch(tables, &layout, batch)
        })?;
        // Last, once nothing can fail: code is not in the undone tables.
        for (hash, code) in &batch.code {
            inner.code.insert(*hash, code.clone());
        }
        Ok(())
    }

    fn prune(&self, keep_from: u64, reclaim: Reclaim) -> Result<PruneStats, StoreError> {
        self.lock()?
            .all_or_nothing(|tables| prune::prune(tables, keep_from, reclaim))
    }

    fn kept_from(&self) -> Result<u64, StoreError> {
        prune::kept_from(&mut *self.lock()?)
    }

    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        self.lock()?
            .all_or_nothing(|tables| prune::rewind(tables, to_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trie::{keccak256, Trie};

    /// A store holding six versions of a trie, each adding keys (so each supersedes nodes of
    /// the ones before and leaves a stale list).
    fn store_with_history() -> MemoryStore {
        let store = MemoryStore::new();
        let mut trie = Trie::new_in(store.clone(), [1; 32]);
        for version in 1..=6u64 {
            for i in 0..20u64 {
                let key = keccak256(&(version * 100 + i).to_be_bytes());
                trie.insert(&key, &version.to_be_bytes()).unwrap();
            }
            trie.commit(version).unwrap();
        }
        store
    }

    fn snapshot(store: &MemoryStore) -> Inner {
        store.lock().unwrap().clone()
    }

    #[test]
    fn a_failed_operation_undoes_its_changes_and_a_successful_one_keeps_them() {
        let mut inner = Inner::default();
        inner.put(Table::Meta, b"a", b"1").unwrap();
        inner.put(Table::Meta, b"b", b"2").unwrap();
        let before = inner.clone();
        let failed: Result<(), StoreError> = inner.all_or_nothing(|tables| {
            tables.put(Table::Meta, b"a", b"changed")?;
            tables.delete(Table::Meta, b"b")?;
            tables.put(Table::Meta, b"c", b"new")?;
            tables.put(Table::Meta, b"c", b"newer")?;
            tables.delete(Table::Meta, b"missing")?;
            Err(StoreError::Database("halfway".into()))
        });
        assert!(failed.is_err());
        assert_eq!(inner, before);
        inner
            .all_or_nothing(|tables| {
                tables.put(Table::Meta, b"a", b"changed")?;
                tables.delete(Table::Meta, b"b")
            })
            .unwrap();
        let meta = inner.range(Table::Meta, &[], None).unwrap();
        assert_eq!(meta, [(b"a".to_vec(), b"changed".to_vec())]);
    }

    #[test]
    fn a_prune_that_fails_halfway_leaves_the_store_as_it_was() {
        let store = store_with_history();
        {
            let mut inner = store.lock().unwrap();
            assert!(inner.stale.len() >= 3, "several stale lists to release");
            // The last list the prune reaches is malformed: the ones before it are released
            // (and their records' segments updated) before the prune fails.
            let last = inner.stale.keys().next_back().unwrap().clone();
            inner.stale.insert(last, vec![0xff]);
        }
        let before = snapshot(&store);
        let failed = store.prune(6, Reclaim::Eager);
        assert!(
            matches!(&failed, Err(StoreError::Database(m)) if m.contains("stale list")),
            "{failed:?}"
        );
        assert_eq!(snapshot(&store), before);
    }

    #[test]
    fn a_rewind_that_fails_halfway_leaves_the_store_as_it_was() {
        let store = store_with_history();
        // A malformed root-log entry, which the rewind reads after deleting the later
        // versions' nodes and lists.
        let mut malformed = 6u64.to_be_bytes().to_vec();
        malformed.push(1);
        store
            .lock()
            .unwrap()
            .root_log
            .insert(malformed.clone(), Vec::new());
        let before = snapshot(&store);
        assert!(store.rewind(3).is_err());
        assert_eq!(snapshot(&store), before);
        // Without it, the same rewind succeeds.
        store.lock().unwrap().root_log.remove(&malformed);
        let stats = store.rewind(3).unwrap();
        assert!(stats.nodes > 0 && stats.roots == 3, "{stats:?}");
    }
}
