//! Instrumentation: rewrites a validated contract so it meters its own gas and stack use.
//!
//! The rewritten module carries two extra mutable globals, exported for the host:
//! - `__tally_gas` (i64): gas remaining. Each function copies it into a local on entry (so the
//!   hot counter lives in a register), charges each straight-line segment of code *before* it
//!   runs, checks the counter at every loop header, before every call and at every exit, and
//!   writes it back before calls and returns. Running out stores the negative balance into the
//!   global and traps, which the VM reports as out of gas.
//! - `__tally_stack` (i32): stack units remaining. Each function takes its static frame cost
//!   (`FRAME_OVERHEAD` + params + locals + maximum operand stack height) on entry and gives it
//!   back on exit; going below zero traps, reported as stack exhausted. The budget is therefore
//!   independent of the native stack and of the compiler.
//!
//! Segments end after every instruction that branches, merges control flow or calls, so the
//! charge of a segment is exactly the sum of its operators' costs whenever it starts executing.
//! `memory.grow` and the bulk-memory operators also charge their dynamic part (per page, per
//! 32-byte word) inline, checked before the work is done. Only indices are appended (globals,
//! locals, exports), so no index of the original module shifts.

use std::ops::Range;

use thiserror::Error;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, ExportKind, ExportSection, Function, GlobalSection,
    GlobalType, InstructionSink, Module, RawSection, ValType,
};
use wasmparser::{
    FuncValidator, FunctionBody, Operator, Parser, Payload, TypeRef, ValidPayload, Validator,
    ValidatorResources,
};

use crate::features::contract_features;
use crate::gas::{GasSchedule, WORD_BYTES};

/// Export name of the injected gas global.
pub const GAS_GLOBAL: &str = "__tally_gas";
/// Export name of the injected stack-budget global.
pub const STACK_GLOBAL: &str = "__tally_stack";
/// Stack units every frame costs on top of its params, locals and operand stack (return address,
/// frame pointer, saved registers, the injected locals).
pub const FRAME_OVERHEAD: u32 = 4;
/// Largest frame cost the instrumenter accepts (keeps the injected i32 arithmetic exact).
const MAX_FRAME_UNITS: u64 = 1 << 30;

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
struct Injected<'s> {
    schedule: &'s GasSchedule,
    gas_global: u32,
    stack_global: u32,
    max_memory_pages: u32,
}

/// Rewrites `wasm` (already accepted by [`crate::validate`]) for metered execution under
/// `schedule`, with memory growth capped at `max_memory_pages`.
pub fn instrument(
    wasm: &[u8],
    schedule: &GasSchedule,
    max_memory_pages: u32,
) -> Result<Instrumented, InstrumentError> {
    let mut validator = Validator::new_with_features(contract_features());
    let mut pieces = Vec::new();
    let mut bodies: Vec<(FuncValidator<ValidatorResources>, FunctionBody)> = Vec::new();
    let mut imported_globals = 0u32;
    let mut defined_globals = 0u32;
    let mut initial_pages = 0u32;
    let mut data_bytes = 0u64;

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if let ValidPayload::Func(to_validate, body) = validator.payload(&payload)? {
            bodies.push((to_validate.into_validator(Default::default()), body));
        }
        match payload {
            Payload::TypeSection(r) => pieces.push(raw(1, r.range())),
            Payload::ImportSection(r) => {
                for import in r.clone().into_imports() {
                    if matches!(import?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
                pieces.push(raw(2, r.range()));
            }
            Payload::FunctionSection(r) => pieces.push(raw(3, r.range())),
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
            Payload::ExportSection(r) => pieces.push(Piece::Exports(r)),
            Payload::StartSection { range, .. } => pieces.push(raw(8, range)),
            Payload::ElementSection(r) => pieces.push(raw(9, r.range())),
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
    for (validator, body) in bodies {
        code.function(&instrument_body(wasm, validator, &body, &injected)?);
    }

    let mut module = Module::new();
    let mut globals_done = false;
    let mut exports_done = false;
    for piece in &pieces {
        let order = match piece {
            Piece::Raw { id, .. } => section_order(*id),
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

/// Does a new metering segment start after this operator?
fn ends_segment(op: &Operator) -> bool {
    use Operator::*;
    matches!(
        op,
        Loop { .. }
            | If { .. }
            | Else
            | End
            | Br { .. }
            | BrIf { .. }
            | BrTable { .. }
            | Return
            | Unreachable
            | Call { .. }
            | CallIndirect { .. }
    )
}

/// One function body's rewrite: where the locals are and what a frame costs.
struct BodyWriter<'a> {
    injected: &'a Injected<'a>,
    /// The local caching the gas counter.
    gas: u32,
    /// A scratch i32 local.
    scratch: u32,
    /// The stack budget on entry, restored on exit.
    saved_stack: u32,
    frame_units: i32,
}

fn instrument_body(
    wasm: &[u8],
    mut validator: FuncValidator<ValidatorResources>,
    body: &FunctionBody,
    injected: &Injected,
) -> Result<Function, InstrumentError> {
    let mut locals = Vec::new();
    let mut reader = body.get_locals_reader()?;
    for _ in 0..reader.get_count() {
        let offset = reader.original_position();
        let (count, ty) = reader.read()?;
        validator.define_locals(offset, count, ty)?;
        locals.push((count, RoundtripReencoder.val_type(ty)?));
    }
    let all_locals = validator.len_locals();

    let mut ops = Vec::new();
    let mut max_height = 0u32;
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset()?;
        validator.op(offset, &op)?;
        max_height = max_height.max(validator.operand_stack_height());
        ops.push((op, offset));
    }
    let end = reader.original_position();

    let units = u64::from(FRAME_OVERHEAD) + u64::from(all_locals) + u64::from(max_height);
    if units > MAX_FRAME_UNITS {
        return Err(InstrumentError::FrameTooLarge {
            function: validator.index(),
            units,
            max: MAX_FRAME_UNITS,
        });
    }
    locals.push((1, ValType::I64));
    locals.push((2, ValType::I32));
    let writer = BodyWriter {
        injected,
        gas: all_locals,
        scratch: all_locals + 1,
        saved_stack: all_locals + 2,
        // Checked against MAX_FRAME_UNITS (< i32::MAX) above.
        frame_units: units as i32,
    };

    let segments = segment_costs(&ops, injected.schedule);
    let mut function = Function::new(locals);
    writer.prologue(&mut function.instructions());
    let last = ops.len().saturating_sub(1);
    for (i, (op, offset)) in ops.iter().enumerate() {
        if let Some(segment) = segments[i] {
            writer.charge(&mut function.instructions(), segment);
        }
        let next = ops.get(i + 1).map_or(end, |(_, o)| *o);
        let bytes = &wasm[*offset..next];
        match op {
            Operator::Call { .. } | Operator::CallIndirect { .. } => {
                writer.check_and_flush(&mut function.instructions());
                function.raw(bytes.iter().copied());
                writer.reload(&mut function.instructions());
            }
            Operator::Return => {
                writer.epilogue(&mut function.instructions());
                function.raw(bytes.iter().copied());
            }
            Operator::End if i == last => {
                writer.epilogue(&mut function.instructions());
                function.raw(bytes.iter().copied());
            }
            Operator::MemoryGrow { .. } => writer.memory_grow(&mut function.instructions()),
            Operator::MemoryCopy { .. }
            | Operator::MemoryFill { .. }
            | Operator::MemoryInit { .. } => {
                writer.charge_bulk(&mut function.instructions());
                function.raw(bytes.iter().copied());
            }
            _ => {
                function.raw(bytes.iter().copied());
            }
        }
    }
    Ok(function)
}

/// The charge placed before an operator that starts a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    cost: u64,
    /// Loop headers check the counter so every iteration of every loop is bounded.
    check: bool,
}

/// For each operator index, the segment starting there (if one does).
fn segment_costs(ops: &[(Operator, usize)], schedule: &GasSchedule) -> Vec<Option<Segment>> {
    let mut segments = vec![None; ops.len()];
    let mut start = 0usize;
    let mut cost = 0u64;
    let mut check = false;
    for (i, (op, _)) in ops.iter().enumerate() {
        cost = cost.saturating_add(schedule.operator_cost(op));
        if ends_segment(op) || i + 1 == ops.len() {
            segments[start] = Some(Segment {
                // Every loop iteration costs at least 1 gas, whatever the schedule says.
                cost: if check { cost.max(1) } else { cost },
                check,
            });
            start = i + 1;
            cost = 0;
            check = matches!(op, Operator::Loop { .. });
        }
    }
    segments
}

impl BodyWriter<'_> {
    fn gas_global(&self) -> u32 {
        self.injected.gas_global
    }

    /// Takes the frame's stack units (remembering the budget on entry) and loads the gas counter.
    fn prologue(&self, s: &mut InstructionSink) {
        let stack = self.injected.stack_global;
        s.global_get(stack)
            .local_tee(self.saved_stack)
            .i32_const(self.frame_units)
            .i32_lt_s()
            .if_(BlockType::Empty)
            .i32_const(-1)
            .global_set(stack)
            .unreachable()
            .end()
            .local_get(self.saved_stack)
            .i32_const(self.frame_units)
            .i32_sub()
            .global_set(stack);
        s.global_get(self.gas_global()).local_set(self.gas);
    }

    /// Checks and stores the counter and gives the frame's stack units back.
    fn epilogue(&self, s: &mut InstructionSink) {
        self.check_and_flush(s);
        s.local_get(self.saved_stack)
            .global_set(self.injected.stack_global);
    }

    fn charge(&self, s: &mut InstructionSink, segment: Segment) {
        if segment.cost == 0 && !segment.check {
            return;
        }
        // Operator costs are capped by `GasSchedule::check` far below i64::MAX.
        let cost = i64::try_from(segment.cost).unwrap_or(i64::MAX);
        if segment.check {
            // Compare before subtracting: the counter is then updated in place, which keeps
            // tight loops free of register copies.
            s.local_get(self.gas)
                .i64_const(cost)
                .i64_lt_s()
                .if_(BlockType::Empty)
                .local_get(self.gas)
                .i64_const(cost)
                .i64_sub()
                .global_set(self.gas_global())
                .unreachable()
                .end();
        }
        s.local_get(self.gas)
            .i64_const(cost)
            .i64_sub()
            .local_set(self.gas);
    }

    /// Expects the new counter on the stack: traps if it is negative.
    fn trap_if_negative(&self, s: &mut InstructionSink) {
        s.i64_const(0)
            .i64_lt_s()
            .if_(BlockType::Empty)
            .local_get(self.gas)
            .global_set(self.gas_global())
            .unreachable()
            .end();
    }

    fn check_and_flush(&self, s: &mut InstructionSink) {
        s.local_get(self.gas);
        self.trap_if_negative(s);
        s.local_get(self.gas).global_set(self.gas_global());
    }

    fn reload(&self, s: &mut InstructionSink) {
        s.global_get(self.gas_global()).local_set(self.gas);
    }

    /// Replaces `memory.grow`: returns -1 without growing past the cap, otherwise charges per
    /// page (checked) and grows.
    fn memory_grow(&self, s: &mut InstructionSink) {
        let per_page =
            i64::try_from(self.injected.schedule.memory_grow.per_unit).unwrap_or(i64::MAX);
        let cap = self.injected.max_memory_pages as i32;
        s.local_set(self.scratch)
            .block(BlockType::Result(ValType::I32))
            .i32_const(-1)
            .local_get(self.scratch)
            .i32_const(cap)
            .memory_size(0)
            .i32_sub()
            .i32_gt_u()
            .br_if(0)
            .drop()
            .local_get(self.gas)
            .local_get(self.scratch)
            .i64_extend_i32_u()
            .i64_const(per_page)
            .i64_mul()
            .i64_sub()
            .local_tee(self.gas);
        self.trap_if_negative(s);
        s.local_get(self.scratch).memory_grow(0).end();
    }

    /// Before `memory.copy`/`fill`/`init` (length on top of the stack): charges per started
    /// 32-byte word of the length, checked before the copy runs.
    fn charge_bulk(&self, s: &mut InstructionSink) {
        let per_word =
            i64::try_from(self.injected.schedule.bulk_memory.per_unit).unwrap_or(i64::MAX);
        s.local_set(self.scratch)
            .local_get(self.gas)
            .local_get(self.scratch)
            .i64_extend_i32_u()
            .i64_const(WORD_BYTES as i64 - 1)
            .i64_add()
            .i64_const(WORD_BYTES.trailing_zeros() as i64)
            .i64_shr_u()
            .i64_const(per_word)
            .i64_mul()
            .i64_sub()
            .local_tee(self.gas);
        self.trap_if_negative(s);
        s.local_get(self.scratch);
    }
}
