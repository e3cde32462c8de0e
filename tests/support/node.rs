//! Shared by the node's integration tests: an in-memory node on a free port, a JSON-RPC
//! client over HTTP, signed transactions from the development keys and token calldata.

#![allow(dead_code)]

use std::time::Duration;

use alloy_primitives::keccak256;
use serde_json::{json, Value};
use tally::chain::genesis::Genesis;
use tally::chain::sequencer::{ChainConfig, MiningMode};
use tally::chain::tx::{dev_accounts, SignedTransaction};
use tally::node::{Node, NodeConfig, RpcLimits};
use tally_runtime::tx::Transaction;
use tally_runtime::{H160, U256};

pub use super::dev;

pub const TOKEN: &[u8] = include_bytes!("../../contracts/build/token.wasm");

/// An in-memory node on a free port.
pub fn start(mining: MiningMode) -> Node {
    start_with(None, mining)
}

/// A node over `data_dir` (in memory if `None`) on a free port.
pub fn start_with(data_dir: Option<std::path::PathBuf>, mining: MiningMode) -> Node {
    Node::start(NodeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir,
        genesis: Genesis::dev(),
        chain: ChainConfig {
            mining,
            ..ChainConfig::default()
        },
        limits: RpcLimits::default(),
    })
    .unwrap()
}

/// The raw HTTP answer to `body`: status and text.
pub fn post(url: &str, body: &str) -> (u16, String) {
    try_post(url, body).unwrap()
}

/// The raw HTTP answer to `body`, or the transport error (a server may close the connection
/// on a body it refuses before reading all of it).
pub fn try_post(url: &str, body: &str) -> Result<(u16, String), ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)?;
    let status = response.status().as_u16();
    Ok((
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    ))
}

/// The whole JSON-RPC response object of one call.
pub fn request(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (_, text) = post(url, &body.to_string());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method}: {e}: {text}"))
}

/// The result of a call that must succeed.
pub fn rpc(url: &str, method: &str, params: Value) -> Value {
    let response = request(url, method, params);
    match response.get("result") {
        Some(result) => result.clone(),
        None => panic!("{method} failed: {response}"),
    }
}

/// The error object of a call that must fail.
pub fn rpc_error(url: &str, method: &str, params: Value) -> Value {
    let response = request(url, method, params);
    match response.get("error") {
        Some(error) => error.clone(),
        None => panic!("{method} should have failed: {response}"),
    }
}

pub fn quantity(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

pub fn big(v: &Value) -> U256 {
    U256::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub fn addr(a: H160) -> String {
    format!("{a:?}")
}

pub fn parse_addr(v: &Value) -> H160 {
    H160::from_slice(&hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap())
}

/// A transaction signed by development key `key`, with fees any early block accepts.
pub fn signed(
    key: usize,
    nonce: u64,
    to: Option<H160>,
    value: u64,
    data: Vec<u8>,
    gas: u64,
) -> SignedTransaction {
    let tx = Transaction {
        chain_id: Genesis::dev().chain_id,
        nonce,
        max_priority_fee_per_gas: 1_000_000_000u64.into(),
        max_fee_per_gas: 3_000_000_000u64.into(),
        gas_limit: gas,
        to,
        value: value.into(),
        data,
    };
    SignedTransaction::sign(tx, &dev_accounts()[key].0)
}

/// Sends `tx` raw; returns its hash as the node reports it.
pub fn send(url: &str, tx: &SignedTransaction) -> String {
    let hash = rpc(url, "eth_sendRawTransaction", json!([hex0x(&tx.encode())]));
    assert_eq!(hash, json!(format!("{:?}", tx.hash())));
    hash.as_str().unwrap().to_string()
}

pub fn selector(signature: &str) -> [u8; 4] {
    keccak256(signature.as_bytes())[..4].try_into().unwrap()
}

pub fn word_address(a: H160) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

pub fn word(v: u64) -> [u8; 32] {
    U256::from(v).to_big_endian()
}

/// Calldata: a selector and 32-byte words.
pub fn calldata(signature: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut data = selector(signature).to_vec();
    for w in words {
        data.extend_from_slice(w);
    }
    data
}

/// Deploys the token from dev account 0 (nonce 0) and mints `supply` to it; returns the
/// token's address.
pub fn deploy_token(url: &str, supply: u64) -> H160 {
    let hash = send(url, &signed(0, 0, None, 0, TOKEN.to_vec(), 5_000_000));
    let receipt = rpc(url, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let token = parse_addr(&receipt["contractAddress"]);
    let mint = calldata(
        "mint(address,uint256)",
        &[word_address(dev(0)), word(supply)],
    );
    let hash = send(url, &signed(0, 1, Some(token), 0, mint, 200_000));
    let receipt = rpc(url, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    token
}
