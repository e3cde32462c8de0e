//! Benchmark kernel: product of two `n x n` matrices of 64-bit integers (wrapping arithmetic).
//!
//! `run(uint256 n) -> uint256`: with `A[i][j] = i * n + j` and `B[i][j] = j * n + i + 1`
//! (row-major, 0-based), computes `C = A * B` with the triple loop and returns the wrapping
//! 64-bit sum of all entries of `C`: 32 for n = 2, 558 for n = 3, 4160 for n = 4,
//! 25000833000000 for n = 100. The three matrices take `24 * n^2` bytes of memory, which caps
//! `n` at about 800.

#![no_std]

use tally_sdk::prelude::*;

entry_points!(call = dispatch);

pub fn dispatch() {
    dispatch! {
        fn run(U256) => |n: U256| U256::from_u64(matmul_checksum(size(n)));
    }
}

fn size(n: U256) -> usize {
    match n.to_u64() {
        Some(n) if n <= 4096 => n as usize,
        _ => revert_str("size too large"),
    }
}

fn matrix(n: usize) -> &'static mut [u64] {
    let bytes = tally_sdk::mem::alloc(n * n * 8, 8);
    // SAFETY: `alloc` returns n * n * 8 zeroed bytes aligned for u64, owned by nobody else.
    unsafe { core::slice::from_raw_parts_mut(bytes as *mut u64, n * n) }
}

pub fn matmul_checksum(n: usize) -> u64 {
    let a = matrix(n);
    let b = matrix(n);
    let c = matrix(n);
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (i * n + j) as u64;
            b[i * n + j] = (j * n + i + 1) as u64;
        }
    }
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                c[i * n + j] = c[i * n + j].wrapping_add(aik.wrapping_mul(b[k * n + j]));
            }
        }
    }
    c.iter().fold(0u64, |sum, x| sum.wrapping_add(*x))
}

#[cfg(test)]
mod tests {
    #[test]
    fn values() {
        assert_eq!(super::matmul_checksum(0), 0);
        assert_eq!(super::matmul_checksum(1), 0);
        assert_eq!(super::matmul_checksum(2), 32);
        assert_eq!(super::matmul_checksum(3), 558);
        assert_eq!(super::matmul_checksum(4), 4160);
        assert_eq!(super::matmul_checksum(100), 25000833000000);
    }
}
