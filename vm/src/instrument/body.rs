//! Rewriting one function body: the prologue and epilogue (stack units, gas counter in a
//! local), the charges of the metering plan, the counter flushed around calls, and the inline
//! dynamic charges of `memory.grow` and bulk memory.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};
use wasmparser::{FuncValidator, FunctionBody, Operator, ValidatorResources};

use super::plan::{plan, Segment};
use super::{Injected, InstrumentError, FRAME_OVERHEAD, MAX_FRAME_UNITS};
use crate::gas::WORD_BYTES;

/// A validated function body, read once and kept for the rewrite.
pub(super) struct AnalyzedBody<'a> {
    /// Index in the function index space.
    pub(super) index: u32,
    locals: Vec<(u32, ValType)>,
    /// Params plus declared locals.
    all_locals: u32,
    ops: Vec<(Operator<'a>, usize)>,
    /// Offset just past the body.
    end: usize,
    /// Static frame cost in stack units.
    pub(super) units: u64,
    /// Functions this body calls directly.
    pub(super) callees: Vec<u32>,
    /// Whether the body has a `call_indirect`.
    pub(super) calls_indirect: bool,
}

impl AnalyzedBody<'_> {
    /// A leaf makes no calls, so it can never be on the stack twice: its frame is reserved by
    /// its callers instead of by itself.
    pub(super) fn is_leaf(&self) -> bool {
        self.callees.is_empty() && !self.calls_indirect
    }
}

/// Validates a body operator by operator, recording its frame cost and its calls.
pub(super) fn analyze_body<'a>(
    mut validator: FuncValidator<ValidatorResources>,
    body: &FunctionBody<'a>,
) -> Result<AnalyzedBody<'a>, InstrumentError> {
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
    let mut callees = Vec::new();
    let mut calls_indirect = false;
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset()?;
        validator.op(offset, &op)?;
        max_height = max_height.max(validator.operand_stack_height());
        match op {
            Operator::Call { function_index } => callees.push(function_index),
            Operator::CallIndirect { .. } => calls_indirect = true,
            _ => {}
        }
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
    Ok(AnalyzedBody {
        index: validator.index(),
        locals,
        all_locals,
        ops,
        end,
        units,
        callees,
        calls_indirect,
    })
}

/// One function body's rewrite: where the injected locals are and what the frame costs.
struct BodyWriter<'a> {
    injected: &'a Injected<'a>,
    /// The local caching the gas counter.
    gas: u32,
    /// A scratch i32 local.
    scratch: u32,
    /// The stack budget on entry, restored on exit.
    saved_stack: u32,
    /// Stack units taken on entry; `None` for leaves (reserved by their callers).
    frame_units: Option<i32>,
    /// Exported functions check the counter on exit; the others leave that to their callers,
    /// which check on their own loops and exits before anything is observable.
    entry: bool,
}

/// Emits the instrumented body. `frame_units` is the frame to take on entry (`None` for a leaf).
pub(super) fn emit_body(
    wasm: &[u8],
    body: &AnalyzedBody,
    frame_units: Option<u64>,
    wrapper: BlockType,
    entry: bool,
    injected: &Injected,
) -> Function {
    let AnalyzedBody {
        all_locals,
        ops,
        end,
        ..
    } = body;
    let (all_locals, end) = (*all_locals, *end);
    let mut locals = body.locals.clone();
    locals.push((1, ValType::I64));
    locals.push((2, ValType::I32));
    let writer = BodyWriter {
        injected,
        gas: all_locals,
        scratch: all_locals + 1,
        saved_stack: all_locals + 2,
        // Frames are at most a few MAX_FRAME_UNITS (< i32::MAX); clamp defensively.
        frame_units: frame_units.map(|u| u.min(i32::MAX as u64) as i32),
        entry,
    };

    let plan = plan(ops, injected.schedule);
    let mut function = Function::new(locals);
    writer.prologue(&mut function.instructions());
    // Branches to the function's own label land at the end of this block, before the epilogue.
    function.instructions().block(wrapper);
    let last = ops.len().saturating_sub(1);
    for (i, (op, offset)) in ops.iter().enumerate() {
        if let Some(segment) = plan.segments[i] {
            writer.charge(&mut function.instructions(), segment);
        }
        let back_edge = plan.back_edges[i].map(|cost| Segment { cost, check: true });
        let next = ops.get(i + 1).map_or(end, |(_, o)| *o);
        let bytes = &wasm[*offset..next];
        match op {
            Operator::Call { .. } | Operator::CallIndirect { .. } => {
                // No check needed here: a host function refuses a negative balance itself, and
                // a wasm callee checks on its loops and on return.
                writer.flush(&mut function.instructions());
                function.raw(bytes.iter().copied());
                writer.reload(&mut function.instructions());
            }
            Operator::Return => {
                writer.epilogue(&mut function.instructions());
                function.raw(bytes.iter().copied());
            }
            Operator::End if i == last => {
                function.instructions().end();
                writer.epilogue(&mut function.instructions());
                function.raw(bytes.iter().copied());
            }
            Operator::Br { .. } if back_edge.is_some() => {
                if let Some(segment) = back_edge {
                    writer.charge(&mut function.instructions(), segment);
                }
                function.raw(bytes.iter().copied());
            }
            Operator::BrIf { relative_depth } if back_edge.is_some() => {
                // Only the taken branch pays for (and checks) the next iteration. Written as
                // "skip unless taken" so the compiler keeps the loop path as the fall-through.
                let mut sink = function.instructions();
                sink.local_set(writer.scratch)
                    .block(BlockType::Empty)
                    .local_get(writer.scratch)
                    .i32_eqz()
                    .br_if(0);
                if let Some(segment) = back_edge {
                    writer.charge(&mut sink, segment);
                }
                sink.br(relative_depth + 1).end();
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
    function
}

impl BodyWriter<'_> {
    fn gas_global(&self) -> u32 {
        self.injected.gas_global
    }

    /// Takes the frame's stack units (remembering the budget on entry) and loads the gas counter.
    fn prologue(&self, s: &mut InstructionSink) {
        if let Some(units) = self.frame_units {
            let stack = self.injected.stack_global;
            s.global_get(stack)
                .local_tee(self.saved_stack)
                .i32_const(units)
                .i32_lt_s()
                .if_(BlockType::Empty)
                .i32_const(-1)
                .global_set(stack)
                .unreachable()
                .end()
                .local_get(self.saved_stack)
                .i32_const(units)
                .i32_sub()
                .global_set(stack);
        }
        s.global_get(self.gas_global()).local_set(self.gas);
    }

    /// Checks and stores the counter and gives the frame's stack units back.
    fn epilogue(&self, s: &mut InstructionSink) {
        if self.entry {
            self.check_and_flush(s);
        } else {
            self.flush(s);
        }
        if self.frame_units.is_some() {
            s.local_get(self.saved_stack)
                .global_set(self.injected.stack_global);
        }
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

    fn flush(&self, s: &mut InstructionSink) {
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
