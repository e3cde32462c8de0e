//! Transactions through the runtime on in-memory state: ERC-20 token transfers (the example
//! token contract: balance check, two storage writes, one `Transfer` log), against plain value
//! transfers measured in the same run. Each iteration executes a block of 1,000 transactions
//! from 1,000 different senders, with and without computing the state root at the end.
//! Run with `cargo bench --bench runtime`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod common;

use common::{call_address_amount, deploy_token, holder, selector, Bench, BLOCK, HOLDERS};

fn transfers(c: &mut Criterion) {
    let mut bench = Bench::new();
    let token = deploy_token(&mut bench);
    let mut group = c.benchmark_group("runtime");
    group.throughput(Throughput::Elements(BLOCK as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    let transfer = selector("transfer(address,uint256)");
    let token_transfer = |b: &mut Bench, i: usize| {
        let data = call_address_amount(transfer, holder((i + 1) % HOLDERS), 1);
        b.tx(i, Some(token), data)
    };
    let value_transfer = |b: &mut Bench, i: usize| {
        let mut tx = b.tx(i, Some(holder((i + 1) % HOLDERS)), vec![]);
        tx.value = 1.into();
        tx
    };
    for (name, root) in [("execute", false), ("execute+root", true)] {
        group.bench_function(format!("token_transfer_x1000/{name}"), |b| {
            b.iter(|| bench.block(root, token_transfer))
        });
        group.bench_function(format!("value_transfer_x1000/{name}"), |b| {
            b.iter(|| bench.block(root, value_transfer))
        });
    }
    group.finish();
}

criterion_group!(benches, transfers);
criterion_main!(benches);
