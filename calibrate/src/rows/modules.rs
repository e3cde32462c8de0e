//! Rows of memory growth, bulk memory, instantiation (per execution, per memory page, per data
//! word, per code word), trapping, and compiling a module per byte of code.

use tally_vm::{OperatorClass, WASM_PAGE_SIZE};

use super::probes::{parse, CompileProbe, Expect, Generator, ModuleProbe, Padding, RepeatProbe};
use crate::env::{Env, Scale};
use crate::kernel::LoopKernel;
use crate::param::Param;
use crate::row::{Group, Row};

/// Largest memory a contract may have, in pages.
const MAX_PAGES: u64 = 256;

/// Writes one byte in every 4 KiB of pages `[$p, $end)` (the pages are then resident).
const TOUCH: &str = "(block $done (loop $pages
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (i32.store8 offset=0 (local.get $p) (i32.const 1))
      (i32.store8 offset=4096 (local.get $p) (i32.const 1))
      (i32.store8 offset=8192 (local.get $p) (i32.const 1))
      (i32.store8 offset=12288 (local.get $p) (i32.const 1))
      (i32.store8 offset=16384 (local.get $p) (i32.const 1))
      (i32.store8 offset=20480 (local.get $p) (i32.const 1))
      (i32.store8 offset=24576 (local.get $p) (i32.const 1))
      (i32.store8 offset=28672 (local.get $p) (i32.const 1))
      (i32.store8 offset=32768 (local.get $p) (i32.const 1))
      (i32.store8 offset=36864 (local.get $p) (i32.const 1))
      (i32.store8 offset=40960 (local.get $p) (i32.const 1))
      (i32.store8 offset=45056 (local.get $p) (i32.const 1))
      (i32.store8 offset=49152 (local.get $p) (i32.const 1))
      (i32.store8 offset=53248 (local.get $p) (i32.const 1))
      (i32.store8 offset=57344 (local.get $p) (i32.const 1))
      (i32.store8 offset=61440 (local.get $p) (i32.const 1))
      (local.set $p (i32.add (local.get $p) (i32.const 65536)))
      (br $pages)))";

/// Every memory and module row, in the order their quantities are priced.
pub fn rows(scale: Scale) -> Vec<Row> {
    vec![
        grow_per_page(),
        grow_base(scale),
        bulk_per_word(),
        bulk_base(scale),
        instantiation_per_page(scale),
        instantiation_per_code_word(scale),
        instantiation_per_data_word(scale),
        instantiation_base(scale),
        unreachable(scale),
        compile(scale),
    ]
}

fn grow_per_page() -> Row {
    let build = |pages: u64| {
        let wat = format!(
            r#"(module (memory (export "memory") 1)
  (func (export "call") (local $p i32) (local $end i32)
    (drop (memory.grow (i32.const {pages})))
    (local.set $p (i32.const 65536))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    {TOUCH}))"#
        );
        (wat, pages)
    };
    Row::new("memory.grow per page", Group::Memory, Param::MemoryGrowPage)
        .unit("a page grown, then written once per 4 KiB")
        .worst_case("every 4 KiB of the new page is written, so the page is really allocated and zeroed; up to the largest memory")
        .sizes([0, 64, 128, 192, MAX_PAGES - 1])
        .variant("grow and write", move |env: &Env| {
            Ok(ModuleProbe::new("memory.grow per page", env, Box::new(build))?
                .executions(env.scale.pick(1, 3)))
        })
}

fn grow_base(scale: Scale) -> Row {
    let kernel = |scale: Scale, pages: u32| {
        LoopKernel::new(move |_| format!("(drop (memory.grow (i32.const {pages})))"))
            .iterations(if pages == 0 { scale.pick(100, 400) } else { 1 })
    };
    let iterations = u64::from(kernel(scale, 0).iterations);
    Row::new(
        "memory.grow",
        Group::Memory,
        Param::Op(OperatorClass::MemoryGrow),
    )
    .unit("one `memory.grow`")
    .worst_case("a call into the engine each time; growing by zero pages still makes the call")
    .sizes([0, 16, 32, 48, 64].map(|k| k * iterations))
    .kernel_variant("by 0 pages", move |scale| kernel(scale, 0))
}

fn bulk_per_word() -> Row {
    let half = MAX_PAGES * WASM_PAGE_SIZE / 2;
    let build = move |op: &'static str| {
        move |words: u64| {
            let bytes = words * 32;
            let wat = format!(
                r#"(module (memory (export "memory") {MAX_PAGES} {MAX_PAGES})
  (func (export "call")
    (memory.fill (i32.const 0) (i32.const 7) (i32.const {total}))
    {op}))"#,
                total = 2 * half,
                op = match op {
                    "copy" => format!(
                        "(memory.copy (i32.const {half}) (i32.const 0) (i32.const {bytes}))"
                    ),
                    _ => format!(
                        "(memory.fill (i32.const {half}) (i32.const 9) (i32.const {bytes}))"
                    ),
                }
            );
            (wat, words)
        }
    };
    let max = half / 32;
    Row::new("bulk memory per word", Group::Memory, Param::BulkWord)
        .unit("a 32-byte word copied or filled")
        .worst_case("8 MiB at once over a 16 MiB memory: the data does not fit the caches")
        .sizes([0, max / 4, max / 2, 3 * max / 4, max])
        .variant("memory.copy", move |env: &Env| {
            Ok(
                ModuleProbe::new("bulk memory per word", env, Box::new(build("copy")))?
                    .executions(env.scale.pick(1, 2)),
            )
        })
        .variant("memory.fill", move |env: &Env| {
            Ok(
                ModuleProbe::new("bulk memory per word", env, Box::new(build("fill")))?
                    .executions(env.scale.pick(1, 2)),
            )
        })
}

fn bulk_base(scale: Scale) -> Row {
    let kernel = |scale: Scale, op: &'static str| {
        LoopKernel::new(move |_| format!("({op} (i32.const 64) (i32.const 0) (i32.const 0))"))
            .iterations(scale.pick(200, 1_000))
    };
    let iterations = u64::from(kernel(scale, "memory.copy").iterations);
    Row::new(
        "bulk memory",
        Group::Memory,
        Param::Op(OperatorClass::BulkMemory),
    )
    .unit("one `memory.copy` or `memory.fill` of nothing")
    .worst_case("a call into the engine each time, whatever the length")
    .sizes([0, 8, 16, 24, 32].map(|k| k * iterations))
    .kernel_variant("memory.copy", move |scale| kernel(scale, "memory.copy"))
    .kernel_variant("memory.fill", move |scale| kernel(scale, "memory.fill"))
}

fn instantiation_per_page(scale: Scale) -> Row {
    let build = |pages: u64| {
        let wat = format!(
            r#"(module (memory (export "memory") {pages} {MAX_PAGES})
  (func (export "call") (local $p i32) (local $end i32)
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    {TOUCH}))"#
        );
        (wat, pages)
    };
    let executions = scale.pick(3, 10);
    Row::new("instantiation per memory page", Group::Module, Param::InstantiationPage)
        .unit("an initial memory page, written once per 4 KiB")
        .worst_case("every 4 KiB of every initial page is written, so each is allocated, zeroed and later reset; up to the largest memory")
        .sizes([1, 64, 128, 192, MAX_PAGES])
        .variant("pages written", move |env: &Env| {
            Ok(ModuleProbe::new("instantiation per memory page", env, Box::new(build))?
                .executions(executions))
        })
}

fn instantiation_per_data_word(scale: Scale) -> Row {
    let build = |words: u64| {
        let data = "a".repeat((words * 32) as usize);
        let wat = format!(
            r#"(module (memory (export "memory") 4) (data (i32.const 0) "{data}") (func (export "call")))"#
        );
        (wat, words)
    };
    let executions = scale.pick(20, 50);
    Row::new(
        "instantiation per data word",
        Group::Module,
        Param::InstantiationDataWord,
    )
    .unit("a 32-byte word of active data segments")
    .worst_case("one segment as large as the code size limit allows")
    .sizes([512, 1_500, 3_000, 4_500, 6_000])
    .variant("one segment", move |env: &Env| {
        // Aligned to words, the code grows by exactly a word per word of data.
        Ok(
            ModuleProbe::new("instantiation per data word", env, Box::new(build))?
                .padding(Padding::Align(32))
                .executions(executions),
        )
    })
}

fn instantiation_per_code_word(scale: Scale) -> Row {
    // About 9 bytes per function and 2 per table element; at most 8,192 functions.
    let build = |words: u64| {
        let functions = (words * 32 / 11).clamp(1, 8_000);
        let mut wat = String::from(
            r#"(module (memory (export "memory") 1) (type $t (func (param i64) (result i64)))"#,
        );
        for i in 0..functions {
            wat += &format!(
                "(func $f{i} (type $t) (i64.add (local.get 0) (i64.const {})))",
                i % 64
            );
        }
        wat += &format!("(table {functions} funcref) (elem (i32.const 0)");
        for i in 0..functions {
            wat += &format!(" $f{i}");
        }
        wat += r#") (func (export "call")))"#;
        let bytes = parse(&wat).map(|code| code.len() as u64).unwrap_or(0);
        (wat, bytes.div_ceil(32))
    };
    let executions = scale.pick(20, 50);
    Row::new(
        "instantiation per code word",
        Group::Module,
        Param::InstantiationCodeWord,
    )
    .unit("a 32-byte word of module code")
    .worst_case("code made of small functions all placed in a table, up to the code size limit")
    .sizes([10, 700, 1_400, 2_100, 2_700])
    .variant("functions in a table", move |env: &Env| {
        Ok(
            ModuleProbe::new("instantiation per code word", env, Box::new(build))?
                .padding(Padding::None)
                .executions(executions),
        )
    })
}

fn instantiation_base(scale: Scale) -> Row {
    let executions = [0, 50, 100, 150, 200].map(|n| n * scale.pick(1, 4));
    Row::new("instantiation", Group::Module, Param::InstantiationBase)
        .unit("one execution of an empty entry point")
        .worst_case(
            "a new instance each time: store, instance slot, memory and table reset on teardown",
        )
        .sizes(executions)
        .variant("with memory", |env: &Env| {
            RepeatProbe::new(
                "instantiation",
                env,
                r#"(module (memory (export "memory") 1) (func (export "call")))"#,
                Expect::Success,
            )
        })
        .variant("without memory", |env: &Env| {
            RepeatProbe::new(
                "instantiation",
                env,
                r#"(module (func (export "call")))"#,
                Expect::Success,
            )
        })
}

fn unreachable(scale: Scale) -> Row {
    let executions = [0, 50, 100, 150, 200].map(|n| n * scale.pick(1, 4));
    Row::new(
        "unreachable",
        Group::Module,
        Param::Op(OperatorClass::Unreachable),
    )
    .unit("one execution ending in `unreachable`")
    .worst_case("the trap unwinds through the engine's signal handler")
    .sizes(executions)
    .variant("trap", |env: &Env| {
        let cost = env.costs.vm.class_cost(OperatorClass::Unreachable);
        Ok(RepeatProbe::new(
            "unreachable",
            env,
            r#"(module (func (export "call") unreachable))"#,
            Expect::Unreachable,
        )?
        .limit(move |module| module.instantiation_gas() + cost))
    })
}

fn compile(scale: Scale) -> Row {
    let sizes = scale.pick(
        [4_096, 8_192, 12_288, 16_384, 24_576],
        [16_384, 65_536, 131_072, 196_608, 253_952],
    );
    Row::new("compilation per code byte", Group::Module, Param::Runtime(crate::param::RuntimeCost::CodeByte))
        .unit("a byte of deployed code: validated, instrumented and compiled")
        .worst_case("code that is slowest to compile per byte: long functions with many live values, up to the code size limit")
        .sizes(sizes)
        .variant("long function", |env: &Env| CompileProbe::new(env, generator(long_function)))
        .variant("many functions", |env: &Env| CompileProbe::new(env, generator(many_functions)))
}

/// A generator from a text template: `body(i)` is statement `i`; statements are added until
/// the module reaches the size.
fn generator(body: fn(u64) -> String) -> Generator {
    Box::new(move |size, nonce| {
        // Grow the statement count geometrically to near the size, then one at a time.
        let mut count = 1u64;
        let mut code = parse(&body(count))?;
        while (code.len() as u64) < size {
            let bytes_per = (code.len() as u64 / count).max(1);
            let missing = (size - code.len() as u64) / bytes_per;
            count += missing.max(1);
            code = parse(&body(count))?;
        }
        Ok(with_nonce(code, nonce))
    })
}

/// `code` with a custom section holding `nonce`, so equal code compiles anew each time.
fn with_nonce(mut code: Vec<u8>, nonce: u64) -> Vec<u8> {
    // Section id 0 (custom), 10 bytes: name of length 1, then the 8-byte nonce.
    code.extend_from_slice(&[0, 10, 1, b'n']);
    code.extend_from_slice(&nonce.to_le_bytes());
    code
}

/// One function of `statements` statements mixing 64 live locals.
fn long_function(statements: u64) -> String {
    let locals: String = (0..64).map(|j| format!("(local $l{j} i64)")).collect();
    let body: String = (0..statements)
        .map(|i| {
            let (a, b, c) = (i % 64, (i * 7 + 3) % 64, (i * 13 + 5) % 64);
            format!("(local.set $l{a} (i64.add (local.get $l{b}) (i64.mul (local.get $l{c}) (local.get $l{a}))))")
        })
        .collect();
    let sum = (1..64).fold("(local.get $l0)".to_string(), |acc, j| {
        format!("(i64.xor {acc} (local.get $l{j}))")
    });
    format!(
        r#"(module (memory (export "memory") 1) (func (export "call") {locals} {body} (i64.store (i32.const 0) {sum})))"#
    )
}

/// `count` small functions calling each other (about 36 bytes each, so that the largest
/// module stays within the function limit).
fn many_functions(count: u64) -> String {
    let functions: String = (0..count)
        .map(|i| {
            format!(
                "(func $f{i} (param i64) (result i64)
                   (i64.xor (i64.add (call $g (local.get 0)) (i64.const {}))
                            (i64.rotl (i64.sub (local.get 0) (i64.const {})) (i64.const {}))))",
                0x1234_5678 + i,
                0x7654_3210 + i,
                i % 64
            )
        })
        .collect();
    format!(
        r#"(module (memory (export "memory") 1) (func $g (param i64) (result i64) (i64.rotl (local.get 0) (i64.const 1))) {functions} (func (export "call")))"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_modules_stay_within_the_limits() {
        for body in [long_function as fn(u64) -> String, many_functions] {
            let code = generator(body)(253_952, 1).unwrap();
            tally_vm::validate(&code, &tally_vm::ModuleLimits::default()).unwrap();
        }
    }

    #[test]
    fn generated_modules_reach_their_size_and_differ_only_by_nonce() {
        let generate = generator(long_function);
        let a = generate(5_000, 1).unwrap();
        let b = generate(5_000, 2).unwrap();
        assert!(a.len() >= 5_000 && a.len() < 5_200, "{}", a.len());
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b);
    }
}
