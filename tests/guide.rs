//! The example of docs/testing.md, which shows this file whole: a token tested on the harness.

use alloy_primitives::U256;
use alloy_sol_types::sol;
use tally::testing::{Artifact, Contract, GasSnapshots, TestChain, TestResult};

sol! {
    interface IToken {
        function mint(address to, uint256 amount) external;
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address account) external view returns (uint256);
        event Transfer(address indexed from, address indexed to, uint256 value);
    }
}

/// Deploys the example token with its constructor arguments (name, symbol, decimals).
fn deploy_token(chain: &mut TestChain) -> TestResult<Contract> {
    let wasm = concat!(env!("CARGO_MANIFEST_DIR"), "/contracts/build/token.wasm");
    let args = ("Tally Token".to_string(), "TLY".to_string(), U256::from(18));
    chain.deploy(&Artifact::read(wasm)?, args)
}

#[test]
fn a_transfer_moves_tokens_and_costs_what_the_chain_charges() -> TestResult {
    let mut chain = TestChain::new()?;
    let (alice, bob) = (chain.accounts()[1], chain.accounts()[2]);
    let token = deploy_token(&mut chain)?;
    let to_alice = IToken::mintCall {
        to: alice,
        amount: U256::from(1_000),
    };
    chain.call(&token, to_alice)?;

    // Alice sends 300 to Bob: Rust values in, the decoded result out.
    let to_bob = IToken::transferCall {
        to: bob,
        amount: U256::from(300),
    };
    assert!(chain.from(alice).call(&token, to_bob.clone())?);
    assert_eq!(
        chain.view(&token, IToken::balanceOfCall { account: bob })?,
        U256::from(300)
    );

    // The receipt: status, events, and the gas the chain charges, intrinsic gas included.
    let receipt = chain.from(alice).send(&token, to_bob)?;
    let event = IToken::Transfer {
        from: alice,
        to: bob,
        value: U256::from(300),
    };
    receipt
        .expect_success()?
        .expect_event(token.address(), &event)?;
    assert_eq!(receipt.gas_used(), 4_655_618);
    println!("{}", receipt.gas());

    // A revert, with Solidity's reason.
    let too_much = IToken::transferCall {
        to: alice,
        amount: U256::from(1_000),
    };
    let failed = chain.from(bob).send(&token, too_much)?;
    failed.expect_revert("ERC20: transfer amount exceeds balance")?;

    // Cheats and snapshots: revert as often as needed.
    let snapshot = chain.snapshot()?;
    let (balance, time) = (chain.balance(bob)?, chain.timestamp());
    chain.advance_time(3_600)?;
    chain.set_balance(bob, U256::ZERO)?;
    chain.revert(snapshot)?;
    assert_eq!((chain.balance(bob)?, chain.timestamp()), (balance, time));

    // Checked against tests/snapshots/guide.gas (TALLY_UPDATE_SNAPSHOTS=1 writes it).
    let snapshots = GasSnapshots::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/guide.gas"
    ));
    snapshots.record_with_state("token.transfer", receipt.gas_used(), chain.state_root()?)?;
    Ok(())
}
