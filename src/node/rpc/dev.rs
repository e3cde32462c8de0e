//! Development methods, named as anvil names them: mining and block time.

use jsonrpsee::types::Params;
use serde_json::Value;

use super::{json, quantity, Method, NodeState, RpcError};
use crate::node::logging::mined_by;

pub const METHODS: &[(&str, Method)] = &[
    ("evm_mine", mine),
    ("anvil_mine", mine_many),
    ("evm_setNextBlockTimestamp", set_next_block_timestamp),
];

/// Mines one block (with the pooled transactions that fit); an optional parameter sets its
/// timestamp.
fn mine(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let timestamp: Option<u64> = params.sequence().optional_next()?;
    let mut chain = state.chain()?;
    if let Some(t) = timestamp {
        chain.set_next_timestamp(t);
    }
    mined_by(&mut chain, |c| c.mine())?;
    json("0x0")
}

/// `anvil_mine(count?, interval?)`: mines `count` blocks (default 1), `interval` seconds apart
/// if given.
fn mine_many(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let count: Option<alloy_primitives::U64> = seq.optional_next()?;
    let interval: Option<alloy_primitives::U64> = seq.optional_next()?;
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
    let timestamp: alloy_primitives::U64 = params.one()?;
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
