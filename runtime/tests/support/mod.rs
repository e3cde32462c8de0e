//! Shared set-up for the runtime's integration tests: a funded in-memory runtime, transaction
//! and block builders, `Script`, which writes inputs for the scriptable `probe` contract, and
//! Solidity-ABI helpers for the example contracts.
#![allow(dead_code)]

use tally_runtime::exec::{BlockContext, Receipt, Runtime, RuntimeConfig};
use tally_runtime::state::WorldState;
use tally_runtime::trie::{keccak256, MemoryStore};
use tally_runtime::tx::{BlockEnv, DeployPayload, Transaction};
use tally_runtime::{H160, H256, U256};

pub const CHAIN_ID: u64 = 1337;
pub const BASE_FEE: u64 = 7;
pub const MAX_FEE: u64 = 100;
pub const PRIORITY_FEE: u64 = 2;
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;
pub const PRODUCER: H160 = H160([0xfe; 20]);

pub fn addr(n: u8) -> H160 {
    H160::repeat_byte(n)
}

pub fn word(v: u64) -> H256 {
    H256(U256::from(v).to_big_endian())
}

pub fn block(number: u64) -> BlockContext {
    BlockContext::new(BlockEnv {
        number,
        timestamp: 1_700_000_000 + number,
        chain_id: CHAIN_ID,
        gas_limit: BLOCK_GAS_LIMIT,
        base_fee: BASE_FEE.into(),
        producer: PRODUCER,
    })
}

/// A runtime whose state holds `accounts` with the given balances, committed as version 0.
pub fn runtime(accounts: &[(H160, u64)]) -> Runtime<MemoryStore> {
    let mut state = WorldState::new(MemoryStore::new());
    for (address, balance) in accounts {
        state.set_balance(address, (*balance).into()).unwrap();
    }
    state.finish_transaction();
    state.commit(0).unwrap();
    Runtime::new(RuntimeConfig::default(), state).unwrap()
}

pub fn tx(nonce: u64, to: Option<H160>, value: u64, data: Vec<u8>, gas_limit: u64) -> Transaction {
    Transaction {
        chain_id: CHAIN_ID,
        nonce,
        max_priority_fee_per_gas: PRIORITY_FEE.into(),
        max_fee_per_gas: MAX_FEE.into(),
        gas_limit,
        to,
        value: value.into(),
        data,
    }
}

pub fn probe_code() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contracts/probe.wat");
    wat::parse_file(path).expect("probe.wat parses")
}

/// Deploys the probe from `sender` (whose next nonce is `nonce`); returns its address.
pub fn deploy_probe(rt: &mut Runtime<MemoryStore>, sender: H160, nonce: u64) -> H160 {
    let mut b = block(1);
    let data = DeployPayload::encode(&probe_code(), &[]);
    let receipt = rt
        .transact(&mut b, sender, &tx(nonce, None, 0, data, 5_000_000))
        .unwrap();
    assert!(receipt.status.is_success(), "{receipt:?}");
    receipt.contract_address.expect("created")
}

/// Sends a transaction calling `to` with `data` in a fresh block.
pub fn send(
    rt: &mut Runtime<MemoryStore>,
    sender: H160,
    nonce: u64,
    to: H160,
    value: u64,
    data: Vec<u8>,
) -> Receipt {
    let mut b = block(2);
    rt.transact(&mut b, sender, &tx(nonce, Some(to), value, data, 5_000_000))
        .unwrap()
}

/// Input for the probe contract (see `tests/contracts/probe.wat`).
#[derive(Clone, Debug, Default)]
pub struct Script(pub Vec<u8>);

impl Script {
    pub fn new() -> Self {
        Script(Vec::new())
    }

    pub fn sstore(mut self, key: u64, value: u64) -> Self {
        self.0.push(1);
        self.0.extend_from_slice(word(key).as_bytes());
        self.0.extend_from_slice(word(value).as_bytes());
        self
    }

    pub fn call(mut self, to: H160, value: u64, gas: u64, input: &Script) -> Self {
        self.0.push(2);
        self.0.extend_from_slice(to.as_bytes());
        self.0.extend_from_slice(&U256::from(value).to_big_endian());
        self.0.extend_from_slice(&gas.to_le_bytes());
        self.0
            .extend_from_slice(&(input.0.len() as u32).to_le_bytes());
        self.0.extend_from_slice(&input.0);
        self
    }

    pub fn revert(mut self) -> Self {
        self.0.push(3);
        self
    }

    pub fn log(mut self, topic: u64) -> Self {
        self.0.push(4);
        self.0.extend_from_slice(word(topic).as_bytes());
        self
    }

    pub fn spin(mut self) -> Self {
        self.0.push(5);
        self
    }

    pub fn sload(mut self, key: u64) -> Self {
        self.0.push(6);
        self.0.extend_from_slice(word(key).as_bytes());
        self
    }

    pub fn require_ok(mut self) -> Self {
        self.0.push(7);
        self
    }

    pub fn create(mut self, value: u64, code: &[u8]) -> Self {
        self.0.push(8);
        self.0.extend_from_slice(&U256::from(value).to_big_endian());
        self.0.extend_from_slice(&(code.len() as u32).to_le_bytes());
        self.0.extend_from_slice(code);
        self
    }

    pub fn transfer(mut self, to: H160, value: u64) -> Self {
        self.0.push(9);
        self.0.extend_from_slice(to.as_bytes());
        self.0.extend_from_slice(&U256::from(value).to_big_endian());
        self
    }

    pub fn return_output(mut self) -> Self {
        self.0.push(10);
        self
    }

    pub fn ret(mut self, data: &[u8]) -> Self {
        self.0.push(11);
        self.0.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.0.extend_from_slice(data);
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.clone()
    }
}

/// A committed example contract from `contracts/build/`.
pub fn artifact(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../contracts/build/{name}.wasm",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An address as an ABI word.
pub fn address_word(a: H160) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_bytes());
    w
}

/// An integer as an ABI word.
pub fn amount_word(v: u64) -> [u8; 32] {
    U256::from(v).to_big_endian()
}

/// ABI calldata: the selector of `signature`, then the words.
pub fn calldata(signature: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut data = keccak256(signature.as_bytes())[..4].to_vec();
    for w in words {
        data.extend_from_slice(w);
    }
    data
}
