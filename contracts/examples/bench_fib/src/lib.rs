//! Benchmark kernel: naive recursive Fibonacci.
//!
//! `run(uint256 n) -> uint256`: `fib(n)` with `fib(0) = 0`, `fib(1) = 1`, computed by the
//! exponential recursion `fib(n - 1) + fib(n - 2)` in wrapping 64-bit arithmetic (exact up to
//! `n = 93`). `fib(20) = 6765`, `fib(30) = 832040`. The recursion is about `1.6^n` calls deep
//! only `n` frames: it exercises calls, not the stack limit.

#![no_std]

use tally_sdk::prelude::*;

entry_points!(call = dispatch);

pub fn dispatch() {
    dispatch! {
        fn run(U256) => |n: U256| U256::from_u64(fib(size(n)));
    }
}

/// The size argument as a `u64`, reverting with `Error("size too large")` otherwise.
fn size(n: U256) -> u64 {
    n.to_u64().unwrap_or_else(|| revert_str("size too large"))
}

#[inline(never)]
pub fn fib(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib(n - 1).wrapping_add(fib(n - 2))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values() {
        assert_eq!(super::fib(0), 0);
        assert_eq!(super::fib(1), 1);
        assert_eq!(super::fib(20), 6765);
        assert_eq!(super::fib(30), 832040);
    }
}
