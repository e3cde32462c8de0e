//! A deliberately vulnerable vault, the target of `reentrancy_attacker`.
//!
//! - `deposit()` payable, or a plain value transfer (empty calldata): credits the caller;
//! - `withdraw()`: sends the caller's whole balance with a `call` carrying the value and empty
//!   calldata (which runs the recipient's `receive` handler) and only then sets the balance to
//!   zero. A recipient that calls `withdraw()` again from its `receive` handler is paid again
//!   for the same balance: the classic reentrancy bug;
//! - `balanceOf(address) -> uint256`.
//!
//! Storage: slot 0, the balances mapping.

#![no_std]

use tally_sdk::prelude::*;

const BALANCES: Mapping<Address, U256> = Mapping::new(0);

entry_points!(call = dispatch);

pub fn dispatch() {
    dispatch! {
        receive => deposit;
        fn deposit() payable => deposit;
        fn withdraw() => withdraw;
        fn balanceOf(Address) => |a: Address| BALANCES.get(&a);
    }
}

fn deposit() {
    let user = env::caller();
    let balance = BALANCES.get(&user).checked_add(&env::call_value());
    BALANCES.set(
        &user,
        &balance.unwrap_or_else(|| revert_str("NaiveVault: overflow")),
    );
}

fn withdraw() {
    let user = env::caller();
    let amount = BALANCES.get(&user);
    require(!amount.is_zero(), "NaiveVault: nothing to withdraw");
    // BUG (on purpose): the value is sent before the balance is cleared.
    let status = env::call(&user, &amount, env::ALL_GAS, &[]);
    require(status.is_success(), "NaiveVault: send failed");
    BALANCES.set(&user, &U256::ZERO);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::vec::Vec;

    use super::*;
    use tally_sdk::testing::{self, CallRequest};

    const VAULT: Address = Address([0xc0; 20]);
    const VICTIM: Address = Address([0x51; 20]);
    const ATTACKER: Address = Address([0xa7; 20]);

    fn u(n: u64) -> U256 {
        U256::from_u64(n)
    }

    fn deposit_as(who: Address, value: u64) {
        testing::set_caller(who);
        testing::set_value(u(value));
        testing::run(dispatch, &selector!("deposit()").to_be_bytes()).unwrap();
        testing::set_value(U256::ZERO);
    }

    #[test]
    fn honest_withdrawal() {
        testing::reset();
        testing::set_balance(VICTIM, u(100));
        deposit_as(VICTIM, 100);
        testing::set_call_handler(|req: &CallRequest| {
            assert_eq!((req.to, req.value), (VICTIM, u(100)));
            assert!(
                req.input.is_empty(),
                "the value goes to the receive handler"
            );
            (0, Vec::new())
        });
        testing::run(dispatch, &selector!("withdraw()").to_be_bytes()).unwrap();
        assert_eq!(testing::balance_of(VICTIM), u(100));
        let out = testing::run(dispatch, &selector!("withdraw()").to_be_bytes());
        assert_eq!(out.revert_reason(), "NaiveVault: nothing to withdraw");
    }

    #[test]
    fn reentrant_receiver_is_paid_again_for_the_same_balance() {
        testing::reset();
        testing::set_balance(VICTIM, u(100));
        testing::set_balance(ATTACKER, u(10));
        deposit_as(VICTIM, 100);
        deposit_as(ATTACKER, 10);
        // The attacker's receive handler re-enters withdraw() three times.
        let reentries = Rc::new(Cell::new(0));
        let r = reentries.clone();
        testing::set_call_handler(move |req: &CallRequest| {
            assert_eq!((req.to, req.value), (ATTACKER, u(10)));
            if r.get() < 3 {
                r.set(r.get() + 1);
                testing::run(dispatch, &selector!("withdraw()").to_be_bytes()).unwrap();
            }
            (0, Vec::new())
        });
        testing::set_caller(ATTACKER);
        testing::run(dispatch, &selector!("withdraw()").to_be_bytes()).unwrap();
        assert_eq!(reentries.get(), 3);
        assert_eq!(testing::balance_of(ATTACKER), u(40));
        assert_eq!(testing::balance_of(VAULT), u(70));
    }
}
