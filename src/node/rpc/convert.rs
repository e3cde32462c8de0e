//! Conversions from the chain's types to the Ethereum JSON-RPC types (`alloy-rpc-types-eth`),
//! whose serde encodings are the ones Ethereum clients expect (hex quantities, checksummed
//! addresses, camelCase fields).

use alloy_consensus::{
    Eip658Value, Receipt as ConsensusReceipt, ReceiptEnvelope, ReceiptWithBloom, Signed, TxEip1559,
    TxEnvelope, EMPTY_OMMER_ROOT_HASH,
};
use alloy_primitives::{Bloom as AlloyBloom, Bytes, LogData, Signature, TxKind};
use alloy_rpc_types_eth as rpc;
use tally_runtime::state::Log;
use tally_runtime::tx::Transaction;
use tally_runtime::{H256, U256};

use crate::chain::block::Header;
use crate::chain::store::{ReceiptStatus, StoredReceipt};
use crate::chain::tx::SignedTransaction;
use crate::eth::{address, b256, u256};

/// `v` as a `u128` (the JSON-RPC types' width for gas prices), saturating.
pub fn u128_saturating(v: U256) -> u128 {
    if v > U256::from(u128::MAX) {
        u128::MAX
    } else {
        v.as_u128()
    }
}

/// `v` as a `u64`, saturating.
pub fn u64_saturating(v: U256) -> u64 {
    if v > U256::from(u64::MAX) {
        u64::MAX
    } else {
        v.as_u64()
    }
}

/// The block header as Ethereum clients read it: a London header with the proof-of-stake
/// constants (no ommers, zero difficulty, nonce and mix hash).
pub fn header(h: &Header) -> rpc::Header {
    let inner = alloy_consensus::Header {
        parent_hash: b256(h.parent_hash),
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: address(h.producer),
        state_root: b256(h.state_root),
        transactions_root: b256(h.transactions_root),
        receipts_root: b256(h.receipts_root),
        logs_bloom: AlloyBloom::from(h.logs_bloom.0),
        difficulty: alloy_primitives::U256::ZERO,
        number: h.number,
        gas_limit: h.gas_limit,
        gas_used: h.gas_used,
        timestamp: h.timestamp,
        base_fee_per_gas: Some(u64_saturating(h.base_fee)),
        ..Default::default()
    };
    rpc::Header {
        hash: b256(h.hash()),
        inner,
        total_difficulty: Some(alloy_primitives::U256::ZERO),
        size: None,
    }
}

/// Where a transaction sits, if it is in a block.
#[derive(Clone, Copy, Debug)]
pub struct TxLocation {
    pub block_hash: H256,
    pub block_number: u64,
    pub index: u64,
    pub base_fee: U256,
}

/// A transaction as `eth_getTransactionByHash` returns it (block fields empty while pending).
pub fn transaction(tx: &SignedTransaction, at: Option<TxLocation>) -> rpc::Transaction {
    let t = tx.transaction();
    let envelope = TxEnvelope::Eip1559(Signed::new_unchecked(
        eip1559(t),
        Signature::new(u256(tx.r()), u256(tx.s()), tx.y_parity()),
        b256(tx.hash()),
    ));
    rpc::Transaction {
        inner: alloy_consensus::transaction::Recovered::new_unchecked(
            envelope,
            address(tx.sender()),
        ),
        block_hash: at.map(|l| b256(l.block_hash)),
        block_number: at.map(|l| l.block_number),
        transaction_index: at.map(|l| l.index),
        effective_gas_price: at.map(|l| u128_saturating(t.effective_gas_price(l.base_fee))),
    }
}

fn eip1559(t: &Transaction) -> TxEip1559 {
    TxEip1559 {
        chain_id: t.chain_id,
        nonce: t.nonce,
        gas_limit: t.gas_limit,
        max_fee_per_gas: u128_saturating(t.max_fee_per_gas),
        max_priority_fee_per_gas: u128_saturating(t.max_priority_fee_per_gas),
        to: t.to.map_or(TxKind::Create, |to| TxKind::Call(address(to))),
        value: u256(t.value),
        access_list: Default::default(),
        input: Bytes::copy_from_slice(&t.data),
    }
}

/// Where a log sits: its block, transaction and index within the block.
#[derive(Clone, Copy, Debug)]
pub struct LogLocation {
    pub block_hash: H256,
    pub block_number: u64,
    pub block_timestamp: u64,
    pub transaction_hash: H256,
    pub transaction_index: u64,
    pub log_index: u64,
}

pub fn log(l: &Log, at: LogLocation) -> rpc::Log {
    rpc::Log {
        inner: alloy_primitives::Log {
            address: address(l.address),
            data: LogData::new_unchecked(
                l.topics.iter().map(|t| b256(*t)).collect(),
                Bytes::copy_from_slice(&l.data),
            ),
        },
        block_hash: Some(b256(at.block_hash)),
        block_number: Some(at.block_number),
        block_timestamp: Some(at.block_timestamp),
        transaction_hash: Some(b256(at.transaction_hash)),
        transaction_index: Some(at.transaction_index),
        log_index: Some(at.log_index),
        removed: false,
    }
}

/// A receipt as `eth_getTransactionReceipt` returns it, with Tally's own fields beside the
/// standard ones: the return (or revert) data, the failure reason of a transaction that
/// trapped, and the intrinsic part of the gas used.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TallyReceipt {
    #[serde(flatten)]
    pub receipt: rpc::TransactionReceipt,
    pub output: Bytes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(serialize_with = "hex_quantity")]
    pub intrinsic_gas: u64,
}

/// `v` as a JSON-RPC hex quantity (`0x1a`).
fn hex_quantity<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#x}"))
}

/// `r`, the `index`-th receipt of the block with `header`; `first_log_index` is the number
/// of logs of the block's earlier receipts.
pub fn receipt(
    r: &StoredReceipt,
    header: &Header,
    index: u64,
    first_log_index: u64,
) -> TallyReceipt {
    let block_hash = header.hash();
    let at = |i: usize| LogLocation {
        block_hash,
        block_number: header.number,
        block_timestamp: header.timestamp,
        transaction_hash: r.transaction_hash,
        transaction_index: index,
        log_index: first_log_index + i as u64,
    };
    let logs: Vec<rpc::Log> = r
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| log(l, at(i)))
        .collect();
    let bloom = crate::chain::block::Bloom::of_logs(&r.logs);
    let success = r.status == ReceiptStatus::Success;
    let inner = ReceiptEnvelope::Eip1559(ReceiptWithBloom {
        receipt: ConsensusReceipt {
            status: Eip658Value::Eip658(success),
            cumulative_gas_used: r.cumulative_gas_used,
            logs,
        },
        logs_bloom: AlloyBloom::from(bloom.0),
    });
    TallyReceipt {
        receipt: rpc::TransactionReceipt {
            inner,
            transaction_hash: b256(r.transaction_hash),
            transaction_index: Some(index),
            block_hash: Some(b256(block_hash)),
            block_number: Some(header.number),
            gas_used: r.gas_used,
            effective_gas_price: u128_saturating(r.effective_gas_price),
            blob_gas_used: None,
            blob_gas_price: None,
            from: address(r.from),
            to: r.to.map(address),
            contract_address: r.contract_address.map(address),
        },
        output: Bytes::copy_from_slice(&r.output),
        failure: match &r.status {
            ReceiptStatus::Failure(reason) => Some(reason.clone()),
            _ => None,
        },
        intrinsic_gas: r.intrinsic_gas,
    }
}
