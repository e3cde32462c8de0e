//! Hostile: `call` (any input) asks for 65,536 pages at once, then grows memory one page at a
//! time forever, ignoring every refusal. Expected: memory reaches the cap (256 pages), every
//! later `memory.grow` returns -1, and the run ends out of gas.

#![no_std]

use tally_sdk as _;

#[no_mangle]
pub extern "C" fn call() {
    #[cfg(target_arch = "wasm32")]
    {
        use core::arch::wasm32::memory_grow;
        let mut refused: u32 = 0;
        if memory_grow(0, 65536) == usize::MAX {
            refused += 1;
        }
        loop {
            if memory_grow(0, 1) == usize::MAX {
                refused = refused.wrapping_add(1);
            }
            core::hint::black_box(refused);
        }
    }
}
