//! Command-line interface: argument parsing and dispatch to one module per subcommand. The
//! commands that talk to a running node over JSON-RPC share [`client`].
//!
//! Exit status: 0 on success, [`EXIT_FAILED_EXECUTION`] when a contract reverted or failed, 1 on
//! any other error (with a message on stderr), 2 on a malformed command line.

mod balance;
mod call;
pub mod client;
mod deploy;
mod logs;
mod node;
mod receipt;
mod run;
mod send;
mod trace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use thiserror::Error;

pub use balance::BalanceArgs;
pub use call::CallArgs;
pub use deploy::DeployArgs;
pub use logs::LogsArgs;
pub use node::NodeArgs;
pub use receipt::ReceiptArgs;
pub use run::RunArgs;
pub use send::SendArgs;
pub use trace::TraceArgs;

/// Exit status of a command whose contract execution reverted or trapped.
pub const EXIT_FAILED_EXECUTION: u8 = 3;

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
    /// Deploy a contract to a node and wait for its receipt.
    Deploy(DeployArgs),
    /// Send a transaction calling a contract (or moving value) and wait for its receipt.
    Send(SendArgs),
    /// Call a contract without a transaction (eth_call) and decode what it returns.
    Call(CallArgs),
    /// Print a transaction's receipt.
    Receipt(ReceiptArgs),
    /// Print an account's balance.
    Balance(BalanceArgs),
    /// Print logs, decoded with an event signature if given.
    Logs(LogsArgs),
    /// Print a transaction's call tree.
    Trace(TraceArgs),
}

/// Errors the CLI reports before exiting with status 1 ([`EXIT_FAILED_EXECUTION`] for a revert).
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
    #[error(transparent)]
    Client(#[from] client::ClientError),
}

impl CliError {
    /// The exit status this error ends the process with.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Client(client::ClientError::Reverted { .. }) => EXIT_FAILED_EXECUTION,
            _ => 1,
        }
    }
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
        Command::Deploy(args) => deploy::run(args),
        Command::Send(args) => send::run(args),
        Command::Call(args) => call::run(args),
        Command::Receipt(args) => receipt::run(args),
        Command::Balance(args) => balance::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Trace(args) => trace::run(args),
    }
}
