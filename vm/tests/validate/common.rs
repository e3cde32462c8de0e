//! Helpers shared by the validation tests.

use std::sync::OnceLock;

use tally_vm::validate::{Feature, TypeUse};
use tally_vm::{engine_config, validate, ModuleLimits, ModuleSummary, ValidationError};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

pub fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|e| panic!("test WAT does not parse: {e}\n{text}"))
}

pub fn engine() -> &'static wasmtime::Engine {
    static ENGINE: OnceLock<wasmtime::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        wasmtime::Engine::new(&engine_config(&ModuleLimits::default(), false))
            .expect("the contract engine configuration is valid")
    })
}

pub fn wasmtime_accepts(bytes: &[u8]) -> bool {
    wasmtime::Module::validate(engine(), bytes).is_ok()
}

/// Asserts Tally and wasmtime both accept the module.
pub fn accept(text: &str) -> ModuleSummary {
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
pub fn reject_feature_bytes(bytes: &[u8]) -> ValidationError {
    let error = validate(bytes, &ModuleLimits::default()).expect_err("Tally accepted it");
    assert!(
        !wasmtime_accepts(bytes),
        "wasmtime accepts a module Tally rejects ({error})"
    );
    error
}

pub fn reject_feature(text: &str) -> ValidationError {
    reject_feature_bytes(&wasm(text))
}

/// A rejection because of a Tally-only policy: wasmtime accepts the module, which is why
/// the validator must enforce it.
pub fn reject_policy(text: &str) -> ValidationError {
    let bytes = wasm(text);
    let error = validate(&bytes, &ModuleLimits::default()).expect_err("Tally accepted it");
    assert!(
        wasmtime_accepts(&bytes),
        "policy test module should be valid wasm ({error})"
    );
    error
}

/// Asserts a forbidden instruction error; returns (function, offset).
pub fn assert_instruction(
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

pub fn assert_type(error: &ValidationError, name: &str, expected: Feature, use_: TypeUse) {
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

pub fn assert_construct(error: &ValidationError, expected: Feature) {
    match error {
        ValidationError::ForbiddenConstruct { feature, .. } => {
            assert_eq!(*feature, expected, "{error}")
        }
        other => panic!("expected a construct using {expected}, got: {other}"),
    }
}
