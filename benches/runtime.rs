//! Transactions through the runtime on in-memory state: ERC-20 token transfers (the example
//! token contract: balance check, two storage writes, one `Transfer` log), against plain value
//! transfers measured in the same run. Each iteration executes a block of 1,000 transactions
//! from 1,000 different senders, with and without computing the state root at the end.
//! Run with `cargo bench --bench runtime`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tally_runtime::exec::{BlockContext, Runtime, RuntimeConfig};
use tally_runtime::state::WorldState;
use tally_runtime::trie::{keccak256, MemoryStore};
use tally_runtime::tx::{BlockEnv, DeployPayload, Transaction};
use tally_runtime::{H160, U256};

const HOLDERS: usize = 1_000;
const BLOCK: usize = 1_000;
const CHAIN_ID: u64 = 1;
const TOKEN: &[u8] = include_bytes!("../contracts/build/token.wasm");

/// The `i`th funded account (the last one deploys the token).
fn holder(i: usize) -> H160 {
    static HOLDER_ADDRESSES: std::sync::OnceLock<Vec<H160>> = std::sync::OnceLock::new();
    HOLDER_ADDRESSES.get_or_init(|| {
        (0..=HOLDERS)
            .map(|i| H160::from_slice(&keccak256(&(i as u64).to_be_bytes())[..20]))
            .collect()
    })[i]
}

fn block_env(number: u64) -> BlockEnv {
    BlockEnv {
        number,
        timestamp: 1_700_000_000 + number,
        chain_id: CHAIN_ID,
        gas_limit: u64::MAX / 2,
        base_fee: 1.into(),
        producer: H160::repeat_byte(0xfe),
    }
}

/// A runtime with `HOLDERS` funded accounts, plus `nonces` tracking each sender.
struct Bench {
    rt: Runtime<MemoryStore>,
    nonces: Vec<u64>,
    number: u64,
}

impl Bench {
    fn new() -> Self {
        let mut state = WorldState::new(MemoryStore::new());
        for i in 0..=HOLDERS {
            state
                .set_balance(&holder(i), U256::exp10(30))
                .expect("in-memory state");
        }
        state.finish_transaction();
        state.commit(0).expect("in-memory commit");
        let rt = Runtime::new(RuntimeConfig::default(), state).expect("runtime");
        Bench {
            rt,
            nonces: vec![0; HOLDERS + 1],
            number: 0,
        }
    }

    fn tx(&mut self, from: usize, to: Option<H160>, data: Vec<u8>) -> Transaction {
        let nonce = self.nonces[from];
        self.nonces[from] += 1;
        Transaction {
            chain_id: CHAIN_ID,
            nonce,
            max_priority_fee_per_gas: 1.into(),
            max_fee_per_gas: 10.into(),
            gas_limit: 10_000_000,
            to,
            value: U256::zero(),
            data,
        }
    }

    /// Runs one block of transactions built by `make(sender index)`; optionally the root.
    fn block(&mut self, root: bool, make: impl Fn(&mut Self, usize) -> Transaction) {
        self.number += 1;
        let mut block = BlockContext::new(block_env(self.number));
        for i in 0..BLOCK {
            let tx = make(self, i);
            let receipt = self
                .rt
                .transact(&mut block, holder(i), &tx)
                .expect("valid transaction");
            assert!(receipt.status.is_success(), "{receipt:?}");
        }
        if root {
            self.rt.state_mut().root().expect("in-memory root");
        }
    }
}

/// ABI calldata for `selector(address,uint256)`.
fn call_address_amount(selector: [u8; 4], to: H160, amount: u64) -> Vec<u8> {
    let mut data = selector.to_vec();
    data.extend_from_slice(&[0; 12]);
    data.extend_from_slice(to.as_bytes());
    data.extend_from_slice(&U256::from(amount).to_big_endian());
    data
}

fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Deploys the token from the owner (index `HOLDERS`) and mints to every holder.
fn deploy_token(bench: &mut Bench) -> H160 {
    let owner = HOLDERS;
    let mut ctor = Vec::new();
    // Constructor: (string name, string symbol, uint8 decimals), ABI-encoded.
    for word in [0x60u64, 0xa0, 18, 5] {
        ctor.extend_from_slice(&U256::from(word).to_big_endian());
    }
    let mut name = [0u8; 32];
    name[..5].copy_from_slice(b"Tally");
    ctor.extend_from_slice(&name);
    ctor.extend_from_slice(&U256::from(4).to_big_endian());
    let mut symbol = [0u8; 32];
    symbol[..4].copy_from_slice(b"TALY");
    ctor.extend_from_slice(&symbol);
    let data = DeployPayload::encode(TOKEN, &ctor);
    let mut tx = bench.tx(owner, None, data);
    tx.gas_limit = 1_000_000_000;
    let mut block = BlockContext::new(block_env(0));
    let receipt = bench
        .rt
        .transact(&mut block, holder(owner), &tx)
        .expect("deploy");
    let token = receipt.contract_address.expect("token deployed");
    for i in 0..HOLDERS {
        let mint = call_address_amount(selector("mint(address,uint256)"), holder(i), 1_000_000_000);
        let tx = bench.tx(owner, Some(token), mint);
        let receipt = bench
            .rt
            .transact(&mut block, holder(owner), &tx)
            .expect("mint");
        assert!(receipt.status.is_success(), "{receipt:?}");
    }
    bench.rt.state_mut().root().expect("root");
    token
}

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
