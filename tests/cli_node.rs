//! `tally node` as a user runs it: the binary prints its banner with the address it bound,
//! serves JSON-RPC, and on SIGTERM or SIGINT stops cleanly with its database closed and its
//! blocks kept; with `--prune-history` older states are pruned.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;
use support::node::{addr, dev, rpc, rpc_error};

/// Starts `tally node` on a free port over `dir`, with `extra` arguments; returns the process
/// and its URL (read from the banner).
fn spawn(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["node", "--port", "0", "--log", "warn", "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if let Some(url) = line.strip_prefix("Listening on ") {
            assert!(banner.contains("Private keys"), "{banner}");
            assert!(banner.contains("Chain id:     31337"), "{banner}");
            // Keep reading whatever else it prints, as a terminal would.
            std::thread::spawn(move || lines.for_each(drop));
            return (child, url.to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no address in the banner:\n{banner}");
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_node_serves_and_stops_cleanly_on_sigterm_and_sigint() {
    let dir = std::env::temp_dir().join(format!("tally-cli-node-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, url) = spawn(&dir, &[]);
    assert_eq!(rpc(&url, "eth_chainId", json!([])), json!("0x7a69"));
    rpc(
        &url,
        "eth_sendTransaction",
        json!([{"from": addr(dev(0)), "to": addr(dev(1)), "value": "0x1"}]),
    );
    let head = rpc(&url, "eth_getBlockByNumber", json!(["latest", false]));
    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());

    // The database is whole and closed: a new process continues from the same block.
    let (mut child, url) = spawn(&dir, &[]);
    assert_eq!(
        rpc(&url, "eth_getBlockByNumber", json!(["latest", false])),
        head
    );
    signal(&child, "INT");
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn prune_history_keeps_only_the_last_states() {
    let dir = std::env::temp_dir().join(format!("tally-cli-prune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, url) = spawn(&dir, &["--prune-history", "2"]);
    for _ in 0..4 {
        rpc(
            &url,
            "eth_sendTransaction",
            json!([{"from": addr(dev(0)), "to": addr(dev(1)), "value": "0x1"}]),
        );
    }
    // Blocks 3 and 4 keep their states; block 2's is pruned, its block stays.
    let balance = |block: &str| json!([addr(dev(1)), block]);
    assert_eq!(
        rpc(&url, "eth_getBalance", balance("0x3")),
        json!("0x21e19e0c9bab2400003")
    );
    let error = rpc_error(&url, "eth_getBalance", balance("0x2"));
    assert_eq!(error["code"], json!(-32001), "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("state of block 2 was pruned"), "{message}");
    assert_eq!(
        rpc(&url, "eth_getBlockByNumber", json!(["0x2", false]))["number"],
        json!("0x2")
    );
    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());

    let refused = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["node", "--prune-history", "0"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
