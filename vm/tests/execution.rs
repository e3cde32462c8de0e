//! Execution of hand-written modules: exact gas figures, the gas-limit boundary, traps of hostile
//! modules, the deterministic stack budget, and determinism across runs.
//!
//! Gas figures are pinned under the default schedule (version 1). Each one is derived in a
//! comment so that a schedule change shows up here, in review.

use tally_vm::{
    Execution, ExecutionLimits, GasBreakdown, GasSchedule, HostFn, HostGas, Outcome, ScratchHost,
    TrapKind, Vm, VmConfig,
};

fn vm() -> Vm<ScratchHost> {
    Vm::new(VmConfig::default()).unwrap()
}

fn run_with(vm: &Vm<ScratchHost>, wat: &str, input: &[u8], gas: u64) -> (Execution, ScratchHost) {
    let code = wat::parse_str(wat).unwrap();
    let module = vm.compile(&code).unwrap();
    let done = vm
        .execute(&module, "call", input.to_vec(), gas, ScratchHost::default())
        .map_err(|(e, _)| e)
        .unwrap();
    (done.execution, done.host)
}

fn run(wat: &str, input: &[u8], gas: u64) -> Execution {
    run_with(&vm(), wat, input, gas).0
}

fn trap_kind(e: &Execution) -> &TrapKind {
    match &e.outcome {
        Outcome::Trap { kind } => kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// Asserts the limit = gas_used / gas_used - 1 boundary for a successful run; returns the run.
fn assert_exact_boundary(wat: &str, input: &[u8], expected_gas: u64) -> Execution {
    let first = run(wat, input, 10_000_000);
    assert!(
        matches!(first.outcome, Outcome::Success { .. }),
        "{first:?}"
    );
    assert_eq!(first.gas_used, expected_gas);
    let at_limit = run(wat, input, expected_gas);
    assert_eq!(
        at_limit, first,
        "limit = gas_used must give the same result"
    );
    let below = run(wat, input, expected_gas - 1);
    assert_eq!(trap_kind(&below), &TrapKind::OutOfGas);
    assert_eq!(below.gas_used, expected_gas - 1);
    first
}

/// A successful outcome returning `value` as 4 little-endian bytes.
fn returns_u32(value: u32) -> Outcome {
    Outcome::Success {
        return_data: value.to_le_bytes().to_vec(),
    }
}

const ADD: &str = r#"(module
  (import "tally" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call")
    (i32.store (i32.const 0) (i32.add (i32.const 40) (i32.const 2)))
    (call $ret (i32.const 0) (i32.const 4))))"#;

#[test]
fn straight_line_gas_is_exact() {
    // instantiation 7572 + 1 page * 319077 + 4 code words * 2            = 326657
    // segment: 5 consts * 1 + i32.add 1 + i32.store 21 + call 31          =     58
    // set_return: 449 + 7 per started 32-byte word (4 bytes -> 1 word)    =    456
    let e = assert_exact_boundary(ADD, &[], 327_171);
    assert_eq!(e.outcome, returns_u32(42));
}

const SUM_LOOP: &str = r#"(module
  (import "tally" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call") (local $i i32) (local $acc i32)
    (local.set $i (i32.const 10))
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (local.get $i)))
    (i32.store (i32.const 0) (local.get $acc))
    (call $ret (i32.const 0) (i32.const 4))))"#;

#[test]
fn loop_gas_is_exact() {
    // instantiation (5 code words)                                        = 326659
    // before the loop: i32.const + local.set                               =      2
    // loop body, 10 iterations: 9 local/const/int ops + br_if 18, 27 each  =    270
    // after the loop: 3 consts + local.get + store 21 + call 31             =     56
    // set_return                                                           =    456
    let e = assert_exact_boundary(SUM_LOOP, &[], 327_443);
    assert_eq!(e.outcome, returns_u32(55));
}

const NESTED_LOOPS: &str = r#"(module
  (import "tally" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call") (local $i i32) (local $j i32) (local $acc i32)
    (local.set $i (i32.const 3))
    (loop $outer
      (local.set $j (i32.const 4))
      (loop $inner
        (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
        (br_if $inner (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
      (br_if $outer (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
    (i32.store (i32.const 0) (local.get $acc))
    (call $ret (i32.const 0) (i32.const 4))))"#;

#[test]
fn nested_loop_gas_is_exact() {
    // instantiation (6 code words)                                      = 326661
    // before the outer loop: const + local.set                           =      2
    // outer iteration start, 3 times: const + local.set                  =      6
    // inner iteration, 12 times: 8 local/const/int ops + br_if 18        =    312
    // outer iteration end, 3 times: 4 local/const/int ops + br_if 18     =     66
    // after the loops: const, local.get, store 21, 2 consts, call 31      =     56
    // set_return                                                         =    456
    let e = assert_exact_boundary(NESTED_LOOPS, &[], 327_559);
    assert_eq!(e.outcome, returns_u32(12));
}

#[test]
fn loop_left_through_br_table_gas_is_exact() {
    // A loop targeted by br_table keeps its charge at the header.
    let wat = r#"(module
      (func (export "call") (local $j i32)
        (local.set $j (i32.const 5))
        (block $done
          (loop $l
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_table $l $done (i32.eqz (local.get $j)))))))"#;
    // instantiation 7572 (no memory) + 3 code words * 2 = 7578; const + local.set = 2;
    // 5 iterations of get, const, sub, set, get, eqz (1 each) + br_table 47 = 53
    assert_exact_boundary(wat, &[], 7578 + 2 + 5 * 53);
}

#[test]
fn branch_to_the_function_label_is_charged_like_a_return() {
    // `br 0` at function level returns: instantiation 7572 + 2 code words * 2, then const 1,
    // drop 1, br 18.
    let wat = r#"(module (func (export "call") (drop (i32.const 1)) (br 0)))"#;
    assert_exact_boundary(wat, &[], 7576 + 20);
}

#[test]
fn multi_value_function_returning_through_a_branch_is_charged() {
    // Instantiation 7572 + 3 code words * 2 = 7578. $pair: 2 local.get + br 18 = 20; entry:
    // const + call 31 = 32, then 2 drops = 2.
    let wat = r#"(module
      (func $pair (param i32) (result i32 i32) (local.get 0) (local.get 0) (br 0))
      (func (export "call") (call $pair (i32.const 7)) (drop) (drop)))"#;
    assert_exact_boundary(wat, &[], 7578 + 20 + 32 + 2);
}

#[test]
fn out_of_gas_inside_a_loop_uses_the_whole_limit() {
    // The loop starts after 326661 gas and its 10 iterations take 270.
    let e = run(SUM_LOOP, &[], 326_800);
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
    assert_eq!(e.gas_used, 326_800);
}

#[test]
fn limit_below_instantiation_cost_is_out_of_gas() {
    let e = run(ADD, &[], 326_656);
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
    assert_eq!(e.gas_used, 326_656);
}

const ECHO: &str = r#"(module
  (import "tally" "input_size" (func $size (result i32)))
  (import "tally" "input_read" (func $read (param i32 i32 i32)))
  (import "tally" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call") (local $n i32)
    (local.set $n (call $size))
    (call $read (i32.const 0) (i32.const 0) (local.get $n))
    (call $ret (i32.const 0) (local.get $n))))"#;

#[test]
fn host_functions_charge_per_word() {
    // instantiation (6 code words) 326661
    // segment 1: call 31                                          -> 31;  input_size 325
    // segment 2: local.set, 2 consts, local.get, call 31 = 35     -> 35;  input_read 383 + 7 * 3 words (70 bytes)
    // segment 3: const, local.get, call 31 = 33                   -> 33;  set_return 449 + 7 * 3
    let input = vec![7u8; 70];
    let e = assert_exact_boundary(ECHO, &input, 326_661 + 31 + 325 + 35 + 404 + 33 + 470);
    assert_eq!(e.outcome, Outcome::Success { return_data: input });
    let host = |calls, gas| HostGas { calls, gas };
    assert_eq!(
        e.breakdown,
        GasBreakdown {
            instantiation: 326_661,
            instructions: 31 + 35 + 33,
            host: [
                (HostFn::InputSize, host(1, 325)),
                (HostFn::InputRead, host(1, 404)),
                (HostFn::SetReturn, host(1, 470)),
            ]
            .into_iter()
            .collect(),
        }
    );
}

const REVERT: &str = r#"(module
  (import "tally" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "nope")
  (func (export "call") (call $revert (i32.const 0) (i32.const 4)) (unreachable)))"#;

#[test]
fn revert_returns_data_and_charges_only_what_was_used() {
    // instantiation 7572 + 1 page * 319077 + 4 code words * 2 + 1 data word * 2 = 326659;
    // segment 2 consts + call 31; revert 14619 + 12
    let e = run(REVERT, &[], 1_000_000);
    assert_eq!(
        e.outcome,
        Outcome::Revert {
            data: b"nope".to_vec()
        }
    );
    assert_eq!(e.gas_used, 326_659 + 33 + 14_631);
}

#[test]
fn infinite_loop_runs_out_of_gas() {
    let e = run(
        r#"(module (func (export "call") (loop (br 0))))"#,
        &[],
        1_000_000,
    );
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
    assert_eq!(e.gas_used, 1_000_000);
}

#[test]
fn empty_loop_body_still_costs_gas_per_iteration() {
    let mut schedule = GasSchedule::default();
    schedule.operators.branch = 0;
    let vm = Vm::new(VmConfig {
        schedule,
        ..VmConfig::default()
    })
    .unwrap();
    let (e, _) = run_with(
        &vm,
        r#"(module (func (export "call") (loop (br 0))))"#,
        &[],
        100_000,
    );
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
}

#[test]
fn memory_grow_is_capped_and_charged_per_page() {
    // Grow 255 pages from 1 (allowed: cap 256), then 1 more (refused: -1).
    let wat = r#"(module
      (import "tally" "set_return" (func $ret (param i32 i32)))
      (memory (export "memory") 1)
      (func (export "call")
        (i32.store (i32.const 0) (memory.grow (i32.const 255)))
        (i32.store (i32.const 4) (memory.grow (i32.const 1)))
        (i32.store (i32.const 8) (memory.size))
        (call $ret (i32.const 0) (i32.const 12))))"#;
    let e = run(wat, &[], 100_000_000);
    let mut expected = Vec::new();
    for v in [1i32, -1, 256] {
        expected.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(
        e.outcome,
        Outcome::Success {
            return_data: expected
        }
    );
    // instantiation (4 code words)                                           = 326657
    // segment: 7 consts, 2 grows at base 405, 3 stores at 21, memory.size 1, call 31 = 912
    // pages grown: 255 * 363686                                              = 92739930
    // set_return (12 bytes, 1 word)                                          = 456
    assert_eq!(e.gas_used, 326_657 + 912 + 92_739_930 + 456);
}

#[test]
fn memory_grow_bomb_runs_out_of_gas() {
    let wat = r#"(module (memory (export "memory") 1)
      (func (export "call") (loop (drop (memory.grow (i32.const 1))) (br 0))))"#;
    let e = run(wat, &[], 50_000_000);
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
    assert_eq!(e.gas_used, 50_000_000);
}

#[test]
fn memory_grow_charge_is_checked_before_growing() {
    let wat = r#"(module (memory (export "memory") 1)
      (func (export "call") (drop (memory.grow (i32.const 200)))))"#;
    // 200 pages cost 72737200 gas; 10000000 pays for instantiation, not for them.
    let e = run(wat, &[], 10_000_000);
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
}

#[test]
fn bulk_memory_is_charged_per_word() {
    let wat = r#"(module (memory (export "memory") 1)
      (func (export "call") (memory.fill (i32.const 0) (i32.const 7) (i32.const 1000))))"#;
    // instantiation (2 code words) 326653; segment: 3 consts + fill base 39 = 42;
    // 1000 bytes = 32 words * 52 = 1664
    assert_exact_boundary(wat, &[], 326_653 + 42 + 1664);
}

#[test]
fn bulk_memory_out_of_gas_is_detected_before_the_copy() {
    let wat = r#"(module (memory (export "memory") 1)
      (func (export "call") (memory.fill (i32.const 0) (i32.const 7) (i32.const -1))))"#;
    // 4 GiB would be out of bounds, but the charge comes first.
    let e = run(wat, &[], 1_000_000);
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
    let e = run(wat, &[], 1 << 40);
    assert_eq!(trap_kind(&e), &TrapKind::MemoryOutOfBounds);
}

#[test]
fn unbounded_recursion_exhausts_the_stack() {
    let wat = r#"(module (func $f (export "call") (call $f)))"#;
    let e = run(wat, &[], 1_000_000_000);
    assert_eq!(trap_kind(&e), &TrapKind::StackExhausted);
    assert_eq!(e.gas_used, 1_000_000_000);
}

const RECURSE: &str = r#"(module
  (import "tally" "input_read" (func $read (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func $f (param i32)
    (if (local.get 0) (then (call $f (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "call")
    (call $read (i32.const 0) (i32.const 0) (i32.const 4))
    (call $f (i32.load (i32.const 0)))))"#;

fn recurse(depth: u32, stack_units: u32) -> Execution {
    let vm = Vm::new(VmConfig {
        execution_limits: ExecutionLimits {
            stack_units,
            ..ExecutionLimits::default()
        },
        ..VmConfig::default()
    })
    .unwrap();
    run_with(&vm, RECURSE, &depth.to_le_bytes(), 1_000_000_000).0
}

#[test]
fn stack_budget_is_exact_and_deterministic() {
    // Frame of $f: overhead 4 + 1 param + max operand stack 2 = 7 units.
    // Frame of the entry: overhead 4 + max operand stack 3 = 7 units.
    // Depth d needs the entry plus d + 1 frames of $f.
    for depth in [0u32, 10, 1000] {
        let needed = 7 + (depth + 1) * 7;
        let ok = recurse(depth, needed);
        assert!(
            matches!(ok.outcome, Outcome::Success { .. }),
            "depth {depth}: {ok:?}"
        );
        let short = recurse(depth, needed - 1);
        assert_eq!(
            trap_kind(&short),
            &TrapKind::StackExhausted,
            "depth {depth}"
        );
    }
}

#[test]
fn leaf_frames_are_reserved_by_their_caller() {
    // $leaf (no calls): 4 + 100 locals + operand stack 1 = 105 units, reserved by the entry.
    // Entry: 4 + operand stack 0 = 4 units, plus the leaf's 105 = 109 units on entry.
    let locals = "(local i32) ".repeat(100);
    let wat = format!(
        r#"(module (func $leaf {locals} (drop (local.get 0)))
             (func (export "call") (call $leaf)))"#
    );
    let run_with_units = |stack_units| {
        let vm = Vm::new(VmConfig {
            execution_limits: ExecutionLimits {
                stack_units,
                ..ExecutionLimits::default()
            },
            ..VmConfig::default()
        })
        .unwrap();
        run_with(&vm, &wat, &[], 1_000_000).0
    };
    assert!(matches!(
        run_with_units(109).outcome,
        Outcome::Success { .. }
    ));
    assert_eq!(trap_kind(&run_with_units(108)), &TrapKind::StackExhausted);
}

#[test]
fn default_stack_budget_allows_deep_but_bounded_recursion() {
    let default_units = ExecutionLimits::default().stack_units;
    let max_depth = default_units / 7 - 2;
    assert!(matches!(
        recurse(max_depth, default_units).outcome,
        Outcome::Success { .. }
    ));
    assert_eq!(
        trap_kind(&recurse(max_depth + 1, default_units)),
        &TrapKind::StackExhausted
    );
}

#[test]
fn huge_frames_exhaust_the_stack_sooner() {
    let locals = "(local i64) ".repeat(2000);
    let wat = format!(r#"(module (func $f (export "call") {locals} (call $f)))"#);
    let e = run(&wat, &[], 1_000_000_000);
    assert_eq!(trap_kind(&e), &TrapKind::StackExhausted);
}

#[test]
fn call_indirect_recursion_exhausts_the_stack() {
    let wat = r#"(module
      (type $t (func))
      (table 1 funcref)
      (elem (i32.const 0) $f)
      (func $f (export "call") (call_indirect (type $t) (i32.const 0))))"#;
    assert_eq!(
        trap_kind(&run(wat, &[], 1_000_000_000)),
        &TrapKind::StackExhausted
    );
}

#[test]
fn call_indirect_loop_runs_out_of_gas() {
    let wat = r#"(module
      (type $t (func))
      (table 1 funcref)
      (elem (i32.const 0) $g)
      (func $g)
      (func (export "call") (loop (call_indirect (type $t) (i32.const 0)) (br 0))))"#;
    let e = run(wat, &[], 2_000_000);
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
    assert_eq!(e.gas_used, 2_000_000);
}

#[test]
fn host_call_spam_runs_out_of_gas() {
    let wat = r#"(module
      (import "tally" "gas_left" (func $gas (result i64)))
      (func (export "call") (loop (drop (call $gas)) (br 0))))"#;
    let e = run(wat, &[], 3_000_000);
    assert_eq!(trap_kind(&e), &TrapKind::OutOfGas);
    assert_eq!(e.gas_used, 3_000_000);
}

#[test]
fn gas_left_sees_every_charge_before_it() {
    let wat = r#"(module
      (import "tally" "gas_left" (func $gas (result i64)))
      (import "tally" "set_return" (func $ret (param i32 i32)))
      (memory (export "memory") 1)
      (func (export "call")
        (i64.store (i32.const 0) (call $gas))
        (call $ret (i32.const 0) (i32.const 8))))"#;
    let e = run(wat, &[], 1_000_000);
    // Before gas_left returns: instantiation (5 code words) 326659, segment (const, call 31)
    // = 32, gas_left 410.
    let expected = 1_000_000u64 - 326_659 - 32 - 410;
    assert_eq!(
        e.outcome,
        Outcome::Success {
            return_data: expected.to_le_bytes().to_vec()
        }
    );
}

#[test]
fn out_of_bounds_host_arguments_trap_cleanly() {
    let cases = [
        (
            r#"(call $ret (i32.const 65534) (i32.const 4))"#,
            HostFn::SetReturn,
        ),
        (
            r#"(call $ret (i32.const -1) (i32.const 1))"#,
            HostFn::SetReturn,
        ),
        (
            r#"(call $read (i32.const 0) (i32.const 1) (i32.const 0))"#,
            HostFn::InputRead,
        ),
        (
            r#"(call $read (i32.const 65537) (i32.const 0) (i32.const 0))"#,
            HostFn::InputRead,
        ),
        (
            r#"(call $sload (i32.const 65530) (i32.const 0))"#,
            HostFn::StorageRead,
        ),
        (
            r#"(call $log (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0))"#,
            HostFn::EmitLog,
        ),
    ];
    for (body, function) in cases {
        let wat = format!(
            r#"(module
              (import "tally" "set_return" (func $ret (param i32 i32)))
              (import "tally" "input_read" (func $read (param i32 i32 i32)))
              (import "tally" "storage_read" (func $sload (param i32 i32)))
              (import "tally" "emit_log" (func $log (param i32 i32 i32 i32)))
              (memory (export "memory") 1)
              (func (export "call") {body}))"#
        );
        let e = run(&wat, &[], 1_000_000);
        match trap_kind(&e) {
            TrapKind::HostArgument { function: f, .. } => assert_eq!(*f, function, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
        assert_eq!(e.gas_used, 1_000_000);
    }
}

#[test]
fn huge_lengths_are_charged_before_being_read() {
    let wat = r#"(module
      (import "tally" "keccak256" (func $k (param i32 i32 i32)))
      (memory (export "memory") 1)
      (func (export "call") (call $k (i32.const 0) (i32.const -1) (i32.const 0))))"#;
    assert_eq!(trap_kind(&run(wat, &[], 10_000_000)), &TrapKind::OutOfGas);
}

#[test]
fn oversized_return_data_traps() {
    let wat = r#"(module
      (import "tally" "set_return" (func $ret (param i32 i32)))
      (memory (export "memory") 17)
      (func (export "call") (call $ret (i32.const 0) (i32.const 1048577))))"#;
    assert_eq!(
        trap_kind(&run(wat, &[], 100_000_000)),
        &TrapKind::ReturnDataTooLarge {
            len: 1_048_577,
            max: 1_048_576
        }
    );
}

#[test]
fn wasm_traps_are_typed() {
    let cases = [
        ("(unreachable)", TrapKind::Unreachable),
        (
            "(drop (i32.div_u (i32.const 1) (i32.const 0)))",
            TrapKind::IntegerDivisionByZero,
        ),
        (
            "(drop (i32.div_s (i32.const -2147483648) (i32.const -1)))",
            TrapKind::IntegerOverflow,
        ),
        (
            "(drop (i32.load (i32.const 65535)))",
            TrapKind::MemoryOutOfBounds,
        ),
    ];
    for (body, kind) in cases {
        let wat = format!(r#"(module (memory (export "memory") 1) (func (export "call") {body}))"#);
        let e = run(&wat, &[], 1_000_000);
        assert_eq!(trap_kind(&e), &kind, "{body}");
        assert_eq!(e.gas_used, 1_000_000);
    }
}

#[test]
fn missing_entry_point_is_a_trap() {
    let e = run(r#"(module (func (export "other")))"#, &[], 50_000);
    assert_eq!(trap_kind(&e), &TrapKind::MissingEntryPoint("call".into()));
}

#[test]
fn storage_and_logs_reach_the_host() {
    let wat = r#"(module
      (import "tally" "storage_write" (func $sstore (param i32 i32)))
      (import "tally" "storage_read" (func $sload (param i32 i32)))
      (import "tally" "emit_log" (func $log (param i32 i32 i32 i32)))
      (import "tally" "set_return" (func $ret (param i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 31) "\01")
      (data (i32.const 63) "\2a")
      (func (export "call")
        (call $sstore (i32.const 0) (i32.const 32))
        (call $sload (i32.const 0) (i32.const 64))
        (call $log (i32.const 0) (i32.const 1) (i32.const 64) (i32.const 32))
        (call $ret (i32.const 64) (i32.const 32))))"#;
    let (e, host) = run_with(&vm(), wat, &[], 10_000_000);
    let mut key = [0u8; 32];
    key[31] = 1;
    let mut value = [0u8; 32];
    value[31] = 42;
    assert_eq!(
        e.outcome,
        Outcome::Success {
            return_data: value.to_vec()
        }
    );
    assert_eq!(host.storage.get(&key), Some(&value));
    assert_eq!(host.logs.len(), 1);
    assert_eq!(host.logs[0].topics, vec![key]);
    assert_eq!(host.logs[0].data, value.to_vec());
}

#[test]
fn same_run_twice_is_identical() {
    let vm = vm();
    for wat in [ADD, SUM_LOOP, REVERT] {
        let a = run_with(&vm, wat, &[], 1_000_000);
        let b = run_with(&vm, wat, &[], 1_000_000);
        assert_eq!(a.0, b.0);
        assert_eq!(a.1.storage, b.1.storage);
    }
    assert_eq!(vm.cached_modules(), 3);
}

#[test]
fn serialized_modules_run_identically_after_reload() {
    let code = wat::parse_str(SUM_LOOP).unwrap();
    let first = vm();
    let module = first.compile(&code).unwrap();
    let bytes = first.serialize(&module).unwrap();

    let second = vm();
    // SAFETY: the bytes were produced by `serialize` in this process.
    let reloaded = unsafe { second.deserialize(&bytes) }.unwrap();
    assert_eq!(reloaded.code_hash(), module.code_hash());
    let a = first
        .execute(&module, "call", vec![], 1_000_000, ScratchHost::default())
        .ok()
        .unwrap();
    let b = second
        .execute(&reloaded, "call", vec![], 1_000_000, ScratchHost::default())
        .ok()
        .unwrap();
    assert_eq!(a.execution, b.execution);

    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    // SAFETY: rejected by the checksum before wasmtime sees it.
    assert!(unsafe { second.deserialize(&damaged) }.is_err());

    let mut schedule = GasSchedule::default();
    schedule.operators.local += 1;
    let other: Vm<ScratchHost> = Vm::new(VmConfig {
        schedule,
        ..VmConfig::default()
    })
    .unwrap();
    // SAFETY: rejected by the schedule-hash check.
    let err = unsafe { other.deserialize(&bytes) }.err().unwrap();
    assert_eq!(
        err.to_string(),
        "serialized module rejected: compiled for another gas schedule"
    );
}

#[test]
fn a_schedule_change_changes_the_module_keys_and_the_stored_module() {
    let code = wat::parse_str(SUM_LOOP).unwrap();
    let default = vm();
    let mut schedule = GasSchedule::default();
    schedule.operators.integer += 1;
    let other: Vm<ScratchHost> = Vm::new(VmConfig {
        schedule,
        ..VmConfig::default()
    })
    .unwrap();
    let a = default.compile(&code).unwrap();
    let b = other.compile(&code).unwrap();
    assert_eq!(a.code_hash(), b.code_hash());
    assert_ne!(default.schedule_hash(), other.schedule_hash());
    // The in-process cache and the key of stored artifacts both include the schedule.
    assert_ne!(
        default.artifact_key(&a.code_hash()),
        other.artifact_key(&b.code_hash())
    );
    assert_eq!(default.cached_code_hashes(), vec![a.code_hash()]);
    // The instrumented code differs: each module charges its own schedule's costs.
    let (run_a, run_b) = (
        default
            .execute(&a, "call", vec![], 1_000_000, ScratchHost::default())
            .ok()
            .unwrap(),
        other
            .execute(&b, "call", vec![], 1_000_000, ScratchHost::default())
            .ok()
            .unwrap(),
    );
    assert!(run_b.execution.gas_used > run_a.execution.gas_used);
    let bytes_a = default.serialize(&a).unwrap();
    let bytes_b = other.serialize(&b).unwrap();
    assert_ne!(bytes_a, bytes_b);
}

#[test]
fn stack_budget_is_exhausted_long_before_a_small_native_stack() {
    // The smallest frames give the deepest recursion: 4 units each, 16,384 frames in the
    // default budget. They must fit a 2 MiB thread stack with room to spare, or the deterministic
    // limit would not be the one that fires.
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            run(
                r#"(module (func $f (export "call") (call $f)))"#,
                &[],
                1 << 40,
            )
        })
        .unwrap();
    let e = handle.join().unwrap();
    assert_eq!(trap_kind(&e), &TrapKind::StackExhausted);
}

#[test]
fn module_from_a_vm_with_other_limits_is_refused() {
    let code = wat::parse_str(ADD).unwrap();
    let module = vm().compile(&code).unwrap();
    let other: Vm<ScratchHost> = Vm::new(VmConfig {
        module_limits: tally_vm::ModuleLimits {
            max_memory_pages: 128,
            ..Default::default()
        },
        ..VmConfig::default()
    })
    .unwrap();
    let err = other
        .execute(&module, "call", vec![], 10_000, ScratchHost::default())
        .err()
        .unwrap()
        .0;
    assert_eq!(
        err.to_string(),
        "the module was compiled by a VM with other module limits"
    );
}

#[test]
fn each_call_starts_from_the_modules_initial_memory() {
    // Reads a word from the data segment, from zeroed memory in two pages and from a page it
    // grows, then overwrites all four. Pooled instance slots are reused with only the written
    // pages reset, so later calls on the same module must still read what the first one read.
    let wat = r#"(module
      (import "tally" "set_return" (func $ret (param i32 i32)))
      (memory (export "memory") 4)
      (data (i32.const 70000) "\2a\00\00\00")
      (func (export "call")
        (drop (memory.grow (i32.const 1)))
        (i32.store (i32.const 200000) (i32.load (i32.const 70000)))
        (i32.store (i32.const 200004) (i32.load (i32.const 4)))
        (i32.store (i32.const 200008) (i32.load (i32.const 150000)))
        (i32.store (i32.const 200012) (i32.load (i32.const 270000)))
        (i32.store (i32.const 200016) (memory.size))
        (i32.store (i32.const 70000) (i32.const -1))
        (i32.store (i32.const 4) (i32.const -1))
        (i32.store (i32.const 150000) (i32.const -1))
        (i32.store (i32.const 270000) (i32.const -1))
        (call $ret (i32.const 200000) (i32.const 20))))"#;
    let vm = vm();
    let module = vm.compile(&wat::parse_str(wat).unwrap()).unwrap();
    let mut expected = Vec::new();
    for v in [42u32, 0, 0, 0, 5] {
        expected.extend_from_slice(&v.to_le_bytes());
    }
    let mut gas = Vec::new();
    for _ in 0..4 {
        let done = vm
            .execute(
                &module,
                "call",
                Vec::new(),
                1_000_000_000,
                ScratchHost::default(),
            )
            .map_err(|(e, _)| e)
            .unwrap();
        assert_eq!(
            done.execution.outcome,
            Outcome::Success {
                return_data: expected.clone()
            }
        );
        gas.push(done.execution.gas_used);
    }
    assert!(gas.windows(2).all(|w| w[0] == w[1]), "gas differs: {gas:?}");
}
