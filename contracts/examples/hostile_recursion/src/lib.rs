//! Hostile: `call` with empty input recurses without bound. Expected outcome: stack exhausted
//! (the VM's deterministic stack budget runs out long before the gas).
//!
//! With an input of `n` bytes (any content) the recursion stops at depth `n - 1` and returns an
//! 8-byte value: a way to probe the depth at which the stack budget runs out.
//!
//! Each frame keeps its values in wasm locals (nothing on the shadow stack in linear memory),
//! and the result is combined in a way LLVM cannot turn into a loop.

#![no_std]

use tally_sdk::env;

#[no_mangle]
pub extern "C" fn call() {
    let limit = env::input_size() as u64;
    let r = recurse(0, limit.wrapping_sub(1));
    env::set_return(&r.to_be_bytes());
}

#[inline(never)]
fn recurse(depth: u64, limit: u64) -> u64 {
    if depth == limit {
        return depth;
    }
    // Two different operations on the result: not an accumulator, so no tail-call rewrite.
    recurse(depth + 1, limit)
        .wrapping_mul(3)
        .wrapping_sub(depth)
}
