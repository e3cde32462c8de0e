//! Every cap at its boundary.

use super::accepted::REALISTIC;
use super::common::*;
#[allow(unused_imports)]
use tally_vm::validate::{Cap, Feature, MemorySummary, TypeUse};
#[allow(unused_imports)]
use tally_vm::{validate, HostFn, ModuleLimits, ModuleSummary, ValidationError};

fn small_limits() -> ModuleLimits {
    ModuleLimits {
        max_code_size: 4096,
        max_functions: 4,
        max_locals_per_function: 5,
        max_globals: 2,
        max_table_size: 3,
        max_data_segments: 2,
        max_memory_pages: 2,
        max_imports: 2,
        max_exports: 3,
    }
}

/// Asserts `at_cap` passes and `over_cap` fails on `cap` with the given limit and actual values.
fn assert_cap_boundary(at_cap: &str, over_cap: &str, cap: Cap, limit: u64, actual: u64) {
    let limits = small_limits();
    if let Err(error) = validate(&wasm(at_cap), &limits) {
        panic!("module at the {} cap rejected: {error}", cap.field());
    }
    let error = validate(&wasm(over_cap), &limits).expect_err("module over the cap accepted");
    assert_eq!(error, ValidationError::LimitExceeded { cap, limit, actual });
    assert!(error.to_string().contains(cap.field()), "{error}");
}

fn repeat(item: &str, times: usize) -> String {
    vec![item; times].join(" ")
}

#[test]
fn code_size_cap_is_inclusive_and_checked_first() {
    let bytes = wasm(REALISTIC);
    let mut limits = ModuleLimits {
        max_code_size: bytes.len(),
        ..ModuleLimits::default()
    };
    assert!(validate(&bytes, &limits).is_ok());
    limits.max_code_size = bytes.len() - 1;
    let expected = ValidationError::LimitExceeded {
        cap: Cap::CodeSize,
        limit: bytes.len() as u64 - 1,
        actual: bytes.len() as u64,
    };
    assert_eq!(validate(&bytes, &limits), Err(expected.clone()));
    // Checked before parsing: oversized garbage reports the size, not the garbage.
    let garbage = vec![0xffu8; bytes.len()];
    assert_eq!(validate(&garbage, &limits), Err(expected));
}

#[test]
fn function_cap_counts_imports_and_definitions() {
    let imports = r#"(import "tally" "caller" (func (param i32)))
                     (import "tally" "address" (func (param i32)))"#;
    assert_cap_boundary(
        &format!("(module {imports} {})", repeat("(func)", 2)),
        &format!("(module {imports} {})", repeat("(func)", 3)),
        Cap::Functions,
        4,
        5,
    );
}

#[test]
fn huge_function_count_is_rejected_by_the_cap_without_reading_items() {
    // Type section: one `[] -> []`; function section claiming u32::MAX functions, no items.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]);
    bytes.extend_from_slice(&[0x03, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let error = validate(&bytes, &ModuleLimits::default()).unwrap_err();
    assert_eq!(
        error,
        ValidationError::LimitExceeded {
            cap: Cap::Functions,
            limit: 8_192,
            actual: u64::from(u32::MAX)
        }
    );
}

#[test]
fn locals_cap_is_per_function() {
    let limits = small_limits();
    let at_cap = "(module (func (local i32 i32 i32) (local i64 i64)))";
    assert!(validate(&wasm(at_cap), &limits).is_ok());
    let over = "(module (func) (func (local i32 i32 i32) (local i64 i64 i64)))";
    let error = validate(&wasm(over), &limits).unwrap_err();
    assert_eq!(
        error,
        ValidationError::TooManyLocals {
            function: 1,
            limit: 5,
            actual: 6
        }
    );
    assert!(
        error.to_string().contains("max_locals_per_function"),
        "{error}"
    );
}

#[test]
fn local_counts_that_overflow_u32_are_summed_without_overflow() {
    use wasm_encoder::{CodeSection, Function, FunctionSection, Module, TypeSection, ValType};
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut body = Function::new([
        (u32::MAX, ValType::I32),
        (u32::MAX, ValType::I64),
        (2, ValType::I32),
    ]);
    body.instructions().end();
    let mut code = CodeSection::new();
    code.function(&body);
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&code);
    let error = validate(&module.finish(), &ModuleLimits::default()).unwrap_err();
    assert_eq!(
        error,
        ValidationError::TooManyLocals {
            function: 0,
            limit: 2_048,
            actual: 2 * u64::from(u32::MAX) + 2
        }
    );
}

#[test]
fn globals_cap() {
    let global = "(global i32 (i32.const 0))";
    assert_cap_boundary(
        &format!("(module {})", repeat(global, 2)),
        &format!("(module {})", repeat(global, 3)),
        Cap::Globals,
        2,
        3,
    );
}

#[test]
fn table_size_cap_covers_initial_and_maximum() {
    assert_cap_boundary(
        "(module (table 3 funcref))",
        "(module (table 4 funcref))",
        Cap::TableSize,
        3,
        4,
    );
    assert_cap_boundary(
        "(module (table 1 3 funcref))",
        "(module (table 1 4 funcref))",
        Cap::TableSize,
        3,
        4,
    );
}

#[test]
fn data_segments_cap() {
    let segment = r#"(data (i32.const 0) "x")"#;
    assert_cap_boundary(
        &format!("(module (memory 1) {})", repeat(segment, 2)),
        &format!("(module (memory 1) {})", repeat(segment, 3)),
        Cap::DataSegments,
        2,
        3,
    );
}

#[test]
fn memory_pages_cap_covers_initial_and_maximum() {
    assert_cap_boundary(
        "(module (memory 2))",
        "(module (memory 3))",
        Cap::MemoryPages,
        2,
        3,
    );
    assert_cap_boundary(
        "(module (memory 1 2))",
        "(module (memory 1 3))",
        Cap::MemoryPages,
        2,
        3,
    );
}

#[test]
fn imports_cap() {
    let names = ["caller", "address", "block_producer"];
    let import = |name: &str| format!(r#"(import "tally" "{name}" (func (param i32)))"#);
    let at: Vec<String> = names[..2].iter().map(|n| import(n)).collect();
    let over: Vec<String> = names.iter().map(|n| import(n)).collect();
    let limits = ModuleLimits {
        max_functions: 100,
        ..small_limits()
    };
    assert!(validate(&wasm(&format!("(module {})", at.join(" "))), &limits).is_ok());
    let error = validate(&wasm(&format!("(module {})", over.join(" "))), &limits).unwrap_err();
    assert_eq!(
        error,
        ValidationError::LimitExceeded {
            cap: Cap::Imports,
            limit: 2,
            actual: 3
        }
    );
}

#[test]
fn exports_cap() {
    let export = |name: &str| format!(r#"(export "{name}" (func 0))"#);
    let at: Vec<String> = ["a", "b", "c"].iter().map(|n| export(n)).collect();
    let over: Vec<String> = ["a", "b", "c", "d"].iter().map(|n| export(n)).collect();
    assert_cap_boundary(
        &format!("(module (func) {})", at.join(" ")),
        &format!("(module (func) {})", over.join(" ")),
        Cap::Exports,
        3,
        4,
    );
}
