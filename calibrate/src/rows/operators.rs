//! One row per wasm operator class. Each unit is a step of a dependency chain through the
//! operator (so neither the CPU nor Cranelift can overlap or fold the steps), fed by values the
//! compiler cannot know (loaded from a data segment); where inputs change the speed, the
//! inputs are the slow ones: mispredicted branches and indirect calls, divisions with wide
//! quotients, memory accessed at random over the largest memory a contract may have.

use tally_vm::{OperatorClass, WASM_PAGE_SIZE};

use crate::env::Scale;
use crate::kernel::LoopKernel;
use crate::param::Param;
use crate::row::{Group, Row};

/// Unknown values: `$x`, `$y` (odd, its low six bits a shift of 21), `$w`, `$v` (odd).
const DATA: &str = r#"(data (i32.const 0) "\ef\cd\ab\89\67\45\23\01\15\7c\4a\7f\b9\79\37\9e\b9\79\37\9e\0b\a5\5a\c3")"#;
const LOCALS: &str = "(local $x i64) (local $y i64) (local $w i32) (local $v i32)";
const SETUP: &str =
    "(local.set $x (i64.load (i32.const 0))) (local.set $y (i64.load (i32.const 8)))
    (local.set $w (i32.load (i32.const 16))) (local.set $v (i32.load (i32.const 20)))";
const FINISH: &str =
    "(i64.store (i32.const 32) (local.get $x)) (i32.store (i32.const 40) (local.get $w))";

/// A 64-bit LCG step of `$x` (its top bits are then as good as random).
const LCG: &str = "(local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005)) (i64.const 1442695040888963407)))";

/// Units per loop iteration measured by the fast rows.
const PER_ITERATION: [u64; 5] = [0, 8, 16, 24, 32];

/// A kernel over the shared data, locals, setup and finish.
fn kernel(scale: Scale, unit: impl Fn(u32) -> String + 'static) -> LoopKernel {
    LoopKernel::new(unit)
        .preamble(format!(r#"(memory (export "memory") 1) {DATA}"#))
        .locals(LOCALS)
        .setup(SETUP)
        .finish(FINISH)
        .iterations(scale.pick(500, 2_000))
}

/// Makes the kernel of a variant.
type Build = fn(Scale) -> LoopKernel;

/// A row of a class with its variants, each named with the function making its kernel.
fn row(
    scale: Scale,
    class: OperatorClass,
    unit: &str,
    worst_case: &str,
    variants: Vec<(&'static str, Build)>,
) -> Row {
    let iterations = u64::from(kernel(scale, |_| String::new()).iterations);
    let mut row = Row::new(class.name(), Group::Operator, Param::Op(class))
        .unit(unit)
        .worst_case(worst_case)
        .sizes(PER_ITERATION.iter().map(|k| k * iterations));
    for (name, build) in variants {
        row = row.kernel_variant(name, build);
    }
    row
}

/// Every operator-class row, in the order their quantities are priced.
pub fn rows(scale: Scale) -> Vec<Row> {
    use OperatorClass::*;
    vec![
        row(scale, Local, "`local.set` of a `local.get`: one local moved", "64 locals rotated, more than there are registers: each move is a spill and a reload", vec![
            ("64 locals", |s| rotate_locals(s, 64)),
            ("16 locals", |s| rotate_locals(s, 16)),
        ]),
        row(scale, Integer, "a dependent step of two integer operators (`x ^= x >> y`)", "each step waits for the previous one (latency, not throughput)", vec![
            ("xorshift", |s| kernel(s, |_| "(local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (local.get $y))))".into())),
            ("rotate-add", |s| kernel(s, |_| "(local.set $x (i64.add (i64.rotl (local.get $x) (local.get $y)) (local.get $y)))".into())),
            ("popcnt-add", |s| kernel(s, |_| "(local.set $x (i64.add (i64.popcnt (local.get $x)) (i64.rotl (local.get $x) (local.get $y))))".into())),
        ]),
        row(scale, Constant, "a xorshift step by a constant", "64-bit immediates, which x86 must load with a separate instruction", vec![
            ("wide immediate", |s| kernel(s, |i| format!("(local.set $x (i64.rotl (i64.xor (local.get $x) (i64.const {})) (local.get $y)))", 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(u64::from(i) + 1) as i64))),
            ("shift amount", |s| kernel(s, |i| format!("(local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const {}))))", 1 + i % 63))),
        ]),
        row(scale, Conversion, "a sign or zero extension in a dependent step", "each step waits for the previous one", vec![
            ("extend32_s", |s| kernel(s, |_| "(local.set $x (i64.xor (i64.extend32_s (local.get $x)) (i64.rotl (local.get $x) (local.get $y))))".into())),
            ("wrap-extend", |s| kernel(s, |_| "(local.set $x (i64.rotl (i64.extend_i32_u (i32.wrap_i64 (local.get $x))) (local.get $y)))".into())),
        ]),
        row(scale, Multiply, "a dependent multiplication", "each multiplication waits for the previous one (3-cycle latency)", vec![
            ("i64.mul", |s| kernel(s, |_| "(local.set $x (i64.mul (local.get $x) (local.get $y)))".into())),
            ("i32.mul", |s| kernel(s, |_| "(local.set $w (i32.mul (local.get $w) (local.get $v)))".into())),
        ]),
        row(scale, Divide, "a dependent division or remainder", "64-bit operands and wide quotients, each division waiting for the previous one", vec![
            ("i64.div_u", |s| kernel(s, |_| "(local.set $x (i64.add (i64.div_u (local.get $y) (i64.or (i64.and (local.get $x) (i64.const 0xffff)) (i64.const 1))) (local.get $x)))".into())),
            ("i64.div_s", |s| kernel(s, |_| "(local.set $x (i64.add (i64.div_s (local.get $y) (i64.or (i64.and (local.get $x) (i64.const 0xffff)) (i64.const 1))) (local.get $x)))".into())),
            ("i64.rem_u", |s| kernel(s, |_| "(local.set $x (i64.add (i64.rem_u (local.get $y) (i64.or (local.get $x) (i64.const 1))) (local.get $y)))".into())),
            ("i32.div_u", |s| kernel(s, |_| "(local.set $w (i32.add (i32.div_u (local.get $v) (i32.or (i32.and (local.get $w) (i32.const 0xff)) (i32.const 1))) (local.get $w)))".into())),
        ]),
        row(scale, Parametric, "a `select` in a dependent step", "the selected value feeds the next step", vec![
            ("select", |s| kernel(s, |_| "(local.set $x (select (i64.rotl (local.get $x) (local.get $y)) (i64.xor (local.get $x) (local.get $y)) (i32.wrap_i64 (local.get $x))))".into())),
            ("drop", |s| kernel(s, |_| "(drop (local.get $x)) (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (local.get $y))))".into())),
        ]),
        row(scale, Global, "a xorshift step of a global", "the global lives in memory: every step stores it and the next reloads it", vec![
            ("one global", |s| globals(s, 1)),
            ("16 globals", |s| globals(s, 16)),
        ]),
        row(scale, MemorySize, "`memory.size` added into a dependent step", "read from the instance each time", vec![
            ("memory.size", |s| kernel(s, |_| "(local.set $x (i64.rotl (i64.add (local.get $x) (i64.extend_i32_u (memory.size))) (local.get $y)))".into())),
        ]),
        row(scale, Structure, "a block around a xorshift step", "`loop` and `block` split the metered segments, so each adds a gas charge", vec![
            ("loop", |s| kernel(s, |_| "(loop (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (local.get $y)))))".into())),
            ("block", |s| kernel(s, |_| "(block (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (local.get $y)))))".into())),
        ]),
        row(scale, Branch, "an LCG step and a branch on its top bit", "the branch goes either way at random: mispredicted half of the time", vec![
            ("if/else", |s| kernel(s, |_| format!("{LCG} (if (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 63))) (then (local.set $w (i32.add (local.get $w) (i32.const 1)))) (else (local.set $w (i32.sub (local.get $w) (i32.const 1)))))"))),
        ]),
        row(scale, BranchTable, "an LCG step and a `br_table` on its top bits", "one of 8 targets at random: the indirect jump is mispredicted most of the time", vec![
            ("8 targets", |s| kernel(s, |_| branch_table(8))),
        ]),
        row(scale, Call, "a call of a small function", "the callee makes calls itself, so it takes and returns its stack units", vec![
            ("non-leaf", |s| calls(s, false)),
            ("leaf", |s| calls(s, true)),
        ]),
        row(scale, Ret, "a call of a function that ends with `return`", "as for calls", vec![
            ("return", returns),
        ]),
        row(scale, CallIndirect, "an LCG step and a `call_indirect` on its top bits", "one of 16 functions at random: the indirect call is mispredicted most of the time, and the signature checked", vec![
            ("16 functions", call_indirect),
        ]),
        row(scale, DataDrop, "`data.drop` of a passive segment", "a call into the engine each time", vec![
            ("data.drop", data_drop),
        ]),
        memory_row(scale, Load, "an LCG step and a load from the address it gives", "a pointer chase at random over the largest memory (16 MiB): every load misses the caches and the TLB", &[
            ("i32.load", "i32.load"),
            ("i64.load", "i32.wrap_i64 (i64.load"),
        ]),
        memory_row(scale, Store, "an LCG step and a store to the address it gives", "stores at random over the largest memory (16 MiB): every store misses the caches", &[
            ("i32.store", "i32.store"),
            ("i64.store", "i64.store"),
        ]),
    ]
}

/// `count` locals shifted by one per unit.
fn rotate_locals(scale: Scale, count: u32) -> LoopKernel {
    let locals: String = (0..count).map(|j| format!("(local $a{j} i64)")).collect();
    let setup: String = (0..count)
        .map(|j| {
            format!(
                "(local.set $a{j} (i64.load offset={} (i32.const 0)))",
                (j % 3) * 8
            )
        })
        .collect();
    let sum = (1..count).fold("(local.get $a0)".to_string(), |acc, j| {
        format!("(i64.add {acc} (local.get $a{j}))")
    });
    kernel(scale, move |i| {
        format!(
            "(local.set $a{} (local.get $a{}))",
            i % count,
            (i + 1) % count
        )
    })
    .locals(format!("{LOCALS} {locals}"))
    .setup(format!("{SETUP} {setup}"))
    .finish(format!("{FINISH} (i64.store (i32.const 48) {sum})"))
}

/// A xorshift step through globals, `count` of them in turn.
fn globals(scale: Scale, count: u32) -> LoopKernel {
    let decls: String = (0..count)
        .map(|j| format!("(global $g{j} (mut i64) (i64.const {}))", j + 3))
        .collect();
    kernel(scale, move |i| {
        let (a, b) = (i % count, (i + 1) % count);
        format!("(global.set $g{a} (i64.xor (global.get $g{b}) (i64.shr_u (global.get $g{a}) (local.get $y))))")
    })
    .preamble(format!(r#"(memory (export "memory") 1) {DATA} {decls}"#))
}

/// An LCG step then a `br_table` over `targets` targets, each doing the same work then leaving
/// the unit.
fn branch_table(targets: u32) -> String {
    let table: String = (0..targets).map(|t| format!("{t} ")).collect();
    let shift = 64 - targets.trailing_zeros();
    let mut unit = format!(
        "(br_table {table}0 (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const {shift}))))"
    );
    for t in 0..targets {
        unit = format!(
            "(block {unit}) (local.set $w (i32.add (local.get $w) (i32.const {}))) (br {})",
            t + 1,
            targets - 1 - t
        );
    }
    format!("{LCG} (block {unit})")
}

/// The callee of the call rows; `leaf` makes no call, the other may (never does).
fn callee(leaf: bool) -> String {
    let never = if leaf {
        ""
    } else {
        "(if (i64.eqz (local.get $b)) (then (drop (call $f (local.get $a) (i64.const 1)))))"
    };
    format!("(func $f (param $a i64) (param $b i64) (result i64) {never} (i64.xor (local.get $a) (i64.shr_u (local.get $a) (local.get $b))))")
}

fn calls(scale: Scale, leaf: bool) -> LoopKernel {
    kernel(scale, |_| {
        "(local.set $x (call $f (local.get $x) (local.get $y)))".into()
    })
    .preamble(format!(
        r#"(memory (export "memory") 1) {DATA} {}"#,
        callee(leaf)
    ))
}

fn returns(scale: Scale) -> LoopKernel {
    let f = "(func $f (param $a i64) (param $b i64) (result i64) (return (i64.xor (local.get $a) (i64.shr_u (local.get $a) (local.get $b)))))";
    kernel(scale, |_| {
        "(local.set $x (call $f (local.get $x) (local.get $y)))".into()
    })
    .preamble(format!(r#"(memory (export "memory") 1) {DATA} {f}"#))
}

fn call_indirect(scale: Scale) -> LoopKernel {
    let functions: String = (0..16)
        .map(|j| format!("(func $f{j} (type $t) (param $a i64) (result i64) (i64.rotl (local.get $a) (i64.const {})))", j + 1))
        .collect();
    let names: String = (0..16).map(|j| format!(" $f{j}")).collect();
    kernel(scale, |_| {
        format!("{LCG} (local.set $w (i32.add (local.get $w) (i32.wrap_i64 (call_indirect (type $t) (local.get $x) (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 60)))))))")
    })
    .preamble(format!(
        r#"(type $t (func (param i64) (result i64))) (memory (export "memory") 1) {DATA} {functions} (table 16 funcref) (elem (i32.const 0){names})"#
    ))
}

fn data_drop(scale: Scale) -> LoopKernel {
    kernel(scale, |_| "(data.drop $passive) (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (local.get $y))))".into())
        .preamble(format!(r#"(memory (export "memory") 1) {DATA} (data $passive "passive segment")"#))
}

/// Pages of the memory rows: the largest memory a contract may have.
const MAX_PAGES: u32 = 256;

/// A load or store row: `op` is the operator (and for loads, what wraps its result to i32).
fn memory_row(
    scale: Scale,
    class: OperatorClass,
    unit: &str,
    worst_case: &str,
    variants: &[(&'static str, &'static str)],
) -> Row {
    let iterations = u64::from(memory_kernel(scale, class, "i32.load").iterations);
    let mut row = Row::new(class.name(), Group::Operator, Param::Op(class))
        .unit(unit)
        .worst_case(worst_case)
        .sizes([0, 4, 8, 12, 16].iter().map(|k| k * iterations));
    for (name, op) in variants {
        let op = *op;
        row = row.kernel_variant(*name, move |scale| memory_kernel(scale, class, op));
    }
    row
}

/// A kernel over a full 16 MiB memory, written first so every page is resident.
fn memory_kernel(scale: Scale, class: OperatorClass, op: &'static str) -> LoopKernel {
    let bytes = u64::from(MAX_PAGES) * WASM_PAGE_SIZE;
    let mask = bytes - 8;
    let next = format!("(i32.and (i32.add (i32.mul (local.get $w) (i32.const 1103515245)) (i32.const 12345)) (i32.const {mask}))");
    let unit: Box<dyn Fn(u32) -> String> = if class == OperatorClass::Load {
        let close = if op.contains('(') { ")" } else { "" };
        Box::new(move |_| {
            format!("(local.set $w (i32.xor (i32.and ({op} (local.get $w)){close} (i32.const 1)) {next}))")
        })
    } else {
        Box::new(move |_| {
            let value = if op.starts_with("i64") {
                "(i64.extend_i32_u (local.get $w))"
            } else {
                "(local.get $w)"
            };
            format!("({op} (local.get $w) {value}) (local.set $w {next})")
        })
    };
    LoopKernel::new(unit)
        .preamble(format!(
            r#"(memory (export "memory") {MAX_PAGES} {MAX_PAGES}) {DATA}"#
        ))
        .locals(LOCALS)
        .setup(format!(
            "(memory.fill (i32.const 64) (i32.const 0) (i32.const {})) {SETUP}
    (local.set $w (i32.and (local.get $w) (i32.const {mask})))",
            bytes - 64
        ))
        .finish(FINISH)
        .iterations(scale.pick(2_000, 16_000))
}
