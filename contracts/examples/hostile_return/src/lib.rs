//! Hostile: oversized output (the limit is 1 MiB = 1,048,576 bytes).
//!
//! - empty calldata: returns 1 MiB + 1 bytes (`set_return`). Expected: return data too large;
//! - `returnBytes(uint256 len)`: returns `len` bytes (1,048,576 succeeds, 1,048,577 traps);
//! - `revertBytes(uint256 len)`: reverts with `len` bytes.
//!
//! The bytes are zeros; memory grows to hold them (17 pages for 1 MiB + 1).

#![no_std]

use tally_sdk::prelude::*;

pub const LIMIT: usize = 1 << 20;

entry_points!(call = dispatch);

pub fn dispatch() {
    dispatch! {
        receive => || env::set_return(bytes(LIMIT + 1));
        fn returnBytes(U256) => |len: U256| env::set_return(bytes(size(len)));
        fn revertBytes(U256) => revert_bytes;
    }
}

fn revert_bytes(len: U256) {
    revert(bytes(size(len)))
}

fn size(len: U256) -> usize {
    match len.to_u64() {
        Some(n) if n <= 16 << 20 => n as usize,
        _ => revert_str("size too large"),
    }
}

fn bytes(len: usize) -> &'static [u8] {
    tally_sdk::mem::alloc_bytes(len)
}
