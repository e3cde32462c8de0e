//! [`Chain`]: sequences signed transactions through the runtime into blocks. It owns the
//! store, the world state (inside the runtime), the mempool and the head; it decodes and
//! admits transactions (signed, or impersonated: [`Chain::submit_impersonated`]), builds
//! blocks from the best pooled transactions up to the gas limit, and commits each block with
//! its receipts and state in one atomic write.
//!
//! The developer operations live in submodules: state cheats (`cheats`), snapshots and
//! reverts (`snapshot`), re-execution with traces and old states (`replay`); the block
//! timestamps in `clock`.

mod cheats;
mod clock;
mod config;
mod error;
mod open_block;
mod replay;
mod snapshot;

pub use config::{ChainConfig, Clock, MiningMode};
pub use error::{ChainError, SubmitError};
pub use open_block::PendingBlock;

use std::collections::{BTreeMap, BTreeSet};

use tally_runtime::exec::{BlockContext, ExecError, Receipt, Runtime, Status};
use tally_runtime::state::WorldState;
use tally_runtime::tx::{Transaction, TxError};
use tally_runtime::{H160, H256, U256};

use super::block::{encode_receipt, index_root, BlockBlooms, Bloom, Header};
use super::cheat::Cheat;
use super::genesis::Genesis;
use super::mempool::{AccountState, Mempool, PoolConfig, PoolTx};
use super::store::{Block, ChainStore, ReceiptStatus, StateStore, StoredReceipt};
use super::tx::{recover_senders_parallel, SignedTransaction};
use clock::BlockClock;
use open_block::OpenBlock;
use snapshot::Snapshot;

/// A single-node chain.
pub struct Chain {
    store: ChainStore,
    runtime: Runtime<StateStore>,
    pool: Mempool<SignedTransaction>,
    head: Header,
    chain_id: u64,
    config: ChainConfig,
    clock: BlockClock,
    /// Keys of the compiled-module artifacts in the store (`Vm::artifact_key`).
    stored_modules: BTreeSet<[u8; 32]>,
    /// Cheats applied since the head was mined (in the state, not yet in a block).
    pending_cheats: Vec<Cheat>,
    /// The runtime receipts of the last block mined.
    last_receipts: Vec<Receipt>,
    snapshots: BTreeMap<u64, Snapshot>,
    next_snapshot: u64,
    /// The block being built by [`Chain::execute`], not sealed yet.
    open: Option<OpenBlock>,
}

impl Chain {
    /// Opens the chain in `store`: creates its genesis block if the store is empty, otherwise
    /// continues from the last committed block (with an empty mempool).
    pub fn open(
        mut store: ChainStore,
        genesis: &Genesis,
        config: ChainConfig,
    ) -> Result<Self, ChainError> {
        store.set_state_history(config.state_history);
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
        let clock = BlockClock::new(config.clock, head.timestamp);
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
            clock,
            stored_modules,
            pending_cheats: Vec::new(),
            last_receipts: Vec::new(),
            snapshots: BTreeMap::new(),
            next_snapshot: 0,
            open: None,
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

    /// The runtime, holding the world state at the head (with the unmined cheats). Change
    /// the state through the cheat methods ([`Chain::set_balance`]...), not directly: direct
    /// changes are not recorded, so snapshots and block re-execution would not see them.
    pub fn runtime(&mut self) -> &mut Runtime<StateStore> {
        &mut self.runtime
    }

    /// The runtime receipts (gas breakdown, and call trace when
    /// [`RuntimeConfig::trace`](tally_runtime::exec::RuntimeConfig::trace) is on) of the
    /// transactions of the last block mined, in order: what the store keeps of them is only
    /// their [`StoredReceipt`]s. Empty after a revert. The trace of a transaction run by
    /// [`Chain::execute`] is not kept: `execute` returned it.
    pub fn last_receipts(&self) -> &[Receipt] {
        &self.last_receipts
    }

    /// The mining mode.
    pub fn mining(&self) -> MiningMode {
        self.config.mining
    }

    /// Sets the timestamp of the next block (it must exceed the head's; it is raised to
    /// head + 1 otherwise). Later blocks continue from it (see [`Chain::increase_time`]).
    pub fn set_next_timestamp(&mut self, timestamp: u64) {
        self.later_clock().set_next(timestamp);
    }

    /// Moves every later block's timestamp `seconds` further (anvil's `evm_increaseTime`);
    /// returns the total offset in seconds from the clock's time.
    pub fn increase_time(&mut self, seconds: u64) -> i64 {
        self.later_clock().increase(seconds)
    }

    /// Seconds added to the clock's time for block timestamps.
    pub fn time_offset(&self) -> i64 {
        self.open
            .as_ref()
            .map_or(&self.clock, |open| &open.clock)
            .offset()
    }

    /// The clock the next block to be opened reads: the one the open block leaves behind when
    /// it is sealed (a block keeps the time it was opened at), or the chain's.
    fn later_clock(&mut self) -> &mut BlockClock {
        match &mut self.open {
            Some(open) => &mut open.clock,
            None => &mut self.clock,
        }
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
        self.admit(tx)
    }

    /// Checks and pools `tx` as if `sender` had signed it (anvil's impersonation, for
    /// `eth_sendTransaction` from an address without a key); in on-demand mode, mines it. The
    /// stored envelope carries a placeholder signature and the hash commits to the sender
    /// (see [`SignedTransaction::impersonated`]). Returns its hash.
    pub fn submit_impersonated(
        &mut self,
        sender: H160,
        tx: Transaction,
    ) -> Result<H256, SubmitError> {
        self.admit(SignedTransaction::impersonated(tx, sender))
    }

    fn admit(&mut self, tx: SignedTransaction) -> Result<H256, SubmitError> {
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

    /// Builds, executes and commits the next block from the best pooled transactions (an
    /// empty block if there are none).
    pub fn mine(&mut self) -> Result<Block, ChainError> {
        self.mine_at(None)
    }

    /// [`Chain::mine`] with the system time `wall` instead of reading the clock: the open
    /// block (see [`Chain::execute`]), or a new one, filled from the pool and sealed.
    fn mine_at(&mut self, wall: Option<u64>) -> Result<Block, ChainError> {
        let mut block = match self.open.take() {
            Some(open) => open,
            None => self.start_block(wall),
        };
        // Room for every pending transaction the block could hold, so the receipts are not
        // moved as the vector grows.
        let most = block.ctx.gas_left() / self.runtime.costs().transaction.max(1);
        let room = self
            .pool
            .pending_count()
            .min(usize::try_from(most).unwrap_or(usize::MAX));
        block.included.reserve(room);
        let mut dropped: Vec<H256> = Vec::new();
        let mut best = self.pool.best();
        while let Some(entry) = best.next() {
            let sender = entry.tx.sender;
            if entry.tx.gas_limit > block.ctx.gas_left() {
                best.skip_sender(sender);
                continue;
            }
            match self
                .runtime
                .transact(&mut block.ctx, sender, entry.payload.transaction())
            {
                Ok(receipt) => block.included.push((entry.payload.clone(), receipt)),
                Err(ExecError::Invalid(_)) => {
                    dropped.push(entry.tx.hash);
                    best.skip_sender(sender);
                }
                Err(e) => {
                    drop(best);
                    self.reset_state()?;
                    return Err(ChainError::Execution(e.to_string()));
                }
            }
        }
        drop(best);
        let block = self.seal_block(block)?;
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
        let mut senders: Vec<H160> = included.iter().map(|(tx, _)| tx.sender()).collect();
        let receipts: Vec<StoredReceipt> = included
            .iter()
            .map(|(tx, r)| stored_receipt(tx, r))
            .collect();
        // The block takes the transactions' envelopes; the runtime receipts become the last
        // block's.
        let (transactions, runtime_receipts): (Vec<SignedTransaction>, Vec<Receipt>) =
            included.into_iter().unzip();
        let envelopes: Vec<Vec<u8>> = transactions
            .into_iter()
            .map(SignedTransaction::into_envelope)
            .collect();
        let mut bloom = Bloom::default();
        let mut blooms = BlockBlooms::default();
        let mut encoded_receipts = Vec::with_capacity(runtime_receipts.len());
        for receipt in &runtime_receipts {
            let receipt_bloom = blooms.of_logs(&receipt.logs);
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
        let written = self.store.commit_block(
            &block,
            &receipts,
            &commit.batch,
            &modules,
            &self.pending_cheats,
        );
        if let Err(e) = written {
            self.reset_state()?;
            return Err(e.into());
        }
        self.runtime.state_mut().finish_commit(commit)?;
        self.stored_modules
            .extend(modules.iter().map(|(key, _)| *key));
        self.head = block.header.clone();
        self.pending_cheats.clear();
        self.last_receipts = runtime_receipts;
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

    /// In [`MiningMode::Interval`], mines a block if `now` (seconds since the Unix epoch), plus
    /// the time offset, is at least the interval past the head's timestamp; the node calls
    /// this on a timer. The block's timestamp comes from the clock as for [`Chain::mine`], with
    /// `now` as the system time.
    pub fn tick(&mut self, now: u64) -> Result<Option<Block>, ChainError> {
        let MiningMode::Interval(every) = self.config.mining else {
            return Ok(None);
        };
        if !self
            .clock
            .reached(now, self.head.timestamp.saturating_add(every))
        {
            return Ok(None);
        }
        self.mine_at(Some(now)).map(Some)
    }

    /// Drops the in-memory state, reopens it at the head and applies the unmined cheats again
    /// (after a failed block, or a revert).
    fn reset_state(&mut self) -> Result<(), ChainError> {
        // The open block's transactions are in the state dropped here.
        self.open = None;
        let state = WorldState::open(self.store.state_store(), self.head.number)?;
        *self.runtime.state_mut() = state;
        for cheat in &self.pending_cheats {
            cheats::apply(&mut self.runtime, cheat)?;
        }
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

/// What the store keeps of a receipt (the runtime's stays in [`Chain::last_receipts`]).
fn stored_receipt(tx: &SignedTransaction, r: &Receipt) -> StoredReceipt {
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
        logs: r.logs.clone(),
        output: r.output.clone(),
        contract_address: r.contract_address,
        effective_gas_price: r.effective_gas_price,
        burned: r.burned,
        tip: r.tip,
    }
}
