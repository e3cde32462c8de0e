//! Rows of the host functions the VM serves on its own (calldata, return data, revert, gas,
//! keccak, the environment getters): their cost per call and, where they handle data, per
//! 32-byte word. Functions that touch state are measured through the chain (`rows::chain`).

use tally_vm::HostFn;

use super::probes::{Expect, ModuleProbe, RepeatProbe};
use crate::env::{Env, Scale};
use crate::kernel::{imports, LoopKernel};
use crate::param::Param;
use crate::row::{Group, Row};

/// Pages of memory of the host kernels (1 MiB: room for the largest data handled).
const PAGES: u64 = 16;
/// Largest data a per-word row hands a function, in words (1 MiB).
const MAX_WORDS: u64 = PAGES * 65_536 / 32;

fn preamble() -> String {
    format!(
        r#"{} (memory (export "memory") {PAGES})"#,
        imports(HostFn::ALL)
    )
}

/// A loop kernel of host calls.
fn kernel(scale: Scale, unit: String) -> LoopKernel {
    LoopKernel::new(move |_| unit.clone())
        .preamble(preamble())
        .iterations(scale.pick(200, 1_000))
        .input(vec![7; 64])
}

/// A per-call row: `unit` is one call.
fn per_call(scale: Scale, f: HostFn, unit: &str, worst_case: &str) -> Row {
    let iterations = u64::from(kernel(scale, String::new()).iterations);
    let unit = unit.to_string();
    Row::new(f.name(), Group::Host, Param::HostBase(f))
        .unit("one call")
        .worst_case(worst_case)
        .sizes([0, 8, 16, 24, 32].map(|k| k * iterations))
        .kernel_variant("calls", move |scale| kernel(scale, unit.clone()))
}

/// A per-word row: `call(bytes)` is one call handling `bytes` bytes, made several times per
/// execution (a revert, which ends the execution, in several executions).
fn per_word(scale: Scale, f: HostFn, call: fn(u64) -> String, worst_case: &str) -> Row {
    let (calls, executions, expect) = if f == HostFn::Revert {
        (1, scale.pick(2, 8), Expect::Revert)
    } else {
        (scale.pick(2, 8), 1, Expect::Success)
    };
    let name = format!("{} per word", f.name());
    let build = move |words: u64| {
        let body = call(words * 32).repeat(calls as usize);
        let wat = format!(r#"(module {} (func (export "call") {body}))"#, preamble());
        (wat, words * calls)
    };
    Row::new(&name, Group::Host, Param::HostWord(f))
        .unit("a 32-byte word")
        .worst_case(worst_case)
        .sizes([
            0,
            MAX_WORDS / 4,
            MAX_WORDS / 2,
            3 * MAX_WORDS / 4,
            MAX_WORDS,
        ])
        .variant("1 MiB at most", move |env: &Env| {
            Ok(ModuleProbe::new(&name, env, Box::new(build))?
                .input(vec![7; (MAX_WORDS * 32) as usize])
                .executions(executions)
                .expect(expect))
        })
}

/// Every VM host-function row, in the order their quantities are priced (per word before per
/// call, since a call's unit may handle a word).
pub fn rows(scale: Scale) -> Vec<Row> {
    use HostFn::*;
    let getter = "a getter: a copy of a value the execution holds";
    vec![
        per_word(
            scale,
            InputRead,
            |n| format!("(call $input_read (i32.const 0) (i32.const 0) (i32.const {n}))"),
            "the whole 1 MiB of calldata copied at once",
        ),
        per_word(
            scale,
            SetReturn,
            |n| format!("(call $set_return (i32.const 0) (i32.const {n}))"),
            "1 MiB of return data (the limit) copied out of memory each time",
        ),
        per_word(
            scale,
            Keccak256,
            |n| format!("(call $keccak256 (i32.const 0) (i32.const {n}) (i32.const 0))"),
            "1 MiB hashed at once",
        ),
        per_word(
            scale,
            Revert,
            |n| format!("(call $revert (i32.const 0) (i32.const {n}))"),
            "1 MiB of revert data (the limit)",
        ),
        per_call(
            scale,
            InputRead,
            "(call $input_read (i32.const 0) (i32.const 0) (i32.const 1))",
            "one byte: the fixed cost of a copy",
        ),
        per_call(
            scale,
            SetReturn,
            "(call $set_return (i32.const 0) (i32.const 1))",
            "one byte: a new buffer each time",
        ),
        per_call(
            scale,
            Keccak256,
            "(call $keccak256 (i32.const 0) (i32.const 0) (i32.const 64))",
            "an empty input: one permutation",
        ),
        revert_base(scale),
        per_call(scale, InputSize, "(drop (call $input_size))", getter),
        per_call(scale, GasLeft, "(drop (call $gas_left))", getter),
        per_call(scale, Caller, "(call $caller (i32.const 64))", getter),
        per_call(scale, Address, "(call $address (i32.const 64))", getter),
        per_call(
            scale,
            CallValue,
            "(call $call_value (i32.const 64))",
            getter,
        ),
        per_call(scale, BlockNumber, "(drop (call $block_number))", getter),
        per_call(
            scale,
            BlockTimestamp,
            "(drop (call $block_timestamp))",
            getter,
        ),
        per_call(scale, ChainId, "(drop (call $chain_id))", getter),
        per_call(scale, BaseFee, "(call $base_fee (i32.const 64))", getter),
        per_call(
            scale,
            BlockProducer,
            "(call $block_producer (i32.const 64))",
            getter,
        ),
        per_call(
            scale,
            ReturnDataSize,
            "(drop (call $return_data_size))",
            getter,
        ),
    ]
}

fn revert_base(scale: Scale) -> Row {
    // An empty memory: the revert data is empty, and instantiation charges no page.
    let wat = format!(
        r#"(module {} (memory (export "memory") 0) (func (export "call") (call $revert (i32.const 0) (i32.const 0))))"#,
        imports(&[HostFn::Revert])
    );
    Row::new("revert", Group::Host, Param::HostBase(HostFn::Revert))
        .unit("one execution ending in `revert`")
        .worst_case("the revert unwinds out of the wasm code")
        .sizes([0, 50, 100, 150, 200].map(|n| n * scale.pick(1, 4)))
        .variant("no data", move |env: &Env| {
            RepeatProbe::new("revert", env, &wat, Expect::Revert)
        })
}
