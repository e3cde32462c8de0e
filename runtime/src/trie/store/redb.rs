//! On-disk [`NodeStore`] backed by redb. Three tables:
//! - `trie_nodes`: key of a page's first record ([`NodeKey::encode`]: `version ‖ namespace ‖
//!   path`) → a page of records (child versions ‖ RLP), see `store::page`;
//! - `trie_stale`: `stale_since ‖ namespace` → list of node keys that commit superseded;
//! - `trie_roots`: `namespace ‖ version` → root hash ‖ root node version.
//!
//! One [`NodeStore::write`] is one redb write transaction: it commits entirely or not at all.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::{
    page, rewind_bound, root_after, root_key, stale_node_keys, superseded_roots,
    version_of_root_key, Namespace, NodeKey, NodeStore, PruneStats, StoredRoot, WriteBatch,
};
use crate::trie::codec::Hash;
use crate::trie::error::StoreError;

const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_nodes");
const STALE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_stale");
const ROOTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_roots");
const CODE: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("code");

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A redb-backed node store. Clones share the same database.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
    durable: bool,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(db_err)?;
        Self::with_database(Arc::new(db))
    }

    /// Uses an already open database (e.g. one shared with the block store); creates the tables.
    pub fn with_database(db: Arc<Database>) -> Result<Self, StoreError> {
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(NODES).map_err(db_err)?;
        txn.open_table(STALE).map_err(db_err)?;
        txn.open_table(ROOTS).map_err(db_err)?;
        txn.open_table(CODE).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(Self { db, durable: true })
    }

    /// Whether each write is fsynced before returning (default `true`). With `false` a crash may
    /// lose recent writes, but never leaves a partial one visible.
    pub fn set_durable(&mut self, durable: bool) {
        self.durable = durable;
    }

    /// The underlying database.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// Applies `batch` inside a write transaction and then drops the transaction without
    /// committing, as a crash before commit would. Used by tests of atomicity.
    #[doc(hidden)]
    pub fn write_then_abort(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        Self::apply(&txn, batch)?;
        drop(txn);
        Ok(())
    }

    /// Applies `batch` inside a write transaction the caller owns, so that trie nodes commit
    /// atomically with other tables of the same database (a chain's blocks and receipts).
    pub fn apply(txn: &redb::WriteTransaction, batch: &WriteBatch) -> Result<(), StoreError> {
        {
            let mut nodes = txn.open_table(NODES).map_err(db_err)?;
            // Each page is written straight into the space the database reserves for it.
            let layout = page::Layout::new(&batch.nodes);
            for span in &layout.pages {
                let mut value = nodes
                    .insert_reserve(span.key.as_slice(), span.len)
                    .map_err(db_err)?;
                layout.fill(span, value.as_mut());
            }
        }
        {
            let mut stale = txn.open_table(STALE).map_err(db_err)?;
            for (k, mut list) in batch.stale_lists() {
                if let Some(existing) = stale.get(k.as_slice()).map_err(db_err)? {
                    let mut merged = existing.value().to_vec();
                    merged.append(&mut list);
                    list = merged;
                }
                stale
                    .insert(k.as_slice(), list.as_slice())
                    .map_err(db_err)?;
            }
        }
        {
            let mut roots = txn.open_table(ROOTS).map_err(db_err)?;
            for (ns, version, root) in &batch.roots {
                let value = root.encode();
                roots
                    .insert(root_key(ns, *version).as_slice(), value.as_slice())
                    .map_err(db_err)?;
            }
        }
        let mut code = txn.open_table(CODE).map_err(db_err)?;
        for (hash, bytes) in &batch.code {
            code.insert(hash, bytes.as_slice()).map_err(db_err)?;
        }
        Ok(())
    }

    /// [`NodeStore::rewind`] inside a write transaction the caller owns, so that the trie goes
    /// back atomically with other tables of the same database (a chain's blocks).
    pub fn rewind_in(
        txn: &redb::WriteTransaction,
        to_version: u64,
    ) -> Result<PruneStats, StoreError> {
        let mut stats = PruneStats::default();
        let Some(bound) = rewind_bound(to_version) else {
            return Ok(stats);
        };
        {
            let mut nodes = txn.open_table(NODES).map_err(db_err)?;
            let removed = nodes
                .extract_from_if(bound.as_slice().., |_, _| true)
                .map_err(db_err)?;
            for entry in removed {
                let (_, page) = entry.map_err(db_err)?;
                stats.nodes += page::entries(page.value())?.len() as u64;
            }
        }
        {
            let mut stale = txn.open_table(STALE).map_err(db_err)?;
            let removed = stale
                .extract_from_if(bound.as_slice().., |_, _| true)
                .map_err(db_err)?;
            for entry in removed {
                entry.map_err(db_err)?;
            }
        }
        let mut roots = txn.open_table(ROOTS).map_err(db_err)?;
        let removed = roots
            .extract_if(|k, _| root_after(k, to_version))
            .map_err(db_err)?;
        for entry in removed {
            entry.map_err(db_err)?;
            stats.roots += 1;
        }
        Ok(stats)
    }
}

impl NodeStore for RedbStore {
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(NODES).map_err(db_err)?;
        let key = key.encode();
        let mut range = table.range(..=key.as_slice()).map_err(db_err)?;
        let Some(entry) = range.next_back() else {
            return Ok(None);
        };
        let (page_key, page) = entry.map_err(db_err)?;
        if !page::same_prefix(&key, page_key.value()) {
            return Ok(None);
        }
        Ok(page::find(page.value(), &key[page::PREFIX..])?.map(<[u8]>::to_vec))
    }

    fn code(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(CODE).map_err(db_err)?;
        let code = table.get(hash).map_err(db_err)?;
        Ok(code.map(|c| c.value().to_vec()))
    }

    fn root_at(
        &self,
        namespace: &Namespace,
        version: u64,
    ) -> Result<Option<(u64, StoredRoot)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(ROOTS).map_err(db_err)?;
        let (lo, hi) = (root_key(namespace, 0), root_key(namespace, version));
        let mut range = table.range(lo.as_slice()..=hi.as_slice()).map_err(db_err)?;
        match range.next_back() {
            Some(entry) => {
                let (k, v) = entry.map_err(db_err)?;
                Ok(Some((
                    version_of_root_key(k.value())?,
                    StoredRoot::decode(v.value())?,
                )))
            }
            None => Ok(None),
        }
    }

    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        if !self.durable {
            txn.set_durability(Durability::None).map_err(db_err)?;
        }
        Self::apply(&txn, batch)?;
        txn.commit().map_err(db_err)
    }

    fn prune(&self, keep_from: u64) -> Result<PruneStats, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let mut stats = PruneStats::default();
        {
            let mut stale = txn.open_table(STALE).map_err(db_err)?;
            let mut nodes = txn.open_table(NODES).map_err(db_err)?;
            let bound = keep_from.saturating_add(1).to_be_bytes();
            let mut doomed = Vec::new();
            for entry in stale.range(..bound.as_slice()).map_err(db_err)? {
                let (k, v) = entry.map_err(db_err)?;
                doomed.push((k.value().to_vec(), v.value().to_vec()));
            }
            // Dead record suffixes per page.
            let mut dead: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
            for (k, list) in doomed {
                stale.remove(k.as_slice()).map_err(db_err)?;
                for key in stale_node_keys(&k, &list)? {
                    let key = key.as_slice();
                    let mut range = nodes.range(..=key).map_err(db_err)?;
                    if let Some(entry) = range.next_back() {
                        let page_key = entry.map_err(db_err)?.0.value().to_vec();
                        if page::same_prefix(key, &page_key) {
                            let suffix = key[page::PREFIX..].to_vec();
                            dead.entry(page_key).or_default().push(suffix);
                        }
                    }
                }
            }
            for (page_key, mut suffixes) in dead {
                suffixes.sort();
                let page = match nodes.get(page_key.as_slice()).map_err(db_err)? {
                    Some(page) => page.value().to_vec(),
                    None => continue,
                };
                let (kept, removed) = page::without(&page, &suffixes)?;
                stats.nodes += removed;
                match kept {
                    Some(kept) => nodes.insert(page_key.as_slice(), kept.as_slice()),
                    None => nodes.remove(page_key.as_slice()),
                }
                .map_err(db_err)?;
            }
            let mut roots = txn.open_table(ROOTS).map_err(db_err)?;
            let mut keys = Vec::new();
            for entry in roots.iter().map_err(db_err)? {
                keys.push(entry.map_err(db_err)?.0.value().to_vec());
            }
            for k in superseded_roots(keys.iter().map(Vec::as_slice), keep_from)? {
                roots.remove(k.as_slice()).map_err(db_err)?;
                stats.roots += 1;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(stats)
    }

    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let stats = Self::rewind_in(&txn, to_version)?;
        txn.commit().map_err(db_err)?;
        Ok(stats)
    }
}
