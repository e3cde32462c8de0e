//! Benchmark kernel: sieve of Eratosthenes.
//!
//! `run(uint256 n) -> uint256`: the number of primes `p <= n` (168 for `n = 1000`, 78498 for
//! `n = 1000000`), sieving a byte array of `n + 1` entries (so `n` is limited by the 16 MiB
//! memory cap; larger sizes revert with `Error("out of memory")`).

#![no_std]

use tally_sdk::prelude::*;

entry_points!(call = dispatch);

pub fn dispatch() {
    dispatch! {
        fn run(U256) => |n: U256| U256::from_u64(count_primes(size(n)) as u64);
    }
}

fn size(n: U256) -> usize {
    match n.to_u64() {
        Some(n) if n < (1 << 30) => n as usize,
        _ => revert_str("size too large"),
    }
}

/// Primes up to and including `n`.
pub fn count_primes(n: usize) -> usize {
    if n < 2 {
        return 0;
    }
    // composite[i] != 0 once i is known to be composite (fresh memory is zero).
    let composite = tally_sdk::mem::alloc_bytes(n + 1);
    let mut count = 0;
    let mut i = 2;
    while i <= n {
        if composite[i] == 0 {
            count += 1;
            // i * i <= n, written so that it cannot overflow a 32-bit usize
            if i <= n / i {
                let mut j = i * i;
                while j <= n {
                    composite[j] = 1;
                    j += i;
                }
            }
        }
        i += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    #[test]
    fn values() {
        assert_eq!(super::count_primes(0), 0);
        assert_eq!(super::count_primes(2), 1);
        assert_eq!(super::count_primes(10), 4);
        assert_eq!(super::count_primes(1000), 168);
        assert_eq!(super::count_primes(1_000_000), 78498);
    }
}
