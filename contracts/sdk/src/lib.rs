//! `tally-sdk`: write Tally contracts in `no_std` Rust.
//!
//! - [`env`]: safe wrappers over every host function (input, return, revert, storage, caller,
//!   value, balances, block context, logs, calls, create, keccak, gas);
//! - [`storage`]: typed storage with Solidity's slot layout ([`Slot`], [`Mapping`],
//!   [`storage::StorageVec`], [`storage::StorageBytes`]);
//! - [`abi`]: the Solidity ABI (selectors, encoding, decoding) with [`U256`], [`Address`],
//!   [`Bytes32`];
//! - [`dispatch!`], [`emit!`], [`selector!`]: the `call` entry point's selector table, events and
//!   compile-time selectors;
//! - a panic handler that reverts with `Error(message)` and, with the `alloc` feature, a bump
//!   global allocator (both wasm32 only).
//!
//! On targets other than wasm32 the host functions are an in-process mock ([`testing`]), so the
//! SDK and contracts can be unit-tested with `cargo test`. See docs/contracts.md.

#![no_std]

pub mod abi;
pub mod bytes;
mod dispatch;
pub mod env;
pub mod keccak;
pub mod mem;
pub mod storage;
pub mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod types;
pub mod u256;

pub use abi::{AbiStr, Word};
pub use env::{require, revert, revert_str};
pub use storage::{Mapping, Slot};
pub use types::{Address, Bytes32};
pub use u256::U256;

/// Everything a typical contract uses.
pub mod prelude {
    pub use crate::abi::{self, AbiStr, Word, WordValue};
    pub use crate::env::{self, block, require, revert, revert_str, CallStatus};
    pub use crate::storage::{Mapping, Slot, StorageBytes, StorageVec};
    pub use crate::types::{Address, Bytes32};
    pub use crate::u256::U256;
    pub use crate::{dispatch, emit, entry_points, selector};
}

/// A panic reverts with `Error(message)` for a literal message (`panic!("...")`, `expect`,
/// `unwrap` on `None` ...) and `Error("panic")` for a formatted one. Formatting is never run,
/// which keeps `core::fmt` out of the contract.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    env::revert_str(info.message().as_str().unwrap_or("panic"))
}

#[cfg(all(target_arch = "wasm32", feature = "alloc"))]
#[global_allocator]
static ALLOCATOR: mem::BumpAlloc = mem::BumpAlloc;
