//! Crash safety for real: a child process produces blocks into a redb data directory and is
//! killed with SIGKILL at random moments, many times. After every kill the database must open
//! at a fully committed head whose every block (header hash, so state root, receipts and
//! transactions) matches a replay of its transactions from genesis. The chain keeps only its
//! last few states, so each block's write also prunes: the kept states must be whole and the
//! pruning point must match the head.

use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tally::chain::genesis::Genesis;
use tally::chain::sequencer::{Chain, ChainConfig, MiningMode};
use tally::chain::store::ChainStore;
use tally::chain::tx::{dev_accounts, SignedTransaction};
use tally_runtime::tx::Transaction;
use tally_runtime::H160;

const DIR_VAR: &str = "TALLY_CRASH_TEST_DIR";
const KILLS: u64 = 8;
/// States the chain keeps.
const HISTORY: u64 = 3;

fn config() -> ChainConfig {
    ChainConfig {
        mining: MiningMode::Manual,
        producer: H160::repeat_byte(0xfe),
        state_history: NonZeroU64::new(HISTORY),
        ..ChainConfig::default()
    }
}

/// Produces blocks of four transfers forever, continuing from whatever head it finds.
#[test]
#[ignore = "the child process of kills_during_block_production_leave_a_consistent_head"]
fn block_producer_child() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let genesis = Genesis::dev();
    let store = ChainStore::open(Path::new(&dir)).unwrap();
    let mut chain = Chain::open(store, &genesis, config()).unwrap();
    let accounts = dev_accounts();
    loop {
        for (key, address) in accounts.iter().take(4) {
            let nonce = chain.runtime().state_mut().nonce(address).unwrap();
            let tx = Transaction {
                chain_id: genesis.chain_id,
                nonce,
                max_priority_fee_per_gas: 1u64.into(),
                max_fee_per_gas: 10_000_000_000u64.into(),
                gas_limit: tally_runtime::costs::RuntimeCosts::default().transaction,
                to: Some(H160::repeat_byte(nonce as u8)),
                value: 1u64.into(),
                data: vec![],
            };
            chain.submit(SignedTransaction::sign(tx, key)).unwrap();
        }
        let timestamp = chain.head().timestamp + 12;
        chain.set_next_timestamp(timestamp);
        chain.mine().unwrap();
    }
}

/// Reopens `dir`, checks the blocks already replayed are unchanged, and replays the new ones
/// on `replay` (an in-memory chain from the same genesis); returns the head's number.
fn check_consistent(dir: &Path, replay: &mut Chain) -> u64 {
    let store = ChainStore::open(dir).unwrap();
    let chain = Chain::open(store, &Genesis::dev(), config()).unwrap();
    let head = chain.head().clone();
    assert!(head.number >= replay.head().number, "the head went back");
    let replayed_head = chain.store().block(replay.head().number).unwrap().unwrap();
    assert_eq!(&replayed_head.header, replay.head());
    for number in replay.head().number + 1..=head.number {
        let block = chain
            .store()
            .block(number)
            .unwrap()
            .expect("committed block");
        for raw in &block.transactions {
            replay.submit_raw(raw).unwrap();
        }
        replay.set_next_timestamp(block.header.timestamp);
        let replayed = replay.mine().unwrap();
        assert_eq!(replayed.header, block.header, "block {number}");
        let receipts = chain.store().receipts(number).unwrap();
        assert_eq!(
            receipts,
            replay.store().receipts(number).unwrap(),
            "receipts {number}"
        );
    }
    assert_eq!(replay.head().hash(), head.hash());
    // Pruned in the same write as the head, and every kept state whole.
    let oldest = chain.store().oldest_state().unwrap();
    assert_eq!(oldest, (head.number + 1).saturating_sub(HISTORY));
    for number in oldest..=head.number {
        let root = chain.state_at(number).unwrap().root().unwrap();
        let header = chain.store().block(number).unwrap().unwrap().header;
        assert_eq!(root, header.state_root, "state of block {number}");
    }
    head.number
}

/// SplitMix64, for the kill delays.
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn kills_during_block_production_leave_a_consistent_head() {
    let dir: PathBuf = std::env::temp_dir().join(format!("tally-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let exe = std::env::current_exe().unwrap();
    let mut seed = 0x7a11_u64;
    let mut heads = Vec::new();
    let mut replay = Chain::open(ChainStore::memory(), &Genesis::dev(), config()).unwrap();
    for _ in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "block_producer_child",
                "--test-threads",
                "1",
            ])
            .env(DIR_VAR, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300 + next(&mut seed) % 700));
        // SIGKILL: no destructor, no flush, no chance to finish a write.
        child.kill().unwrap();
        child.wait().unwrap();
        heads.push(check_consistent(&dir, &mut replay));
    }
    assert!(
        *heads.last().unwrap() > 0,
        "blocks were produced: {heads:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
