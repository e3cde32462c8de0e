//! VM benchmarks, each reported against a baseline measured in the same run:
//! - metering overhead: the compute suite run unmetered (plain wasmtime on the original module),
//!   metered by Tally's instrumentation, and metered by wasmtime's own fuel for reference;
//! - call overhead: instantiate a cached module and call an empty entry point through `Vm`.
//!
//! After criterion finishes, a summary table of ratios (and their geometric mean) is printed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use tally_vm::instrument::{instrument, GAS_GLOBAL, STACK_GLOBAL};
use tally_vm::{engine_config, GasSchedule, ModuleLimits, ScratchHost, Vm, VmConfig};
use wasmtime::{Engine, Instance, Module, Store, TypedFunc, Val};

/// The compute suite: name, module, argument.
const KERNELS: &[(&str, &str, i32)] = &[
    ("loop", include_str!("modules/loop.wat"), 2_000_000),
    ("arith", include_str!("modules/arith.wat"), 1_000_000),
    ("memory", include_str!("modules/memory.wat"), 40),
    ("fib", include_str!("modules/fib.wat"), 25),
    ("dispatch", include_str!("modules/dispatch.wat"), 1_000_000),
    ("hash", include_str!("modules/hash.wat"), 200),
];

const VARIANTS: &[&str] = &["unmetered", "tally", "wasmtime-fuel"];

struct Runner {
    store: Store<()>,
    func: TypedFunc<i32, i64>,
    globals: Option<(wasmtime::Global, wasmtime::Global)>,
    fuel: bool,
}

impl Runner {
    fn new(variant: &str, wat: &str) -> Runner {
        let original = wat::parse_str(wat).expect("benchmark module parses");
        let mut config = engine_config(&ModuleLimits::default(), false);
        let fuel = variant == "wasmtime-fuel";
        config.consume_fuel(fuel);
        let engine = Engine::new(&config).expect("engine");
        let wasm = if variant == "tally" {
            instrument(&original, &GasSchedule::default(), 256)
                .expect("instruments")
                .wasm
        } else {
            original
        };
        let module = Module::new(&engine, &wasm).expect("compiles");
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
        let func = instance
            .get_typed_func(&mut store, "run")
            .expect("run export");
        let globals = (variant == "tally").then(|| {
            (
                instance
                    .get_global(&mut store, GAS_GLOBAL)
                    .expect("gas global"),
                instance
                    .get_global(&mut store, STACK_GLOBAL)
                    .expect("stack global"),
            )
        });
        Runner {
            store,
            func,
            globals,
            fuel,
        }
    }

    fn run(&mut self, n: i32) -> i64 {
        if let Some((gas, stack)) = self.globals {
            gas.set(&mut self.store, Val::I64(1 << 60))
                .expect("set gas");
            stack
                .set(&mut self.store, Val::I32(65_536))
                .expect("set stack");
        }
        if self.fuel {
            self.store.set_fuel(1 << 60).expect("set fuel");
        }
        self.func.call(&mut self.store, n).expect("kernel runs")
    }
}

fn metering(c: &mut Criterion) {
    let mut group = c.benchmark_group("metering");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (name, wat, n) in KERNELS {
        let expected = Runner::new("unmetered", wat).run(*n);
        for variant in VARIANTS {
            let mut runner = Runner::new(variant, wat);
            assert_eq!(
                runner.run(*n),
                expected,
                "{name}/{variant} computes the same result"
            );
            group.bench_with_input(BenchmarkId::new(*name, variant), n, |b, n| {
                b.iter(|| black_box(runner.run(black_box(*n))))
            });
        }
    }
    group.finish();
}

fn call_overhead(c: &mut Criterion) {
    let vm: Vm<ScratchHost> = Vm::new(VmConfig::default()).expect("vm");
    let code = wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "call")))"#)
        .expect("parses");
    let module = vm.compile(&code).expect("compiles");
    let mut group = c.benchmark_group("call");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("empty-entry-point", |b| {
        b.iter(|| {
            let done = vm
                .execute(
                    &module,
                    "call",
                    Vec::new(),
                    1_000_000,
                    ScratchHost::default(),
                )
                .map_err(|(e, _)| e)
                .expect("runs");
            black_box(done.execution.gas_used)
        })
    });
    group.finish();
}

/// Mean time of one benchmark, read back from criterion's estimates.
fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = format!("{target}/criterion/{group}/{id}/new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn summary() {
    println!("\nMetering overhead (mean time / unmetered mean time, same run):");
    println!(
        "{:<10} {:>14} {:>10} {:>14}",
        "kernel", "unmetered", "tally", "wasmtime-fuel"
    );
    let mut logs = [0.0f64; 2];
    let mut count = 0;
    for (name, _, _) in KERNELS {
        let ids: Vec<_> = VARIANTS
            .iter()
            .map(|v| mean_ns("metering", &format!("{name}/{v}")))
            .collect();
        let (Some(base), Some(tally), Some(fuel)) = (ids[0], ids[1], ids[2]) else {
            continue;
        };
        println!(
            "{name:<10} {:>11.3} ms {:>9.3}x {:>13.3}x",
            base / 1e6,
            tally / base,
            fuel / base
        );
        logs[0] += (tally / base).ln();
        logs[1] += (fuel / base).ln();
        count += 1;
    }
    if count > 0 {
        let n = count as f64;
        println!(
            "{:<10} {:>14} {:>9.3}x {:>13.3}x",
            "geomean",
            "",
            (logs[0] / n).exp(),
            (logs[1] / n).exp()
        );
    }
    if let Some(call) = mean_ns("call", "empty-entry-point") {
        println!(
            "\nCall into a cached module (instantiate + empty entry point): {:.2} us",
            call / 1e3
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    metering(&mut criterion);
    call_overhead(&mut criterion);
    criterion.final_summary();
    summary();
}
