//! `tally deploy`: creates a contract from a `.wasm` file, with constructor arguments given by
//! a signature (`--constructor "constructor(string,string,uint8)" "My Token" MTK 18`), waits
//! for the receipt and prints the contract's address, the transaction, block and gas used.
//!
//! Exit status: 0 when the contract was created, 3 when its constructor reverted or failed,
//! 1 on any other error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tally_runtime::tx::DeployPayload;

use super::client::tx::{send_and_wait, Intent, TxArgs};
use super::client::{abi, ClientArgs};
use super::CliError;

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The contract module (binary `.wasm`).
    pub file: PathBuf,
    /// Constructor arguments, read as the types of `--constructor` say.
    #[arg(allow_negative_numbers = true, requires = "constructor")]
    pub args: Vec<String>,
    /// The constructor's signature, `constructor(string,uint8)` or `(string,uint8)`.
    #[arg(long, value_name = "SIGNATURE")]
    pub constructor: Option<String>,
    #[command(flatten)]
    pub tx: TxArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: DeployArgs) -> Result<ExitCode, CliError> {
    let code = std::fs::read(&args.file).map_err(|source| CliError::Read {
        path: args.file.display().to_string(),
        source,
    })?;
    let input = match &args.constructor {
        Some(signature) => {
            let constructor = abi::parse_constructor(signature)?;
            abi::encode_constructor(signature, &constructor, &args.args)?
        }
        None => Vec::new(),
    };
    let intent = Intent {
        to: None,
        data: DeployPayload::encode(&code, &input),
    };
    let client = args.client.client();
    let receipt = send_and_wait(&client, &args.tx, intent, args.client.timeout())?;
    receipt.print(args.client.json);
    Ok(receipt.exit_code())
}
