//! JSON-RPC request bodies into the node's methods, on an in-memory chain: whatever the body,
//! no panic, and every request that parses gets a JSON-RPC answer (a result or an error).

use std::sync::{Arc, Mutex};

use jsonrpsee::RpcModule;
use serde_json::Value;

use crate::chain::genesis::Genesis;
use crate::chain::sequencer::{Chain, ChainConfig};
use crate::chain::store::ChainStore;
use crate::chain::tx::dev_accounts;
use crate::node::rpc::{module, NodeState};

thread_local! {
    /// One node per fuzzing thread: a fresh chain per input would cost more than the request.
    static NODE: (tokio::runtime::Runtime, RpcModule<NodeState>) = {
        // A chain on the built-in genesis in memory opens; a runtime with no I/O builds.
        let chain = Chain::open(ChainStore::memory(), &Genesis::dev(), ChainConfig::default())
            .expect("an in-memory chain opens");
        let state = NodeState::new(Arc::new(Mutex::new(chain)), dev_accounts(), 100);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds");
        (runtime, module(state))
    };
}

pub fn check(bytes: &[u8]) {
    let Ok(body) = std::str::from_utf8(bytes) else {
        return;
    };
    NODE.with(|(runtime, module)| {
        let Ok((response, _)) = runtime.block_on(module.raw_json_request(body, 1)) else {
            // Not a single JSON-RPC request: the server answers it with a parse error.
            return;
        };
        let response: Value = serde_json::from_str(response.get())
            .unwrap_or_else(|e| panic!("the node answered {body:?} with invalid JSON: {e}"));
        assert!(
            response.get("result").is_some() || response.get("error").is_some(),
            "{body:?} got neither a result nor an error: {response}"
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arm reaches the node: a valid request gets its result, a bad one its error.
    #[test]
    fn requests_reach_the_node_and_get_answers() {
        let answer = |body: &str| -> Value {
            NODE.with(|(runtime, module)| {
                let (response, _) = runtime.block_on(module.raw_json_request(body, 1)).unwrap();
                serde_json::from_str(response.get()).unwrap()
            })
        };
        let ok = answer(r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#);
        assert_eq!(ok["result"], "0x7a69");
        let bad = answer(r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[1]}"#);
        assert_eq!(bad["error"]["code"], -32602);
        check(br#"{"jsonrpc":"2.0","id":1,"method":"anvil_mine","params":["0xffffffff"]}"#);
        check(b"\xff\xfe not json");
    }
}
