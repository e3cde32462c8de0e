//! Instrumentation: rewrites a validated contract so it meters its own gas and stack use.
//!
//! The rewritten module carries two extra mutable globals, exported for the host:
//! - `__tally_gas` (i64): gas remaining. Each function copies it into a local on entry (so the
//!   hot counter lives in a register), charges each straight-line segment of code *before* it
//!   runs (`plan` says where), checks the counter on every loop iteration and when an entry
//!   point returns, and writes it back before calls and returns. Running out stores the
//!   negative balance into the global and traps, which the VM reports as out of gas.
//! - `__tally_stack` (i32): stack units remaining. Each function takes its static frame cost
//!   (`FRAME_OVERHEAD` + params + locals + maximum operand stack height) on entry and gives it
//!   back on exit; going below zero traps, reported as stack exhausted. The budget is therefore
//!   independent of the native stack and of the compiler.
//!
//! `memory.grow` and the bulk-memory operators also charge their dynamic part (per page, per
//! 32-byte word) inline, checked before the work is done. Only indices are appended (globals,
//! locals, exports), so no index of the original module shifts.

mod body;
mod plan;
mod types;

use std::ops::Range;

use thiserror::Error;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, ExportKind, ExportSection, GlobalSection, GlobalType, Module,
    RawSection, ValType,
};
use wasmparser::{Parser, Payload, TypeRef, ValidPayload, Validator};

use crate::features::contract_features;
use crate::gas::GasSchedule;
use body::{analyze_body, emit_body, AnalyzedBody};
use types::Types;

/// Export name of the injected gas global.
pub const GAS_GLOBAL: &str = "__tally_gas";
/// Export name of the injected stack-budget global.
pub const STACK_GLOBAL: &str = "__tally_stack";
/// Stack units every frame costs on top of its params, locals and operand stack (return address,
/// frame pointer, saved registers, the injected locals).
pub const FRAME_OVERHEAD: u32 = 4;
/// Largest frame cost the instrumenter accepts (keeps the injected i32 arithmetic exact).
pub(super) const MAX_FRAME_UNITS: u64 = 1 << 30;

/// A module rewritten for metered execution, with what instantiation will cost.
#[derive(Clone, Debug)]
pub struct Instrumented {
    /// The rewritten module.
    pub wasm: Vec<u8>,
    /// Initial pages of the module's memory (0 without a memory).
    pub initial_pages: u32,
    /// Bytes of active data segments copied into memory at instantiation.
    pub data_bytes: u64,
}

/// Why a module could not be instrumented (only malformed input, which validation rejects first).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InstrumentError {
    #[error("malformed module: {0}")]
    Malformed(String),
    #[error("function {function} needs {units} stack units for one frame, more than {max}")]
    FrameTooLarge { function: u32, units: u64, max: u64 },
}

impl From<wasmparser::BinaryReaderError> for InstrumentError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        InstrumentError::Malformed(e.to_string())
    }
}

impl<E: std::fmt::Display> From<wasm_encoder::reencode::Error<E>> for InstrumentError {
    fn from(e: wasm_encoder::reencode::Error<E>) -> Self {
        InstrumentError::Malformed(e.to_string())
    }
}

/// Pieces of the original module, in their original order.
enum Piece<'a> {
    Raw { id: u8, range: Range<usize> },
    Types(wasmparser::TypeSectionReader<'a>),
    Globals(wasmparser::GlobalSectionReader<'a>),
    Exports(wasmparser::ExportSectionReader<'a>),
    Code,
}

/// Canonical position of a section id (the data-count section sits before code).
fn section_order(id: u8) -> u8 {
    match id {
        12 => 10,
        10 => 11,
        11 => 12,
        other => other,
    }
}

/// Per-module constants the body rewriter needs.
pub(super) struct Injected<'s> {
    schedule: &'s GasSchedule,
    gas_global: u32,
    stack_global: u32,
    max_memory_pages: u32,
}

/// Rewrites `wasm` (already accepted by [`crate::validate()`]) for metered execution under
/// `schedule`, with memory growth capped at `max_memory_pages`.
pub fn instrument(
    wasm: &[u8],
    schedule: &GasSchedule,
    max_memory_pages: u32,
) -> Result<Instrumented, InstrumentError> {
    let mut validator = Validator::new_with_features(contract_features());
    let mut pieces = Vec::new();
    let mut bodies: Vec<AnalyzedBody> = Vec::new();
    let mut table_functions: Vec<u32> = Vec::new();
    let mut types = Types::default();
    let mut function_types: Vec<u32> = Vec::new();
    let mut entry_points: Vec<u32> = Vec::new();
    let mut imported_globals = 0u32;
    let mut defined_globals = 0u32;
    let mut initial_pages = 0u32;
    let mut data_bytes = 0u64;

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if let ValidPayload::Func(to_validate, body) = validator.payload(&payload)? {
            let validator = to_validate.into_validator(Default::default());
            bodies.push(analyze_body(validator, &body)?);
        }
        match payload {
            Payload::TypeSection(r) => {
                types = Types::read(r.clone())?;
                pieces.push(Piece::Types(r));
            }
            Payload::ImportSection(r) => {
                for import in r.clone().into_imports() {
                    if matches!(import?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
                pieces.push(raw(2, r.range()));
            }
            Payload::FunctionSection(r) => {
                for ty in r.clone() {
                    function_types.push(ty?);
                }
                pieces.push(raw(3, r.range()));
            }
            Payload::TableSection(r) => pieces.push(raw(4, r.range())),
            Payload::MemorySection(r) => {
                if let Some(memory) = r.clone().into_iter().next() {
                    // Memory64 is rejected, so the initial size of a 32-bit memory fits u32.
                    initial_pages = u32::try_from(memory?.initial).unwrap_or(u32::MAX);
                }
                pieces.push(raw(5, r.range()));
            }
            Payload::GlobalSection(r) => {
                defined_globals = r.count();
                pieces.push(Piece::Globals(r));
            }
            Payload::ExportSection(r) => {
                for export in r.clone() {
                    let export = export?;
                    if export.kind == wasmparser::ExternalKind::Func {
                        entry_points.push(export.index);
                    }
                }
                pieces.push(Piece::Exports(r));
            }
            Payload::StartSection { range, .. } => pieces.push(raw(8, range)),
            Payload::ElementSection(r) => {
                for element in r.clone() {
                    if let wasmparser::ElementItems::Functions(functions) = element?.items {
                        for f in functions {
                            table_functions.push(f?);
                        }
                    }
                }
                pieces.push(raw(9, r.range()));
            }
            Payload::DataCountSection { range, .. } => pieces.push(raw(12, range)),
            Payload::CodeSectionStart { .. } => pieces.push(Piece::Code),
            Payload::DataSection(r) => {
                for data in r.clone() {
                    let data = data?;
                    if matches!(data.kind, wasmparser::DataKind::Active { .. }) {
                        data_bytes += data.data.len() as u64;
                    }
                }
                pieces.push(raw(11, r.range()));
            }
            _ => {}
        }
    }

    let injected = Injected {
        schedule,
        gas_global: imported_globals + defined_globals,
        stack_global: imported_globals + defined_globals + 1,
        max_memory_pages,
    };
    let mut code = CodeSection::new();
    let frames = frame_units(&bodies, &table_functions);
    for ((body, frame), type_index) in bodies.iter().zip(frames).zip(&function_types) {
        let results = types
            .func(*type_index)
            .map(|f| f.results().to_vec())
            .ok_or_else(|| InstrumentError::Malformed("function without a type".into()))?;
        let wrapper = types.block_for(&results)?;
        let entry = entry_points.contains(&body.index);
        code.function(&emit_body(wasm, body, frame, wrapper, entry, &injected));
    }

    let mut module = Module::new();
    let mut globals_done = false;
    let mut exports_done = false;
    for piece in &pieces {
        let order = match piece {
            Piece::Raw { id, .. } => section_order(*id),
            Piece::Types(_) => 1,
            Piece::Globals(_) => 6,
            Piece::Exports(_) => 7,
            Piece::Code => section_order(10),
        };
        if order > 6 && !globals_done {
            module.section(&globals_section(None, &injected)?);
            globals_done = true;
        }
        if order > 7 && !exports_done {
            module.section(&exports_section(None, &injected)?);
            exports_done = true;
        }
        match piece {
            Piece::Raw { id, range } => {
                module.section(&RawSection {
                    id: *id,
                    data: &wasm[range.clone()],
                });
            }
            Piece::Types(r) if types.changed() => {
                module.section(&types.section(r.clone())?);
            }
            Piece::Types(r) => {
                module.section(&RawSection {
                    id: 1,
                    data: &wasm[r.range()],
                });
            }
            Piece::Globals(r) => {
                module.section(&globals_section(Some(r.clone()), &injected)?);
                globals_done = true;
            }
            Piece::Exports(r) => {
                module.section(&exports_section(Some(r.clone()), &injected)?);
                exports_done = true;
            }
            Piece::Code => {
                module.section(&code);
            }
        }
    }
    if !globals_done {
        module.section(&globals_section(None, &injected)?);
    }
    if !exports_done {
        module.section(&exports_section(None, &injected)?);
    }
    Ok(Instrumented {
        wasm: module.finish(),
        initial_pages,
        data_bytes,
    })
}

/// The stack units each function takes on entry: `None` for leaves; for the others their own
/// frame plus the largest leaf frame they can call (directly, or through a table).
fn frame_units(bodies: &[AnalyzedBody], table_functions: &[u32]) -> Vec<Option<u64>> {
    // Bodies are in function-index order, so a binary search finds one by index.
    let by_index = |index: u32| {
        bodies
            .binary_search_by_key(&index, |b| b.index)
            .ok()
            .map(|i| &bodies[i])
            .filter(|b| b.is_leaf())
            .map_or(0, |b| b.units)
    };
    let table_leaf = table_functions
        .iter()
        .map(|f| by_index(*f))
        .max()
        .unwrap_or(0);
    bodies
        .iter()
        .map(|body| {
            if body.is_leaf() {
                return None;
            }
            let direct = body.callees.iter().map(|f| by_index(*f)).max().unwrap_or(0);
            let indirect = if body.calls_indirect { table_leaf } else { 0 };
            Some(body.units + direct.max(indirect))
        })
        .collect()
}

fn raw(id: u8, range: Range<usize>) -> Piece<'static> {
    Piece::Raw { id, range }
}

fn globals_section(
    original: Option<wasmparser::GlobalSectionReader<'_>>,
    injected: &Injected,
) -> Result<GlobalSection, InstrumentError> {
    let mut section = GlobalSection::new();
    if let Some(reader) = original {
        RoundtripReencoder.parse_global_section(&mut section, reader)?;
    }
    let mutable = |val_type| GlobalType {
        val_type,
        mutable: true,
        shared: false,
    };
    section.global(mutable(ValType::I64), &ConstExpr::i64_const(0));
    section.global(mutable(ValType::I32), &ConstExpr::i32_const(0));
    debug_assert_eq!(section.len(), injected.stack_global + 1);
    Ok(section)
}

fn exports_section(
    original: Option<wasmparser::ExportSectionReader<'_>>,
    injected: &Injected,
) -> Result<ExportSection, InstrumentError> {
    let mut section = ExportSection::new();
    if let Some(reader) = original {
        RoundtripReencoder.parse_export_section(&mut section, reader)?;
    }
    section.export(GAS_GLOBAL, ExportKind::Global, injected.gas_global);
    section.export(STACK_GLOBAL, ExportKind::Global, injected.stack_global);
    Ok(section)
}
