//! Hostile: `call` (any input) calls the cheapest host function, `gas_left`, in a loop forever.
//! Expected outcome: out of gas, with the gas spread between instructions and `gas_left`.

#![no_std]

use tally_sdk::env;

#[no_mangle]
pub extern "C" fn call() {
    let mut seen = 0u64;
    loop {
        seen ^= env::gas_left();
        core::hint::black_box(seen);
    }
}
