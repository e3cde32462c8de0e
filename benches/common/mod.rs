//! Shared by the runtime and harness benchmarks: the example token deployed on in-memory state
//! through `Runtime::transact`, with `HOLDERS` funded holders that each hold tokens, and blocks
//! of transactions from `BLOCK` different senders.

#![allow(dead_code)]

use tally_runtime::exec::{BlockContext, Runtime, RuntimeConfig};
use tally_runtime::state::WorldState;
use tally_runtime::trie::{keccak256, MemoryStore};
use tally_runtime::tx::{BlockEnv, DeployPayload, Transaction};
use tally_runtime::{H160, U256};

pub const HOLDERS: usize = 1_000;
pub const BLOCK: usize = 1_000;
pub const CHAIN_ID: u64 = 1;
pub const TOKEN: &[u8] = include_bytes!("../../contracts/build/token.wasm");

/// The `i`th funded account (the last one deploys the token).
pub fn holder(i: usize) -> H160 {
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
pub struct Bench {
    rt: Runtime<MemoryStore>,
    nonces: Vec<u64>,
    number: u64,
}

impl Bench {
    pub fn new() -> Self {
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

    pub fn tx(&mut self, from: usize, to: Option<H160>, data: Vec<u8>) -> Transaction {
        let nonce = self.nonces[from];
        self.nonces[from] += 1;
        Transaction {
            chain_id: CHAIN_ID,
            nonce,
            max_priority_fee_per_gas: 1.into(),
            max_fee_per_gas: 10.into(),
            gas_limit: 1_000_000,
            to,
            value: U256::zero(),
            data,
        }
    }

    /// Runs one block of transactions built by `make(sender index)`; optionally the root.
    pub fn block(&mut self, root: bool, make: impl Fn(&mut Self, usize) -> Transaction) {
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
pub fn call_address_amount(selector: [u8; 4], to: H160, amount: u64) -> Vec<u8> {
    let mut data = selector.to_vec();
    data.extend_from_slice(&[0; 12]);
    data.extend_from_slice(to.as_bytes());
    data.extend_from_slice(&U256::from(amount).to_big_endian());
    data
}

pub fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// Deploys the token from the owner (index `HOLDERS`) and mints to every holder.
pub fn deploy_token(bench: &mut Bench) -> H160 {
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
    tx.gas_limit = 10_000_000;
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
