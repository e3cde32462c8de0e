//! Development methods, named as anvil names them: mining, block time, snapshots, state
//! changes and impersonation. State changes apply to the head's state at once and are
//! recorded with the next block (see `docs/chain.md`).

use alloy_primitives::{Address, Bytes, B256, U256 as AlloyU256, U64};
use jsonrpsee::types::Params;
use serde_json::Value;

use super::{json, quantity, Method, NodeState, RpcError};
use crate::chain::sequencer::ChainError;
use crate::eth::{from_address, from_b256, from_u256};
use crate::node::logging::mined_by;

pub const METHODS: &[(&str, Method)] = &[
    ("evm_mine", mine),
    ("anvil_mine", mine_many),
    ("evm_setNextBlockTimestamp", set_next_block_timestamp),
    ("evm_increaseTime", increase_time),
    ("evm_snapshot", snapshot),
    ("evm_revert", revert),
    ("anvil_setBalance", set_balance),
    ("anvil_setNonce", set_nonce),
    ("anvil_setCode", set_code),
    ("anvil_setStorageAt", set_storage_at),
    ("anvil_impersonateAccount", impersonate),
    ("anvil_stopImpersonatingAccount", stop_impersonating),
];

/// Mines one block (with the pooled transactions that fit); an optional parameter sets its
/// timestamp.
fn mine(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let timestamp: Option<U64> = params.sequence().optional_next()?;
    let mut chain = state.chain()?;
    if let Some(t) = timestamp {
        chain.set_next_timestamp(t.to::<u64>());
    }
    mined_by(&mut chain, |c| c.mine())?;
    json("0x0")
}

/// `anvil_mine(count?, interval?)`: mines `count` blocks (default 1), `interval` seconds apart
/// if given.
fn mine_many(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let count: Option<U64> = seq.optional_next()?;
    let interval: Option<U64> = seq.optional_next()?;
    let count = count.map_or(1, |c| c.to::<u64>());
    if count > 10_000 {
        return Err(RpcError::LimitExceeded(
            "anvil_mine mines at most 10000 blocks at once".into(),
        ));
    }
    let mut chain = state.chain()?;
    for _ in 0..count {
        if let Some(interval) = interval {
            let next = chain.head().timestamp.saturating_add(interval.to::<u64>());
            chain.set_next_timestamp(next);
        }
        mined_by(&mut chain, |c| c.mine())?;
    }
    Ok(Value::Null)
}

fn set_next_block_timestamp(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let timestamp: U64 = params.one()?;
    let timestamp = timestamp.to::<u64>();
    let mut chain = state.chain()?;
    if timestamp <= chain.head().timestamp {
        return Err(RpcError::invalid(format!(
            "the next timestamp must exceed the head's ({})",
            chain.head().timestamp
        )));
    }
    chain.set_next_timestamp(timestamp);
    Ok(quantity(timestamp))
}

/// Moves every later block's time forward by `seconds`; returns the total offset.
fn increase_time(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let seconds: U64 = params.one()?;
    let offset = state.chain()?.increase_time(seconds.to::<u64>());
    json(offset)
}

/// Captures the chain (head, state with unmined changes, clock); returns the snapshot's id.
fn snapshot(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    Ok(quantity(state.chain()?.snapshot()?))
}

/// Returns the chain to a snapshot: later blocks are gone, the mempool is emptied. Unlike
/// anvil, the snapshot stays usable, so reverting to it again works; snapshots taken after it
/// are dropped. `false` for an unknown id.
fn revert(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let id: U64 = params.one()?;
    json(state.chain()?.revert(id.to::<u64>())?)
}

fn set_balance(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let who: Address = seq.next()?;
    let balance: AlloyU256 = seq.next()?;
    state
        .chain()?
        .set_balance(from_address(who), from_u256(balance))?;
    json(true)
}

fn set_nonce(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let who: Address = seq.next()?;
    let nonce: U64 = seq.next()?;
    state
        .chain()?
        .set_nonce(from_address(who), nonce.to::<u64>())?;
    json(true)
}

/// Sets an account's code: a contract module, validated as a deployment is (empty removes it).
fn set_code(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let who: Address = seq.next()?;
    let code: Bytes = seq.next()?;
    match state.chain()?.set_code(from_address(who), &code) {
        Ok(()) => json(true),
        Err(ChainError::InvalidCode(reason)) => Err(RpcError::invalid(format!(
            "not a valid contract module: {reason}"
        ))),
        Err(e) => Err(e.into()),
    }
}

fn set_storage_at(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let who: Address = seq.next()?;
    let key: AlloyU256 = seq.next()?;
    let value: B256 = seq.next()?;
    let key = tally_runtime::H256(key.to_be_bytes::<32>());
    state
        .chain()?
        .set_storage(from_address(who), key, from_b256(value))?;
    json(true)
}

/// Lets `eth_sendTransaction` send from `address` without its key.
fn impersonate(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let who: Address = params.one()?;
    state.impersonated()?.insert(from_address(who));
    Ok(Value::Null)
}

fn stop_impersonating(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let who: Address = params.one()?;
    state.impersonated()?.remove(&from_address(who));
    Ok(Value::Null)
}
