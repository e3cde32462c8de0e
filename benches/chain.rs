//! Signed token transfers end to end through the chain, against sender recovery alone in the
//! same run: each iteration decodes 1,000 signed ERC-20 transfers from 1,000 senders,
//! recovers their senders (on every core), pools them, builds and executes a block, computes
//! the state root and commits the block durably to redb; once one block after another, once
//! the chain's work alone (senders recovered untimed), once pipelined as the node runs (the
//! next batch's senders recovered while the chain mines the current one), and pipelined on a
//! chain that keeps only its last 16 states (pruning in each block's write). Each pipelined
//! measurement is paired with recovery alone of the same batches just before it, and the
//! pipelined throughput's share of recovery alone's is printed from those pairs at the end.
//! Run with `cargo bench --bench chain`.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Bencher, Criterion, Throughput};
use k256::ecdsa::SigningKey;
use tally::chain::genesis::{Genesis, GenesisAccount};
use tally::chain::sequencer::{Chain, ChainConfig, MiningMode};
use tally::chain::store::ChainStore;
use tally::chain::tx::{address_of, recover_senders_parallel, SignedTransaction, TxDecodeError};
use tally_runtime::trie::keccak256;
use tally_runtime::tx::{DeployPayload, Transaction};
use tally_runtime::{H160, U256};

/// The node's allocator (see `src/main.rs`), so the figures are the node's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SENDERS: usize = 1_000;
const TOKEN: &[u8] = include_bytes!("../contracts/build/token.wasm");

struct Setup {
    chain: Chain,
    keys: Vec<SigningKey>,
    addresses: Vec<H160>,
    nonces: Vec<u64>,
    token: H160,
    chain_id: u64,
    _dir: TempDir,
}

/// A data directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn call(selector: &str, to: H160, amount: u64) -> Vec<u8> {
    let mut data = keccak256(selector.as_bytes())[..4].to_vec();
    data.extend_from_slice(&[0; 12]);
    data.extend_from_slice(to.as_bytes());
    data.extend_from_slice(&U256::from(amount).to_big_endian());
    data
}

impl Setup {
    /// A chain with the token deployed and minted to every sender, keeping the states of its
    /// last `state_history` blocks (all if `None`).
    fn new(state_history: Option<NonZeroU64>) -> Self {
        let keys: Vec<SigningKey> = (0..=SENDERS)
            .map(|i| {
                SigningKey::from_slice(&keccak256(&(i as u64).to_be_bytes())).expect("valid key")
            })
            .collect();
        let addresses: Vec<H160> = keys.iter().map(address_of).collect();
        let mut genesis = Genesis::dev();
        for a in &addresses {
            let account = GenesisAccount {
                balance: U256::exp10(24),
                ..GenesisAccount::default()
            };
            genesis.accounts.insert(*a, account);
        }
        let name = format!(
            "tally-bench-chain-{}-{}",
            std::process::id(),
            state_history.map_or(0, NonZeroU64::get)
        );
        let dir = TempDir(std::env::temp_dir().join(name));
        let _ = std::fs::remove_dir_all(&dir.0);
        let store = ChainStore::open(&dir.0).expect("data directory");
        let config = ChainConfig {
            mining: MiningMode::Manual,
            state_history,
            ..ChainConfig::default()
        };
        let chain = Chain::open(store, &genesis, config).expect("chain");
        let mut setup = Setup {
            chain,
            keys,
            addresses,
            nonces: vec![0; SENDERS + 1],
            token: H160::zero(),
            chain_id: genesis.chain_id,
            _dir: dir,
        };
        let owner = SENDERS;
        let deploy = setup.signed(
            owner,
            None,
            DeployPayload::encode(TOKEN, &[]),
            1_000_000_000,
        );
        setup.chain.submit(deploy).expect("deploy");
        setup.chain.mine().expect("block");
        setup.token = tally_runtime::exec::create_address(&setup.addresses[owner], 0);
        for i in 0..SENDERS {
            let mint = call("mint(address,uint256)", setup.addresses[i], 1_000_000_000);
            let tx = setup.signed(owner, Some(setup.token), mint, 10_000_000);
            setup.chain.submit(tx).expect("mint");
            // The mempool holds at most 64 transactions per sender.
            if i % 60 == 59 {
                setup.chain.mine().expect("block");
            }
        }
        setup.chain.mine().expect("block");
        setup
    }

    fn signed(
        &mut self,
        from: usize,
        to: Option<H160>,
        data: Vec<u8>,
        gas_limit: u64,
    ) -> SignedTransaction {
        let nonce = self.nonces[from];
        self.nonces[from] += 1;
        let tx = Transaction {
            chain_id: self.chain_id,
            nonce,
            max_priority_fee_per_gas: 1u64.into(),
            max_fee_per_gas: 100_000_000_000u64.into(),
            gas_limit,
            to,
            value: U256::zero(),
            data,
        };
        SignedTransaction::sign(tx, &self.keys[from])
    }

    /// 1,000 signed token transfers, one per sender.
    fn transfers(&mut self) -> Vec<Vec<u8>> {
        (0..SENDERS)
            .map(|i| {
                let to = self.addresses[(i + 1) % SENDERS];
                let data = call("transfer(address,uint256)", to, 1);
                self.signed(i, Some(self.token), data, 10_000_000).encode()
            })
            .collect()
    }
}

/// Pools a batch whose senders are already recovered and mines it into one block of all of it.
fn mine_recovered(chain: &mut Chain, decoded: Vec<Result<SignedTransaction, TxDecodeError>>) {
    for tx in decoded {
        chain.submit(tx.expect("valid")).expect("accepted");
    }
    let block = chain.mine().expect("block");
    assert_eq!(block.transactions.len(), SENDERS);
}

/// Blocks of 1,000 transfers as the node mines them: senders are recovered (on every core)
/// for the next batch while the chain pools, executes and commits the current one.
///
/// Each measurement first recovers the same batches alone, on every core, and keeps that
/// time with the pipelined one in `pairs`: the two run back to back, so both see the
/// machine in the same state (on shared machines its speed drifts between benchmarks run
/// minutes apart by more than the margins compared here).
fn pipelined(
    b: &mut Bencher<'_>,
    setup: &mut Setup,
    threads: usize,
    pairs: &mut Vec<(Duration, Duration)>,
) {
    b.iter_custom(|iters| {
        // Signing is the wallet's work: not timed. One batch more than measured: the pipeline
        // fills on it, and the clock starts when its block is committed, with the next batch's
        // recovery already under way, as in a node that has been running.
        let batches: Vec<Vec<Vec<u8>>> = (0..=iters).map(|_| setup.transfers()).collect();
        let start = Instant::now();
        for raw in &batches[1..] {
            std::hint::black_box(recover_senders_parallel(raw, threads));
        }
        let alone = start.elapsed();
        let piped = run_pipeline(&mut setup.chain, batches, threads);
        pairs.push((alone, piped));
        piped
    })
}

/// Mines every batch, recovering the next one's senders meanwhile; the time from the first
/// block's commit to the last one's.
fn run_pipeline(chain: &mut Chain, batches: Vec<Vec<Vec<u8>>>, threads: usize) -> Duration {
    let mut start = Instant::now();
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for raw in &batches {
                if send.send(recover_senders_parallel(raw, threads)).is_err() {
                    break;
                }
            }
        });
        for (i, decoded) in receive.into_iter().enumerate() {
            mine_recovered(chain, decoded);
            if i == 0 {
                start = Instant::now();
            }
        }
    });
    start.elapsed()
}

/// Prints the pipelined throughput as a share of recovery alone's, from the back-to-back
/// measurements of [`pipelined`]: over all of them (each weighted by its batches), and the
/// range of single measurements.
fn report_shares(name: &str, pairs: &[(Duration, Duration)]) {
    let alone: Duration = pairs.iter().map(|(alone, _)| *alone).sum();
    let piped: Duration = pairs.iter().map(|(_, piped)| *piped).sum();
    if pairs.is_empty() {
        return;
    }
    let shares = pairs
        .iter()
        .map(|(alone, piped)| alone.as_secs_f64() / piped.as_secs_f64());
    let (least, most) = shares.fold((f64::INFINITY, 0.0f64), |(least, most), share| {
        (least.min(share), most.max(share))
    });
    println!(
        "{name}: throughput {:.1}% of recovery alone measured back to back \
         ({} measurements, each {:.1}% to {:.1}%)",
        100.0 * alone.as_secs_f64() / piped.as_secs_f64(),
        pairs.len(),
        100.0 * least,
        100.0 * most,
    );
}

fn end_to_end(c: &mut Criterion) {
    let mut setup = Setup::new(None);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("chain");
    group.throughput(Throughput::Elements(SENDERS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let sample = setup.transfers();
    // The sample is only decoded: give its nonces back to the end-to-end transfers.
    for nonce in &mut setup.nonces[..SENDERS] {
        *nonce -= 1;
    }
    group.bench_function("recover_only_x1000/all_cores", |b| {
        b.iter(|| recover_senders_parallel(&sample, threads))
    });
    group.bench_function("recover_only_x1000/one_core", |b| {
        b.iter(|| recover_senders_parallel(&sample, 1))
    });
    group.bench_function("signed_token_transfers_x1000/end_to_end", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Signing is the wallet's work: not timed.
                let raw = setup.transfers();
                let start = Instant::now();
                for result in setup.chain.submit_batch(&raw) {
                    result.expect("accepted");
                }
                let block = setup.chain.mine().expect("block");
                total += start.elapsed();
                assert_eq!(block.transactions.len(), SENDERS);
            }
            total
        })
    });
    // The chain's own work per block, senders already recovered: with recovery on one core,
    // in the same run, it bounds what pipelining can reach on two (recovery's CPU over the sum
    // of both).
    group.bench_function("signed_token_transfers_x1000/block_only", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Signing and recovery are not timed.
                let decoded = recover_senders_parallel(&setup.transfers(), threads);
                let start = Instant::now();
                mine_recovered(&mut setup.chain, decoded);
                total += start.elapsed();
            }
            total
        })
    });
    let mut pairs = Vec::new();
    group.bench_function("signed_token_transfers_x1000/pipelined", |b| {
        pipelined(b, &mut setup, threads, &mut pairs)
    });
    drop(setup);
    let mut pruned = Setup::new(NonZeroU64::new(16));
    let mut pruned_pairs = Vec::new();
    group.bench_function(
        "signed_token_transfers_x1000/pipelined_keeping_16_states",
        |b| pipelined(b, &mut pruned, threads, &mut pruned_pairs),
    );
    group.finish();
    report_shares("pipelined", &pairs);
    report_shares("pipelined_keeping_16_states", &pruned_pairs);
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
