//! Benchmark kernel: chained keccak-256.
//!
//! Starting from 32 zero bytes, hashes the 32-byte value `n` times (`h = keccak256(h)`) and
//! returns the last hash as `bytes32`:
//!
//! - `run(uint256 n) -> bytes32`: keccak computed in WebAssembly (the SDK's Keccak-f\[1600\]),
//!   a pure compute kernel;
//! - `runHost(uint256 n) -> bytes32`: the same chain through the host's `keccak256` function.
//!
//! Both give the same result: for `n = 1`,
//! `0x290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563`; for `n = 0`, zero.

#![no_std]

use tally_sdk::prelude::*;

entry_points!(call = dispatch);

pub fn dispatch() {
    dispatch! {
        fn run(U256) => |n: U256| Bytes32(chain(size(n), tally_sdk::keccak::keccak256));
        fn runHost(U256) => |n: U256| Bytes32(chain(size(n), env::keccak256));
    }
}

fn size(n: U256) -> u64 {
    n.to_u64().unwrap_or_else(|| revert_str("size too large"))
}

#[inline(always)]
pub fn chain(n: u64, hash: impl Fn(&[u8]) -> [u8; 32]) -> [u8; 32] {
    let mut h = [0u8; 32];
    let mut i = 0;
    while i < n {
        h = hash(&h);
        i += 1;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let k = |d: &[u8]| tally_sdk::keccak::keccak256(d);
        assert_eq!(chain(0, k), [0; 32]);
        assert_eq!(
            chain(1, k),
            tally_sdk::types::hex::<32>(
                "290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563"
            )
        );
        assert_eq!(chain(3, k), k(&k(&k(&[0; 32]))));
    }
}
