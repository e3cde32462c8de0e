//! Integration tests of deploy-time validation (`tally_vm::validate`): every rejected feature
//! class, every cap at its boundary, the import and export rules, malformed input, and agreement
//! with the wasmtime engine configured by `tally_vm::engine_config`.

use std::sync::OnceLock;

use tally_vm::validate::{Cap, Feature, MemorySummary, TypeUse};
use tally_vm::{engine_config, validate, HostFn, ModuleLimits, ModuleSummary, ValidationError};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|e| panic!("test WAT does not parse: {e}\n{text}"))
}

fn engine() -> &'static wasmtime::Engine {
    static ENGINE: OnceLock<wasmtime::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        wasmtime::Engine::new(&engine_config(&ModuleLimits::default(), false))
            .expect("the contract engine configuration is valid")
    })
}

fn wasmtime_accepts(bytes: &[u8]) -> bool {
    wasmtime::Module::validate(engine(), bytes).is_ok()
}

/// Asserts Tally and wasmtime both accept the module.
fn accept(text: &str) -> ModuleSummary {
    let bytes = wasm(text);
    let summary = validate(&bytes, &ModuleLimits::default())
        .unwrap_or_else(|e| panic!("Tally rejected a valid contract: {e}\n{text}"));
    assert!(
        wasmtime_accepts(&bytes),
        "wasmtime rejected a module Tally accepts:\n{text}"
    );
    summary
}

/// A rejection because of a wasm feature: wasmtime must reject the module too.
fn reject_feature_bytes(bytes: &[u8]) -> ValidationError {
    let error = validate(bytes, &ModuleLimits::default()).expect_err("Tally accepted it");
    assert!(
        !wasmtime_accepts(bytes),
        "wasmtime accepts a module Tally rejects ({error})"
    );
    error
}

fn reject_feature(text: &str) -> ValidationError {
    reject_feature_bytes(&wasm(text))
}

/// A rejection because of a Tally-only policy: wasmtime accepts the module, which is why
/// the validator must enforce it.
fn reject_policy(text: &str) -> ValidationError {
    let bytes = wasm(text);
    let error = validate(&bytes, &ModuleLimits::default()).expect_err("Tally accepted it");
    assert!(
        wasmtime_accepts(&bytes),
        "policy test module should be valid wasm ({error})"
    );
    error
}

/// Asserts a forbidden instruction error; returns (function, offset).
fn assert_instruction(
    error: &ValidationError,
    name: &str,
    expected: Feature,
) -> (Option<u32>, usize) {
    match error {
        ValidationError::ForbiddenInstruction {
            instruction,
            feature,
            function,
            offset,
        } => {
            assert_eq!(
                (instruction.as_str(), *feature),
                (name, expected),
                "{error}"
            );
            (*function, *offset)
        }
        other => panic!("expected forbidden instruction {name}, got: {other}"),
    }
}

fn assert_type(error: &ValidationError, name: &str, expected: Feature, use_: TypeUse) {
    match error {
        ValidationError::ForbiddenType {
            ty,
            feature,
            used_in,
            ..
        } => assert_eq!(
            (ty.as_str(), *feature, *used_in),
            (name, expected, use_),
            "{error}"
        ),
        other => panic!("expected forbidden type {name}, got: {other}"),
    }
}

fn assert_construct(error: &ValidationError, expected: Feature) {
    match error {
        ValidationError::ForbiddenConstruct { feature, .. } => {
            assert_eq!(*feature, expected, "{error}")
        }
        other => panic!("expected a construct using {expected}, got: {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Accepted modules
// ---------------------------------------------------------------------------------------------

const REALISTIC: &str = r#"
(module
  (type $void (func))
  (import "tally" "input_size" (func $input_size (result i32)))
  (import "tally" "input_read" (func $input_read (param i32 i32 i32)))
  (import "tally" "set_return" (func $set_return (param i32 i32)))
  (import "tally" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 2 16)
  (global $sp (mut i32) (i32.const 65536))
  (table 2 2 funcref)
  (elem (i32.const 0) $store $echo)
  (data (i32.const 1024) "hello, tally")
  (func $store (type $void)
    (call $storage_write (i32.const 1024) (i32.const 1056)))
  (func $echo (type $void)
    (local $len i32)
    (local.set $len (call $input_size))
    (call $input_read (i32.const 0) (i32.const 0) (local.get $len))
    (call $set_return (i32.const 0) (local.get $len)))
  (func (export "call")
    (call_indirect (type $void) (i32.const 1)))
  (func (export "deploy")
    (call_indirect (type $void) (i32.const 0))))
"#;

#[test]
fn realistic_contract_passes_with_its_summary() {
    let summary = accept(REALISTIC);
    assert_eq!(
        summary.imports,
        [
            HostFn::InputSize,
            HostFn::InputRead,
            HostFn::SetReturn,
            HostFn::StorageWrite
        ]
    );
    assert_eq!(summary.entry_points, ["call", "deploy"]);
    assert_eq!(
        summary.memory,
        Some(MemorySummary {
            initial_pages: 2,
            max_pages: Some(16)
        })
    );
    assert_eq!(summary.functions, 8);
    assert_eq!(summary.code_size, wasm(REALISTIC).len());
}

#[test]
fn deterministic_proposals_are_accepted_by_both_sides() {
    let modules = [
        // Mutable globals, including an exported memory and a global read/write.
        r#"(module (global $g (mut i64) (i64.const 7))
             (func (export "call") (global.set $g (i64.add (global.get $g) (i64.const 1)))))"#,
        // Sign extension.
        r#"(module (func (export "call")
             (drop (i32.extend8_s (i32.const 255)))
             (drop (i64.extend32_s (i64.const 1)))))"#,
        // Bulk memory, passive data, data count.
        r#"(module (memory (export "memory") 1) (data $d "abc")
             (func (export "call")
               (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3))
               (data.drop $d)
               (memory.copy (i32.const 8) (i32.const 0) (i32.const 3))
               (memory.fill (i32.const 16) (i32.const 0) (i32.const 4))))"#,
        // Multi-value: several results, block parameters.
        r#"(module
             (func $pair (result i32 i64) (i32.const 1) (i64.const 2))
             (func (export "call")
               (call $pair) (drop) (drop)
               (i32.const 1) (i32.const 2)
               (block (param i32 i32) (result i32) (i32.add))
               (drop)))"#,
        // No memory, no imports, no exports at all.
        "(module)",
    ];
    for text in modules {
        accept(text);
    }
}

#[test]
fn overlong_call_indirect_table_index_is_accepted() {
    use wasm_encoder::{
        CodeSection, Function, FunctionSection, Module, RefType, TableSection, TableType,
        TypeSection,
    };
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut tables = TableSection::new();
    tables.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: 1,
        maximum: Some(1),
        shared: false,
    });
    let mut body = Function::new([]);
    // i32.const 0; call_indirect type 0, table 0 encoded on two bytes (0x80 0x00); end
    body.raw([0x41, 0x00, 0x11, 0x00, 0x80, 0x00, 0x0b]);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&tables)
        .section(&code);
    let bytes = module.finish();
    assert!(validate(&bytes, &ModuleLimits::default()).is_ok());
    assert!(wasmtime_accepts(&bytes));
}

// ---------------------------------------------------------------------------------------------
// Rejected features
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Caps
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Imports
// ---------------------------------------------------------------------------------------------

#[test]
fn import_from_another_module_is_rejected() {
    let error = reject_policy(r#"(module (import "env" "caller" (func (param i32))))"#);
    assert_eq!(
        error,
        ValidationError::ImportFromUnknownModule {
            module: "env".into(),
            name: "caller".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "import `env.caller`: contracts may only import from module `tally`"
    );
}

#[test]
fn import_of_unknown_host_function_is_rejected() {
    let error = reject_policy(r#"(module (import "tally" "self_destruct" (func)))"#);
    assert_eq!(
        error,
        ValidationError::UnknownHostFunction {
            name: "self_destruct".into()
        }
    );
}

#[test]
fn import_with_wrong_signature_is_rejected() {
    let error = reject_policy(r#"(module (import "tally" "input_size" (func (result i64))))"#);
    assert_eq!(
        error,
        ValidationError::ImportSignatureMismatch {
            name: "input_size".into(),
            expected: "[] -> [i32]".into(),
            actual: "[] -> [i64]".into()
        }
    );
    let error = reject_policy(
        r#"(module (import "tally" "call" (func (param i32 i32 i32 i32 i32) (result i32))))"#,
    );
    assert_eq!(
        error.to_string(),
        "import `tally.call` has signature [i32, i32, i32, i32, i32] -> [i32], but the host \
         function is [i32, i32, i64, i32, i32] -> [i32]"
    );
}

#[test]
fn non_function_imports_are_rejected() {
    let cases = [
        (r#"(import "tally" "memory" (memory 1))"#, "memory"),
        (r#"(import "tally" "table" (table 1 funcref))"#, "table"),
        (r#"(import "tally" "gas" (global i64))"#, "global"),
    ];
    for (import, kind) in cases {
        let error = reject_policy(&format!("(module {import})"));
        match error {
            ValidationError::NonFunctionImport { kind: actual, .. } => assert_eq!(actual, kind),
            other => panic!("expected a non-function import error, got: {other}"),
        }
    }
}

#[test]
fn duplicate_import_is_rejected() {
    let error = reject_policy(
        r#"(module (import "tally" "caller" (func (param i32)))
                   (import "tally" "caller" (func (param i32))))"#,
    );
    assert_eq!(
        error,
        ValidationError::DuplicateImport {
            name: "caller".into()
        }
    );
}

#[test]
fn every_host_function_can_be_imported() {
    let imports: Vec<String> = HostFn::ALL
        .iter()
        .map(|f| {
            let params = f
                .params()
                .iter()
                .map(|t| format!(" {t:?}").to_lowercase())
                .collect::<String>();
            let results = f
                .results()
                .iter()
                .map(|t| format!(" {t:?}").to_lowercase())
                .collect::<String>();
            format!(
                r#"(import "tally" "{}" (func (param{params}) (result{results})))"#,
                f.name()
            )
        })
        .collect();
    let summary = accept(&format!("(module {})", imports.join("\n")));
    assert_eq!(summary.imports, HostFn::ALL);
}

// ---------------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------------

#[test]
fn allowed_exports_are_memory_and_entry_points() {
    let summary = accept(
        r#"(module (memory (export "memory") 1)
             (func (export "zeta")) (func (export "call")) (func (export "alpha")))"#,
    );
    assert_eq!(summary.entry_points, ["alpha", "call", "zeta"]);
    let summary = accept(r#"(module (func $f) (export "f" (func $f)) (export "g" (func $f)))"#);
    assert_eq!(
        (summary.entry_points, summary.memory),
        (vec!["f".to_string(), "g".to_string()], None)
    );
}

#[test]
fn global_and_table_exports_are_rejected() {
    let error = reject_policy(r#"(module (global (export "g") (mut i32) (i32.const 0)))"#);
    assert_eq!(
        error,
        ValidationError::ForbiddenExport {
            name: "g".into(),
            kind: "global"
        }
    );
    let error = reject_policy(r#"(module (table (export "t") 1 funcref))"#);
    assert_eq!(
        error,
        ValidationError::ForbiddenExport {
            name: "t".into(),
            kind: "table"
        }
    );
}

#[test]
fn entry_points_must_have_type_void_to_void() {
    let error = reject_policy(r#"(module (func) (func (export "call") (param i32)))"#);
    assert_eq!(
        error,
        ValidationError::EntryPointSignature {
            name: "call".into(),
            function: 1,
            signature: "[i32] -> []".into()
        }
    );
    let error = reject_policy(r#"(module (func (export "call") (result i64) (i64.const 0)))"#);
    assert!(
        matches!(error, ValidationError::EntryPointSignature { .. }),
        "{error}"
    );
}

#[test]
fn reserved_export_names_are_rejected() {
    let error = reject_policy(r#"(module (func (export "__tally_gas")))"#);
    assert!(
        matches!(&error, ValidationError::ReservedExportName { name, .. } if name == "__tally_gas"),
        "{error}"
    );
    let error = reject_policy(r#"(module (func (export "memory")))"#);
    assert!(
        matches!(&error, ValidationError::ReservedExportName { name, .. } if name == "memory"),
        "{error}"
    );
}

#[test]
fn memory_exported_under_another_name_is_rejected() {
    let error = reject_policy(r#"(module (memory (export "mem") 1))"#);
    assert_eq!(
        error,
        ValidationError::MemoryExportName { name: "mem".into() }
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_input_is_a_typed_error() {
    assert_eq!(
        validate(&[], &ModuleLimits::default()),
        Err(ValidationError::Empty)
    );
}

#[test]
fn garbage_is_not_wasm() {
    assert_eq!(
        validate(b"hello, world", &ModuleLimits::default()),
        Err(ValidationError::NotWasm)
    );
    let mut bad_version = b"\0asm\x02\0\0\0".to_vec();
    bad_version.push(0);
    assert!(matches!(
        validate(&bad_version, &ModuleLimits::default()),
        Err(ValidationError::Invalid { .. })
    ));
}

#[test]
fn truncated_modules_are_typed_errors() {
    let bytes = wasm(REALISTIC);
    assert_eq!(
        validate(&bytes[..2], &ModuleLimits::default()),
        Err(ValidationError::Truncated { offset: 2 })
    );
    // Cut in the middle of the last (data) section.
    let cut = bytes.len() - 4;
    assert!(matches!(
        validate(&bytes[..cut], &ModuleLimits::default()),
        Err(ValidationError::Truncated { .. })
    ));
    // No prefix panics; each strict prefix is either a complete shorter module or an error.
    for len in 0..bytes.len() {
        let _ = validate(&bytes[..len], &ModuleLimits::default());
    }
}

#[test]
fn huge_section_counts_do_not_panic_or_allocate() {
    // A type section claiming u32::MAX types but holding none.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend_from_slice(&[0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let error = validate(&bytes, &ModuleLimits::default()).unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::Truncated { .. } | ValidationError::Invalid { .. }
        ),
        "{error}"
    );
    // The same for a data section claiming u32::MAX segments: the cap stops it first.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend_from_slice(&[0x0b, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let error = validate(&bytes, &ModuleLimits::default()).unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::LimitExceeded {
                cap: Cap::DataSegments,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn mutated_modules_never_panic() {
    let original = wasm(REALISTIC);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut rejected = 0;
    for _ in 0..3_000 {
        let mut bytes = original.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        if validate(&bytes, &ModuleLimits::default()).is_err() {
            rejected += 1;
        }
    }
    assert!(
        rejected > 0,
        "mutations should produce some invalid modules"
    );
}
