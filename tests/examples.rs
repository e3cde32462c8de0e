//! The example contracts (contracts/examples, built into contracts/build) on the test harness:
//! the ERC-20 token (transfers and their `Transfer` logs, allowances, revert reasons, exact
//! gas), the reentrancy attack on the naive vault, the time-locked token vault with its
//! cross-contract calls and rollback, the factory, the compute kernels and the hostile modules.
//! Gas figures and state roots are checked against `tests/snapshots/examples.gas`.

mod support;

use alloy_primitives::{keccak256, Address, B256, U256};
use support::contracts::*;
use tally::testing::{
    Contract, Failure, GasSnapshots, HostFn, Status, TestChain, TestResult, TrapKind,
};

/// 1,000 units of 10^18 each.
const FUNDS: u128 = 1_000_000_000_000_000_000_000;
const OWNER: Address = Address::repeat_byte(0xaa);
const DEPLOYER: Address = Address::repeat_byte(0xd0);
const ALICE: Address = Address::repeat_byte(0xa1);
const BOB: Address = Address::repeat_byte(0xb0);
const CAROL: Address = Address::repeat_byte(0xc0);
const MALLORY: Address = Address::repeat_byte(0x66);

fn snapshots() -> GasSnapshots {
    GasSnapshots::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/examples.gas"
    ))
}

/// A chain with the named accounts funded, sending from `sender` by default.
fn chain(sender: Address) -> TestResult<TestChain> {
    let mut builder = TestChain::builder();
    for account in [OWNER, DEPLOYER, ALICE, BOB, CAROL, MALLORY] {
        builder = builder.fund(account, U256::from(FUNDS));
    }
    let mut chain = builder.build()?;
    chain.set_sender(sender);
    for (account, name) in [
        (OWNER, "owner"),
        (DEPLOYER, "deployer"),
        (ALICE, "alice"),
        (BOB, "bob"),
        (CAROL, "carol"),
        (MALLORY, "mallory"),
    ] {
        chain.label(account, name);
    }
    Ok(chain)
}

/// The token deployed by `OWNER`.
fn token_chain() -> TestResult<(TestChain, Contract)> {
    let mut chain = chain(OWNER)?;
    let token = chain.deploy(&artifact("token")?, ())?;
    Ok((chain, token))
}

#[test]
fn transfers_move_balances_and_log_transfer_events() -> TestResult {
    let (mut chain, token) = token_chain()?;
    chain.call(&token, mint(ALICE, 1_000))?;
    let r = chain.from(ALICE).send(&token, transfer(BOB, 300))?;
    r.expect_success()?;
    assert_eq!(r.output(), amount(1).to_be_bytes::<32>(), "returns true");
    assert_eq!(r.logs().len(), 1);
    r.expect_event(
        token.address(),
        &IToken::Transfer {
            from: ALICE,
            to: BOB,
            value: amount(300),
        },
    )?;
    assert_eq!(chain.view(&token, balance_of(ALICE))?, amount(700));
    assert_eq!(chain.view(&token, balance_of(BOB))?, amount(300));

    // Balances live where Solidity puts them: keccak(pad(owner) . 0).
    let mut preimage = BOB.into_word().to_vec();
    preimage.extend_from_slice(&[0; 32]);
    let stored = chain.storage(token.address(), keccak256(&preimage))?;
    assert_eq!(stored, B256::from(amount(300)));
    Ok(())
}

#[test]
fn failures_revert_with_solidity_reasons_and_change_nothing() -> TestResult {
    let (mut chain, token) = token_chain()?;
    let r = chain.from(ALICE).send(&token, transfer(BOB, 1))?;
    r.expect_revert("ERC20: transfer amount exceeds balance")?;
    assert!(r.logs().is_empty());

    let r = chain.from(BOB).send(&token, mint(ALICE, 5))?;
    r.expect_revert("Ownable: caller is not the owner")?;
    assert_eq!(chain.view(&token, balance_of(ALICE))?, U256::ZERO);
    Ok(())
}

#[test]
fn allowances_let_a_spender_move_tokens() -> TestResult {
    let (mut chain, token) = token_chain()?;
    chain.call(&token, mint(ALICE, 100))?;
    let approve = IToken::approveCall {
        spender: BOB,
        amount: amount(60),
    };
    let r = chain.from(ALICE).send(&token, approve)?;
    r.expect_success()?;
    r.expect_event(
        token.address(),
        &IToken::Approval {
            owner: ALICE,
            spender: BOB,
            value: amount(60),
        },
    )?;
    let from = IToken::transferFromCall {
        from: ALICE,
        to: BOB,
        amount: amount(50),
    };
    assert!(chain.from(BOB).call(&token, from.clone())?);
    let r = chain.from(BOB).send(&token, from)?;
    r.expect_revert("ERC20: insufficient allowance")?;
    let allowance = IToken::allowanceCall {
        owner: ALICE,
        spender: BOB,
    };
    assert_eq!(chain.view(&token, allowance)?, amount(10));
    assert_eq!(chain.view(&token, balance_of(BOB))?, amount(50));
    Ok(())
}

/// Exact gas of the token's deployment and of a transfer to a holder and to a new holder.
#[test]
fn token_gas_is_pinned() -> TestResult {
    let mut chain = chain(OWNER)?;
    let deploy = chain.tx().deploy_receipt(&artifact("token")?, ())?;
    let token = chain.at(deploy.contract_address().expect("deployed"), "token");
    chain.call(&token, mint(ALICE, 1_000))?;
    chain.call(&token, mint(BOB, 1))?;
    let to_holder = chain.from(ALICE).send(&token, transfer(BOB, 10))?;
    let fresh = Address::repeat_byte(0x77);
    let to_new = chain.from(ALICE).send(&token, transfer(fresh, 10))?;
    // 12 host calls: input (2), caller, call value, 2 keccaks (one per balance slot, used for
    // its read and its write), 2 storage reads, 2 storage writes, the log and the return value.
    let gas = to_holder.gas();
    let breakdown = gas.report().execution.clone().expect("code ran");
    let calls: u64 = breakdown.host.values().map(|g| g.calls).sum();
    assert_eq!(calls, 12);
    assert_eq!(breakdown.host[&HostFn::Keccak256].calls, 2);
    assert_eq!(breakdown.host[&HostFn::StorageWrite].calls, 2);
    // A transfer to a new holder sets a slot instead of resetting one.
    let costs = chain.chain().runtime().costs().clone();
    assert_eq!(
        to_new.gas_used() - to_holder.gas_used(),
        costs.storage_set - costs.storage_reset
    );
    assert_eq!(
        (
            deploy.gas().intrinsic(),
            deploy.gas_used(),
            to_holder.gas_used(),
            to_new.gas_used()
        ),
        (2_793_864, 2_900_083, 53_396, 68_396)
    );
    let snapshots = snapshots();
    snapshots.record("token.deploy", deploy.gas_used())?;
    snapshots.record("token.transfer.to_holder", to_holder.gas_used())?;
    snapshots.record_with_state(
        "token.transfer.to_new_holder",
        to_new.gas_used(),
        chain.state_root()?,
    )?;
    Ok(())
}

#[test]
fn a_reentrancy_attacker_drains_the_naive_vault() -> TestResult {
    let mut chain = chain(DEPLOYER)?;
    let vault = chain.deploy(&artifact("naive_vault")?, ())?;
    for victim in [ALICE, BOB, CAROL] {
        chain
            .from(victim)
            .value(amount(1_000))
            .call(&vault, INaiveVault::depositCall {})?;
    }
    assert_eq!(chain.balance(vault.address())?, amount(3_000));
    let attacker = chain.deploy(&artifact("reentrancy_attacker")?, (vault.address(),))?;
    let r = chain.from(MALLORY).value(amount(1_000)).send(
        &attacker,
        IReentrancyAttacker::attackCall { rounds: amount(3) },
    )?;
    r.expect_success()?;
    // The attacker got its deposit back four times: the vault is empty.
    assert_eq!(U256::from_be_slice(r.output()), amount(4_000));
    assert_eq!(chain.balance(attacker.address())?, amount(4_000));
    assert_eq!(chain.balance(vault.address())?, U256::ZERO);
    assert_eq!(
        chain.view(&attacker, IReentrancyAttacker::reentriesCall {})?,
        amount(3)
    );
    snapshots().record_with_state("naive_vault.attack", r.gas_used(), chain.state_root()?)?;
    Ok(())
}

#[test]
fn the_vault_pulls_tokens_and_enforces_its_time_lock() -> TestResult {
    // Each transaction in its own block, one second after the previous one.
    let mut chain = TestChain::builder()
        .fund(DEPLOYER, U256::from(FUNDS))
        .fund(ALICE, U256::from(FUNDS))
        .block_per_transaction(true)
        .build()?;
    chain.set_sender(DEPLOYER);
    let token = chain.deploy(&artifact("token")?, ())?;
    let vault = chain.deploy(&artifact("vault")?, (token.address(), 10u64))?;
    chain.call(&token, mint(ALICE, 500))?;

    // Without an allowance the token's transferFrom reverts, and so does the deposit.
    let deposit = IVault::depositCall {
        amount: amount(200),
    };
    let r = chain.from(ALICE).send(&vault, deposit.clone())?;
    r.expect_revert("Vault: token transfer failed")?;
    assert_eq!(
        chain.view(&vault, IVault::balanceOfCall { account: ALICE })?,
        U256::ZERO
    );

    let approve = IToken::approveCall {
        spender: vault.address(),
        amount: amount(200),
    };
    assert!(chain.from(ALICE).call(&token, approve)?);
    let deposited_at = chain.timestamp();
    let r = chain.from(ALICE).send(&vault, deposit)?;
    r.expect_success()?;
    // The token's Transfer log, then the vault's Deposit log.
    let emitters: Vec<Address> = r.logs().iter().map(|l| l.address).collect();
    assert_eq!(emitters, vec![token.address(), vault.address()]);
    assert_eq!(
        chain.view(&token, balance_of(vault.address()))?,
        amount(200)
    );
    assert_eq!(
        chain.view(&vault, IVault::balanceOfCall { account: ALICE })?,
        amount(200)
    );
    let unlock = chain.view(&vault, IVault::unlockTimeCall { account: ALICE })?;
    assert_eq!(unlock, deposited_at + 10);
    snapshots().record("vault.deposit", r.gas_used())?;

    // Each transaction is a new block one second later: locked for the next nine.
    let withdraw = IVault::withdrawCall {
        amount: amount(150),
    };
    while chain.timestamp() < deposited_at + 10 {
        let r = chain.from(ALICE).send(&vault, withdraw.clone())?;
        r.expect_revert("Vault: locked")?;
    }
    let r = chain.from(ALICE).send(&vault, withdraw)?;
    r.expect_success()?;
    assert_eq!(chain.view(&token, balance_of(ALICE))?, amount(450));
    assert_eq!(
        chain.view(&vault, IVault::balanceOfCall { account: ALICE })?,
        amount(50)
    );
    snapshots().record_with_state("vault.withdraw", r.gas_used(), chain.state_root()?)?;
    Ok(())
}

#[test]
fn the_factory_creates_counters_at_create_addresses() -> TestResult {
    let mut chain = chain(DEPLOYER)?;
    let factory = chain.deploy(&artifact("factory")?, ())?;
    let r = chain
        .from(ALICE)
        .send(&factory, IFactory::createCall { initial: amount(7) })?;
    r.expect_success()?;
    let child = factory.address().create(1);
    assert_eq!(r.output(), child.into_word().as_slice());
    let counter = chain.at(child, "counter");
    assert_eq!(chain.view(&counter, ICounter::countCall {})?, amount(7));
    assert_eq!(chain.view(&factory, IFactory::countCall {})?, U256::from(1));
    r.expect_event(
        factory.address(),
        &IFactory::Created {
            instance: child,
            creator: ALICE,
            index: U256::ZERO,
        },
    )?;
    assert_eq!(chain.code(child)?, artifact("counter")?.code());
    snapshots().record("factory.create", r.gas_used())?;
    Ok(())
}

#[test]
fn a_compute_kernel_returns_its_result() -> TestResult {
    let mut chain = chain(DEPLOYER)?;
    let fib = chain.deploy(&artifact("bench_fib")?, ())?;
    assert_eq!(
        chain.view(&fib, IKernel::runCall { n: amount(20) })?,
        amount(6_765)
    );
    let sieve = chain.deploy(&artifact("bench_sieve")?, ())?;
    assert_eq!(
        chain.view(&sieve, IKernel::runCall { n: amount(1_000) })?,
        amount(168)
    );
    let r = chain.send(&fib, IKernel::runCall { n: amount(20) })?;
    snapshots().record("bench_fib.run_20", r.gas_used())?;
    Ok(())
}

#[test]
fn hostile_contracts_fail_deterministically_without_harming_the_chain() -> TestResult {
    let mut chain = chain(DEPLOYER)?;
    let cases = [
        ("hostile_loop", TrapKind::OutOfGas),
        ("hostile_memory", TrapKind::OutOfGas),
        ("hostile_host_spam", TrapKind::OutOfGas),
        ("hostile_recursion", TrapKind::StackExhausted),
    ];
    for (name, expected) in cases {
        let contract = chain.deploy(&artifact(name)?, ())?;
        let r = chain
            .from(ALICE)
            .gas_limit(20_000_000)
            .send_raw(contract.address(), vec![])?;
        assert_eq!(
            r.status(),
            &Status::Failure(Failure::Trap(expected)),
            "{name}"
        );
        assert_eq!(r.gas_used(), 20_000_000, "{name}: a trap uses all the gas");
    }
    let huge = chain.deploy(&artifact("hostile_return")?, ())?;
    let r = chain
        .from(ALICE)
        .gas_limit(20_000_000)
        .send_raw(huge.address(), vec![])?;
    assert!(
        matches!(
            r.status(),
            Status::Failure(Failure::Trap(TrapKind::ReturnDataTooLarge { .. }))
        ),
        "{r}"
    );
    // The chain still works afterwards.
    let r = chain.from(ALICE).value(amount(5)).transfer(BOB)?;
    assert_eq!(r.status(), &Status::Success);
    Ok(())
}
