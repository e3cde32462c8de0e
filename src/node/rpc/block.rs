//! Ethereum methods that read blocks, transactions, receipts, logs and fee history from the
//! block store.

use alloy_primitives::B256;
use alloy_rpc_types_eth as rpc;
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, FilterBlockOption};
use jsonrpsee::types::Params;
use serde_json::Value;
use tally_runtime::U256;

use super::convert::{self, u128_saturating, TxLocation};
use super::{internal, json, number_of_tag, Method, NodeState, RpcError};
use crate::chain::sequencer::Chain;
use crate::chain::store::Block;
use crate::chain::tx::SignedTransaction;
use crate::eth::{b256, from_b256};

pub const METHODS: &[(&str, Method)] = &[
    ("eth_getBlockByNumber", block_by_number),
    ("eth_getBlockByHash", block_by_hash),
    ("eth_getTransactionByHash", transaction_by_hash),
    ("eth_getTransactionReceipt", transaction_receipt),
    ("eth_getLogs", logs),
    ("eth_feeHistory", fee_history),
];

/// Most blocks `eth_feeHistory` reports at once (geth's limit).
const MAX_FEE_HISTORY: u64 = 1024;

fn block_by_number(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let tag: BlockNumberOrTag = seq.next()?;
    let full: bool = seq.optional_next()?.unwrap_or(false);
    let chain = state.chain()?;
    match number_of_tag(&chain, tag) {
        Ok(n) => json(rpc_block(&chain, n, full)?),
        // Ethereum answers null for a block that does not exist yet.
        Err(RpcError::NotFound(_)) => Ok(Value::Null),
        Err(e) => Err(e),
    }
}

fn block_by_hash(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let hash: B256 = seq.next()?;
    let full: bool = seq.optional_next()?.unwrap_or(false);
    let chain = state.chain()?;
    match chain
        .store()
        .block_number(&from_b256(hash))
        .map_err(internal)?
    {
        Some(n) => json(rpc_block(&chain, n, full)?),
        None => Ok(Value::Null),
    }
}

/// Block `n` with its transactions as hashes or in full.
fn rpc_block(chain: &Chain, n: u64, full: bool) -> Result<Option<rpc::Block>, RpcError> {
    let Some(block) = chain.store().block(n).map_err(internal)? else {
        return Ok(None);
    };
    let transactions = if full {
        let txs = transactions(chain, n)?;
        let located = txs
            .iter()
            .enumerate()
            .map(|(i, tx)| convert::transaction(tx, Some(location(&block, i as u64))));
        rpc::BlockTransactions::Full(located.collect())
    } else {
        let receipts = chain.store().receipts(n).map_err(internal)?;
        rpc::BlockTransactions::Hashes(receipts.iter().map(|r| b256(r.transaction_hash)).collect())
    };
    Ok(Some(rpc::Block {
        header: convert::header(&block.header),
        uncles: Vec::new(),
        transactions,
        withdrawals: None,
    }))
}

fn location(block: &Block, index: u64) -> TxLocation {
    TxLocation {
        block_hash: block.header.hash(),
        block_number: block.header.number,
        index,
        base_fee: block.header.base_fee,
    }
}

/// Block `n`'s transactions with their senders (from the stored receipts: impersonated
/// transactions carry no recoverable signature).
fn transactions(chain: &Chain, n: u64) -> Result<Vec<SignedTransaction>, RpcError> {
    chain
        .store()
        .block_transactions(n)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("block {n} is missing")))
}

fn transaction_by_hash(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let hash: B256 = params.one()?;
    let hash = from_b256(hash);
    let chain = state.chain()?;
    if let Some(pooled) = chain.pool().get(&hash) {
        return json(convert::transaction(&pooled.payload, None));
    }
    let Some((n, index)) = chain
        .store()
        .transaction_location(&hash)
        .map_err(internal)?
    else {
        return Ok(Value::Null);
    };
    let block = chain
        .store()
        .block(n)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("block {n} of an indexed transaction is missing")))?;
    let tx = transactions(&chain, n)?
        .into_iter()
        .nth(index as usize)
        .ok_or_else(|| internal(format!("transaction {index} of block {n} is missing")))?;
    json(convert::transaction(
        &tx,
        Some(location(&block, index.into())),
    ))
}

fn transaction_receipt(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let hash: B256 = params.one()?;
    let chain = state.chain()?;
    let Some((n, index)) = chain
        .store()
        .transaction_location(&from_b256(hash))
        .map_err(internal)?
    else {
        return Ok(Value::Null);
    };
    let header = chain
        .store()
        .block(n)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("block {n} of an indexed transaction is missing")))?
        .header;
    let receipts = chain.store().receipts(n).map_err(internal)?;
    let index = index as usize;
    let receipt = receipts
        .get(index)
        .ok_or_else(|| internal(format!("receipt {index} of block {n} is missing")))?;
    let first_log = receipts[..index].iter().map(|r| r.logs.len() as u64).sum();
    json(convert::receipt(receipt, &header, index as u64, first_log))
}

/// The block range a filter covers, clamped to the head.
fn filter_range(chain: &Chain, filter: &Filter) -> Result<(u64, u64), RpcError> {
    match filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let n = chain
                .store()
                .block_number(&from_b256(hash))
                .map_err(internal)?
                .ok_or_else(|| RpcError::NotFound(format!("no block with hash {hash}")))?;
            Ok((n, n))
        }
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => {
            let head = chain.head().number;
            let resolve = |tag: Option<BlockNumberOrTag>| match tag {
                Some(BlockNumberOrTag::Number(n)) => n.min(head),
                Some(BlockNumberOrTag::Earliest) => 0,
                _ => head,
            };
            Ok((resolve(from_block), resolve(to_block)))
        }
    }
}

fn logs(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let filter: Filter = params.one()?;
    let chain = state.chain()?;
    let (from, to) = filter_range(&chain, &filter)?;
    if from > to {
        return Err(RpcError::invalid(format!(
            "fromBlock ({from}) is after toBlock ({to})"
        )));
    }
    if to - from >= state.max_log_range {
        return Err(RpcError::LimitExceeded(format!(
            "a log query covers at most {} blocks; this one covers {}",
            state.max_log_range,
            to - from + 1
        )));
    }
    let mut found = Vec::new();
    for n in from..=to {
        let Some(block) = chain.store().block(n).map_err(internal)? else {
            continue;
        };
        if !filter.matches_bloom(alloy_primitives::Bloom::from(block.header.logs_bloom.0)) {
            continue;
        }
        let receipts = chain.store().receipts(n).map_err(internal)?;
        let block_hash = block.header.hash();
        let mut log_index = 0u64;
        for (i, r) in receipts.iter().enumerate() {
            for l in &r.logs {
                let at = convert::LogLocation {
                    block_hash,
                    block_number: n,
                    block_timestamp: block.header.timestamp,
                    transaction_hash: r.transaction_hash,
                    transaction_index: i as u64,
                    log_index,
                };
                log_index += 1;
                let log = convert::log(l, at);
                if filter.matches(&log.inner) {
                    found.push(log);
                }
            }
        }
    }
    json(found)
}

/// A block count given as a hex quantity or a JSON number.
fn count(value: Value) -> Result<u64, RpcError> {
    match &value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s
            .strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok()),
        _ => None,
    }
    .ok_or_else(|| RpcError::invalid(format!("blockCount must be a quantity, got {value}")))
}

fn fee_history(state: &NodeState, params: Params) -> Result<Value, RpcError> {
    let mut seq = params.sequence();
    let block_count = count(seq.next()?)?.min(MAX_FEE_HISTORY);
    let newest: BlockNumberOrTag = seq.next()?;
    let percentiles: Option<Vec<f64>> = seq.optional_next()?;
    if let Some(p) = &percentiles {
        let in_range = p.iter().all(|x| (0.0..=100.0).contains(x));
        if !in_range || p.windows(2).any(|w| w[0] > w[1]) {
            return Err(RpcError::invalid(
                "reward percentiles must be ascending values between 0 and 100",
            ));
        }
    }
    let chain = state.chain()?;
    let newest = number_of_tag(&chain, newest)?;
    let oldest = (newest + 1).saturating_sub(block_count.max(1));
    let mut base_fees = Vec::new();
    let mut ratios = Vec::new();
    let mut rewards = Vec::new();
    for n in oldest..=newest {
        let block = chain
            .store()
            .block(n)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {n} is missing")))?;
        let h = &block.header;
        base_fees.push(u128_saturating(h.base_fee));
        // Reported for display only; nothing consensus-related reads it.
        ratios.push(h.gas_used as f64 / h.gas_limit.max(1) as f64);
        if let Some(p) = &percentiles {
            let receipts = chain.store().receipts(n).map_err(internal)?;
            let mut tips: Vec<(U256, u64)> = receipts
                .iter()
                .map(|r| (r.effective_gas_price.saturating_sub(h.base_fee), r.gas_used))
                .collect();
            tips.sort();
            rewards.push(block_rewards(&tips, h.gas_used, p));
        }
    }
    if block_count > 0 {
        let last = chain
            .store()
            .block(newest)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {newest} is missing")))?;
        base_fees.push(u128_saturating(last.header.next_base_fee()));
    } else {
        base_fees.clear();
        ratios.clear();
        rewards.clear();
    }
    json(rpc::FeeHistory {
        base_fee_per_gas: base_fees,
        gas_used_ratio: ratios,
        base_fee_per_blob_gas: Vec::new(),
        blob_gas_used_ratio: Vec::new(),
        oldest_block: oldest,
        reward: percentiles.map(|_| rewards),
    })
}

/// The tip at each percentile of a block's gas: `tips` holds each transaction's tip and gas
/// used, sorted by tip; the tip at percentile p is the first whose cumulative gas reaches p%
/// of the block's gas used (zero for an empty block), as geth computes it.
fn block_rewards(tips: &[(U256, u64)], gas_used: u64, percentiles: &[f64]) -> Vec<u128> {
    if tips.is_empty() {
        return vec![0; percentiles.len()];
    }
    percentiles
        .iter()
        .map(|p| {
            // Percentiles are checked to lie in 0..=100, so the product fits in u64.
            let threshold = (gas_used as f64 * p / 100.0) as u64;
            let mut cumulative = 0u64;
            for (tip, gas) in tips {
                cumulative += gas;
                if cumulative >= threshold {
                    return u128_saturating(*tip);
                }
            }
            u128_saturating(tips[tips.len() - 1].0)
        })
        .collect()
}
