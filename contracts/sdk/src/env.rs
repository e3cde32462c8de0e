//! Safe wrappers over every host function (docs/host-abi.md).

use crate::abi::{self, Word};
use crate::sys;
use crate::types::Address;
use crate::u256::U256;

// ---------------------------------------------------------------------------------------------
// Input, output, revert

/// The whole input of the call: calldata for `call`, constructor arguments for `deploy`.
/// Read from the host once and kept for the rest of the execution.
pub fn input() -> &'static [u8] {
    #[cfg(target_arch = "wasm32")]
    {
        static mut INPUT: Option<&'static [u8]> = None;
        // SAFETY: wasm32 contracts are single-threaded; INPUT is only accessed here.
        unsafe {
            if let Some(input) = INPUT {
                return input;
            }
            let input = read_input();
            INPUT = Some(input);
            input
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    read_input()
}

fn read_input() -> &'static [u8] {
    // SAFETY: the buffer is `input_size()` bytes long.
    unsafe {
        let len = sys::input_size() as usize;
        let buf = crate::mem::alloc_bytes(len);
        sys::input_read(buf.as_mut_ptr(), 0, len as u32);
        buf
    }
}

/// Length of the input.
pub fn input_size() -> usize {
    // SAFETY: no memory is involved.
    unsafe { sys::input_size() as usize }
}

/// Copies `input[offset..offset + buf.len()]` into `buf` (traps if out of range).
pub fn input_read(offset: usize, buf: &mut [u8]) {
    // SAFETY: `buf` is valid for its length; the host checks the input range.
    unsafe { sys::input_read(buf.as_mut_ptr(), offset as u32, buf.len() as u32) }
}

/// Sets the data returned when the entry point returns (replacing earlier data).
pub fn set_return(data: &[u8]) {
    // SAFETY: `data` is valid for its length.
    unsafe { sys::set_return(data.as_ptr(), data.len() as u32) }
}

/// Stops, rolls back this call and returns `data` as revert data.
pub fn revert(data: &[u8]) -> ! {
    // SAFETY: `data` is valid for its length.
    unsafe { sys::revert(data.as_ptr(), data.len() as u32) }
}

/// Reverts with Solidity's `Error(string)` encoding of `msg`.
#[cold]
#[inline(never)]
pub fn revert_str(msg: &str) -> ! {
    revert(abi::encode_error(msg))
}

/// Reverts with `Error(msg)` unless `cond` holds (Solidity's `require`).
#[inline(always)]
pub fn require(cond: bool, msg: &str) {
    if !cond {
        revert_str(msg)
    }
}

/// Reverts with `Error("non-payable")` if the call carries value (Solidity rejects value sent
/// to a function that is not `payable`). The dispatcher calls it for non-payable functions.
pub fn non_payable() {
    require(call_value().is_zero(), "non-payable")
}

// ---------------------------------------------------------------------------------------------
// Gas, hashing

/// Gas remaining.
pub fn gas_left() -> u64 {
    // SAFETY: no memory is involved.
    unsafe { sys::gas_left() as u64 }
}

/// Keccak-256 of `data`, computed by the host.
pub fn keccak256(data: &[u8]) -> Word {
    let mut out = [0u8; 32];
    // SAFETY: `data` is valid for its length and `out` for 32 bytes.
    unsafe { sys::keccak256(data.as_ptr(), data.len() as u32, out.as_mut_ptr()) };
    out
}

// ---------------------------------------------------------------------------------------------
// Storage (raw words; see `crate::storage` for typed access)

/// Reads the 32-byte value at a 32-byte key (zero if never written).
pub fn storage_read(key: &Word) -> Word {
    let mut out = [0u8; 32];
    // SAFETY: both buffers are 32 bytes.
    unsafe { sys::storage_read(key.as_ptr(), out.as_mut_ptr()) };
    out
}

/// Writes a 32-byte value at a 32-byte key; writing zero clears the slot.
pub fn storage_write(key: &Word, value: &Word) {
    // SAFETY: both buffers are 32 bytes.
    unsafe { sys::storage_write(key.as_ptr(), value.as_ptr()) }
}

// ---------------------------------------------------------------------------------------------
// Message context

/// The account or contract that made this call (`msg.sender`).
pub fn caller() -> Address {
    let mut a = Address::ZERO;
    // SAFETY: the host writes 20 bytes.
    unsafe { sys::caller(a.0.as_mut_ptr()) };
    a
}

/// The address of the running contract (`address(this)`).
pub fn address() -> Address {
    let mut a = Address::ZERO;
    // SAFETY: the host writes 20 bytes.
    unsafe { sys::address(a.0.as_mut_ptr()) };
    a
}

/// The value sent with this call (`msg.value`).
pub fn call_value() -> U256 {
    let mut w = [0u8; 32];
    // SAFETY: the host writes 32 bytes.
    unsafe { sys::call_value(w.as_mut_ptr()) };
    U256::from_be_bytes(&w)
}

/// The balance of `addr`.
pub fn balance(addr: &Address) -> U256 {
    let mut w = [0u8; 32];
    // SAFETY: 20 bytes are read, 32 written.
    unsafe { sys::balance(addr.0.as_ptr(), w.as_mut_ptr()) };
    U256::from_be_bytes(&w)
}

/// The balance of the running contract.
pub fn self_balance() -> U256 {
    balance(&address())
}

/// Sends `value` from this contract to `to` (no code runs). `false` if the balance is too low.
pub fn transfer(to: &Address, value: &U256) -> bool {
    let v = value.to_be_bytes();
    // SAFETY: 20 and 32 bytes are read.
    unsafe { sys::transfer(to.0.as_ptr(), v.as_ptr()) == 0 }
}

/// Block context.
pub mod block {
    use super::*;

    /// Current block number.
    pub fn number() -> u64 {
        // SAFETY: no memory is involved.
        unsafe { sys::block_number() as u64 }
    }

    /// Current block time, seconds since the Unix epoch.
    pub fn timestamp() -> u64 {
        // SAFETY: no memory is involved.
        unsafe { sys::block_timestamp() as u64 }
    }

    /// Chain id.
    pub fn chain_id() -> u64 {
        // SAFETY: no memory is involved.
        unsafe { sys::chain_id() as u64 }
    }

    /// Base fee per gas of the block.
    pub fn base_fee() -> U256 {
        let mut w = [0u8; 32];
        // SAFETY: the host writes 32 bytes.
        unsafe { sys::base_fee(w.as_mut_ptr()) };
        U256::from_be_bytes(&w)
    }

    /// The block producer (Ethereum's coinbase).
    pub fn producer() -> Address {
        let mut a = Address::ZERO;
        // SAFETY: the host writes 20 bytes.
        unsafe { sys::block_producer(a.0.as_mut_ptr()) };
        a
    }
}

// ---------------------------------------------------------------------------------------------
// Events

/// Emits a log with up to 4 topics (more trap in the host). For a Solidity event, topic 0 is
/// the keccak of its signature (see the [`crate::emit!`] macro) and the data is the ABI encoding
/// of its non-indexed parameters.
pub fn emit_log(topics: &[Word], data: &[u8]) {
    // SAFETY: `topics` holds `topics.len()` 32-byte words, `data` is valid for its length.
    unsafe {
        sys::emit_log(
            topics.as_ptr() as *const u8,
            topics.len() as u32,
            data.as_ptr(),
            data.len() as u32,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Calls and creation

/// How a nested call or creation ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CallStatus {
    /// It returned; its output is in [`return_data`].
    Success,
    /// It reverted; its revert data is in [`return_data`].
    Revert,
    /// It failed (trap, out of gas, no such contract, value too high, ...).
    Failure,
}

impl CallStatus {
    fn from_raw(status: u32) -> CallStatus {
        match status {
            0 => CallStatus::Success,
            1 => CallStatus::Revert,
            _ => CallStatus::Failure,
        }
    }

    pub fn is_success(self) -> bool {
        self == CallStatus::Success
    }
}

/// Passed as the gas of [`call`] to forward all the gas the host allows.
pub const ALL_GAS: u64 = i64::MAX as u64;

/// Calls `to` with `value` and `input` (calldata), giving it at most `gas` gas (the host caps it
/// to what it allows). The output is then available from [`return_data`].
pub fn call(to: &Address, value: &U256, gas: u64, input: &[u8]) -> CallStatus {
    let v = value.to_be_bytes();
    let gas = gas.min(i64::MAX as u64) as i64;
    // SAFETY: every buffer is valid for the length given.
    let status = unsafe {
        sys::call(
            to.0.as_ptr(),
            v.as_ptr(),
            gas,
            input.as_ptr(),
            input.len() as u32,
        )
    };
    CallStatus::from_raw(status)
}

/// Calls `to`; on success returns its output, otherwise reverts: with the callee's revert data
/// if it reverted (as Solidity bubbles it up), or `Error(msg)` if it failed.
pub fn call_or_revert(
    to: &Address,
    value: &U256,
    gas: u64,
    input: &[u8],
    msg: &str,
) -> &'static [u8] {
    match call(to, value, gas, input) {
        CallStatus::Success => return_data(),
        CallStatus::Revert => revert(return_data()),
        CallStatus::Failure => revert_str(msg),
    }
}

/// Deploys `code` with `value`, running its `deploy` entry point with `input` (the ABI-encoded
/// constructor arguments). The address is derived as Ethereum's CREATE does. On failure the
/// error holds the status; [`return_data`] then has the revert data.
pub fn create(code: &[u8], value: &U256, input: &[u8]) -> Result<Address, CallStatus> {
    let v = value.to_be_bytes();
    let mut addr = Address::ZERO;
    // SAFETY: every buffer is valid for the length given; the host writes 20 bytes.
    let status = unsafe {
        sys::create(
            code.as_ptr(),
            code.len() as u32,
            v.as_ptr(),
            input.as_ptr(),
            input.len() as u32,
            addr.0.as_mut_ptr(),
        )
    };
    match CallStatus::from_raw(status) {
        CallStatus::Success => Ok(addr),
        other => Err(other),
    }
}

/// Length of the output of the last call or creation.
pub fn return_data_size() -> usize {
    // SAFETY: no memory is involved.
    unsafe { sys::return_data_size() as usize }
}

/// Copies `return_data[offset..offset + buf.len()]` into `buf` (traps if out of range).
pub fn return_data_read(offset: usize, buf: &mut [u8]) {
    // SAFETY: `buf` is valid for its length; the host checks the source range.
    unsafe { sys::return_data_read(buf.as_mut_ptr(), offset as u32, buf.len() as u32) }
}

/// The whole output of the last call or creation, in fresh memory.
pub fn return_data() -> &'static [u8] {
    let buf = crate::mem::alloc_bytes(return_data_size());
    return_data_read(0, buf);
    buf
}
