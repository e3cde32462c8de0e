//! The raw host functions of the `tally` import module (docs/host-abi.md), one to one.
//!
//! On wasm32 these are the imports. On any other target they are an in-process mock
//! ([`crate::testing`]) with the same signatures, so contracts and the SDK can be unit-tested
//! with `cargo test` on the host. Pointers and lengths are `i32` in the ABI; on wasm32 a pointer
//! and a `u32` are both `i32`.
//!
//! Prefer the safe wrappers of [`crate::env`].

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "tally")]
extern "C" {
    pub fn input_size() -> u32;
    pub fn input_read(dst: *mut u8, offset: u32, len: u32);
    pub fn set_return(ptr: *const u8, len: u32);
    pub fn revert(ptr: *const u8, len: u32) -> !;
    pub fn gas_left() -> i64;
    pub fn keccak256(ptr: *const u8, len: u32, out: *mut u8);
    pub fn storage_read(key: *const u8, out: *mut u8);
    pub fn storage_write(key: *const u8, value: *const u8);
    pub fn caller(out: *mut u8);
    pub fn address(out: *mut u8);
    pub fn call_value(out: *mut u8);
    pub fn balance(addr: *const u8, out: *mut u8);
    pub fn transfer(addr: *const u8, value: *const u8) -> u32;
    pub fn block_number() -> i64;
    pub fn block_timestamp() -> i64;
    pub fn chain_id() -> i64;
    pub fn base_fee(out: *mut u8);
    pub fn block_producer(out: *mut u8);
    pub fn emit_log(topics: *const u8, topic_count: u32, data: *const u8, data_len: u32);
    pub fn call(
        addr: *const u8,
        value: *const u8,
        gas: i64,
        input: *const u8,
        input_len: u32,
    ) -> u32;
    pub fn create(
        code: *const u8,
        code_len: u32,
        value: *const u8,
        input: *const u8,
        input_len: u32,
        out_addr: *mut u8,
    ) -> u32;
    pub fn return_data_size() -> u32;
    pub fn return_data_read(dst: *mut u8, offset: u32, len: u32);
}

#[cfg(not(target_arch = "wasm32"))]
pub use crate::testing::mock::*;
