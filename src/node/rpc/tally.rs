//! Tally's own methods: the gas schedule in force, and for a mined transaction its gas
//! breakdown (instructions against each host function) and its call trace with gas per frame,
//! both from a traced re-execution of its block.

use alloy_primitives::B256;
use jsonrpsee::types::Params;
use serde_json::{json, Map, Value};
use tally_runtime::exec::{CallKind, CallTrace, Receipt};
use tally_vm::GasBreakdown;

use super::{json, quantity, Method, NodeState, RpcError};
use crate::eth::{address, from_b256, revert_reason, u256};

pub const METHODS: &[(&str, Method)] = &[
    ("tally_gasSchedule", gas_schedule),
    ("tally_gasBreakdown", gas_breakdown),
    ("tally_traceTransaction", trace_transaction),
];

/// The VM's gas schedule and the runtime's costs, as the node charges them.
fn gas_schedule(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    let mut chain = state.chain()?;
    let runtime = chain.runtime();
    let vm: Value = serde_json::from_str(&runtime.vm().config().schedule.to_json())
        .map_err(|e| RpcError::Internal(e.to_string()))?;
    json(json!({ "vm": vm, "runtime": runtime.costs() }))
}

/// The receipt and trace of a mined transaction, re-executed.
fn traced(state: &NodeState, params: Params) -> Result<(B256, Receipt, CallTrace), RpcError> {
    let hash: B256 = params.one()?;
    let mut chain = state.chain()?;
    let (receipt, trace) = chain
        .trace_transaction(from_b256(hash))?
        .ok_or_else(|| RpcError::NotFound(format!("no mined transaction {hash}")))?;
    Ok((hash, receipt, trace))
}

/// Where a transaction's gas went: intrinsic, then the top-level execution's instantiation,
/// instructions and each host function (a nested call's gas is inside the caller's `call`).
fn gas_breakdown(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let (hash, receipt, _) = traced(state, params)?;
    json(json!({
        "transactionHash": hash,
        "gasUsed": receipt.gas_used,
        "intrinsic": receipt.gas.intrinsic,
        "execution": receipt.gas.execution.as_ref().map(breakdown),
    }))
}

/// The call tree, one object per frame: `kind`, `from`, `to`, `value`, `input`, `gasLimit`,
/// `gasUsed`, the frame's own `gas` split (children excluded), `status`, `output`, the revert
/// `reason` when it is Solidity's `Error(string)`, the number of `logs`, and `calls`.
fn trace_transaction(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let (_, _, trace) = traced(state, params)?;
    Ok(frame(&trace))
}

fn frame(t: &CallTrace) -> Value {
    let mut out = Map::new();
    let kind = match t.kind {
        CallKind::Call => "CALL",
        CallKind::Create => "CREATE",
    };
    out.insert("kind".into(), json!(kind));
    out.insert("from".into(), json!(address(t.caller)));
    out.insert("to".into(), json!(address(t.address)));
    out.insert("value".into(), json!(u256(t.value)));
    out.insert(
        "input".into(),
        json!(format!("0x{}", hex::encode(&t.input))),
    );
    out.insert("gasLimit".into(), quantity(t.gas_limit));
    out.insert("gasUsed".into(), quantity(t.gas_used));
    out.insert("gas".into(), t.gas.as_ref().map_or(Value::Null, breakdown));
    out.insert("status".into(), json!(t.status.to_string()));
    out.insert(
        "output".into(),
        json!(format!("0x{}", hex::encode(&t.output))),
    );
    if let Some(reason) = revert_reason(&t.output).filter(|_| !t.status.is_success()) {
        out.insert("reason".into(), json!(reason));
    }
    out.insert("logs".into(), json!(t.logs.len()));
    out.insert(
        "calls".into(),
        Value::Array(t.children.iter().map(frame).collect()),
    );
    Value::Object(out)
}

fn breakdown(g: &GasBreakdown) -> Value {
    let host: Map<String, Value> = g
        .host
        .iter()
        .map(|(f, h)| {
            (
                f.name().to_string(),
                json!({"calls": h.calls, "gas": h.gas}),
            )
        })
        .collect();
    json!({
        "instantiation": g.instantiation,
        "instructions": g.instructions,
        "host": host,
    })
}
