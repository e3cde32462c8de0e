//! The client commands (`deploy`, `send`, `call`, `receipt`, `balance`, `logs`, `trace`) end to end: the
//! `tally` binary against a node started in this process, with exact gas, decoded values and
//! events, and the exit statuses and messages of bad input, reverts and an unreachable node.

use std::process::{Command, Output};

use serde_json::{json, Value};
use tally::chain::sequencer::MiningMode;
use tally::chain::tx::{dev_accounts, DEV_KEYS};

mod support;

use support::node::start as start_node;

const TOKEN: &str = "contracts/build/token.wasm";
const CONSTRUCTOR: &str = "constructor(string,string,uint8)";
/// CREATE's address for the first transaction of the first development account.
const TOKEN_ADDRESS: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const TRANSFER: &str = "Transfer(address indexed from,address indexed to,uint256 value)";
/// keccak-256 of `Transfer(address,address,uint256)`.
const TRANSFER_TOPIC: &str = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

/// The development accounts' addresses, checksummed.
fn dev(i: usize) -> String {
    let address = dev_accounts()[i].1;
    alloy_primitives::Address::from(address.0).to_checksum(None)
}

/// Runs `tally args...` against the node at `url` (given through `TALLY_RPC_URL`).
fn tally(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .env("TALLY_RPC_URL", url)
        .output()
        .expect("the tally binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON a successful command printed.
fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON value")
}

/// `tally deploy` of the token, signed here by the first development account; the
/// constructor's arguments follow.
const DEPLOY_TOKEN: [&str; 6] = [
    "deploy",
    TOKEN,
    "--private-key",
    DEV_KEYS[0],
    "--constructor",
    CONSTRUCTOR,
];

fn deploy_token(url: &str) -> Value {
    let args = [&DEPLOY_TOKEN[..], &["Test Token", "TT", "6", "--json"]].concat();
    ok_json(&tally(url, &args))
}

/// Mints `amount` to `to` from the owner, signed by the node.
fn mint(url: &str, to: &str, amount: &str) -> Value {
    ok_json(&tally(
        url,
        &[
            "send",
            TOKEN_ADDRESS,
            "mint(address,uint256)",
            to,
            amount,
            "--from",
            &dev(0),
            "--json",
        ],
    ))
}

fn word(address: &str) -> String {
    format!("0x{:0>64}", address.trim_start_matches("0x").to_lowercase())
}

#[test]
fn deploy_send_call_receipt_balance_and_logs() {
    let node = start_node(MiningMode::OnDemand);
    let url = node.url();

    let deployed = deploy_token(&url);
    assert_eq!(deployed["status"], "success");
    assert_eq!(deployed["contractAddress"], TOKEN_ADDRESS);
    assert_eq!(deployed["to"], Value::Null);
    assert_eq!(deployed["from"], dev(0));
    assert_eq!(deployed["blockNumber"], 1);
    assert_eq!(deployed["gasUsed"], 2_904_183);
    assert_eq!(deployed["intrinsicGas"], 2_795_092);
    assert_eq!(deployed["logs"], json!([]));

    let minted = mint(&url, &dev(0), "1000");
    assert_eq!(minted["status"], "success");
    assert_eq!(minted["blockNumber"], 2);
    assert_eq!(minted["to"], TOKEN_ADDRESS);
    assert_eq!(minted["gasUsed"], 85_536);
    assert_eq!(minted["intrinsicGas"], 21_584);
    let log = &minted["logs"][0];
    assert_eq!(log["address"], TOKEN_ADDRESS);
    assert_eq!(
        log["topics"],
        json!([TRANSFER_TOPIC, word("0x0"), word(&dev(0))])
    );
    assert_eq!(log["data"], format!("0x{:064x}", 1000));

    // Text output: aligned fields, the transfer's gas pinned.
    let out = tally(
        &url,
        &[
            "send",
            TOKEN_ADDRESS,
            "transfer(address,uint256)",
            &dev(1),
            "250",
            "--private-key",
            DEV_KEYS[0],
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no `{name}` in\n{text}"))
    };
    assert_eq!(field("status"), "success");
    assert_eq!(field("block"), "3");
    assert_eq!(field("gas used"), "68396 (intrinsic 21572)");
    assert_eq!(field("output"), format!("0x{:064x}", 1));
    assert_eq!(field("logs"), "1");
    assert!(text.contains(&format!("[0] {TOKEN_ADDRESS}")), "{text}");
    let transfer_hash = field("transaction");

    // Reads: decoded with the return types, raw without.
    let call = |args: &[&str]| {
        let mut all = vec!["call", TOKEN_ADDRESS];
        all.extend_from_slice(args);
        tally(&url, &all)
    };
    let out = call(&["balanceOf(address)(uint256)", &dev(1)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "250\n");
    let out = call(&["balanceOf(address)", &dev(0)]);
    assert_eq!(stdout(&out), format!("0x{:064x}\n", 750));
    let out = call(&["name()(string)"]);
    assert_eq!(stdout(&out), "\"Test Token\"\n");
    let v = ok_json(&call(&[
        "function balanceOf(address) view returns (uint256)",
        &dev(0),
        "--json",
    ]));
    assert_eq!(
        v,
        json!({ "output": format!("0x{:064x}", 750), "values": ["750"] })
    );
    let v = ok_json(&call(&["decimals()(uint8)", "--json"]));
    assert_eq!(v["values"], json!(["6"]));

    // The receipt of the transfer, read back.
    let r = ok_json(&tally(&url, &["receipt", &transfer_hash, "--json"]));
    assert_eq!(r["transactionHash"], transfer_hash);
    assert_eq!(r["status"], "success");
    assert_eq!(r["blockNumber"], 3);
    assert_eq!(r["from"], dev(0));
    assert_eq!(r["to"], TOKEN_ADDRESS);
    assert_eq!(r["gasUsed"], 68_396);
    assert_eq!(r["revertReason"], Value::Null);
    assert_eq!(r["logs"][0]["transactionHash"], transfer_hash);
    assert_eq!(r["logs"][0]["blockNumber"], 3);

    // Balances: the second account never paid a fee.
    let b = ok_json(&tally(&url, &["balance", &dev(1), "--json"]));
    assert_eq!(
        b,
        json!({ "address": dev(1), "wei": "10000000000000000000000", "ether": "10000" })
    );
    let out = tally(&url, &["balance", &dev(1)]);
    assert_eq!(stdout(&out), "10000000000000000000000 wei (10000 ether)\n");

    // Logs decoded with the event signature: the mint (from the zero address) and the transfer.
    let logs = ok_json(&tally(&url, &["logs", "--event", TRANSFER, "--json"]));
    let events: Vec<&Value> = logs
        .as_array()
        .expect("an array of logs")
        .iter()
        .map(|l| &l["event"])
        .collect();
    let zero = "0x0000000000000000000000000000000000000000";
    assert_eq!(
        events,
        [
            &json!({ "name": "Transfer", "args": { "from": zero, "to": dev(0), "value": "1000" } }),
            &json!({ "name": "Transfer", "args": { "from": dev(0), "to": dev(1), "value": "250" } }),
        ]
    );
    assert_eq!(logs[1]["blockNumber"], 3);
    // Topic filters: the recipient as topic 2, and a block range.
    let to_dev1 = ok_json(&tally(
        &url,
        &[
            "logs",
            "--event",
            TRANSFER,
            "--topic",
            "any",
            "--topic",
            &dev(1),
            "--json",
        ],
    ));
    assert_eq!(to_dev1.as_array().map(Vec::len), Some(1));
    let out = tally(
        &url,
        &[
            "logs",
            "--address",
            TOKEN_ADDRESS,
            "--from-block",
            "2",
            "--to-block",
            "2",
            "--event",
            TRANSFER,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("block 2  transaction 0x"), "{text}");
    assert!(
        text.contains(&format!(
            "Transfer(from: {zero}, to: {}, value: 1000)",
            dev(0)
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3, "{text}");
    node.stop();
}

#[test]
fn reverts_print_their_reason_and_exit_with_status_3() {
    let node = start_node(MiningMode::OnDemand);
    let url = node.url();
    deploy_token(&url);
    mint(&url, &dev(0), "100");
    let to = dev(1);
    let transfer = |extra: &[&str]| {
        let mut args = vec![
            "send",
            TOKEN_ADDRESS,
            "transfer(address,uint256)",
            &to,
            "101",
        ];
        args.extend_from_slice(extra);
        tally(&url, &args)
    };

    // The gas estimate reverts: nothing is sent.
    let out = transfer(&["--private-key", DEV_KEYS[0]]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: execution reverted: ERC20: transfer amount exceeds balance\n"
    );
    assert_eq!(stdout(&out), "");

    // With a gas limit the transaction is mined, and reverts.
    let out = transfer(&["--from", &dev(0), "--gas-limit", "100000", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).expect("the receipt as JSON");
    assert_eq!(r["status"], "reverted");
    assert_eq!(r["revertReason"], "ERC20: transfer amount exceeds balance");
    assert_eq!(r["blockNumber"], 3);
    assert_eq!(r["gasUsed"], 28_260);
    assert_eq!(r["intrinsicGas"], 21_572);
    assert_eq!(r["logs"], json!([]));

    // Only the owner mints.
    let out = tally(
        &url,
        &[
            "send",
            TOKEN_ADDRESS,
            "mint(address,uint256)",
            &dev(1),
            "1",
            "--from",
            &dev(1),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: execution reverted: Ownable: caller is not the owner\n"
    );

    // A transaction that runs out of gas fails (a trap, not a revert) and uses all its gas.
    let looping = ok_json(&tally(
        &url,
        &[
            "deploy",
            "contracts/build/hostile_loop.wasm",
            "--from",
            &dev(0),
            "--json",
        ],
    ));
    let looping = looping["contractAddress"].as_str().expect("an address");
    let out = tally(
        &url,
        &[
            "send",
            looping,
            "--from",
            &dev(0),
            "--gas-limit",
            "50000",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).expect("the receipt as JSON");
    assert_eq!(r["status"], "failed");
    assert_eq!(r["failure"], "Trap(OutOfGas)");
    assert_eq!(r["gasUsed"], 50_000);
    assert_eq!(r["revertReason"], Value::Null);

    // A read-only call that reverts.
    let out = tally(
        &url,
        &[
            "call",
            TOKEN_ADDRESS,
            "transfer(address,uint256)(bool)",
            &dev(1),
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "error: execution reverted: ERC20: transfer amount exceeds balance\n"
    );
    node.stop();
}

#[test]
fn bad_input_is_an_error_with_a_message() {
    let node = start_node(MiningMode::OnDemand);
    let url = node.url();
    let token = TOKEN_ADDRESS;
    let fails = |args: &[&str], message: &str| {
        let out = tally(&url, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("error: {message}")),
            "{args:?}: {err}"
        );
        assert_eq!(stdout(&out), "");
    };
    fails(
        &["call", token, "balanceOf(address", &dev(0)],
        "bad signature `balanceOf(address`:",
    );
    fails(
        &["call", token, "balanceOf(uint7)(uint256)", "1"],
        "bad signature `balanceOf(uint7)(uint256)`:",
    );
    fails(
        &["call", token, "balanceOf(address)(uint256)"],
        "balanceOf(address) takes 1 argument, 0 given",
    );
    fails(
        &[
            "send",
            token,
            "transfer(address,uint256)",
            &dev(1),
            "ten",
            "--from",
            &dev(0),
        ],
        "argument 2 (uint256): cannot read `ten`:",
    );
    fails(
        &["send", token, "0xzz", "--from", &dev(0)],
        "raw calldata is not valid:",
    );
    fails(
        &["send", token, "--value", "1 parsec", "--from", &dev(0)],
        "--value `1 parsec` is not valid:",
    );
    fails(
        &["deploy", TOKEN, "--private-key", "0x1234"],
        "--private-key is not valid: expected 32 bytes in hex",
    );
    fails(
        &[&DEPLOY_TOKEN[..], &["x"]].concat(),
        "constructor(string,string,uint8) takes 3 arguments, 1 given",
    );
    fails(
        &["deploy", "no/such.wasm", "--from", &dev(0)],
        "cannot read no/such.wasm:",
    );
    fails(
        &["receipt", &format!("0x{}", "ab".repeat(32))],
        "no receipt for 0xabab",
    );
    fails(
        &["logs", "--from-block", "soon"],
        "--from-block `soon` is not valid: expected a block number or tag",
    );
    // A JSON-RPC error: its method, message and code.
    fails(
        &["send", token, "--from", &dev(9), "--value", "100000ether"],
        "eth_sendTransaction: execution failed: invalid transaction: insufficient funds",
    );
    // No sender: a usage error from the argument parser (status 2).
    let out = tally(&url, &["send", token]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--from <ADDRESS>|--private-key <HEX>"),
        "{}",
        stderr(&out)
    );
    node.stop();
}

#[test]
fn an_unreachable_node_is_reported() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["balance", &dev(0), "--rpc-url", &url])
        .output()
        .expect("the tally binary runs");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: cannot reach the node at {url}:")),
        "{err}"
    );
}

#[test]
fn a_node_that_does_not_answer_times_out() {
    // Connections are queued by the kernel, never accepted, never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", silent.local_addr().expect("bound"));
    let out = tally(&url, &["balance", &dev(0), "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: the node at {url} did not answer within 1 s\n")
    );
}

#[test]
fn a_transaction_not_mined_in_time_is_reported() {
    let node = start_node(MiningMode::Manual);
    let out = tally(
        &node.url(),
        &[
            "send",
            &dev(1),
            "--value",
            "1",
            "--from",
            &dev(0),
            "--timeout",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: transaction 0x"), "{err}");
    assert!(err.ends_with(" was not mined within 1 s\n"), "{err}");
    node.stop();
}

#[test]
fn trace_prints_the_call_tree_with_each_frames_own_gas() {
    let node = start_node(MiningMode::OnDemand);
    let url = node.url();
    deploy_token(&url);
    let minted = mint(&url, &dev(1), "1000");
    let hash = minted["transactionHash"].as_str().unwrap();
    let out = tally(&url, &["trace", hash]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let first = text.lines().next().unwrap();
    // The mint's execution gas: its 85,536 less the 21,584 intrinsic.
    assert!(first.starts_with("[63952/"), "{text}");
    assert!(
        first.contains(&format!("CALL {} -> {TOKEN_ADDRESS}", dev(0))),
        "{text}"
    );
    assert!(first.ends_with(": success"), "{text}");
    assert!(text.contains("storage_write 2x"), "{text}");
    let json = ok_json(&tally(&url, &["trace", hash, "--json"]));
    assert_eq!(json["gasUsed"], json!("0xf9d0"));
    assert_eq!(json["calls"], json!([]));
    node.stop();
}
