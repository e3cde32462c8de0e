//! The test harness against the raw runtime, in the same run. Each iteration makes 10,000
//! ERC-20 transfers (the example token), senders rotating over 1,000 holders:
//!
//! - `runtime`: through `Runtime::transact` on in-memory state, 10 blocks of 1,000, no state
//!   root (the runtime benchmark's figure): the baseline;
//! - `harness`: through `TestChain`, `chain.from(sender).call(&token, transferCall { .. })`:
//!   ABI encoding, an impersonated transaction executed through the chain into the open block
//!   (sealed, with its state root and commit, whenever the next transaction does not fit),
//!   the receipt with its call trace, the decoded result and the gas report;
//! - `harness_untraced`: the same without call traces;
//! - `harness_block_per_call`: a block sealed after every call (what an automining chain
//!   does), for comparison.
//!
//! Run with `cargo bench --bench harness`.

use std::time::Duration;

use alloy_primitives::{Address, U256};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tally::testing::{Artifact, Contract, TestChain, TestChainBuilder};

mod common;

use common::{call_address_amount, deploy_token, holder, selector, Bench, BLOCK, HOLDERS, TOKEN};

const CALLS: usize = 10_000;

alloy_sol_types::sol! {
    function transfer(address to, uint256 amount) returns (bool);
    function mint(address to, uint256 amount);
}

fn account(i: usize) -> Address {
    Address::from(holder(i).0)
}

/// A test chain with the holders funded, the token deployed by the last one and minted to
/// every other.
fn harness(builder: TestChainBuilder) -> (TestChain, Contract) {
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
    chain.mine().expect("block");
    (chain, token)
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

fn harness_vs_runtime(c: &mut Criterion) {
    let mut group = c.benchmark_group("harness");
    group.throughput(Throughput::Elements(CALLS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));

    let mut bench = Bench::new();
    let token = deploy_token(&mut bench);
    let transfer = selector("transfer(address,uint256)");
    group.bench_function("token_transfer_x10000/runtime", |b| {
        b.iter(|| {
            for _ in 0..CALLS / BLOCK {
                bench.block(false, |bench, i| {
                    let data = call_address_amount(transfer, holder((i + 1) % HOLDERS), 1);
                    bench.tx(i, Some(token), data)
                });
            }
        })
    });

    for (name, builder) in [
        ("harness", TestChain::builder()),
        ("harness_untraced", TestChain::builder().trace(false)),
        (
            "harness_block_per_call",
            TestChain::builder().block_per_transaction(true),
        ),
    ] {
        let (mut chain, token) = harness(builder);
        group.bench_function(format!("token_transfer_x10000/{name}"), |b| {
            b.iter(|| harness_transfers(&mut chain, &token))
        });
    }
    group.finish();
}

criterion_group!(benches, harness_vs_runtime);
criterion_main!(benches);
