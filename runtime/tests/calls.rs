//! Nested calls through the runtime: rollback of exactly the frames that fail, at every depth;
//! reentrancy; the call-depth limit; gas forwarding; value moves and creation from contracts.

mod support;

use support::*;
use tally_runtime::exec::{create_address, Failure, Status, DEFAULT_MAX_CALL_DEPTH};
use tally_runtime::{H160, H256, U256};
use tally_vm::HostFn;

const FUNDS: u64 = 1_000_000_000_000;
const ALICE: H160 = H160([1; 20]);

/// A runtime with `n` probes deployed by ALICE (nonces 0..n); the next nonce is `n`.
fn probes(
    n: u64,
) -> (
    tally_runtime::exec::Runtime<tally_runtime::trie::MemoryStore>,
    Vec<H160>,
) {
    let mut rt = runtime(&[(ALICE, FUNDS)]);
    let addresses = (0..n).map(|i| deploy_probe(&mut rt, ALICE, i)).collect();
    (rt, addresses)
}

#[test]
fn a_reverting_frame_rolls_back_itself_and_its_callees_only() {
    for revert_at in 1..=3usize {
        let (mut rt, p) = probes(4);
        // Frame i writes slot 10+i of its own contract, logs i, then calls frame i+1.
        let mut script = Script::new().sstore(13, 1).log(3);
        if revert_at == 3 {
            script = script.revert();
        }
        for i in (0..3).rev() {
            let mut outer = Script::new().sstore(10 + i as u64, 1).log(i as u64).call(
                p[i + 1],
                0,
                u64::MAX,
                &script,
            );
            if revert_at == i {
                outer = outer.revert();
            }
            script = outer;
        }
        let r = send(&mut rt, ALICE, 4, p[0], 0, script.bytes());
        assert_eq!(r.status, Status::Success, "depth {revert_at}");
        let logged: Vec<H256> = r.logs.iter().map(|l| l.topics[0]).collect();
        let expected: Vec<H256> = (0..revert_at as u64).map(word).collect();
        assert_eq!(logged, expected, "depth {revert_at}");
        for (i, contract) in p.iter().enumerate() {
            let value = rt
                .state_mut()
                .storage(contract, &word(10 + i as u64))
                .unwrap();
            let kept = i < revert_at;
            assert_eq!(
                value,
                if kept { word(1) } else { H256::zero() },
                "depth {revert_at}, frame {i}"
            );
        }
    }
}

#[test]
fn a_caller_that_requires_success_propagates_the_revert_to_the_top() {
    let (mut rt, p) = probes(3);
    let inner = Script::new().sstore(1, 1).revert();
    let middle = Script::new()
        .sstore(1, 1)
        .call(p[2], 0, u64::MAX, &inner)
        .require_ok();
    let outer = Script::new()
        .sstore(1, 1)
        .call(p[1], 0, u64::MAX, &middle)
        .require_ok();
    let r = send(&mut rt, ALICE, 3, p[0], 0, outer.bytes());
    assert_eq!(r.status, Status::Revert);
    // The revert data is the status the top frame saw: 1 (revert), little-endian.
    assert_eq!(r.output, 1u32.to_le_bytes());
    for contract in &p {
        assert_eq!(
            rt.state_mut().storage(contract, &word(1)).unwrap(),
            H256::zero()
        );
    }
}

#[test]
fn out_of_gas_in_a_callee_rolls_it_back_and_uses_the_gas_it_was_given() {
    let (mut rt, p) = probes(2);
    let forwarded = 200_000;
    let inner = Script::new().sstore(2, 1).spin();
    let outer = Script::new()
        .sstore(1, 1)
        .call(p[1], 0, forwarded, &inner)
        .sstore(3, 1);
    let r = send(&mut rt, ALICE, 2, p[0], 0, outer.bytes());
    assert_eq!(r.status, Status::Success);
    let state = rt.state_mut();
    assert_eq!(state.storage(&p[0], &word(1)).unwrap(), word(1));
    assert_eq!(state.storage(&p[0], &word(3)).unwrap(), word(1));
    assert_eq!(state.storage(&p[1], &word(2)).unwrap(), H256::zero());
    let execution = r.gas.execution.expect("code ran");
    let call = execution.host[&HostFn::Call];
    let call_cost = rt.vm().config().schedule.host_cost(HostFn::Call);
    assert_eq!(call.calls, 1);
    assert_eq!(
        call.gas,
        call_cost.cost_bytes(inner.0.len() as u64) + forwarded
    );
}

#[test]
fn a_nested_call_costs_its_caller_exactly_what_the_callee_used() {
    let (mut rt, p) = probes(2);
    let inner = Script::new().sstore(5, 5).log(1).sload(5);
    // What the callee uses on its own, measured with a read-only call.
    let alone = rt
        .view(&block(2).env, p[0], p[1], &inner.bytes(), TX_GAS)
        .unwrap();
    assert_eq!(alone.status, Status::Success);
    assert_eq!(alone.output, word(5).as_bytes());
    assert_eq!(
        rt.state_mut().storage(&p[1], &word(5)).unwrap(),
        H256::zero(),
        "view rolled back"
    );

    let outer = Script::new()
        .call(p[1], 0, u64::MAX, &inner)
        .return_output();
    let r = send(&mut rt, ALICE, 2, p[0], 0, outer.bytes());
    assert_eq!(r.status, Status::Success);
    assert_eq!(r.output, word(5).as_bytes());
    let call = r.gas.execution.expect("code ran").host[&HostFn::Call];
    let call_cost = rt.vm().config().schedule.host_cost(HostFn::Call);
    assert_eq!(
        call.gas,
        call_cost.cost_bytes(inner.0.len() as u64) + alone.gas_used
    );
}

#[test]
fn forwarded_gas_keeps_one_64th_for_the_caller() {
    let (mut rt, p) = probes(2);
    // The callee spins: it uses everything it is given, which is all but 1/64 of what the
    // caller had left however much the caller asks for. The 64th kept (about 3 million gas) is
    // enough for the caller to set a new slot afterwards.
    let outer = Script::new()
        .call(p[1], 0, u64::MAX, &Script::new().spin())
        .sstore(1, 1);
    let gas_limit = 200_000_000;
    let t = tx(2, Some(p[0]), 0, outer.bytes(), gas_limit);
    let r = rt.transact(&mut block(2), ALICE, &t).unwrap();
    assert_eq!(
        r.status,
        Status::Success,
        "the caller survives with its 64th"
    );
    assert_eq!(rt.state_mut().storage(&p[0], &word(1)).unwrap(), word(1));
    let call = r.gas.execution.as_ref().unwrap().host[&HostFn::Call];
    let call_cost = rt.vm().config().schedule.host_cost(HostFn::Call);
    let forwarded = call.gas - call_cost.cost_bytes(1);
    // forwarded = left - left / 64 for the gas `left` after the call's own cost.
    let execution_gas = gas_limit - r.gas.intrinsic;
    assert!(forwarded > execution_gas * 62 / 64 && forwarded < execution_gas * 63 / 64);
}

#[test]
fn reentrancy_is_allowed_and_sees_the_callers_writes() {
    let (mut rt, p) = probes(2);
    // p0 writes slot 1, calls p1, which calls back into p0 to write slot 2 = slot-1 check.
    let reenter = Script::new().sstore(2, 9).sload(1);
    let middle = Script::new()
        .call(p[0], 0, u64::MAX, &reenter)
        .require_ok()
        .return_output();
    let outer = Script::new()
        .sstore(1, 7)
        .call(p[1], 0, u64::MAX, &middle)
        .require_ok()
        .return_output();
    let r = send(&mut rt, ALICE, 2, p[0], 0, outer.bytes());
    assert_eq!(r.status, Status::Success);
    // The reentrant frame read slot 1 = 7 written by the outer frame of the same contract.
    assert_eq!(r.output, word(7).as_bytes());
    assert_eq!(rt.state_mut().storage(&p[0], &word(2)).unwrap(), word(9));
}

#[test]
fn the_call_depth_limit_is_deterministic() {
    let (mut rt, p) = probes(1);
    let levels = DEFAULT_MAX_CALL_DEPTH as u64 + 5;
    // Level i writes slot i and calls the same contract one level deeper.
    let mut script = Script::new().sstore(levels, 1);
    for level in (0..levels).rev() {
        script = Script::new()
            .sstore(level, 1)
            .call(p[0], 0, u64::MAX, &script);
    }
    let t = tx(1, Some(p[0]), 0, script.bytes(), 1_000_000_000);
    let r = rt.transact(&mut block(2), ALICE, &t).unwrap();
    assert_eq!(r.status, Status::Success);
    for level in 0..=levels {
        let value = rt.state_mut().storage(&p[0], &word(level)).unwrap();
        let ran = level <= DEFAULT_MAX_CALL_DEPTH as u64;
        assert_eq!(
            value,
            if ran { word(1) } else { H256::zero() },
            "level {level}"
        );
    }
}

#[test]
fn value_moves_between_contracts_and_accounts() {
    let (mut rt, p) = probes(2);
    let bob = addr(2);
    // p0 receives 100, sends 30 to p1 with a call and 40 to bob with a transfer.
    let script = Script::new()
        .call(p[1], 30, u64::MAX, &Script::new())
        .require_ok()
        .transfer(bob, 40)
        .require_ok();
    let r = send(&mut rt, ALICE, 2, p[0], 100, script.bytes());
    assert_eq!(r.status, Status::Success, "{r:?}");
    let state = rt.state_mut();
    assert_eq!(state.balance(&p[0]).unwrap(), U256::from(30));
    assert_eq!(state.balance(&p[1]).unwrap(), U256::from(30));
    assert_eq!(state.balance(&bob).unwrap(), U256::from(40));

    // Sending more than the contract holds fails without moving anything.
    let call = Script::new()
        .call(p[1], 31, u64::MAX, &Script::new())
        .require_ok();
    let r = send(&mut rt, ALICE, 3, p[0], 0, call.bytes());
    assert_eq!(r.status, Status::Revert);
    assert_eq!(r.output, 2u32.to_le_bytes(), "call status 2: failure");
    let transfer = Script::new().transfer(bob, 31).require_ok();
    let r = send(&mut rt, ALICE, 4, p[0], 0, transfer.bytes());
    assert_eq!(r.status, Status::Revert);
    assert_eq!(
        r.output,
        1u32.to_le_bytes(),
        "transfer status 1: balance too low"
    );
    assert_eq!(rt.state_mut().balance(&p[0]).unwrap(), U256::from(30));
}

#[test]
fn contracts_create_contracts_at_create_addresses() {
    let (mut rt, p) = probes(1);
    let code = probe_code();
    let script = Script::new().create(0, &code).require_ok();
    let r = send(&mut rt, ALICE, 1, p[0], 0, script.bytes());
    assert_eq!(r.status, Status::Success, "{r:?}");
    // Contracts start at nonce 1, so the first child uses nonce 1.
    let child = create_address(&p[0], 1);
    assert_eq!(r.output, child.as_bytes());
    let state = rt.state_mut();
    assert_eq!(state.nonce(&p[0]).unwrap(), 2);
    assert_eq!(&*state.code(&child).unwrap(), &code[..]);
    let child_account = state.account(&child).unwrap().unwrap();
    assert_eq!(child_account.nonce, 1);

    // Invalid code: status 2, zero address, but the creator's nonce still advances.
    let bad = wat::parse_str(r#"(module (func (export "call") f64.const 1 drop))"#).unwrap();
    let script = Script::new().create(0, &bad).require_ok();
    let r = send(&mut rt, ALICE, 2, p[0], 0, script.bytes());
    assert_eq!(r.status, Status::Revert);
    assert_eq!(r.output, 2u32.to_le_bytes());
    let script = Script::new().create(0, &bad);
    let r = send(&mut rt, ALICE, 3, p[0], 0, script.bytes());
    assert_eq!(r.status, Status::Success);
    assert_eq!(r.output, [0u8; 20]);
    assert_eq!(rt.state_mut().nonce(&p[0]).unwrap(), 3);
    assert!(!rt.state_mut().exists(&create_address(&p[0], 2)).unwrap());

    // A creation inside a frame that reverts is rolled back with it.
    let script = Script::new().create(0, &code).revert();
    let r = send(&mut rt, ALICE, 4, p[0], 0, script.bytes());
    assert_eq!(r.status, Status::Revert);
    assert!(!rt.state_mut().exists(&create_address(&p[0], 3)).unwrap());
    assert_eq!(rt.state_mut().nonce(&p[0]).unwrap(), 3);
}

#[test]
fn a_trap_in_the_constructor_fails_the_creation() {
    let mut rt = runtime(&[(ALICE, FUNDS)]);
    let data = tally_runtime::tx::DeployPayload::encode(
        &probe_code(),
        &Script::new().sstore(1, 1).spin().bytes(),
    );
    let t = tx(0, None, 0, data, TX_GAS);
    let r = rt.transact(&mut block(1), ALICE, &t).unwrap();
    assert!(
        matches!(r.status, Status::Failure(Failure::Trap(_))),
        "{r:?}"
    );
    assert_eq!(r.gas_used, TX_GAS);
    assert_eq!(r.contract_address, None);
    assert!(!rt.state_mut().exists(&create_address(&ALICE, 0)).unwrap());
}
