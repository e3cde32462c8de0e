//! `chain_txs`: arbitrary sequences of signed transactions (value transfers, deploys of the
//! example contracts, calls with fuzzed arguments, values and gas limits, malformed envelopes,
//! wrong nonces, fees and chain ids), one by one or in batches, submitted to a chain and mined
//! into blocks: on demand, when the input says so, or on ticks of an interval.
//!
//! Oracles ([`invariants`]), after every block: the balances of all accounts plus every base
//! fee burned equal the genesis supply; each receipt burns gas x base fee and pays gas x price;
//! each sender's nonce advanced by exactly its number of included transactions; a block's gas
//! used is the sum of its receipts' and the last cumulative figure. After every step: the pool
//! is within its limits, holds nothing below a sender's nonce, marks pending exactly what has
//! no nonce gap before it, and never holds more than a sender can pay. A tick mines exactly
//! when the interval has passed. At the end the blocks replayed from genesis on a new chain
//! give the same headers (so the same state, transactions and receipts roots) and receipts.
//! Nothing panics, and the chain itself never fails.
//!
//! Most inputs run on a chain that keeps only its last one to four states, pruning in each
//! block's write (the history is taken from a hash of the whole input, so the bytes of saved
//! inputs keep their meaning). At the end, each kept state's root is its block's and every
//! older state is refused as pruned.

mod invariants;
mod modules;
mod signatures;

use std::collections::BTreeMap;
use std::num::NonZeroU64;

use arbitrary::{Result, Unstructured};
use tally_runtime::tx::{DeployPayload, Transaction};
use tally_runtime::{H160, H256, U256};

use super::abi::{arbitrary_arg, arg_types, encode, encode_call, selector};
use super::contracts::{Example, HOSTILE, WELL_BEHAVED};
use super::keys::dev_keys;
use crate::chain::genesis::{Genesis, GenesisAccount};
use crate::chain::mempool::PoolConfig;
use crate::chain::sequencer::{Chain, ChainConfig, Clock, MiningMode, SubmitError};
use crate::chain::tx::SignedTransaction;
use invariants::Audit;

const CHAIN_ID: u64 = 31_337;
const PRODUCER: H160 = H160([0xfe; 20]);
/// Addresses without keys that transfers and calls may reach.
const OTHERS: [H160; 2] = [H160([0x11; 20]), H160([0; 20])];

/// Runs one input; panics when an oracle fails.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(mut session) = Session::open(&mut u, state_history(data)) else {
        return;
    };
    while !u.is_empty() {
        if session.step(&mut u).is_err() {
            break;
        }
    }
    session.finish();
}

/// A chain under test, what was deployed on it, and the audit of its blocks.
struct Session {
    chain: Chain,
    genesis: Genesis,
    config: ChainConfig,
    /// Development keys that hold funds at genesis.
    senders: usize,
    /// Contracts created by transactions, with the example they run.
    contracts: Vec<(H160, &'static Example)>,
    timestamp: u64,
    audit: Audit,
    /// Every signed transaction submitted, by hash, for the replay.
    signed: BTreeMap<H256, SignedTransaction>,
}

impl Session {
    fn open(u: &mut Unstructured<'_>, state_history: Option<NonZeroU64>) -> Result<Session> {
        let senders = u.int_in_range(1..=4)?;
        let mut accounts = BTreeMap::new();
        for (_, address) in &dev_keys()[..senders] {
            let balance = match u.int_in_range(0..=3)? {
                0 => U256::zero(),
                1 => U256::from(u.int_in_range(0..=1_000_000_000_000u64)?),
                _ => U256::from(u.arbitrary::<u64>()?) * U256::from(1_000_000u64),
            };
            let account = GenesisAccount {
                balance,
                ..GenesisAccount::default()
            };
            accounts.insert(*address, account);
        }
        let genesis = Genesis {
            chain_id: CHAIN_ID,
            // From a few transfers to several deployments (docs/gas.md: a transfer is about
            // 2 * 10^6 gas, deploying an example 10^8 to 4 * 10^8).
            gas_limit: u.int_in_range(10_000_000..=3_000_000_000)?,
            base_fee: U256::from(u.int_in_range(0..=1_000u64)?),
            timestamp: 0,
            accounts,
        };
        let mining = match u.int_in_range(0..=2)? {
            0 => MiningMode::OnDemand,
            1 => MiningMode::Manual,
            _ => MiningMode::Interval(u.int_in_range(1..=50_000)?),
        };
        let config = ChainConfig {
            mining,
            producer: PRODUCER,
            pool: pool_config(u)?,
            // Blocks take their time from the input: a tick's time in interval mode (the
            // system clock is never read when a tick gives the time), otherwise the timestamp
            // set before each step, or one second after the parent (the later blocks of a
            // batch mined on demand).
            clock: match mining {
                MiningMode::Interval(_) => Clock::System,
                _ => Clock::Deterministic { step: 1 },
            },
            state_history,
            ..ChainConfig::default()
        };
        let chain = modules::open_chain(&genesis, &config);
        let audit = Audit::new(&genesis);
        Ok(Session {
            chain,
            genesis,
            config,
            senders,
            contracts: Vec::new(),
            timestamp: 0,
            audit,
            signed: BTreeMap::new(),
        })
    }

    /// Every address a transaction may name: the senders, the contracts, the producer and a
    /// few others.
    fn addresses(&self) -> Vec<H160> {
        let keys = dev_keys()[..self.senders].iter().map(|(_, a)| *a);
        let contracts = self.contracts.iter().map(|(a, _)| *a);
        keys.chain(contracts)
            .chain(OTHERS)
            .chain([PRODUCER])
            .collect()
    }

    fn step(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        // The next block's time comes from the input; blocks mined on demand by a batch move
        // past it (each a second after its parent).
        self.timestamp = self.timestamp.max(self.chain.head().timestamp);
        self.timestamp += u.int_in_range(1..=100_000)?;
        if !matches!(self.config.mining, MiningMode::Interval(_)) {
            self.chain.set_next_timestamp(self.timestamp);
        }
        match u.int_in_range(0..=10)? {
            0 => {
                let raw: Vec<u8> = u.arbitrary()?;
                self.submit_raw(&raw);
            }
            1 => self.mine(),
            10 => {
                // Several envelopes at once: senders recovered on all cores, then submitted in
                // order.
                let mut batch = Vec::new();
                for _ in 0..u.int_in_range(1..=3)? {
                    let op = u.int_in_range(2..=9)?;
                    batch.push(self.signed_transaction(u, op)?.encode());
                }
                for result in self.chain.submit_batch(&batch) {
                    check_submission(result);
                }
            }
            op => {
                let signed = self.signed_transaction(u, op)?;
                if u.ratio(1, 16)? {
                    let raw = super::mutate::mutate(signed.encode(), u)?;
                    self.submit_raw(&raw);
                } else {
                    // Already decoded: the decoding and sender recovery of envelopes is the
                    // `decoders` target's, and costs more than the rest of a transaction.
                    self.signed.insert(signed.hash(), signed.clone());
                    let result = self.chain.submit(signed);
                    check_submission(result);
                }
            }
        }
        self.audit.check_new_blocks(&mut self.chain);
        invariants::check_pool(&mut self.chain, &self.config.pool);
        self.note_contracts();
        Ok(())
    }

    /// Mines now, or in interval mode ticks the clock (which mines only once the interval
    /// has passed).
    fn mine(&mut self) {
        if let MiningMode::Interval(every) = self.config.mining {
            let due = self.timestamp >= self.chain.head().timestamp.saturating_add(every);
            let mined = self.chain.tick(self.timestamp);
            let mined = mined.unwrap_or_else(|e| panic!("mining: {e}"));
            assert_eq!(
                mined.is_some(),
                due,
                "a tick mines when the interval has passed"
            );
            return;
        }
        let block = self.chain.mine().unwrap_or_else(|e| panic!("mining: {e}"));
        assert_eq!(block.header.timestamp, self.timestamp, "the set timestamp");
    }

    /// A transaction of kind `op` (see [`Session::transaction`]) from a random sender, signed.
    fn signed_transaction(&self, u: &mut Unstructured<'_>, op: u32) -> Result<SignedTransaction> {
        let signer = u.choose_index(self.senders)?;
        let tx = self.transaction(u, dev_keys()[signer].1, op)?;
        Ok(signatures::sign(tx, signer))
    }

    fn submit_raw(&mut self, raw: &[u8]) {
        match self.chain.submit_raw(raw) {
            Ok(_)
            | Err(SubmitError::Decode(_) | SubmitError::Invalid(_) | SubmitError::Pool(_)) => {}
            Err(SubmitError::Chain(e)) => panic!("the chain failed: {e}"),
        }
    }

    /// A transfer (`op` 2-3), a deploy (4-5) or a call (6-9) from `from`.
    fn transaction(&self, u: &mut Unstructured<'_>, from: H160, op: u32) -> Result<Transaction> {
        let addresses: Vec<[u8; 20]> = self.addresses().iter().map(|a| a.0).collect();
        let (to, data) = match op {
            2 | 3 => (Some(*u.choose(&self.addresses())?), Vec::new()),
            4 | 5 => {
                let example = if u.ratio(1, 8)? {
                    u.choose(HOSTILE)?
                } else {
                    u.choose(WELL_BEHAVED)?
                };
                let types = arg_types(example.constructor).unwrap_or_default();
                let args = types
                    .iter()
                    .map(|ty| arbitrary_arg(u, *ty, &addresses))
                    .collect::<Result<Vec<_>>>()?;
                let input = if args.is_empty() {
                    Vec::new()
                } else {
                    encode(&args)
                };
                (None, DeployPayload::encode(example.code, &input))
            }
            _ => match self.contracts.as_slice() {
                [] => (Some(*u.choose(&self.addresses())?), u.arbitrary()?),
                contracts => {
                    let (address, example) = u.choose(contracts)?;
                    (Some(*address), calldata(u, example, &addresses)?)
                }
            },
        };
        let nonce = self.next_nonce(from);
        let nonce = match u.int_in_range(0..=15)? {
            0 => nonce.saturating_sub(1),
            1 => nonce + 1,
            _ => nonce,
        };
        let base_fee = self.chain.head().next_base_fee();
        let gas_limit = match u.int_in_range(0..=3)? {
            // Around a transfer's intrinsic gas, anything up to the block's, or enough for calls
            // and most deployments.
            0 => u.int_in_range(1_990_000..=6_000_000)?,
            1 => u.int_in_range(0..=self.genesis.gas_limit + 1)?,
            _ => u.int_in_range(10_000_000..=400_000_000)?,
        };
        let priority = U256::from(u.int_in_range(0..=5u64)?);
        let max_fee = match u.int_in_range(0..=7)? {
            0 => base_fee.saturating_sub(U256::one()),
            1 => U256::from(u.arbitrary::<u64>()?),
            _ => base_fee + priority + U256::from(u.int_in_range(0..=50u64)?),
        };
        let value = match u.int_in_range(0..=3)? {
            0 => U256::from(u.arbitrary::<u64>()?),
            _ => U256::from(u.int_in_range(0..=10_000u64)?),
        };
        Ok(Transaction {
            chain_id: if u.ratio(1, 32)? { 1 } else { CHAIN_ID },
            nonce,
            max_priority_fee_per_gas: priority,
            max_fee_per_gas: max_fee,
            gas_limit,
            to,
            value,
            data,
        })
    }

    /// The sender's next nonce: after its pooled transactions, or its account's.
    fn next_nonce(&self, sender: H160) -> u64 {
        match self.chain.pool().pending_nonce(&sender) {
            Some(nonce) => nonce,
            None => self.audit.nonce(&sender),
        }
    }

    /// Records the contracts the new blocks created.
    fn note_contracts(&mut self) {
        for (address, code) in self.audit.take_created() {
            let all = WELL_BEHAVED.iter().chain(HOSTILE);
            if let Some(example) = all.into_iter().find(|e| e.code == code.as_slice()) {
                self.contracts.push((address, example));
            }
        }
    }

    /// Mines what is pooled, checks that block, and replays the chain from genesis.
    fn finish(mut self) {
        self.timestamp = self.timestamp.max(self.chain.head().timestamp) + 1;
        self.chain.set_next_timestamp(self.timestamp);
        if let Err(e) = self.chain.mine() {
            panic!("mining: {e}");
        }
        self.audit.check_new_blocks(&mut self.chain);
        invariants::kept_states(&self.chain, self.config.state_history);
        invariants::replay(&self.chain, &self.genesis, &self.config, &self.signed);
    }
}

/// How many states the chain keeps, from a hash of the whole input (not from its bytes in
/// turn): all of them for one input in five, otherwise the last one to four.
fn state_history(data: &[u8]) -> Option<NonZeroU64> {
    NonZeroU64::new(u64::from(tally_runtime::trie::keccak256(data)[0] % 5))
}

/// The default pool, or a small one (so that it fills, evicts and refuses) with other fee
/// rules.
fn pool_config(u: &mut Unstructured<'_>) -> Result<PoolConfig> {
    if u.arbitrary()? {
        return Ok(PoolConfig::default());
    }
    Ok(PoolConfig {
        max_txs: u.int_in_range(1..=12)?,
        max_per_sender: u.int_in_range(1..=6)?,
        min_max_fee: U256::from(u.int_in_range(0..=3u64)?),
        price_bump_percent: u.int_in_range(0..=100)?,
        ..PoolConfig::default()
    })
}

/// A submission is accepted or refused with a reason; the chain itself never fails.
fn check_submission(result: std::result::Result<H256, SubmitError>) {
    if let Err(SubmitError::Chain(e)) = result {
        panic!("the chain failed: {e}");
    }
}

/// Calldata for one of `example`'s functions: canonical, a selector with arbitrary bytes, or
/// arbitrary bytes.
fn calldata(
    u: &mut Unstructured<'_>,
    example: &Example,
    addresses: &[[u8; 20]],
) -> Result<Vec<u8>> {
    let Ok(function) = u.choose(example.functions) else {
        return u.arbitrary();
    };
    Ok(match u.int_in_range(0..=7)? {
        0 => u.arbitrary()?,
        1 => [&selector(function)[..], &u.arbitrary::<Vec<u8>>()?].concat(),
        _ => {
            let types = arg_types(function).unwrap_or_default();
            let args = types
                .iter()
                .map(|ty| arbitrary_arg(u, *ty, addresses))
                .collect::<Result<Vec<_>>>()?;
            encode_call(function, &args)
        }
    })
}
