//! The import and export rules.

use super::common::*;
#[allow(unused_imports)]
use tally_vm::validate::{Cap, Feature, MemorySummary, TypeUse};
#[allow(unused_imports)]
use tally_vm::{validate, HostFn, ModuleLimits, ModuleSummary, ValidationError};

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
fn linker_generated_globals_are_accepted_only_as_immutable_i32() {
    // What rustc/wasm-ld put in every cdylib.
    accept(
        r#"(module (memory (export "memory") 1)
             (global (export "__data_end") i32 (i32.const 1024))
             (global (export "__heap_base") i32 (i32.const 2048))
             (func (export "call")))"#,
    );
    let error =
        reject_policy(r#"(module (global (export "__heap_base") (mut i32) (i32.const 0)))"#);
    assert_eq!(
        error,
        ValidationError::ForbiddenExport {
            name: "__heap_base".into(),
            kind: "global"
        }
    );
    let error = reject_policy(r#"(module (global (export "__data_end") i64 (i64.const 0)))"#);
    assert!(
        matches!(error, ValidationError::ForbiddenExport { .. }),
        "{error}"
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
