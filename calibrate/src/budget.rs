//! The gas-budget check: how much wall time a contract can buy per gas with the most
//! underpriced operation, against what ordinary programs get. Under a schedule, the row with the
//! highest nanoseconds per gas among those that are loop kernels runs its operation in a loop
//! until a gas budget is spent; so do the benchmark kernel contracts (compiled Rust: recursion,
//! a sieve, a matrix product, keccak in wasm and through the host). The ratio of times is what
//! an attacker gains over an average program.

use std::time::Instant;

use serde::Serialize;
use tally_vm::{Outcome, ScratchHost, TrapKind, Vm, VmConfig};

use crate::env::Scale;
use crate::error::Error;
use crate::param::Costs;
use crate::report::Line;
use crate::row::Row;
use crate::rows::probes::parse;

/// The kernel contracts with the selector and argument that make them run past any budget.
const KERNELS: [(&str, &[u8], [u8; 4], u64); 5] = [
    (
        "fib",
        include_bytes!("../../contracts/build/bench_fib.wasm"),
        [0xa4, 0x44, 0xf5, 0xe9],
        90,
    ),
    (
        "sieve",
        include_bytes!("../../contracts/build/bench_sieve.wasm"),
        [0xa4, 0x44, 0xf5, 0xe9],
        16_000_000,
    ),
    (
        "matmul",
        include_bytes!("../../contracts/build/bench_matmul.wasm"),
        [0xa4, 0x44, 0xf5, 0xe9],
        800,
    ),
    (
        "keccak (wasm)",
        include_bytes!("../../contracts/build/bench_keccak.wasm"),
        [0xa4, 0x44, 0xf5, 0xe9],
        1 << 40,
    ),
    (
        "keccak (host)",
        include_bytes!("../../contracts/build/bench_keccak.wasm"),
        [0xd7, 0xde, 0x7d, 0x90],
        1 << 40,
    ),
];

/// Nanoseconds per gas of one program spending a budget.
#[derive(Clone, Debug, Serialize)]
pub struct Spent {
    pub name: String,
    pub gas: u64,
    pub ns: f64,
    pub ns_per_gas: f64,
}

/// The check's result.
#[derive(Clone, Debug, Serialize)]
pub struct Budget {
    pub gas: u64,
    /// The worst operation in a loop.
    pub worst: Spent,
    /// The kernel contracts.
    pub kernels: Vec<Spent>,
    /// Mean nanoseconds per gas of the kernel contracts.
    pub average: f64,
    /// `worst / average`.
    pub ratio: f64,
    /// Mean nanoseconds per gas of the table's rows, and `worst / that`.
    pub table_mean: f64,
    pub table_ratio: f64,
}

/// Runs the check under `costs`, with the rows and lines of a calibration.
pub fn check(costs: &Costs, rows: &[Row], lines: &[Line], scale: Scale) -> Result<Budget, Error> {
    let vm: Vm<ScratchHost> = Vm::new(VmConfig {
        schedule: costs.vm.clone(),
        ..VmConfig::default()
    })?;
    let gas = scale.pick(200_000_000, 1_000_000_000);
    let (row, line) = rows
        .iter()
        .zip(lines)
        .filter(|(row, line)| line.ns_per_gas.is_some() && variant_kernel(row, line).is_some())
        .max_by(|a, b| {
            a.1.ns_per_gas
                .partial_cmp(&b.1.ns_per_gas)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .ok_or_else(|| Error::Usage("no loop-kernel row to run against a budget".into()))?;
    let build = variant_kernel(row, line).ok_or_else(|| Error::Usage("no kernel".into()))?;
    let sample = build(scale);
    let per_iteration = row.sizes.last().copied().unwrap_or(0) / u64::from(sample.iterations);
    let forever = build(scale).iterations(u32::MAX);
    let code = parse(&forever.wat(per_iteration as u32))?;
    let worst = spend(&vm, &line.name, &code, forever.input.clone(), gas)?;
    let mut kernels = Vec::new();
    for (name, code, selector, n) in KERNELS {
        let mut input = selector.to_vec();
        input.extend_from_slice(&[0; 24]);
        input.extend_from_slice(&n.to_be_bytes());
        kernels.push(spend(&vm, name, code, input, gas)?);
    }
    let average = kernels.iter().map(|k| k.ns_per_gas).sum::<f64>() / kernels.len() as f64;
    let priced: Vec<f64> = lines.iter().filter_map(|l| l.ns_per_gas).collect();
    let table_mean = priced.iter().sum::<f64>() / priced.len().max(1) as f64;
    Ok(Budget {
        gas,
        ratio: worst.ns_per_gas / average,
        table_ratio: worst.ns_per_gas / table_mean,
        worst,
        kernels,
        average,
        table_mean,
    })
}

/// The kernel builder of the variant that priced `line`'s row.
fn variant_kernel(row: &Row, line: &Line) -> Option<crate::row::KernelFn> {
    row.variants
        .iter()
        .find(|v| v.name == line.variant)
        .and_then(|v| v.kernel.clone())
}

/// Runs `code` until `gas` is spent (or it ends); the fastest of three runs.
fn spend(
    vm: &Vm<ScratchHost>,
    name: &str,
    code: &[u8],
    input: Vec<u8>,
    gas: u64,
) -> Result<Spent, Error> {
    let module = vm.compile(code)?;
    let mut best: Option<Spent> = None;
    for _ in 0..3 {
        let start = Instant::now();
        let executed = vm
            .execute(&module, "call", input.clone(), gas, ScratchHost::default())
            .map_err(|(e, _)| e)?;
        let ns = start.elapsed().as_secs_f64() * 1e9;
        let execution = executed.execution;
        let ended = matches!(
            &execution.outcome,
            Outcome::Trap {
                kind: TrapKind::OutOfGas
            } | Outcome::Success { .. }
        );
        if !ended {
            return Err(Error::workload(
                name,
                format!("ended with {:?}", execution.outcome),
            ));
        }
        let spent = Spent {
            name: name.to_string(),
            gas: execution.gas_used,
            ns,
            ns_per_gas: ns / execution.gas_used.max(1) as f64,
        };
        if best.as_ref().is_none_or(|b| spent.ns < b.ns) {
            best = Some(spent);
        }
    }
    best.ok_or_else(|| Error::workload(name, "no run"))
}
