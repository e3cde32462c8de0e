//! Deploy-time validation of contract modules.
//!
//! This module owns the decision whether a WebAssembly binary may be deployed as a Tally
//! contract, and the [`ModuleSummary`] of a module that may. A contract must:
//!
//! - stay inside the deterministic subset of [`crate::features::contract_features`]: the MVP plus
//!   mutable globals, sign extension, bulk memory and multi-value, with no float type or
//!   instruction anywhere. Reference types (beyond the MVP's single `funcref` table and
//!   `call_indirect`), table growth and the table bulk operations (`table.init`, `table.copy`,
//!   `elem.drop`; only the memory bulk operations are metered) are rejected too;
//! - import only functions, only from [`crate::HOST_MODULE`], only [`HostFn`]s, each once and with
//!   exactly its host-interface signature;
//! - export only entry points (functions of type `[] -> []`) and its memory, as `memory`; names
//!   starting with `__tally` are reserved for the instrumenter;
//! - declare no start function: it would run while the module is instantiated, before gas
//!   metering and the call context are set up, so its cost could not be charged;
//! - stay within every cap of [`ModuleLimits`] (all inclusive).
//!
//! The binary is parsed payload by payload. Tally's own checks run on each payload before
//! wasmparser's validator (configured with the same feature set as the engine), so a forbidden
//! feature is reported precisely, with the function index and byte offset of the offending
//! instruction, rather than as wasmparser's generic message. wasmparser then catches everything
//! else that is not valid WebAssembly. Validation never panics, whatever the input.

mod code;
mod error;
mod operators;
mod sections;
mod types;

use wasmparser::{FuncValidatorAllocations, Parser, ValidPayload, Validator, WasmFeatures};

pub use error::{Cap, Feature, TypeUse, ValidationError};
pub use sections::{LINKER_GLOBAL_EXPORTS, MEMORY_EXPORT, RESERVED_EXPORT_PREFIX};

use crate::features::contract_features;
use crate::host_abi::HostFn;
use crate::limits::ModuleLimits;
use sections::ModuleChecker;

/// The WebAssembly magic bytes every module starts with.
const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// The linear memory a module declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemorySummary {
    /// Initial size in 64 KiB pages.
    pub initial_pages: u32,
    /// Declared maximum size in pages, if any.
    pub max_pages: Option<u32>,
}

/// What deployment needs to know about a valid module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSummary {
    /// Imported host functions, in import (function index) order.
    pub imports: Vec<HostFn>,
    /// Names of the exported entry points, sorted.
    pub entry_points: Vec<String>,
    /// The module's memory, if it declares one.
    pub memory: Option<MemorySummary>,
    /// Number of functions, imported and defined.
    pub functions: u32,
    /// Size of the whole binary in bytes.
    pub code_size: usize,
}

/// Validates a contract module against Tally's deterministic subset, host interface, export
/// rules and `limits`; see the [module documentation](self).
pub fn validate(wasm: &[u8], limits: &ModuleLimits) -> Result<ModuleSummary, ValidationError> {
    check_code_size(wasm, limits)?;
    check_header(wasm)?;
    let mut checker = ModuleChecker::new(limits, wasm.len());
    let mut validator = Validator::new_with_features(contract_features());
    let mut allocations = FuncValidatorAllocations::default();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(reader_error)?;
        checker.check(&payload)?;
        match validator.payload(&payload).map_err(reader_error)? {
            ValidPayload::Func(func, body) => {
                let mut func = func.into_validator(std::mem::take(&mut allocations));
                func.validate(&body).map_err(reader_error)?;
                allocations = func.into_allocations();
            }
            ValidPayload::Ok | ValidPayload::End(_) => {}
            // Only components nest parsers, and `checker` rejects components first.
            ValidPayload::Parser(_) => {
                return Err(ValidationError::forbidden(
                    "a nested module",
                    Feature::ComponentModel,
                    0,
                ))
            }
        }
    }
    Ok(checker.finish())
}

/// The size cap is checked before anything is parsed.
fn check_code_size(wasm: &[u8], limits: &ModuleLimits) -> Result<(), ValidationError> {
    if wasm.len() > limits.max_code_size {
        return Err(ValidationError::LimitExceeded {
            cap: Cap::CodeSize,
            limit: u64::try_from(limits.max_code_size).unwrap_or(u64::MAX),
            actual: u64::try_from(wasm.len()).unwrap_or(u64::MAX),
        });
    }
    Ok(())
}

/// Distinguishes empty input, a cut-off header and non-wasm bytes before wasmparser sees them.
fn check_header(wasm: &[u8]) -> Result<(), ValidationError> {
    if wasm.is_empty() {
        return Err(ValidationError::Empty);
    }
    let prefix = &wasm[..wasm.len().min(WASM_MAGIC.len())];
    if !WASM_MAGIC.starts_with(prefix) {
        return Err(ValidationError::NotWasm);
    }
    if wasm.len() < WASM_MAGIC.len() {
        return Err(ValidationError::Truncated { offset: wasm.len() });
    }
    Ok(())
}

/// Converts a wasmparser error: a cut-off binary, a disabled feature our own checks did not name
/// first, or any other invalid WebAssembly.
fn reader_error(error: wasmparser::BinaryReaderError) -> ValidationError {
    let offset = error.offset();
    let message = error.message();
    if message.starts_with("unexpected end-of-file") {
        return ValidationError::Truncated { offset };
    }
    let detail = match error.missing_wasm_feature() {
        Some(features) => format!("{message} (requires {})", feature_name(features)),
        None => message.to_string(),
    };
    ValidationError::Invalid {
        offset,
        message: detail,
    }
}

/// A readable name for wasmparser's feature flags.
fn feature_name(features: WasmFeatures) -> String {
    let names: Vec<&str> = features.iter_names().map(|(name, _)| name).collect();
    if names.is_empty() {
        "a disabled feature".to_string()
    } else {
        names.join(" | ").to_lowercase().replace('_', "-")
    }
}
