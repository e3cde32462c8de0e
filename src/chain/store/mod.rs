//! Durable chain storage: blocks, receipts, the transaction index, the cheats applied before
//! each block and the state (trie nodes and code) in one redb database, written with one atomic
//! transaction per block; or the same in memory for tests. A database written by a newer format
//! version is refused. [`ChainStore::rewind`] drops the blocks after a given one, atomically.
//! With a state history set ([`ChainStore::set_state_history`]), each block's write also prunes
//! the states older than the last that many blocks.

mod records;
mod state;
mod tx_index;

pub use records::{Block, ReceiptStatus, StoredReceipt};
pub use state::StateStore;

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tally_runtime::trie::{MemoryStore, NodeStore, Reclaim, RedbStore, StoreError, WriteBatch};
use tally_runtime::H256;
use thiserror::Error;

use super::cheat::{decode_cheats, encode_cheats, Cheat};
use super::tx::SignedTransaction;
use records::{decode_block, decode_receipts, encode_block, encode_receipts};
use tx_index::{position, RecentIndex, INDEXED_THROUGH, TX_INDEX};

/// Version of the on-disk layout written by this build. Version 3 writes the transaction
/// index in batches (see `tx_index`); a version 2 database, whose index is complete, is
/// upgraded in place when opened. Version 2 lists superseded trie nodes without their
/// namespace (see `tally_runtime::trie::StaleNodes`); version 1 is not migrated.
pub const FORMAT_VERSION: u64 = 3;
/// The oldest format this build opens (upgrading it).
const OLDEST_SUPPORTED_FORMAT: u64 = 2;

const META: TableDefinition<&str, u64> = TableDefinition::new("chain_meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_NUMBERS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_numbers");
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
const MODULES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("compiled_modules");
/// The cheats applied before each block (see `chain::cheat`), for blocks that had any.
const CHEATS: TableDefinition<u64, &[u8]> = TableDefinition::new("block_cheats");

/// The data directory `tally` uses by default.
pub const DEFAULT_DATA_DIR: &str = "tally-data";

/// Errors of the chain store.
#[derive(Debug, Error)]
pub enum ChainStoreError {
    #[error("database: {0}")]
    Database(String),
    #[error("the database has format version {found}, newer than this build's {supported}: upgrade tally")]
    NewerFormat { found: u64, supported: u64 },
    #[error("the database has format version {found}, older than this build's {supported}, and cannot be migrated: start from a new data directory")]
    OlderFormat { found: u64, supported: u64 },
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("the state of block {block} was pruned: states are kept from block {oldest} on")]
    StatePruned { block: u64, oldest: u64 },
    #[error(transparent)]
    Nodes(#[from] StoreError),
}

fn db_err(e: impl std::fmt::Display) -> ChainStoreError {
    ChainStoreError::Database(e.to_string())
}

/// A compiled-module artifact and the key it is stored under (`tally_vm::Vm::artifact_key`).
pub type StoredModule = ([u8; 32], Vec<u8>);

#[derive(Default)]
struct MemoryChain {
    chain_id: Option<u64>,
    modules: BTreeMap<[u8; 32], Vec<u8>>,
    head: Option<u64>,
    blocks: BTreeMap<u64, Vec<u8>>,
    numbers: BTreeMap<H256, u64>,
    receipts: BTreeMap<u64, Vec<u8>>,
    tx_index: BTreeMap<H256, (u64, u32)>,
    cheats: BTreeMap<u64, Vec<u8>>,
}

enum Backend {
    Memory(Arc<Mutex<MemoryChain>>),
    Redb(Arc<Database>),
}

/// Blocks, receipts, the transaction index and the state of one chain.
pub struct ChainStore {
    backend: Backend,
    state: StateStore,
    /// The redb store's transaction index entries not yet in its table (unused in memory).
    recent: Mutex<RecentIndex>,
    /// How many of the latest blocks' states are kept (`None`: every block's).
    state_history: Option<NonZeroU64>,
}

impl ChainStore {
    /// An empty store in memory.
    pub fn memory() -> Self {
        ChainStore {
            backend: Backend::Memory(Default::default()),
            state: StateStore::Memory(MemoryStore::new()),
            recent: Mutex::default(),
            state_history: None,
        }
    }

    /// Opens (or creates) the database `chain.redb` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, ChainStoreError> {
        std::fs::create_dir_all(dir).map_err(db_err)?;
        let db = Arc::new(Database::create(dir.join("chain.redb")).map_err(db_err)?);
        let txn = db.begin_write().map_err(db_err)?;
        {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let found = meta.get("format").map_err(db_err)?.map(|v| v.value());
            match found {
                Some(found) if found > FORMAT_VERSION => {
                    return Err(ChainStoreError::NewerFormat {
                        found,
                        supported: FORMAT_VERSION,
                    })
                }
                Some(found) if found < OLDEST_SUPPORTED_FORMAT => {
                    return Err(ChainStoreError::OlderFormat {
                        found,
                        supported: FORMAT_VERSION,
                    })
                }
                Some(FORMAT_VERSION) => {}
                Some(_) => {
                    // Version 2 indexed every block's transactions as it wrote the block.
                    let head = meta.get("head").map_err(db_err)?.map(|v| v.value());
                    if let Some(head) = head {
                        meta.insert(INDEXED_THROUGH, head).map_err(db_err)?;
                    }
                    meta.insert("format", FORMAT_VERSION).map_err(db_err)?;
                }
                None => {
                    meta.insert("format", FORMAT_VERSION).map_err(db_err)?;
                }
            }
            txn.open_table(BLOCKS).map_err(db_err)?;
            txn.open_table(BLOCK_NUMBERS).map_err(db_err)?;
            txn.open_table(RECEIPTS).map_err(db_err)?;
            txn.open_table(TX_INDEX).map_err(db_err)?;
            txn.open_table(MODULES).map_err(db_err)?;
            txn.open_table(CHEATS).map_err(db_err)?;
        }
        let recent = RecentIndex::load(&txn)?;
        txn.commit().map_err(db_err)?;
        let nodes = RedbStore::with_database(db.clone())?;
        Ok(ChainStore {
            backend: Backend::Redb(db),
            state: StateStore::Redb(nodes),
            recent: Mutex::new(recent),
            state_history: None,
        })
    }

    /// Keeps the states of only the last `blocks` blocks (`None`: of every block, the
    /// default). Each block's write then prunes the older ones, in the same atomic write;
    /// their blocks, receipts and transactions stay. A pruned state stays pruned when the
    /// history is lengthened or turned off again.
    pub fn set_state_history(&mut self, blocks: Option<NonZeroU64>) {
        self.state_history = blocks;
    }

    /// The oldest block whose state is readable: 0 unless a state history pruned older ones.
    /// Trie versions are block numbers, so this is the state store's pruning point.
    pub fn oldest_state(&self) -> Result<u64, ChainStoreError> {
        Ok(self.state.kept_from()?)
    }

    /// The oldest block whose state committing block `number` keeps, if that prunes any.
    fn states_kept_after(&self, number: u64) -> Option<u64> {
        let blocks = self.state_history?.get();
        (number + 1).checked_sub(blocks).filter(|&from| from > 0)
    }

    /// The store the world state lives in.
    pub fn state_store(&self) -> StateStore {
        self.state.clone()
    }

    fn locked(chain: &Mutex<MemoryChain>) -> MutexGuard<'_, MemoryChain> {
        // Every update is a handful of inserts that cannot panic halfway.
        chain.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn recent(&self) -> MutexGuard<'_, RecentIndex> {
        // Changed only after a write commits, by inserts and removals that cannot panic
        // halfway.
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A number of the chain's metadata: `key` in redb, `memory` in memory.
    fn meta(
        &self,
        key: &str,
        memory: fn(&MemoryChain) -> Option<u64>,
    ) -> Result<Option<u64>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(memory(&Self::locked(m))),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let meta = txn.open_table(META).map_err(db_err)?;
                Ok(meta.get(key).map_err(db_err)?.map(|v| v.value()))
            }
        }
    }

    /// The chain id recorded when the chain was created.
    pub fn chain_id(&self) -> Result<Option<u64>, ChainStoreError> {
        self.meta("chain_id", |m| m.chain_id)
    }

    /// Writes the genesis block and records the chain id, atomically.
    pub fn commit_genesis(
        &self,
        chain_id: u64,
        block: &Block,
        state: &WriteBatch,
    ) -> Result<(), ChainStoreError> {
        self.commit(block, &[], state, &[], &[], Some(chain_id))
    }

    /// Every compiled-module artifact stored, by its key (`tally_vm::Vm::artifact_key`: the
    /// gas schedule and the code; the artifact is `tally_vm::Vm::serialize`'s).
    pub fn modules(&self) -> Result<Vec<StoredModule>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(Self::locked(m)
                .modules
                .iter()
                .map(|(h, a)| (*h, a.clone()))
                .collect()),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(MODULES).map_err(db_err)?;
                let mut out = Vec::new();
                for entry in table.iter().map_err(db_err)? {
                    let (key, artifact) = entry.map_err(db_err)?;
                    out.push((*key.value(), artifact.value().to_vec()));
                }
                Ok(out)
            }
        }
    }

    /// The number of the last committed block.
    pub fn head(&self) -> Result<Option<u64>, ChainStoreError> {
        self.meta("head", |m| m.head)
    }

    /// The record of block `number` in a per-block table: `table` in redb, `memory` in memory.
    fn numbered(
        &self,
        table: TableDefinition<u64, &'static [u8]>,
        memory: fn(&MemoryChain) -> &BTreeMap<u64, Vec<u8>>,
        number: u64,
    ) -> Result<Option<Vec<u8>>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(memory(&Self::locked(m)).get(&number).cloned()),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(table).map_err(db_err)?;
                let value = table.get(number).map_err(db_err)?;
                Ok(value.map(|v| v.value().to_vec()))
            }
        }
    }

    /// The block at `number`.
    pub fn block(&self, number: u64) -> Result<Option<Block>, ChainStoreError> {
        let bytes = self.numbered(BLOCKS, |m| &m.blocks, number)?;
        bytes.map(|b| decode_block(&b)).transpose()
    }

    /// The transactions of block `number`, each with the sender and hash its receipt recorded:
    /// no signature is recovered, so impersonated transactions read back as they were mined.
    pub fn block_transactions(
        &self,
        number: u64,
    ) -> Result<Option<Vec<SignedTransaction>>, ChainStoreError> {
        let Some(block) = self.block(number)? else {
            return Ok(None);
        };
        let receipts = self.receipts(number)?;
        if receipts.len() != block.transactions.len() {
            return Err(ChainStoreError::Corrupt(format!(
                "block {number} has {} transactions and {} receipts",
                block.transactions.len(),
                receipts.len()
            )));
        }
        let transactions = block
            .transactions
            .iter()
            .zip(&receipts)
            .map(|(raw, r)| {
                SignedTransaction::decode_with_sender(raw, r.from, r.transaction_hash)
                    .map_err(|e| ChainStoreError::Corrupt(format!("block {number}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(transactions))
    }

    /// The cheats applied before block `number` was built (empty if none).
    pub fn cheats(&self, number: u64) -> Result<Vec<Cheat>, ChainStoreError> {
        let bytes = self.numbered(CHEATS, |m| &m.cheats, number)?;
        let decoded = bytes.map_or(Ok(Vec::new()), |b| decode_cheats(&b));
        decoded.map_err(|e| ChainStoreError::Corrupt(format!("block {number}: {e}")))
    }

    /// The number of the block with hash `hash`.
    pub fn block_number(&self, hash: &H256) -> Result<Option<u64>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(Self::locked(m).numbers.get(hash).copied()),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(BLOCK_NUMBERS).map_err(db_err)?;
                Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value()))
            }
        }
    }

    /// The receipts of block `number`, in transaction order.
    pub fn receipts(&self, number: u64) -> Result<Vec<StoredReceipt>, ChainStoreError> {
        let bytes = self.numbered(RECEIPTS, |m| &m.receipts, number)?;
        bytes.map_or(Ok(Vec::new()), |b| decode_receipts(&b))
    }

    /// Where the transaction with hash `hash` was included: block number and index.
    pub fn transaction_location(&self, hash: &H256) -> Result<Option<(u64, u32)>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(Self::locked(m).tx_index.get(hash).copied()),
            Backend::Redb(db) => {
                // Held while the table is read, so no batch moves between the two.
                let recent = self.recent();
                if let Some(location) = recent.get(hash) {
                    return Ok(Some(location));
                }
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(TX_INDEX).map_err(db_err)?;
                Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value()))
            }
        }
    }

    /// Writes a block, its receipts, its state changes, the compiled modules not stored yet
    /// (by artifact key) and the cheats applied before it in one atomic transaction, and makes
    /// it the head.
    pub fn commit_block(
        &self,
        block: &Block,
        receipts: &[StoredReceipt],
        state: &WriteBatch,
        modules: &[StoredModule],
        cheats: &[Cheat],
    ) -> Result<(), ChainStoreError> {
        self.commit(block, receipts, state, modules, cheats, None)
    }

    fn commit(
        &self,
        block: &Block,
        receipts: &[StoredReceipt],
        state: &WriteBatch,
        modules: &[StoredModule],
        cheats: &[Cheat],
        chain_id: Option<u64>,
    ) -> Result<(), ChainStoreError> {
        let number = block.header.number;
        let hash = block.header.hash();
        let encoded_block = encode_block(block);
        let encoded_receipts = encode_receipts(receipts);
        let encoded_cheats = (!cheats.is_empty()).then(|| encode_cheats(cheats));
        // The transaction index entries: hash and position in the block.
        let index_entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| Ok((r.transaction_hash, position(i)?)))
            .collect::<Result<Vec<_>, ChainStoreError>>()?;
        match &self.backend {
            Backend::Memory(m) => {
                self.state.write(state)?;
                if let Some(from) = self.states_kept_after(number) {
                    self.state.prune(from, Reclaim::Lazy)?;
                }
                let mut chain = Self::locked(m);
                if let Some(cheats) = encoded_cheats {
                    chain.cheats.insert(number, cheats);
                }
                chain.blocks.insert(number, encoded_block);
                chain.numbers.insert(hash, number);
                chain.receipts.insert(number, encoded_receipts);
                chain
                    .tx_index
                    .extend(index_entries.iter().map(|(hash, i)| (*hash, (number, *i))));
                chain.head = Some(number);
                for (key, artifact) in modules {
                    chain.modules.insert(*key, artifact.clone());
                }
                if chain_id.is_some() {
                    chain.chain_id = chain_id;
                }
            }
            Backend::Redb(db) => {
                let mut recent = self.recent();
                let write_index = recent.is_full_at(number, index_entries.len());
                let txn = db.begin_write().map_err(db_err)?;
                RedbStore::apply(&txn, state)?;
                if let Some(from) = self.states_kept_after(number) {
                    RedbStore::prune_in(&txn, from, Reclaim::Lazy)?;
                }
                if write_index {
                    recent.write_batch(&txn, number, &index_entries)?;
                }
                {
                    let mut blocks = txn.open_table(BLOCKS).map_err(db_err)?;
                    blocks
                        .insert(number, encoded_block.as_slice())
                        .map_err(db_err)?;
                    let mut numbers = txn.open_table(BLOCK_NUMBERS).map_err(db_err)?;
                    numbers.insert(&hash.0, number).map_err(db_err)?;
                    let mut table = txn.open_table(RECEIPTS).map_err(db_err)?;
                    table
                        .insert(number, encoded_receipts.as_slice())
                        .map_err(db_err)?;
                    let mut table = txn.open_table(MODULES).map_err(db_err)?;
                    for (key, artifact) in modules {
                        table.insert(key, artifact.as_slice()).map_err(db_err)?;
                    }
                    if let Some(cheats) = &encoded_cheats {
                        let mut table = txn.open_table(CHEATS).map_err(db_err)?;
                        table.insert(number, cheats.as_slice()).map_err(db_err)?;
                    }
                    let mut meta = txn.open_table(META).map_err(db_err)?;
                    meta.insert("head", number).map_err(db_err)?;
                    if let Some(id) = chain_id {
                        meta.insert("chain_id", id).map_err(db_err)?;
                    }
                }
                txn.commit().map_err(db_err)?;
                recent.committed(number, &index_entries, write_index);
            }
        }
        Ok(())
    }

    /// Deletes every block after `to_block` with its receipts, transaction index entries,
    /// cheats and state (trie nodes, stale-index entries and roots of the later versions), and
    /// makes `to_block` the head, in one atomic write. Compiled modules and code stay (they are
    /// content-addressed). Nothing happens if the head is at or before `to_block`.
    pub fn rewind(&self, to_block: u64) -> Result<(), ChainStoreError> {
        if self.head()?.is_none_or(|head| head <= to_block) {
            return Ok(());
        }
        let after = to_block + 1;
        match &self.backend {
            Backend::Memory(m) => {
                let mut chain = Self::locked(m);
                // Decoded before anything changes, so a damaged record changes nothing.
                let (hashes, transactions) = doomed_keys(
                    chain.blocks.range(after..).map(|(_, b)| b),
                    chain.receipts.range(after..).map(|(_, r)| r),
                )?;
                self.state.rewind(to_block).map_err(pruned)?;
                chain.blocks.split_off(&after);
                chain.receipts.split_off(&after);
                chain.cheats.split_off(&after);
                for hash in hashes {
                    chain.numbers.remove(&hash);
                }
                for hash in transactions {
                    chain.tx_index.remove(&hash);
                }
                chain.head = Some(to_block);
            }
            Backend::Redb(db) => {
                let mut recent = self.recent();
                let txn = db.begin_write().map_err(db_err)?;
                RedbStore::rewind_in(&txn, to_block).map_err(pruned)?;
                {
                    let blocks = take_from(&txn, BLOCKS, after)?;
                    let receipts = take_from(&txn, RECEIPTS, after)?;
                    take_from(&txn, CHEATS, after)?;
                    let (hashes, transactions) = doomed_keys(blocks.iter(), receipts.iter())?;
                    let mut numbers = txn.open_table(BLOCK_NUMBERS).map_err(db_err)?;
                    for hash in hashes {
                        numbers.remove(&hash.0).map_err(db_err)?;
                    }
                    let mut index = txn.open_table(TX_INDEX).map_err(db_err)?;
                    for hash in transactions {
                        index.remove(&hash.0).map_err(db_err)?;
                    }
                    let mut meta = txn.open_table(META).map_err(db_err)?;
                    meta.insert("head", to_block).map_err(db_err)?;
                    if let Some(through) = recent.marker_after_rewind(to_block) {
                        meta.insert(INDEXED_THROUGH, through).map_err(db_err)?;
                    }
                }
                txn.commit().map_err(db_err)?;
                recent.rewound(to_block);
            }
        }
        Ok(())
    }
}

/// A rewind the state store refused below its pruning point, as the chain reports it.
fn pruned(e: StoreError) -> ChainStoreError {
    match e {
        StoreError::RewindPastPrune {
            to_version,
            kept_from,
        } => ChainStoreError::StatePruned {
            block: to_version,
            oldest: kept_from,
        },
        e => e.into(),
    }
}

/// Removes the records of blocks `after` and later from a per-block table; returns them.
fn take_from(
    txn: &redb::WriteTransaction,
    table: TableDefinition<u64, &'static [u8]>,
    after: u64,
) -> Result<Vec<Vec<u8>>, ChainStoreError> {
    let mut table = txn.open_table(table).map_err(db_err)?;
    let mut out = Vec::new();
    for entry in table
        .extract_from_if(after.., |_, _| true)
        .map_err(db_err)?
    {
        out.push(entry.map_err(db_err)?.1.value().to_vec());
    }
    Ok(out)
}

/// The block hashes and transaction hashes of the encoded blocks and receipts being deleted.
fn doomed_keys<'a>(
    blocks: impl Iterator<Item = &'a Vec<u8>>,
    receipts: impl Iterator<Item = &'a Vec<u8>>,
) -> Result<(Vec<H256>, Vec<H256>), ChainStoreError> {
    let hashes = blocks
        .map(|b| Ok(decode_block(b)?.header.hash()))
        .collect::<Result<Vec<_>, ChainStoreError>>()?;
    let mut transactions = Vec::new();
    for encoded in receipts {
        transactions.extend(decode_receipts(encoded)?.iter().map(|r| r.transaction_hash));
    }
    Ok((hashes, transactions))
}
