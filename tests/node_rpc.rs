//! `tally node` over HTTP: the Ethereum JSON-RPC methods with their encodings, driven the way
//! a client drives them (signed raw transactions, receipts, logs, calls, estimates, proofs).

mod support;

use serde_json::json;
use support::node::*;
use support::TRANSFER_GAS;
use tally::chain::sequencer::MiningMode;
use tally_runtime::state::Account;
use tally_runtime::trie::{keccak256, verify_secure_proof};
use tally_runtime::{H160, H256, U256};

#[test]
fn identity_and_genesis() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    assert_eq!(rpc(&url, "eth_chainId", json!([])), json!("0x7a69"));
    assert_eq!(rpc(&url, "net_version", json!([])), json!("31337"));
    let version = rpc(&url, "web3_clientVersion", json!([]));
    assert!(
        version.as_str().unwrap().starts_with("tally/v"),
        "{version}"
    );
    assert_eq!(rpc(&url, "eth_blockNumber", json!([])), json!("0x0"));
    assert_eq!(rpc(&url, "eth_syncing", json!([])), json!(false));
    let accounts = rpc(&url, "eth_accounts", json!([]));
    assert_eq!(accounts.as_array().unwrap().len(), 10);
    let genesis = rpc(&url, "eth_getBlockByNumber", json!(["earliest", false]));
    assert_eq!(genesis["number"], json!("0x0"));
    assert_eq!(genesis["transactions"], json!([]));
    assert_eq!(genesis["baseFeePerGas"], json!("0x3b9aca00"));
    // The dev genesis: 10^10 gas, about a second of worst-case work (docs/gas.md).
    assert_eq!(genesis["gasLimit"], json!("0x2540be400"));
    let by_hash = rpc(&url, "eth_getBlockByHash", json!([genesis["hash"], false]));
    assert_eq!(by_hash, genesis);
    assert_eq!(
        rpc(&url, "eth_getBlockByNumber", json!(["0x5", false])),
        json!(null)
    );
    let balance = big(&rpc(
        &url,
        "eth_getBalance",
        json!([addr(dev(3)), "latest"]),
    ));
    assert_eq!(balance, U256::from(10_000u64) * U256::exp10(18));
    assert_eq!(
        rpc(&url, "eth_maxPriorityFeePerGas", json!([])),
        json!("0x3b9aca00")
    );
    // The next base fee (unchanged after an empty genesis: 1 gwei less 12.5%) plus the tip.
    assert_eq!(
        quantity(&rpc(&url, "eth_gasPrice", json!([]))),
        875_000_000 + 1_000_000_000
    );
    node.stop();
}

#[test]
fn a_value_transfer_reads_back_through_every_method() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let bob = H160::repeat_byte(0xb0);
    let tx = signed(0, 0, Some(bob), 12_345, vec![], TRANSFER_GAS);
    let hash = send(&url, &tx);
    assert_eq!(rpc(&url, "eth_blockNumber", json!([])), json!("0x1"));

    let receipt = rpc(&url, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["type"], json!("0x2"));
    assert_eq!(receipt["gasUsed"], json!("0x1e8220"));
    assert_eq!(receipt["cumulativeGasUsed"], json!("0x1e8220"));
    assert_eq!(receipt["blockNumber"], json!("0x1"));
    assert_eq!(receipt["transactionIndex"], json!("0x0"));
    assert_eq!(receipt["from"], json!(addr(dev(0))));
    assert_eq!(receipt["to"], json!(addr(bob)));
    assert_eq!(receipt["contractAddress"], json!(null));
    assert_eq!(receipt["intrinsicGas"], json!("0x1e8220"));
    // Base fee of block 1: 1 gwei less 12.5% (genesis used no gas); tip 1 gwei.
    assert_eq!(
        quantity(&receipt["effectiveGasPrice"]),
        875_000_000 + 1_000_000_000
    );

    let got = rpc(&url, "eth_getTransactionByHash", json!([hash]));
    assert_eq!(got["hash"], json!(hash));
    assert_eq!(got["from"], json!(addr(dev(0))));
    assert_eq!(got["value"], json!("0x3039"));
    assert_eq!(got["nonce"], json!("0x0"));
    assert_eq!(got["blockHash"], receipt["blockHash"]);
    assert_eq!(got["r"], json!(format!("{:#x}", tx.r())));

    let block = rpc(&url, "eth_getBlockByNumber", json!(["latest", true]));
    assert_eq!(block["hash"], receipt["blockHash"]);
    assert_eq!(block["transactions"][0]["hash"], json!(hash));
    let hashes = rpc(&url, "eth_getBlockByNumber", json!(["0x1", false]));
    assert_eq!(hashes["transactions"], json!([hash]));

    assert_eq!(
        big(&rpc(&url, "eth_getBalance", json!([addr(bob), "latest"]))),
        U256::from(12_345)
    );
    assert_eq!(
        big(&rpc(&url, "eth_getBalance", json!([addr(bob), "0x0"]))),
        U256::zero()
    );
    let fee = U256::from(TRANSFER_GAS * 1_875_000_000);
    let start = U256::from(10_000u64) * U256::exp10(18);
    assert_eq!(
        big(&rpc(
            &url,
            "eth_getBalance",
            json!([addr(dev(0)), "latest"])
        )),
        start - fee - U256::from(12_345)
    );
    assert_eq!(
        rpc(
            &url,
            "eth_getTransactionCount",
            json!([addr(dev(0)), "latest"])
        ),
        json!("0x1")
    );
    assert_eq!(
        rpc(
            &url,
            "eth_getTransactionCount",
            json!([addr(dev(0)), "earliest"])
        ),
        json!("0x0")
    );
    assert_eq!(
        rpc(
            &url,
            "eth_getTransactionReceipt",
            json!([format!("{:?}", H256::zero())])
        ),
        json!(null)
    );
    node.stop();
}

#[test]
fn pending_transactions_are_visible_before_they_are_mined() {
    let node = start(MiningMode::Manual);
    let url = node.url();
    let tx = signed(0, 0, Some(dev(1)), 1, vec![], TRANSFER_GAS);
    let hash = send(&url, &tx);
    let pending = rpc(&url, "eth_getTransactionByHash", json!([hash]));
    assert_eq!(pending["blockNumber"], json!(null));
    assert_eq!(
        rpc(&url, "eth_getTransactionReceipt", json!([hash])),
        json!(null)
    );
    assert_eq!(
        rpc(
            &url,
            "eth_getTransactionCount",
            json!([addr(dev(0)), "pending"])
        ),
        json!("0x1")
    );
    assert_eq!(
        rpc(
            &url,
            "eth_getTransactionCount",
            json!([addr(dev(0)), "latest"])
        ),
        json!("0x0")
    );
    assert_eq!(rpc(&url, "evm_mine", json!([])), json!("0x0"));
    assert_eq!(
        rpc(&url, "eth_getTransactionReceipt", json!([hash]))["status"],
        json!("0x1")
    );
    rpc(&url, "anvil_mine", json!(["0x3", "0xa"]));
    assert_eq!(rpc(&url, "eth_blockNumber", json!([])), json!("0x4"));
    let b3 = rpc(&url, "eth_getBlockByNumber", json!(["0x3", false]));
    let b4 = rpc(&url, "eth_getBlockByNumber", json!(["0x4", false]));
    assert_eq!(quantity(&b4["timestamp"]) - quantity(&b3["timestamp"]), 10);
    rpc(
        &url,
        "evm_setNextBlockTimestamp",
        json!([quantity(&b4["timestamp"]) + 1000]),
    );
    rpc(&url, "evm_mine", json!([]));
    let b5 = rpc(&url, "eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(
        quantity(&b5["timestamp"]),
        quantity(&b4["timestamp"]) + 1000
    );
    node.stop();
}

#[test]
fn token_calls_events_estimates_and_reverts() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let token = deploy_token(&url, 1_000_000);
    let code = rpc(&url, "eth_getCode", json!([addr(token), "latest"]));
    assert_eq!(code, json!(hex0x(TOKEN)));

    let bob = H160::repeat_byte(0xb0);
    let balance_of = |who: H160| {
        let data = calldata("balanceOf(address)", &[word_address(who)]);
        let out = rpc(
            &url,
            "eth_call",
            json!([{"to": addr(token), "data": hex0x(&data)}, "latest"]),
        );
        big(&out)
    };
    assert_eq!(balance_of(dev(0)), U256::from(1_000_000));

    // The estimate is the least gas that succeeds: one less fails.
    let transfer = calldata("transfer(address,uint256)", &[word_address(bob), word(250)]);
    let request = json!({"from": addr(dev(0)), "to": addr(token), "data": hex0x(&transfer)});
    let estimate = quantity(&rpc(&url, "eth_estimateGas", json!([request])));
    // A transfer to a new holder (also pinned in tests/examples.rs).
    assert_eq!(estimate, 4_630_454);
    let low = signed(0, 2, Some(token), 0, transfer.clone(), estimate - 1);
    let low_receipt = rpc(&url, "eth_getTransactionReceipt", json!([send(&url, &low)]));
    assert_eq!(low_receipt["status"], json!("0x0"));
    assert!(
        low_receipt["failure"]
            .as_str()
            .unwrap()
            .contains("OutOfGas"),
        "{low_receipt}"
    );
    let ok = signed(0, 3, Some(token), 0, transfer, estimate);
    let hash = send(&url, &ok);
    let receipt = rpc(&url, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(quantity(&receipt["gasUsed"]), 4_630_454);
    assert_eq!(balance_of(bob), U256::from(250));

    // The Transfer event, in the receipt and through eth_getLogs filters.
    let topic0 = format!(
        "0x{}",
        hex::encode(keccak256(b"Transfer(address,address,uint256)"))
    );
    let log = &receipt["logs"][0];
    assert_eq!(log["address"], json!(addr(token)));
    assert_eq!(log["topics"][0], json!(topic0));
    assert_eq!(log["topics"][2], json!(hex0x(&word_address(bob))));
    assert_eq!(log["data"], json!(hex0x(&word(250))));
    assert_eq!(log["transactionHash"], json!(hash));
    let all = rpc(
        &url,
        "eth_getLogs",
        json!([{"fromBlock": "earliest", "address": addr(token)}]),
    );
    // The mint (block 2) and the transfer; the failed transfer logged nothing.
    assert_eq!(all.as_array().unwrap().len(), 2);
    let to_bob = rpc(
        &url,
        "eth_getLogs",
        json!([{
            "fromBlock": "0x0", "toBlock": "latest",
            "topics": [topic0, null, hex0x(&word_address(bob))]
        }]),
    );
    assert_eq!(to_bob.as_array().unwrap().len(), 1);
    assert_eq!(to_bob[0]["blockNumber"], receipt["blockNumber"]);
    let by_hash = rpc(
        &url,
        "eth_getLogs",
        json!([{"blockHash": receipt["blockHash"]}]),
    );
    assert_eq!(by_hash.as_array().unwrap().len(), 1);
    let elsewhere = rpc(
        &url,
        "eth_getLogs",
        json!([{"address": addr(H160::repeat_byte(1)), "fromBlock": "0x0"}]),
    );
    assert_eq!(elsewhere, json!([]));

    // A reverting call: code 3, the revert data, and the reason in the message.
    let too_much = calldata(
        "transfer(address,uint256)",
        &[word_address(bob), word(10_000_000)],
    );
    let error = rpc_error(
        &url,
        "eth_call",
        json!([{"from": addr(dev(0)), "to": addr(token), "data": hex0x(&too_much)}]),
    );
    assert_eq!(error["code"], json!(3));
    assert_eq!(
        error["message"],
        json!("execution reverted: ERC20: transfer amount exceeds balance")
    );
    assert!(error["data"].as_str().unwrap().starts_with("0x08c379a0"));
    let error = rpc_error(
        &url,
        "eth_estimateGas",
        json!([{"from": addr(dev(0)), "to": addr(token), "data": hex0x(&too_much)}]),
    );
    assert_eq!(error["code"], json!(3));
    node.stop();
}

#[test]
fn proofs_verify_against_the_block_state_root() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let token = deploy_token(&url, 777);
    let head = rpc(&url, "eth_getBlockByNumber", json!(["latest", false]));
    let state_root = H256::from_slice(
        &hex::decode(head["stateRoot"].as_str().unwrap().trim_start_matches("0x")).unwrap(),
    );
    let nodes = |v: &serde_json::Value| -> Vec<Vec<u8>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| hex::decode(n.as_str().unwrap().trim_start_matches("0x")).unwrap())
            .collect()
    };
    // Slot 2 holds the total supply (the token's layout is Solidity's); slot 1 is the empty
    // base of the allowances mapping: one present and one absent key.
    let proof = rpc(
        &url,
        "eth_getProof",
        json!([addr(token), ["0x2", "0x1"], "latest"]),
    );
    assert_eq!(big(&proof["storageProof"][0]["value"]), U256::from(777));
    assert_eq!(big(&proof["storageProof"][1]["value"]), U256::zero());
    let account = verify_secure_proof(&state_root.0, &token.0, &nodes(&proof["accountProof"]))
        .unwrap()
        .expect("account present");
    let account = Account::decode(&account).unwrap();
    assert_eq!(account.nonce, quantity(&proof["nonce"]));
    assert_eq!(
        format!("{:?}", account.storage_root),
        proof["storageHash"].as_str().unwrap()
    );
    assert_eq!(
        format!("{:?}", account.code_hash),
        format!("0x{}", hex::encode(keccak256(TOKEN)))
    );
    for slot in proof["storageProof"].as_array().unwrap() {
        let key = U256::from_str_radix(slot["key"].as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap()
            .to_big_endian();
        let value =
            verify_secure_proof(&account.storage_root.0, &key, &nodes(&slot["proof"])).unwrap();
        let expected = big(&slot["value"]);
        match value {
            Some(rlp) => assert_eq!(
                tally_runtime::state::decode_storage_value(&rlp).unwrap(),
                H256(expected.to_big_endian())
            ),
            None => assert!(expected.is_zero()),
        }
        let direct = rpc(
            &url,
            "eth_getStorageAt",
            json!([addr(token), slot["key"], "latest"]),
        );
        assert_eq!(big(&direct), expected);
    }
    // An absent account proves absent.
    let nobody = H160::repeat_byte(0x99);
    let proof = rpc(&url, "eth_getProof", json!([addr(nobody), [], "latest"]));
    assert_eq!(
        verify_secure_proof(&state_root.0, &nobody.0, &nodes(&proof["accountProof"])).unwrap(),
        None
    );
    assert_eq!(proof["balance"], json!("0x0"));
    // Proofs of an older block verify against that block's root.
    let old = rpc(&url, "eth_getBlockByNumber", json!(["0x1", false]));
    let old_root = H256::from_slice(
        &hex::decode(old["stateRoot"].as_str().unwrap().trim_start_matches("0x")).unwrap(),
    );
    let proof = rpc(&url, "eth_getProof", json!([addr(dev(0)), [], "0x1"]));
    let account = verify_secure_proof(&old_root.0, &dev(0).0, &nodes(&proof["accountProof"]))
        .unwrap()
        .unwrap();
    assert_eq!(Account::decode(&account).unwrap().nonce, 1);
    node.stop();
}

#[test]
fn fee_history_follows_the_base_fee_rule() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    for nonce in 0..3 {
        send(
            &url,
            &signed(0, nonce, Some(dev(1)), 1, vec![], TRANSFER_GAS),
        );
    }
    let history = rpc(
        &url,
        "eth_feeHistory",
        json!(["0x3", "latest", [10.0, 90.0]]),
    );
    assert_eq!(history["oldestBlock"], json!("0x1"));
    let fees: Vec<u64> = history["baseFeePerGas"]
        .as_array()
        .unwrap()
        .iter()
        .map(quantity)
        .collect();
    assert_eq!(fees.len(), 4);
    for pair in fees.windows(2) {
        // Each block used a transfer's gas of a 5 * 10^9 target: the fee falls by almost 12.5%.
        let target = 5_000_000_000;
        let expected = pair[0] - pair[0] / 8 * (target - TRANSFER_GAS) / target;
        assert!(pair[1].abs_diff(expected) <= 1, "{fees:?}");
    }
    let rewards = history["reward"].as_array().unwrap();
    assert_eq!(rewards.len(), 3);
    assert_eq!(rewards[0], json!(["0x3b9aca00", "0x3b9aca00"]));
    let error = rpc_error(
        &url,
        "eth_feeHistory",
        json!(["0x1", "latest", [50.0, 10.0]]),
    );
    assert_eq!(error["code"], json!(-32602));
    node.stop();
}

#[test]
fn send_transaction_signs_for_development_accounts_only() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let hash = rpc(
        &url,
        "eth_sendTransaction",
        json!([{"from": addr(dev(2)), "to": addr(dev(3)), "value": "0x64"}]),
    );
    let receipt = rpc(&url, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["gasUsed"], json!("0x1e8220"));
    let stranger = H160::repeat_byte(0x42);
    let error = rpc_error(
        &url,
        "eth_sendTransaction",
        json!([{"from": addr(stranger), "to": addr(dev(3))}]),
    );
    assert_eq!(error["code"], json!(-32003));
    assert!(
        error["message"].as_str().unwrap().contains("no key"),
        "{error}"
    );
    node.stop();
}

#[test]
fn gas_schedule_is_served() {
    let node = start(MiningMode::OnDemand);
    let schedule = rpc(&node.url(), "tally_gasSchedule", json!([]));
    assert_eq!(
        schedule["runtime"]["transaction"],
        json!(TRANSFER_GAS),
        "{schedule}"
    );
    assert!(schedule["vm"].is_object());
    node.stop();
}

/// Returns the timestamp and number of the block it runs in (8 bytes each, little-endian);
/// reverts before 3,000,000,000 seconds (in 2065), so it only succeeds in a block timed by the
/// development methods.
const BLOCK_CLOCK: &str = r#"(module
    (import "tally" "block_timestamp" (func $timestamp (result i64)))
    (import "tally" "block_number" (func $number (result i64)))
    (import "tally" "set_return" (func $set_return (param i32 i32)))
    (import "tally" "revert" (func $revert (param i32 i32)))
    (memory (export "memory") 1)
    (func (export "call")
        (if (i64.lt_u (call $timestamp) (i64.const 3000000000))
            (then (call $revert (i32.const 0) (i32.const 0))))
        (i64.store (i32.const 0) (call $timestamp))
        (i64.store (i32.const 8) (call $number))
        (call $set_return (i32.const 0) (i32.const 16))))"#;

/// `eth_call` and `eth_estimateGas` run in the block the chain would mine next: its number,
/// and its timestamp as the development methods set it, not the system clock's.
#[test]
fn calls_and_estimates_run_at_the_next_blocks_time() {
    let node = start(MiningMode::OnDemand);
    let url = node.url();
    let clock = H160::repeat_byte(0xc1);
    let code = wat::parse_str(BLOCK_CLOCK).unwrap();
    rpc(&url, "anvil_setCode", json!([addr(clock), hex0x(&code)]));
    rpc(&url, "evm_mine", json!([]));
    let request = json!({"to": addr(clock)});
    let block_seen = || -> (u64, u64) {
        let out = rpc(&url, "eth_call", json!([request, "latest"]));
        let bytes = hex::decode(out.as_str().unwrap().trim_start_matches("0x")).unwrap();
        assert_eq!(bytes.len(), 16, "{out}");
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        (word(0), word(8))
    };

    // At the system clock's time, it reverts.
    assert_eq!(
        rpc_error(&url, "eth_call", json!([request, "latest"]))["code"],
        json!(3)
    );
    assert_eq!(
        rpc_error(&url, "eth_estimateGas", json!([request]))["code"],
        json!(3)
    );

    // At the timestamp set for the next block, both succeed; the call sees that timestamp and
    // the number after the head's.
    let future = 4_000_000_000u64;
    rpc(
        &url,
        "evm_setNextBlockTimestamp",
        json!([format!("{future:#x}")]),
    );
    let head = quantity(&rpc(&url, "eth_blockNumber", json!([])));
    assert_eq!(head, 1);
    assert_eq!(block_seen(), (future, head + 1));
    assert!(quantity(&rpc(&url, "eth_estimateGas", json!([request]))) > 0);
    // The call changed nothing: the block mined next has that timestamp.
    rpc(&url, "evm_mine", json!([]));
    let mined = rpc(&url, "eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(quantity(&mined["timestamp"]), future);

    // Later blocks continue from it, and a time increase moves them further.
    let (timestamp, number) = block_seen();
    assert_eq!(number, 3);
    assert!(
        (future + 1..future + 60).contains(&timestamp),
        "{timestamp}"
    );
    rpc(&url, "evm_increaseTime", json!(["0x3b9aca00"]));
    let (timestamp, number) = block_seen();
    assert_eq!(number, 3);
    assert!(
        (future + 1_000_000_000..future + 1_000_000_060).contains(&timestamp),
        "{timestamp}"
    );
    node.stop();
}
