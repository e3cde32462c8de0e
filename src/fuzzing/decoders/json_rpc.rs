//! JSON-RPC request bodies into the node's methods, on an in-memory chain: whatever the body,
//! no panic, and every request that parses gets a JSON-RPC answer (a result or an error).
//!
//! Every input starts from the same node, so that a finding reproduces from its input alone:
//! after each input the chain is reverted to the snapshot taken when it was opened (blocks,
//! state, cheats, clock, mempool, later snapshots), and the methods' own state (the
//! impersonated accounts) is made anew for each input. Blocks are timed by a deterministic
//! clock, not the system's. What stays: the VM's cache of compiled code (no answer depends on
//! it) and the counter behind snapshot ids, so `evm_snapshot` answers a growing id; but only
//! snapshot 0 exists when an input starts, so `evm_revert` does the same whatever came before.

use std::sync::{Arc, Mutex};

use jsonrpsee::core::server::helpers::prepare_error;
use jsonrpsee::core::server::MethodResponse;
use jsonrpsee::types::ErrorObject;
use k256::ecdsa::SigningKey;
use serde_json::Value;
use tally_runtime::H160;

use crate::chain::genesis::Genesis;
use crate::chain::sequencer::{Chain, ChainConfig, Clock};
use crate::chain::store::ChainStore;
use crate::chain::tx::dev_accounts;
use crate::node::rpc::{module, NodeState};

/// A node on an in-memory chain, and the snapshot every input starts from.
struct Node {
    runtime: tokio::runtime::Runtime,
    chain: Arc<Mutex<Chain>>,
    keys: Vec<(SigningKey, H160)>,
    pristine: u64,
}

thread_local! {
    /// One chain per fuzzing thread, reverted after every input: opening a chain (and deriving
    /// the development keys) costs about a thousand times a cheap request, reverting it and
    /// making the methods' state anew a few times.
    static NODE: Node = Node::new();
}

impl Node {
    fn new() -> Self {
        let config = ChainConfig {
            clock: Clock::Deterministic { step: 1 },
            ..ChainConfig::default()
        };
        // A chain on the built-in genesis in memory opens, and can be snapshotted; a runtime
        // with no I/O builds.
        let mut chain = Chain::open(ChainStore::memory(), &Genesis::dev(), config)
            .expect("an in-memory chain opens");
        let pristine = chain.snapshot().expect("a new chain snapshots");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds");
        Node {
            runtime,
            chain: Arc::new(Mutex::new(chain)),
            keys: dev_accounts(),
            pristine,
        }
    }

    /// What the node's HTTP server answers `body` (a single request, not a batch), after
    /// which the node is as it was before.
    fn answer(&self, body: &str) -> Value {
        // The methods' state (the impersonated accounts) anew for every input.
        let state = NodeState::new(Arc::clone(&self.chain), self.keys.clone(), 100);
        let answer = match self
            .runtime
            .block_on(module(state).raw_json_request(body, 1))
        {
            Ok((response, _)) => response,
            // Not a request: the server's answer, a parse error or an invalid request.
            Err(_) => {
                let (id, code) = prepare_error(body.as_bytes());
                MethodResponse::error(id, ErrorObject::from(code)).into_json()
            }
        };
        // Reverting keeps the snapshot (and drops any the input took).
        let reverted = self
            .chain
            .lock()
            .expect("no request panicked holding the chain")
            .revert(self.pristine);
        assert!(
            matches!(reverted, Ok(true)),
            "reverting after {body:?} failed: {reverted:?}"
        );
        serde_json::from_str(answer.get())
            .unwrap_or_else(|e| panic!("the node answered {body:?} with invalid JSON: {e}"))
    }
}

/// Runs one input; returns the node's answer, or `None` for an input not sent to it (not
/// UTF-8, or a batch).
pub fn check(bytes: &[u8]) -> Option<Value> {
    let body = std::str::from_utf8(bytes).ok()?;
    if body.trim_start().starts_with('[') {
        return None;
    }
    let response = NODE.with(|node| node.answer(body));
    assert!(
        response.get("result").is_some() || response.get("error").is_some(),
        "{body:?} got neither a result nor an error: {response}"
    );
    Some(response)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        check(body.to_string().as_bytes()).expect("a single request is answered")
    }

    /// The arm reaches the node: a valid request gets its result, a bad one its error, and a
    /// body that is not JSON the server's parse error.
    #[test]
    fn requests_reach_the_node_and_get_answers() {
        assert_eq!(request("eth_chainId", json!([]))["result"], "0x7a69");
        let bad = request("eth_getBalance", json!([1]));
        assert_eq!(bad["error"]["code"], -32602);
        assert!(request("anvil_mine", json!(["0xffffffff"]))["error"].is_object());
        let not_json = check(b"{ not json").expect("UTF-8 is sent to the node");
        assert_eq!(not_json["error"]["code"], -32700, "{not_json}");
        assert_eq!(not_json["id"], Value::Null);
        let not_a_request = check(br#"{"jsonrpc":"2.0","id":7}"#).unwrap();
        assert_eq!(not_a_request["error"]["code"], -32600, "{not_a_request}");
        assert_eq!(not_a_request["id"], 7);
        assert_eq!(check(b"\xff\xfe not UTF-8"), None);
    }

    /// What one input changes (balances, blocks, the clock, impersonation, snapshots) is gone
    /// for the next: each observation equals the one made before the changes.
    #[test]
    fn inputs_do_not_see_each_others_changes() {
        let who = format!("{:?}", H160::repeat_byte(0x42));
        let send = json!([{"from": who, "to": who, "value": "0x0"}]);
        let observations = [
            ("eth_getBalance", json!([who, "latest"])),
            ("eth_blockNumber", json!([])),
            ("eth_getBlockByNumber", json!(["latest", false])),
            // The total offset: the one added here if none was before.
            ("evm_increaseTime", json!(["0x64"])),
            // No snapshot 1: only the target's own snapshot 0 exists.
            ("evm_revert", json!(["0x1"])),
            // Refused: neither a development account nor impersonated.
            ("eth_sendTransaction", send),
        ];
        let observe = || -> Vec<Value> {
            observations
                .iter()
                .map(|(method, params)| request(method, params.clone()))
                .collect()
        };
        let pristine = observe();
        assert_eq!(pristine[0]["result"], "0x0");
        assert_eq!(pristine[1]["result"], "0x0");
        assert_eq!(pristine[3]["result"], 100);
        assert_eq!(pristine[4]["result"], false);
        assert_eq!(pristine[5]["error"]["code"], -32003, "{}", pristine[5]);

        let changes = [
            ("anvil_setBalance", json!([who, "0xde0b6b3a7640000"])),
            ("anvil_mine", json!(["0x3"])),
            ("evm_increaseTime", json!(["0x15180"])),
            ("evm_setNextBlockTimestamp", json!(["0xee6b2800"])),
            ("evm_mine", json!([])),
            ("anvil_impersonateAccount", json!([who])),
            ("evm_snapshot", json!([])),
        ];
        for (method, params) in changes {
            let answer = request(method, params);
            assert!(answer.get("result").is_some(), "{method}: {answer}");
        }
        for ((method, _), (after, before)) in
            observations.iter().zip(observe().iter().zip(&pristine))
        {
            assert_eq!(after, before, "{method}");
        }
    }
}
