//! Every rejected feature class, named with its function and offset.

use super::common::*;
#[allow(unused_imports)]
use tally_vm::validate::{Cap, Feature, MemorySummary, TypeUse};
#[allow(unused_imports)]
use tally_vm::{validate, HostFn, ModuleLimits, ModuleSummary, ValidationError};

#[test]
fn float_instruction_names_function_and_offset() {
    let text = r#"(module
        (import "tally" "caller" (func (param i32)))
        (import "tally" "address" (func (param i32)))
        (func)
        (func unreachable f32.add drop))"#;
    let bytes = wasm(text);
    let error = reject_feature_bytes(&bytes);
    let (function, offset) = assert_instruction(&error, "f32.add", Feature::FloatingPoint);
    assert_eq!(
        function,
        Some(3),
        "imports count in the function index space"
    );
    // The body `unreachable f32.add drop end` ends the module: f32.add is its 3rd-last byte.
    assert_eq!(offset, bytes.len() - 3);
    assert_eq!(
        bytes[offset], 0x92,
        "the offset points at the f32.add opcode"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "function 3 at offset {offset:#x}: instruction f32.add uses floating point, \
             which Tally does not allow"
        )
    );
}

#[test]
fn float_constants_loads_and_conversions_are_rejected() {
    let cases = [
        ("(module (func (drop (f64.const 1.5))))", "f64.const"),
        (
            "(module (memory 1) (func (drop (f32.load (i32.const 0)))))",
            "f32.load",
        ),
        (
            "(module (func unreachable f64.convert_i32_s drop))",
            "f64.convert_i32_s",
        ),
        (
            "(module (func unreachable i32.trunc_sat_f64_s drop))",
            "i32.trunc_sat_f64_s",
        ),
    ];
    for (text, name) in cases {
        assert_instruction(&reject_feature(text), name, Feature::FloatingPoint);
    }
}

#[test]
fn float_to_int_conversions_are_rejected_even_in_dead_code() {
    // wasmparser's `floats` switch only gates instructions that produce a float; one that only
    // consumes a float is rejected by type checking in live code, but passes after `unreachable`.
    // Tally rejects every float instruction wherever it is, so here it is stricter than wasmtime.
    for name in ["i64.reinterpret_f64", "i32.trunc_f32_u", "i64.trunc_f64_s"] {
        let bytes = wasm(&format!("(module (func unreachable {name} drop))"));
        let error = validate(&bytes, &ModuleLimits::default()).expect_err(name);
        assert_instruction(&error, name, Feature::FloatingPoint);
        assert!(
            wasmtime_accepts(&bytes),
            "wasmtime now rejects {name}: use reject_feature"
        );
    }
}

#[test]
fn float_type_in_signature_is_rejected() {
    let error = reject_feature("(module (type (func)) (type (func (param i32 f64))))");
    assert_type(
        &error,
        "f64",
        Feature::FloatingPoint,
        TypeUse::Signature { type_index: 1 },
    );
    let error = reject_feature("(module (func (result f32) unreachable))");
    assert_type(
        &error,
        "f32",
        Feature::FloatingPoint,
        TypeUse::Signature { type_index: 0 },
    );
}

#[test]
fn float_local_is_rejected() {
    let error = reject_feature(
        r#"(module (import "tally" "caller" (func (param i32))) (func) (func (local i32 f32)))"#,
    );
    assert_type(
        &error,
        "f32",
        Feature::FloatingPoint,
        TypeUse::Local { function: 2 },
    );
    assert!(
        error
            .to_string()
            .starts_with("a local of function 2 at offset"),
        "{error}"
    );
}

#[test]
fn float_global_is_rejected() {
    let error = reject_feature("(module (global i32 (i32.const 0)) (global f64 (f64.const 0)))");
    assert_type(
        &error,
        "f64",
        Feature::FloatingPoint,
        TypeUse::Global { global: 1 },
    );
}

#[test]
fn float_block_type_is_rejected() {
    let error = reject_feature("(module (func (block (result f32) unreachable) drop))");
    assert_type(
        &error,
        "f32",
        Feature::FloatingPoint,
        TypeUse::BlockType { function: 0 },
    );
}

#[test]
fn simd_is_rejected() {
    let error = reject_feature("(module (func (drop (v128.const i64x2 0 0))))");
    let (function, _) = assert_instruction(&error, "v128.const", Feature::Simd);
    assert_eq!(function, Some(0));
    let error = reject_feature("(module (func (param v128)))");
    assert_type(
        &error,
        "v128",
        Feature::Simd,
        TypeUse::Signature { type_index: 0 },
    );
    let error = reject_feature("(module (func unreachable i8x16.add drop))");
    assert_instruction(&error, "i8x16.add", Feature::Simd);
}

#[test]
fn atomics_are_rejected() {
    let error = reject_feature("(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))");
    assert_instruction(&error, "i32.atomic.load", Feature::Threads);
    let error = reject_feature(
        "(module (memory 1) (func (drop (i32.atomic.rmw8.add_u (i32.const 0) (i32.const 1)))))",
    );
    assert_instruction(&error, "i32.atomic.rmw8.add_u", Feature::Threads);
    assert_instruction(
        &reject_feature("(module (func atomic.fence))"),
        "atomic.fence",
        Feature::Threads,
    );
}

#[test]
fn shared_memory_is_rejected() {
    let error = reject_feature("(module (memory 1 1 shared))");
    assert_construct(&error, Feature::Threads);
    assert!(
        error
            .to_string()
            .contains("a shared memory uses threads and atomics"),
        "{error}"
    );
}

#[test]
fn reference_type_instructions_are_rejected() {
    let cases = [
        ("(module (func (drop (ref.null func))))", "ref.null"),
        ("(module (func $f (drop (ref.func $f))) (elem declare func $f))", "ref.func"),
        ("(module (func unreachable ref.is_null drop))", "ref.is_null"),
        ("(module (table 1 funcref) (func (drop (table.get 0 (i32.const 0)))))", "table.get"),
        ("(module (table 1 funcref) (func (drop (table.size 0))))", "table.size"),
        ("(module (table 1 funcref) (func unreachable table.set 0))", "table.set"),
        ("(module (table 1 funcref) (func unreachable table.fill 0))", "table.fill"),
        (
            "(module (func (drop (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))))",
            "select",
        ),
    ];
    for (text, name) in cases {
        assert_instruction(&reject_feature(text), name, Feature::ReferenceTypes);
    }
}

#[test]
fn reference_type_values_and_tables_are_rejected() {
    let error = reject_feature("(module (func (param externref)))");
    assert_type(
        &error,
        "externref",
        Feature::ReferenceTypes,
        TypeUse::Signature { type_index: 0 },
    );
    let error = reject_feature("(module (func (local funcref)))");
    assert_type(
        &error,
        "funcref",
        Feature::ReferenceTypes,
        TypeUse::Local { function: 0 },
    );
    let error = reject_feature("(module (table 1 externref))");
    assert_type(
        &error,
        "externref",
        Feature::ReferenceTypes,
        TypeUse::Table { table: 0 },
    );
    assert_construct(
        &reject_feature("(module (table 1 funcref) (table 1 funcref))"),
        Feature::ReferenceTypes,
    );
}

#[test]
fn multi_memory_is_rejected() {
    let error = reject_feature("(module (memory 1) (memory 1))");
    assert_construct(&error, Feature::MultiMemory);
    assert!(error.to_string().contains("a second memory"), "{error}");
}

#[test]
fn memory64_is_rejected() {
    assert_construct(
        &reject_feature("(module (memory i64 1))"),
        Feature::Memory64,
    );
    assert_construct(
        &reject_feature("(module (table i64 1 funcref))"),
        Feature::Memory64,
    );
}

#[test]
fn custom_page_sizes_are_rejected() {
    assert_construct(
        &reject_feature("(module (memory 1 (pagesize 1)))"),
        Feature::CustomPageSizes,
    );
}

#[test]
fn gc_is_rejected() {
    assert_construct(
        &reject_feature("(module (type (struct (field i32))))"),
        Feature::Gc,
    );
    assert_construct(&reject_feature("(module (type (array i32)))"), Feature::Gc);
    assert_construct(
        &reject_feature("(module (rec (type (func)) (type (func))))"),
        Feature::Gc,
    );
    let error = reject_feature("(module (func (drop (ref.i31 (i32.const 1)))))");
    assert_instruction(&error, "ref.i31", Feature::Gc);
    let error = reject_feature("(module (func (param anyref)))");
    assert_type(
        &error,
        "anyref",
        Feature::Gc,
        TypeUse::Signature { type_index: 0 },
    );
}

#[test]
fn exceptions_are_rejected() {
    assert_construct(
        &reject_feature("(module (tag) (func (throw 0)))"),
        Feature::Exceptions,
    );
    let error = reject_feature("(module (func (block $l (try_table (catch_all $l)))))");
    assert_instruction(&error, "try_table", Feature::Exceptions);
    let error = reject_feature("(module (func unreachable throw_ref))");
    assert_instruction(&error, "throw_ref", Feature::Exceptions);
}

#[test]
fn tail_calls_are_rejected() {
    let text = "(module (func) (func (return_call 0)))";
    let bytes = wasm(text);
    let error = reject_feature_bytes(&bytes);
    let (function, offset) = assert_instruction(&error, "return_call", Feature::TailCalls);
    assert_eq!(function, Some(1));
    assert_eq!(
        bytes[offset], 0x12,
        "the offset points at the return_call opcode"
    );
    let error = reject_feature(
        "(module (type (func)) (table 1 funcref) (func (return_call_indirect (type 0) (i32.const 0))))",
    );
    assert_instruction(&error, "return_call_indirect", Feature::TailCalls);
}

#[test]
fn table_grow_is_rejected() {
    let error = reject_feature("(module (table 1 funcref) (func unreachable table.grow 0 drop))");
    assert_instruction(&error, "table.grow", Feature::TableGrowth);
}

#[test]
fn table_bulk_operations_are_rejected() {
    // Valid with bulk memory, so wasmtime accepts them: this is a Tally-only policy.
    let prelude = "(table 2 funcref) (elem $e func $f)";
    let cases = [
        (
            "(table.copy (i32.const 0) (i32.const 1) (i32.const 1))",
            "table.copy",
        ),
        (
            "(table.init $e (i32.const 0) (i32.const 0) (i32.const 1))",
            "table.init",
        ),
        ("(elem.drop $e)", "elem.drop"),
    ];
    for (body, name) in cases {
        let text = format!("(module {prelude} (func $f {body}))");
        let error = reject_policy(&text);
        let (function, _) = assert_instruction(&error, name, Feature::TableBulkOperations);
        assert_eq!(function, Some(0));
    }
}

#[test]
fn extended_constant_expressions_are_rejected() {
    let error = reject_feature("(module (global i32 (i32.add (i32.const 1) (i32.const 2))))");
    let (function, _) = assert_instruction(&error, "i32.add", Feature::ExtendedConst);
    assert_eq!(function, None, "constant expressions are not in a function");
    assert!(
        error
            .to_string()
            .starts_with("constant expression at offset"),
        "{error}"
    );
}

#[test]
fn other_proposals_are_rejected_by_name() {
    let error = reject_feature("(module (func unreachable i64.add128 drop drop))");
    assert_instruction(&error, "i64.add128", Feature::WideArithmetic);
    let error = reject_feature("(module (type $t (func)) (func (param (ref $t))))");
    assert_type(
        &error,
        "(ref 0)",
        Feature::FunctionReferences,
        TypeUse::Signature { type_index: 1 },
    );
}

#[test]
fn start_function_is_rejected() {
    let error = reject_policy("(module (func) (func) (start 1))");
    assert_eq!(error, ValidationError::StartFunction { function: 1 });
    assert!(
        error.to_string().contains("before gas metering is set up"),
        "{error}"
    );
}

#[test]
fn unknown_section_kinds_are_rejected() {
    // A well-formed section with id 20, which no core module proposal defines.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend_from_slice(&[20, 0]);
    let error = reject_feature_bytes(&bytes);
    assert!(
        matches!(&error, ValidationError::Invalid { message, .. } if message.contains("section id")),
        "{error}"
    );
}

#[test]
fn components_are_rejected() {
    assert_construct(&reject_feature("(component)"), Feature::ComponentModel);
}
