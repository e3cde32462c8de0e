//! Sending a transaction and waiting for its receipt. With `--from` the node signs
//! (`eth_sendTransaction`: a development account, or one it impersonates); with
//! `--private-key` the transaction is completed here (chain id, pending nonce, gas estimate and
//! fees asked of the node unless given), signed and sent raw (`eth_sendRawTransaction`).

use std::thread::sleep;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, TxKind, B256, U256, U64};
use alloy_rpc_types_eth::{TransactionInput, TransactionRequest};
use clap::{ArgGroup, Args};
use k256::ecdsa::SigningKey;
use tally_runtime::tx::Transaction;

use super::report::Receipt;
use super::rpc::RpcClient;
use super::units::parse_amount;
use super::ClientError;
use crate::chain::tx::{address_of, SignedTransaction};
use crate::eth::{address, from_address, from_u256};

/// How often the receipt is asked for while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A method without parameters.
const NO_PARAMS: [(); 0] = [];

/// Who sends, and with what value, gas and fees.
#[derive(Debug, Args)]
#[command(group = ArgGroup::new("sender").required(true).args(["from", "private_key"]))]
pub struct TxArgs {
    /// Send from this account, signed by the node (a development account, or one the node
    /// impersonates).
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<Address>,
    /// Sign with this secp256k1 key (hex) here, and send the signed transaction.
    #[arg(long, value_name = "HEX")]
    pub private_key: Option<String>,
    /// Value to send: wei, or a number with a unit (`1ether`, `5gwei`).
    #[arg(long, default_value = "0")]
    pub value: String,
    /// Gas limit (default: the node's estimate).
    #[arg(long)]
    pub gas_limit: Option<u64>,
    /// Max fee per gas, in wei or with a unit (default: twice the next base fee plus the tip).
    #[arg(long)]
    pub gas_price: Option<String>,
    /// Max priority fee per gas, in wei or with a unit (default: eth_maxPriorityFeePerGas).
    #[arg(long)]
    pub priority_gas_price: Option<String>,
}

/// What a transaction does: call `to`, or create a contract (`None`), with `data`.
pub struct Intent {
    pub to: Option<Address>,
    pub data: Vec<u8>,
}

/// Sends the transaction `intent` describes and waits up to `timeout` for its receipt.
pub fn send_and_wait(
    client: &RpcClient,
    args: &TxArgs,
    intent: Intent,
    timeout: Duration,
) -> Result<Receipt, ClientError> {
    let hash = match (&args.private_key, args.from) {
        (Some(key), _) => send_signed(client, args, parse_key(key)?, intent)?,
        (None, Some(from)) => send_from_node(client, args, from, intent)?,
        (None, None) => {
            return Err(ClientError::invalid(
                "the sender",
                "give --from or --private-key",
            ))
        }
    };
    wait_for_receipt(client, hash, timeout)
}

/// A request with what the user gave (the node fills the rest).
fn request(
    from: Address,
    args: &TxArgs,
    intent: Intent,
) -> Result<TransactionRequest, ClientError> {
    let max_fee = args
        .gas_price
        .as_deref()
        .map(|f| fee("--gas-price", f))
        .transpose()?;
    let tip = args
        .priority_gas_price
        .as_deref()
        .map(|f| fee("--priority-gas-price", f))
        .transpose()?;
    Ok(TransactionRequest {
        from: Some(from),
        to: Some(intent.to.map_or(TxKind::Create, TxKind::Call)),
        value: Some(parse_amount("--value", &args.value)?),
        input: TransactionInput::new(Bytes::from(intent.data)),
        gas: args.gas_limit,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        ..TransactionRequest::default()
    })
}

/// A fee per gas, which JSON-RPC carries in 128 bits.
fn fee(flag: &str, s: &str) -> Result<u128, ClientError> {
    u128::try_from(parse_amount(flag, s)?)
        .map_err(|_| ClientError::invalid(format!("{flag} `{s}`"), "more than 2^128 wei per gas"))
}

fn send_from_node(
    client: &RpcClient,
    args: &TxArgs,
    from: Address,
    intent: Intent,
) -> Result<B256, ClientError> {
    let req = request(from, args, intent)?;
    client.request("eth_sendTransaction", (req,))
}

fn parse_key(hex_key: &str) -> Result<SigningKey, ClientError> {
    let invalid = |m: &str| ClientError::invalid("--private-key", m);
    let bytes = hex::decode(hex_key.trim().trim_start_matches("0x"))
        .map_err(|_| invalid("expected 32 bytes in hex"))?;
    if bytes.len() != 32 {
        return Err(invalid("expected 32 bytes in hex"));
    }
    SigningKey::from_slice(&bytes).map_err(|_| invalid("not a secp256k1 private key"))
}

fn send_signed(
    client: &RpcClient,
    args: &TxArgs,
    key: SigningKey,
    intent: Intent,
) -> Result<B256, ClientError> {
    let from = address(address_of(&key));
    let mut req = request(from, args, intent)?;
    let chain_id: U64 = client.request("eth_chainId", NO_PARAMS)?;
    let nonce: U64 = client.request("eth_getTransactionCount", (from, "pending"))?;
    let gas = match req.gas {
        Some(gas) => gas,
        None => client.request::<U64>("eth_estimateGas", (&req,))?.to(),
    };
    let (max_fee, tip) = fees(client, req.max_fee_per_gas, req.max_priority_fee_per_gas)?;
    let tx = Transaction {
        chain_id: chain_id.to(),
        nonce: nonce.to(),
        max_priority_fee_per_gas: from_u256(U256::from(tip)),
        max_fee_per_gas: from_u256(U256::from(max_fee)),
        gas_limit: gas,
        to: req.to.and_then(|to| to.to().copied()).map(from_address),
        value: from_u256(req.value.unwrap_or_default()),
        data: req.input.input.take().map(Vec::from).unwrap_or_default(),
    };
    let signed = SignedTransaction::sign(tx, &key);
    client.request("eth_sendRawTransaction", (Bytes::from(signed.encode()),))
}

/// The max fee and the tip: as given, or from the node's suggestions: the tip of
/// `eth_maxPriorityFeePerGas` (capped by a given max fee) and a max fee of twice the next base
/// fee (`eth_gasPrice` less the tip) plus the tip, which survives a few rising base fees.
fn fees(
    client: &RpcClient,
    max_fee: Option<u128>,
    tip: Option<u128>,
) -> Result<(u128, u128), ClientError> {
    let tip = match tip {
        Some(tip) => tip,
        None => {
            let suggested: U256 = client.request("eth_maxPriorityFeePerGas", NO_PARAMS)?;
            let suggested = u128::try_from(suggested).unwrap_or(u128::MAX);
            max_fee.map_or(suggested, |max| suggested.min(max))
        }
    };
    let max_fee = match max_fee {
        Some(max_fee) => max_fee,
        None => {
            let price: U256 = client.request("eth_gasPrice", NO_PARAMS)?;
            let base = u128::try_from(price)
                .unwrap_or(u128::MAX)
                .saturating_sub(tip);
            base.saturating_mul(2).saturating_add(tip)
        }
    };
    Ok((max_fee, tip))
}

/// Polls for the receipt of `hash` until it is mined or `timeout` has passed.
pub fn wait_for_receipt(
    client: &RpcClient,
    hash: B256,
    timeout: Duration,
) -> Result<Receipt, ClientError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(receipt) = client.request("eth_getTransactionReceipt", (hash,))? {
            return Ok(receipt);
        }
        if Instant::now() >= deadline {
            return Err(ClientError::ReceiptTimeout {
                hash,
                seconds: timeout.as_secs(),
            });
        }
        sleep(POLL_INTERVAL);
    }
}
