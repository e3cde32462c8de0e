//! Which operators a contract may use, and the text-format name of those it may not.
//!
//! The classification is generated from wasmparser's own operator list
//! ([`wasmparser::for_each_operator`]), which tags every operator with the proposal that introduced
//! it, so a new wasmparser operator can never slip through unclassified.

use wasmparser::Operator;

use super::error::Feature;

macro_rules! define_operator_origin {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        /// The proposal that introduced `op` and its `VisitOperator` method name, as wasmparser
        /// lists them.
        fn operator_origin(op: &Operator<'_>) -> (&'static str, &'static str) {
            match op {
                $( Operator::$op { .. } => (stringify!($proposal), stringify!($visit)), )*
                // `Operator` is non-exhaustive; every variant is listed above.
                _ => ("unknown", "visit_unknown"),
            }
        }
    };
}
wasmparser::for_each_operator!(define_operator_origin);

/// An operator a contract may not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ForbiddenOperator {
    /// The operator's name in the WebAssembly text format, e.g. `f32.add`.
    pub name: String,
    /// The feature it belongs to.
    pub feature: Feature,
}

/// `Some` if `op` is outside Tally's deterministic subset.
pub(super) fn forbidden_operator(op: &Operator<'_>) -> Option<ForbiddenOperator> {
    let (proposal, visit) = operator_origin(op);
    let base = visit_base(visit);
    let feature = forbidden_feature(proposal, base)?;
    Some(ForbiddenOperator {
        name: text_name(base),
        feature,
    })
}

/// The text-format name of `op`, e.g. `i32.add`.
pub(super) fn operator_name(op: &Operator<'_>) -> String {
    text_name(visit_base(operator_origin(op).1))
}

fn visit_base(visit: &'static str) -> &'static str {
    visit.strip_prefix("visit_").unwrap_or(visit)
}

/// The feature that forbids the operator `base` (its visit method name without `visit_`) from
/// `proposal`, or `None` if contracts may use it.
fn forbidden_feature(proposal: &'static str, base: &str) -> Option<Feature> {
    let feature = match proposal {
        "mvp" if base.contains("f32") || base.contains("f64") => Feature::FloatingPoint,
        "mvp" | "sign_extension" => return None,
        "bulk_memory" => match base {
            "memory_init" | "data_drop" | "memory_copy" | "memory_fill" => return None,
            _ => Feature::TableBulkOperations,
        },
        "saturating_float_to_int" => Feature::FloatingPoint,
        "reference_types" if base == "table_grow" => Feature::TableGrowth,
        "reference_types" => Feature::ReferenceTypes,
        "tail_call" => Feature::TailCalls,
        "threads" => Feature::Threads,
        "simd" => Feature::Simd,
        "relaxed_simd" => Feature::RelaxedSimd,
        "exceptions" | "legacy_exceptions" => Feature::Exceptions,
        "gc" => Feature::Gc,
        "function_references" => Feature::FunctionReferences,
        "memory_control" => Feature::MemoryControl,
        "shared_everything_threads" => Feature::SharedEverythingThreads,
        "stack_switching" => Feature::StackSwitching,
        "wide_arithmetic" => Feature::WideArithmetic,
        "custom_descriptors" => Feature::CustomDescriptors,
        other => Feature::Other(other),
    };
    Some(feature)
}

/// Instruction names whose text form is not `prefix.rest` of the visit method name.
const IRREGULAR_NAMES: &[(&str, &str)] = &[
    ("br_if", "br_if"),
    ("br_table", "br_table"),
    ("br_on_null", "br_on_null"),
    ("br_on_non_null", "br_on_non_null"),
    ("br_on_cast", "br_on_cast"),
    ("br_on_cast_fail", "br_on_cast_fail"),
    ("call_indirect", "call_indirect"),
    ("call_ref", "call_ref"),
    ("return_call", "return_call"),
    ("return_call_indirect", "return_call_indirect"),
    ("return_call_ref", "return_call_ref"),
    ("typed_select", "select"),
    ("typed_select_multi", "select"),
    ("try_table", "try_table"),
    ("throw_ref", "throw_ref"),
    ("catch_all", "catch_all"),
    ("resume_throw", "resume_throw"),
    ("resume_throw_ref", "resume_throw_ref"),
    ("ref_test_non_null", "ref.test"),
    ("ref_test_nullable", "ref.test"),
    ("ref_cast_non_null", "ref.cast"),
    ("ref_cast_nullable", "ref.cast"),
];

/// The text-format name of an operator from its visit method name without `visit_`:
/// `f32_add` -> `f32.add`, `i32_atomic_rmw8_add_u` -> `i32.atomic.rmw8.add_u`.
pub(super) fn text_name(base: &str) -> String {
    if let Some((_, name)) = IRREGULAR_NAMES.iter().find(|(visit, _)| *visit == base) {
        return (*name).to_string();
    }
    let Some((prefix, rest)) = base.split_once('_') else {
        return base.to_string();
    };
    let rest = rest.replacen("atomic_", "atomic.", 1);
    let rest = dot_after_rmw(&rest);
    format!("{prefix}.{rest}")
}

/// `atomic.rmw8_add_u` -> `atomic.rmw8.add_u`, `atomic.rmw_add` -> `atomic.rmw.add`.
fn dot_after_rmw(rest: &str) -> String {
    let Some(start) = rest.find("rmw") else {
        return rest.to_string();
    };
    let after = &rest[start + 3..];
    let digits = after.chars().take_while(char::is_ascii_digit).count();
    match after[digits..].strip_prefix('_') {
        Some(tail) => format!("{}{}.{tail}", &rest[..start + 3], &after[..digits]),
        None => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_follow_the_text_format() {
        for (visit, text) in [
            ("f32_add", "f32.add"),
            ("i32_trunc_f32_s", "i32.trunc_f32_s"),
            ("local_get", "local.get"),
            ("ref_is_null", "ref.is_null"),
            ("table_grow", "table.grow"),
            ("call_indirect", "call_indirect"),
            ("return_call_indirect", "return_call_indirect"),
            ("typed_select", "select"),
            ("i32_atomic_rmw8_add_u", "i32.atomic.rmw8.add_u"),
            ("i64_atomic_rmw_cmpxchg", "i64.atomic.rmw.cmpxchg"),
            ("i32_atomic_load", "i32.atomic.load"),
            ("memory_atomic_notify", "memory.atomic.notify"),
            ("atomic_fence", "atomic.fence"),
            ("v128_load8x8_s", "v128.load8x8_s"),
            ("i8x16_shuffle", "i8x16.shuffle"),
            ("struct_new_default", "struct.new_default"),
            ("nop", "nop"),
        ] {
            assert_eq!(text_name(visit), text, "{visit}");
        }
    }

    #[test]
    fn deterministic_subset_is_allowed() {
        for op in [
            Operator::I32Add,
            Operator::I64Extend32S,
            Operator::MemoryCopy {
                dst_mem: 0,
                src_mem: 0,
            },
            Operator::MemoryFill { mem: 0 },
            Operator::DataDrop { data_index: 0 },
            Operator::CallIndirect {
                type_index: 0,
                table_index: 0,
            },
        ] {
            assert_eq!(forbidden_operator(&op), None, "{op:?}");
        }
    }

    #[test]
    fn classifies_forbidden_operators() {
        let cases = [
            (Operator::F64Neg, "f64.neg", Feature::FloatingPoint),
            (
                Operator::I64TruncSatF32U,
                "i64.trunc_sat_f32_u",
                Feature::FloatingPoint,
            ),
            (
                Operator::TableGrow { table: 0 },
                "table.grow",
                Feature::TableGrowth,
            ),
            (
                Operator::ElemDrop { elem_index: 0 },
                "elem.drop",
                Feature::TableBulkOperations,
            ),
            (Operator::RefIsNull, "ref.is_null", Feature::ReferenceTypes),
            (
                Operator::ReturnCall { function_index: 0 },
                "return_call",
                Feature::TailCalls,
            ),
            (Operator::AtomicFence, "atomic.fence", Feature::Threads),
        ];
        for (op, name, feature) in cases {
            let forbidden = forbidden_operator(&op).expect("forbidden");
            assert_eq!(
                (forbidden.name.as_str(), forbidden.feature),
                (name, feature)
            );
        }
    }
}
