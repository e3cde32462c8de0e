//! `tally node`'s development methods (anvil's names) and Tally's own methods over HTTP:
//! snapshots, state changes, impersonation, time, and gas breakdowns and call traces of mined
//! transactions.

mod support;

use serde_json::{json, Value};
use support::node::*;
use tally::chain::sequencer::MiningMode;
use tally_runtime::{H160, U256};

const COUNTER: &[u8] = include_bytes!("../contracts/build/counter.wasm");

#[test]
fn snapshots_revert_blocks_and_state_and_can_be_reverted_to_twice() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let bob = H160::repeat_byte(0xb0);
    rpc(&url, "anvil_setBalance", json!([addr(bob), "0x64"]));
    let id = rpc(&url, "evm_snapshot", json!([]));
    let head = rpc(&url, "eth_getBlockByNumber", json!(["latest", false]));
    for round in 0..2 {
        send(&url, &signed(0, 0, Some(bob), 1_000, vec![], 21_000));
        rpc(&url, "anvil_setBalance", json!([addr(dev(5)), "0x0"]));
        assert_eq!(rpc(&url, "eth_blockNumber", json!([])), json!("0x1"));
        assert_eq!(
            rpc(&url, "evm_revert", json!([id])),
            json!(true),
            "round {round}"
        );
        assert_eq!(
            rpc(&url, "eth_getBlockByNumber", json!(["latest", false])),
            head
        );
        // The change made before the snapshot is kept, the ones after are gone.
        assert_eq!(
            rpc(&url, "eth_getBalance", json!([addr(bob), "latest"])),
            json!("0x64")
        );
        let five = big(&rpc(
            &url,
            "eth_getBalance",
            json!([addr(dev(5)), "latest"]),
        ));
        assert_eq!(five, U256::from(10_000u64) * U256::exp10(18));
        assert_eq!(
            rpc(
                &url,
                "eth_getTransactionCount",
                json!([addr(dev(0)), "latest"])
            ),
            json!("0x0")
        );
    }
    assert_eq!(rpc(&url, "evm_revert", json!(["0x63"])), json!(false));
    node.stop();
}

#[test]
fn state_changes_show_at_once_and_are_mined_into_the_next_block() {
    let node = start(MiningMode::Manual);
    let url = node.url();
    let target = H160::repeat_byte(0x77);
    rpc(
        &url,
        "anvil_setBalance",
        json!([addr(target), "0xde0b6b3a7640000"]),
    );
    rpc(&url, "anvil_setNonce", json!([addr(target), "0x7"]));
    rpc(&url, "anvil_setCode", json!([addr(target), hex0x(COUNTER)]));
    let slot = format!("0x{}", "00".repeat(31) + "2a");
    let value = format!("0x{}", "11".repeat(32));
    rpc(
        &url,
        "anvil_setStorageAt",
        json!([addr(target), "0x2a", value]),
    );
    assert_eq!(
        rpc(&url, "eth_getBalance", json!([addr(target), "latest"])),
        json!("0xde0b6b3a7640000")
    );
    assert_eq!(
        rpc(
            &url,
            "eth_getTransactionCount",
            json!([addr(target), "latest"])
        ),
        json!("0x7")
    );
    assert_eq!(
        rpc(&url, "eth_getCode", json!([addr(target), "latest"])),
        json!(hex0x(COUNTER))
    );
    assert_eq!(
        rpc(
            &url,
            "eth_getStorageAt",
            json!([addr(target), slot, "latest"])
        ),
        json!(value)
    );
    // Proofs are of mined state: the account does not exist in block 0.
    let proof = rpc(&url, "eth_getProof", json!([addr(target), [], "latest"]));
    assert_eq!(proof["nonce"], json!("0x0"));
    rpc(&url, "evm_mine", json!([]));
    let proof = rpc(
        &url,
        "eth_getProof",
        json!([addr(target), [slot.clone()], "latest"]),
    );
    assert_eq!(proof["nonce"], json!("0x7"));
    assert_eq!(
        proof["storageProof"][0]["value"],
        json!(format!("0x{}", "11".repeat(32)))
    );
    // Invalid code is refused with the validator's reason.
    let error = rpc_error(&url, "anvil_setCode", json!([addr(target), "0x0061736d"]));
    assert_eq!(error["code"], json!(-32602));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("not a valid contract module"),
        "{error}"
    );
    node.stop();
}

#[test]
fn an_impersonated_account_sends_without_a_key() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let whale = H160::repeat_byte(0x3a);
    rpc(
        &url,
        "anvil_setBalance",
        json!([addr(whale), "0xde0b6b3a7640000"]),
    );
    let request = json!([{"from": addr(whale), "to": addr(dev(1)), "value": "0x5"}]);
    assert_eq!(
        rpc_error(&url, "eth_sendTransaction", request.clone())["code"],
        json!(-32003)
    );
    rpc(&url, "anvil_impersonateAccount", json!([addr(whale)]));
    let hash = rpc(&url, "eth_sendTransaction", request.clone());
    let receipt = rpc(&url, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["from"], json!(addr(whale)));
    let tx = rpc(&url, "eth_getTransactionByHash", json!([hash]));
    assert_eq!(tx["from"], json!(addr(whale)));
    let block = rpc(&url, "eth_getBlockByNumber", json!(["latest", true]));
    assert_eq!(block["transactions"][0]["hash"], hash);
    assert_eq!(
        rpc(
            &url,
            "eth_getTransactionCount",
            json!([addr(whale), "latest"])
        ),
        json!("0x1")
    );
    rpc(&url, "anvil_stopImpersonatingAccount", json!([addr(whale)]));
    assert_eq!(
        rpc_error(&url, "eth_sendTransaction", request)["code"],
        json!(-32003)
    );
    node.stop();
}

#[test]
fn time_moves_forward_on_request() {
    let node = start(MiningMode::Manual);
    let url = node.url();
    rpc(&url, "evm_mine", json!([]));
    let before =
        quantity(&rpc(&url, "eth_getBlockByNumber", json!(["latest", false]))["timestamp"]);
    let offset = rpc(&url, "evm_increaseTime", json!(["0x15180"]));
    assert_eq!(offset, json!(86_400));
    rpc(&url, "evm_mine", json!([]));
    let after = quantity(&rpc(&url, "eth_getBlockByNumber", json!(["latest", false]))["timestamp"]);
    assert!(after >= before + 86_400, "{before} -> {after}");
    node.stop();
}

/// The sum of a breakdown: instantiation, instructions and every host function.
fn breakdown_total(b: &Value) -> u64 {
    let host: u64 = b["host"]
        .as_object()
        .unwrap()
        .values()
        .map(|h| h["gas"].as_u64().unwrap())
        .sum();
    b["instantiation"].as_u64().unwrap() + b["instructions"].as_u64().unwrap() + host
}

#[test]
fn gas_breakdowns_and_call_traces_of_mined_transactions() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let token = deploy_token(&url, 1_000);
    let transfer = calldata(
        "transfer(address,uint256)",
        &[word_address(dev(1)), word(10)],
    );
    let hash = send(&url, &signed(0, 2, Some(token), 0, transfer, 200_000));
    let receipt = rpc(&url, "eth_getTransactionReceipt", json!([hash]));
    let used = quantity(&receipt["gasUsed"]);
    assert_eq!(used, 68_396);

    let gas = rpc(&url, "tally_gasBreakdown", json!([hash]));
    assert_eq!(gas["gasUsed"], json!(used));
    assert_eq!(gas["intrinsic"], json!(quantity(&receipt["intrinsicGas"])));
    assert_eq!(
        gas["intrinsic"].as_u64().unwrap() + breakdown_total(&gas["execution"]),
        used
    );
    let host = gas["execution"]["host"].as_object().unwrap();
    assert!(
        host.contains_key("storage_write") && host.contains_key("emit_log"),
        "{gas}"
    );

    let trace = rpc(&url, "tally_traceTransaction", json!([hash]));
    assert_eq!(trace["kind"], json!("CALL"));
    assert_eq!(trace["to"], json!(addr(token)));
    assert_eq!(trace["status"], json!("success"));
    assert_eq!(trace["calls"], json!([]));
    assert_eq!(trace["logs"], json!(1));
    assert_eq!(
        quantity(&trace["gasUsed"]) + gas["intrinsic"].as_u64().unwrap(),
        used
    );
    assert_eq!(breakdown_total(&trace["gas"]), quantity(&trace["gasUsed"]));

    // A reverted transfer: the frame carries the decoded reason.
    let too_much = calldata(
        "transfer(address,uint256)",
        &[word_address(dev(1)), word(1_000_000)],
    );
    let hash = send(&url, &signed(0, 3, Some(token), 0, too_much, 200_000));
    let trace = rpc(&url, "tally_traceTransaction", json!([hash]));
    assert_eq!(trace["status"], json!("revert"));
    assert_eq!(
        trace["reason"],
        json!("ERC20: transfer amount exceeds balance")
    );
    let missing = format!("0x{}", "ab".repeat(32));
    assert_eq!(
        rpc_error(&url, "tally_traceTransaction", json!([missing]))["code"],
        json!(-32001)
    );
    node.stop();
}
