//! Modules the validator accepts, and wasmtime with them.

use super::common::*;
#[allow(unused_imports)]
use tally_vm::validate::{Cap, Feature, MemorySummary, TypeUse};
#[allow(unused_imports)]
use tally_vm::{validate, HostFn, ModuleLimits, ModuleSummary, ValidationError};

pub const REALISTIC: &str = r#"
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
