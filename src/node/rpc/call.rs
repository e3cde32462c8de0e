//! Ethereum methods that execute: `eth_call` and `eth_estimateGas` (simulated on the head's
//! live state and rolled back) and the two ways to submit a transaction.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy_primitives::{Bytes, TxKind, B256};
use alloy_rpc_types_eth::{BlockId, TransactionRequest};
use jsonrpsee::types::Params;
use serde_json::Value;
use tally_runtime::exec::{BlockContext, ExecError, Receipt, Status};
use tally_runtime::tx::{BlockEnv, Transaction};
use tally_runtime::{H160, U256};

use super::eth::SUGGESTED_TIP;
use super::{block_number, internal, json, quantity, Method, NodeState, RpcError};
use crate::chain::sequencer::Chain;
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
/// filled (sender zero, nonce from the state, gas `default_gas`, value zero). Without fee
/// fields the fees are zero and the simulation runs at base fee zero, as geth's `eth_call`.
struct Simulated {
    sender: H160,
    tx: Transaction,
    priced: bool,
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
        priced: max_fee.is_some(),
    })
}

/// The block a simulation runs in: the next one, on the head's state.
fn next_block(chain: &Chain, priced: bool) -> BlockEnv {
    let head = chain.head();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    BlockEnv {
        number: head.number + 1,
        timestamp: now.max(head.timestamp + 1),
        chain_id: chain.chain_id(),
        gas_limit: head.gas_limit,
        base_fee: if priced {
            head.next_base_fee()
        } else {
            U256::zero()
        },
        producer: H160::zero(),
    }
}

fn simulate(chain: &mut Chain, sim: &Simulated) -> Result<Receipt, RpcError> {
    let mut block = BlockContext::new(next_block(chain, sim.priced));
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
    let mut chain = state.chain()?;
    let hash = mined_by(&mut chain, |c| c.submit_raw(&raw))?;
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
