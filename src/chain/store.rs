//! Durable chain storage: blocks, receipts, the transaction index and the state (trie nodes
//! and code) in one redb database, written with one atomic transaction per block; or the same
//! in memory for tests. A database written by a newer format version is refused.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use alloy_rlp::{Bytes, Decodable, Encodable, RlpDecodable, RlpEncodable};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tally_runtime::state::Log;
use tally_runtime::trie::{
    Hash, MemoryStore, Namespace, NodeKey, NodeStore, PruneStats, RedbStore, StoreError,
    StoredRoot, WriteBatch,
};
use tally_runtime::{H160, H256, U256};
use thiserror::Error;

use super::block::Header;

/// Version of the on-disk layout written by this build.
pub const FORMAT_VERSION: u64 = 1;

const META: TableDefinition<&str, u64> = TableDefinition::new("chain_meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_NUMBERS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_numbers");
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
const TX_INDEX: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_index");
const MODULES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("compiled_modules");

/// The data directory `tally` uses by default.
pub const DEFAULT_DATA_DIR: &str = "tally-data";

/// Errors of the chain store.
#[derive(Debug, Error)]
pub enum ChainStoreError {
    #[error("database: {0}")]
    Database(String),
    #[error("the database has format version {found}, newer than this build's {supported}: upgrade tally")]
    NewerFormat { found: u64, supported: u64 },
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Nodes(#[from] StoreError),
}

fn db_err(e: impl std::fmt::Display) -> ChainStoreError {
    ChainStoreError::Database(e.to_string())
}

/// A block: its header and its transactions as signed envelopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub transactions: Vec<Vec<u8>>,
}

/// How a stored transaction ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptStatus {
    Success,
    Revert,
    /// Failed, with the reason (a trap, invalid code...).
    Failure(String),
}

/// A receipt as the chain stores and serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReceipt {
    pub transaction_hash: H256,
    pub from: H160,
    pub to: Option<H160>,
    pub status: ReceiptStatus,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub intrinsic_gas: u64,
    pub logs: Vec<Log>,
    pub output: Vec<u8>,
    pub contract_address: Option<H160>,
    pub effective_gas_price: U256,
    pub burned: U256,
    pub tip: U256,
}

#[derive(RlpEncodable, RlpDecodable)]
struct BlockRecord {
    header: Bytes,
    transactions: Vec<Bytes>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct LogRecord {
    address: [u8; 20],
    topics: Vec<[u8; 32]>,
    data: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct ReceiptRecord {
    transaction_hash: [u8; 32],
    from: [u8; 20],
    to: Bytes,
    status: u8,
    failure: Bytes,
    gas_used: u64,
    cumulative_gas_used: u64,
    intrinsic_gas: u64,
    logs: Vec<LogRecord>,
    output: Bytes,
    contract_address: Bytes,
    effective_gas_price: [u8; 32],
    burned: [u8; 32],
    tip: [u8; 32],
}

fn encode_block(block: &Block) -> Vec<u8> {
    alloy_rlp::encode(BlockRecord {
        header: block.header.encode().into(),
        transactions: block
            .transactions
            .iter()
            .map(|t| Bytes::copy_from_slice(t))
            .collect(),
    })
}

fn decode_block(bytes: &[u8]) -> Result<Block, ChainStoreError> {
    let corrupt = |e: alloy_rlp::Error| ChainStoreError::Corrupt(format!("block: {e}"));
    let record = BlockRecord::decode(&mut &bytes[..]).map_err(corrupt)?;
    Ok(Block {
        header: Header::decode(&record.header).map_err(corrupt)?,
        transactions: record.transactions.iter().map(|t| t.to_vec()).collect(),
    })
}

fn optional_address(a: Option<H160>) -> Bytes {
    a.map_or_else(Bytes::new, |a| Bytes::copy_from_slice(a.as_bytes()))
}

fn read_optional_address(b: &[u8]) -> Result<Option<H160>, ChainStoreError> {
    match b.len() {
        0 => Ok(None),
        20 => Ok(Some(H160::from_slice(b))),
        n => Err(ChainStoreError::Corrupt(format!("address of {n} bytes"))),
    }
}

fn encode_receipts(receipts: &[StoredReceipt]) -> Vec<u8> {
    let records: Vec<ReceiptRecord> = receipts
        .iter()
        .map(|r| {
            let (status, failure) = match &r.status {
                ReceiptStatus::Success => (0, Bytes::new()),
                ReceiptStatus::Revert => (1, Bytes::new()),
                ReceiptStatus::Failure(reason) => (2, Bytes::copy_from_slice(reason.as_bytes())),
            };
            ReceiptRecord {
                transaction_hash: r.transaction_hash.0,
                from: r.from.0,
                to: optional_address(r.to),
                status,
                failure,
                gas_used: r.gas_used,
                cumulative_gas_used: r.cumulative_gas_used,
                intrinsic_gas: r.intrinsic_gas,
                logs: r
                    .logs
                    .iter()
                    .map(|l| LogRecord {
                        address: l.address.0,
                        topics: l.topics.iter().map(|t| t.0).collect(),
                        data: Bytes::copy_from_slice(&l.data),
                    })
                    .collect(),
                output: Bytes::copy_from_slice(&r.output),
                contract_address: optional_address(r.contract_address),
                effective_gas_price: r.effective_gas_price.to_big_endian(),
                burned: r.burned.to_big_endian(),
                tip: r.tip.to_big_endian(),
            }
        })
        .collect();
    let mut out = Vec::new();
    records.encode(&mut out);
    out
}

fn decode_receipts(bytes: &[u8]) -> Result<Vec<StoredReceipt>, ChainStoreError> {
    let records = Vec::<ReceiptRecord>::decode(&mut &bytes[..])
        .map_err(|e| ChainStoreError::Corrupt(format!("receipts: {e}")))?;
    records
        .into_iter()
        .map(|r| {
            let status = match r.status {
                0 => ReceiptStatus::Success,
                1 => ReceiptStatus::Revert,
                2 => ReceiptStatus::Failure(String::from_utf8_lossy(&r.failure).into_owned()),
                n => return Err(ChainStoreError::Corrupt(format!("receipt status {n}"))),
            };
            Ok(StoredReceipt {
                transaction_hash: H256(r.transaction_hash),
                from: H160(r.from),
                to: read_optional_address(&r.to)?,
                status,
                gas_used: r.gas_used,
                cumulative_gas_used: r.cumulative_gas_used,
                intrinsic_gas: r.intrinsic_gas,
                logs: r
                    .logs
                    .into_iter()
                    .map(|l| Log {
                        address: H160(l.address),
                        topics: l.topics.into_iter().map(H256).collect(),
                        data: l.data.to_vec(),
                    })
                    .collect(),
                output: r.output.to_vec(),
                contract_address: read_optional_address(&r.contract_address)?,
                effective_gas_price: U256::from_big_endian(&r.effective_gas_price),
                burned: U256::from_big_endian(&r.burned),
                tip: U256::from_big_endian(&r.tip),
            })
        })
        .collect()
}

/// The state's node store: in memory or in the chain's redb database.
#[derive(Clone, Debug)]
pub enum StateStore {
    Memory(MemoryStore),
    Redb(RedbStore),
}

impl NodeStore for StateStore {
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            StateStore::Memory(s) => s.node(key),
            StateStore::Redb(s) => s.node(key),
        }
    }
    fn code(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            StateStore::Memory(s) => s.code(hash),
            StateStore::Redb(s) => s.code(hash),
        }
    }
    fn root_at(
        &self,
        namespace: &Namespace,
        version: u64,
    ) -> Result<Option<(u64, StoredRoot)>, StoreError> {
        match self {
            StateStore::Memory(s) => s.root_at(namespace, version),
            StateStore::Redb(s) => s.root_at(namespace, version),
        }
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        match self {
            StateStore::Memory(s) => s.write(batch),
            StateStore::Redb(s) => s.write(batch),
        }
    }
    fn prune(&self, keep_from: u64) -> Result<PruneStats, StoreError> {
        match self {
            StateStore::Memory(s) => s.prune(keep_from),
            StateStore::Redb(s) => s.prune(keep_from),
        }
    }
    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        match self {
            StateStore::Memory(s) => s.rewind(to_version),
            StateStore::Redb(s) => s.rewind(to_version),
        }
    }
}

#[derive(Default)]
struct MemoryChain {
    chain_id: Option<u64>,
    modules: BTreeMap<H256, Vec<u8>>,
    head: Option<u64>,
    blocks: BTreeMap<u64, Vec<u8>>,
    numbers: BTreeMap<H256, u64>,
    receipts: BTreeMap<u64, Vec<u8>>,
    tx_index: BTreeMap<H256, (u64, u32)>,
}

enum Backend {
    Memory(Arc<Mutex<MemoryChain>>),
    Redb(Arc<Database>),
}

/// Blocks, receipts, the transaction index and the state of one chain.
pub struct ChainStore {
    backend: Backend,
    state: StateStore,
}

impl ChainStore {
    /// An empty store in memory.
    pub fn memory() -> Self {
        ChainStore {
            backend: Backend::Memory(Default::default()),
            state: StateStore::Memory(MemoryStore::new()),
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
                Some(_) => {}
                None => {
                    meta.insert("format", FORMAT_VERSION).map_err(db_err)?;
                }
            }
            txn.open_table(BLOCKS).map_err(db_err)?;
            txn.open_table(BLOCK_NUMBERS).map_err(db_err)?;
            txn.open_table(RECEIPTS).map_err(db_err)?;
            txn.open_table(TX_INDEX).map_err(db_err)?;
            txn.open_table(MODULES).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        let nodes = RedbStore::with_database(db.clone())?;
        Ok(ChainStore {
            backend: Backend::Redb(db),
            state: StateStore::Redb(nodes),
        })
    }

    /// The store the world state lives in.
    pub fn state_store(&self) -> StateStore {
        self.state.clone()
    }

    fn locked(chain: &Mutex<MemoryChain>) -> MutexGuard<'_, MemoryChain> {
        // Every update is a handful of inserts that cannot panic halfway.
        chain.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The chain id recorded when the chain was created.
    pub fn chain_id(&self) -> Result<Option<u64>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(Self::locked(m).chain_id),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let meta = txn.open_table(META).map_err(db_err)?;
                Ok(meta.get("chain_id").map_err(db_err)?.map(|v| v.value()))
            }
        }
    }

    /// Writes the genesis block and records the chain id, atomically.
    pub fn commit_genesis(
        &self,
        chain_id: u64,
        block: &Block,
        state: &WriteBatch,
    ) -> Result<(), ChainStoreError> {
        self.commit(block, &[], state, &[], Some(chain_id))
    }

    /// Every compiled-module artifact stored, by code hash (see `tally_vm::Vm::serialize`).
    pub fn modules(&self) -> Result<Vec<(H256, Vec<u8>)>, ChainStoreError> {
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
                    let (hash, artifact) = entry.map_err(db_err)?;
                    out.push((H256(*hash.value()), artifact.value().to_vec()));
                }
                Ok(out)
            }
        }
    }

    /// The number of the last committed block.
    pub fn head(&self) -> Result<Option<u64>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(Self::locked(m).head),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let meta = txn.open_table(META).map_err(db_err)?;
                Ok(meta.get("head").map_err(db_err)?.map(|v| v.value()))
            }
        }
    }

    /// The block at `number`.
    pub fn block(&self, number: u64) -> Result<Option<Block>, ChainStoreError> {
        let bytes = match &self.backend {
            Backend::Memory(m) => Self::locked(m).blocks.get(&number).cloned(),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(BLOCKS).map_err(db_err)?;
                let value = table.get(number).map_err(db_err)?;
                value.map(|v| v.value().to_vec())
            }
        };
        bytes.map(|b| decode_block(&b)).transpose()
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
        let bytes = match &self.backend {
            Backend::Memory(m) => Self::locked(m).receipts.get(&number).cloned(),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(RECEIPTS).map_err(db_err)?;
                let value = table.get(number).map_err(db_err)?;
                value.map(|v| v.value().to_vec())
            }
        };
        bytes.map_or(Ok(Vec::new()), |b| decode_receipts(&b))
    }

    /// Where the transaction with hash `hash` was included: block number and index.
    pub fn transaction_location(&self, hash: &H256) -> Result<Option<(u64, u32)>, ChainStoreError> {
        match &self.backend {
            Backend::Memory(m) => Ok(Self::locked(m).tx_index.get(hash).copied()),
            Backend::Redb(db) => {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(TX_INDEX).map_err(db_err)?;
                Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value()))
            }
        }
    }

    /// Writes a block, its receipts, its state changes and the compiled modules of the code it
    /// deployed in one atomic transaction, and makes it the head.
    pub fn commit_block(
        &self,
        block: &Block,
        receipts: &[StoredReceipt],
        state: &WriteBatch,
        modules: &[(H256, Vec<u8>)],
    ) -> Result<(), ChainStoreError> {
        self.commit(block, receipts, state, modules, None)
    }

    fn commit(
        &self,
        block: &Block,
        receipts: &[StoredReceipt],
        state: &WriteBatch,
        modules: &[(H256, Vec<u8>)],
        chain_id: Option<u64>,
    ) -> Result<(), ChainStoreError> {
        let number = block.header.number;
        let hash = block.header.hash();
        let encoded_block = encode_block(block);
        let encoded_receipts = encode_receipts(receipts);
        match &self.backend {
            Backend::Memory(m) => {
                self.state.write(state)?;
                let mut chain = Self::locked(m);
                chain.blocks.insert(number, encoded_block);
                chain.numbers.insert(hash, number);
                chain.receipts.insert(number, encoded_receipts);
                for (i, r) in receipts.iter().enumerate() {
                    chain
                        .tx_index
                        .insert(r.transaction_hash, (number, i as u32));
                }
                chain.head = Some(number);
                for (hash, artifact) in modules {
                    chain.modules.insert(*hash, artifact.clone());
                }
                if chain_id.is_some() {
                    chain.chain_id = chain_id;
                }
            }
            Backend::Redb(db) => {
                let txn = db.begin_write().map_err(db_err)?;
                RedbStore::apply(&txn, state)?;
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
                    // Hashes are random: inserting them in key order touches each B-tree
                    // page once instead of jumping between pages.
                    let mut entries: Vec<(&[u8; 32], u32)> = receipts
                        .iter()
                        .enumerate()
                        .map(|(i, r)| (&r.transaction_hash.0, i as u32))
                        .collect();
                    entries.sort_unstable();
                    let mut index = txn.open_table(TX_INDEX).map_err(db_err)?;
                    for (hash, i) in entries {
                        index.insert(hash, (number, i)).map_err(db_err)?;
                    }
                    let mut table = txn.open_table(MODULES).map_err(db_err)?;
                    for (hash, artifact) in modules {
                        table.insert(&hash.0, artifact.as_slice()).map_err(db_err)?;
                    }
                    let mut meta = txn.open_table(META).map_err(db_err)?;
                    meta.insert("head", number).map_err(db_err)?;
                    if let Some(id) = chain_id {
                        meta.insert("chain_id", id).map_err(db_err)?;
                    }
                }
                txn.commit().map_err(db_err)?;
            }
        }
        Ok(())
    }
}
