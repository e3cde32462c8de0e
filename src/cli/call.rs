//! `tally call`: a read-only call (`eth_call`, nothing is sent). With return types in cast's
//! form, `"balanceOf(address)(uint256)"`, the result is decoded and printed one value per
//! line; otherwise the raw return data is printed in hex.
//!
//! Exit status: 0 when the call succeeded, 3 when it reverted (the reason on stderr), 1 on any
//! other error.

use std::process::ExitCode;

use alloy_primitives::{Address, Bytes};
use alloy_rpc_types_eth::{TransactionInput, TransactionRequest};
use clap::Args;
use serde_json::json;

use super::client::{abi, ClientArgs};
use super::CliError;

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The contract called.
    pub to: Address,
    /// The function, with return types to decode the result: `"balanceOf(address)(uint256)"`;
    /// or raw calldata in hex.
    pub signature: String,
    /// The function's arguments.
    #[arg(allow_negative_numbers = true)]
    pub args: Vec<String>,
    /// The caller the contract sees (default: the zero address).
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<Address>,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: CallArgs) -> Result<ExitCode, CliError> {
    let (function, data) = abi::calldata(&args.signature, &args.args)?;
    let request = TransactionRequest {
        from: args.from,
        to: Some(args.to.into()),
        input: TransactionInput::new(data.into()),
        ..TransactionRequest::default()
    };
    let output: Bytes = args
        .client
        .client()
        .request("eth_call", (request, "latest"))?;
    let values = match function.filter(|f| !f.outputs.is_empty()) {
        Some(f) => Some(abi::decode_output(&f, &output)?),
        None => None,
    };
    match (args.client.json, values) {
        (true, Some(values)) => {
            let values: Vec<_> = values.iter().map(abi::value_json).collect();
            println!("{}", json!({ "output": output, "values": values }));
        }
        (true, None) => println!("{}", json!({ "output": output })),
        (false, Some(values)) => {
            for value in &values {
                println!("{}", abi::format_value(value));
            }
        }
        (false, None) => println!("{output}"),
    }
    Ok(ExitCode::SUCCESS)
}
