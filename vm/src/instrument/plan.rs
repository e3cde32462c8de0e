//! Where a function body is charged: the metering plan.
//!
//! The body is cut into segments that end after every operator that branches, merges control
//! flow or calls; each segment is charged the sum of its operators' costs before it runs.
//!
//! Loops are charged on their back edges rather than at their header: the first iteration's
//! header segment is added to the segment that enters the loop, and every `br`/`br_if` that jumps
//! back to the loop charges (and checks) the next iteration just before jumping. The counter is
//! then only updated on the path that stays in the loop, which lets the compiler keep the loop
//! as tight as the original (a charge at the header makes the counter's old and new values both
//! live at the loop exit, costing a register copy and an extra jump per iteration). Loops
//! targeted by a `br_table`, or with a block type that could carry parameters, keep the charge
//! and check at their header.

use wasmparser::{BlockType, Operator};

use crate::gas::GasSchedule;

/// The charge placed before an operator that starts a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Segment {
    pub(super) cost: u64,
    /// Header-charged loops check the counter so every iteration is bounded.
    pub(super) check: bool,
}

/// The metering plan of one function body, indexed by operator.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// The segment starting at each operator, if one does.
    pub(super) segments: Vec<Option<Segment>>,
    /// For a `br`/`br_if` jumping back to a back-edge-charged loop: that loop's iteration cost.
    pub(super) back_edges: Vec<Option<u64>>,
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

struct LoopInfo {
    /// Index of the `loop` operator.
    at: usize,
    /// Keep the charge at the header (br_table target, or a block type with parameters).
    at_header: bool,
}

/// Computes the metering plan of a function body.
pub(super) fn plan(ops: &[(Operator, usize)], schedule: &GasSchedule) -> Plan {
    let (loops, targets) = find_loops(ops);
    let mut segments = vec![None; ops.len()];
    // The start of the segment each operator belongs to.
    let mut segment_of = vec![0usize; ops.len()];
    let mut start = 0usize;
    let mut cost = 0u64;
    let mut check = false;
    for (i, (op, _)) in ops.iter().enumerate() {
        segment_of[i] = start;
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

    // Move header charges to the loop entry, innermost loops first so an inner loop's entry
    // charge is part of its enclosing loop's iteration cost.
    let mut iteration_cost = vec![0u64; loops.len()];
    for (id, info) in loops.iter().enumerate().rev() {
        let header = info.at + 1;
        if info.at_header || header >= ops.len() {
            continue;
        }
        let Some(moved) = segments[header].take() else {
            continue;
        };
        let entry = segment_of[info.at];
        if let Some(entering) = segments[entry].as_mut() {
            entering.cost = entering.cost.saturating_add(moved.cost);
        }
        iteration_cost[id] = moved.cost.max(1);
    }
    let back_edges = targets
        .iter()
        .map(|t| {
            t.filter(|id| !loops[*id].at_header)
                .map(|id| iteration_cost[id])
        })
        .collect();
    Plan {
        segments,
        back_edges,
    }
}

/// The loops of a body and, for each `br`/`br_if`, the loop it jumps back to (if any).
fn find_loops(ops: &[(Operator, usize)]) -> (Vec<LoopInfo>, Vec<Option<usize>>) {
    let mut loops = Vec::new();
    let mut targets = vec![None; ops.len()];
    // Open control frames: `Some(loop id)` for loops, `None` for blocks, ifs and the body.
    let mut frames: Vec<Option<usize>> = vec![None];
    let target = |frames: &Vec<Option<usize>>, depth: u32| {
        let depth = depth as usize;
        frames.len().checked_sub(depth + 1).and_then(|i| frames[i])
    };
    for (i, (op, _)) in ops.iter().enumerate() {
        match op {
            Operator::Block { .. } | Operator::If { .. } => frames.push(None),
            Operator::Loop { blockty } => {
                frames.push(Some(loops.len()));
                loops.push(LoopInfo {
                    at: i,
                    at_header: matches!(blockty, BlockType::FuncType(_)),
                });
            }
            Operator::End => {
                frames.pop();
            }
            Operator::Br { relative_depth } | Operator::BrIf { relative_depth } => {
                targets[i] = target(&frames, *relative_depth);
            }
            Operator::BrTable { targets: table } => {
                let depths = table
                    .targets()
                    .filter_map(Result::ok)
                    .chain([table.default()]);
                for depth in depths {
                    if let Some(id) = target(&frames, depth) {
                        loops[id].at_header = true;
                    }
                }
            }
            _ => {}
        }
    }
    (loops, targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops_of(wat: &str) -> Vec<(Operator<'static>, usize)> {
        let wasm: &'static [u8] = Box::leak(wat::parse_str(wat).unwrap().into_boxed_slice());
        let mut ops = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
                let mut reader = body.get_operators_reader().unwrap();
                while !reader.eof() {
                    ops.push(reader.read_with_offset().unwrap());
                }
            }
        }
        ops
    }

    #[test]
    fn br_if_loop_is_charged_on_its_back_edge() {
        // ops: 0 i32.const, 1 local.set, 2 loop, 3 local.get, 4 br_if 0, 5 end, 6 end
        let ops = ops_of("(module (func (local i32) (local.set 0 (i32.const 3)) (loop (br_if 0 (local.get 0)))))");
        let schedule = GasSchedule::default();
        let c = &schedule.operators;
        let plan = plan(&ops, &schedule);
        // Entry segment pays for the first iteration too: const, local.set, loop, then the
        // iteration (local.get, br_if).
        let iteration = c.local + c.branch;
        assert_eq!(
            plan.segments[0],
            Some(Segment {
                cost: c.constant + c.local + c.structure + iteration,
                check: false
            })
        );
        assert_eq!(plan.segments[3], None);
        assert_eq!(plan.back_edges[4], Some(iteration));
        assert_eq!(plan.back_edges.iter().filter(|b| b.is_some()).count(), 1);
    }

    #[test]
    fn br_table_loop_keeps_its_header_charge() {
        let ops = ops_of("(module (func (loop (br_table 0 0 (i32.const 1)))))");
        let schedule = GasSchedule::default();
        let plan = plan(&ops, &schedule);
        // ops: 0 loop, 1 i32.const, 2 br_table, 3 end, 4 end
        assert_eq!(
            plan.segments[1],
            Some(Segment {
                cost: schedule.operators.constant + schedule.operators.branch_table,
                check: true
            })
        );
        assert!(plan.back_edges.iter().all(Option::is_none));
    }

    #[test]
    fn branch_out_of_a_loop_is_not_a_back_edge() {
        let ops = ops_of("(module (func (block (loop (br 1)))))");
        let plan = plan(&ops, &GasSchedule::default());
        assert!(plan.back_edges.iter().all(Option::is_none));
    }
}
