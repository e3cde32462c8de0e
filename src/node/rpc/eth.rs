//! Ethereum methods that read the chain's identity and state: chain id, head, balances,
//! nonces, code, storage, fee suggestions, dev accounts and EIP-1186 proofs.

use alloy_primitives::{Address, Bytes, B256};
use alloy_rpc_types_eth::{
    BlockId, BlockNumberOrTag, EIP1186AccountProofResponse, EIP1186StorageProof,
};
use alloy_serde::storage::JsonStorageKey;
use jsonrpsee::types::Params;
use serde_json::Value;
use tally_runtime::state::EMPTY_CODE_HASH;
use tally_runtime::trie::EMPTY_ROOT;
use tally_runtime::{H256, U256};

use super::{
    block_number, committed_state, internal, json, quantity, read_state, Method, NodeState,
    RpcError,
};
use crate::eth::{address, b256, from_address, from_b256, u256};

/// The priority fee the node suggests, in wei (1 gwei, as anvil suggests).
pub const SUGGESTED_TIP: u64 = 1_000_000_000;

pub const METHODS: &[(&str, Method)] = &[
    ("web3_clientVersion", client_version),
    ("net_version", net_version),
    ("net_listening", net_listening),
    ("eth_chainId", chain_id),
    ("eth_syncing", syncing),
    ("eth_accounts", accounts),
    ("eth_blockNumber", head_number),
    ("eth_gasPrice", gas_price),
    ("eth_maxPriorityFeePerGas", max_priority_fee),
    ("eth_getBalance", balance),
    ("eth_getTransactionCount", transaction_count),
    ("eth_getCode", code),
    ("eth_getStorageAt", storage_at),
    ("eth_getProof", proof),
];

fn client_version(_: &NodeState, _: Params) -> Result<Value, RpcError> {
    json(format!("tally/v{}", env!("CARGO_PKG_VERSION")))
}

fn net_version(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    json(state.chain()?.chain_id().to_string())
}

fn net_listening(_: &NodeState, _: Params) -> Result<Value, RpcError> {
    json(true)
}

fn chain_id(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    Ok(quantity(state.chain()?.chain_id()))
}

fn syncing(_: &NodeState, _: Params) -> Result<Value, RpcError> {
    json(false)
}

fn accounts(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    let accounts: Vec<Address> = state.keys.keys().map(|a| address(*a)).collect();
    json(accounts)
}

fn head_number(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    Ok(quantity(state.chain()?.head().number))
}

fn gas_price(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    let next_base_fee = state.chain()?.head().next_base_fee();
    json(u256(
        next_base_fee.saturating_add(U256::from(SUGGESTED_TIP)),
    ))
}

fn max_priority_fee(_: &NodeState, _: Params) -> Result<Value, RpcError> {
    Ok(quantity(SUGGESTED_TIP))
}

/// `(address, block?)`, the shape of the account-reading methods.
fn address_at(params: &Params) -> Result<(Address, Option<BlockId>), RpcError> {
    let mut seq = params.sequence();
    let address: Address = seq.next()?;
    let at: Option<BlockId> = seq.optional_next()?;
    Ok((address, at))
}

fn balance(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let (who, at) = address_at(&params)?;
    let mut chain = state.chain()?;
    let n = block_number(&chain, at)?;
    let balance = read_state(&mut chain, n, |s| s.balance(&from_address(who)))?;
    json(u256(balance))
}

fn transaction_count(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let (who, at) = address_at(&params)?;
    let who = from_address(who);
    let mut chain = state.chain()?;
    let n = block_number(&chain, at)?;
    let nonce = read_state(&mut chain, n, |s| s.nonce(&who))?;
    let pending = matches!(at, Some(BlockId::Number(BlockNumberOrTag::Pending)));
    let pooled = chain.pool().pending_nonce(&who).filter(|_| pending);
    Ok(quantity(pooled.map_or(nonce, |p| p.max(nonce))))
}

fn code(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let (who, at) = address_at(&params)?;
    let mut chain = state.chain()?;
    let n = block_number(&chain, at)?;
    let code = read_state(&mut chain, n, |s| s.code(&from_address(who)))?;
    json(Bytes::copy_from_slice(&code))
}

fn storage_at(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let who: Address = seq.next()?;
    let key: JsonStorageKey = seq.next()?;
    let at: Option<BlockId> = seq.optional_next()?;
    let mut chain = state.chain()?;
    let n = block_number(&chain, at)?;
    let key = from_b256(key.as_b256());
    let value = read_state(&mut chain, n, |s| s.storage(&from_address(who), &key))?;
    json(b256(value))
}

/// EIP-1186: the account and the requested slots with their proofs, against the state root
/// of the block's header (so changes made by development methods and not yet mined are not
/// in it, whatever the block).
fn proof(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let who: Address = seq.next()?;
    let keys: Vec<JsonStorageKey> = seq.next()?;
    let at: Option<BlockId> = seq.optional_next()?;
    let chain = state.chain()?;
    let n = block_number(&chain, at)?;
    let mut world = committed_state(&chain, n)?;
    drop(chain);
    let slots: Vec<H256> = keys.iter().map(|k| from_b256(k.as_b256())).collect();
    let proof = world.proof(&from_address(who), &slots).map_err(internal)?;
    let bytes = |nodes: Vec<Vec<u8>>| nodes.into_iter().map(Bytes::from).collect();
    let (balance, nonce, code_hash, storage_root) = match proof.account {
        Some(a) => (a.balance, a.nonce, a.code_hash, a.storage_root),
        None => (U256::zero(), 0, EMPTY_CODE_HASH, H256(EMPTY_ROOT)),
    };
    let storage_proof = keys
        .into_iter()
        .zip(proof.storage)
        .map(|(key, slot)| EIP1186StorageProof {
            key,
            value: alloy_primitives::U256::from_be_bytes(slot.value.0),
            proof: bytes(slot.proof),
        })
        .collect();
    json(EIP1186AccountProofResponse {
        address: who,
        balance: u256(balance),
        code_hash: B256::from(code_hash.0),
        nonce,
        storage_hash: b256(storage_root),
        account_proof: bytes(proof.proof),
        storage_proof,
    })
}
