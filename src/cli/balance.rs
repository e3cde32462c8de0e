//! `tally balance`: an account's balance at the head, in wei and in ether.

use std::process::ExitCode;

use alloy_primitives::{Address, U256};
use clap::Args;
use serde_json::json;

use super::client::ClientArgs;
use super::CliError;
use crate::eth::ether;

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// The account.
    pub address: Address,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: BalanceArgs) -> Result<ExitCode, CliError> {
    let wei: U256 = args
        .client
        .client()
        .request("eth_getBalance", (args.address, "latest"))?;
    if args.client.json {
        let balance = json!({
            "address": args.address.to_string(),
            "wei": wei.to_string(),
            "ether": ether(wei),
        });
        println!("{balance}");
    } else {
        println!("{wei} wei ({} ether)", ether(wei));
    }
    Ok(ExitCode::SUCCESS)
}
