//! The test harness itself (`tally::testing`): exact gas against the chain's signed path,
//! typed calls and signature strings, failures with reasons and traces, cheats, time, repeatable
//! snapshots, expectations, the gas report and the open block.

mod support;

use alloy_dyn_abi::DynSolValue;
use alloy_primitives::{Address, B256, I256, U256};
use support::contracts::*;
use tally::chain::genesis::Genesis;
use tally::chain::sequencer::{Chain, ChainConfig, Clock, MiningMode};
use tally::chain::store::ChainStore;
use tally::chain::tx::{dev_accounts, SignedTransaction};
use tally::testing::{Contract, GasReport, SigCall, Status, TestChain, TestError, TestResult};
use tally_runtime::tx::{DeployPayload, Transaction};

const ALICE: Address = Address::repeat_byte(0xa1);
const BOB: Address = Address::repeat_byte(0xb0);

/// A chain with the token deployed by the first dev account, 1,000 tokens minted to it.
fn token_chain() -> TestResult<(TestChain, Contract)> {
    let mut chain = TestChain::new()?;
    let token = chain.deploy(&artifact("token")?, ())?;
    let owner = chain.sender();
    chain.call(&token, mint(owner, 1_000))?;
    Ok((chain, token))
}

/// The harness charges what the chain charges a signed transaction: the same deployment,
/// mint and transfer through `Chain::submit` (signed, pooled, mined) and through the harness
/// use the same gas, with the same breakdown.
#[test]
fn gas_is_the_chain_gas_of_a_signed_transaction() -> TestResult {
    let (key, owner) = dev_accounts().swap_remove(0);
    let config = ChainConfig {
        mining: MiningMode::OnDemand,
        clock: Clock::Deterministic { step: 1 },
        ..ChainConfig::default()
    };
    let mut node = Chain::open(ChainStore::memory(), &Genesis::dev(), config)?;
    let token = artifact("token")?;
    let mut signed_gas = Vec::new();
    let token_address = tally_runtime::exec::create_address(&owner, 0);
    let calls = [
        (None, DeployPayload::encode(token.code(), &[])),
        (
            Some(token_address),
            alloy_sol_types::SolCall::abi_encode(&mint(ALICE, 50)),
        ),
    ];
    for (nonce, (to, data)) in calls.into_iter().enumerate() {
        let tx = Transaction {
            chain_id: node.chain_id(),
            nonce: nonce as u64,
            max_priority_fee_per_gas: 1u64.into(),
            max_fee_per_gas: 10_000_000_000u64.into(),
            gas_limit: 10_000_000,
            to,
            value: 0u64.into(),
            data,
        };
        node.submit(SignedTransaction::sign(tx, &key))
            .expect("accepted");
        let receipt = &node.last_receipts()[0];
        signed_gas.push((receipt.gas_used, receipt.gas.clone()));
    }

    let mut chain = TestChain::new()?;
    let deploy = chain.tx().deploy_receipt(&token, ())?;
    let contract = chain.at(deploy.contract_address().expect("deployed"), "token");
    let mint = chain.send(&contract, mint(ALICE, 50))?;
    let harness_gas: Vec<_> = [deploy, mint]
        .iter()
        .map(|r| (r.gas_used(), r.gas().report().clone()))
        .collect();
    assert_eq!(harness_gas, signed_gas);
    assert_eq!(harness_gas[0].0, 2_900_083);
    Ok(())
}

#[test]
fn calls_take_rust_values_and_return_typed_results() -> TestResult {
    let (mut chain, token) = token_chain()?;
    assert!(chain.call(&token, transfer(BOB, 300))?);
    assert_eq!(chain.view(&token, balance_of(BOB))?, amount(300));
    assert_eq!(chain.view(&token, IToken::nameCall {})?, "Tally Token");
    assert_eq!(chain.view(&token, IToken::decimalsCall {})?, 18);
    // The same through signature strings, with values or with text as cast takes it.
    let balance = SigCall::new("balanceOf(address)(uint256)", &[DynSolValue::Address(BOB)])?;
    assert_eq!(
        chain.view(&token, balance)?,
        vec![DynSolValue::Uint(amount(300), 256)]
    );
    let transfer = SigCall::parse("transfer(address,uint256)(bool)", &[&BOB.to_string(), "5"])?;
    assert_eq!(chain.call(&token, transfer)?, vec![DynSolValue::Bool(true)]);
    let bad = SigCall::parse("transfer(address,uint256)", &["0x12", "5"]).unwrap_err();
    assert!(matches!(bad, TestError::Signature { .. }), "{bad}");
    Ok(())
}

#[test]
fn receipts_decode_events_and_split_the_gas() -> TestResult {
    let (mut chain, token) = token_chain()?;
    let owner = chain.sender();
    let r = chain.send(&token, transfer(BOB, 7))?;
    let transfer: IToken::Transfer = r.event()?;
    assert_eq!(
        (transfer.from, transfer.to, transfer.value),
        (owner, BOB, amount(7))
    );
    assert!(r.events::<IToken::Approval>()?.is_empty());
    let by_signature =
        r.events_by_signature("Transfer(address indexed from,address indexed to,uint256 value)")?;
    assert_eq!(
        by_signature,
        vec![vec![
            ("from".to_string(), DynSolValue::Address(owner)),
            ("to".to_string(), DynSolValue::Address(BOB)),
            ("value".to_string(), DynSolValue::Uint(amount(7), 256)),
        ]]
    );
    assert!(r.event::<IToken::Approval>().is_err());
    let gas = r.gas();
    let execution = gas.report().execution.clone().expect("code ran");
    let host: u64 = execution.host.values().map(|h| h.gas).sum();
    assert_eq!(
        gas.intrinsic() + execution.instantiation + execution.instructions + host,
        r.gas_used()
    );
    assert_eq!(r.fee(), U256::from(r.gas_used()) * chain.base_fee());
    let table = gas.to_string();
    assert!(table.starts_with("gas used"), "{table}");
    assert!(
        table.contains("storage_write") && table.contains("(2 calls)"),
        "{table}"
    );
    Ok(())
}

/// A failed call is an error carrying the receipt: what was called, the reason, the gas and the
/// call trace with contract names and function signatures.
#[test]
fn a_failed_call_reports_its_reason_and_trace() -> TestResult {
    let mut chain = TestChain::new()?;
    chain.label(chain.sender(), "deployer");
    let token = chain.deploy(&artifact("token")?, ())?;
    let vault = chain.deploy(&artifact("vault")?, (token.address(), 10u64))?;
    let Err(err) = chain.call(&vault, IVault::depositCall { amount: amount(5) }) else {
        panic!("a deposit without an allowance succeeded");
    };
    let TestError::CallFailed(receipt) = &err else {
        panic!("{err}");
    };
    assert_eq!(receipt.status(), &Status::Revert);
    assert_eq!(
        receipt.revert_reason().as_deref(),
        Some("Vault: token transfer failed")
    );
    let trace = receipt.trace().expect("traced");
    assert_eq!(trace.children.len(), 1);
    assert_eq!(trace.children[0].status, Status::Revert);
    assert_eq!(
        err.to_string(),
        "vault.deposit(uint256) from deployer reverted: \"Vault: token transfer failed\"\n  \
         gas used 40,384 of 10,000,000, block 1, transaction \
         0x5444c30b941298a6c8da7fcf9c04d02a19fad1e24b2f1bb4ac4c64e6f62a5f67\n  \
         trace:\n    \
         call vault deposit(uint256) gas 19180/9978796 revert: Error(\"Vault: token transfer failed\")\n      \
         call token 0x23b872dd gas 7605/9811888 revert: Error(\"ERC20: insufficient allowance\")"
    );
    // Signatures learnt from a `sol!` interface name the functions the harness did not call.
    chain.learn_signatures(IToken::ITokenCalls::SIGNATURES);
    let again = chain.send(&vault, IVault::depositCall { amount: amount(5) })?;
    let inner = again.render_trace().expect("traced");
    assert!(
        inner.ends_with(
            "call token transferFrom(address,address,uint256) gas 7605/9811888 \
                         revert: Error(\"ERC20: insufficient allowance\")"
        ),
        "{inner}"
    );
    Ok(())
}

#[test]
fn views_run_as_any_sender_and_report_failures() -> TestResult {
    let (mut chain, token) = token_chain()?;
    let owner = chain.sender();
    let balance = chain.from(ALICE).view(&token, balance_of(owner))?;
    assert_eq!(balance, amount(1_000));
    let err = chain
        .view(&token, SigCall::parse("nonexistent()", &[])?)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("view nonexistent() on token reverted: \"unknown selector\""),
        "{err}"
    );
    Ok(())
}

#[test]
fn any_address_can_send_without_a_key() -> TestResult {
    let (mut chain, token) = token_chain()?;
    let stranger = Address::repeat_byte(0x5e);
    chain.call(&token, transfer(stranger, 10))?;
    chain.set_balance(stranger, U256::from(10u64).pow(U256::from(18)))?;
    assert_eq!(chain.nonce(stranger)?, 0);
    chain.from(stranger).call(&token, transfer(BOB, 4))?;
    assert_eq!(chain.nonce(stranger)?, 1);
    chain.set_sender(stranger);
    chain.call(&token, transfer(BOB, 6))?;
    assert_eq!(chain.view(&token, balance_of(BOB))?, amount(10));
    // Without funds for its gas, a sender's transaction is rejected, not executed.
    let broke = Address::repeat_byte(0x0b);
    let err = chain
        .from(broke)
        .send(&token, transfer(BOB, 0))
        .unwrap_err();
    assert!(matches!(err, TestError::Rejected { .. }), "{err}");
    Ok(())
}

#[test]
fn cheats_set_balances_nonces_code_and_storage() -> TestResult {
    let (mut chain, token) = token_chain()?;
    chain.set_balance(ALICE, amount(123))?;
    assert_eq!(chain.balance(ALICE)?, amount(123));
    chain.set_nonce(ALICE, 9)?;
    assert_eq!(chain.nonce(ALICE)?, 9);
    // Alice's token balance lives at keccak(pad(alice) . 0).
    let mut preimage = ALICE.into_word().to_vec();
    preimage.extend_from_slice(&[0; 32]);
    let slot = alloy_primitives::keccak256(&preimage);
    chain.set_storage(token.address(), slot, B256::from(amount(77)))?;
    assert_eq!(chain.view(&token, balance_of(ALICE))?, amount(77));
    // Code put at an address runs there.
    let copy = Address::repeat_byte(0xc0);
    chain.set_code(copy, artifact("counter")?.code())?;
    let counter = chain.at(copy, "counter");
    assert_eq!(chain.view(&counter, ICounter::countCall {})?, U256::ZERO);
    chain.call(&counter, ICounter::incrementCall {})?;
    assert_eq!(chain.view(&counter, ICounter::countCall {})?, amount(1));
    assert!(chain.set_code(copy, b"not wasm").is_err());
    Ok(())
}

#[test]
fn time_and_blocks_advance_on_request() -> TestResult {
    let mut chain = TestChain::builder()
        .timestamp(1_000)
        .block_time(12)
        .build()?;
    assert_eq!((chain.block_number(), chain.timestamp()), (1, 1_012));
    // Transactions share the open block until something seals it.
    let first = chain.transfer(BOB, amount(1))?;
    let second = chain.transfer(BOB, amount(1))?;
    assert_eq!((first.block_number(), second.block_number()), (1, 1));
    chain.advance_time(3_600)?;
    assert_eq!(
        (chain.block_number(), chain.timestamp()),
        (2, 1_012 + 12 + 3_600)
    );
    // Blocks 2 to 6, empty.
    chain.advance_blocks(5)?;
    assert_eq!(chain.block_number(), 7);
    chain.warp(1_000_000)?;
    assert_eq!(chain.timestamp(), 1_000_000);
    assert_eq!(chain.transfer(BOB, amount(1))?.block_number(), 7);
    chain.mine()?;
    assert_eq!((chain.block_number(), chain.timestamp()), (8, 1_000_012));
    Ok(())
}

/// Reverting to a snapshot restores the state root and can be done again (anvil issue 6463).
#[test]
fn snapshots_revert_repeatably() -> TestResult {
    let (mut chain, token) = token_chain()?;
    let snapshot = chain.snapshot()?;
    let root = chain.state_root()?;
    let block = chain.block_number();
    for _ in 0..2 {
        chain.call(&token, transfer(BOB, 400))?;
        chain.advance_blocks(3)?;
        assert_ne!(chain.state_root()?, root);
        chain.revert(snapshot)?;
        assert_eq!(chain.state_root()?, root);
        assert_eq!(chain.block_number(), block);
        assert_eq!(chain.view(&token, balance_of(BOB))?, U256::ZERO);
    }
    let later = chain.snapshot()?;
    chain.revert(snapshot)?;
    let err = chain.revert(later).unwrap_err();
    assert!(matches!(err, TestError::UnknownSnapshot(_)), "{err}");
    Ok(())
}

#[test]
fn expectations_name_the_failing_line() -> TestResult {
    let (mut chain, token) = token_chain()?;
    let owner = chain.sender();
    let r = chain.send(&token, transfer(BOB, 5_000))?;
    r.expect_revert("ERC20: transfer amount exceeds balance")?;
    let err = r.expect_revert("another reason").unwrap_err().to_string();
    assert!(
        err.contains("expected a revert with \"another reason\""),
        "{err}"
    );
    assert!(err.contains(&format!("at {}:", file!())), "{err}");
    assert!(r.expect_success().is_err());

    let r = chain.send(&token, transfer(BOB, 5))?;
    r.expect_success()?;
    r.expect_event(
        token.address(),
        &IToken::Transfer {
            from: owner,
            to: BOB,
            value: amount(5),
        },
    )?;
    let err = r
        .expect_event(
            token.address(),
            &IToken::Transfer {
                from: owner,
                to: BOB,
                value: amount(6),
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected token to emit Transfer"), "{err}");

    // Native balances, fees included: a plain transfer costs 21,000 gas at the base fee.
    let cost = amount(1_000) + chain.base_fee() * amount(21_000);
    let thousand = I256::try_from(1_000).unwrap();
    chain.expect_balance_changes(
        &[(owner, -I256::from_raw(cost)), (BOB, thousand)],
        |chain| chain.transfer(BOB, amount(1_000)).map(|_| ()),
    )?;
    let err = chain
        .expect_balance_changes(&[(BOB, I256::ZERO)], |chain| {
            chain.transfer(BOB, amount(1)).map(|_| ())
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected +0, changed by +1"), "{err}");
    Ok(())
}

#[test]
fn the_gas_report_collects_every_transaction() -> TestResult {
    let (mut chain, token) = token_chain()?;
    for n in [1, 2, 3] {
        chain.call(&token, transfer(BOB, n))?;
    }
    chain.call(&token, transfer(ALICE, 1))?;
    let report = chain.gas_report().clone();
    let transfer = report
        .function("token", "transfer(address,uint256)")
        .expect("recorded");
    // The first transfer to each holder sets a slot, the others reset it.
    assert_eq!(
        (transfer.calls, transfer.min, transfer.max),
        (4, 53_396, 68_396)
    );
    assert_eq!((transfer.median, transfer.mean), (60_896, 60_896));
    assert_eq!(report.deployment("token").expect("deployed").calls, 1);
    let table = report.to_string();
    assert!(
        table.contains("| token    | transfer(address,uint256) |     4 |"),
        "{table}"
    );
    drop(chain);
    let collected = GasReport::collected();
    assert!(
        collected
            .function("token", "transfer(address,uint256)")
            .expect("merged")
            .calls
            >= 4
    );
    Ok(())
}

#[test]
fn blocks_are_sealed_when_full_or_on_request() -> TestResult {
    let mut chain = TestChain::builder().block_gas_limit(1_000_000).build()?;
    // 21,000 gas each, with a limit of 100,000: the block takes transfers while 100,000 fits.
    let numbers: Vec<u64> = (0..50)
        .map(|_| {
            chain
                .tx()
                .gas_limit(100_000)
                .transfer(BOB)
                .map(|r| r.block_number())
        })
        .collect::<Result<_, _>>()?;
    assert_eq!(numbers.iter().filter(|n| **n == 1).count(), 43);
    assert_eq!(numbers.last(), Some(&2));
    let root = chain.state_root()?;
    assert_eq!(chain.block_number(), 3);
    assert_eq!(chain.state_root()?, root, "nothing new to seal");

    let mut automine = TestChain::builder().block_per_transaction(true).build()?;
    let blocks: Vec<u64> = (0..3)
        .map(|_| automine.transfer(BOB, amount(1)).map(|r| r.block_number()))
        .collect::<Result<_, _>>()?;
    assert_eq!(blocks, vec![1, 2, 3]);
    Ok(())
}

/// docs/testing.md shows tests/guide.rs whole, so the guide's example is a test that passes.
#[test]
fn the_guide_shows_its_example_test_whole() {
    let guide = include_str!("../docs/testing.md");
    assert!(
        guide.contains(include_str!("guide.rs")),
        "docs/testing.md must show tests/guide.rs as it is"
    );
}
