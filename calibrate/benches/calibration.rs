//! The calibration rows under criterion: every variant of every row run at its middle size
//! (quick scale), its measured region timed, reported per unit of work (criterion's throughput
//! is units per second). The fitted table, the schedule and the chart come from the command:
//! `cargo run --release -p tally-calibrate`.
//!
//! `cargo bench -p tally-calibrate` runs them all; `cargo bench -p tally-calibrate -- load`
//! only the rows whose name contains `load`.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use tally_calibrate::env::{Env, Scale};
use tally_calibrate::param::Costs;
use tally_calibrate::row::Region;
use tally_calibrate::rows::catalog;
use tally_vm::Allocation;

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let scale = Scale::new(true);
    let env = Env::new(Costs::default(), scale, Allocation::Pooling, false);
    for row in catalog(scale) {
        let size = row.sizes[row.sizes.len() / 2];
        let mut group = criterion.benchmark_group(row.name.as_str());
        for variant in &row.variants {
            let mut probe = (variant.make)(&env).expect("the workload builds");
            let units = probe
                .run(size, &mut Region::default())
                .expect("the workload runs")
                .units;
            group.throughput(Throughput::Elements(units.max(1)));
            group.bench_function(variant.name.as_str(), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut region = Region::default();
                        probe.run(size, &mut region).expect("the workload runs");
                        total += Duration::from_secs_f64(region.ns().unwrap_or(0.0) / 1e9);
                    }
                    total
                })
            });
        }
        group.finish();
    }
    criterion.final_summary();
}
