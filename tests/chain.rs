//! The chain end to end: signed transactions through the mempool into blocks, EIP-1559 base
//! fee movement, fee accounting across a block, durable restart, determinism and store
//! format checks.

mod support;

use support::*;
use tally::chain::block::Header;
use tally::chain::genesis::Genesis;
use tally::chain::sequencer::{Chain, ChainConfig, ChainError, Clock, MiningMode, SubmitError};
use tally::chain::store::{
    ChainStore, ChainStoreError, ReceiptStatus, StoredReceipt, FORMAT_VERSION,
};
use tally::chain::tx::{dev_accounts, SignedTransaction};
use tally_runtime::tx::{Transaction, TxError};
use tally_runtime::{H160, H256, U256};

/// The chain `genesis` in the database in `dir` (created if absent).
fn open_on_disk(dir: &std::path::Path, genesis: &Genesis, mining: MiningMode) -> Chain {
    Chain::open(ChainStore::open(dir).unwrap(), genesis, config(mining)).unwrap()
}

/// Total charged for a block's transactions: `sum(gas_used * effective price)`.
fn total_fees(receipts: &[StoredReceipt]) -> U256 {
    receipts.iter().fold(U256::zero(), |sum, r| {
        sum + U256::from(r.gas_used) * r.effective_gas_price
    })
}

#[test]
fn on_demand_mining_includes_each_transaction_in_its_own_block() {
    let genesis = Genesis::dev();
    let mut chain =
        Chain::open(ChainStore::memory(), &genesis, config(MiningMode::OnDemand)).unwrap();
    let bob = H160::repeat_byte(0xb0);
    let tx = transfer(0, 0, bob, 1_000, genesis.chain_id);
    let raw = tx.encode();
    let hash = chain.submit_raw(&raw).unwrap();
    assert_eq!(hash, tx.hash());
    assert_eq!(chain.head().number, 1);
    let block = chain.store().block(1).unwrap().unwrap();
    assert_eq!(block.transactions, vec![raw]);
    assert_eq!(
        block.header.parent_hash,
        chain.store().block(0).unwrap().unwrap().header.hash()
    );
    assert_eq!(
        chain.store().transaction_location(&hash).unwrap(),
        Some((1, 0))
    );
    let receipts = chain.store().receipts(1).unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].status, ReceiptStatus::Success);
    assert_eq!(receipts[0].from, dev(0));
    assert_eq!(receipts[0].gas_used, TRANSFER_GAS);
    assert_eq!(
        chain.runtime().state_mut().balance(&bob).unwrap(),
        U256::from(1_000)
    );
    assert!(chain.pool().is_empty());
}

#[test]
fn invalid_submissions_are_rejected_with_reasons() {
    let genesis = Genesis::dev();
    let mut chain =
        Chain::open(ChainStore::memory(), &genesis, config(MiningMode::Manual)).unwrap();
    let bob = H160::repeat_byte(0xb0);
    assert!(matches!(
        chain.submit_raw(&[0x02, 0xc0]),
        Err(SubmitError::Decode(_))
    ));
    let wrong_chain = transfer(0, 0, bob, 1, 1);
    assert!(matches!(
        chain.submit(wrong_chain),
        Err(SubmitError::Invalid(TxError::WrongChainId {
            expected: 31_337,
            got: 1
        }))
    ));
    let ok = transfer(0, 0, bob, 1, genesis.chain_id);
    chain.submit(ok.clone()).unwrap();
    assert!(matches!(chain.submit(ok), Err(SubmitError::Pool(_))));
    assert_eq!(
        chain.head().number,
        0,
        "manual mode mines nothing by itself"
    );
}

/// Blocks whose gas limit fits exactly four transfers: full blocks raise the base fee by
/// 1/8, empty ones lower it by 1/8, and the fees of a block add up.
#[test]
fn base_fee_moves_with_block_fullness_and_fees_add_up() {
    let mut genesis = Genesis::dev();
    genesis.gas_limit = 4 * TRANSFER_GAS;
    let mut chain =
        Chain::open(ChainStore::memory(), &genesis, config(MiningMode::Manual)).unwrap();
    let bob = H160::repeat_byte(0xb0);
    let base = genesis.base_fee;
    let before: Vec<U256> = (0..5)
        .map(|i| chain.runtime().state_mut().balance(&dev(i)).unwrap())
        .collect();
    // Five transfers: four fill block 1, the fifth waits for block 2.
    for i in 0..5 {
        chain
            .submit(transfer(i, 0, bob, 10, genesis.chain_id))
            .unwrap();
    }
    let full = chain.mine().unwrap();
    assert_eq!(full.transactions.len(), 4);
    assert_eq!(full.header.gas_used, 4 * TRANSFER_GAS);
    // The genesis block is empty, so block 1's base fee is already 1/8 lower.
    let base1 = base - base / 8;
    assert_eq!(full.header.base_fee, base1);
    assert_eq!(chain.head().next_base_fee(), base1 + base1 / 8);

    // Fees: what senders paid = value + burned + tips; the producer got exactly the tips.
    let receipts = chain.store().receipts(1).unwrap();
    let burned = receipts.iter().fold(U256::zero(), |s, r| s + r.burned);
    let tips = receipts.iter().fold(U256::zero(), |s, r| s + r.tip);
    assert_eq!(total_fees(&receipts), burned + tips);
    assert_eq!(burned, U256::from(4 * TRANSFER_GAS) * base1);
    assert_eq!(
        chain.runtime().state_mut().balance(&PRODUCER).unwrap(),
        tips
    );
    let mut paid = U256::zero();
    for (i, b) in before.iter().enumerate().take(5) {
        paid += *b - chain.runtime().state_mut().balance(&dev(i)).unwrap();
    }
    assert_eq!(paid, U256::from(40) + burned + tips);

    let base2 = base1 + base1 / 8;
    let second = chain.mine().unwrap();
    assert_eq!(second.transactions.len(), 1);
    assert_eq!(second.header.base_fee, base2);
    let empty = chain.mine().unwrap();
    assert!(empty.transactions.is_empty());
    // Block 2 used one transfer's gas of a two-transfer target: -1/16; block 3 was empty: -1/8.
    let base3 = base2 - base2 / 16;
    assert_eq!(empty.header.base_fee, base3);
    assert_eq!(chain.head().next_base_fee(), base3 - base3 / 8);
}

#[test]
fn a_nonce_gap_waits_in_the_pool_until_it_is_filled() {
    let genesis = Genesis::dev();
    let mut chain =
        Chain::open(ChainStore::memory(), &genesis, config(MiningMode::OnDemand)).unwrap();
    let bob = H160::repeat_byte(0xb0);
    chain
        .submit(transfer(0, 1, bob, 1, genesis.chain_id))
        .unwrap();
    assert_eq!(
        chain.head().number,
        1,
        "an empty block: the transaction waits"
    );
    assert!(chain
        .store()
        .block(1)
        .unwrap()
        .unwrap()
        .transactions
        .is_empty());
    chain
        .submit(transfer(0, 0, bob, 1, genesis.chain_id))
        .unwrap();
    let block = chain.store().block(2).unwrap().unwrap();
    assert_eq!(block.transactions.len(), 2, "both, in nonce order");
    assert_eq!(chain.runtime().state_mut().nonce(&dev(0)).unwrap(), 2);
}

fn run_fixed(chain: &mut Chain, chain_id: u64) -> Vec<Header> {
    let bob = H160::repeat_byte(0xb0);
    let mut headers = Vec::new();
    for n in 0..3u64 {
        for i in 0..3 {
            chain.submit(transfer(i, n, bob, 7 + n, chain_id)).unwrap();
        }
        chain.set_next_timestamp(1_000 + n);
        headers.push(chain.mine().unwrap().header);
    }
    headers
}

#[test]
fn the_same_transactions_give_the_same_blocks() {
    let genesis = Genesis::dev();
    let mut a = Chain::open(ChainStore::memory(), &genesis, config(MiningMode::Manual)).unwrap();
    let mut b = Chain::open(ChainStore::memory(), &genesis, config(MiningMode::Manual)).unwrap();
    let ha = run_fixed(&mut a, genesis.chain_id);
    let hb = run_fixed(&mut b, genesis.chain_id);
    assert_eq!(ha, hb);
    assert_eq!(a.head().hash(), b.head().hash());
}

#[test]
fn a_reopened_chain_continues_from_its_last_block() {
    let dir = temp_dir("restart");
    let genesis = Genesis::dev();
    let (head, root) = {
        let mut chain = open_on_disk(&dir, &genesis, MiningMode::Manual);
        run_fixed(&mut chain, genesis.chain_id);
        (chain.head().clone(), chain.head().state_root)
    };
    let mut chain = open_on_disk(&dir, &genesis, MiningMode::Manual);
    assert_eq!(chain.head(), &head);
    assert_eq!(chain.runtime().state_mut().root().unwrap(), root);
    assert_eq!(chain.runtime().state_mut().nonce(&dev(0)).unwrap(), 3);
    chain
        .submit(transfer(0, 3, H160::repeat_byte(0xb0), 1, genesis.chain_id))
        .unwrap();
    let next = chain.mine().unwrap();
    assert_eq!(next.header.number, 4);
    assert_eq!(next.header.parent_hash, head.hash());
    drop(chain);

    // Another genesis cannot open this database.
    let mut other_id = Genesis::dev();
    other_id.chain_id = 1;
    let store = ChainStore::open(&dir).unwrap();
    match Chain::open(store, &other_id, config(MiningMode::Manual)) {
        Err(ChainError::ChainIdMismatch {
            stored: Some(31_337),
            given: 1,
        }) => {}
        other => panic!("{:?}", other.err()),
    }
    let mut other_accounts = Genesis::dev();
    other_accounts.gas_limit += 1;
    let store = ChainStore::open(&dir).unwrap();
    match Chain::open(store, &other_accounts, config(MiningMode::Manual)) {
        Err(ChainError::GenesisMismatch { .. }) => {}
        other => panic!("{:?}", other.err()),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rewrites the format version recorded in the chain database in `dir`.
fn set_format(dir: &std::path::Path, format: u64) {
    let db = redb::Database::create(dir.join("chain.redb")).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let table: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("chain_meta");
        let mut meta = txn.open_table(table).unwrap();
        meta.insert("format", format).unwrap();
    }
    txn.commit().unwrap();
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = temp_dir("format");
    drop(ChainStore::open(&dir).unwrap());
    set_format(&dir, 99);
    match ChainStore::open(&dir) {
        Err(e @ ChainStoreError::NewerFormat { found: 99, .. }) => {
            assert!(e.to_string().contains("newer"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_database_from_an_older_version_is_refused() {
    let dir = temp_dir("old-format");
    drop(ChainStore::open(&dir).unwrap());
    // Format 2 is upgraded in place (see `a_format_2_database_is_upgraded`); 1 is not.
    set_format(&dir, 1);
    match ChainStore::open(&dir) {
        Err(e @ ChainStoreError::OlderFormat { found, supported }) => {
            assert_eq!((found, supported), (1, FORMAT_VERSION));
            assert!(e.to_string().contains("new data directory"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
    // Refusing wrote nothing: the database still records the old version.
    assert_eq!(raw_meta(&dir, "format"), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The number stored under `key` in the metadata of the chain database in `dir`.
fn raw_meta(dir: &std::path::Path, key: &str) -> Option<u64> {
    use redb::ReadableDatabase;
    let db = redb::Database::create(dir.join("chain.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let meta: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("chain_meta");
    let value = txn.open_table(meta).unwrap().get(key).unwrap();
    value.map(|v| v.value())
}

/// The raw transaction index of the database in `dir`: its number of entries and the meta
/// marker of the last block whose transactions it holds.
fn raw_tx_index(dir: &std::path::Path) -> (u64, Option<u64>) {
    use redb::{ReadableDatabase, ReadableTableMetadata};
    let db = redb::Database::create(dir.join("chain.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let index: redb::TableDefinition<&[u8; 32], (u64, u32)> =
        redb::TableDefinition::new("tx_index");
    let entries = txn.open_table(index).unwrap().len().unwrap();
    drop((txn, db));
    (entries, raw_meta(dir, "tx_indexed_through"))
}

/// Mines `blocks` one-transfer blocks from dev 0 (nonces from `first_nonce`); returns the
/// transaction hashes.
fn mine_transfers(chain: &mut Chain, chain_id: u64, first_nonce: u64, blocks: u64) -> Vec<H256> {
    (first_nonce..first_nonce + blocks)
        .map(|nonce| {
            let tx = transfer(0, nonce, H160::repeat_byte(0xb0), 1, chain_id);
            chain.submit(tx).unwrap()
        })
        .collect()
}

/// Where each of `hashes` is found, by block number (`None`: not found).
fn locations(store: &ChainStore, hashes: &[H256]) -> Vec<Option<u64>> {
    hashes
        .iter()
        .map(|h| {
            let location = store.transaction_location(h).unwrap();
            assert!(
                location.is_none_or(|(_, i)| i == 0),
                "one transaction per block"
            );
            location.map(|(number, _)| number)
        })
        .collect()
}

/// The redb store writes the transaction index in batches of 64 blocks, keeps the later
/// blocks' entries in memory, rebuilds them from the receipts when reopened, and rewinds
/// both parts.
#[test]
fn the_transaction_index_is_written_in_batches_and_rebuilt_on_restart() {
    let dir = temp_dir("tx-index");
    let genesis = Genesis::dev();
    let open = || open_on_disk(&dir, &genesis, MiningMode::OnDemand);
    let mut chain = open();
    let hashes = mine_transfers(&mut chain, genesis.chain_id, 0, 70);
    let mined: Vec<Option<u64>> = (1..=70).map(Some).collect();
    assert_eq!(locations(chain.store(), &hashes), mined);
    drop(chain);
    // Block 64's write held blocks 1..=64; blocks 65..=70 were only in memory.
    assert_eq!(raw_tx_index(&dir), (64, Some(64)));

    let mut chain = open();
    assert_eq!(
        locations(chain.store(), &hashes),
        mined,
        "rebuilt from receipts"
    );
    let at_70 = chain.snapshot().unwrap();
    let later = mine_transfers(&mut chain, genesis.chain_id, 70, 2);
    assert_eq!(locations(chain.store(), &later), vec![Some(71), Some(72)]);
    assert!(chain.revert(at_70).unwrap());
    assert_eq!(locations(chain.store(), &later), vec![None, None]);
    assert_eq!(locations(chain.store(), &hashes), mined);
    drop(chain);
    assert_eq!(raw_tx_index(&dir), (64, Some(64)));

    // A rewind below the marker removes blocks 61..=64 from the table and moves the marker.
    let store = ChainStore::open(&dir).unwrap();
    store.rewind(60).unwrap();
    let mut expected = mined;
    expected[60..].fill(None);
    assert_eq!(locations(&store, &hashes), expected);
    drop(store);
    assert_eq!(raw_tx_index(&dir), (60, Some(60)));

    let mut chain = open();
    assert_eq!(locations(chain.store(), &hashes), expected);
    let again = mine_transfers(&mut chain, genesis.chain_id, 60, 1);
    assert_eq!(locations(chain.store(), &again), vec![Some(61)]);
    drop(chain);
    assert_eq!(raw_tx_index(&dir), (60, Some(60)));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A format 2 database indexed every block as it wrote it: opening it records its head as
/// indexed and upgrades the format, and every transaction is still found.
#[test]
fn a_format_2_database_is_upgraded() {
    let dir = temp_dir("format-2");
    let genesis = Genesis::dev();
    let mut chain = open_on_disk(&dir, &genesis, MiningMode::OnDemand);
    let hashes = mine_transfers(&mut chain, genesis.chain_id, 0, 64);
    drop(chain);
    // As version 2 left it: every entry in the table, no marker.
    assert_eq!(raw_tx_index(&dir), (64, Some(64)));
    set_format(&dir, 2);
    {
        let db = redb::Database::create(dir.join("chain.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        let meta: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("chain_meta");
        txn.open_table(meta)
            .unwrap()
            .remove("tx_indexed_through")
            .unwrap();
        txn.commit().unwrap();
    }
    let store = ChainStore::open(&dir).unwrap();
    let found: Vec<Option<u64>> = (1..=64).map(Some).collect();
    assert_eq!(locations(&store, &hashes), found);
    drop(store);
    assert_eq!(raw_tx_index(&dir), (64, Some(64)));
    assert_eq!(raw_meta(&dir, "format"), Some(FORMAT_VERSION));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A block keeps the time it was opened at; time changes made while it is open (transactions
/// executed into it, not sealed) apply to the blocks after it, not lost when it is sealed.
#[test]
fn time_changes_while_a_block_is_open_apply_to_the_next_block() {
    let genesis = Genesis::dev();
    let config = ChainConfig {
        clock: Clock::Deterministic { step: 12 },
        ..config(MiningMode::Manual)
    };
    let mut chain = Chain::open(ChainStore::memory(), &genesis, config).unwrap();
    let to = H160::repeat_byte(0xb0);
    chain
        .execute(transfer(0, 0, to, 1, genesis.chain_id))
        .unwrap();
    let opened_at = chain.pending_block().env.timestamp;
    assert_eq!(opened_at, genesis.timestamp + 12);
    assert_eq!(chain.increase_time(100), 100);
    assert_eq!(chain.time_offset(), 100);
    chain
        .execute(transfer(0, 1, to, 1, genesis.chain_id))
        .unwrap();
    let first = chain.seal().unwrap().expect("the open block");
    assert_eq!(first.header.timestamp, opened_at);
    assert_eq!(first.transactions.len(), 2);
    let second = chain.mine().unwrap();
    assert_eq!(second.header.timestamp, opened_at + 12 + 100);

    chain
        .execute(transfer(0, 2, to, 1, genesis.chain_id))
        .unwrap();
    chain.set_next_timestamp(second.header.timestamp + 5_000);
    let third = chain.seal().unwrap().expect("the open block");
    assert_eq!(third.header.timestamp, second.header.timestamp + 12);
    assert_eq!(
        chain.mine().unwrap().header.timestamp,
        second.header.timestamp + 5_000
    );
}

#[test]
fn interval_mining_produces_a_block_once_the_interval_has_passed() {
    let genesis = Genesis::dev();
    let mut chain = Chain::open(
        ChainStore::memory(),
        &genesis,
        config(MiningMode::Interval(5)),
    )
    .unwrap();
    chain
        .submit(transfer(0, 0, H160::repeat_byte(0xb0), 1, genesis.chain_id))
        .unwrap();
    assert_eq!(chain.head().number, 0, "not mined on arrival");
    assert!(chain.tick(genesis.timestamp + 4).unwrap().is_none());
    let block = chain.tick(genesis.timestamp + 5).unwrap().expect("a block");
    assert_eq!(block.header.timestamp, genesis.timestamp + 5);
    assert_eq!(block.transactions.len(), 1);
    assert!(chain.tick(genesis.timestamp + 9).unwrap().is_none());
    assert_eq!(
        chain
            .tick(genesis.timestamp + 10)
            .unwrap()
            .unwrap()
            .header
            .number,
        2
    );
}

const TOKEN: &[u8] = include_bytes!("../contracts/build/token.wasm");

/// Sends `data` to `to` (or deploys it) from the first dev account with `nonce`.
fn from_dev0(chain: &mut Chain, genesis: &Genesis, nonce: u64, to: Option<H160>, data: &[u8]) {
    let tx = Transaction {
        chain_id: genesis.chain_id,
        nonce,
        max_priority_fee_per_gas: 1u64.into(),
        max_fee_per_gas: 10_000_000_000u64.into(),
        gas_limit: 1_000_000_000,
        to,
        value: U256::zero(),
        data: data.to_vec(),
    };
    chain
        .submit(SignedTransaction::sign(tx, &dev_accounts()[0].0))
        .unwrap();
}

#[test]
fn compiled_modules_survive_a_restart() {
    let dir = temp_dir("modules");
    let genesis = Genesis::dev();
    {
        let mut chain = open_on_disk(&dir, &genesis, MiningMode::OnDemand);
        from_dev0(&mut chain, &genesis, 0, None, TOKEN);
        let receipts = chain.store().receipts(1).unwrap();
        assert_eq!(receipts[0].status, ReceiptStatus::Success, "{receipts:?}");
    }
    let store = ChainStore::open(&dir).unwrap();
    assert_eq!(store.modules().unwrap().len(), 1);
    let mut chain = Chain::open(store, &genesis, config(MiningMode::OnDemand)).unwrap();
    assert_eq!(
        chain.runtime().vm().cached_modules(),
        1,
        "loaded, not recompiled"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_schedule_change_stores_compiled_modules_anew() {
    let dir = temp_dir("schedule");
    let genesis = Genesis::dev();
    {
        let mut chain = open_on_disk(&dir, &genesis, MiningMode::OnDemand);
        from_dev0(&mut chain, &genesis, 0, None, TOKEN);
    }
    let mut changed = config(MiningMode::OnDemand);
    changed.runtime.vm.schedule.operators.integer += 1;
    let store = ChainStore::open(&dir).unwrap();
    let mut chain = Chain::open(store, &genesis, changed).unwrap();
    assert_eq!(
        chain.runtime().vm().cached_modules(),
        0,
        "the stored module charges the other schedule"
    );
    // Calling the token compiles it for this schedule; its block stores that module too.
    let token = tally_runtime::exec::create_address(&dev(0), 0);
    let total_supply = &tally_runtime::trie::keccak256(b"totalSupply()")[..4];
    from_dev0(&mut chain, &genesis, 1, Some(token), total_supply);
    let key = chain
        .runtime()
        .vm()
        .artifact_key(&tally_runtime::trie::keccak256(TOKEN));
    let keys: Vec<[u8; 32]> = chain
        .store()
        .modules()
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&key));
    std::fs::remove_dir_all(&dir).unwrap();
}
