//! Tally's own methods: the gas schedule in force.

use jsonrpsee::types::Params;
use serde_json::Value;

use super::{json, Method, NodeState, RpcError};

pub const METHODS: &[(&str, Method)] = &[("tally_gasSchedule", gas_schedule)];

/// The VM's gas schedule and the runtime's costs, as the node charges them.
fn gas_schedule(state: &NodeState, _: Params) -> Result<Value, RpcError> {
    let mut chain = state.chain()?;
    let runtime = chain.runtime();
    let vm: Value = serde_json::from_str(&runtime.vm().config().schedule.to_json())
        .map_err(|e| RpcError::Internal(e.to_string()))?;
    json(serde_json::json!({ "vm": vm, "runtime": runtime.costs() }))
}
