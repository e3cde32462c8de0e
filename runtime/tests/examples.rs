//! The example contracts (contracts/examples, built into contracts/build) through the runtime:
//! the reentrancy attack on the naive vault, the time-locked token vault with its
//! cross-contract calls and rollback, the factory, a compute kernel, and the hostile modules.

mod support;

use support::*;
use tally_runtime::exec::{create_address, BlockContext, Failure, Receipt, Runtime, Status};
use tally_runtime::trie::{keccak256, MemoryStore};
use tally_runtime::tx::DeployPayload;
use tally_runtime::{H160, H256, U256};
use tally_vm::TrapKind;

const FUNDS: u64 = 1_000_000_000_000_000;
const DEPLOYER: H160 = H160([0xd0; 20]);
const ALICE: H160 = H160([0xa1; 20]);
const BOB: H160 = H160([0xb0; 20]);
const CAROL: H160 = H160([0xc0; 20]);
const MALLORY: H160 = H160([0x66; 20]);

/// A funded chain on which every transaction goes into its own block, one second apart.
struct Chain {
    rt: Runtime<MemoryStore>,
    number: u64,
}

impl Chain {
    fn new() -> Self {
        let accounts = [DEPLOYER, ALICE, BOB, CAROL, MALLORY].map(|a| (a, FUNDS));
        Chain {
            rt: runtime(&accounts),
            number: 0,
        }
    }

    fn next_block(&mut self) -> BlockContext {
        self.number += 1;
        block(self.number)
    }

    fn send(&mut self, from: H160, to: Option<H160>, value: u64, data: Vec<u8>) -> Receipt {
        let nonce = self.rt.state_mut().nonce(&from).unwrap();
        let t = tx(nonce, to, value, data, TX_GAS);
        let mut b = self.next_block();
        self.rt.transact(&mut b, from, &t).unwrap()
    }

    fn deploy(&mut self, name: &str, ctor: &[u8]) -> H160 {
        let data = DeployPayload::encode(&artifact(name), ctor);
        let r = self.send(DEPLOYER, None, 0, data);
        assert_eq!(r.status, Status::Success, "deploying {name}: {r:?}");
        r.contract_address.unwrap()
    }

    fn balance(&mut self, a: H160) -> U256 {
        self.rt.state_mut().balance(&a).unwrap()
    }

    fn view_word(&mut self, to: H160, data: Vec<u8>) -> U256 {
        let env = block(self.number).env;
        let r = self.rt.view(&env, ALICE, to, &data, TX_GAS).unwrap();
        assert_eq!(r.status, Status::Success, "{r:?}");
        U256::from_big_endian(&r.output)
    }
}

#[test]
fn a_reentrancy_attacker_drains_the_naive_vault() {
    let mut chain = Chain::new();
    let vault = chain.deploy("naive_vault", &[]);
    for victim in [ALICE, BOB, CAROL] {
        let r = chain.send(victim, Some(vault), 1_000, calldata("deposit()", &[]));
        assert_eq!(r.status, Status::Success, "{r:?}");
    }
    assert_eq!(chain.balance(vault), U256::from(3_000));
    let attacker = chain.deploy("reentrancy_attacker", &address_word(vault));
    let r = chain.send(
        MALLORY,
        Some(attacker),
        1_000,
        calldata("attack(uint256)", &[amount_word(3)]),
    );
    assert_eq!(r.status, Status::Success, "{r:?}");
    // The attacker got its deposit back four times: the vault is empty.
    assert_eq!(U256::from_big_endian(&r.output), U256::from(4_000));
    assert_eq!(chain.balance(attacker), U256::from(4_000));
    assert_eq!(chain.balance(vault), U256::zero());
    assert_eq!(
        chain.view_word(attacker, calldata("reentries()", &[])),
        U256::from(3)
    );
}

#[test]
fn the_vault_pulls_tokens_and_enforces_its_time_lock() {
    let mut chain = Chain::new();
    let token = chain.deploy("token", &[]);
    let mut ctor = address_word(token).to_vec();
    ctor.extend_from_slice(&amount_word(10));
    let vault = chain.deploy("vault", &ctor);
    let mint = calldata(
        "mint(address,uint256)",
        &[address_word(ALICE), amount_word(500)],
    );
    assert!(chain
        .send(DEPLOYER, Some(token), 0, mint)
        .status
        .is_success());

    // Without an allowance the token's transferFrom reverts, and so does the deposit.
    let deposit = calldata("deposit(uint256)", &[amount_word(200)]);
    let r = chain.send(ALICE, Some(vault), 0, deposit.clone());
    assert_eq!(r.status, Status::Revert);
    assert_eq!(error_reason(&r.output), "Vault: token transfer failed");
    let balance_of = |a: H160| calldata("balanceOf(address)", &[address_word(a)]);
    assert_eq!(chain.view_word(vault, balance_of(ALICE)), U256::zero());

    let approve = calldata(
        "approve(address,uint256)",
        &[address_word(vault), amount_word(200)],
    );
    assert!(chain
        .send(ALICE, Some(token), 0, approve)
        .status
        .is_success());
    let r = chain.send(ALICE, Some(vault), 0, deposit);
    assert_eq!(r.status, Status::Success, "{r:?}");
    let deposited_at = block(chain.number).env.timestamp;
    // The token's Transfer log, then the vault's Deposit log.
    let emitters: Vec<H160> = r.logs.iter().map(|l| l.address).collect();
    assert_eq!(emitters, vec![token, vault]);
    assert_eq!(chain.view_word(token, balance_of(vault)), U256::from(200));
    assert_eq!(chain.view_word(vault, balance_of(ALICE)), U256::from(200));
    let unlock = chain.view_word(
        vault,
        calldata("unlockTime(address)", &[address_word(ALICE)]),
    );
    assert_eq!(unlock, U256::from(deposited_at + 10));

    // Each transaction is a new block one second later: locked for the next nine.
    let withdraw = calldata("withdraw(uint256)", &[amount_word(150)]);
    while block(chain.number + 1).env.timestamp < deposited_at + 10 {
        let r = chain.send(ALICE, Some(vault), 0, withdraw.clone());
        assert_eq!(r.status, Status::Revert);
        assert_eq!(error_reason(&r.output), "Vault: locked");
    }
    let r = chain.send(ALICE, Some(vault), 0, withdraw);
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(chain.view_word(token, balance_of(ALICE)), U256::from(450));
    assert_eq!(chain.view_word(vault, balance_of(ALICE)), U256::from(50));
}

#[test]
fn the_factory_creates_counters_at_create_addresses() {
    let mut chain = Chain::new();
    let factory = chain.deploy("factory", &[]);
    let r = chain.send(
        ALICE,
        Some(factory),
        0,
        calldata("create(uint256)", &[amount_word(7)]),
    );
    assert_eq!(r.status, Status::Success, "{r:?}");
    let child = create_address(&factory, 1);
    assert_eq!(r.output, address_word(child));
    assert_eq!(
        chain.view_word(child, calldata("count()", &[])),
        U256::from(7)
    );
    assert_eq!(
        chain.view_word(factory, calldata("count()", &[])),
        U256::one()
    );
    let created = r
        .logs
        .iter()
        .find(|l| l.address == factory)
        .expect("Created log");
    assert_eq!(
        created.topics[0],
        H256(keccak256(b"Created(address,address,uint256)"))
    );
    assert_eq!(created.topics[1], H256(address_word(child)));
    let code = chain.rt.state_mut().code(&child).unwrap();
    assert_eq!(&*code, &artifact("counter")[..]);
}

#[test]
fn a_compute_kernel_returns_its_result() {
    let mut chain = Chain::new();
    let fib = chain.deploy("bench_fib", &[]);
    assert_eq!(
        chain.view_word(fib, calldata("run(uint256)", &[amount_word(20)])),
        U256::from(6_765)
    );
    let sieve = chain.deploy("bench_sieve", &[]);
    assert_eq!(
        chain.view_word(sieve, calldata("run(uint256)", &[amount_word(1_000)])),
        U256::from(168)
    );
}

#[test]
fn hostile_contracts_fail_deterministically_without_harming_the_chain() {
    let mut chain = Chain::new();
    let cases = [
        ("hostile_loop", TrapKind::OutOfGas),
        ("hostile_memory", TrapKind::OutOfGas),
        ("hostile_host_spam", TrapKind::OutOfGas),
        ("hostile_recursion", TrapKind::StackExhausted),
    ];
    for (name, expected) in cases {
        let contract = chain.deploy(name, &[]);
        let r = chain.send(ALICE, Some(contract), 0, vec![]);
        assert_eq!(r.status, Status::Failure(Failure::Trap(expected)), "{name}");
        assert_eq!(r.gas_used, TX_GAS, "{name}: a trap uses all the gas");
    }
    let huge = chain.deploy("hostile_return", &[]);
    let r = chain.send(ALICE, Some(huge), 0, vec![]);
    assert!(
        matches!(
            r.status,
            Status::Failure(Failure::Trap(TrapKind::ReturnDataTooLarge { .. }))
        ),
        "{r:?}"
    );
    // The chain still works afterwards.
    let r = chain.send(ALICE, Some(BOB), 5, vec![]);
    assert_eq!(r.status, Status::Success);
}
