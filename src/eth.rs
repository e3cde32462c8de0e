//! Bridges between the runtime's `primitive-types` (`H160`, `H256`, `U256`) and Ethereum's
//! `alloy-primitives` (`Address`, `B256`, `U256`), function selectors, the reason of
//! Solidity's `Error(string)` revert data and amounts printed in ether: shared by the node, the
//! CLI, the test harness and the fuzz targets.

use alloy_primitives::utils::format_ether;
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolError;
use tally_runtime::{H160, H256, U256};

pub fn address(a: H160) -> Address {
    Address::from(a.0)
}

pub fn from_address(a: Address) -> H160 {
    H160(a.0 .0)
}

pub fn b256(h: H256) -> B256 {
    B256::from(h.0)
}

pub fn from_b256(h: B256) -> H256 {
    H256(h.0)
}

pub fn u256(v: U256) -> alloy_primitives::U256 {
    alloy_primitives::U256::from_be_bytes(v.to_big_endian())
}

pub fn from_u256(v: alloy_primitives::U256) -> U256 {
    U256::from_big_endian(&v.to_be_bytes::<32>())
}

/// `wei` in ether, exact, without trailing zeros (`1.5`, `10000`).
pub fn ether(wei: alloy_primitives::U256) -> String {
    let full = format_ether(wei);
    // `format_ether` always writes a decimal point.
    let trimmed = full.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_string()
}

/// The 4-byte ABI selector of a function signature such as `transfer(address,uint256)`.
pub fn selector(signature: &str) -> [u8; 4] {
    let hash = alloy_primitives::keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The reason of Solidity's `Error(string)` revert data, if `data` is one.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    alloy_sol_types::Revert::abi_decode(data)
        .ok()
        .map(|r| r.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_reasons_are_decoded_only_from_error_string() {
        let data = alloy_sol_types::Revert::from("ERC20: insufficient allowance").abi_encode();
        assert_eq!(&data[..4], &[0x08, 0xc3, 0x79, 0xa0]);
        assert_eq!(
            revert_reason(&data).as_deref(),
            Some("ERC20: insufficient allowance")
        );
        assert_eq!(revert_reason(&data[..40]), None, "truncated");
        let mut other = data.clone();
        other[0] = 0x4e;
        assert_eq!(revert_reason(&other), None, "another selector");
        assert_eq!(revert_reason(b"plain bytes"), None);
    }

    #[test]
    fn ether_has_no_trailing_zeros() {
        let ether_of = |wei: U256| ether(u256(wei));
        assert_eq!(ether_of(U256::exp10(22)), "10000");
        assert_eq!(ether_of(U256::from(1_500_000_000_000_000_000u64)), "1.5");
        assert_eq!(ether_of(U256::one()), "0.000000000000000001");
        assert_eq!(ether_of(U256::zero()), "0");
    }

    #[test]
    fn conversions_round_trip() {
        let a = H160::repeat_byte(0xab);
        assert_eq!(from_address(address(a)), a);
        let h = H256::repeat_byte(0xcd);
        assert_eq!(from_b256(b256(h)), h);
        let v = U256::MAX - U256::from(12_345);
        assert_eq!(from_u256(u256(v)), v);
        assert_eq!(u256(U256::from(7)), alloy_primitives::U256::from(7));
    }
}
