//! On-disk [`NodeStore`] backed by redb. Tables:
//! - `trie_nodes`: key of a page's first record ([`NodeKey::encode`]: `version ‖ namespace ‖
//!   path`) → a page of records (child versions ‖ RLP), see `store::page`;
//! - `trie_stale`: `stale_since ‖ namespace` → list of node keys that commit superseded;
//! - `trie_dead`: `version ‖ namespace [‖ bucket] ‖ stale_since` → key suffixes of released
//!   records, `trie_segments`: `version ‖ namespace` → record and dead counts per bucket, and
//!   `trie_due`: buckets left for later prunes (see `store::prune`, `store::segment`);
//! - `trie_meta`: the pruning point (the greatest `keep_from` pruned to);
//! - `trie_roots`: `namespace ‖ version` → root hash ‖ root node version, and
//!   `trie_root_log`: `version ‖ namespace` → nothing, the roots written since the pruning
//!   point (see `store::roots`);
//! - `code`: keccak-256 hash → contract code.
//!
//! One [`NodeStore::write`] is one redb write transaction: it commits entirely or not at all.

use std::path::Path;
use std::sync::Arc;

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};

use super::prune::{self, Entries, Entry, Reclaim, Table, Tables};
use super::roots;
use super::{
    page, root_key, version_of_root_key, Namespace, NodeKey, NodeStore, PruneStats, StoredRoot,
    WriteBatch,
};
use crate::trie::codec::Hash;
use crate::trie::error::StoreError;

const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_nodes");
const STALE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_stale");
const ROOTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_roots");
const DEAD: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_dead");
const SEGMENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_segments");
const DUE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_due");
const META: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_meta");
const ROOT_LOG: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_root_log");
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
        txn.open_table(DEAD).map_err(db_err)?;
        txn.open_table(SEGMENTS).map_err(db_err)?;
        txn.open_table(DUE).map_err(db_err)?;
        txn.open_table(META).map_err(db_err)?;
        txn.open_table(ROOT_LOG).map_err(db_err)?;
        txn.open_table(CODE).map_err(db_err)?;
        // A store written before the root log has its roots logged once.
        roots::log_existing(&mut RedbTables::open(&txn)?)?;
        txn.commit().map_err(db_err)?;
        Ok(Self { db, durable: true })
    }

    /// Whether each write is fsynced before returning (default `true`). With `false` a crash may
    /// lose recent writes, but never leaves a partial one visible.
    pub fn set_durable(&mut self, durable: bool) {
        self.durable = durable;
    }

    /// Number of node records held (released ones included until they are reclaimed).
    pub fn node_count(&self) -> Result<usize, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(NODES).map_err(db_err)?;
        let mut count = 0;
        for entry in table.iter().map_err(db_err)? {
            count += page::entries(entry.map_err(db_err)?.1.value())?.len();
        }
        Ok(count)
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
            drop(nodes);
            prune::index_batch(&mut RedbTables::open(txn)?, &layout, batch)?;
        }
        let mut code = txn.open_table(CODE).map_err(db_err)?;
        for (hash, bytes) in &batch.code {
            code.insert(hash, bytes.as_slice()).map_err(db_err)?;
        }
        Ok(())
    }

    /// [`NodeStore::rewind`] inside a write transaction the caller owns, so that the trie goes
    /// back atomically with other tables of the same database (a chain's blocks).
    pub fn rewind_in(txn: &WriteTransaction, to_version: u64) -> Result<PruneStats, StoreError> {
        prune::rewind(&mut RedbTables::open(txn)?, to_version)
    }

    /// [`NodeStore::prune`] inside a write transaction the caller owns, so that pruning commits
    /// atomically with other tables of the same database (a chain's block).
    pub fn prune_in(
        txn: &WriteTransaction,
        keep_from: u64,
        reclaim: Reclaim,
    ) -> Result<PruneStats, StoreError> {
        prune::prune(&mut RedbTables::open(txn)?, keep_from, reclaim)
    }
}

/// The trie's tables, open in one write transaction.
struct RedbTables<'txn> {
    nodes: redb::Table<'txn, &'static [u8], &'static [u8]>,
    stale: redb::Table<'txn, &'static [u8], &'static [u8]>,
    dead: redb::Table<'txn, &'static [u8], &'static [u8]>,
    segments: redb::Table<'txn, &'static [u8], &'static [u8]>,
    due: redb::Table<'txn, &'static [u8], &'static [u8]>,
    meta: redb::Table<'txn, &'static [u8], &'static [u8]>,
    roots: redb::Table<'txn, &'static [u8], &'static [u8]>,
    root_log: redb::Table<'txn, &'static [u8], &'static [u8]>,
}

impl<'txn> RedbTables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            nodes: txn.open_table(NODES).map_err(db_err)?,
            stale: txn.open_table(STALE).map_err(db_err)?,
            dead: txn.open_table(DEAD).map_err(db_err)?,
            segments: txn.open_table(SEGMENTS).map_err(db_err)?,
            due: txn.open_table(DUE).map_err(db_err)?,
            meta: txn.open_table(META).map_err(db_err)?,
            roots: txn.open_table(ROOTS).map_err(db_err)?,
            root_log: txn.open_table(ROOT_LOG).map_err(db_err)?,
        })
    }

    fn table(&mut self, table: Table) -> &mut redb::Table<'txn, &'static [u8], &'static [u8]> {
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

impl Tables for RedbTables<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.table(table).get(key).map_err(db_err)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.table(table).insert(key, value).map_err(db_err)?;
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        self.table(table).remove(key).map_err(db_err)?;
        Ok(())
    }

    fn range(
        &mut self,
        table: Table,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> Result<Entries, StoreError> {
        let table = self.table(table);
        let range = match end {
            Some(end) => table.range(start..end),
            None => table.range(start..),
        }
        .map_err(db_err)?;
        range
            .map(|entry| {
                let (k, v) = entry.map_err(db_err)?;
                Ok((k.value().to_vec(), v.value().to_vec()))
            })
            .collect()
    }

    fn before(&mut self, table: Table, key: &[u8]) -> Result<Option<Entry>, StoreError> {
        let mut range = self.table(table).range(..key).map_err(db_err)?;
        match range.next_back() {
            Some(entry) => {
                let (k, v) = entry.map_err(db_err)?;
                Ok(Some((k.value().to_vec(), v.value().to_vec())))
            }
            None => Ok(None),
        }
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

    fn prune(&self, keep_from: u64, reclaim: Reclaim) -> Result<PruneStats, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let stats = Self::prune_in(&txn, keep_from, reclaim)?;
        txn.commit().map_err(db_err)?;
        Ok(stats)
    }

    fn kept_from(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(META).map_err(db_err)?;
        let record = table.get(prune::KEPT_FROM).map_err(db_err)?;
        prune::decode_kept_from(record.as_ref().map(|r| r.value()))
    }

    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let stats = Self::rewind_in(&txn, to_version)?;
        txn.commit().map_err(db_err)?;
        Ok(stats)
    }
}
