//! A time-locked vault holding deposits of one ERC-20 token and of native value.
//!
//! - constructor `(address token, uint64 lockPeriod)`: the token it accepts and how long each
//!   deposit locks the depositor's funds, in seconds.
//! - `deposit(uint256 amount)`: pulls `amount` tokens from the caller with
//!   `token.transferFrom(caller, vault, amount)` (the caller approves the vault first). If that
//!   call reverts, fails or returns `false`, the vault reverts with
//!   `Error("Vault: token transfer failed")`, so nothing of the deposit remains.
//! - `depositNative()` (payable), or a plain value transfer (empty calldata, the `receive`
//!   handler): deposits the value sent.
//! - Every deposit sets the caller's unlock time to `block timestamp + lockPeriod`.
//! - `withdraw(uint256 amount)`, `withdrawNative(uint256 amount)`: only from the unlock time on
//!   (`Error("Vault: locked")`), at most the deposited balance
//!   (`Error("Vault: insufficient balance")`). Zero amounts revert (`Error("Vault: zero
//!   amount")`), for deposits too. The balance is lowered before the token or the
//!   value is sent (checks-effects-interactions), and the whole withdrawal reverts if sending
//!   fails.
//! - views: `token()`, `lockPeriod()`, `balanceOf(address)` (tokens), `nativeBalanceOf(address)`,
//!   `unlockTime(address)`.
//!
//! Events: `Deposit(address indexed account, address indexed asset, uint256 amount, uint64
//! unlockTime)` and `Withdrawal(address indexed account, address indexed asset, uint256 amount)`,
//! where `asset` is the token, or the zero address for native value.
//!
//! Storage: 0 token, 1 lock period, 2 token balances, 3 native balances, 4 unlock times.

#![no_std]

use tally_sdk::prelude::*;

const TOKEN: Slot<Address> = Slot::new(0);
const LOCK_PERIOD: Slot<u64> = Slot::new(1);
const TOKEN_BALANCES: Mapping<Address, U256> = Mapping::new(2);
const NATIVE_BALANCES: Mapping<Address, U256> = Mapping::new(3);
const UNLOCK_AT: Mapping<Address, u64> = Mapping::new(4);

const TRANSFER_FROM: u32 = selector!("transferFrom(address,address,uint256)");
const TRANSFER: u32 = selector!("transfer(address,uint256)");

entry_points!(call = dispatch, deploy = constructor);

pub fn constructor() {
    let (token, lock_period): (Address, u64) = abi::decode(env::input());
    require(!token.is_zero(), "Vault: zero token");
    TOKEN.set(&token);
    LOCK_PERIOD.set(&lock_period);
}

pub fn dispatch() {
    dispatch! {
        receive => deposit_native;
        fn deposit(U256) => deposit;
        fn depositNative() payable => deposit_native;
        fn withdraw(U256) => withdraw;
        fn withdrawNative(U256) => withdraw_native;
        fn token() => || TOKEN.get();
        fn lockPeriod() => || LOCK_PERIOD.get();
        fn balanceOf(Address) => |a: Address| TOKEN_BALANCES.get(&a);
        fn nativeBalanceOf(Address) => |a: Address| NATIVE_BALANCES.get(&a);
        fn unlockTime(Address) => |a: Address| UNLOCK_AT.get(&a);
    }
}

fn deposit(amount: U256) {
    let user = env::caller();
    let token = TOKEN.get();
    token_call(
        &token,
        abi::encode_call(TRANSFER_FROM, &(user, env::address(), amount)),
    );
    credit(&TOKEN_BALANCES, user, token, amount);
}

fn deposit_native() {
    credit(
        &NATIVE_BALANCES,
        env::caller(),
        Address::ZERO,
        env::call_value(),
    );
}

fn withdraw(amount: U256) {
    let user = env::caller();
    let token = TOKEN.get();
    debit(&TOKEN_BALANCES, user, token, amount);
    token_call(&token, abi::encode_call(TRANSFER, &(user, amount)));
}

fn withdraw_native(amount: U256) {
    let user = env::caller();
    debit(&NATIVE_BALANCES, user, Address::ZERO, amount);
    require(
        env::transfer(&user, &amount),
        "Vault: native transfer failed",
    );
}

fn credit(balances: &Mapping<Address, U256>, user: Address, asset: Address, amount: U256) {
    require(!amount.is_zero(), "Vault: zero amount");
    let balance = balances.get(&user).checked_add(&amount);
    balances.set(
        &user,
        &balance.unwrap_or_else(|| revert_str("Vault: balance overflow")),
    );
    let unlock = block::timestamp().saturating_add(LOCK_PERIOD.get());
    UNLOCK_AT.set(&user, &unlock);
    emit!("Deposit(address,address,uint256,uint64)", user, asset; amount, unlock);
}

fn debit(balances: &Mapping<Address, U256>, user: Address, asset: Address, amount: U256) {
    require(!amount.is_zero(), "Vault: zero amount");
    require(block::timestamp() >= UNLOCK_AT.get(&user), "Vault: locked");
    let balance = balances.get(&user).checked_sub(&amount);
    balances.set(
        &user,
        &balance.unwrap_or_else(|| revert_str("Vault: insufficient balance")),
    );
    emit!("Withdrawal(address,address,uint256)", user, asset; amount);
}

/// Calls the token; it must succeed and return `true` (or nothing, like some old tokens).
fn token_call(token: &Address, input: &[u8]) {
    let ok = match env::call(token, &U256::ZERO, env::ALL_GAS, input) {
        CallStatus::Success => {
            let out = env::return_data();
            out.is_empty() || out.first_chunk::<32>().and_then(bool::from_word) == Some(true)
        }
        CallStatus::Revert | CallStatus::Failure => false,
    };
    require(ok, "Vault: token transfer failed");
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;
    use std::vec::Vec;

    use super::*;
    use tally_sdk::testing::{self, CallRequest, Outcome};

    const TOKEN_ADDR: Address = Address([0x70; 20]);
    const VAULT: Address = Address([0xc0; 20]);
    const ALICE: Address = Address([0xa1; 20]);

    fn u(n: u64) -> U256 {
        U256::from_u64(n)
    }

    /// A fake token: balances, and whether `transferFrom` is allowed.
    #[derive(Default)]
    struct FakeToken {
        balances: BTreeMap<Address, U256>,
        refuse: bool,
        calls: Vec<Vec<u8>>,
    }

    fn setup() -> Rc<RefCell<FakeToken>> {
        testing::reset();
        testing::set_caller(ALICE);
        let input = abi::encode(&(TOKEN_ADDR, 100u64));
        testing::run(constructor, input).unwrap();
        let token = Rc::new(RefCell::new(FakeToken::default()));
        token.borrow_mut().balances.insert(ALICE, u(1000));
        let t = token.clone();
        testing::set_call_handler(move |req: &CallRequest| {
            assert_eq!(req.to, TOKEN_ADDR);
            let mut t = t.borrow_mut();
            t.calls.push(req.input.clone());
            if t.refuse {
                return (
                    1,
                    abi::encode_error("ERC20: insufficient allowance").to_vec(),
                );
            }
            let (sel, args) = req.input.split_at(4);
            let (from, to, amount) = match u32::from_be_bytes(sel.try_into().unwrap()) {
                TRANSFER_FROM => abi::decode::<(Address, Address, U256)>(args),
                TRANSFER => {
                    let (to, amount): (Address, U256) = abi::decode(args);
                    (req.from, to, amount)
                }
                _ => return (1, Vec::new()),
            };
            let have = t.balances.get(&from).copied().unwrap_or_default();
            let Some(left) = have.checked_sub(&amount) else {
                return (1, Vec::new());
            };
            t.balances.insert(from, left);
            let b = t.balances.get(&to).copied().unwrap_or_default();
            t.balances.insert(to, b.wrapping_add(&amount));
            (0, abi::encode(&true).to_vec())
        });
        token
    }

    fn call<A: abi::EncodeArgs>(sel: u32, args: &A) -> Outcome {
        testing::run(dispatch, abi::encode_call(sel, args))
    }

    fn word(out: Outcome) -> U256 {
        U256::from_be_bytes(out.unwrap()[..].try_into().unwrap())
    }

    #[test]
    fn token_deposit_lock_and_withdraw() {
        let token = setup();
        testing::set_block(1, 1000);
        call(selector!("deposit(uint256)"), &u(300)).unwrap();
        assert_eq!(token.borrow().balances[&VAULT], u(300));
        assert_eq!(word(call(selector!("balanceOf(address)"), &ALICE)), u(300));
        assert_eq!(
            word(call(selector!("unlockTime(address)"), &ALICE)),
            u(1100)
        );
        let logs = testing::logs();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].topics[1..], [ALICE.to_word(), TOKEN_ADDR.to_word()]);
        assert_eq!(logs[0].data, abi::encode(&(u(300), 1100u64)));

        let withdraw = selector!("withdraw(uint256)");
        testing::set_block(2, 1099);
        assert_eq!(call(withdraw, &u(1)).revert_reason(), "Vault: locked");
        testing::set_block(3, 1100);
        assert_eq!(
            call(withdraw, &u(301)).revert_reason(),
            "Vault: insufficient balance"
        );
        call(withdraw, &u(200)).unwrap();
        assert_eq!(token.borrow().balances[&ALICE], u(900));
        assert_eq!(word(call(selector!("balanceOf(address)"), &ALICE)), u(100));
    }

    #[test]
    fn failed_token_call_reverts_the_deposit() {
        let token = setup();
        token.borrow_mut().refuse = true;
        let out = call(selector!("deposit(uint256)"), &u(5));
        assert_eq!(out.revert_reason(), "Vault: token transfer failed");
        assert_eq!(word(call(selector!("balanceOf(address)"), &ALICE)), u(0));
        assert!(testing::logs().is_empty());
        // more than the depositor has: the token reverts
        token.borrow_mut().refuse = false;
        let out = call(selector!("deposit(uint256)"), &u(5000));
        assert_eq!(out.revert_reason(), "Vault: token transfer failed");
        // a failed withdrawal keeps the balance
        call(selector!("deposit(uint256)"), &u(5)).unwrap();
        testing::set_block(9, 2_000_000_000);
        token.borrow_mut().refuse = true;
        let out = call(selector!("withdraw(uint256)"), &u(5));
        assert_eq!(out.revert_reason(), "Vault: token transfer failed");
        assert_eq!(word(call(selector!("balanceOf(address)"), &ALICE)), u(5));
    }

    #[test]
    fn native_deposit_and_withdraw() {
        setup();
        testing::set_balance(ALICE, u(100));
        testing::set_value(u(20));
        assert_eq!(testing::run(dispatch, &[]), Outcome::Success(Vec::new()));
        call(selector!("depositNative()"), &()).unwrap();
        assert_eq!(testing::balance_of(VAULT), u(40));
        assert_eq!(
            call(selector!("withdrawNative(uint256)"), &u(1)).revert_reason(),
            "non-payable"
        );
        testing::set_value(U256::ZERO);
        assert_eq!(
            word(call(selector!("nativeBalanceOf(address)"), &ALICE)),
            u(40)
        );
        assert_eq!(
            call(selector!("depositNative()"), &()).revert_reason(),
            "Vault: zero amount"
        );
        let withdraw = selector!("withdrawNative(uint256)");
        assert_eq!(call(withdraw, &u(40)).revert_reason(), "Vault: locked");
        testing::set_block(5, 1_700_000_100);
        call(withdraw, &u(40)).unwrap();
        assert_eq!(testing::balance_of(ALICE), u(100));
        assert_eq!(testing::balance_of(VAULT), u(0));
    }
}
