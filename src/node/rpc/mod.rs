//! The JSON-RPC methods: Ethereum's (`eth_*`, `net_*`, `web3_*`, in `eth` and `block`),
//! the development methods anvil users know (`dev`) and Tally's own (`tally`).
//!
//! Every method is a plain function from the [`NodeState`] and its parameters to a JSON value
//! or an [`RpcError`]. The chain sits behind one lock: a request holds it for as long as it
//! reads or changes the chain, so requests apply in the order they take it, and a request
//! never sees a block half-applied.

mod block;
mod call;
pub mod convert;
mod dev;
pub mod error;
mod eth;
mod tally;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag};
use jsonrpsee::types::Params;
use jsonrpsee::RpcModule;
use k256::ecdsa::SigningKey;
use serde::Serialize;
use serde_json::Value;
use tally_runtime::state::{StateError, WorldState};
use tally_runtime::H160;

use crate::chain::sequencer::{Chain, ChainError};
use crate::chain::store::{ChainStoreError, StateStore};
pub use error::RpcError;

/// What the methods share: the chain, the keys the node signs with, the impersonated accounts.
pub struct NodeState {
    chain: Arc<Mutex<Chain>>,
    /// Keys of the development accounts: `eth_sendTransaction` from one of them is signed here.
    keys: BTreeMap<H160, SigningKey>,
    /// Accounts `eth_sendTransaction` may send from without a key (`anvil_impersonateAccount`).
    impersonated: Mutex<BTreeSet<H160>>,
    /// The widest block range one `eth_getLogs` may scan.
    max_log_range: u64,
}

impl NodeState {
    pub fn new(
        chain: Arc<Mutex<Chain>>,
        keys: Vec<(SigningKey, H160)>,
        max_log_range: u64,
    ) -> Self {
        NodeState {
            chain,
            keys: keys
                .into_iter()
                .map(|(key, address)| (address, key))
                .collect(),
            impersonated: Mutex::new(BTreeSet::new()),
            max_log_range,
        }
    }

    /// The chain, locked for this request.
    fn chain(&self) -> Result<MutexGuard<'_, Chain>, RpcError> {
        self.chain
            .lock()
            .map_err(|_| RpcError::Internal("the chain lock is poisoned".into()))
    }

    fn impersonated(&self) -> Result<MutexGuard<'_, BTreeSet<H160>>, RpcError> {
        self.impersonated
            .lock()
            .map_err(|_| RpcError::Internal("the impersonation lock is poisoned".into()))
    }
}

/// A method: the shared state and the request's parameters to a JSON result.
type Method = fn(&NodeState, Params<'_>) -> Result<Value, RpcError>;

/// Every method, registered on one module.
pub fn module(state: NodeState) -> RpcModule<NodeState> {
    let mut module = RpcModule::new(state);
    for (name, method) in all_methods() {
        let method: Method = *method;
        module
            .register_method(name, move |params, state, _| {
                method(state, params).map_err(jsonrpsee::types::ErrorObjectOwned::from)
            })
            // The method tables hold each name once (a test checks it).
            .expect("method names are unique");
    }
    module
}

/// The names of every method served.
pub fn method_names() -> impl Iterator<Item = &'static str> {
    all_methods().map(|(name, _)| *name)
}

fn all_methods() -> impl Iterator<Item = &'static (&'static str, Method)> {
    eth::METHODS
        .iter()
        .chain(call::METHODS)
        .chain(block::METHODS)
        .chain(dev::METHODS)
        .chain(tally::METHODS)
}

/// `value` as a JSON result.
fn json(value: impl Serialize) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::Internal(e.to_string()))
}

/// `v` as a hex quantity.
fn quantity(v: u64) -> Value {
    Value::String(format!("{v:#x}"))
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::Internal(e.to_string())
}

/// The number of the block `id` names (the head if `None`); an error if there is no such
/// block.
fn block_number(chain: &Chain, id: Option<BlockId>) -> Result<u64, RpcError> {
    match id {
        None => Ok(chain.head().number),
        Some(BlockId::Number(tag)) => number_of_tag(chain, tag),
        Some(BlockId::Hash(hash)) => chain
            .store()
            .block_number(&crate::eth::from_b256(hash.block_hash))
            .map_err(internal)?
            .ok_or_else(|| RpcError::NotFound(format!("no block with hash {}", hash.block_hash))),
    }
}

/// The block a tag names: the head for latest, pending, safe and finalized (a single node
/// finalizes every block it commits).
fn number_of_tag(chain: &Chain, tag: BlockNumberOrTag) -> Result<u64, RpcError> {
    let head = chain.head().number;
    match tag {
        BlockNumberOrTag::Earliest => Ok(0),
        BlockNumberOrTag::Number(n) if n <= head => Ok(n),
        BlockNumberOrTag::Number(n) => Err(RpcError::NotFound(format!(
            "block {n} is beyond the head ({head})"
        ))),
        _ => Ok(head),
    }
}

/// Runs `read` on the state after block `at`: the live state at the head (which includes
/// changes made by development methods since the last block), a committed state otherwise.
fn read_state<T>(
    chain: &mut Chain,
    at: u64,
    read: impl FnOnce(&mut WorldState<StateStore>) -> Result<T, StateError>,
) -> Result<T, RpcError> {
    if at == chain.head().number {
        read(chain.runtime().state_mut()).map_err(internal)
    } else {
        read(&mut committed_state(chain, at)?).map_err(internal)
    }
}

/// The state block `at` committed; one a state history pruned is not found.
fn committed_state(chain: &Chain, at: u64) -> Result<WorldState<StateStore>, RpcError> {
    chain.state_at(at).map_err(|e| match e {
        ChainError::Store(ChainStoreError::StatePruned { .. }) => RpcError::NotFound(e.to_string()),
        e => internal(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_name_is_served_once() {
        let mut names: Vec<&str> = method_names().collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        for expected in [
            "eth_getProof",
            "eth_feeHistory",
            "evm_mine",
            "tally_gasSchedule",
        ] {
            assert!(names.contains(&expected), "{expected}");
        }
    }
}
