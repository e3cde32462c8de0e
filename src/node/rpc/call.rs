//! Ethereum methods that execute: `eth_call` and `eth_estimateGas` (simulated on the head's
//! live state, in the pending block, and rolled back) and the two ways to submit a
//! transaction.

use alloy_primitives::{Bytes, TxKind, B256};
use alloy_rpc_types_eth::{BlockId, TransactionRequest};
use jsonrpsee::types::Params;
use serde_json::Value;
use tally_runtime::exec::{BlockContext, ExecError, Receipt, Status};
use tally_runtime::tx::{BlockEnv, Transaction};
use tally_runtime::{H160, U256};

use super::eth::SUGGESTED_TIP;
use super::{block_number, internal, json, quantity, Method, NodeState, RpcError};
use crate::chain::sequencer::{Chain, SubmitError};
use crate::chain::tx::SignedTransaction;
use crate::eth::{b256, from_address, from_u256, revert_reason};
use crate::node::logging::mined_by;

pub const METHODS: &[(&str, Method)] = &[
    ("eth_call", call),
    ("eth_estimateGas", estimate_gas),
    ("eth_sendRawTransaction", send_raw_transaction),
    ("eth_sendTransaction", send_transaction),
];

/// A request's transaction: its sender and the runtime transaction, with the request's gaps
/// filled (sender zero, nonce from the state, gas `default_gas`, value zero, fees zero), and
/// the block it is simulated in: taken once per request, so an estimate's bisection runs every
/// step in the same block (see [`block_env`]).
struct Simulated {
    sender: H160,
    tx: Transaction,
    env: BlockEnv,
}

fn simulated(
    chain: &mut Chain,
    req: &TransactionRequest,
    default_gas: u64,
) -> Result<Simulated, RpcError> {
    let sender = req.from.map(from_address).unwrap_or_default();
    let nonce = match req.nonce {
        Some(n) => n,
        None => chain
            .runtime()
            .state_mut()
            .nonce(&sender)
            .map_err(internal)?,
    };
    let max_fee = req.max_fee_per_gas.or(req.gas_price);
    let tip = req.max_priority_fee_per_gas.or(req.gas_price);
    let tx = Transaction {
        chain_id: chain.chain_id(),
        nonce,
        max_priority_fee_per_gas: U256::from(tip.unwrap_or(0)),
        max_fee_per_gas: U256::from(max_fee.unwrap_or(0)),
        gas_limit: req.gas.unwrap_or(default_gas),
        to: match req.to {
            Some(TxKind::Call(to)) => Some(from_address(to)),
            _ => None,
        },
        value: req.value.map(from_u256).unwrap_or_default(),
        data: req.input.input().map(|b| b.to_vec()).unwrap_or_default(),
    };
    Ok(Simulated {
        sender,
        tx,
        env: block_env(chain, max_fee.is_some()),
    })
}

/// The block a simulation runs in: the chain's pending block (the open one, or the next one
/// with the number, timestamp, gas limit and producer the chain would give it: the clock's
/// time with its offset or the timestamp set for it). Without fee fields in the request
/// (`priced` false) its base fee is zero, as in geth's `eth_call`, so that unpriced calls
/// need no balance for fees. With no block open, the chain builds the next block's
/// environment for this (one read of the clock, nothing allocated).
fn block_env(chain: &Chain, priced: bool) -> BlockEnv {
    let mut env = chain.pending_block().env;
    if !priced {
        env.base_fee = U256::zero();
    }
    env
}

fn simulate(chain: &mut Chain, sim: &Simulated) -> Result<Receipt, RpcError> {
    let mut block = BlockContext::new(sim.env);
    match chain.runtime().simulate(&mut block, sim.sender, &sim.tx) {
        Ok(receipt) => Ok(receipt),
        Err(ExecError::Invalid(e)) => Err(RpcError::Failed(format!("invalid transaction: {e}"))),
        Err(e) => Err(internal(e)),
    }
}

/// The receipt's output if it succeeded; its revert or failure as an error otherwise.
fn outcome(receipt: Receipt) -> Result<Vec<u8>, RpcError> {
    match receipt.status {
        Status::Success => Ok(receipt.output),
        Status::Revert => Err(RpcError::Reverted {
            reason: revert_reason(&receipt.output),
            data: receipt.output,
        }),
        Status::Failure(f) => Err(RpcError::Failed(format!("{f:?}"))),
    }
}

/// `(request, block?)`; only the head's state can be executed on.
fn request_at_head(chain: &Chain, params: &Params) -> Result<TransactionRequest, RpcError> {
    let mut seq = params.sequence();
    let req: TransactionRequest = seq.next()?;
    let at: Option<BlockId> = seq.optional_next()?;
    if block_number(chain, at)? != chain.head().number {
        return Err(RpcError::invalid(
            "calls execute on the latest block only (historical state is readable with \
             eth_getBalance, eth_getStorageAt, eth_getCode and eth_getProof)",
        ));
    }
    Ok(req)
}

fn call(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut chain = state.chain()?;
    let req = request_at_head(&chain, &params)?;
    let gas_limit = chain.head().gas_limit;
    let sim = simulated(&mut chain, &req, gas_limit)?;
    let output = outcome(simulate(&mut chain, &sim)?)?;
    json(Bytes::from(output))
}

fn estimate_gas(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut chain = state.chain()?;
    let req = request_at_head(&chain, &params)?;
    Ok(quantity(estimate(&mut chain, &req)?))
}

/// The least gas limit with which the request succeeds: it runs once at the cap (the
/// request's gas or the block's), then bisects between the gas that run used and the cap
/// (more than the gas used can be needed: a call forwards at most 63/64 of what is left).
fn estimate(chain: &mut Chain, req: &TransactionRequest) -> Result<u64, RpcError> {
    let cap = req.gas.unwrap_or(u64::MAX).min(chain.head().gas_limit);
    let mut sim = simulated(chain, req, cap)?;
    let used = {
        let receipt = simulate(chain, &sim)?;
        let used = receipt.gas_used;
        outcome(receipt)?;
        used
    };
    let mut succeeds = |chain: &mut Chain, limit: u64| -> Result<bool, RpcError> {
        sim.tx.gas_limit = limit;
        match simulate(chain, &sim) {
            Ok(receipt) => Ok(receipt.status.is_success()),
            // Too little gas for the intrinsic cost is a failure at that limit, not an error.
            Err(RpcError::Failed(_)) => Ok(false),
            Err(e) => Err(e),
        }
    };
    if succeeds(chain, used)? {
        return Ok(used);
    }
    let (mut low, mut high) = (used, cap);
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if succeeds(chain, mid)? {
            high = mid;
        } else {
            low = mid;
        }
    }
    Ok(high)
}

fn send_raw_transaction(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let raw: Bytes = params.one()?;
    // Decoding recovers the sender, the costly part: done before taking the chain, so requests
    // recover their senders in parallel with each other and with block production.
    let decoded = SignedTransaction::decode(&raw).map_err(SubmitError::from);
    let mut chain = state.chain()?;
    let hash = mined_by(&mut chain, |c| decoded.and_then(|tx| c.submit(tx)))?;
    json(b256(hash))
}

/// Sends from a development account (signed with its key) or from an impersonated one,
/// filling what the request leaves out: the pending nonce, an estimated gas limit, a tip of
/// [`SUGGESTED_TIP`] and a fee cap of twice the next base fee plus the tip.
fn send_transaction(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let req: TransactionRequest = params.one()?;
    let from = req
        .from
        .map(from_address)
        .ok_or_else(|| RpcError::invalid("eth_sendTransaction needs `from`"))?;
    let key = state.keys.get(&from).cloned();
    let impersonated = state.impersonated()?.contains(&from);
    if key.is_none() && !impersonated {
        return Err(RpcError::Rejected(format!(
            "no key for {from:?}: send from a development account, sign the transaction \
             yourself (eth_sendRawTransaction), or impersonate it (anvil_impersonateAccount)"
        )));
    }
    let mut chain = state.chain()?;
    let nonce = match req.nonce {
        Some(n) => n,
        None => {
            let state_nonce = chain.runtime().state_mut().nonce(&from).map_err(internal)?;
            chain
                .pool()
                .pending_nonce(&from)
                .map_or(state_nonce, |p| p.max(state_nonce))
        }
    };
    let gas = match req.gas {
        Some(gas) => gas,
        None => estimate(
            &mut chain,
            &TransactionRequest {
                nonce: Some(nonce),
                ..req.clone()
            },
        )?,
    };
    let tip = req
        .max_priority_fee_per_gas
        .or(req.gas_price)
        .map_or(U256::from(SUGGESTED_TIP), U256::from);
    let max_fee = req.max_fee_per_gas.or(req.gas_price).map_or(
        chain
            .head()
            .next_base_fee()
            .saturating_mul(U256::from(2))
            .saturating_add(tip),
        U256::from,
    );
    let mut sim = simulated(&mut chain, &req, gas)?;
    sim.tx.nonce = nonce;
    sim.tx.max_priority_fee_per_gas = tip;
    sim.tx.max_fee_per_gas = max_fee;
    let hash = match key {
        Some(key) => {
            let signed = SignedTransaction::sign(sim.tx, &key);
            mined_by(&mut chain, |c| c.submit(signed))?
        }
        None => mined_by(&mut chain, |c| c.submit_impersonated(from, sim.tx))?,
    };
    json(B256::from(hash.0))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::chain::genesis::Genesis;
    use crate::chain::sequencer::{ChainConfig, Clock, MiningMode};
    use crate::chain::store::ChainStore;
    use crate::chain::tx::dev_accounts;

    /// Returns the block it runs in: timestamp and number (8 bytes each, little-endian), the
    /// producer (20 bytes) and the base fee (32 bytes).
    const BLOCK_ENV: &str = r#"(module
        (import "tally" "block_timestamp" (func $timestamp (result i64)))
        (import "tally" "block_number" (func $number (result i64)))
        (import "tally" "block_producer" (func $producer (param i32)))
        (import "tally" "base_fee" (func $base_fee (param i32)))
        (import "tally" "set_return" (func $set_return (param i32 i32)))
        (memory (export "memory") 1)
        (func (export "call")
            (i64.store (i32.const 0) (call $timestamp))
            (i64.store (i32.const 8) (call $number))
            (call $producer (i32.const 16))
            (call $base_fee (i32.const 36))
            (call $set_return (i32.const 0) (i32.const 68))))"#;

    fn env_of(output: &Value) -> (u64, u64, H160, U256) {
        let bytes = hex::decode(output.as_str().unwrap().trim_start_matches("0x")).unwrap();
        assert_eq!(bytes.len(), 68, "{output}");
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        (
            word(0),
            word(8),
            H160::from_slice(&bytes[16..36]),
            U256::from_big_endian(&bytes[36..68]),
        )
    }

    /// With a block open (transactions executed into it, not sealed), calls run in that block:
    /// its number and timestamp, not those of a block after it, and not the timestamp set for
    /// the next block since it was opened; the chain's producer; base fee zero unless the
    /// request names a fee.
    #[test]
    fn calls_run_in_the_open_block() {
        let producer = H160::repeat_byte(0xfe);
        let config = ChainConfig {
            mining: MiningMode::Manual,
            clock: Clock::Deterministic { step: 12 },
            producer,
            ..ChainConfig::default()
        };
        let mut chain = Chain::open(ChainStore::memory(), &Genesis::dev(), config).unwrap();
        let contract = H160::repeat_byte(0xc0);
        chain
            .set_code(contract, &wat::parse_str(BLOCK_ENV).unwrap())
            .unwrap();
        chain.mine().unwrap();
        let (key, from) = &dev_accounts()[0];
        let transfer = Transaction {
            chain_id: chain.chain_id(),
            nonce: 0,
            max_priority_fee_per_gas: U256::from(1_000_000_000u64),
            max_fee_per_gas: U256::from(10_000_000_000u64),
            gas_limit: 10_000_000,
            to: Some(H160::repeat_byte(0xb0)),
            value: U256::from(1u64),
            data: Vec::new(),
        };
        chain
            .execute(SignedTransaction::sign(transfer, key))
            .unwrap();
        let open = chain.pending_block();
        assert_eq!((chain.head().number, open.env.number), (1, 2));
        assert_eq!(open.transactions, 1);
        assert_eq!(open.env.timestamp, chain.head().timestamp + 12);
        chain.set_next_timestamp(open.env.timestamp + 1_000_000);

        let state = NodeState::new(Arc::new(Mutex::new(chain)), Vec::new(), 100);
        let request = |fields: Value| -> Value {
            let params = serde_json::to_string(&serde_json::json!([fields])).unwrap();
            call(&state, Params::new(Some(&params))).unwrap()
        };
        let to = format!("{contract:?}");
        let (timestamp, number, seen_producer, base_fee) =
            env_of(&request(serde_json::json!({"to": to})));
        assert_eq!((timestamp, number), (open.env.timestamp, 2));
        assert_eq!(seen_producer, producer);
        assert_eq!(
            base_fee,
            U256::zero(),
            "an unpriced call runs at base fee zero"
        );
        let priced = request(serde_json::json!({
            "from": format!("{from:?}"),
            "to": to,
            "gasPrice": "0x77359400",
            "gas": "0x989680",
        }));
        assert_eq!(env_of(&priced).3, open.env.base_fee);
        assert!(!open.env.base_fee.is_zero());

        // Once the open block is sealed, calls run in the next one, at the time set for it
        // while the block was open; a time set after sealing replaces it.
        state.chain().unwrap().seal().unwrap();
        let (timestamp, number, _, _) = env_of(&request(serde_json::json!({"to": to})));
        assert_eq!((timestamp, number), (open.env.timestamp + 1_000_000, 3));
        state
            .chain()
            .unwrap()
            .set_next_timestamp(open.env.timestamp + 2_000_000);
        let (timestamp, number, _, _) = env_of(&request(serde_json::json!({"to": to})));
        assert_eq!((timestamp, number), (open.env.timestamp + 2_000_000, 3));
    }
}
