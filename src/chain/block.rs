//! Blocks as Ethereum encodes them: the London header (so the block hash is Ethereum's
//! `keccak(rlp(header))`, with the fields of proof of work zeroed), typed receipts, the logs
//! bloom, the transactions and receipts roots (tries keyed by `rlp(index)`), and the EIP-1559
//! base-fee update rule.

use alloy_rlp::{Encodable, Header as RlpHeader};
use foldhash::HashMap;
use tally_runtime::exec::{Receipt, Status};
use tally_runtime::rlp::{encode_list, trim_leading_zeros};
use tally_runtime::state::Log;
use tally_runtime::trie::{keccak256, ordered_root_unsorted};
use tally_runtime::{H160, H256, U256};

/// `keccak(rlp([]))`: the ommers hash of every block without ommers.
pub const EMPTY_OMMERS_HASH: H256 = H256([
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
]);

/// EIP-1559: the base fee moves by at most 1/8 per block.
pub const BASE_FEE_MAX_CHANGE_DENOMINATOR: u64 = 8;
/// EIP-1559: the gas target is half the gas limit.
pub const ELASTICITY_MULTIPLIER: u64 = 2;

/// A 2048-bit Ethereum logs bloom.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bloom(pub [u8; 256]);

impl Default for Bloom {
    fn default() -> Self {
        Bloom([0; 256])
    }
}

impl std::fmt::Debug for Bloom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bloom(0x{})", hex::encode(self.0))
    }
}

impl Bloom {
    /// Adds `item`: three bits chosen by the first three byte pairs of its keccak hash.
    pub fn accrue(&mut self, item: &[u8]) {
        self.set_bits(&bloom_bits(item));
    }

    /// Sets the bits chosen by an item's [`bloom_bits`].
    fn set_bits(&mut self, bits: &[u8; 6]) {
        for pair in bits.chunks_exact(2) {
            let bit = (usize::from(pair[0]) << 8 | usize::from(pair[1])) & 2047;
            self.0[255 - bit / 8] |= 1 << (bit % 8);
        }
    }

    /// Adds every bit of `other`.
    pub fn merge(&mut self, other: &Bloom) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    /// Whether `item` may have been added (false positives are possible, false negatives not).
    pub fn may_contain(&self, item: &[u8]) -> bool {
        let mut probe = Bloom::default();
        probe.accrue(item);
        probe.0.iter().zip(self.0).all(|(p, s)| p & s == *p)
    }

    /// The bloom of a set of logs.
    pub fn of_logs<'a>(logs: impl IntoIterator<Item = &'a Log>) -> Bloom {
        Self::of_logs_with(logs, bloom_bits)
    }

    /// The bloom of a set of logs (their addresses and topics), with `bits` choosing each
    /// item's bits (see [`bloom_bits`]).
    fn of_logs_with<'a>(
        logs: impl IntoIterator<Item = &'a Log>,
        mut bits: impl FnMut(&[u8]) -> [u8; 6],
    ) -> Bloom {
        let mut bloom = Bloom::default();
        for log in logs {
            bloom.set_bits(&bits(log.address.as_bytes()));
            for topic in &log.topics {
                bloom.set_bits(&bits(topic.as_bytes()));
            }
        }
        bloom
    }
}

/// The first three byte pairs of an item's keccak hash, which choose its bloom bits.
fn bloom_bits(item: &[u8]) -> [u8; 6] {
    let hash = keccak256(item);
    [hash[0], hash[1], hash[2], hash[3], hash[4], hash[5]]
}

/// Builds the blooms of one block's receipts, hashing each distinct address and topic once: a
/// block's logs repeat them (one token's transfers share its address and event topic, and
/// name the same holders as senders and as recipients).
#[derive(Default)]
pub struct BlockBlooms {
    /// Bloom bits by item (addresses are padded to 32 bytes; the length tells them apart).
    bits: HashMap<([u8; 32], usize), [u8; 6]>,
}

impl BlockBlooms {
    /// The bloom of a receipt's logs, the same as [`Bloom::of_logs`].
    pub fn of_logs(&mut self, logs: &[Log]) -> Bloom {
        Bloom::of_logs_with(logs, |item| self.bits_of(item))
    }

    /// `item` is an address (20 bytes) or a topic (32 bytes).
    fn bits_of(&mut self, item: &[u8]) -> [u8; 6] {
        let mut key = [0u8; 32];
        key[..item.len()].copy_from_slice(item);
        *self
            .bits
            .entry((key, item.len()))
            .or_insert_with(|| bloom_bits(item))
    }
}

/// A block header in Ethereum's London layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub parent_hash: H256,
    /// Receives the priority fees (Ethereum's `beneficiary`).
    pub producer: H160,
    pub state_root: H256,
    pub transactions_root: H256,
    pub receipts_root: H256,
    pub logs_bloom: Bloom,
    pub number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    pub base_fee: U256,
}

impl Header {
    /// `rlp([parent, ommers, beneficiary, state, transactions, receipts, bloom, difficulty,
    /// number, gas limit, gas used, timestamp, extra data, mix hash, nonce, base fee])`.
    pub fn encode(&self) -> Vec<u8> {
        let number = self.number.to_be_bytes();
        let gas_limit = self.gas_limit.to_be_bytes();
        let gas_used = self.gas_used.to_be_bytes();
        let timestamp = self.timestamp.to_be_bytes();
        let base_fee = self.base_fee.to_big_endian();
        let fields: [&[u8]; 16] = [
            self.parent_hash.as_bytes(),
            EMPTY_OMMERS_HASH.as_bytes(),
            self.producer.as_bytes(),
            self.state_root.as_bytes(),
            self.transactions_root.as_bytes(),
            self.receipts_root.as_bytes(),
            &self.logs_bloom.0,
            &[],
            trim_leading_zeros(&number),
            trim_leading_zeros(&gas_limit),
            trim_leading_zeros(&gas_used),
            trim_leading_zeros(&timestamp),
            &[],
            &[0; 32],
            &[0; 8],
            trim_leading_zeros(&base_fee),
        ];
        encode_list(&fields)
    }

    /// Decodes [`Header::encode`]'s output (fields of proof of work must be zero).
    pub fn decode(bytes: &[u8]) -> Result<Header, alloy_rlp::Error> {
        let mut rest = bytes;
        let list = RlpHeader::decode(&mut rest)?;
        if !list.list || list.payload_length != rest.len() {
            return Err(alloy_rlp::Error::Custom("header is not one RLP list"));
        }
        let mut field = || -> Result<&[u8], alloy_rlp::Error> {
            let h = RlpHeader::decode(&mut rest)?;
            if h.list || h.payload_length > rest.len() {
                return Err(alloy_rlp::Error::Custom("header field"));
            }
            let (value, tail) = rest.split_at(h.payload_length);
            rest = tail;
            Ok(value)
        };
        let hash = |b: &[u8]| -> Result<H256, alloy_rlp::Error> {
            (b.len() == 32)
                .then(|| H256::from_slice(b))
                .ok_or(alloy_rlp::Error::Custom("hash field"))
        };
        let uint = |b: &[u8]| -> Result<u64, alloy_rlp::Error> {
            if b.len() > 8 || b.first() == Some(&0) {
                return Err(alloy_rlp::Error::Custom("integer field"));
            }
            Ok(b.iter().fold(0u64, |acc, x| acc << 8 | u64::from(*x)))
        };
        let parent_hash = hash(field()?)?;
        let _ommers = field()?;
        let producer = field()?;
        if producer.len() != 20 {
            return Err(alloy_rlp::Error::Custom("beneficiary field"));
        }
        let producer = H160::from_slice(producer);
        let state_root = hash(field()?)?;
        let transactions_root = hash(field()?)?;
        let receipts_root = hash(field()?)?;
        let bloom = field()?;
        let logs_bloom = Bloom(
            bloom
                .try_into()
                .map_err(|_| alloy_rlp::Error::Custom("bloom field"))?,
        );
        let _difficulty = field()?;
        let number = uint(field()?)?;
        let gas_limit = uint(field()?)?;
        let gas_used = uint(field()?)?;
        let timestamp = uint(field()?)?;
        let _extra = field()?;
        let _mix = field()?;
        let _nonce = field()?;
        let base_fee = field()?;
        if base_fee.len() > 32 {
            return Err(alloy_rlp::Error::Custom("base fee field"));
        }
        let base_fee = U256::from_big_endian(base_fee);
        let header = Header {
            parent_hash,
            producer,
            state_root,
            transactions_root,
            receipts_root,
            logs_bloom,
            number,
            gas_limit,
            gas_used,
            timestamp,
            base_fee,
        };
        if header.encode() != bytes {
            return Err(alloy_rlp::Error::Custom("non-canonical header"));
        }
        Ok(header)
    }

    /// The block hash: keccak-256 of the encoded header.
    pub fn hash(&self) -> H256 {
        H256(keccak256(&self.encode()))
    }

    /// The base fee of the block after this one (EIP-1559): unchanged at the gas target
    /// (half the limit), up by at most 1/8 when full, down by at most 1/8 when empty.
    pub fn next_base_fee(&self) -> U256 {
        next_base_fee(self.base_fee, self.gas_used, self.gas_limit)
    }
}

/// EIP-1559's base fee update for a parent with `base_fee`, `gas_used` and `gas_limit`.
pub fn next_base_fee(base_fee: U256, gas_used: u64, gas_limit: u64) -> U256 {
    let target = gas_limit / ELASTICITY_MULTIPLIER;
    if target == 0 || gas_used == target {
        return base_fee;
    }
    // Saturating: a base fee near 2^256 (possible from a genesis file) must not panic.
    let denominator = U256::from(target) * U256::from(BASE_FEE_MAX_CHANGE_DENOMINATOR);
    if gas_used > target {
        let delta = base_fee.saturating_mul(U256::from(gas_used - target)) / denominator;
        base_fee.saturating_add(delta.max(U256::one()))
    } else {
        let delta = base_fee.saturating_mul(U256::from(target - gas_used)) / denominator;
        base_fee.saturating_sub(delta)
    }
}

/// Ethereum's encoding of a type-2 transaction's receipt:
/// `0x02 || rlp([status, cumulative_gas_used, logs_bloom, logs])`, where `bloom` is
/// `Bloom::of_logs(&receipt.logs)` (passed in: the block's bloom is built from the same ones).
/// Written in one pass into a buffer of the exact size.
pub fn encode_receipt(receipt: &Receipt, bloom: &Bloom) -> Vec<u8> {
    let status: &[u8] = if receipt.status == Status::Success {
        &[1]
    } else {
        &[]
    };
    let logs: Vec<LogRlp<'_>> = receipt.logs.iter().map(LogRlp).collect();
    let header = RlpHeader {
        list: true,
        payload_length: status.length()
            + receipt.cumulative_gas_used.length()
            + bloom.0.as_slice().length()
            + alloy_rlp::list_length(&logs),
    };
    let mut out = Vec::with_capacity(1 + header.length_with_payload());
    out.push(2);
    header.encode(&mut out);
    status.encode(&mut out);
    receipt.cumulative_gas_used.encode(&mut out);
    bloom.0.as_slice().encode(&mut out);
    alloy_rlp::encode_list(&logs, &mut out);
    out
}

/// A log as Ethereum encodes it, `rlp([address, [topics...], data])`, written straight into
/// the output. The stored receipts hold their logs in the same form.
#[derive(Clone, Copy)]
pub(crate) struct LogRlp<'a>(pub(crate) &'a Log);

impl LogRlp<'_> {
    fn topics_length(&self) -> usize {
        self.0.topics.iter().map(|t| t.as_bytes().length()).sum()
    }

    fn payload_length(&self) -> usize {
        let topics = RlpHeader {
            list: true,
            payload_length: self.topics_length(),
        };
        self.0.address.as_bytes().length()
            + topics.length_with_payload()
            + self.0.data.as_slice().length()
    }
}

impl Encodable for LogRlp<'_> {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        RlpHeader {
            list: true,
            payload_length: self.payload_length(),
        }
        .encode(out);
        self.0.address.as_bytes().encode(out);
        RlpHeader {
            list: true,
            payload_length: self.topics_length(),
        }
        .encode(out);
        for topic in &self.0.topics {
            topic.as_bytes().encode(out);
        }
        self.0.data.as_slice().encode(out);
    }

    fn length(&self) -> usize {
        let payload_length = self.payload_length();
        payload_length + alloy_rlp::length_of_length(payload_length)
    }
}

/// The root of the trie mapping `rlp(index)` to each item (transactions or receipts).
pub fn index_root(items: &[Vec<u8>]) -> H256 {
    let entries: Vec<(Vec<u8>, &[u8])> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (alloy_rlp::encode(i as u64), item.as_slice()))
        .collect();
    H256(ordered_root_unsorted(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_blooms_equal_blooms_hashed_item_by_item() {
        let token = H160::repeat_byte(0x70);
        // A topic whose first 20 bytes are the token's address, then zeros: the same padded
        // bytes as the address, a different item.
        let mut lookalike = [0u8; 32];
        lookalike[..20].copy_from_slice(token.as_bytes());
        let event = H256::repeat_byte(0xee);
        let holder = |i: u8| H256::repeat_byte(i);
        let logs: Vec<Vec<Log>> = (0..5u8)
            .map(|i| {
                vec![
                    Log {
                        address: token,
                        topics: vec![event, holder(i), holder(i + 1)],
                        data: vec![i],
                    },
                    Log {
                        address: H160::repeat_byte(i),
                        topics: vec![H256(lookalike)],
                        data: vec![],
                    },
                ]
            })
            .collect();
        let mut blooms = BlockBlooms::default();
        for receipt_logs in &logs {
            let bloom = blooms.of_logs(receipt_logs);
            assert_eq!(bloom, Bloom::of_logs(receipt_logs));
            assert!(bloom.may_contain(&lookalike) && bloom.may_contain(token.as_bytes()));
        }
        assert_eq!(blooms.of_logs(&[]), Bloom::default());
    }

    #[test]
    fn empty_ommers_hash_is_keccak_of_the_empty_list() {
        assert_eq!(EMPTY_OMMERS_HASH.0, keccak256(&[0xc0]));
    }

    #[test]
    fn base_fee_follows_eip_1559() {
        let fee = U256::from(1_000_000_000u64);
        let limit = 30_000_000;
        assert_eq!(next_base_fee(fee, 15_000_000, limit), fee, "at target");
        assert_eq!(
            next_base_fee(fee, 30_000_000, limit),
            U256::from(1_125_000_000u64)
        );
        assert_eq!(next_base_fee(fee, 0, limit), U256::from(875_000_000u64));
        assert_eq!(
            next_base_fee(fee, 22_500_000, limit),
            U256::from(1_062_500_000u64)
        );
        // A full block always raises the fee, even from 1 wei.
        assert_eq!(next_base_fee(U256::one(), limit, limit), U256::from(2));
        assert_eq!(next_base_fee(U256::zero(), 0, limit), U256::zero());
        // No overflow at the top of the range.
        assert_eq!(next_base_fee(U256::MAX, limit, limit), U256::MAX);
        assert!(next_base_fee(U256::MAX, 0, limit) < U256::MAX);
    }

    #[test]
    fn bloom_sets_three_bits_per_item_and_finds_them() {
        let mut bloom = Bloom::default();
        bloom.accrue(b"tally");
        let bits: u32 = bloom.0.iter().map(|b| b.count_ones()).sum();
        assert!((1..=3).contains(&bits));
        assert!(bloom.may_contain(b"tally"));
    }

    #[test]
    fn headers_roundtrip_and_reject_damage() {
        let mut header = Header {
            parent_hash: H256::repeat_byte(1),
            producer: H160::repeat_byte(2),
            state_root: H256::repeat_byte(3),
            transactions_root: H256::repeat_byte(4),
            receipts_root: H256::repeat_byte(5),
            logs_bloom: Bloom::default(),
            number: 7,
            gas_limit: 30_000_000,
            gas_used: 21_000,
            timestamp: 1_700_000_000,
            base_fee: U256::from(1_000_000_000u64),
        };
        header.logs_bloom.accrue(b"x");
        let encoded = header.encode();
        assert_eq!(Header::decode(&encoded).unwrap(), header);
        assert!(Header::decode(&encoded[..encoded.len() - 1]).is_err());
        let mut longer = encoded.clone();
        longer.push(0x80);
        assert!(Header::decode(&longer).is_err());
        assert!(Header::decode(&[]).is_err());
    }

    #[test]
    fn empty_index_root_is_the_empty_trie() {
        assert_eq!(index_root(&[]).0, tally_runtime::trie::EMPTY_ROOT);
    }
}
