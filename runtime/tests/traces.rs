//! Call traces: the frame tree of nested calls and creations with the example contracts and the
//! probe, failed frames kept and marked, per-frame gas consistent with the receipt, pinned
//! figures, rendering, and nothing recorded (or charged) differently when tracing is off.

mod support;

use support::*;
use tally_runtime::exec::{create_address, CallKind, CallTrace, Failure, Receipt, Runtime, Status};
use tally_runtime::trie::{keccak256, MemoryStore};
use tally_runtime::tx::DeployPayload;
use tally_runtime::{H160, U256};
use tally_vm::{GasBreakdown, HostFn};

const FUNDS: u64 = 1_000_000_000_000_000;
const DEPLOYER: H160 = H160([0xd0; 20]);
const ALICE: H160 = H160([0xa1; 20]);

fn traced() -> Runtime<MemoryStore> {
    let mut rt = runtime(&[(DEPLOYER, FUNDS), (ALICE, FUNDS)]);
    rt.set_trace(true);
    rt
}

fn deploy(rt: &mut Runtime<MemoryStore>, nonce: u64, name: &str, ctor: &[u8]) -> H160 {
    let data = DeployPayload::encode(&artifact(name), ctor);
    let r = rt
        .transact(
            &mut block(1),
            DEPLOYER,
            &tx(nonce, None, 0, data, 1_000_000_000),
        )
        .unwrap();
    assert_eq!(r.status, Status::Success, "deploying {name}: {r:?}");
    r.contract_address.unwrap()
}

fn total(gas: &GasBreakdown) -> u64 {
    gas.instantiation + gas.instructions + gas.host.values().map(|h| h.gas).sum::<u64>()
}

/// Every frame's own gas plus its children's is its gas used, within its limit; the top frame
/// and the intrinsic gas make the receipt's.
fn check_gas(receipt: &Receipt) -> &CallTrace {
    let trace = receipt.trace.as_ref().expect("traced");
    assert_eq!(receipt.gas_used, receipt.gas.intrinsic + trace.gas_used);
    for (depth, frame) in trace.frames() {
        let children: u64 = frame.children.iter().map(|c| c.gas_used).sum();
        let own = frame.gas.as_ref().map_or(0, total);
        assert_eq!(own + children, frame.gas_used, "frame at depth {depth}");
        assert_eq!(own, frame.own_gas_used());
        assert!(frame.gas_used <= frame.gas_limit);
    }
    trace
}

/// Token and vault deployed, ALICE holding 500 tokens: returns (runtime, token, vault).
fn token_and_vault() -> (Runtime<MemoryStore>, H160, H160) {
    let mut rt = traced();
    let token = deploy(&mut rt, 0, "token", &[]);
    let mut ctor = address_word(token).to_vec();
    ctor.extend_from_slice(&amount_word(10));
    let vault = deploy(&mut rt, 1, "vault", &ctor);
    let mint = calldata(
        "mint(address,uint256)",
        &[address_word(ALICE), amount_word(500)],
    );
    assert!(send(&mut rt, DEPLOYER, 2, token, 0, mint)
        .status
        .is_success());
    (rt, token, vault)
}

#[test]
fn a_nested_call_is_a_child_frame_with_its_own_gas() {
    let (mut rt, token, vault) = token_and_vault();
    let approve = calldata(
        "approve(address,uint256)",
        &[address_word(vault), amount_word(200)],
    );
    assert!(send(&mut rt, ALICE, 0, token, 0, approve)
        .status
        .is_success());
    let deposit = calldata("deposit(uint256)", &[amount_word(200)]);
    let r = send(&mut rt, ALICE, 1, vault, 0, deposit.clone());
    assert_eq!(r.status, Status::Success, "{r:?}");
    let root = check_gas(&r);
    assert_eq!(
        (root.kind, root.caller, root.address),
        (CallKind::Call, ALICE, vault)
    );
    assert_eq!(root.input, deposit);
    assert_eq!(root.gas_limit, TX_GAS - r.gas.intrinsic);
    assert_eq!(root.children.len(), 1);
    let pull = &root.children[0];
    assert_eq!((pull.caller, pull.address), (vault, token));
    assert_eq!(
        pull.selector(),
        Some(
            keccak256(b"transferFrom(address,address,uint256)")[..4]
                .try_into()
                .unwrap()
        )
    );
    assert_eq!(pull.status, Status::Success);
    assert_eq!(pull.output, amount_word(1), "transferFrom returned true");
    // Each frame holds the log it emitted; the receipt has both, in order.
    assert_eq!(pull.logs.len(), 1);
    assert_eq!(root.logs.len(), 1);
    assert_eq!(r.logs, [pull.logs[0].clone(), root.logs[0].clone()]);
    // The top frame's `call` entry paid the child: the receipt's breakdown has it, the
    // trace's own gas does not.
    let receipt_call = r.gas.execution.as_ref().unwrap().host[&HostFn::Call];
    let own_call = root.gas.as_ref().unwrap().host[&HostFn::Call];
    assert_eq!(receipt_call.gas, own_call.gas + pull.gas_used);
    assert_eq!((own_call.calls, receipt_call.calls), (1, 1));
    // Pinned figures.
    assert_eq!(
        (r.gas_used, root.gas_used, pull.gas_used, pull.gas_limit),
        (9_124_216, 7_119_993, 3_708_250, 1_965_612_150)
    );
}

#[test]
fn a_reverted_call_renders_with_its_decoded_reason() {
    let (mut rt, token, vault) = token_and_vault();
    // No allowance: the token reverts, so does the vault.
    let deposit = calldata("deposit(uint256)", &[amount_word(200)]);
    let r = send(&mut rt, ALICE, 0, vault, 0, deposit);
    assert_eq!(r.status, Status::Revert);
    let root = check_gas(&r);
    assert_eq!(
        root.revert_reason().as_deref(),
        Some("Vault: token transfer failed")
    );
    assert_eq!(root.children[0].status, Status::Revert);
    assert!(r.logs.is_empty());
    assert_eq!(
        root.children[0].revert_reason().as_deref(),
        Some("ERC20: insufficient allowance")
    );
    assert_eq!((root.gas_used, root.gas_limit), (2_323_497, 1_997_995_777));
    assert_eq!(
        (root.children[0].gas_used, root.children[0].gas_limit),
        (1_102_413, 1_965_612_150)
    );
    let expected = format!(
        "call {vault:?} 0xb6b55f25 gas 2323497/1997995777 revert: \
         Error(\"Vault: token transfer failed\")\n  \
         call {token:?} 0x23b872dd gas 1102413/1965612150 revert: \
         Error(\"ERC20: insufficient allowance\")"
    );
    assert_eq!(root.to_string(), expected);
}

#[test]
fn a_reverted_inner_call_stays_in_the_trace_of_a_successful_outer_one() {
    let mut rt = traced();
    let p0 = deploy_probe(&mut rt, ALICE, 0);
    let p1 = deploy_probe(&mut rt, ALICE, 1);
    let inner = Script::new().sstore(1, 1).log(7).revert();
    let outer = Script::new()
        .call(p1, 0, u64::MAX, &inner)
        .sstore(2, 1)
        .log(8);
    let r = send(&mut rt, ALICE, 2, p0, 0, outer.bytes());
    assert_eq!(r.status, Status::Success);
    let root = check_gas(&r);
    let child = &root.children[0];
    assert_eq!((child.address, child.status.clone()), (p1, Status::Revert));
    assert_eq!(child.input, inner.bytes());
    // The child's log is in its frame, not in the receipt: it was rolled back.
    assert_eq!(child.logs[0].topics, [word(7)]);
    assert_eq!(r.logs.len(), 1);
    assert_eq!(r.logs[0].topics, [word(8)]);
    assert_eq!((root.gas_used, child.gas_used), (3_787_982, 1_801_083));
}

#[test]
fn a_creation_is_a_create_frame_at_the_created_address() {
    let mut rt = traced();
    let factory = deploy(&mut rt, 0, "factory", &[]);
    let r = send(
        &mut rt,
        ALICE,
        0,
        factory,
        0,
        calldata("create(uint256)", &[amount_word(7)]),
    );
    assert_eq!(r.status, Status::Success, "{r:?}");
    let root = check_gas(&r);
    let child = &root.children[0];
    assert_eq!(child.kind, CallKind::Create);
    assert_eq!(
        (child.caller, child.address),
        (factory, create_address(&factory, 1))
    );
    assert_eq!(child.input, amount_word(7), "the constructor input");
    assert_eq!(child.selector(), None);
    assert!(child.children.is_empty());
    let own_create = root.gas.as_ref().unwrap().host[&HostFn::Create];
    let receipt_create = r.gas.execution.as_ref().unwrap().host[&HostFn::Create];
    assert_eq!(receipt_create.gas, own_create.gas + child.gas_used);
    assert_eq!(
        (r.gas_used, root.gas_used, child.gas_used),
        (157_949_062, 155_944_898, 1_293_717)
    );

    // A creating transaction is a create frame at the top.
    let data = DeployPayload::encode(&artifact("counter"), &amount_word(3));
    let r = rt
        .transact(&mut block(3), ALICE, &tx(1, None, 0, data, 1_000_000_000))
        .unwrap();
    let root = check_gas(&r);
    assert_eq!(root.kind, CallKind::Create);
    assert_eq!(Some(root.address), r.contract_address);
    assert_eq!(root.input, amount_word(3));
}

#[test]
fn a_call_refused_before_running_is_a_failed_leaf() {
    let mut rt = traced();
    let p0 = deploy_probe(&mut rt, ALICE, 0);
    // The probe holds no value: the call cannot pay 1,000.
    let outer = Script::new().call(ALICE, 1_000, 50_000, &Script::new());
    let r = send(&mut rt, ALICE, 1, p0, 0, outer.bytes());
    assert_eq!(r.status, Status::Success);
    let root = check_gas(&r);
    let refused = &root.children[0];
    assert_eq!(
        refused.status,
        Status::Failure(Failure::InsufficientBalance)
    );
    assert_eq!((refused.gas_used, refused.value), (0, U256::from(1_000)));
    assert!(refused.gas.is_none());
    assert!(root
        .to_string()
        .ends_with("gas 0/50000 failure: the caller cannot pay the value"));
}

#[test]
fn tracing_off_records_nothing_and_tracing_changes_no_gas() {
    let script = |p1| {
        Script::new()
            .sstore(1, 1)
            .call(p1, 0, u64::MAX, &Script::new().sstore(2, 2).log(1))
            .bytes()
    };
    let mut receipts = Vec::new();
    for trace in [false, true] {
        let mut rt = runtime(&[(ALICE, FUNDS)]);
        rt.set_trace(trace);
        let p0 = deploy_probe(&mut rt, ALICE, 0);
        let p1 = deploy_probe(&mut rt, ALICE, 1);
        receipts.push(send(&mut rt, ALICE, 2, p0, 0, script(p1)));
        let view = rt
            .view(&block(3).env, ALICE, p0, &script(p1), 100_000_000)
            .unwrap();
        assert_eq!(view.trace.is_some(), trace);
        if let Some(view_trace) = view.trace {
            assert_eq!(view_trace.gas_used, view.gas_used);
            assert_eq!(view_trace.children.len(), 1);
        }
    }
    let (off, on) = (&receipts[0], &receipts[1]);
    assert!(off.trace.is_none());
    assert!(on.trace.is_some());
    assert_eq!(
        Receipt {
            trace: None,
            ..on.clone()
        },
        *off
    );
}
