//! Transactions through the runtime: value transfers, fees, validation errors, deployment and
//! storage across transactions.

mod support;

use support::*;
use tally_runtime::costs::RuntimeCosts;
use tally_runtime::exec::{create_address, ExecError, Failure, Status};
use tally_runtime::state::EMPTY_CODE_HASH;
use tally_runtime::trie::keccak256;
use tally_runtime::tx::{DeployPayload, TxError};
use tally_runtime::{H256, U256};
use tally_vm::TrapKind;

const ALICE_FUNDS: u64 = 1_000_000_000_000;

/// The intrinsic gas of a transaction without data.
fn intrinsic() -> u64 {
    RuntimeCosts::default().transaction
}

#[test]
fn value_transfer_moves_value_and_splits_the_fee() {
    let (alice, bob) = (addr(1), addr(2));
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let mut b = block(1);
    let (gas, costs) = (intrinsic(), RuntimeCosts::default());
    let receipt = rt
        .transact(&mut b, alice, &tx(0, Some(bob), 1_000, vec![], 2 * gas))
        .unwrap();
    assert_eq!(receipt.status, Status::Success);
    assert_eq!(receipt.gas_used, gas);
    assert_eq!(receipt.cumulative_gas_used, gas);
    assert_eq!(
        receipt.effective_gas_price,
        U256::from(BASE_FEE + PRIORITY_FEE)
    );
    assert_eq!(receipt.burned, U256::from(gas * BASE_FEE));
    assert_eq!(receipt.tip, U256::from(gas * PRIORITY_FEE));
    assert_eq!(receipt.gas.execution, None, "no code ran");
    let state = rt.state_mut();
    assert_eq!(state.balance(&bob).unwrap(), U256::from(1_000));
    assert_eq!(
        state.balance(&alice).unwrap(),
        U256::from(ALICE_FUNDS - 1_000 - gas * (BASE_FEE + PRIORITY_FEE))
    );
    assert_eq!(
        state.balance(&PRODUCER).unwrap(),
        U256::from(gas * PRIORITY_FEE)
    );
    assert_eq!(state.nonce(&alice).unwrap(), 1);
    assert_eq!(state.nonce(&bob).unwrap(), 0);
    assert_eq!(b.gas_used, gas);
    assert_eq!(b.burned, U256::from(gas * BASE_FEE));

    // A second transaction in the same block accumulates.
    let receipt = rt
        .transact(&mut b, alice, &tx(1, Some(bob), 1, vec![0, 1], 2 * gas))
        .unwrap();
    let second = gas + costs.calldata_zero_byte + costs.calldata_nonzero_byte;
    assert_eq!(receipt.gas_used, second);
    assert_eq!(receipt.cumulative_gas_used, gas + second);
}

#[test]
fn priority_fee_is_capped_by_max_fee() {
    let (alice, bob) = (addr(1), addr(2));
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let mut t = tx(0, Some(bob), 0, vec![], intrinsic());
    t.max_fee_per_gas = (BASE_FEE + 1).into();
    t.max_priority_fee_per_gas = 5.into();
    let receipt = rt.transact(&mut block(1), alice, &t).unwrap();
    assert_eq!(receipt.effective_gas_price, U256::from(BASE_FEE + 1));
    assert_eq!(receipt.tip, U256::from(intrinsic()));
}

/// Every validation error, each leaving the state exactly as it was.
#[test]
fn invalid_transactions_change_nothing() {
    let (alice, bob) = (addr(1), addr(2));
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let gas = intrinsic();
    rt.transact(&mut block(1), alice, &tx(0, Some(bob), 1, vec![], gas))
        .unwrap();
    let root = rt.state_mut().root().unwrap();
    let base = tx(1, Some(bob), 0, vec![], gas);
    let with = |f: &dyn Fn(&mut tally_runtime::tx::Transaction)| {
        let mut t = base.clone();
        f(&mut t);
        t
    };
    let cases: Vec<(tally_runtime::tx::Transaction, TxError)> = vec![
        (
            with(&|t| t.chain_id = 1),
            TxError::WrongChainId {
                expected: CHAIN_ID,
                got: 1,
            },
        ),
        (
            with(&|t| t.nonce = 0),
            TxError::NonceTooLow {
                expected: 1,
                got: 0,
            },
        ),
        (
            with(&|t| t.nonce = 5),
            TxError::NonceTooHigh {
                expected: 1,
                got: 5,
            },
        ),
        (
            with(&|t| t.gas_limit = gas - 1),
            TxError::IntrinsicGasTooLow {
                limit: gas - 1,
                intrinsic: gas,
            },
        ),
        (
            with(&|t| {
                t.data = vec![1; 10];
                t.gas_limit = gas + 100;
            }),
            TxError::IntrinsicGasTooLow {
                limit: gas + 100,
                intrinsic: gas + 10 * RuntimeCosts::default().calldata_nonzero_byte,
            },
        ),
        (
            with(&|t| t.gas_limit = BLOCK_GAS_LIMIT + 1),
            TxError::GasLimitAboveBlockLimit {
                limit: BLOCK_GAS_LIMIT + 1,
                block_limit: BLOCK_GAS_LIMIT,
            },
        ),
        (
            with(&|t| t.max_fee_per_gas = (BASE_FEE - 1).into()),
            TxError::MaxFeeBelowBaseFee {
                max_fee: (BASE_FEE - 1).into(),
                base_fee: BASE_FEE.into(),
            },
        ),
        (
            with(&|t| {
                t.max_fee_per_gas = 1.into();
                t.max_priority_fee_per_gas = 0.into();
            }),
            TxError::MaxFeeBelowBaseFee {
                max_fee: 1.into(),
                base_fee: BASE_FEE.into(),
            },
        ),
        (
            with(&|t| t.max_priority_fee_per_gas = (MAX_FEE + 1).into()),
            TxError::PriorityFeeAboveMaxFee {
                priority_fee: (MAX_FEE + 1).into(),
                max_fee: MAX_FEE.into(),
            },
        ),
        (
            with(&|t| t.value = ALICE_FUNDS.into()),
            TxError::InsufficientFunds {
                balance: rt.state_mut().balance(&alice).unwrap(),
                cost: U256::from(ALICE_FUNDS) + U256::from(gas * MAX_FEE),
            },
        ),
        (
            with(&|t| t.max_fee_per_gas = U256::MAX),
            TxError::InsufficientFunds {
                balance: rt.state_mut().balance(&alice).unwrap(),
                cost: U256::MAX,
            },
        ),
        (
            with(&|t| {
                t.to = None;
                t.data = vec![0x01, 0x02];
                t.gas_limit = 100_000;
            }),
            TxError::MalformedDeploy("neither a wasm module nor one RLP list [code, input]"),
        ),
    ];
    for (t, expected) in cases {
        match rt.transact(&mut block(2), alice, &t) {
            Err(ExecError::Invalid(e)) => assert_eq!(e, expected),
            other => panic!("{t:?}: expected {expected:?}, got {other:?}"),
        }
        assert_eq!(rt.state_mut().root().unwrap(), root, "{expected:?}");
    }

    // The block's remaining gas.
    let mut full = block(2);
    full.gas_used = BLOCK_GAS_LIMIT - 20_000;
    match rt.transact(&mut full, alice, &base) {
        Err(ExecError::Invalid(TxError::BlockGasExhausted { limit, available })) => {
            assert_eq!((limit, available), (gas, 20_000))
        }
        other => panic!("{other:?}"),
    }

    // A nonce that cannot be incremented.
    let carol = addr(3);
    rt.state_mut()
        .set_balance(&carol, ALICE_FUNDS.into())
        .unwrap();
    rt.state_mut().set_nonce(&carol, u64::MAX).unwrap();
    rt.state_mut().finish_transaction();
    let t = tx(u64::MAX, Some(bob), 0, vec![], gas);
    match rt.transact(&mut block(2), carol, &t) {
        Err(ExecError::Invalid(TxError::NonceOverflow(n))) => assert_eq!(n, u64::MAX),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deploy_stores_code_and_runs_the_constructor() {
    let alice = addr(1);
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let code = probe_code();
    // The constructor writes slot 1 = 42 and returns "ok".
    let ctor = Script::new().sstore(1, 42).ret(b"ok");
    let data = DeployPayload::encode(&code, &ctor.bytes());
    let receipt = rt
        .transact(&mut block(1), alice, &tx(0, None, 5, data.clone(), TX_GAS))
        .unwrap();
    assert_eq!(receipt.status, Status::Success, "{receipt:?}");
    let address = create_address(&alice, 0);
    assert_eq!(receipt.contract_address, Some(address));
    assert_eq!(receipt.output, b"ok");
    let costs = rt.costs().clone();
    let intrinsic =
        costs.transaction + costs.create + costs.calldata(&data) + costs.code(code.len());
    assert_eq!(receipt.gas.intrinsic, intrinsic);
    let state = rt.state_mut();
    let account = state.account(&address).unwrap().unwrap();
    assert_eq!(account.nonce, 1, "contracts start at nonce 1 (EIP-161)");
    assert_eq!(account.balance, U256::from(5));
    assert_eq!(account.code_hash, H256(keccak256(&code)));
    assert_eq!(&*state.code(&address).unwrap(), &code[..]);
    assert_eq!(state.storage(&address, &word(1)).unwrap(), word(42));

    // Storage persists across transactions (and a commit).
    rt.state_mut().commit(1).unwrap();
    let r = send(
        &mut rt,
        alice,
        1,
        address,
        0,
        Script::new().sload(1).bytes(),
    );
    assert_eq!(r.status, Status::Success);
    assert_eq!(r.output, word(42).as_bytes());
}

#[test]
fn invalid_code_fails_the_creation_but_charges_it() {
    let alice = addr(1);
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    // A module with a float instruction is outside the deterministic subset.
    let code = wat::parse_str(r#"(module (func (export "call") f32.const 1 drop))"#).unwrap();
    let receipt = rt
        .transact(&mut block(1), alice, &tx(0, None, 0, code, TX_GAS))
        .unwrap();
    match &receipt.status {
        Status::Failure(Failure::InvalidCode(reason)) => {
            assert!(reason.contains("float"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(receipt.gas_used, receipt.gas.intrinsic);
    assert_eq!(receipt.contract_address, None);
    let state = rt.state_mut();
    assert_eq!(state.nonce(&alice).unwrap(), 1);
    assert!(!state.exists(&create_address(&alice, 0)).unwrap());
}

#[test]
fn a_failed_transaction_pays_for_its_gas_and_keeps_the_nonce_bump() {
    let alice = addr(1);
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let probe = deploy_probe(&mut rt, alice, 0);
    let before = rt.state_mut().balance(&alice).unwrap();
    let gas_limit = 300_000_000;
    let script = Script::new().sstore(7, 7).log(1).spin();
    let t = tx(1, Some(probe), 10, script.bytes(), gas_limit);
    let receipt = rt.transact(&mut block(2), alice, &t).unwrap();
    assert_eq!(
        receipt.status,
        Status::Failure(Failure::Trap(TrapKind::OutOfGas))
    );
    assert_eq!(receipt.gas_used, gas_limit);
    assert!(receipt.logs.is_empty());
    let state = rt.state_mut();
    assert_eq!(state.storage(&probe, &word(7)).unwrap(), H256::zero());
    assert_eq!(
        state.balance(&probe).unwrap(),
        U256::zero(),
        "value returned"
    );
    assert_eq!(state.nonce(&alice).unwrap(), 2);
    assert_eq!(
        state.balance(&alice).unwrap(),
        before - U256::from(gas_limit * (BASE_FEE + PRIORITY_FEE))
    );

    // A revert charges only what was used.
    let t = tx(
        2,
        Some(probe),
        0,
        Script::new().sstore(7, 7).revert().bytes(),
        gas_limit,
    );
    let receipt = rt.transact(&mut block(2), alice, &t).unwrap();
    assert_eq!(receipt.status, Status::Revert);
    assert!(receipt.gas_used < 10_000_000, "{}", receipt.gas_used);
    assert_eq!(
        rt.state_mut().storage(&probe, &word(7)).unwrap(),
        H256::zero()
    );
}

#[test]
fn logs_are_returned_in_order_with_the_emitter() {
    let alice = addr(1);
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let probe = deploy_probe(&mut rt, alice, 0);
    let r = send(
        &mut rt,
        alice,
        1,
        probe,
        0,
        Script::new().log(1).log(2).bytes(),
    );
    assert_eq!(r.status, Status::Success);
    let topics: Vec<_> = r
        .logs
        .iter()
        .map(|l| (l.address, l.topics.clone()))
        .collect();
    assert_eq!(topics, vec![(probe, vec![word(1)]), (probe, vec![word(2)])]);
    assert!(r.logs.iter().all(|l| l.data.is_empty()));
}

#[test]
fn calling_an_account_without_code_just_moves_value() {
    let (alice, bob) = (addr(1), addr(2));
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let r = send(&mut rt, alice, 0, bob, 3, vec![1, 2, 3]);
    assert_eq!(r.status, Status::Success);
    let costs = RuntimeCosts::default();
    assert_eq!(
        r.gas_used,
        costs.transaction + 3 * costs.calldata_nonzero_byte
    );
    let account = rt.state_mut().account(&bob).unwrap().unwrap();
    assert_eq!(account.code_hash, EMPTY_CODE_HASH);
    assert_eq!(account.balance, U256::from(3));
}

/// Exact gas of a deployment and of storage writes of each kind. A change to any cost shows
/// here (update the figures deliberately, with the reason in the commit).
#[test]
fn gas_is_pinned() {
    let alice = addr(1);
    let mut rt = runtime(&[(alice, ALICE_FUNDS)]);
    let data = DeployPayload::encode(&probe_code(), &[]);
    let receipt = rt
        .transact(&mut block(1), alice, &tx(0, None, 0, data, TX_GAS))
        .unwrap();
    let probe = receipt.contract_address.unwrap();
    let pinned_deploy = (receipt.gas.intrinsic, receipt.gas_used);

    let mut write = |nonce, value| {
        let r = send(
            &mut rt,
            alice,
            nonce,
            probe,
            0,
            Script::new().sstore(1, value).bytes(),
        );
        assert_eq!(r.status, Status::Success);
        r.gas_used
    };
    let set = write(1, 1);
    let reset = write(2, 2);
    let same = write(3, 2);
    let clear = write(4, 0);
    let costs = rt.costs().clone();
    assert_eq!(set - same, costs.storage_set);
    assert_eq!(reset - same, costs.storage_reset);
    // Writing zero sends one zero byte where the others send a non-zero one.
    let zero_byte_saves = costs.calldata_nonzero_byte - costs.calldata_zero_byte;
    assert_eq!(clear - same + zero_byte_saves, costs.storage_clear);
    assert_eq!(
        (pinned_deploy, set, reset, same, clear),
        (
            (51_248_482, 52_533_256),
            3_740_492,
            3_765_656,
            3_740_492,
            3_747_438
        ),
    );
}

/// A maximum cost beyond 256 bits is refused even from the largest balance, as Ethereum
/// clients refuse it (a saturating sum would equal `U256::MAX` and pass the check).
#[test]
fn a_cost_beyond_256_bits_is_refused_even_from_the_largest_balance() {
    let (whale, bob) = (addr(9), addr(2));
    let mut rt = runtime(&[]);
    rt.state_mut().set_balance(&whale, U256::MAX).unwrap();
    rt.state_mut().finish_transaction();
    let mut t = tx(0, Some(bob), 0, vec![], intrinsic());
    t.max_fee_per_gas = U256::MAX;
    match rt.transact(&mut block(1), whale, &t) {
        Err(ExecError::Invalid(TxError::InsufficientFunds { balance, cost })) => {
            assert_eq!((balance, cost), (U256::MAX, U256::MAX))
        }
        other => panic!("{other:?}"),
    }
}
