//! A counter, deployed by the `factory` example.
//!
//! - constructor `(uint256 initial)`: starts at `initial` (empty input: 0) and records the
//!   deployer as its creator;
//! - `count() -> uint256`, `creator() -> address`;
//! - `increment()`: adds one, emits `Incremented(address indexed by, uint256 count)`;
//! - `add(uint256 n)`: adds `n`, reverting with `Error("Counter: overflow")` on overflow.
//!
//! Storage: slot 0 the count, slot 1 the creator.

#![no_std]

use tally_sdk::prelude::*;

const COUNT: Slot<U256> = Slot::new(0);
const CREATOR: Slot<Address> = Slot::new(1);

entry_points!(call = dispatch, deploy = constructor);

pub fn constructor() {
    let input = env::input();
    if !input.is_empty() {
        let (initial,): (U256,) = abi::decode(input);
        COUNT.set(&initial);
    }
    CREATOR.set(&env::caller());
}

pub fn dispatch() {
    dispatch! {
        fn count() => || COUNT.get();
        fn creator() => || CREATOR.get();
        fn increment() => || add(U256::ONE);
        fn add(U256) => add;
    }
}

fn add(n: U256) {
    let count = COUNT.get().checked_add(&n);
    let count = count.unwrap_or_else(|| revert_str("Counter: overflow"));
    COUNT.set(&count);
    emit!("Incremented(address,uint256)", env::caller(); count);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_sdk::testing;

    #[test]
    fn counts() {
        testing::reset();
        testing::run(constructor, abi::encode(&U256::from_u64(41))).unwrap();
        testing::run(dispatch, &selector!("increment()").to_be_bytes()).unwrap();
        let out = testing::run(dispatch, &selector!("count()").to_be_bytes()).unwrap();
        assert_eq!(out, U256::from_u64(42).to_be_bytes());
        let add = abi::encode_call(selector!("add(uint256)"), &U256::MAX);
        assert_eq!(
            testing::run(dispatch, add).revert_reason(),
            "Counter: overflow"
        );
        assert_eq!(testing::logs().len(), 1);
    }
}
