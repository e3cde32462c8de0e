//! An ERC-20 token (OpenZeppelin semantics and revert reasons) with an owner who can mint.
//!
//! - constructor `(string name, string symbol, uint8 decimals)`; empty input means
//!   `("Tally Token", "TLY", 18)`. The deployer becomes the owner. Nothing is minted.
//! - `name()`, `symbol()`, `decimals()`, `totalSupply()`, `balanceOf(address)`,
//!   `allowance(address,address)`, `owner()`;
//! - `transfer(address,uint256)`, `approve(address,uint256)`,
//!   `transferFrom(address,address,uint256)` return `true` or revert;
//! - `mint(address,uint256)`: owner only.
//!
//! Events: `Transfer(address indexed from, address indexed to, uint256 value)` (minting is a
//! transfer from the zero address) and `Approval(address indexed owner, address indexed
//! spender, uint256 value)`. As in OpenZeppelin 5, `transferFrom` does not emit `Approval`, and
//! an allowance of `2^256 - 1` is infinite (never decreased).
//!
//! Storage (OpenZeppelin's ERC20 order): 0 balances, 1 allowances, 2 total supply, 3 name,
//! 4 symbol, 5 decimals, 6 owner.

#![no_std]

use tally_sdk::prelude::*;

const BALANCES: Mapping<Address, U256> = Mapping::new(0);
const ALLOWANCES: Mapping<Address, Mapping<Address, U256>> = Mapping::new(1);
const TOTAL_SUPPLY: Slot<U256> = Slot::new(2);
const NAME: StorageBytes = StorageBytes::new(3);
const SYMBOL: StorageBytes = StorageBytes::new(4);
const DECIMALS: Slot<u8> = Slot::new(5);
const OWNER: Slot<Address> = Slot::new(6);

entry_points!(call = dispatch, deploy = constructor);

pub fn constructor() {
    let input = env::input();
    let (name, symbol, decimals): (AbiStr, AbiStr, u8) = if input.is_empty() {
        (AbiStr(b"Tally Token"), AbiStr(b"TLY"), 18)
    } else {
        abi::decode(input)
    };
    NAME.set(name.as_bytes());
    SYMBOL.set(symbol.as_bytes());
    DECIMALS.set(&decimals);
    OWNER.set(&env::caller());
}

pub fn dispatch() {
    dispatch! {
        fn name() => || AbiStr(NAME.get());
        fn symbol() => || AbiStr(SYMBOL.get());
        fn decimals() => || DECIMALS.get();
        fn totalSupply() => || TOTAL_SUPPLY.get();
        fn balanceOf(Address) => |account: Address| BALANCES.get(&account);
        fn allowance(Address, Address) => allowance;
        fn owner() => || OWNER.get();
        fn transfer(Address, U256) => transfer;
        fn approve(Address, U256) => approve;
        fn transferFrom(Address, Address, U256) => transfer_from;
        fn mint(Address, U256) => mint;
    }
}

fn allowance(owner: Address, spender: Address) -> U256 {
    ALLOWANCES.at(&owner).get(&spender)
}

fn transfer(to: Address, amount: U256) -> bool {
    move_tokens(env::caller(), to, amount);
    true
}

fn approve(spender: Address, amount: U256) -> bool {
    require(!spender.is_zero(), "ERC20: approve to the zero address");
    let owner = env::caller();
    ALLOWANCES.at(&owner).set(&spender, &amount);
    emit!("Approval(address,address,uint256)", owner, spender; amount);
    true
}

fn transfer_from(from: Address, to: Address, amount: U256) -> bool {
    let spender = env::caller();
    let allowance = ALLOWANCES.at(&from).entry(&spender);
    let allowed = allowance.get();
    if allowed != U256::MAX {
        let left = allowed.checked_sub(&amount);
        allowance.set(&left.unwrap_or_else(|| revert_str("ERC20: insufficient allowance")));
    }
    move_tokens(from, to, amount);
    true
}

fn mint(to: Address, amount: U256) {
    require(
        env::caller() == OWNER.get(),
        "Ownable: caller is not the owner",
    );
    require(!to.is_zero(), "ERC20: mint to the zero address");
    let supply = TOTAL_SUPPLY.get().checked_add(&amount);
    TOTAL_SUPPLY.set(&supply.unwrap_or_else(|| revert_str("ERC20: total supply overflow")));
    // Cannot overflow: a balance is at most the total supply.
    let balance = BALANCES.entry(&to);
    balance.set(&balance.get().wrapping_add(&amount));
    emit!("Transfer(address,address,uint256)", Address::ZERO, to; amount);
}

fn move_tokens(from: Address, to: Address, amount: U256) {
    require(!to.is_zero(), "ERC20: transfer to the zero address");
    let from_balance = BALANCES.entry(&from);
    let left = from_balance.get().checked_sub(&amount);
    from_balance.set(&left.unwrap_or_else(|| revert_str("ERC20: transfer amount exceeds balance")));
    // Cannot overflow: the sum of balances is the total supply.
    let to_balance = BALANCES.entry(&to);
    to_balance.set(&to_balance.get().wrapping_add(&amount));
    emit!("Transfer(address,address,uint256)", from, to; amount);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use tally_sdk::testing::{self, Outcome};
    use tally_sdk::{selector, types::hex};

    const OWNER_ADDR: Address = Address([0xaa; 20]);
    const ALICE: Address = Address([0xa1; 20]);
    const BOB: Address = Address([0xb0; 20]);

    fn as_user<A: abi::EncodeArgs>(who: Address, sel: u32, args: &A) -> Outcome {
        testing::set_caller(who);
        testing::run(dispatch, abi::encode_call(sel, args))
    }

    fn u(n: u64) -> U256 {
        U256::from_u64(n)
    }

    fn deploy_with(input: &[u8]) {
        testing::reset();
        testing::set_caller(OWNER_ADDR);
        testing::run(constructor, input).unwrap();
    }

    fn balance(a: Address) -> U256 {
        let out = as_user(ALICE, selector!("balanceOf(address)"), &a).unwrap();
        U256::from_be_bytes(out[..].try_into().unwrap())
    }

    #[test]
    fn metadata_from_constructor() {
        let name = "A token whose name is longer than one word";
        deploy_with(abi::encode(&(name, "TKN", 6u8)));
        let out = as_user(ALICE, selector!("name()"), &()).unwrap();
        assert_eq!(out, abi::encode(&name));
        let out = as_user(ALICE, selector!("symbol()"), &()).unwrap();
        assert_eq!(out, abi::encode(&"TKN"));
        let out = as_user(ALICE, selector!("decimals()"), &()).unwrap();
        assert_eq!(out, abi::encode(&6u8));
        let out = as_user(ALICE, selector!("owner()"), &()).unwrap();
        assert_eq!(out, abi::encode(&OWNER_ADDR));

        deploy_with(&[]);
        let out = as_user(ALICE, selector!("name()"), &()).unwrap();
        assert_eq!(out, abi::encode(&"Tally Token"));
        let out = as_user(ALICE, selector!("decimals()"), &()).unwrap();
        assert_eq!(out, abi::encode(&18u8));
    }

    #[test]
    fn mint_transfer_approve_transfer_from() {
        deploy_with(&[]);
        let mint = selector!("mint(address,uint256)");
        assert_eq!(
            as_user(ALICE, mint, &(ALICE, u(5))).revert_reason(),
            "Ownable: caller is not the owner"
        );
        assert_eq!(
            as_user(OWNER_ADDR, mint, &(Address::ZERO, u(5))).revert_reason(),
            "ERC20: mint to the zero address"
        );
        testing::clear_logs();
        as_user(OWNER_ADDR, mint, &(ALICE, u(100))).unwrap();
        assert_eq!(balance(ALICE), u(100));
        let out = as_user(BOB, selector!("totalSupply()"), &()).unwrap();
        assert_eq!(out, u(100).to_be_bytes());

        let transfer = selector!("transfer(address,uint256)");
        let out = as_user(ALICE, transfer, &(BOB, u(30))).unwrap();
        assert_eq!(out, abi::encode(&true));
        assert_eq!((balance(ALICE), balance(BOB)), (u(70), u(30)));
        assert_eq!(
            as_user(ALICE, transfer, &(BOB, u(71))).revert_reason(),
            "ERC20: transfer amount exceeds balance"
        );
        assert_eq!(
            as_user(ALICE, transfer, &(Address::ZERO, u(1))).revert_reason(),
            "ERC20: transfer to the zero address"
        );
        // to oneself
        as_user(ALICE, transfer, &(ALICE, u(70))).unwrap();
        assert_eq!(balance(ALICE), u(70));

        let approve = selector!("approve(address,uint256)");
        as_user(ALICE, approve, &(BOB, u(50))).unwrap();
        let allowance = selector!("allowance(address,address)");
        assert_eq!(
            as_user(BOB, allowance, &(ALICE, BOB)).unwrap(),
            u(50).to_be_bytes()
        );
        let transfer_from = selector!("transferFrom(address,address,uint256)");
        as_user(BOB, transfer_from, &(ALICE, OWNER_ADDR, u(20))).unwrap();
        assert_eq!(
            as_user(BOB, allowance, &(ALICE, BOB)).unwrap(),
            u(30).to_be_bytes()
        );
        assert_eq!((balance(ALICE), balance(OWNER_ADDR)), (u(50), u(20)));
        assert_eq!(
            as_user(BOB, transfer_from, &(ALICE, BOB, u(31))).revert_reason(),
            "ERC20: insufficient allowance"
        );
        // infinite allowance is not decreased
        as_user(ALICE, approve, &(BOB, U256::MAX)).unwrap();
        as_user(BOB, transfer_from, &(ALICE, BOB, u(50))).unwrap();
        assert_eq!(
            as_user(BOB, allowance, &(ALICE, BOB)).unwrap(),
            U256::MAX.to_be_bytes()
        );
        assert_eq!(balance(ALICE), u(0));
        assert_eq!(
            as_user(ALICE, approve, &(Address::ZERO, u(1))).revert_reason(),
            "ERC20: approve to the zero address"
        );

        // events: mint, transfer, self-transfer, approve, transferFrom, approve, transferFrom
        let transfer_topic =
            hex::<32>("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
        let approval_topic =
            hex::<32>("8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925");
        let logs = testing::logs();
        let kinds: Vec<_> = logs.iter().map(|l| l.topics[0] == transfer_topic).collect();
        assert_eq!(kinds, [true, true, true, false, true, false, true]);
        assert_eq!(
            logs[0].topics,
            [transfer_topic, Address::ZERO.to_word(), ALICE.to_word()]
        );
        assert_eq!(logs[0].data, u(100).to_be_bytes());
        assert_eq!(
            logs[3].topics,
            [approval_topic, ALICE.to_word(), BOB.to_word()]
        );
        assert_eq!(logs[3].data, u(50).to_be_bytes());
    }

    #[test]
    fn supply_overflow_reverts() {
        deploy_with(&[]);
        let mint = selector!("mint(address,uint256)");
        as_user(OWNER_ADDR, mint, &(ALICE, U256::MAX)).unwrap();
        assert_eq!(
            as_user(OWNER_ADDR, mint, &(BOB, u(1))).revert_reason(),
            "ERC20: total supply overflow"
        );
    }

    #[test]
    fn storage_layout_matches_solidity() {
        deploy_with(&[]);
        as_user(
            OWNER_ADDR,
            selector!("mint(address,uint256)"),
            &(ALICE, u(7)),
        )
        .unwrap();
        // balances[ALICE] at keccak256(pad32(ALICE) . uint256(0))
        let slot = tally_sdk::keccak::keccak256([ALICE.to_word(), [0; 32]].as_flattened());
        assert_eq!(testing::storage(&slot), u(7).to_be_bytes());
        assert_eq!(
            testing::storage(&tally_sdk::storage::slot_key(2)),
            u(7).to_be_bytes()
        );
    }

    #[test]
    fn value_is_refused() {
        deploy_with(&[]);
        testing::set_balance(ALICE, u(10));
        testing::set_value(u(1));
        let out = as_user(ALICE, selector!("totalSupply()"), &());
        assert_eq!(out.revert_reason(), "non-payable");
        assert_eq!(
            testing::run(dispatch, &[]).revert_reason(),
            "no receive function"
        );
    }
}
