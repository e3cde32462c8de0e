//! `tally logs`: the logs of a block range (`eth_getLogs`), filtered by emitter and topics, and
//! decoded when an event signature is given (`--event "Transfer(address indexed,address
//! indexed,uint256)"`: then only that event's logs are asked for).

use std::process::ExitCode;

use alloy_dyn_abi::DynSolValue;
use alloy_json_abi::Event;
use alloy_primitives::{Address, B256};
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, Log};
use clap::Args;
use serde_json::{Map, Value};

use super::client::report::{log_json, log_text};
use super::client::{abi, ClientArgs, ClientError};
use super::CliError;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only logs emitted by this contract (repeat for several).
    #[arg(long)]
    pub address: Vec<Address>,
    /// First block: a number, or `earliest`, `latest`.
    #[arg(long, default_value = "earliest")]
    pub from_block: String,
    /// Last block: a number, or `earliest`, `latest`.
    #[arg(long, default_value = "latest")]
    pub to_block: String,
    /// Decode with this event signature (indexed parameters marked), and only its logs.
    #[arg(long, value_name = "SIGNATURE")]
    pub event: Option<String>,
    /// Topics to match, in order (from topic 1 with --event, else from topic 0): 32 bytes or an
    /// address in hex, or `any`.
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topics: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: LogsArgs) -> Result<ExitCode, CliError> {
    let event = args.event.as_deref().map(abi::parse_event).transpose()?;
    let filter = filter(&args, event.as_ref())?;
    let logs: Vec<Log> = args.client.client().request("eth_getLogs", (filter,))?;
    let decoded: Vec<Option<Vec<(String, DynSolValue)>>> = logs
        .iter()
        .map(|log| event.as_ref().and_then(|e| abi::decode_log(e, log)))
        .collect();
    if args.client.json {
        let logs: Vec<Value> = logs
            .iter()
            .zip(&decoded)
            .map(|(log, fields)| with_event(log_json(log), event.as_ref(), fields.as_deref()))
            .collect();
        println!("{}", Value::Array(logs));
        return Ok(ExitCode::SUCCESS);
    }
    for (log, fields) in logs.iter().zip(&decoded) {
        let block = log.block_number.map(|n| n.to_string()).unwrap_or_default();
        let tx = log.transaction_hash.unwrap_or_default();
        println!("block {block}  transaction {tx}");
        let text = match (&event, fields) {
            (Some(e), Some(fields)) => Some(abi::format_event(&e.name, fields)),
            _ => None,
        };
        print!("{}", log_text(log, text.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

/// The `eth_getLogs` filter of the flags; the event's selector is topic 0.
fn filter(args: &LogsArgs, event: Option<&Event>) -> Result<Filter, ClientError> {
    let mut filter = Filter::new()
        .from_block(block("--from-block", &args.from_block)?)
        .to_block(block("--to-block", &args.to_block)?);
    if !args.address.is_empty() {
        filter = filter.address(args.address.clone());
    }
    let mut topics: Vec<Option<B256>> = event.iter().map(|e| Some(e.selector())).collect();
    for t in &args.topics {
        topics.push(topic(t)?);
    }
    if topics.len() > filter.topics.len() {
        return Err(ClientError::invalid(
            "--topic",
            "a log has at most 4 topics",
        ));
    }
    for (slot, t) in filter.topics.iter_mut().zip(topics) {
        if let Some(t) = t {
            *slot = t.into();
        }
    }
    Ok(filter)
}

/// A block number (decimal or hex) or tag.
fn block(flag: &str, s: &str) -> Result<BlockNumberOrTag, ClientError> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(BlockNumberOrTag::Number(n));
    }
    s.parse().map_err(|_| {
        ClientError::invalid(format!("{flag} `{s}`"), "expected a block number or tag")
    })
}

/// A topic: 32 bytes, or an address (left-padded, as indexed addresses are), or `any`.
fn topic(s: &str) -> Result<Option<B256>, ClientError> {
    if s == "any" {
        return Ok(None);
    }
    if let Ok(word) = s.parse::<B256>() {
        return Ok(Some(word));
    }
    match s.parse::<Address>() {
        Ok(address) => Ok(Some(address.into_word())),
        Err(_) => Err(ClientError::invalid(
            format!("--topic `{s}`"),
            "expected 32 bytes or an address in hex, or `any`",
        )),
    }
}

/// `log` (as JSON) with its decoded event: `"event": {"name", "args": {name: value}}` (an
/// argument without a name is keyed by its position), or `null` when it did not decode.
fn with_event(
    mut log: Value,
    event: Option<&Event>,
    fields: Option<&[(String, DynSolValue)]>,
) -> Value {
    let (Some(event), Value::Object(object)) = (event, &mut log) else {
        return log;
    };
    let decoded = fields.map(|fields| {
        let args: Map<String, Value> = fields
            .iter()
            .enumerate()
            .map(|(i, (name, value))| {
                let key = if name.is_empty() {
                    i.to_string()
                } else {
                    name.clone()
                };
                (key, abi::value_json(value))
            })
            .collect();
        serde_json::json!({ "name": event.name, "args": args })
    });
    object.insert("event".into(), decoded.unwrap_or(Value::Null));
    log
}
