//! `tally run`: the quickest way to measure a contract's gas.
//!
//! Exit status: 0 when the entry point succeeds, 3 when it reverts or traps, 1 when the module
//! is invalid or an argument is wrong (with a message on stderr).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use tally_vm::{Execution, GasSchedule, Outcome, ScratchHost, Vm, VmConfig};

use super::{CliError, EXIT_FAILED_EXECUTION};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Contract module: binary `.wasm` or text `.wat`.
    pub file: PathBuf,
    /// Calldata as hex (with or without 0x).
    #[arg(long, default_value = "")]
    pub input: String,
    /// Gas limit of the execution.
    #[arg(long, default_value_t = 10_000_000)]
    pub gas_limit: u64,
    /// Exported entry point to call.
    #[arg(long, default_value = "call")]
    pub entry: String,
    /// Gas schedule JSON file (default: the built-in schedule).
    #[arg(long)]
    pub schedule: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    let code = load_module(&args.file)?;
    let input = hex::decode(args.input.trim_start_matches("0x"))?;
    let schedule = match &args.schedule {
        Some(path) => GasSchedule::from_file(path)?,
        None => GasSchedule::default(),
    };
    let vm: Vm<ScratchHost> = Vm::new(VmConfig {
        schedule,
        ..VmConfig::default()
    })?;
    let module = vm.compile(&code)?;
    let executed = vm
        .execute(
            &module,
            &args.entry,
            input,
            args.gas_limit,
            ScratchHost::default(),
        )
        .map_err(|(e, _)| e)?;
    let report = Report {
        execution: &executed.execution,
        host: &executed.host,
        gas_limit: args.gas_limit,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    Ok(match executed.execution.outcome {
        Outcome::Success { .. } => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_FAILED_EXECUTION),
    })
}

/// Reads a `.wasm` file, or compiles a `.wat` file to binary.
fn load_module(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    wat::parse_bytes(&bytes)
        .map(|b| b.into_owned())
        .map_err(|e| CliError::Wat {
            path: path.display().to_string(),
            message: e.to_string(),
        })
}

struct Report<'a> {
    execution: &'a Execution,
    host: &'a ScratchHost,
    gas_limit: u64,
}

impl Report<'_> {
    fn json(&self) -> serde_json::Value {
        let outcome = &self.execution.outcome;
        let trap = match outcome {
            Outcome::Trap { kind } => json!({ "kind": kind.code(), "message": kind.to_string() }),
            _ => serde_json::Value::Null,
        };
        let storage: serde_json::Map<String, serde_json::Value> = self
            .host
            .storage
            .iter()
            .map(|(k, v)| (hex0x(k), json!(hex0x(v))))
            .collect();
        let logs: Vec<_> = self
            .host
            .logs
            .iter()
            .map(|l| json!({ "topics": l.topics.iter().map(|t| hex0x(t)).collect::<Vec<_>>(), "data": hex0x(&l.data) }))
            .collect();
        let b = &self.execution.breakdown;
        let host: serde_json::Map<String, serde_json::Value> = b
            .host
            .iter()
            .map(|(f, g)| {
                (
                    f.name().to_string(),
                    json!({ "calls": g.calls, "gas": g.gas }),
                )
            })
            .collect();
        json!({
            "status": outcome.status(),
            "gas_used": self.execution.gas_used,
            "gas_limit": self.gas_limit,
            "gas": {
                "instantiation": b.instantiation,
                "instructions": b.instructions,
                "host": host,
            },
            "return_data": hex0x(outcome.data()),
            "trap": trap,
            "logs": logs,
            "storage": storage,
        })
    }

    fn text(&self) -> String {
        let outcome = &self.execution.outcome;
        let mut out = String::new();
        let status = match outcome {
            Outcome::Trap { kind } => format!("trap: {kind}"),
            other => other.status().to_string(),
        };
        out.push_str(&format!("outcome:     {status}\n"));
        out.push_str(&format!(
            "gas used:    {} (limit {})\n",
            self.execution.gas_used, self.gas_limit
        ));
        let b = &self.execution.breakdown;
        out.push_str(&format!(
            "  {:<18} {:>12}\n",
            "instantiation", b.instantiation
        ));
        out.push_str(&format!(
            "  {:<18} {:>12}\n",
            "instructions", b.instructions
        ));
        for (f, g) in &b.host {
            let calls = if g.calls == 1 { "call" } else { "calls" };
            out.push_str(&format!(
                "  {:<18} {:>12}  ({} {calls})\n",
                f.name(),
                g.gas,
                g.calls
            ));
        }
        match outcome {
            Outcome::Success { return_data } => {
                out.push_str(&format!("return data: {}\n", hex0x(return_data)))
            }
            Outcome::Revert { data } => out.push_str(&format!("revert data: {}\n", hex0x(data))),
            Outcome::Trap { .. } => {}
        }
        for log in &self.host.logs {
            let topics: Vec<String> = log.topics.iter().map(|t| hex0x(t)).collect();
            out.push_str(&format!(
                "log:         topics [{}] data {}\n",
                topics.join(", "),
                hex0x(&log.data)
            ));
        }
        for (k, v) in &self.host.storage {
            out.push_str(&format!("storage:     {} = {}\n", hex0x(k), hex0x(v)));
        }
        out
    }
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
