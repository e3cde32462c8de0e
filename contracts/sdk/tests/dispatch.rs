//! The dispatcher and events, through the mock host.

use tally_sdk::prelude::*;
use tally_sdk::testing::{self, Outcome};

const VALUE: Slot<U256> = Slot::new(0);

fn with_receive() {
    dispatch! {
        receive => || VALUE.set(&env::call_value());
        fn get() => || VALUE.get();
        fn set(U256) => |v: U256| VALUE.set(&v);
        fn pair(Address, bool) => |a: Address, b: bool| (b, a, U256::from_u64(7));
        fn echo(AbiStr) => |s: AbiStr<'static>| s;
        fn pay() payable => env::call_value;
        fn log(Address, U256) => |to: Address, v: U256| {
            emit!("Transfer(address,address,uint256)", env::caller(), to; v);
        };
    }
}

fn without_receive() {
    dispatch! {
        fn get() => || VALUE.get();
    }
}

fn run(entry: fn(), data: &[u8]) -> Outcome {
    testing::run(entry, data)
}

#[test]
fn routes_by_selector_and_encodes_results() {
    testing::reset();
    let out = run(
        with_receive,
        abi::encode_call(selector!("set(uint256)"), &U256::from_u64(42)),
    );
    assert_eq!(out, Outcome::Success(vec![]));
    let out = run(with_receive, &selector!("get()").to_be_bytes()).unwrap();
    assert_eq!(out, U256::from_u64(42).to_be_bytes());

    let a = Address([3; 20]);
    let out = run(
        with_receive,
        abi::encode_call(selector!("pair(address,bool)"), &(a, true)),
    );
    assert_eq!(out.unwrap(), abi::encode(&(true, a, U256::from_u64(7))));

    let out = run(
        with_receive,
        abi::encode_call(selector!("echo(string)"), &"hello"),
    );
    assert_eq!(out.unwrap(), abi::encode(&"hello"));
}

#[test]
fn value_rules() {
    testing::reset();
    testing::set_balance(Address([0xca; 20]), U256::from_u64(100));
    testing::set_value(U256::from_u64(5));
    // non-payable function with value
    let out = run(with_receive, &selector!("get()").to_be_bytes());
    assert_eq!(out.revert_reason(), "non-payable");
    // payable function
    let out = run(with_receive, &selector!("pay()").to_be_bytes());
    assert_eq!(out.unwrap(), U256::from_u64(5).to_be_bytes());
    // empty calldata goes to receive
    assert_eq!(run(with_receive, &[]), Outcome::Success(vec![]));
    testing::set_value(U256::ZERO);
    let out = run(with_receive, &selector!("get()").to_be_bytes());
    assert_eq!(out.unwrap(), U256::from_u64(5).to_be_bytes());
    assert_eq!(testing::balance_of(Address([0xc0; 20])), U256::from_u64(10));
}

#[test]
fn bad_input_reverts() {
    testing::reset();
    assert_eq!(
        run(with_receive, &[1, 2, 3, 4]).revert_reason(),
        "unknown selector"
    );
    assert_eq!(
        run(with_receive, &[1, 2, 3]).revert_reason(),
        "unknown selector"
    );
    assert_eq!(
        run(without_receive, &[]).revert_reason(),
        "no receive function"
    );
    // arguments missing
    let out = run(with_receive, &selector!("set(uint256)").to_be_bytes());
    assert_eq!(out.revert_reason(), "ABI decode");
}

#[test]
fn events_have_signature_topic_indexed_topics_and_data() {
    testing::reset();
    let to = Address([9; 20]);
    let input = abi::encode_call(selector!("log(address,uint256)"), &(to, U256::from_u64(1)));
    run(with_receive, input).unwrap();
    let logs = testing::logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0].topics,
        vec![
            tally_sdk::types::hex::<32>(
                "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
            ),
            Address([0xca; 20]).to_word(),
            to.to_word(),
        ]
    );
    assert_eq!(logs[0].data, U256::ONE.to_be_bytes());
}
