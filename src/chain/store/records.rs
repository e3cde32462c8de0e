//! The stored forms of blocks and receipts: [`Block`], [`StoredReceipt`] and their RLP records.

use alloy_rlp::{Bytes, Decodable, Encodable, RlpDecodable, RlpEncodable};
use tally_runtime::state::Log;
use tally_runtime::{H160, H256, U256};

use super::ChainStoreError;
use crate::chain::block::Header;

/// A block: its header and its transactions as signed envelopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub transactions: Vec<Vec<u8>>,
}

/// How a stored transaction ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptStatus {
    Success,
    Revert,
    /// Failed, with the reason (a trap, invalid code...).
    Failure(String),
}

/// A receipt as the chain stores and serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReceipt {
    pub transaction_hash: H256,
    pub from: H160,
    pub to: Option<H160>,
    pub status: ReceiptStatus,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub intrinsic_gas: u64,
    pub logs: Vec<Log>,
    pub output: Vec<u8>,
    pub contract_address: Option<H160>,
    pub effective_gas_price: U256,
    pub burned: U256,
    pub tip: U256,
}

#[derive(RlpEncodable, RlpDecodable)]
struct BlockRecord {
    header: Bytes,
    transactions: Vec<Bytes>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct LogRecord {
    address: [u8; 20],
    topics: Vec<[u8; 32]>,
    data: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct ReceiptRecord {
    transaction_hash: [u8; 32],
    from: [u8; 20],
    to: Bytes,
    status: u8,
    failure: Bytes,
    gas_used: u64,
    cumulative_gas_used: u64,
    intrinsic_gas: u64,
    logs: Vec<LogRecord>,
    output: Bytes,
    contract_address: Bytes,
    effective_gas_price: [u8; 32],
    burned: [u8; 32],
    tip: [u8; 32],
}

pub(super) fn encode_block(block: &Block) -> Vec<u8> {
    alloy_rlp::encode(BlockRecord {
        header: block.header.encode().into(),
        transactions: block
            .transactions
            .iter()
            .map(|t| Bytes::copy_from_slice(t))
            .collect(),
    })
}

pub(super) fn decode_block(bytes: &[u8]) -> Result<Block, ChainStoreError> {
    let corrupt = |e: alloy_rlp::Error| ChainStoreError::Corrupt(format!("block: {e}"));
    let record = BlockRecord::decode(&mut &bytes[..]).map_err(corrupt)?;
    Ok(Block {
        header: Header::decode(&record.header).map_err(corrupt)?,
        transactions: record.transactions.iter().map(|t| t.to_vec()).collect(),
    })
}

fn optional_address(a: Option<H160>) -> Bytes {
    a.map_or_else(Bytes::new, |a| Bytes::copy_from_slice(a.as_bytes()))
}

fn read_optional_address(b: &[u8]) -> Result<Option<H160>, ChainStoreError> {
    match b.len() {
        0 => Ok(None),
        20 => Ok(Some(H160::from_slice(b))),
        n => Err(ChainStoreError::Corrupt(format!("address of {n} bytes"))),
    }
}

pub(super) fn encode_receipts(receipts: &[StoredReceipt]) -> Vec<u8> {
    let records: Vec<ReceiptRecord> = receipts
        .iter()
        .map(|r| {
            let (status, failure) = match &r.status {
                ReceiptStatus::Success => (0, Bytes::new()),
                ReceiptStatus::Revert => (1, Bytes::new()),
                ReceiptStatus::Failure(reason) => (2, Bytes::copy_from_slice(reason.as_bytes())),
            };
            ReceiptRecord {
                transaction_hash: r.transaction_hash.0,
                from: r.from.0,
                to: optional_address(r.to),
                status,
                failure,
                gas_used: r.gas_used,
                cumulative_gas_used: r.cumulative_gas_used,
                intrinsic_gas: r.intrinsic_gas,
                logs: r
                    .logs
                    .iter()
                    .map(|l| LogRecord {
                        address: l.address.0,
                        topics: l.topics.iter().map(|t| t.0).collect(),
                        data: Bytes::copy_from_slice(&l.data),
                    })
                    .collect(),
                output: Bytes::copy_from_slice(&r.output),
                contract_address: optional_address(r.contract_address),
                effective_gas_price: r.effective_gas_price.to_big_endian(),
                burned: r.burned.to_big_endian(),
                tip: r.tip.to_big_endian(),
            }
        })
        .collect();
    let mut out = Vec::new();
    records.encode(&mut out);
    out
}

pub(super) fn decode_receipts(bytes: &[u8]) -> Result<Vec<StoredReceipt>, ChainStoreError> {
    let records = Vec::<ReceiptRecord>::decode(&mut &bytes[..])
        .map_err(|e| ChainStoreError::Corrupt(format!("receipts: {e}")))?;
    records
        .into_iter()
        .map(|r| {
            let status = match r.status {
                0 => ReceiptStatus::Success,
                1 => ReceiptStatus::Revert,
                2 => ReceiptStatus::Failure(String::from_utf8_lossy(&r.failure).into_owned()),
                n => return Err(ChainStoreError::Corrupt(format!("receipt status {n}"))),
            };
            Ok(StoredReceipt {
                transaction_hash: H256(r.transaction_hash),
                from: H160(r.from),
                to: read_optional_address(&r.to)?,
                status,
                gas_used: r.gas_used,
                cumulative_gas_used: r.cumulative_gas_used,
                intrinsic_gas: r.intrinsic_gas,
                logs: r
                    .logs
                    .into_iter()
                    .map(|l| Log {
                        address: H160(l.address),
                        topics: l.topics.into_iter().map(H256).collect(),
                        data: l.data.to_vec(),
                    })
                    .collect(),
                output: r.output.to_vec(),
                contract_address: read_optional_address(&r.contract_address)?,
                effective_gas_price: U256::from_big_endian(&r.effective_gas_price),
                burned: U256::from_big_endian(&r.burned),
                tip: U256::from_big_endian(&r.tip),
            })
        })
        .collect()
}
