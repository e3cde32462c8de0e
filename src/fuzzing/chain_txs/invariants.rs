//! The `chain_txs` oracles: the audit of every new block (supply, fees, nonces, gas), the
//! pool's consistency after every step, the states a pruning chain keeps, and the replay of
//! the whole chain from genesis.

use std::collections::BTreeMap;
use std::num::NonZeroU64;

use tally_runtime::trie::keccak256;
use tally_runtime::{H160, H256, U256};

use super::modules::open_chain;
use crate::chain::genesis::Genesis;
use crate::chain::mempool::{PoolConfig, TxStatus};
use crate::chain::sequencer::{Chain, ChainConfig, ChainError, MiningMode};
use crate::chain::store::ChainStoreError;
use crate::chain::tx::SignedTransaction;

/// What the blocks audited so far add up to.
pub struct Audit {
    supply: U256,
    burned: U256,
    /// The last block audited.
    audited: u64,
    /// The nonce of every genesis account at the last audited block.
    nonces: BTreeMap<H160, u64>,
    /// Contracts created by transactions since the last [`Audit::take_created`], with their
    /// code.
    created: Vec<(H160, Vec<u8>)>,
}

impl Audit {
    pub fn new(genesis: &Genesis) -> Audit {
        Audit {
            supply: genesis.supply(),
            burned: U256::zero(),
            audited: 0,
            nonces: genesis
                .accounts
                .iter()
                .map(|(a, acc)| (*a, acc.nonce))
                .collect(),
            created: Vec::new(),
        }
    }

    /// The nonce of a genesis account at the last audited block.
    pub fn nonce(&self, address: &H160) -> u64 {
        self.nonces.get(address).copied().unwrap_or(0)
    }

    pub fn take_created(&mut self) -> Vec<(H160, Vec<u8>)> {
        std::mem::take(&mut self.created)
    }

    /// Audits every block after the last audited one, then the state at the head.
    pub fn check_new_blocks(&mut self, chain: &mut Chain) {
        let head = chain.head().number;
        let mut included: BTreeMap<H160, u64> = BTreeMap::new();
        for number in self.audited + 1..=head {
            let store = chain.store();
            let block = store
                .block(number)
                .unwrap_or_else(|e| panic!("block {number}: {e}"))
                .unwrap_or_else(|| panic!("block {number} is missing"));
            let receipts = store
                .receipts(number)
                .unwrap_or_else(|e| panic!("receipts {number}: {e}"));
            assert_eq!(
                receipts.len(),
                block.transactions.len(),
                "a receipt per transaction"
            );
            let header = &block.header;
            let mut cumulative = 0u64;
            for r in &receipts {
                cumulative += r.gas_used;
                assert_eq!(
                    r.cumulative_gas_used, cumulative,
                    "cumulative gas, block {number}"
                );
                let gas = U256::from(r.gas_used);
                assert_eq!(r.burned, gas * header.base_fee, "burned, block {number}");
                assert_eq!(
                    r.burned + r.tip,
                    gas * r.effective_gas_price,
                    "fees, block {number}"
                );
                self.burned += r.burned;
                *included.entry(r.from).or_default() += 1;
                if let Some(address) = r.contract_address {
                    self.created.push((address, Vec::new()));
                }
            }
            assert_eq!(
                header.gas_used, cumulative,
                "block {number} gas = sum of receipts"
            );
            assert!(
                header.gas_used <= header.gas_limit,
                "block {number} over its limit"
            );
        }
        if head == self.audited {
            return;
        }
        self.audited = head;
        self.check_nonces(chain, &included);
        self.check_supply(chain);
        for (address, code) in &mut self.created {
            let state = chain.runtime().state_mut();
            *code = state
                .code(address)
                .unwrap_or_else(|e| panic!("code of {address:?}: {e}"))
                .to_vec();
        }
    }

    /// Each genesis account's nonce moved by exactly its included transactions.
    fn check_nonces(&mut self, chain: &mut Chain, included: &BTreeMap<H160, u64>) {
        for (address, nonce) in &mut self.nonces {
            let now = chain
                .runtime()
                .state_mut()
                .nonce(address)
                .unwrap_or_else(|e| panic!("nonce of {address:?}: {e}"));
            let expected = *nonce + included.get(address).copied().unwrap_or(0);
            assert_eq!(now, expected, "nonce of {address:?}");
            *nonce = now;
        }
    }

    /// Every balance in the state plus every burned fee is the genesis supply.
    fn check_supply(&self, chain: &mut Chain) {
        let mut total = U256::zero();
        for entry in chain.runtime().state().accounts() {
            let (_, account) = entry.unwrap_or_else(|e| panic!("account trie: {e}"));
            total = total
                .checked_add(account.balance)
                .unwrap_or_else(|| panic!("balances overflow 256 bits"));
        }
        assert_eq!(
            total + self.burned,
            self.supply,
            "balances + burned = supply"
        );
    }
}

/// The pool respects its limits, and for each sender: nothing below its nonce, pending
/// exactly up to its first nonce gap, pooled costs covered by its balance.
pub fn check_pool(chain: &mut Chain, config: &PoolConfig) {
    let mut by_sender: BTreeMap<H160, Vec<(H256, u64, U256)>> = BTreeMap::new();
    for pooled in chain.pool().iter() {
        let tx = pooled.tx;
        let cost = tx
            .cost()
            .unwrap_or_else(|| panic!("a pooled cost overflows"));
        by_sender
            .entry(tx.sender)
            .or_default()
            .push((tx.hash, tx.nonce, cost));
    }
    assert!(
        chain.pool().len() <= config.max_txs,
        "the pool is over its limit"
    );
    let mut pending = 0;
    for (sender, txs) in by_sender {
        assert!(
            txs.len() <= config.max_per_sender,
            "{sender:?} is over its limit"
        );
        let account = chain
            .runtime()
            .state_mut()
            .account(&sender)
            .unwrap_or_else(|e| panic!("account {sender:?}: {e}"))
            .unwrap_or_default();
        let mut next = account.nonce;
        let mut total = U256::zero();
        for (hash, nonce, cost) in txs {
            assert!(
                nonce >= account.nonce,
                "a pooled transaction is below its nonce"
            );
            let expected = if nonce == next {
                next += 1;
                pending += 1;
                TxStatus::Pending
            } else {
                TxStatus::Queued
            };
            assert_eq!(
                chain.pool().status(&hash),
                Some(expected),
                "status of {hash:?}"
            );
            total += cost;
        }
        assert!(
            total <= account.balance,
            "{sender:?}'s pooled costs exceed its balance"
        );
    }
    assert_eq!(chain.pool().pending_count(), pending, "pending count");
}

/// With a state history of `kept` blocks, the states of exactly the last `kept` blocks are
/// readable, each with its block's state root, and every older one is refused as pruned;
/// without one, every state is readable.
pub fn kept_states(chain: &Chain, kept: Option<NonZeroU64>) {
    let head = chain.head().number;
    let oldest = kept.map_or(0, |k| (head + 1).saturating_sub(k.get()));
    for number in 0..=head {
        match chain.state_at(number) {
            Ok(mut state) => {
                assert!(number >= oldest, "the state of block {number} was kept");
                let root = state
                    .root()
                    .unwrap_or_else(|e| panic!("state {number}: {e}"));
                let block = chain.store().block(number);
                let block = block.unwrap_or_else(|e| panic!("block {number}: {e}"));
                assert_eq!(
                    block.map(|b| b.header.state_root),
                    Some(root),
                    "state root of block {number}"
                );
            }
            Err(ChainError::Store(ChainStoreError::StatePruned { block, oldest: o })) => {
                assert!(number < oldest, "the state of block {number} was pruned");
                assert_eq!((block, o), (number, oldest), "the pruned-state error");
            }
            Err(e) => panic!("reading the state of block {number}: {e}"),
        }
    }
}

/// Replays every block of `chain` on a new chain from `genesis`: each block's transactions are
/// accepted again and mined into the same header, with the same receipts. Transactions found
/// in `signed` are submitted decoded, the others as their envelopes.
pub fn replay(
    chain: &Chain,
    genesis: &Genesis,
    config: &ChainConfig,
    signed: &BTreeMap<H256, SignedTransaction>,
) {
    let config = ChainConfig {
        mining: MiningMode::Manual,
        ..config.clone()
    };
    let mut replay = open_chain(genesis, &config);
    for number in 1..=chain.head().number {
        let block = chain
            .store()
            .block(number)
            .unwrap_or_else(|e| panic!("block {number}: {e}"))
            .unwrap_or_else(|| panic!("block {number} is missing"));
        for raw in &block.transactions {
            let submitted = match signed.get(&H256(keccak256(raw))) {
                Some(tx) => replay.submit(tx.clone()),
                None => replay.submit_raw(raw),
            };
            if let Err(e) = submitted {
                panic!("replaying block {number}: a transaction is refused: {e}");
            }
        }
        replay.set_next_timestamp(block.header.timestamp);
        let mined = replay
            .mine()
            .unwrap_or_else(|e| panic!("replaying block {number}: {e}"));
        assert_eq!(mined.header, block.header, "replayed block {number}");
        let receipts = |chain: &Chain| {
            chain
                .store()
                .receipts(number)
                .unwrap_or_else(|e| panic!("receipts of block {number}: {e}"))
        };
        assert_eq!(
            receipts(&replay),
            receipts(chain),
            "receipts of replayed block {number}"
        );
    }
}
