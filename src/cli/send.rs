//! `tally send`: a transaction calling a contract with a Solidity signature and its arguments
//! (`tally send 0x.. "transfer(address,uint256)" 0x.. 100`), or raw calldata, or nothing (a
//! plain value transfer); waits for the receipt and prints status, gas used, logs and, on
//! failure, the revert reason.
//!
//! Exit status: 0 when the transaction succeeded, 3 when it reverted or failed (also when the
//! gas estimate already reverts: then nothing is sent), 1 on any other error.

use std::process::ExitCode;

use alloy_primitives::Address;
use clap::Args;

use super::client::tx::{send_and_wait, Intent, TxArgs};
use super::client::{abi, ClientArgs};
use super::CliError;

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The account or contract called.
    pub to: Address,
    /// The function, `"transfer(address,uint256)"`, or raw calldata in hex; none for a plain
    /// value transfer.
    pub signature: Option<String>,
    /// The function's arguments.
    #[arg(allow_negative_numbers = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub tx: TxArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: SendArgs) -> Result<ExitCode, CliError> {
    let data = match &args.signature {
        Some(signature) => abi::calldata(signature, &args.args)?.1,
        None => Vec::new(),
    };
    let intent = Intent {
        to: Some(args.to),
        data,
    };
    let client = args.client.client();
    let receipt = send_and_wait(&client, &args.tx, intent, args.client.timeout())?;
    receipt.print(args.client.json);
    Ok(receipt.exit_code())
}
