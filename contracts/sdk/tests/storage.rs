//! Slot derivation follows Solidity; expected slots were computed with the host's keccak-256.

use tally_sdk::abi::Word;
use tally_sdk::storage::{data_slot, slot_key, StorageBytes, StorageVec};
use tally_sdk::testing::{self, Outcome};
use tally_sdk::types::hex;
use tally_sdk::{Address, Mapping, Slot, U256};

fn h32(s: &str) -> Word {
    hex::<32>(s)
}

fn addr(n: u8) -> Address {
    let mut a = [0u8; 20];
    a[19] = n;
    Address(a)
}

/// Runs `f` in the mock (storage access needs the host).
fn with_host<R>(f: impl FnOnce() -> R) -> R {
    testing::reset();
    f()
}

#[test]
fn mapping_slots() {
    with_host(|| {
        // mapping(uint256 => ...) at slot 0, key 0: keccak256(abi.encode(0, 0))
        let m: Mapping<U256, U256> = Mapping::new(0);
        assert_eq!(
            m.slot_of(&U256::ZERO),
            h32("ad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5")
        );
        // mapping(address => uint256) at slot 3, key address(1)
        let balances: Mapping<Address, U256> = Mapping::new(3);
        assert_eq!(
            balances.slot_of(&addr(1)),
            h32("a15bc60c955c405d20d9149c709e2460f1c2d9a497496a7f46004d1772c3054c")
        );
        // mapping(address => mapping(address => uint256)) at slot 1: [address(1)][address(2)]
        let allowances: Mapping<Address, Mapping<Address, U256>> = Mapping::new(1);
        assert_eq!(
            allowances.at(&addr(1)).slot_of(&addr(2)),
            h32("58e76cff22dd72278c8f84685a17f449f02ff85d2e9a03f82022b6f395640860")
        );
        // mapping(string => ...) at slot 5, key "abc": keccak256("abc" . uint256(5))
        let by_name: Mapping<str, U256> = Mapping::new(5);
        assert_eq!(
            by_name.slot_of("abc"),
            h32("93e39f4d5daf9a6a0cd34fc9785f05666750159050d1edf4094014b976a37144")
        );
        let by_bytes: Mapping<[u8], U256> = Mapping::new(5);
        assert_eq!(by_bytes.slot_of(b"abc"), by_name.slot_of("abc"));
        // dynamic array data at slot 0 and 1: keccak256(uint256(p))
        assert_eq!(
            data_slot(&slot_key(0), 0),
            h32("290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563")
        );
        assert_eq!(
            data_slot(&slot_key(1), 2),
            h32("b10e2d527612073b26eecdfd717e6a320cf44b4afac2b0732d9fcbe2b7fa0cf8")
        );
    });
}

#[test]
fn values_round_trip_and_zero_clears() {
    with_host(|| {
        let total: Slot<U256> = Slot::new(2);
        assert_eq!(total.get(), U256::ZERO);
        total.set(&U256::from_u64(1000));
        assert_eq!(total.get(), U256::from_u64(1000));
        assert_eq!(testing::storage(&slot_key(2))[30..], [0x03, 0xe8]);
        total.clear();
        assert_eq!(testing::storage_len(), 0);

        let owner: Slot<Address> = Slot::new(6);
        owner.set(&addr(9));
        assert_eq!(owner.get(), addr(9));

        let allowances: Mapping<Address, Mapping<Address, U256>> = Mapping::new(1);
        allowances.at(&addr(1)).set(&addr(2), &U256::from_u64(5));
        assert_eq!(allowances.at(&addr(1)).get(&addr(2)), U256::from_u64(5));
        assert_eq!(allowances.at(&addr(2)).get(&addr(1)), U256::ZERO);
    });
}

#[test]
fn dynamic_array() {
    with_host(|| {
        let v: StorageVec<Address> = StorageVec::new(4);
        assert!(v.is_empty());
        assert_eq!(v.push(&addr(1)), 0);
        assert_eq!(v.push(&addr(2)), 1);
        assert_eq!(v.len(), 2);
        assert_eq!(v.get(1), Some(addr(2)));
        assert_eq!(v.get(2), None);
        assert_eq!(testing::storage(&data_slot(&slot_key(4), 1))[31], 2);
    });
}

#[test]
fn byte_strings_use_solidity_layout() {
    with_host(|| {
        let s = StorageBytes::new(3);
        s.set(b"Tally");
        // short: data left-aligned, 2 * len in the last byte
        let w = testing::storage(&slot_key(3));
        assert_eq!(&w[..5], b"Tally");
        assert_eq!(w[31], 10);
        assert_eq!(s.get(), b"Tally");

        let long: Vec<u8> = (0..70u8).collect();
        s.set(&long);
        let w = testing::storage(&slot_key(3));
        assert_eq!(U256::from_be_bytes(&w), U256::from_u64(141));
        assert_eq!(
            testing::storage(&data_slot(&slot_key(3), 2))[..6],
            long[64..]
        );
        assert_eq!(s.get(), &long[..]);
        assert_eq!(s.len(), 70);
        assert_eq!(testing::storage_len(), 4);

        // back to short: the three data slots are cleared
        s.set(b"");
        assert_eq!(testing::storage_len(), 0);
        assert!(s.is_empty());
    });
}

#[test]
fn revert_rolls_back_storage() {
    testing::reset();
    fn write_then_revert() {
        Slot::<U256>::new(0).set(&U256::ONE);
        tally_sdk::require(false, "nope");
    }
    let out = testing::run(write_then_revert, &[]);
    assert_eq!(out.revert_reason(), "nope");
    assert_eq!(testing::storage_len(), 0);
    fn write() {
        Slot::<U256>::new(0).set(&U256::ONE);
    }
    assert_eq!(testing::run(write, &[]), Outcome::Success(vec![]));
    assert_eq!(testing::storage_len(), 1);
}
