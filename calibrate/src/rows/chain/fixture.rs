//! The chain the state-level workloads run on: a durable chain (redb in a temporary directory)
//! whose genesis holds the probe contract with a large storage, a large number of accounts
//! (each with the callee's code), and funds. It is reopened after its genesis, so its tries are
//! read from the store as they are used; and it hands out keys, accounts and slots no earlier
//! run has touched, so every access is a first access (nothing cached in the state's overlay).

use std::collections::BTreeMap;
use std::path::PathBuf;

use k256::ecdsa::SigningKey;
use tally::chain::genesis::{Genesis, GenesisAccount};
use tally::chain::sequencer::{Chain, ChainConfig, MiningMode};
use tally::chain::store::{ChainStore, ReceiptStatus};
use tally::chain::tx::SignedTransaction;
use tally_runtime::exec::{RuntimeConfig, Status};
use tally_runtime::trie::keccak256;
use tally_runtime::tx::{BlockEnv, Transaction};
use tally_runtime::{H160, U256};

use super::contracts::{account, echo, probe, slot, slot_value, ProbeCall, CALLEE, ECHO};
use crate::env::Env;
use crate::error::Error;
use crate::row::Region;

const CHAIN_ID: u64 = 7;
/// Gas limit of every transaction (fees are zero, so it costs nothing to be generous).
const TX_GAS: u64 = 1 << 50;

/// The probe contract's address.
pub fn probe_address() -> H160 {
    H160::repeat_byte(0x9b)
}

/// An address no transaction sends value to (the recipient of plain transactions).
pub fn sink() -> H160 {
    H160::repeat_byte(0x5e)
}

/// Ranges of fresh items handed out to runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pool {
    /// Slots the genesis filled: `[0, size)`.
    ExistingSlot,
    /// Slots never written: from `size` up.
    NewSlot,
    /// Accounts the genesis created: `[0, size)`.
    ExistingAccount,
    /// Accounts that do not exist: from `size` up.
    NewAccount,
    /// Numbers that make created code unique.
    Unique,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover temporary directory is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The chain and its counters.
pub struct Fixture {
    chain: Chain,
    _dir: TempDir,
    size: u64,
    sender: SigningKey,
    nonce: u64,
    keys: u64,
    next: BTreeMap<Pool, u64>,
}

fn chain_error(e: impl std::fmt::Display) -> Error {
    Error::Chain(e.to_string())
}

impl Fixture {
    /// Builds the chain for `env` (its costs, its state size).
    pub fn build(env: &Env) -> Result<Self, Error> {
        let size = env.scale.state_size;
        if env.verbose {
            eprintln!("building the chain: {size} accounts and {size} storage slots");
        }
        static BUILT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tally-calibrate-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dir = TempDir(dir);
        let store = ChainStore::open(&dir.0).map_err(chain_error)?;
        let compile = |wat: String| wat::parse_str(wat).map_err(|e| Error::Kernel(e.to_string()));
        let callee = compile(CALLEE.to_string())?;
        let mut accounts = BTreeMap::new();
        for i in 0..size {
            let entry = GenesisAccount {
                balance: U256::one(),
                code: callee.clone(),
                ..GenesisAccount::default()
            };
            accounts.insert(account(i), entry);
        }
        let storage = (0..size).map(|i| (slot(i), slot_value(i))).collect();
        let probe = GenesisAccount {
            balance: U256::exp10(30),
            code: compile(probe())?,
            storage,
            ..GenesisAccount::default()
        };
        accounts.insert(probe_address(), probe);
        let echo = GenesisAccount {
            code: compile(echo())?,
            ..GenesisAccount::default()
        };
        accounts.insert(account(ECHO), echo);
        let genesis = Genesis {
            chain_id: CHAIN_ID,
            gas_limit: 1 << 60,
            base_fee: U256::zero(),
            timestamp: 0,
            accounts,
        };
        let config = ChainConfig {
            runtime: RuntimeConfig {
                vm: env.vm_config(),
                costs: env.costs.runtime.clone(),
                ..RuntimeConfig::default()
            },
            mining: MiningMode::Manual,
            ..ChainConfig::default()
        };
        // Open the chain twice: the second time its tries are loaded from the store node by
        // node as they are used, as after a restart, instead of all in memory from building them.
        drop(Chain::open(store, &genesis, config.clone()).map_err(chain_error)?);
        let store = ChainStore::open(&dir.0).map_err(chain_error)?;
        let chain = Chain::open(store, &genesis, config).map_err(chain_error)?;
        Ok(Fixture {
            chain,
            _dir: dir,
            size,
            sender: key(u64::MAX),
            nonce: 0,
            keys: 0,
            next: BTreeMap::new(),
        })
    }

    /// `count` fresh items of `pool`; returns the first.
    pub fn take(&mut self, pool: Pool, count: u64) -> Result<u64, Error> {
        let base = match pool {
            Pool::ExistingSlot | Pool::ExistingAccount | Pool::Unique => 0,
            Pool::NewSlot | Pool::NewAccount => self.size,
        };
        let next = self.next.entry(pool).or_insert(base);
        let start = *next;
        *next += count;
        let limited = matches!(pool, Pool::ExistingSlot | Pool::ExistingAccount);
        if limited && *next > self.size {
            return Err(Error::Chain(format!(
                "the state has {} items of {pool:?}, the run needs more",
                self.size
            )));
        }
        Ok(start)
    }

    /// Runs the probe in a read-only call (no transaction, no block: what it did is rolled back);
    /// returns the gas it used.
    pub fn view(&mut self, call: ProbeCall, region: &mut Region) -> Result<u64, Error> {
        let head = self.chain.head();
        let block = BlockEnv {
            number: head.number + 1,
            timestamp: head.timestamp + 1,
            chain_id: CHAIN_ID,
            gas_limit: head.gas_limit,
            base_fee: U256::zero(),
            producer: H160::zero(),
        };
        let data = call.input();
        let from = sink();
        let runtime = self.chain.runtime();
        let result = region
            .time(|| runtime.view(&block, from, probe_address(), &data, TX_GAS))
            .map_err(chain_error)?;
        if result.status != Status::Success {
            return Err(Error::Chain(format!(
                "the probe ended with {:?}",
                result.status
            )));
        }
        Ok(result.gas_used)
    }

    /// Runs one transaction calling the probe; returns the gas its block used.
    pub fn probe(&mut self, call: ProbeCall, region: &mut Region) -> Result<u64, Error> {
        let tx = transaction(self.nonce, Some(probe_address()), call.input());
        self.nonce += 1;
        let raw = SignedTransaction::sign(tx, &self.sender).encode();
        self.block(vec![raw], region)
    }

    /// Runs one transaction per `(to, data)`, each from a fresh sender, in one block; returns
    /// the gas the block used.
    pub fn transactions(
        &mut self,
        txs: Vec<(Option<H160>, Vec<u8>)>,
        region: &mut Region,
    ) -> Result<u64, Error> {
        let raw = txs
            .into_iter()
            .map(|(to, data)| {
                self.keys += 1;
                SignedTransaction::sign(transaction(0, to, data), &key(self.keys)).encode()
            })
            .collect();
        self.block(raw, region)
    }

    /// Submits `raw` transactions (decoding them and recovering their senders one by one) and
    /// mines them into a block, as the measured region; checks they all succeeded.
    fn block(&mut self, raw: Vec<Vec<u8>>, region: &mut Region) -> Result<u64, Error> {
        let count = raw.len();
        let chain = &mut self.chain;
        let block = region.time(|| {
            for tx in &raw {
                chain.submit_raw(tx).map_err(chain_error)?;
            }
            chain.mine().map_err(chain_error)
        })?;
        let receipts = self
            .chain
            .store()
            .receipts(block.header.number)
            .map_err(chain_error)?;
        if receipts.len() != count {
            return Err(Error::Chain(format!(
                "{} of {count} transactions made it into the block",
                receipts.len()
            )));
        }
        if let Some(failed) = receipts.iter().find(|r| r.status != ReceiptStatus::Success) {
            return Err(Error::Chain(format!(
                "a transaction ended with {:?}",
                failed.status
            )));
        }
        Ok(block.header.gas_used)
    }
}

/// A transaction without fees or value.
fn transaction(nonce: u64, to: Option<H160>, data: Vec<u8>) -> Transaction {
    Transaction {
        chain_id: CHAIN_ID,
        nonce,
        max_priority_fee_per_gas: U256::zero(),
        max_fee_per_gas: U256::zero(),
        gas_limit: TX_GAS,
        to,
        value: U256::zero(),
        data,
    }
}

/// A signing key of its own for every `n`.
fn key(n: u64) -> SigningKey {
    let mut seed = b"tally-calibrate sender ".to_vec();
    seed.extend_from_slice(&n.to_le_bytes());
    seed.push(0);
    // A hash is a valid secp256k1 scalar except with probability about 2^-128; try again then.
    loop {
        if let Ok(key) = SigningKey::from_slice(&keccak256(&seed)) {
            return key;
        }
        if let Some(last) = seed.last_mut() {
            *last = last.wrapping_add(1);
        }
    }
}
