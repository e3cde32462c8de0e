//! Checks on code: function bodies (declared locals, every operator, block types) and constant
//! expressions (global, element and data initializers).

use wasmparser::{BlockType, ConstExpr, FunctionBody, Operator, OperatorsReader, ValType};

use super::error::{Feature, TypeUse, ValidationError};
use super::operators::{forbidden_operator, operator_name};
use super::reader_error;
use super::types::check_value_type;

/// Checks one function body: `function` is its index in the function index space (imports
/// included).
pub(super) fn check_body(
    body: &FunctionBody<'_>,
    function: u32,
    max_locals: u32,
) -> Result<(), ValidationError> {
    check_locals(body, function, max_locals)?;
    let mut reader = body.get_operators_reader().map_err(reader_error)?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().map_err(reader_error)?;
        check_operator(&op, Some(function), offset)?;
        if let Some(BlockType::Type(ty)) = block_type(&op) {
            check_value_type(ty, TypeUse::BlockType { function }, offset)?;
        }
    }
    Ok(())
}

/// Checks the declared locals' types, and their count against `max_locals`. The entries are read
/// directly (wasmparser's `LocalsReader` stops at its own limit first) and summed in `u64`,
/// saturating: the per-entry counts are `u32` and their sum can exceed `u32::MAX`.
fn check_locals(
    body: &FunctionBody<'_>,
    function: u32,
    max_locals: u32,
) -> Result<(), ValidationError> {
    let mut reader = body.get_binary_reader();
    let entries = reader.read_var_u32().map_err(reader_error)?;
    let mut total: u64 = 0;
    for _ in 0..entries {
        let count = reader.read_var_u32().map_err(reader_error)?;
        let offset = reader.original_position();
        let ty: ValType = reader.read().map_err(reader_error)?;
        check_value_type(ty, TypeUse::Local { function }, offset)?;
        total = total.saturating_add(u64::from(count));
    }
    if total > u64::from(max_locals) {
        return Err(ValidationError::TooManyLocals {
            function,
            limit: max_locals,
            actual: total,
        });
    }
    Ok(())
}

/// Checks a constant expression: only `i32.const`, `i64.const` and `global.get` are allowed
/// (arithmetic is the extended-const proposal).
pub(super) fn check_const_expr(expr: &ConstExpr<'_>) -> Result<(), ValidationError> {
    check_const_operators(expr.get_operators_reader())
}

fn check_const_operators(mut reader: OperatorsReader<'_>) -> Result<(), ValidationError> {
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().map_err(reader_error)?;
        check_operator(&op, None, offset)?;
        if is_extended_const(&op) {
            return Err(ValidationError::ForbiddenInstruction {
                instruction: operator_name(&op),
                feature: Feature::ExtendedConst,
                function: None,
                offset,
            });
        }
    }
    Ok(())
}

/// The operators the extended-const proposal adds to constant expressions.
fn is_extended_const(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::I32Add
            | Operator::I32Sub
            | Operator::I32Mul
            | Operator::I64Add
            | Operator::I64Sub
            | Operator::I64Mul
    )
}

fn check_operator(
    op: &Operator<'_>,
    function: Option<u32>,
    offset: usize,
) -> Result<(), ValidationError> {
    match forbidden_operator(op) {
        None => Ok(()),
        Some(forbidden) => Err(ValidationError::ForbiddenInstruction {
            instruction: forbidden.name,
            feature: forbidden.feature,
            function,
            offset,
        }),
    }
}

/// The block type of a structured instruction contracts may use.
fn block_type(op: &Operator<'_>) -> Option<BlockType> {
    match op {
        Operator::Block { blockty } | Operator::Loop { blockty } | Operator::If { blockty } => {
            Some(*blockty)
        }
        _ => None,
    }
}
