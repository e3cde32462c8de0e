//! `tally-calibrate`: measures every row, prices the schedule, writes the evidence.
//!
//! ```text
//! cargo run --release -p tally-calibrate -- [--quick] [--out DIR] [--write-defaults]
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use tally_calibrate::budget::{self, Budget};
use tally_calibrate::composition::Derivation;
use tally_calibrate::env::{Env, Scale};
use tally_calibrate::error::Error;
use tally_calibrate::measure::{measure_row, MeasuredRow};
use tally_calibrate::param::Costs;
use tally_calibrate::progress::Progress;
use tally_calibrate::report::{self, Line, Summary};
use tally_calibrate::row::{Composition, Region, Row};
use tally_calibrate::rows::catalog;
use tally_calibrate::solve::{price, Pricing, NS_PER_GAS};
use tally_calibrate::{callgrind, chart};
use tally_vm::Allocation;

#[derive(Parser)]
#[command(about = "Calibrates Tally's gas schedule from measurements and writes the evidence")]
struct Args {
    /// A smaller, faster run (fewer repeats, smaller sizes and state): a check, not a calibration.
    #[arg(long)]
    quick: bool,
    /// Where to write the table, the chart and the schedule.
    #[arg(long, default_value = "target/calibration")]
    out: PathBuf,
    /// Only the rows whose name contains this (measured and printed; nothing is priced).
    #[arg(long)]
    only: Option<String>,
    /// Skip the instruction counts even if valgrind is installed.
    #[arg(long)]
    no_instructions: bool,
    /// Also write the new schedule as the built-in defaults of the VM and the runtime.
    #[arg(long)]
    write_defaults: bool,
    /// Internal: run as the callgrind child for these `row:variant` pairs.
    #[arg(long, hide = true)]
    callgrind_child: Option<String>,
}

fn main() {
    let args = Args::parse();
    let result = match &args.callgrind_child {
        Some(spec) => child(spec),
        None => run(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Everything written to `table.json`.
#[derive(Serialize)]
struct Evidence<'a> {
    ns_per_gas: f64,
    quick: bool,
    seconds: f64,
    summary: Option<&'a Summary>,
    budget: &'a Budget,
    lines: &'a [Line],
    rows: &'a [MeasuredRow],
}

fn run(args: &Args) -> Result<(), Error> {
    let start = Instant::now();
    let scale = Scale::new(args.quick);
    let rows: Vec<Row> = catalog(scale)
        .into_iter()
        .filter(|r| {
            args.only
                .as_ref()
                .is_none_or(|only| r.name.contains(only.as_str()))
        })
        .collect();
    let old = Costs::default();

    let progress = Progress::new(rows.len(), false);
    progress.phase("deriving what each workload is charged");
    let compositions = derive(&rows)?;

    progress.phase("measuring");
    let mut progress = Progress::new(rows.len(), false);
    let env = Env::new(old.clone(), scale, Allocation::Pooling, true);
    let mut measured = Vec::new();
    for (index, (row, compositions)) in rows.iter().zip(&compositions).enumerate() {
        progress.row(index, &row.name);
        let result = measure_row(row, compositions, &env, &mut progress)?;
        for v in &result.variants {
            progress.result(&format!(
                "{}: {:.2} ns per unit (r² {:.3}), {} gas per unit now",
                v.name, v.time.per_unit, v.time.r2, v.gas_per_unit
            ));
        }
        measured.push(result);
    }
    drop(env);
    if args.only.is_some() {
        return Ok(());
    }

    let (new, pricings) = price(&measured, &old)?;
    if !args.no_instructions && callgrind::available() {
        progress.phase("counting instructions under callgrind (minutes)");
        instructions(&mut measured, &pricings)?;
    }
    progress.phase("running the worst operation and the kernels against a gas budget");
    let lines = report::lines(&measured, &pricings, &old, &new);
    let summary = report::summary(&lines);
    let budget = budget::check(&new, &rows, &lines, scale)?;

    let evidence = Evidence {
        ns_per_gas: NS_PER_GAS,
        quick: args.quick,
        seconds: start.elapsed().as_secs_f64(),
        summary: summary.as_ref(),
        budget: &budget,
        lines: &lines,
        rows: &measured,
    };
    write_outputs(&args.out, &evidence, &new)?;
    if args.write_defaults {
        write_defaults(&new)?;
    }
    println!("{}", report::markdown(&lines, summary.as_ref()));
    println!("{}", budget_text(&budget));
    println!(
        "calibration took {:.0} s; written to {}",
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// The composition of every variant of `rows`, derived at the quick scale (a unit is the same at
/// every scale; only sizes and iteration counts differ).
fn derive(rows: &[Row]) -> Result<Vec<Vec<Composition>>, Error> {
    let quick = catalog(Scale::new(true));
    let mut derivation = Derivation::new(true, Allocation::Pooling);
    rows.iter()
        .map(|row| {
            let small = quick
                .iter()
                .find(|r| r.name == row.name && r.variants.len() == row.variants.len())
                .ok_or_else(|| Error::Usage(format!("{} has no quick form", row.name)))?;
            let sizes = [small.sizes[0], small.sizes[1]];
            small
                .variants
                .iter()
                .map(|v| derivation.derive(&row.name, v, sizes))
                .collect()
        })
        .collect()
}

/// Attaches instruction counts to the variants that priced their rows.
fn instructions(measured: &mut [MeasuredRow], pricings: &[Pricing]) -> Result<(), Error> {
    let pairs: Vec<(usize, usize)> = pricings
        .iter()
        .enumerate()
        .map(|(r, p)| (r, p.variant))
        .collect();
    let counts = callgrind::count(&pairs)?;
    for ((row, variant), line) in pairs.into_iter().zip(counts) {
        measured[row].variants[variant].instructions = line;
    }
    Ok(())
}

/// The callgrind child: runs each `row:variant` once per size, on demand allocation.
fn child(spec: &str) -> Result<(), Error> {
    let pairs = callgrind::parse_spec(spec)?;
    let scale = Scale::new(true);
    let rows = catalog(scale);
    let env = Env::new(Costs::default(), scale, Allocation::OnDemand, false);
    for (r, v) in pairs {
        let row = rows
            .get(r)
            .ok_or_else(|| Error::Usage(format!("no row {r}")))?;
        let variant = row
            .variants
            .get(v)
            .ok_or_else(|| Error::Usage(format!("no variant {v} of {}", row.name)))?;
        let mut probe = (variant.make)(&env)?;
        for size in &row.sizes {
            let run = probe.run(*size, &mut Region::default())?;
            let line = callgrind::ChildRun {
                row: r,
                variant: v,
                units: run.units,
            };
            println!("{}", line.line());
        }
    }
    Ok(())
}

fn write(path: &Path, contents: &str) -> Result<(), Error> {
    std::fs::write(path, contents).map_err(|e| Error::io(path, e))
}

fn write_outputs(out: &Path, evidence: &Evidence, new: &Costs) -> Result<(), Error> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let json = serde_json::to_string_pretty(evidence).map_err(|e| Error::Usage(e.to_string()))?;
    write(&out.join("table.json"), &json)?;
    let mut md = report::markdown(evidence.lines, evidence.summary);
    md += &format!("\n{}\n", budget_text(evidence.budget));
    write(&out.join("table.md"), &md)?;
    write(
        &out.join("schedule.json"),
        &format!("{}\n", new.vm.to_json()),
    )?;
    write(
        &out.join("runtime-costs.json"),
        &format!("{}\n", new.runtime.to_json()),
    )?;
    if let Some(summary) = evidence.summary {
        chart::write(&out.join("ns-per-gas.svg"), evidence.lines, summary)?;
    }
    Ok(())
}

/// Writes `new` over the built-in defaults in the source tree.
fn write_defaults(new: &Costs) -> Result<(), Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    write(
        &root.join("vm/src/gas/default.json"),
        &format!("{}\n", new.vm.to_json()),
    )?;
    write(
        &root.join("runtime/src/costs.json"),
        &format!("{}\n", new.runtime.to_json()),
    )
}

fn budget_text(b: &Budget) -> String {
    let mut out = format!(
        "Gas budget of {} gas: the worst operation ({}) takes {:.3} ns per gas; the kernel \
         contracts take {:.3} on average ({:.2}x less); the table's rows {:.3} ({:.2}x less).\n",
        b.gas, b.worst.name, b.worst.ns_per_gas, b.average, b.ratio, b.table_mean, b.table_ratio
    );
    for k in &b.kernels {
        out += &format!("- {}: {:.3} ns per gas\n", k.name, k.ns_per_gas);
    }
    out
}
