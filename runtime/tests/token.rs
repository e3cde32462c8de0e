//! The example ERC-20 token (contracts/examples/token) through the runtime: deployment,
//! minting, transfers with their `Transfer` logs, allowances, revert reasons, and exact gas.

mod support;

use support::*;
use tally_runtime::exec::{Receipt, Runtime, Status};
use tally_runtime::trie::{keccak256, MemoryStore};
use tally_runtime::tx::DeployPayload;
use tally_runtime::{H160, H256, U256};
use tally_vm::HostFn;

const FUNDS: u64 = 1_000_000_000_000;
const OWNER: H160 = H160([0xaa; 20]);
const ALICE: H160 = H160([0xa1; 20]);
const BOB: H160 = H160([0xb0; 20]);

struct Token {
    rt: Runtime<MemoryStore>,
    address: H160,
    deploy: Receipt,
    nonces: std::collections::HashMap<H160, u64>,
}

impl Token {
    fn deploy() -> Self {
        let mut rt = runtime(&[(OWNER, FUNDS), (ALICE, FUNDS), (BOB, FUNDS)]);
        let data = DeployPayload::encode(&artifact("token"), &[]);
        let t = tx(0, None, 0, data, TX_GAS);
        let deploy = rt.transact(&mut block(1), OWNER, &t).unwrap();
        assert_eq!(deploy.status, Status::Success, "{deploy:?}");
        let address = deploy.contract_address.unwrap();
        let mut nonces = std::collections::HashMap::new();
        nonces.insert(OWNER, 1);
        Token {
            rt,
            address,
            deploy,
            nonces,
        }
    }

    fn send(&mut self, from: H160, data: Vec<u8>) -> Receipt {
        let nonce = self.nonces.entry(from).or_insert(0);
        let t = tx(*nonce, Some(self.address), 0, data, TX_GAS);
        *nonce += 1;
        self.rt.transact(&mut block(2), from, &t).unwrap()
    }

    fn view(&mut self, data: Vec<u8>) -> Vec<u8> {
        let r = self
            .rt
            .view(&block(2).env, ALICE, self.address, &data, TX_GAS)
            .unwrap();
        assert_eq!(r.status, Status::Success);
        r.output
    }

    fn balance_of(&mut self, who: H160) -> U256 {
        let out = self.view(calldata("balanceOf(address)", &[address_word(who)]));
        U256::from_big_endian(&out)
    }
}

#[test]
fn transfers_move_balances_and_log_transfer_events() {
    let mut token = Token::deploy();
    let mint = calldata(
        "mint(address,uint256)",
        &[address_word(ALICE), amount_word(1_000)],
    );
    let r = token.send(OWNER, mint);
    assert_eq!(r.status, Status::Success, "{r:?}");
    let r = token.send(
        ALICE,
        calldata(
            "transfer(address,uint256)",
            &[address_word(BOB), amount_word(300)],
        ),
    );
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(r.output, amount_word(1), "returns true");
    assert_eq!(r.logs.len(), 1);
    let log = &r.logs[0];
    assert_eq!(log.address, token.address);
    assert_eq!(
        log.topics,
        vec![
            H256(keccak256(b"Transfer(address,address,uint256)")),
            H256(address_word(ALICE)),
            H256(address_word(BOB)),
        ]
    );
    assert_eq!(log.data, amount_word(300));
    assert_eq!(token.balance_of(ALICE), U256::from(700));
    assert_eq!(token.balance_of(BOB), U256::from(300));

    // Balances live where Solidity puts them: keccak(pad(owner) . 0).
    let mut preimage = address_word(BOB).to_vec();
    preimage.extend_from_slice(&[0; 32]);
    let slot = H256(keccak256(&preimage));
    let stored = token.rt.state_mut().storage(&token.address, &slot).unwrap();
    assert_eq!(stored, H256(amount_word(300)));
}

#[test]
fn failures_revert_with_solidity_reasons_and_change_nothing() {
    let mut token = Token::deploy();
    let too_much = calldata(
        "transfer(address,uint256)",
        &[address_word(BOB), amount_word(1)],
    );
    let r = token.send(ALICE, too_much);
    assert_eq!(r.status, Status::Revert);
    assert_eq!(
        error_reason(&r.output),
        "ERC20: transfer amount exceeds balance"
    );
    assert!(r.logs.is_empty());

    let mint = calldata(
        "mint(address,uint256)",
        &[address_word(ALICE), amount_word(5)],
    );
    let r = token.send(BOB, mint);
    assert_eq!(r.status, Status::Revert);
    assert_eq!(error_reason(&r.output), "Ownable: caller is not the owner");
    assert_eq!(token.balance_of(ALICE), U256::zero());
}

#[test]
fn allowances_let_a_spender_move_tokens() {
    let mut token = Token::deploy();
    token.send(
        OWNER,
        calldata(
            "mint(address,uint256)",
            &[address_word(ALICE), amount_word(100)],
        ),
    );
    let approve = calldata(
        "approve(address,uint256)",
        &[address_word(BOB), amount_word(60)],
    );
    let r = token.send(ALICE, approve);
    assert_eq!(r.status, Status::Success);
    assert_eq!(
        r.logs[0].topics[0],
        H256(keccak256(b"Approval(address,address,uint256)"))
    );
    let from = calldata(
        "transferFrom(address,address,uint256)",
        &[address_word(ALICE), address_word(BOB), amount_word(50)],
    );
    assert_eq!(token.send(BOB, from.clone()).status, Status::Success);
    let r = token.send(BOB, from);
    assert_eq!(r.status, Status::Revert);
    assert_eq!(error_reason(&r.output), "ERC20: insufficient allowance");
    let allowance = token.view(calldata(
        "allowance(address,address)",
        &[address_word(ALICE), address_word(BOB)],
    ));
    assert_eq!(allowance, amount_word(10));
    assert_eq!(token.balance_of(BOB), U256::from(50));
}

/// Exact gas of the token's deployment and of a transfer to a holder and to a new holder.
#[test]
fn token_gas_is_pinned() {
    let mut token = Token::deploy();
    token.send(
        OWNER,
        calldata(
            "mint(address,uint256)",
            &[address_word(ALICE), amount_word(1_000)],
        ),
    );
    token.send(
        OWNER,
        calldata(
            "mint(address,uint256)",
            &[address_word(BOB), amount_word(1)],
        ),
    );
    let to_holder = token.send(
        ALICE,
        calldata(
            "transfer(address,uint256)",
            &[address_word(BOB), amount_word(10)],
        ),
    );
    let fresh = H160([0x77; 20]);
    let to_new = token.send(
        ALICE,
        calldata(
            "transfer(address,uint256)",
            &[address_word(fresh), amount_word(10)],
        ),
    );
    // 12 host calls: input (2), caller, call value, 2 keccaks (one per balance slot, used for
    // its read and its write), 2 storage reads, 2 storage writes, the log and the return value.
    let breakdown = to_holder.gas.execution.clone().unwrap();
    let calls: u64 = breakdown.host.values().map(|g| g.calls).sum();
    assert_eq!(calls, 12);
    assert_eq!(breakdown.host[&HostFn::Keccak256].calls, 2);
    assert_eq!(breakdown.host[&HostFn::StorageWrite].calls, 2);
    // A transfer to a new holder sets a slot instead of resetting one.
    let costs = token.rt.costs().clone();
    assert_eq!(
        i128::from(to_new.gas_used) - i128::from(to_holder.gas_used),
        i128::from(costs.storage_set) - i128::from(costs.storage_reset)
    );
    assert_eq!(
        (
            token.deploy.gas.intrinsic,
            token.deploy.gas_used,
            to_holder.gas_used,
            to_new.gas_used
        ),
        (369_001_988, 372_040_265, 4_655_618, 4_630_454)
    );
}
