//! The stored forms of blocks and receipts: [`Block`], [`StoredReceipt`] and their RLP records.

use alloy_rlp::{Bytes, Decodable, RlpDecodable, RlpEncodable};
use tally_runtime::state::Log;
use tally_runtime::{H160, H256, U256};

use super::ChainStoreError;
use crate::chain::block::{Header, LogRlp};

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

/// The stored form of a block, as decoded. [`BlockRecordRef`] encodes it.
#[derive(RlpDecodable)]
#[cfg_attr(test, derive(RlpEncodable))]
struct BlockRecord {
    header: Bytes,
    transactions: Vec<Bytes>,
}

/// A stored log, as decoded: Ethereum's log encoding ([`LogRlp`] encodes it).
#[derive(RlpDecodable)]
#[cfg_attr(test, derive(RlpEncodable))]
struct LogRecord {
    address: [u8; 20],
    topics: Vec<[u8; 32]>,
    data: Bytes,
}

/// The stored form of a receipt, as decoded. [`ReceiptRecordRef`] encodes it.
#[derive(RlpDecodable)]
#[cfg_attr(test, derive(RlpEncodable))]
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

/// [`BlockRecord`]'s encoding, borrowing the block's fields instead of copying them.
#[derive(RlpEncodable)]
struct BlockRecordRef<'a> {
    header: &'a [u8],
    transactions: Vec<&'a [u8]>,
}

/// [`ReceiptRecord`]'s encoding, borrowing the receipt's fields instead of copying them.
#[derive(RlpEncodable)]
struct ReceiptRecordRef<'a> {
    transaction_hash: &'a [u8],
    from: &'a [u8],
    to: &'a [u8],
    status: u8,
    failure: &'a [u8],
    gas_used: u64,
    cumulative_gas_used: u64,
    intrinsic_gas: u64,
    logs: Vec<LogRlp<'a>>,
    output: &'a [u8],
    contract_address: &'a [u8],
    effective_gas_price: [u8; 32],
    burned: [u8; 32],
    tip: [u8; 32],
}

pub(super) fn encode_block(block: &Block) -> Vec<u8> {
    let header = block.header.encode();
    alloy_rlp::encode(BlockRecordRef {
        header: &header,
        transactions: block.transactions.iter().map(Vec::as_slice).collect(),
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

/// An optional address as stored: its 20 bytes, or none.
fn optional_address(a: &Option<H160>) -> &[u8] {
    a.as_ref().map_or(&[], |a| a.as_bytes())
}

fn read_optional_address(b: &[u8]) -> Result<Option<H160>, ChainStoreError> {
    match b.len() {
        0 => Ok(None),
        20 => Ok(Some(H160::from_slice(b))),
        n => Err(ChainStoreError::Corrupt(format!("address of {n} bytes"))),
    }
}

pub(super) fn encode_receipts(receipts: &[StoredReceipt]) -> Vec<u8> {
    let records: Vec<ReceiptRecordRef<'_>> = receipts
        .iter()
        .map(|r| {
            let (status, failure) = match &r.status {
                ReceiptStatus::Success => (0, &[][..]),
                ReceiptStatus::Revert => (1, &[][..]),
                ReceiptStatus::Failure(reason) => (2, reason.as_bytes()),
            };
            ReceiptRecordRef {
                transaction_hash: r.transaction_hash.as_bytes(),
                from: r.from.as_bytes(),
                to: optional_address(&r.to),
                status,
                failure,
                gas_used: r.gas_used,
                cumulative_gas_used: r.cumulative_gas_used,
                intrinsic_gas: r.intrinsic_gas,
                logs: r.logs.iter().map(LogRlp).collect(),
                output: &r.output,
                contract_address: optional_address(&r.contract_address),
                effective_gas_price: r.effective_gas_price.to_big_endian(),
                burned: r.burned.to_big_endian(),
                tip: r.tip.to_big_endian(),
            }
        })
        .collect();
    let mut out = Vec::with_capacity(alloy_rlp::list_length(&records));
    alloy_rlp::encode_list(&records, &mut out);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(status: ReceiptStatus, to: Option<H160>, logs: Vec<Log>) -> StoredReceipt {
        StoredReceipt {
            transaction_hash: H256::repeat_byte(1),
            from: H160::repeat_byte(2),
            to,
            status,
            gas_used: 21_000,
            cumulative_gas_used: 1_000_000,
            intrinsic_gas: 0,
            logs,
            output: vec![0xab; 40],
            contract_address: Some(H160::repeat_byte(3)),
            effective_gas_price: U256::from(7u64),
            burned: U256::MAX,
            tip: U256::zero(),
        }
    }

    /// The owned record of a receipt, built field by field: the format the store has always
    /// written, encoded by the derived encoder.
    fn owned(r: &StoredReceipt) -> ReceiptRecord {
        let (status, failure) = match &r.status {
            ReceiptStatus::Success => (0, Bytes::new()),
            ReceiptStatus::Revert => (1, Bytes::new()),
            ReceiptStatus::Failure(reason) => (2, Bytes::copy_from_slice(reason.as_bytes())),
        };
        let address = |a: Option<H160>| a.map_or(Bytes::new(), |a| a.0.to_vec().into());
        ReceiptRecord {
            transaction_hash: r.transaction_hash.0,
            from: r.from.0,
            to: address(r.to),
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
                    data: l.data.clone().into(),
                })
                .collect(),
            output: r.output.clone().into(),
            contract_address: address(r.contract_address),
            effective_gas_price: r.effective_gas_price.to_big_endian(),
            burned: r.burned.to_big_endian(),
            tip: r.tip.to_big_endian(),
        }
    }

    #[test]
    fn borrowed_encodings_are_the_stored_format_and_decode_back() {
        let log = |topics: usize, data: usize| Log {
            address: H160::repeat_byte(9),
            topics: (0..topics).map(|i| H256::repeat_byte(i as u8)).collect(),
            data: vec![0x5a; data],
        };
        let receipts = vec![
            receipt(ReceiptStatus::Success, Some(H160::repeat_byte(4)), vec![]),
            receipt(ReceiptStatus::Revert, None, vec![log(0, 0), log(4, 1)]),
            // Logs long enough for multi-byte RLP length prefixes.
            receipt(
                ReceiptStatus::Failure("out of gas".into()),
                None,
                vec![log(3, 60), log(2, 300)],
            ),
        ];
        let records: Vec<ReceiptRecord> = receipts.iter().map(owned).collect();
        let encoded = encode_receipts(&receipts);
        assert_eq!(encoded, alloy_rlp::encode(&records));
        assert_eq!(decode_receipts(&encoded).unwrap(), receipts);

        let block = Block {
            header: Header {
                parent_hash: H256::repeat_byte(5),
                producer: H160::repeat_byte(6),
                state_root: H256::repeat_byte(7),
                transactions_root: H256::repeat_byte(8),
                receipts_root: H256::repeat_byte(9),
                logs_bloom: Default::default(),
                number: 3,
                gas_limit: 30_000_000,
                gas_used: 42_000,
                timestamp: 1_700_000_000,
                base_fee: U256::from(1_000_000_000u64),
            },
            transactions: vec![vec![2, 0xc0], vec![0x11; 200]],
        };
        let record = BlockRecord {
            header: block.header.encode().into(),
            transactions: block
                .transactions
                .iter()
                .map(|t| t.clone().into())
                .collect(),
        };
        let encoded = encode_block(&block);
        assert_eq!(encoded, alloy_rlp::encode(&record));
        assert_eq!(decode_block(&encoded).unwrap(), block);
    }
}
