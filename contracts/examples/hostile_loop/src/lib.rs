//! Hostile: `call` (any input) loops forever. Expected outcome: out of gas. There is no `deploy`
//! entry point, so the module can be deployed and then called.

#![no_std]

// The SDK provides the panic handler; the loop needs no host function.
tally_sdk::entry_points!(call = spin);

fn spin() -> ! {
    // An empty `loop {}` is a real infinite loop in Rust (never optimized away).
    #[allow(clippy::empty_loop)]
    loop {}
}
