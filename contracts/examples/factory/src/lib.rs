//! A factory: deploys contracts, records their addresses and emits an event per creation.
//!
//! The code of the `counter` example is embedded at build time from the committed artifact
//! `contracts/build/counter.wasm` (`build.sh` builds the counter before the factory).
//!
//! - `create(uint256 initial) payable -> address`: deploys a counter starting at `initial`,
//!   forwarding the value sent;
//! - `createFrom(bytes code, bytes input) payable -> address`: deploys any code, running its
//!   `deploy` entry point with `input` (its ABI-encoded constructor arguments);
//! - `count() -> uint256`, `instanceAt(uint256 index) -> address`: the contracts created so far;
//! - `childCodeHash() -> bytes32`: keccak-256 of the embedded counter code.
//!
//! A creation that reverts makes the factory revert with the child's revert data (as Solidity's
//! `new` does); one that fails otherwise reverts with `Error("Factory: create failed")`.
//!
//! Event: `Created(address indexed instance, address indexed creator, uint256 index)`.
//!
//! Storage: slot 0, the array of created addresses (Solidity's `address[]` layout).

#![no_std]

use tally_sdk::prelude::*;

/// The counter contract, as built by `build.sh`.
pub static COUNTER_CODE: &[u8] = include_bytes!("../../../build/counter.wasm");

const INSTANCES: StorageVec<Address> = StorageVec::new(0);

entry_points!(call = dispatch);

pub fn dispatch() {
    dispatch! {
        fn create(U256) payable => |initial: U256| deploy_child(COUNTER_CODE, abi::encode(&initial));
        fn createFrom(&[u8], &[u8]) payable => deploy_child;
        fn count() => || INSTANCES.len();
        fn instanceAt(U256) => instance_at;
        fn childCodeHash() => || Bytes32(env::keccak256(COUNTER_CODE));
    }
}

fn deploy_child(code: &[u8], input: &[u8]) -> Address {
    let instance = match env::create(code, &env::call_value(), input) {
        Ok(address) => address,
        Err(CallStatus::Revert) => revert(env::return_data()),
        Err(_) => revert_str("Factory: create failed"),
    };
    let index = INSTANCES.push(&instance);
    emit!("Created(address,address,uint256)", instance, env::caller(); index);
    instance
}

fn instance_at(index: U256) -> Address {
    let found = index.to_u64().and_then(|i| INSTANCES.get(i));
    found.unwrap_or_else(|| revert_str("Factory: index out of range"))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use tally_sdk::testing::{self, Outcome};

    fn call<A: abi::EncodeArgs>(sel: u32, args: &A) -> Outcome {
        testing::run(dispatch, abi::encode_call(sel, args))
    }

    #[test]
    fn creates_and_records() {
        testing::reset();
        let next = core::cell::Cell::new(0u8);
        testing::set_create_handler(move |code: &[u8], _value: &U256, input: &[u8]| {
            if input == abi::encode(&U256::from_u64(13)) {
                return (1, Address::ZERO, abi::encode_error("nope").to_vec());
            }
            assert!(code.starts_with(b"\0asm"));
            next.set(next.get() + 1);
            (0, Address([next.get(); 20]), Vec::new())
        });
        let create = selector!("create(uint256)");
        let out = call(create, &U256::from_u64(5)).unwrap();
        assert_eq!(out, abi::encode(&Address([1; 20])));
        let out = call(
            selector!("createFrom(bytes,bytes)"),
            &(COUNTER_CODE, &b""[..]),
        )
        .unwrap();
        assert_eq!(out, abi::encode(&Address([2; 20])));
        assert_eq!(call(create, &U256::from_u64(13)).revert_reason(), "nope");

        let out = call(selector!("count()"), &()).unwrap();
        assert_eq!(out, abi::encode(&2u64));
        let out = call(selector!("instanceAt(uint256)"), &U256::ONE).unwrap();
        assert_eq!(out, abi::encode(&Address([2; 20])));
        let out = call(selector!("instanceAt(uint256)"), &U256::from_u64(2));
        assert_eq!(out.revert_reason(), "Factory: index out of range");

        let logs = testing::logs();
        assert_eq!(logs.len(), 2);
        assert_eq!(logs[1].topics[1], Address([2; 20]).to_word());
        assert_eq!(logs[1].data, abi::encode(&1u64));

        let out = call(selector!("childCodeHash()"), &()).unwrap();
        assert_eq!(out, tally_sdk::keccak::keccak256(COUNTER_CODE));
    }

    #[test]
    fn failed_creation_reverts() {
        testing::reset();
        let out = call(selector!("create(uint256)"), &U256::ONE);
        assert_eq!(out.revert_reason(), "Factory: create failed");
    }
}
