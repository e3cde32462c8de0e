//! `tally node` under bad input and across restarts: malformed requests get JSON-RPC errors
//! with the standard codes, hundreds of generated bad requests leave it serving with its state
//! unchanged, a stopped node reopens at the same head, and interval mining runs on its own.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::node::*;
use support::TRANSFER_GAS;
use tally::chain::sequencer::MiningMode;
use tally::node::rpc::method_names;

#[test]
fn malformed_requests_get_standard_error_codes() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let code = |body: &str| -> Value {
        let (_, text) = post(&url, body);
        let response: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        response["error"]["code"].clone()
    };
    assert_eq!(code("{not json"), json!(-32700));
    assert_eq!(code(r#"{"jsonrpc":"2.0","id":1}"#), json!(-32600));
    assert_eq!(
        code(r#"{"jsonrpc":"2.0","id":1,"method":"eth_nothing","params":[]}"#),
        json!(-32601)
    );
    assert_eq!(
        code(r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[42]}"#),
        json!(-32602)
    );
    assert_eq!(
        code(r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[]}"#),
        json!(-32602)
    );
    assert_eq!(
        code(r#"{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x02c0"]}"#),
        json!(-32003)
    );
    assert_eq!(
        code(
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x0000000000000000000000000000000000000000","0xffff"]}"#
        ),
        json!(-32001)
    );
    // Bodies over the limit (4 MiB) are refused without being parsed.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x{}"]}}"#,
        "00".repeat(3 * 1024 * 1024)
    );
    match try_post(&url, &huge) {
        Ok((status, text)) => assert!(status == 413 || text.contains("-32007"), "{status} {text}"),
        // Refused before the whole body was sent: the server closed the connection.
        Err(ureq::Error::Io(e)) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "{e}"
        ),
        Err(e) => panic!("{e}"),
    }
    assert_eq!(rpc(&url, "eth_chainId", json!([])), json!("0x7a69"));
    // Batches: up to 100 calls are answered one by one, more are refused as a whole.
    let call = json!({"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]});
    let (_, text) = post(&url, &Value::Array(vec![call.clone(); 100]).to_string());
    let answers: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.as_array().unwrap().len(), 100);
    assert_eq!(answers[99]["result"], json!("0x7a69"));
    let (_, text) = post(&url, &Value::Array(vec![call; 101]).to_string());
    assert!(text.contains("-32010"), "{text}");
    node.stop();
}

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize].clone()
    }
}

/// A parameter no method accepts where it appears (wrong types, bad hex, junk objects with
/// keys no request type has are read as empty requests, which only reading methods accept).
fn bad_param(rng: &mut Rng) -> Value {
    let long = "f".repeat(5_000);
    rng.pick(&[
        json!("0xzz"),
        json!("0x"),
        json!(""),
        json!(-1),
        json!(1.5),
        json!(true),
        json!([[[]]]),
        json!({"from": 7}),
        json!({"to": "nope"}),
        json!(u64::MAX),
        json!(long),
        json!("0x02f8"),
        json!({"fromBlock": "0x10", "toBlock": "0x1"}),
    ])
}

#[test]
fn hundreds_of_bad_requests_leave_the_node_serving_and_its_state_unchanged() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let token = deploy_token(&url, 1_000);
    let head = rpc(&url, "eth_getBlockByNumber", json!(["latest", false]));
    let balances: Vec<Value> = (0..3)
        .map(|i| rpc(&url, "eth_getBalance", json!([addr(dev(i)), "latest"])))
        .collect();
    let mut methods: Vec<String> = method_names().map(str::to_string).collect();
    methods.push("eth_unknown".into());
    methods.push("".into());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..600 {
        let body = match i % 4 {
            // A known method with bad parameters.
            0 | 1 => {
                let params: Vec<Value> = (0..1 + rng.next() % 3).map(|_| bad_param(&mut rng)).collect();
                json!({"jsonrpc": "2.0", "id": i, "method": rng.pick(&methods), "params": params}).to_string()
            }
            // Parameters of the wrong shape altogether.
            2 => json!({"jsonrpc": "2.0", "id": i, "method": rng.pick(&methods), "params": bad_param(&mut rng)})
                .to_string(),
            // Bytes that are not JSON-RPC.
            _ => {
                let len = rng.next() % 200;
                let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let (status, text) = post(&url, &body);
        assert!(status < 500, "request {i} got HTTP {status}: {body}");
        // Every body, garbage included, gets a JSON-RPC answer: a result or an error.
        let response: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("request {i} got a non-JSON answer ({e}): {text}"));
        assert!(
            response.get("error").is_some() || response.get("result").is_some(),
            "request {i}: {text}"
        );
    }
    assert_eq!(
        rpc(&url, "eth_getBlockByNumber", json!(["latest", false])),
        head
    );
    for (i, balance) in balances.iter().enumerate() {
        assert_eq!(
            &rpc(&url, "eth_getBalance", json!([addr(dev(i)), "latest"])),
            balance
        );
    }
    let supply = rpc(
        &url,
        "eth_call",
        json!([{"to": addr(token), "data": hex0x(&selector("totalSupply()"))}]),
    );
    assert_eq!(big(&supply), 1_000u64.into());
    node.stop();
}

#[test]
fn a_stopped_node_reopens_its_database_at_the_same_head() {
    let dir = std::env::temp_dir().join(format!("tally-node-reopen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let node = start_with(Some(dir.clone()), MiningMode::OnDemand);
    let url = node.url();
    let token = deploy_token(&url, 4_321);
    let head = rpc(&url, "eth_getBlockByNumber", json!(["latest", false]));
    node.stop();
    // The database was closed by stop(): it opens again in the same process.
    let node = start_with(Some(dir.clone()), MiningMode::OnDemand);
    let url = node.url();
    assert_eq!(
        rpc(&url, "eth_getBlockByNumber", json!(["latest", false])),
        head
    );
    let supply = rpc(
        &url,
        "eth_call",
        json!([{"to": addr(token), "data": hex0x(&selector("totalSupply()"))}]),
    );
    assert_eq!(big(&supply), 4_321u64.into());
    // And it goes on from there.
    send(&url, &signed(0, 2, Some(dev(1)), 5, vec![], TRANSFER_GAS));
    assert_eq!(rpc(&url, "eth_blockNumber", json!([])), json!("0x3"));
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interval_mining_produces_blocks_without_requests() {
    let node = start(MiningMode::Interval(1));
    let url = node.url();
    send(&url, &signed(0, 0, Some(dev(1)), 5, vec![], TRANSFER_GAS));
    let deadline = Instant::now() + Duration::from_secs(20);
    while quantity(&rpc(&url, "eth_blockNumber", json!([]))) < 2 {
        assert!(Instant::now() < deadline, "no blocks after 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let receipt = rpc(
        &url,
        "eth_getTransactionCount",
        json!([addr(dev(0)), "latest"]),
    );
    assert_eq!(receipt, json!("0x1"));
    node.stop();
}
