//! The chain's developer operations: snapshots and reverts (repeated, across blocks, with unmined
//! cheats, on redb across a reopen), state cheats and the mempool's view of them, impersonated
//! transactions, the deterministic clock and time offsets, and traced re-execution of mined
//! transactions against their live traces.

mod support;

use support::*;
use tally::chain::genesis::Genesis;
use tally::chain::mempool::PoolError;
use tally::chain::sequencer::{Chain, ChainConfig, ChainError, Clock, MiningMode, SubmitError};
use tally::chain::store::{ChainStore, ReceiptStatus};
use tally::chain::tx::SignedTransaction;
use tally_runtime::exec::{Receipt, Status};
use tally_runtime::trie::keccak256;
use tally_runtime::tx::{BlockEnv, DeployPayload, Transaction, TxError};
use tally_runtime::{H160, H256, U256};

const COUNTER: &[u8] = include_bytes!("../contracts/build/counter.wasm");
const BOB: H160 = H160([0xb0; 20]);
/// An address nobody has the key of.
const NO_KEY: H160 = H160([0x77; 20]);

fn deterministic(mining: MiningMode) -> ChainConfig {
    ChainConfig {
        clock: Clock::Deterministic { step: 1 },
        ..config(mining)
    }
}

fn open(store: ChainStore, config: ChainConfig) -> Chain {
    Chain::open(store, &Genesis::dev(), config).unwrap()
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::exp10(18)
}

fn word(v: u64) -> H256 {
    H256(U256::from(v).to_big_endian())
}

fn calldata(signature: &str) -> Vec<u8> {
    keccak256(signature.as_bytes())[..4].to_vec()
}

/// An unsigned transaction from any sender (for impersonation).
fn unsigned(nonce: u64, to: Option<H160>, value: U256, data: Vec<u8>) -> Transaction {
    Transaction {
        chain_id: Genesis::dev().chain_id,
        nonce,
        max_priority_fee_per_gas: 1_000_000_000u64.into(),
        max_fee_per_gas: 10_000_000_000u64.into(),
        gas_limit: 5_000_000,
        to,
        value,
        data,
    }
}

fn balance(chain: &mut Chain, address: H160) -> U256 {
    chain.runtime().state_mut().balance(&address).unwrap()
}

fn has_code(chain: &mut Chain, address: H160) -> bool {
    !chain
        .runtime()
        .state_mut()
        .code(&address)
        .unwrap()
        .is_empty()
}

/// `count()` of a counter, read with a view call on the state at the head.
fn count(chain: &mut Chain, counter: H160) -> U256 {
    let head = chain.head().clone();
    let env = BlockEnv {
        number: head.number + 1,
        timestamp: head.timestamp + 1,
        chain_id: chain.chain_id(),
        gas_limit: head.gas_limit,
        base_fee: head.next_base_fee(),
        producer: PRODUCER,
    };
    let r = chain
        .runtime()
        .view(&env, BOB, counter, &calldata("count()"), 1_000_000)
        .unwrap();
    assert_eq!(r.status, Status::Success, "{r:?}");
    U256::from_big_endian(&r.output)
}

/// Mines a block with a transfer of `value` from each of dev accounts 0 and 1.
fn mine_transfers(chain: &mut Chain, value: u64) -> H256 {
    for key in 0..2 {
        let nonce = chain.runtime().state_mut().nonce(&dev(key)).unwrap();
        let tx = transfer(key, nonce, BOB, value, chain.chain_id());
        chain.submit(tx).unwrap();
    }
    chain.mine().unwrap().header.hash()
}

#[test]
fn revert_restores_blocks_state_and_time_and_can_be_repeated() {
    let mut chain = open(ChainStore::memory(), deterministic(MiningMode::Manual));
    mine_transfers(&mut chain, 1);
    chain.set_balance(NO_KEY, ether(5)).unwrap();
    chain.increase_time(100);
    let head = chain.head().hash();
    let root = chain.runtime().state_mut().root().unwrap();
    let id = chain.snapshot().unwrap();

    let first = mine_transfers(&mut chain, 2);
    let tx_in_first = chain.store().receipts(2).unwrap()[0].transaction_hash;
    assert_eq!(
        chain.store().block(2).unwrap().unwrap().header.timestamp,
        102,
        "genesis 0, one step per block, and the offset"
    );
    chain.set_balance(NO_KEY, ether(9)).unwrap();
    let later = chain.snapshot().unwrap();
    mine_transfers(&mut chain, 3);
    chain.submit(transfer(2, 0, BOB, 4, 31_337)).unwrap();
    assert_eq!(chain.pool().len(), 1);

    for round in 0..2 {
        assert!(chain.revert(id).unwrap(), "round {round}");
        assert_eq!(chain.head().hash(), head);
        assert_eq!(chain.runtime().state_mut().root().unwrap(), root);
        assert_eq!(balance(&mut chain, NO_KEY), ether(5), "the unmined cheat");
        assert!(chain.store().block(2).unwrap().is_none());
        assert_eq!(chain.store().head().unwrap(), Some(1));
        assert_eq!(
            chain.store().transaction_location(&tx_in_first).unwrap(),
            None
        );
        assert!(chain.pool().is_empty(), "the pool is cleared");
        assert!(chain.last_receipts().is_empty());
        // The same transactions give the same block: same state, same timestamp.
        assert_eq!(mine_transfers(&mut chain, 2), first, "round {round}");
    }
    assert!(
        !chain.revert(later).unwrap(),
        "dropped by the earlier revert"
    );
    assert!(!chain.revert(99).unwrap());
    assert!(chain.revert(id).unwrap());
    assert_eq!(chain.snapshot().unwrap(), id + 2, "ids are never reused");
}

#[test]
fn revert_on_redb_survives_a_reopen_and_blocks_continue() {
    let dir = temp_dir("revert");
    let config = deterministic(MiningMode::Manual);
    let (head, root, rewound) = {
        let mut chain = open(ChainStore::open(&dir).unwrap(), config.clone());
        mine_transfers(&mut chain, 1);
        let id = chain.snapshot().unwrap();
        let head = chain.head().clone();
        let rewound = mine_transfers(&mut chain, 2);
        mine_transfers(&mut chain, 3);
        assert!(chain.revert(id).unwrap());
        (head, chain.runtime().state_mut().root().unwrap(), rewound)
    };
    let mut chain = open(ChainStore::open(&dir).unwrap(), config.clone());
    assert_eq!(chain.head(), &head);
    assert_eq!(chain.runtime().state_mut().root().unwrap(), root);
    assert!(chain.store().block(3).unwrap().is_none());
    assert_eq!(chain.store().block_number(&rewound).unwrap(), None);
    // Blocks 2 and 3 again, with other transactions, then a reopen checks their state roots.
    mine_transfers(&mut chain, 7);
    let new_head = mine_transfers(&mut chain, 8);
    drop(chain);
    let mut chain = open(ChainStore::open(&dir).unwrap(), config);
    assert_eq!(chain.head().hash(), new_head);
    assert_eq!(balance(&mut chain, BOB), U256::from(2 * (1 + 7 + 8)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn balance_cheats_keep_the_pool_in_step() {
    let mut chain = open(ChainStore::memory(), config(MiningMode::Manual));
    // Unaffordable, then affordable once the balance is set.
    let tx = unsigned(0, Some(BOB), ether(1), vec![]);
    assert!(matches!(
        chain.submit_impersonated(NO_KEY, tx.clone()),
        Err(SubmitError::Pool(PoolError::InsufficientFunds { .. }))
    ));
    chain.set_balance(NO_KEY, ether(2)).unwrap();
    chain.submit_impersonated(NO_KEY, tx).unwrap();
    // A pooled transaction its sender can no longer pay is dropped.
    chain.submit(transfer(0, 0, BOB, 1, 31_337)).unwrap();
    chain.set_balance(dev(0), U256::from(1)).unwrap();
    assert_eq!(chain.pool().len(), 1);
    let block = chain.mine().unwrap();
    assert_eq!(block.transactions.len(), 1);
    assert_eq!(balance(&mut chain, BOB), ether(1));
    assert_eq!(balance(&mut chain, dev(0)), U256::from(1));
}

#[test]
fn nonce_cheats_move_the_expected_nonce() {
    let mut chain = open(ChainStore::memory(), config(MiningMode::OnDemand));
    chain.set_nonce(dev(1), 5).unwrap();
    assert!(matches!(
        chain.submit(transfer(1, 0, BOB, 1, 31_337)),
        Err(SubmitError::Pool(PoolError::NonceTooLow {
            account_nonce: 5,
            tx_nonce: 0
        }))
    ));
    chain.submit(transfer(1, 5, BOB, 1, 31_337)).unwrap();
    assert_eq!(chain.runtime().state_mut().nonce(&dev(1)).unwrap(), 6);
    assert_eq!(chain.head().number, 1);
}

#[test]
fn code_and_storage_cheats_price_later_writes_as_a_real_block_would() {
    let mut chain = open(ChainStore::memory(), config(MiningMode::OnDemand));
    let counter = H160::repeat_byte(0xc0);
    assert!(matches!(
        chain.set_code(counter, b"\0asm\x01\0\0\0\x01"),
        Err(ChainError::InvalidCode(_))
    ));
    assert!(!has_code(&mut chain, counter));
    chain.set_code(counter, COUNTER).unwrap();
    assert!(has_code(&mut chain, counter));
    chain.set_storage(counter, word(0), word(42)).unwrap();
    assert_eq!(count(&mut chain, counter), U256::from(42));

    // A reverting transaction does not undo the cheats.
    let bad = unsigned(0, Some(counter), U256::zero(), calldata("nope()"));
    let unfunded = chain.submit_impersonated(NO_KEY, bad).unwrap_err();
    assert!(matches!(
        unfunded,
        SubmitError::Pool(PoolError::InsufficientFunds { .. })
    ));
    chain.set_balance(NO_KEY, ether(1)).unwrap();
    let bad = unsigned(0, Some(counter), U256::zero(), calldata("nope()"));
    chain.submit_impersonated(NO_KEY, bad).unwrap();
    assert_eq!(
        chain.store().receipts(1).unwrap()[0].status,
        ReceiptStatus::Revert
    );
    assert_eq!(count(&mut chain, counter), U256::from(42));

    // The same increment on a counter whose 42 was written by a real block costs the same:
    // the cheat left 42 as the slot's original value (a reset, not a new slot).
    let increment = |nonce| unsigned(nonce, Some(counter), U256::zero(), calldata("increment()"));
    chain.submit_impersonated(NO_KEY, increment(1)).unwrap();
    assert_eq!(count(&mut chain, counter), U256::from(43));
    let cheated = chain.store().receipts(2).unwrap()[0].gas_used;

    let mut real = open(ChainStore::memory(), config(MiningMode::OnDemand));
    real.set_balance(NO_KEY, ether(1)).unwrap();
    let deploy = DeployPayload::encode(COUNTER, word(42).as_bytes());
    real.submit_impersonated(NO_KEY, unsigned(0, None, U256::zero(), deploy))
        .unwrap();
    let deployed = real.store().receipts(1).unwrap()[0]
        .contract_address
        .unwrap();
    let increment = unsigned(1, Some(deployed), U256::zero(), calldata("increment()"));
    real.submit_impersonated(NO_KEY, increment).unwrap();
    assert_eq!(real.store().receipts(2).unwrap()[0].gas_used, cheated);
    assert_eq!(cheated, 37_301, "pinned");

    // Empty code removes the code.
    chain.set_code(counter, &[]).unwrap();
    assert!(!has_code(&mut chain, counter));
}

#[test]
fn impersonated_transactions_are_mined_and_read_back_with_their_sender() {
    let dir = temp_dir("impersonate");
    let other = H160::repeat_byte(0x78);
    let tx = unsigned(0, Some(BOB), U256::from(5), vec![]);
    let (a, b) = {
        let mut chain = open(ChainStore::open(&dir).unwrap(), config(MiningMode::Manual));
        chain.set_balance(NO_KEY, ether(1)).unwrap();
        chain.set_balance(other, ether(1)).unwrap();
        let a = chain.submit_impersonated(NO_KEY, tx.clone()).unwrap();
        let b = chain.submit_impersonated(other, tx.clone()).unwrap();
        assert_ne!(a, b, "the hash commits to the sender");
        let block = chain.mine().unwrap();
        assert_eq!(
            block.transactions[0], block.transactions[1],
            "same envelope"
        );
        assert_eq!(chain.runtime().state_mut().nonce(&NO_KEY).unwrap(), 1);
        (a, b)
    };
    let mut chain = open(ChainStore::open(&dir).unwrap(), config(MiningMode::Manual));
    assert_eq!(balance(&mut chain, BOB), U256::from(10));
    let read = chain.store().block_transactions(1).unwrap().unwrap();
    let senders: Vec<(H160, H256)> = read.iter().map(|t| (t.sender(), t.hash())).collect();
    assert_eq!(senders, [(NO_KEY, a), (other, b)]);
    assert_eq!(read[0].transaction(), &tx);
    assert_eq!(
        chain.store().transaction_location(&b).unwrap(),
        Some((1, 1))
    );
    // The placeholder signature recovers no key of these senders.
    let raw = &chain.store().block(1).unwrap().unwrap().transactions[0];
    assert!(SignedTransaction::decode(raw).map_or(true, |t| t.sender() != NO_KEY));
    // A recorded hash that fits neither form is refused.
    assert!(SignedTransaction::decode_with_sender(raw, NO_KEY, b).is_err());
    let (receipt, trace) = chain.trace_transaction(b).unwrap().unwrap();
    assert_eq!((receipt.gas_used, trace.caller), (21_000, other));
    // Impersonated transactions get the checks of signed ones.
    let mut wrong_chain = unsigned(1, Some(BOB), U256::zero(), vec![]);
    wrong_chain.chain_id = 1;
    assert!(matches!(
        chain.submit_impersonated(NO_KEY, wrong_chain),
        Err(SubmitError::Invalid(TxError::WrongChainId { .. }))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_deterministic_clock_gives_identical_chains() {
    let run = || {
        let mut chain = open(ChainStore::memory(), deterministic(MiningMode::OnDemand));
        for nonce in 0..3 {
            chain.submit(transfer(0, nonce, BOB, 1, 31_337)).unwrap();
        }
        chain.increase_time(3_600);
        chain.mine().unwrap();
        chain.set_next_timestamp(10_000);
        chain.mine().unwrap();
        chain.mine().unwrap();
        let timestamps: Vec<u64> = (1..=6)
            .map(|n| chain.store().block(n).unwrap().unwrap().header.timestamp)
            .collect();
        (chain.head().hash(), timestamps)
    };
    let (a, timestamps) = run();
    assert_eq!(timestamps, [1, 2, 3, 3_604, 10_000, 10_001]);
    assert_eq!(run().0, a);
}

#[test]
fn a_replayed_transaction_has_its_live_receipt_and_trace() {
    let mut config = deterministic(MiningMode::Manual);
    config.runtime.trace = true;
    let mut chain = open(ChainStore::memory(), config);
    let counter = H160::repeat_byte(0xc0);
    chain.set_balance(NO_KEY, ether(1)).unwrap();
    // Block 1: a cheat before it, then two transactions, the second depending on the first.
    chain.set_code(counter, COUNTER).unwrap();
    chain.set_storage(counter, word(0), word(42)).unwrap();
    let increment = |nonce| unsigned(nonce, Some(counter), U256::zero(), calldata("increment()"));
    let first = chain.submit_impersonated(NO_KEY, increment(0)).unwrap();
    let second = chain.submit_impersonated(NO_KEY, increment(1)).unwrap();
    chain.mine().unwrap();
    let live = chain.last_receipts().to_vec();
    assert_eq!(live.len(), 2);
    // Block 2 changes the state again: the replay must start from block 1's parent.
    mine_transfers(&mut chain, 1);
    let root = chain.runtime().state_mut().root().unwrap();

    for (hash, live) in [(first, &live[0]), (second, &live[1])] {
        let (receipt, trace) = chain.trace_transaction(hash).unwrap().unwrap();
        assert_eq!(Some(&trace), live.trace.as_ref());
        let untraced = Receipt {
            trace: None,
            ..live.clone()
        };
        assert_eq!(receipt, untraced);
    }
    assert_eq!(live[1].trace.as_ref().unwrap().logs[0].data, word(44).0);
    assert_eq!(
        chain.runtime().state_mut().root().unwrap(),
        root,
        "nothing written"
    );
    assert!(chain
        .trace_transaction(H256::repeat_byte(1))
        .unwrap()
        .is_none());

    // Old states stay readable.
    let mut at_one = chain.state_at(1).unwrap();
    let slot = at_one.storage(&counter, &word(0)).unwrap();
    assert_eq!(slot, word(44));
    assert_eq!(at_one.balance(&BOB).unwrap(), U256::zero());
    assert!(matches!(
        chain.state_at(3),
        Err(ChainError::MissingBlock(3))
    ));
}
