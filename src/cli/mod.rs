//! Command-line interface: argument parsing and dispatch to one module per subcommand.

mod node;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use thiserror::Error;

pub use node::NodeArgs;
pub use run::RunArgs;

/// Tally: a smart-contract virtual machine with exact, deterministic gas.
#[derive(Debug, Parser)]
#[command(name = "tally", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the chain and serve Ethereum JSON-RPC (like anvil), until Ctrl-C.
    Node(NodeArgs),
    /// Validate a contract and execute one entry point against scratch state; print the
    /// outcome, gas used and return data.
    Run(RunArgs),
    /// Print the default gas schedule as JSON.
    Schedule,
}

/// Errors the CLI reports before exiting with status 1.
#[derive(Debug, Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid WebAssembly text: {message}")]
    Wat { path: String, message: String },
    #[error("--input is not valid hex: {0}")]
    Hex(#[from] hex::FromHexError),
    #[error(transparent)]
    Vm(#[from] tally_vm::VmError),
    #[error(transparent)]
    Schedule(#[from] tally_vm::ScheduleError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Genesis(#[from] crate::chain::genesis::GenesisError),
    #[error(transparent)]
    Node(#[from] crate::node::NodeError),
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Node(args) => node::run(args),
        Command::Run(args) => run::run(args),
        Command::Schedule => {
            println!("{}", tally_vm::GasSchedule::default().to_json());
            Ok(ExitCode::SUCCESS)
        }
    }
}
