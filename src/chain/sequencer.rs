//! [`Chain`]: sequences signed transactions through the runtime into blocks. It owns the
//! store, the world state (inside the runtime), the mempool and the head; it decodes and
//! admits transactions, builds blocks from the best pooled transactions up to the gas limit,
//! and commits each block with its receipts and state in one atomic write.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use tally_runtime::exec::{BlockContext, ExecError, Receipt, Runtime, RuntimeConfig, Status};
use tally_runtime::state::{StateError, WorldState};
use tally_runtime::tx::{BlockEnv, TxError};
use tally_runtime::{H160, H256, U256};
use tally_vm::VmError;
use thiserror::Error;

use super::block::{encode_receipt, index_root, Bloom, Header};
use super::genesis::{Genesis, GenesisError};
use super::mempool::{AccountState, Mempool, PoolConfig, PoolError, PoolTx};
use super::store::{Block, ChainStore, ChainStoreError, ReceiptStatus, StateStore, StoredReceipt};
use super::tx::{recover_senders_parallel, SignedTransaction, TxDecodeError};

/// When blocks are produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiningMode {
    /// One block per accepted transaction, as soon as it arrives (anvil's default).
    OnDemand,
    /// A block every `n` seconds, driven by whoever owns the chain (`tally node`).
    Interval(u64),
    /// Only when [`Chain::mine`] is called.
    Manual,
}

/// How a chain runs.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    pub runtime: RuntimeConfig,
    pub pool: PoolConfig,
    pub mining: MiningMode,
    /// Receives the priority fees of every block.
    pub producer: H160,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            runtime: RuntimeConfig::default(),
            pool: PoolConfig::default(),
            mining: MiningMode::OnDemand,
            producer: H160::zero(),
        }
    }
}

/// Errors of the chain itself (never of a transaction's execution).
#[derive(Debug, Error)]
pub enum ChainError {
    #[error(transparent)]
    Store(#[from] ChainStoreError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    #[error("vm: {0}")]
    Vm(#[from] VmError),
    #[error("execution: {0}")]
    Execution(String),
    #[error("the database holds another chain: its genesis hash is {stored:?}, this genesis gives {given:?}")]
    GenesisMismatch { stored: H256, given: H256 },
    #[error("the database holds chain id {stored:?}, the genesis says {given}")]
    ChainIdMismatch { stored: Option<u64>, given: u64 },
    #[error("the state at block {number} has root {found:?}, its header says {expected:?}")]
    StateRootMismatch {
        number: u64,
        expected: H256,
        found: H256,
    },
    #[error("block {0} is missing from the store")]
    MissingBlock(u64),
}

/// Why a submitted transaction was not accepted.
#[derive(Debug, Error)]
pub enum SubmitError {
    #[error("malformed transaction: {0}")]
    Decode(#[from] TxDecodeError),
    /// Invalid whatever the state: the runtime's checks that need no account.
    #[error("invalid transaction: {0}")]
    Invalid(#[from] TxError),
    #[error("rejected by the mempool: {0}")]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// A single-node chain.
pub struct Chain {
    store: ChainStore,
    runtime: Runtime<StateStore>,
    pool: Mempool<SignedTransaction>,
    head: Header,
    chain_id: u64,
    config: ChainConfig,
    /// Timestamp for the next block, if set (otherwise the clock, at least head + 1).
    next_timestamp: Option<u64>,
    /// Keys of the compiled-module artifacts in the store (`Vm::artifact_key`).
    stored_modules: BTreeSet<[u8; 32]>,
}

impl Chain {
    /// Opens the chain in `store`: creates its genesis block if the store is empty, otherwise
    /// continues from the last committed block (with an empty mempool).
    pub fn open(
        store: ChainStore,
        genesis: &Genesis,
        config: ChainConfig,
    ) -> Result<Self, ChainError> {
        let (head, state) = match store.head()? {
            None => {
                let mut state = WorldState::new(store.state_store());
                genesis.apply(&mut state)?;
                let commit = state.prepare_commit(0)?;
                let block = Block {
                    header: genesis_header(genesis, commit.root),
                    transactions: Vec::new(),
                };
                store.commit_genesis(genesis.chain_id, &block, &commit.batch)?;
                state.finish_commit(commit)?;
                (block.header, state)
            }
            Some(number) => {
                check_genesis(&store, genesis)?;
                let head = store
                    .block(number)?
                    .ok_or(ChainError::MissingBlock(number))?
                    .header;
                let mut state = WorldState::open(store.state_store(), head.number)?;
                let root = state.root()?;
                if root != head.state_root {
                    return Err(ChainError::StateRootMismatch {
                        number: head.number,
                        expected: head.state_root,
                        found: root,
                    });
                }
                (head, state)
            }
        };
        let runtime = Runtime::new(config.runtime.clone(), state)?;
        let stored_modules = load_modules(&store, &runtime);
        let pool_config = PoolConfig {
            block_gas_limit: head.gas_limit,
            ..config.pool.clone()
        };
        let pool = Mempool::new(pool_config, head.next_base_fee());
        Ok(Chain {
            store,
            runtime,
            pool,
            head,
            chain_id: genesis.chain_id,
            config,
            next_timestamp: None,
            stored_modules,
        })
    }

    /// The last committed block's header.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Blocks, receipts and the transaction index.
    pub fn store(&self) -> &ChainStore {
        &self.store
    }

    /// The mempool.
    pub fn pool(&self) -> &Mempool<SignedTransaction> {
        &self.pool
    }

    /// The runtime, holding the world state at the head.
    pub fn runtime(&mut self) -> &mut Runtime<StateStore> {
        &mut self.runtime
    }

    /// The mining mode.
    pub fn mining(&self) -> MiningMode {
        self.config.mining
    }

    /// Sets the timestamp of the next block (it must exceed the head's; it is raised to
    /// head + 1 otherwise).
    pub fn set_next_timestamp(&mut self, timestamp: u64) {
        self.next_timestamp = Some(timestamp);
    }

    /// Decodes, checks and pools a raw signed transaction; in on-demand mode, mines it.
    /// Returns its hash.
    pub fn submit_raw(&mut self, raw: &[u8]) -> Result<H256, SubmitError> {
        let tx = SignedTransaction::decode(raw)?;
        self.submit(tx)
    }

    /// Decodes a batch of raw transactions, recovering their senders on every core, and
    /// submits them in order (in on-demand mode each is mined as it is accepted).
    pub fn submit_batch(&mut self, raw: &[Vec<u8>]) -> Vec<Result<H256, SubmitError>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        recover_senders_parallel(raw, threads)
            .into_iter()
            .map(|decoded| self.submit(decoded?))
            .collect()
    }

    /// Checks and pools a decoded transaction; in on-demand mode, mines it.
    pub fn submit(&mut self, tx: SignedTransaction) -> Result<H256, SubmitError> {
        let t = tx.transaction();
        if t.chain_id != self.chain_id {
            return Err(TxError::WrongChainId {
                expected: self.chain_id,
                got: t.chain_id,
            }
            .into());
        }
        let intrinsic = t.intrinsic_gas(self.runtime.costs())?;
        if t.gas_limit < intrinsic {
            return Err(TxError::IntrinsicGasTooLow {
                limit: t.gas_limit,
                intrinsic,
            }
            .into());
        }
        let sender = tx.sender();
        let account = self.account_state(&sender)?;
        let hash = tx.hash();
        let entry = PoolTx {
            hash,
            sender,
            nonce: t.nonce,
            max_fee_per_gas: t.max_fee_per_gas,
            max_priority_fee_per_gas: t.max_priority_fee_per_gas,
            gas_limit: t.gas_limit,
            value: t.value,
        };
        self.pool.insert(entry, tx, account)?;
        if self.config.mining == MiningMode::OnDemand {
            self.mine()?;
        }
        Ok(hash)
    }

    /// The timestamp the next block gets: the one set, or the clock, and at least head + 1.
    fn next_block_timestamp(&mut self) -> u64 {
        let wanted = self.next_timestamp.take().unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        wanted.max(self.head.timestamp.saturating_add(1))
    }

    /// Builds, executes and commits the next block from the best pooled transactions (an
    /// empty block if there are none).
    pub fn mine(&mut self) -> Result<Block, ChainError> {
        let timestamp = self.next_block_timestamp();
        let env = BlockEnv {
            number: self.head.number + 1,
            timestamp,
            chain_id: self.chain_id,
            gas_limit: self.head.gas_limit,
            base_fee: self.head.next_base_fee(),
            producer: self.config.producer,
        };
        let mut ctx = BlockContext::new(env);
        let mut included: Vec<(SignedTransaction, Receipt)> = Vec::new();
        let mut dropped: Vec<H256> = Vec::new();
        let mut best = self.pool.best();
        while let Some(entry) = best.next() {
            let sender = entry.tx.sender;
            if entry.tx.gas_limit > ctx.gas_left() {
                best.skip_sender(sender);
                continue;
            }
            match self
                .runtime
                .transact(&mut ctx, sender, entry.payload.transaction())
            {
                Ok(receipt) => included.push((entry.payload.clone(), receipt)),
                Err(ExecError::Invalid(_)) => {
                    dropped.push(entry.tx.hash);
                    best.skip_sender(sender);
                }
                Err(e) => {
                    drop(best);
                    self.reload_state()?;
                    return Err(ChainError::Execution(e.to_string()));
                }
            }
        }
        drop(best);
        let block = self.commit(ctx, included)?;
        for hash in dropped {
            self.pool.remove(&hash);
        }
        Ok(block)
    }

    /// Seals the executed block: roots, header, one atomic write, then the new head.
    fn commit(
        &mut self,
        ctx: BlockContext,
        included: Vec<(SignedTransaction, Receipt)>,
    ) -> Result<Block, ChainError> {
        let number = ctx.env.number;
        let commit = self.runtime.state_mut().prepare_commit(number)?;
        let envelopes: Vec<Vec<u8>> = included.iter().map(|(tx, _)| tx.encode()).collect();
        let mut bloom = Bloom::default();
        let mut encoded_receipts = Vec::with_capacity(included.len());
        for (_, receipt) in &included {
            let receipt_bloom = Bloom::of_logs(&receipt.logs);
            bloom.merge(&receipt_bloom);
            encoded_receipts.push(encode_receipt(receipt, &receipt_bloom));
        }
        let header = Header {
            parent_hash: self.head.hash(),
            producer: ctx.env.producer,
            state_root: commit.root,
            transactions_root: index_root(&envelopes),
            receipts_root: index_root(&encoded_receipts),
            logs_bloom: bloom,
            number,
            gas_limit: ctx.env.gas_limit,
            gas_used: ctx.gas_used,
            timestamp: ctx.env.timestamp,
            base_fee: ctx.env.base_fee,
        };
        let mut senders: Vec<H160> = included.iter().map(|(tx, _)| tx.sender()).collect();
        let receipts: Vec<StoredReceipt> = included
            .into_iter()
            .map(|(tx, r)| stored_receipt(&tx, r))
            .collect();
        let block = Block {
            header,
            transactions: envelopes,
        };
        // Compiled modules not stored yet for this schedule (the code this block deployed, or
        // code compiled anew after a schedule change), so a restart does not recompile.
        let vm = self.runtime.vm();
        let modules: Vec<([u8; 32], Vec<u8>)> = vm
            .cached_code_hashes()
            .into_iter()
            .map(|hash| (vm.artifact_key(&hash), hash))
            .filter(|(key, _)| !self.stored_modules.contains(key))
            .filter_map(|(key, hash)| {
                let module = vm.cached(&hash)?;
                Some((key, vm.serialize(&module).ok()?))
            })
            .collect();
        if let Err(e) = self
            .store
            .commit_block(&block, &receipts, &commit.batch, &modules)
        {
            self.reload_state()?;
            return Err(e.into());
        }
        self.runtime.state_mut().finish_commit(commit)?;
        self.stored_modules
            .extend(modules.iter().map(|(key, _)| *key));
        self.head = block.header.clone();
        senders.sort_unstable();
        senders.dedup();
        let mut accounts = Vec::with_capacity(senders.len());
        for sender in senders {
            let account = self.account_state(&sender)?;
            accounts.push((sender, account));
        }
        self.pool.on_block(self.head.next_base_fee(), accounts);
        Ok(block)
    }

    /// The nonce and balance of `address`, as the mempool needs them.
    fn account_state(&mut self, address: &H160) -> Result<AccountState, ChainError> {
        let account = self.runtime.state_mut().account(address)?;
        Ok(account.map_or(
            AccountState {
                nonce: 0,
                balance: U256::zero(),
            },
            |a| AccountState {
                nonce: a.nonce,
                balance: a.balance,
            },
        ))
    }

    /// In [`MiningMode::Interval`], mines a block if `now` (seconds since the Unix epoch) is
    /// at least the interval past the head's timestamp; the node calls this on a timer.
    pub fn tick(&mut self, now: u64) -> Result<Option<Block>, ChainError> {
        let MiningMode::Interval(every) = self.config.mining else {
            return Ok(None);
        };
        if now < self.head.timestamp.saturating_add(every) {
            return Ok(None);
        }
        self.set_next_timestamp(now);
        self.mine().map(Some)
    }

    /// Drops the in-memory state and reopens it at the head (after a failed block).
    fn reload_state(&mut self) -> Result<(), ChainError> {
        let state = WorldState::open(self.store.state_store(), self.head.number)?;
        self.runtime = Runtime::new(self.config.runtime.clone(), state)?;
        self.stored_modules = load_modules(&self.store, &self.runtime);
        Ok(())
    }
}

/// Loads the stored compiled modules into the VM's cache and returns the keys stored. An
/// artifact that does not load (for another gas schedule or build of tally, or damaged) is
/// skipped: the code is then compiled on first use, and stored under its new key.
fn load_modules(store: &ChainStore, runtime: &Runtime<StateStore>) -> BTreeSet<[u8; 32]> {
    let Ok(modules) = store.modules() else {
        return BTreeSet::new();
    };
    let mut keys = BTreeSet::new();
    for (key, artifact) in modules {
        keys.insert(key);
        // SAFETY: the artifacts come from this chain's own data directory, written by
        // `Vm::serialize`; the VM checks their header, schedule and checksum, and wasmtime
        // checks the engine configuration.
        let _ = unsafe { runtime.vm().deserialize(&artifact) };
    }
    keys
}

/// The genesis block's header: the genesis state's root, no transactions.
/// The genesis block's header for a genesis state with root `state_root`.
fn genesis_header(genesis: &Genesis, state_root: H256) -> Header {
    Header {
        parent_hash: H256::zero(),
        producer: H160::zero(),
        state_root,
        transactions_root: index_root(&[]),
        receipts_root: index_root(&[]),
        logs_bloom: Bloom::default(),
        number: 0,
        gas_limit: genesis.gas_limit,
        gas_used: 0,
        timestamp: genesis.timestamp,
        base_fee: genesis.base_fee,
    }
}

/// Checks that `store` holds the chain `genesis` describes: same chain id, same genesis block.
fn check_genesis(store: &ChainStore, genesis: &Genesis) -> Result<(), ChainError> {
    let stored_id = store.chain_id()?;
    if stored_id != Some(genesis.chain_id) {
        return Err(ChainError::ChainIdMismatch {
            stored: stored_id,
            given: genesis.chain_id,
        });
    }
    // The genesis state's root, computed on a scratch store: opening writes nothing.
    let mut scratch = WorldState::new(tally_runtime::trie::MemoryStore::new());
    genesis.apply(&mut scratch)?;
    let given = genesis_header(genesis, scratch.root()?).hash();
    let stored = store
        .block(0)?
        .ok_or(ChainError::MissingBlock(0))?
        .header
        .hash();
    if stored != given {
        return Err(ChainError::GenesisMismatch { stored, given });
    }
    Ok(())
}

fn stored_receipt(tx: &SignedTransaction, r: Receipt) -> StoredReceipt {
    StoredReceipt {
        transaction_hash: tx.hash(),
        from: tx.sender(),
        to: tx.transaction().to,
        status: match &r.status {
            Status::Success => ReceiptStatus::Success,
            Status::Revert => ReceiptStatus::Revert,
            Status::Failure(f) => ReceiptStatus::Failure(format!("{f:?}")),
        },
        gas_used: r.gas_used,
        cumulative_gas_used: r.cumulative_gas_used,
        intrinsic_gas: r.gas.intrinsic,
        logs: r.logs,
        output: r.output,
        contract_address: r.contract_address,
        effective_gas_price: r.effective_gas_price,
        burned: r.burned,
        tip: r.tip,
    }
}
