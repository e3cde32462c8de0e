//! Host-side (non-wasm32) mock of the Tally host, for unit tests of the SDK and of contracts.
//!
//! State is per thread (each `#[test]` runs on its own thread). [`run`] calls an entry point
//! with some input and reports success (with the return data) or revert (with the revert data,
//! and storage, balances and logs rolled back). Nested calls and creations go to handlers set
//! with [`set_call_handler`] and [`set_create_handler`]; without one they fail (status 2), like
//! the scratch host of `tally run`.

extern crate alloc;
extern crate std;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use crate::abi::Word;
use crate::types::Address;
use crate::u256::U256;

/// One emitted log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub topics: Vec<Word>,
    pub data: Vec<u8>,
}

/// How an entry point ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success(Vec<u8>),
    Revert(Vec<u8>),
}

impl Outcome {
    /// The return data; panics if it reverted (showing the reason).
    pub fn unwrap(self) -> Vec<u8> {
        match self {
            Outcome::Success(data) => data,
            Outcome::Revert(data) => panic!("reverted: {}", describe_revert(&data)),
        }
    }

    /// The `Error(string)` reason of a revert; panics otherwise.
    pub fn revert_reason(&self) -> std::string::String {
        match self {
            Outcome::Revert(data) => describe_revert(data),
            Outcome::Success(_) => panic!("expected a revert, got success"),
        }
    }
}

fn describe_revert(data: &[u8]) -> std::string::String {
    match crate::abi::decode_error_reason(data) {
        Some(reason) => std::string::String::from_utf8_lossy(reason).into_owned(),
        None => std::format!("0x{}", hex(data)),
    }
}

/// Lower-case hex of `data`.
pub fn hex(data: &[u8]) -> std::string::String {
    data.iter().map(|b| std::format!("{b:02x}")).collect()
}

/// A nested call as the handler sees it.
pub struct CallRequest {
    pub from: Address,
    pub to: Address,
    pub value: U256,
    pub gas: u64,
    pub input: Vec<u8>,
}

/// Handles nested calls: returns the status (0 success, 1 revert, 2 failure) and output. It may
/// re-enter the contract (call [`run`] again), so it is `Fn`: keep its state in a `RefCell`.
pub type CallHandler = Rc<dyn Fn(&CallRequest) -> (u32, Vec<u8>)>;
/// Handles creations `(code, value, input)`: returns the status, the new address and output.
pub type CreateHandler = Rc<dyn Fn(&[u8], &U256, &[u8]) -> (u32, Address, Vec<u8>)>;

struct State {
    input: Vec<u8>,
    ret: Vec<u8>,
    return_data: Vec<u8>,
    caller: Address,
    address: Address,
    value: U256,
    storage: BTreeMap<Word, Word>,
    balances: BTreeMap<Address, U256>,
    logs: Vec<Log>,
    block_number: u64,
    timestamp: u64,
    chain_id: u64,
    base_fee: U256,
    producer: Address,
    gas: u64,
    call_handler: Option<CallHandler>,
    create_handler: Option<CreateHandler>,
}

impl Default for State {
    fn default() -> Self {
        State {
            input: Vec::new(),
            ret: Vec::new(),
            return_data: Vec::new(),
            caller: Address([0xca; 20]),
            address: Address([0xc0; 20]),
            value: U256::ZERO,
            storage: BTreeMap::new(),
            balances: BTreeMap::new(),
            logs: Vec::new(),
            block_number: 1,
            timestamp: 1_700_000_000,
            chain_id: 1,
            base_fee: U256::ZERO,
            producer: Address::ZERO,
            gas: 10_000_000,
            call_handler: None,
            create_handler: None,
        }
    }
}

std::thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

/// The panic payload of a revert.
struct Reverted(Vec<u8>);

/// Resets the mock to its defaults: caller `0xcaca..`, contract `0xc0c0..`, no value, empty
/// storage, block 1 at time 1,700,000,000, chain id 1.
pub fn reset() {
    with(|s| *s = State::default());
}

pub fn set_caller(a: Address) {
    with(|s| s.caller = a);
}
pub fn set_address(a: Address) {
    with(|s| s.address = a);
}
/// Value of the next calls (also credited to the contract's balance by [`run`]).
pub fn set_value(v: U256) {
    with(|s| s.value = v);
}
pub fn value() -> U256 {
    with(|s| s.value)
}
pub fn set_balance(a: Address, v: U256) {
    with(|s| {
        s.balances.insert(a, v);
    });
}
pub fn balance_of(a: Address) -> U256 {
    with(|s| s.balances.get(&a).copied().unwrap_or_default())
}
pub fn set_block(number: u64, timestamp: u64) {
    with(|s| {
        s.block_number = number;
        s.timestamp = timestamp;
    });
}
pub fn set_call_handler(h: impl Fn(&CallRequest) -> (u32, Vec<u8>) + 'static) {
    with(|s| s.call_handler = Some(Rc::new(h)));
}
pub fn set_create_handler(h: impl Fn(&[u8], &U256, &[u8]) -> (u32, Address, Vec<u8>) + 'static) {
    with(|s| s.create_handler = Some(Rc::new(h)));
}
pub fn storage(key: &Word) -> Word {
    with(|s| s.storage.get(key).copied().unwrap_or_default())
}
pub fn storage_len() -> usize {
    with(|s| s.storage.len())
}
/// Logs emitted so far (by successful runs).
pub fn logs() -> Vec<Log> {
    with(|s| s.logs.clone())
}
pub fn clear_logs() {
    with(|s| s.logs.clear());
}

/// Runs `entry` with `input` as a transaction: the value set with [`set_value`] moves from the
/// caller to the contract first; everything is rolled back if it reverts (or panics, which on
/// wasm32 reverts with `Error(message)`).
pub fn run(entry: fn(), input: &[u8]) -> Outcome {
    quiet_reverts();
    let snapshot = with(|s| {
        let snapshot = (s.storage.clone(), s.balances.clone(), s.logs.len());
        s.input = input.to_vec();
        s.ret.clear();
        let (from, to, value) = (s.caller, s.address, s.value);
        if !value.is_zero() {
            let have = s.balances.get(&from).copied().unwrap_or_default();
            let left = have
                .checked_sub(&value)
                .expect("caller balance too low for value");
            s.balances.insert(from, left);
            let to_balance = s.balances.get(&to).copied().unwrap_or_default();
            s.balances.insert(to, to_balance.wrapping_add(&value));
        }
        snapshot
    });
    let result = panic::catch_unwind(AssertUnwindSafe(entry));
    match result {
        Ok(()) => Outcome::Success(with(|s| s.ret.clone())),
        Err(payload) => {
            with(|s| {
                s.storage = snapshot.0;
                s.balances = snapshot.1;
                s.logs.truncate(snapshot.2);
            });
            let data = if let Some(Reverted(data)) = payload.downcast_ref::<Reverted>() {
                data.clone()
            } else if let Some(msg) = payload.downcast_ref::<&str>() {
                crate::abi::encode_error(msg).to_vec()
            } else if let Some(msg) = payload.downcast_ref::<std::string::String>() {
                crate::abi::encode_error(msg).to_vec()
            } else {
                crate::abi::encode_error("panic").to_vec()
            };
            Outcome::Revert(data)
        }
    }
}

/// Keeps the default panic hook from printing every revert (they are not errors).
fn quiet_reverts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Reverted>().is_none() {
                default(info)
            }
        }));
    });
}

/// The mock host functions (`crate::sys` on non-wasm32 targets). Same signatures as the
/// imports; the pointers must be valid as the ABI requires.
#[allow(clippy::missing_safety_doc)]
pub mod mock {
    use super::*;
    use core::slice;

    unsafe fn read<'a>(ptr: *const u8, len: u32) -> &'a [u8] {
        if len == 0 {
            &[]
        } else {
            slice::from_raw_parts(ptr, len as usize)
        }
    }

    unsafe fn write(ptr: *mut u8, data: &[u8]) {
        if !data.is_empty() {
            core::ptr::copy_nonoverlapping(data.as_ptr(), ptr, data.len());
        }
    }

    unsafe fn word(ptr: *const u8) -> Word {
        read(ptr, 32).try_into().unwrap()
    }

    unsafe fn addr(ptr: *const u8) -> Address {
        Address(read(ptr, 20).try_into().unwrap())
    }

    pub unsafe fn input_size() -> u32 {
        with(|s| s.input.len() as u32)
    }
    pub unsafe fn input_read(dst: *mut u8, offset: u32, len: u32) {
        let data = with(|s| s.input[offset as usize..][..len as usize].to_vec());
        write(dst, &data)
    }
    pub unsafe fn set_return(ptr: *const u8, len: u32) {
        let data = read(ptr, len).to_vec();
        with(|s| s.ret = data)
    }
    pub unsafe fn revert(ptr: *const u8, len: u32) -> ! {
        panic::panic_any(Reverted(read(ptr, len).to_vec()))
    }
    pub unsafe fn gas_left() -> i64 {
        with(|s| s.gas as i64)
    }
    pub unsafe fn keccak256(ptr: *const u8, len: u32, out: *mut u8) {
        write(out, &crate::keccak::keccak256(read(ptr, len)))
    }
    pub unsafe fn storage_read(key: *const u8, out: *mut u8) {
        let k = word(key);
        let v = with(|s| s.storage.get(&k).copied().unwrap_or_default());
        write(out, &v)
    }
    pub unsafe fn storage_write(key: *const u8, value: *const u8) {
        let (k, v) = (word(key), word(value));
        with(|s| {
            if v == [0; 32] {
                s.storage.remove(&k);
            } else {
                s.storage.insert(k, v);
            }
        })
    }
    pub unsafe fn caller(out: *mut u8) {
        write(out, &with(|s| s.caller).0)
    }
    pub unsafe fn address(out: *mut u8) {
        write(out, &with(|s| s.address).0)
    }
    pub unsafe fn call_value(out: *mut u8) {
        write(out, &with(|s| s.value).to_be_bytes())
    }
    pub unsafe fn balance(a: *const u8, out: *mut u8) {
        let a = addr(a);
        write(out, &balance_of(a).to_be_bytes())
    }
    pub unsafe fn transfer(to: *const u8, value: *const u8) -> u32 {
        let (to, value) = (addr(to), U256::from_be_bytes(&word(value)));
        with(|s| {
            let from = s.address;
            let have = s.balances.get(&from).copied().unwrap_or_default();
            match have.checked_sub(&value) {
                Some(left) => {
                    s.balances.insert(from, left);
                    let b = s.balances.get(&to).copied().unwrap_or_default();
                    s.balances.insert(to, b.wrapping_add(&value));
                    0
                }
                None => 1,
            }
        })
    }
    pub unsafe fn block_number() -> i64 {
        with(|s| s.block_number as i64)
    }
    pub unsafe fn block_timestamp() -> i64 {
        with(|s| s.timestamp as i64)
    }
    pub unsafe fn chain_id() -> i64 {
        with(|s| s.chain_id as i64)
    }
    pub unsafe fn base_fee(out: *mut u8) {
        write(out, &with(|s| s.base_fee).to_be_bytes())
    }
    pub unsafe fn block_producer(out: *mut u8) {
        write(out, &with(|s| s.producer).0)
    }
    pub unsafe fn emit_log(topics: *const u8, topic_count: u32, data: *const u8, data_len: u32) {
        assert!(topic_count <= 4, "more than 4 topics");
        let topics = read(topics, topic_count * 32)
            .chunks(32)
            .map(|t| t.try_into().unwrap())
            .collect();
        let data = read(data, data_len).to_vec();
        with(|s| s.logs.push(Log { topics, data }))
    }
    pub unsafe fn call(
        to: *const u8,
        value: *const u8,
        gas: i64,
        input: *const u8,
        input_len: u32,
    ) -> u32 {
        let request = CallRequest {
            from: with(|s| s.address),
            to: addr(to),
            value: U256::from_be_bytes(&word(value)),
            gas: gas as u64,
            input: read(input, input_len).to_vec(),
        };
        // The handler may run contract code that uses the mock: no borrow is held meanwhile.
        let handler = with(|s| s.call_handler.clone());
        let (status, output) = match handler {
            Some(h) => h(&request),
            None => (2, Vec::new()),
        };
        if status == 0 && !request.value.is_zero() {
            let ok = transfer(to, value) == 0;
            if !ok {
                with(|s| s.return_data.clear());
                return 2;
            }
        }
        with(|s| s.return_data = output);
        status
    }
    pub unsafe fn create(
        code: *const u8,
        code_len: u32,
        value: *const u8,
        input: *const u8,
        input_len: u32,
        out_addr: *mut u8,
    ) -> u32 {
        let code = read(code, code_len).to_vec();
        let value = U256::from_be_bytes(&word(value));
        let input = read(input, input_len).to_vec();
        let handler = with(|s| s.create_handler.clone());
        let (status, address, output) = match handler {
            Some(h) => h(&code, &value, &input),
            None => (2, Address::ZERO, Vec::new()),
        };
        if status == 0 {
            write(out_addr, &address.0);
        }
        with(|s| s.return_data = output);
        status
    }
    pub unsafe fn return_data_size() -> u32 {
        with(|s| s.return_data.len() as u32)
    }
    pub unsafe fn return_data_read(dst: *mut u8, offset: u32, len: u32) {
        let data = with(|s| s.return_data[offset as usize..][..len as usize].to_vec());
        write(dst, &data)
    }
}
