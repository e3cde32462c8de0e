//! `tally receipt`: a mined transaction's receipt (status, block, gas, output, revert reason,
//! logs). Exit status 0 whenever the receipt was found, whatever the transaction's outcome.

use std::process::ExitCode;

use alloy_primitives::B256;
use clap::Args;

use super::client::report::Receipt;
use super::client::{ClientArgs, ClientError};
use super::CliError;

#[derive(Debug, Args)]
pub struct ReceiptArgs {
    /// The transaction's hash.
    pub hash: B256,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: ReceiptArgs) -> Result<ExitCode, CliError> {
    let receipt: Option<Receipt> = args
        .client
        .client()
        .request("eth_getTransactionReceipt", (args.hash,))?;
    let receipt = receipt.ok_or(ClientError::NoReceipt(args.hash))?;
    receipt.print(args.client.json);
    Ok(ExitCode::SUCCESS)
}
