//! The test harness against the raw runtime, in the same run: 10,000 ERC-20 transfers (the
//! example token) per iteration, senders rotating over 1,000 holders.
//!
//! - `runtime`: through `Runtime::transact` on in-memory state, 10 blocks of 1,000, no state
//!   root (the runtime benchmark's figure): the baseline;
//! - `harness`: through `TestChain`, `chain.from(sender).call(&token, transferCall { .. })`:
//!   ABI encoding, an impersonated transaction executed through the chain into the open block,
//!   the receipt with its call trace, the decoded result, the gas report. Each iteration is a
//!   test's 10,000 calls: it starts from the same snapshot, reverted to and with the holders'
//!   accounts and balances read once (not timed: the runtime's state is as warm), and nothing
//!   needs the open block sealed;
//! - `harness_untraced`: the same without call traces;
//! - `harness+seal`: the same, then the block sealed (state root, transactions and receipts
//!   roots, blooms, the store write): what a test pays once it needs the block;
//! - `harness_block_per_call`: a block sealed after every call, as an automining node does.
//!
//! Shared machines are noisy, and a load that changes between two benchmarks skews their ratio:
//! `interleaved` first alternates the runtime and the harness (traced and not) round by round
//! and prints the ratios of their totals.
//!
//! Run with `cargo bench --bench harness`.

use std::time::{Duration, Instant};

use alloy_primitives::{Address, U256};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tally::testing::{Artifact, ChainSnapshot, Contract, TestChain, TestChainBuilder};

mod common;

use common::{call_address_amount, deploy_token, holder, selector, Bench, BLOCK, HOLDERS, TOKEN};

const CALLS: usize = 10_000;

alloy_sol_types::sol! {
    function transfer(address to, uint256 amount) returns (bool);
    function mint(address to, uint256 amount);
    function balanceOf(address account) returns (uint256);
}

fn account(i: usize) -> Address {
    Address::from(holder(i).0)
}

/// A test chain with the holders funded, the token deployed by the last one and minted to
/// every other, and a snapshot of that.
fn harness(builder: TestChainBuilder) -> (TestChain, Contract, ChainSnapshot) {
    let mut builder = builder;
    for i in 0..=HOLDERS {
        builder = builder.fund(account(i), U256::from(10u64).pow(U256::from(24)));
    }
    let mut chain = builder.build().expect("test chain");
    let owner = account(HOLDERS);
    let token = chain
        .from(owner)
        .deploy(
            &Artifact::new("token", TOKEN),
            ("Tally".to_string(), "TALY".to_string(), U256::from(18)),
        )
        .expect("deploy");
    for i in 0..HOLDERS {
        let mint = mintCall {
            to: account(i),
            amount: U256::from(1_000_000_000u64),
        };
        chain.from(owner).call(&token, mint).expect("mint");
    }
    let snapshot = chain.snapshot().expect("snapshot");
    (chain, token, snapshot)
}

/// Reverts to `snapshot` and reads every holder's account and token balance, so the state is
/// as warm as the runtime baseline's.
fn reset(chain: &mut TestChain, token: &Contract, snapshot: ChainSnapshot) {
    chain.revert(snapshot).expect("revert");
    for i in 0..HOLDERS {
        chain.balance(account(i)).expect("balance");
        let balance = balanceOfCall {
            account: account(i),
        };
        chain.view(token, balance).expect("balance of");
    }
}

/// 10,000 transfers through the harness.
fn harness_transfers(chain: &mut TestChain, token: &Contract) {
    for i in 0..CALLS {
        let sender = i % HOLDERS;
        let call = transferCall {
            to: account((sender + 1) % HOLDERS),
            amount: U256::from(1),
        };
        let ok = chain
            .from(account(sender))
            .call(token, call)
            .expect("transfer");
        assert!(ok);
    }
}

/// 10,000 transfers through the runtime, in blocks of 1,000.
fn runtime_transfers(bench: &mut Bench, token: tally_runtime::H160) {
    let transfer = selector("transfer(address,uint256)");
    for _ in 0..CALLS / BLOCK {
        bench.block(false, |bench, i| {
            let data = call_address_amount(transfer, holder((i + 1) % HOLDERS), 1);
            bench.tx(i, Some(token), data)
        });
    }
}

/// Rounds of the runtime, the harness and the untraced harness in turn; prints the time per
/// call of each and the harness's ratios to the runtime.
fn interleaved(_: &mut Criterion) {
    const ROUNDS: u32 = 10;
    let mut bench = Bench::new();
    let raw_token = deploy_token(&mut bench);
    let (mut traced, token, traced_start) = harness(TestChain::builder());
    let (mut untraced, _, untraced_start) = harness(TestChain::builder().trace(false));
    let mut totals = [Duration::ZERO; 3];
    for _ in 0..ROUNDS {
        let start = Instant::now();
        runtime_transfers(&mut bench, raw_token);
        totals[0] += start.elapsed();
        for (i, chain, snapshot) in [
            (1, &mut traced, traced_start),
            (2, &mut untraced, untraced_start),
        ] {
            reset(chain, &token, snapshot);
            let start = Instant::now();
            harness_transfers(chain, &token);
            totals[i] += start.elapsed();
        }
    }
    let per_call = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(ROUNDS) / CALLS as f64;
    println!(
        "interleaved, {ROUNDS} rounds of {CALLS} token transfers: runtime {:.2} µs/call, \
         harness {:.2} µs/call ({:.2}x), untraced {:.2} µs/call ({:.2}x)",
        per_call(totals[0]),
        per_call(totals[1]),
        totals[1].as_secs_f64() / totals[0].as_secs_f64(),
        per_call(totals[2]),
        totals[2].as_secs_f64() / totals[0].as_secs_f64(),
    );
}

fn harness_vs_runtime(c: &mut Criterion) {
    let mut group = c.benchmark_group("harness");
    group.throughput(Throughput::Elements(CALLS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));

    let mut bench = Bench::new();
    let token = deploy_token(&mut bench);
    group.bench_function("token_transfer_x10000/runtime", |b| {
        b.iter(|| runtime_transfers(&mut bench, token))
    });

    let cases = [
        ("harness", TestChain::builder(), false),
        ("harness_untraced", TestChain::builder().trace(false), false),
        ("harness+seal", TestChain::builder(), true),
        (
            "harness_block_per_call",
            TestChain::builder().block_per_transaction(true),
            false,
        ),
    ];
    for (name, builder, seal) in cases {
        let (mut chain, token, snapshot) = harness(builder);
        group.bench_function(format!("token_transfer_x10000/{name}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    reset(&mut chain, &token, snapshot);
                    let start = Instant::now();
                    harness_transfers(&mut chain, &token);
                    if seal {
                        chain.mine().expect("block");
                    }
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, interleaved, harness_vs_runtime);
criterion_main!(benches);
