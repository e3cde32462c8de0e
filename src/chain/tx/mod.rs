//! Signed EIP-1559 transactions: the EIP-2718 type-2 envelope
//! `0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas, gas_limit, to,
//! value, data, access_list, y_parity, r, s])`, its strict decoding, secp256k1 signing and
//! sender recovery.
//!
//! - [`SignedTransaction::decode`] accepts only the canonical encoding (minimal RLP lengths,
//!   integers without leading zeros and within their range, `to` of 20 bytes or empty, no
//!   trailing bytes), so [`SignedTransaction::encode`] gives back exactly the bytes decoded
//!   and the transaction hash (keccak-256 of the envelope) identifies one transaction. Any
//!   byte string is handled without panicking; every failure is a [`TxDecodeError`] naming
//!   the field at fault.
//! - The access list must be empty: Tally has no warm/cold pricing, so a non-empty list
//!   would be paid for and do nothing ([`TxDecodeError::AccessListNotEmpty`]).
//! - Signatures are Ethereum's: ECDSA over secp256k1 of the signing hash
//!   `keccak256(0x02 || rlp([chain_id, ..., access_list]))` ([`signing_hash`]), with `r` and
//!   `s` in `1..n` and `s <= n / 2` (EIP-2, no malleable twins). The sender is the address
//!   of the recovered public key: the last 20 bytes of the keccak-256 of its uncompressed
//!   coordinates.
//! - [`SignedTransaction::sign`] signs deterministically (RFC 6979) with a low `s`, as
//!   Ethereum wallets do, so the same key and transaction always give the same bytes.
//! - [`DEV_KEYS`] are the ten well-known development keys of the test mnemonic
//!   "test test test test test test test test test test test junk" (anvil, hardhat).
//! - [`recover_senders_parallel`] decodes a batch on several threads (block import).
//! - [`SignedTransaction::impersonated`] builds a transaction "signed" by any address, as
//!   anvil's impersonation does (a placeholder signature; the hash commits to the sender), and
//!   [`SignedTransaction::decode_with_sender`] re-reads a stored envelope whose sender is known,
//!   without recovery.
//!
//! The execution-side view of a transaction, without signature, is
//! [`tally_runtime::tx::Transaction`].

mod reader;
mod secp;

pub use secp::{address_of, dev_accounts, DEV_KEYS};

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use alloy_rlp::{Encodable, Header};
use k256::ecdsa::SigningKey;
use reader::parse;
use secp::{check_signature_values, recover_sender};
use tally_runtime::rlp::trim_leading_zeros;
use tally_runtime::trie::keccak256;
use tally_runtime::tx::Transaction;
use tally_runtime::{H160, H256, U256};
use thiserror::Error;

/// The EIP-2718 type byte of an EIP-1559 transaction.
pub const EIP1559_TX_TYPE: u8 = 0x02;

/// The fields of a transaction envelope, named in [`TxDecodeError`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxField {
    /// The RLP list after the type byte.
    Payload,
    ChainId,
    Nonce,
    MaxPriorityFeePerGas,
    MaxFeePerGas,
    GasLimit,
    To,
    Value,
    Data,
    AccessList,
    YParity,
    R,
    S,
}

impl fmt::Display for TxField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TxField::Payload => "transaction payload",
            TxField::ChainId => "chain_id",
            TxField::Nonce => "nonce",
            TxField::MaxPriorityFeePerGas => "max_priority_fee_per_gas",
            TxField::MaxFeePerGas => "max_fee_per_gas",
            TxField::GasLimit => "gas_limit",
            TxField::To => "to",
            TxField::Value => "value",
            TxField::Data => "data",
            TxField::AccessList => "access_list",
            TxField::YParity => "y_parity",
            TxField::R => "r",
            TxField::S => "s",
        })
    }
}

/// Why bytes are not a valid signed EIP-1559 transaction.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TxDecodeError {
    #[error("empty transaction")]
    Empty,
    #[error("unsupported transaction type {0:#04x}: only EIP-1559 (type 0x02) transactions are accepted")]
    UnsupportedType(u8),
    #[error("{0} is missing")]
    MissingField(TxField),
    #[error("{0}: the input ends inside the item")]
    Truncated(TxField),
    #[error("{0}: non-canonical RLP: a single byte below 0x80 must be encoded as itself")]
    NonCanonicalSingleByte(TxField),
    #[error("{0}: non-canonical RLP length (long form for a length below 56, or a leading zero)")]
    NonCanonicalLength(TxField),
    #[error("{0} must be an RLP list")]
    ExpectedList(TxField),
    #[error("{0} must be an RLP byte string, not a list")]
    ExpectedString(TxField),
    #[error("{0} bytes after the end of the transaction")]
    TrailingBytes(usize),
    #[error("{0} bytes of extra fields after s")]
    ExtraFields(usize),
    #[error("{0}: integer with a leading zero byte")]
    LeadingZero(TxField),
    #[error("{field}: integer of {len} bytes does not fit in {max} bytes")]
    IntegerTooLarge {
        field: TxField,
        len: usize,
        max: usize,
    },
    #[error("to must be 20 bytes, or empty for a creation; got {0} bytes")]
    InvalidToLength(usize),
    #[error("non-empty access list: Tally has no access-list pricing, the list must be empty")]
    AccessListNotEmpty,
    #[error("y_parity must be 0 or 1, got {0}")]
    InvalidYParity(u64),
    #[error("signature {0} is zero")]
    ZeroSignatureValue(TxField),
    #[error("signature {0} is not below the secp256k1 group order")]
    SignatureValueTooLarge(TxField),
    #[error("signature s is above n/2 (EIP-2 requires the low-s form)")]
    HighS,
    #[error("no public key recovers from this signature")]
    RecoveryFailed,
    #[error(
        "the recorded hash {recorded:?} is neither the envelope's hash nor its impersonated hash"
    )]
    HashMismatch { recorded: H256 },
}

/// A transaction with its signature, its hash and the sender recovered from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTransaction {
    tx: Transaction,
    y_parity: bool,
    r: U256,
    s: U256,
    hash: H256,
    sender: H160,
    /// The EIP-2718 envelope: the bytes decoded, or those encoded when assembled.
    envelope: Vec<u8>,
}

impl SignedTransaction {
    /// Decodes a signed EIP-1559 envelope and recovers its sender. Only the canonical
    /// encoding is accepted, so `decode(bytes)?.encode() == bytes`.
    pub fn decode(bytes: &[u8]) -> Result<SignedTransaction, TxDecodeError> {
        let parsed = parse(bytes)?;
        check_signature_values(parsed.r, parsed.s)?;
        let signing_hash = hash_with_header(parsed.unsigned);
        let sender = recover_sender(&signing_hash, parsed.y_parity, parsed.r, parsed.s)?;
        Ok(parsed.into_signed(H256(keccak256(bytes)), sender, bytes))
    }

    /// Decodes an envelope whose sender is already known (a stored block's, with the sender
    /// and hash its receipt recorded), without recovering it: the way to re-read transactions,
    /// impersonated ones included, whose placeholder signature recovers nothing. `hash` must be
    /// the envelope's hash or its impersonated hash for `sender`.
    pub fn decode_with_sender(
        bytes: &[u8],
        sender: H160,
        hash: H256,
    ) -> Result<SignedTransaction, TxDecodeError> {
        let parsed = parse(bytes)?;
        if hash != H256(keccak256(bytes)) && hash != impersonated_hash(bytes, &sender) {
            return Err(TxDecodeError::HashMismatch { recorded: hash });
        }
        Ok(parsed.into_signed(hash, sender, bytes))
    }

    /// `tx` as if `sender` had signed it, as anvil builds impersonated transactions: the
    /// envelope carries the placeholder signature `y_parity = 0, r = s = 1`, and the hash is
    /// `keccak256(envelope ‖ sender)`, so two senders' identical transactions differ.
    pub fn impersonated(tx: Transaction, sender: H160) -> SignedTransaction {
        let envelope = encode_envelope(&tx, false, U256::one(), U256::one());
        SignedTransaction {
            hash: impersonated_hash(&envelope, &sender),
            tx,
            y_parity: false,
            r: U256::one(),
            s: U256::one(),
            sender,
            envelope,
        }
    }

    /// A transaction with a given signature: checks the signature values (EIP-2 included)
    /// and recovers the sender.
    pub fn from_signature(
        tx: Transaction,
        y_parity: bool,
        r: U256,
        s: U256,
    ) -> Result<SignedTransaction, TxDecodeError> {
        check_signature_values(r, s)?;
        let sender = recover_sender(&signing_hash(&tx), y_parity, r, s)?;
        Ok(Self::assemble(tx, y_parity, r, s, sender))
    }

    /// Signs `tx` with `key`: deterministic (RFC 6979), low `s`.
    ///
    /// # Panics
    ///
    /// Only if RFC 6979 produced `r = 0` or `s = 0`, which happens with probability about
    /// 2^-256.
    pub fn sign(tx: Transaction, key: &SigningKey) -> SignedTransaction {
        let hash = signing_hash(&tx);
        let (signature, recovery_id) = key
            .sign_prehash_recoverable(hash.as_bytes())
            .expect("RFC 6979 signing of a 32-byte digest succeeds");
        // k256 already returns the low-s form; normalizing again keeps this independent of it.
        let (signature, y_parity) = match signature.normalize_s() {
            Some(low) => (low, !recovery_id.is_y_odd()),
            None => (signature, recovery_id.is_y_odd()),
        };
        let (r, s) = signature.split_bytes();
        let r = U256::from_big_endian(&r);
        let s = U256::from_big_endian(&s);
        Self::assemble(tx, y_parity, r, s, address_of(key))
    }

    fn assemble(tx: Transaction, y_parity: bool, r: U256, s: U256, sender: H160) -> Self {
        let envelope = encode_envelope(&tx, y_parity, r, s);
        SignedTransaction {
            hash: H256(keccak256(&envelope)),
            tx,
            y_parity,
            r,
            s,
            sender,
            envelope,
        }
    }

    /// The EIP-2718 envelope `0x02 || rlp([..., y_parity, r, s])`: kept from decoding or
    /// signing, not encoded again.
    pub fn envelope(&self) -> &[u8] {
        &self.envelope
    }

    /// The envelope as an owned byte vector (see [`SignedTransaction::envelope`]).
    pub fn encode(&self) -> Vec<u8> {
        self.envelope.clone()
    }

    /// The envelope, consuming `self` (see [`SignedTransaction::envelope`]).
    pub fn into_envelope(self) -> Vec<u8> {
        self.envelope
    }

    /// The transaction hash: keccak-256 of the envelope, as Ethereum computes it.
    pub fn hash(&self) -> H256 {
        self.hash
    }

    /// The account that signed the transaction.
    pub fn sender(&self) -> H160 {
        self.sender
    }

    /// The unsigned transaction.
    pub fn transaction(&self) -> &Transaction {
        &self.tx
    }

    /// The unsigned transaction, consuming `self`.
    pub fn into_transaction(self) -> Transaction {
        self.tx
    }

    /// The parity of the y coordinate of the signature's curve point.
    pub fn y_parity(&self) -> bool {
        self.y_parity
    }

    /// The signature's `r`.
    pub fn r(&self) -> U256 {
        self.r
    }

    /// The signature's `s` (at most `n / 2`).
    pub fn s(&self) -> U256 {
        self.s
    }

    /// The hash the sender signed: see [`signing_hash`].
    pub fn signing_hash(&self) -> H256 {
        signing_hash(&self.tx)
    }
}

/// The hash a sender signs: `keccak256(0x02 || rlp([chain_id, nonce,
/// max_priority_fee_per_gas, max_fee_per_gas, gas_limit, to, value, data, access_list]))`
/// with an empty access list.
pub fn signing_hash(tx: &Transaction) -> H256 {
    let mut fields = Vec::with_capacity(tx.data.len() + 128);
    encode_unsigned_fields(tx, &mut fields);
    hash_with_header(&fields)
}

/// `keccak256(envelope ‖ sender)`: the hash of an impersonated transaction.
fn impersonated_hash(envelope: &[u8], sender: &H160) -> H256 {
    let mut bytes = Vec::with_capacity(envelope.len() + 20);
    bytes.extend_from_slice(envelope);
    bytes.extend_from_slice(sender.as_bytes());
    H256(keccak256(&bytes))
}

/// Decodes a batch of envelopes and recovers their senders on up to `threads` threads.
/// The results are in the order of `raw`.
///
/// The threads claim small runs of the batch in turn instead of a fixed share each, so a
/// thread that shares its core with other work (the chain mining the previous block, as the
/// node runs) does less of the batch and the others do not wait for it at the end.
pub fn recover_senders_parallel(
    raw: &[Vec<u8>],
    threads: usize,
) -> Vec<Result<SignedTransaction, TxDecodeError>> {
    /// Envelopes claimed at a time: a recovery costs ~100 µs, a claim one atomic add.
    const RUN: usize = 8;
    let runs = raw.len().div_ceil(RUN);
    let threads = threads.clamp(1, runs.max(1));
    let decode_run = |run: usize| -> Vec<_> {
        let end = raw.len().min((run + 1) * RUN);
        raw[run * RUN..end]
            .iter()
            .map(|bytes| SignedTransaction::decode(bytes))
            .collect()
    };
    if threads == 1 {
        return raw
            .iter()
            .map(|bytes| SignedTransaction::decode(bytes))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let claim_runs = || {
        let mut done = Vec::new();
        loop {
            let run = next.fetch_add(1, Ordering::Relaxed);
            if run >= runs {
                return done;
            }
            done.push((run, decode_run(run)));
        }
    };
    let mut decoded: Vec<(usize, Vec<_>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads).map(|_| scope.spawn(claim_runs)).collect();
        let mut decoded = claim_runs();
        for worker in workers {
            match worker.join() {
                Ok(batch) => decoded.extend(batch),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        decoded
    });
    decoded.sort_unstable_by_key(|(run, _)| *run);
    decoded
        .into_iter()
        .flat_map(|(_, results)| results)
        .collect()
}

// ---- encoding ----

/// The EIP-2718 envelope `0x02 || rlp([..., y_parity, r, s])` of `tx` with a signature.
fn encode_envelope(tx: &Transaction, y_parity: bool, r: U256, s: U256) -> Vec<u8> {
    let mut fields = Vec::with_capacity(tx.data.len() + 200);
    encode_unsigned_fields(tx, &mut fields);
    u64::from(y_parity).encode(&mut fields);
    encode_u256(r, &mut fields);
    encode_u256(s, &mut fields);
    with_type_and_header(&fields)
}

fn encode_unsigned_fields(tx: &Transaction, out: &mut Vec<u8>) {
    tx.chain_id.encode(out);
    tx.nonce.encode(out);
    encode_u256(tx.max_priority_fee_per_gas, out);
    encode_u256(tx.max_fee_per_gas, out);
    tx.gas_limit.encode(out);
    match &tx.to {
        Some(to) => to.as_bytes().encode(out),
        None => [0u8; 0].as_slice().encode(out),
    }
    encode_u256(tx.value, out);
    tx.data.as_slice().encode(out);
    // The (empty) access list.
    Header {
        list: true,
        payload_length: 0,
    }
    .encode(out);
}

/// An integer as RLP: its big-endian bytes without leading zeros, as a byte string.
fn encode_u256(value: U256, out: &mut Vec<u8>) {
    trim_leading_zeros(&value.to_big_endian()).encode(out);
}

/// `0x02 || rlp_list_header(fields) || fields`.
fn with_type_and_header(fields: &[u8]) -> Vec<u8> {
    let header = Header {
        list: true,
        payload_length: fields.len(),
    };
    let mut out = Vec::with_capacity(1 + header.length() + fields.len());
    out.push(EIP1559_TX_TYPE);
    header.encode(&mut out);
    out.extend_from_slice(fields);
    out
}

/// keccak-256 of `0x02 || rlp_list_header(fields) || fields`.
fn hash_with_header(fields: &[u8]) -> H256 {
    H256(keccak256(&with_type_and_header(fields)))
}

#[cfg(test)]
mod tests {
    use super::reader::take_item;
    use super::secp::{address_of_point, SECP256K1_HALF_ORDER, SECP256K1_ORDER};
    use super::*;

    #[test]
    fn order_constants_match_k256() {
        use k256::elliptic_curve::{bigint::Encoding, Curve};
        let order = U256::from_big_endian(&k256::Secp256k1::ORDER.to_be_bytes());
        assert_eq!(SECP256K1_ORDER, order);
        assert_eq!(SECP256K1_HALF_ORDER, order >> 1);
    }

    #[test]
    fn dev_keys_derive_the_published_addresses() {
        let expected = [
            "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "90F79bf6EB2c4f870365E785982E1f101E93b906",
            "15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
            "9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
            "976EA74026E726554dB657fA54763abd0C3a0aa9",
            "14dC79964da2C08b23698B3D3cc7Ca32193d9955",
            "23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
            "a0Ee7A142d267C1f36714E4a8F75612F20a79720",
        ];
        let accounts = dev_accounts();
        assert_eq!(accounts.len(), expected.len());
        for ((key, address), expected) in accounts.iter().zip(expected) {
            let expected = H160::from_slice(&hex::decode(expected).unwrap());
            assert_eq!(*address, expected);
            assert_eq!(address_of(key), expected);
        }
    }

    /// Recovery without the final verification agrees with k256's own recovery, which
    /// verifies: on random digests and signature values, including ones that recover nothing.
    #[test]
    fn recovery_agrees_with_k256() {
        use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};

        let mut runner = TestRunner::new(Config::with_cases(200));
        let signatures = (
            any::<[u8; 32]>(),
            any::<bool>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
        );
        runner
            .run(&signatures, |(prehash, y_parity, r, s)| {
                let (r, s) = (U256::from_big_endian(&r), U256::from_big_endian(&s));
                // Random values: reduce into 1..n and fold s into the lower half.
                let r = r % (SECP256K1_ORDER - 1) + 1;
                let mut s = s % (SECP256K1_ORDER - 1) + 1;
                if s > SECP256K1_HALF_ORDER {
                    s = SECP256K1_ORDER - s;
                }
                prop_assert!(check_signature_values(r, s).is_ok());
                let ours = recover_sender(&H256(prehash), y_parity, r, s).ok();
                let mut bytes = [0u8; 64];
                bytes[..32].copy_from_slice(&r.to_big_endian());
                bytes[32..].copy_from_slice(&s.to_big_endian());
                let signature = Signature::from_slice(&bytes).unwrap();
                let theirs = VerifyingKey::recover_from_prehash(
                    &prehash,
                    &signature,
                    RecoveryId::new(y_parity, false),
                )
                .ok()
                .map(|key| address_of_point(key.as_affine()));
                prop_assert_eq!(ours, theirs);
                Ok(())
            })
            .unwrap();
        // Real signatures too.
        for (key, address) in dev_accounts() {
            let prehash = keccak256(address.as_bytes());
            let (signature, id) = key.sign_prehash_recoverable(&prehash).unwrap();
            let (r, s) = signature.split_bytes();
            let recovered = recover_sender(
                &H256(prehash),
                id.is_y_odd(),
                U256::from_big_endian(&r),
                U256::from_big_endian(&s),
            );
            assert_eq!(recovered, Ok(address));
        }
    }

    #[test]
    fn long_lengths_must_be_minimal() {
        // 0xb8 0x37: a 55-byte string in the long form.
        let mut input: &[u8] = &[0xb8, 0x37];
        assert_eq!(
            take_item(&mut input, TxField::Data).err(),
            Some(TxDecodeError::NonCanonicalLength(TxField::Data))
        );
        // 0xb9 0x00 0x38: a length with a leading zero.
        let mut input: &[u8] = &[0xb9, 0x00, 0x38];
        assert_eq!(
            take_item(&mut input, TxField::Data).err(),
            Some(TxDecodeError::NonCanonicalLength(TxField::Data))
        );
        // 0xbf with an 8-byte length far beyond the input.
        let mut input: &[u8] = &[0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            take_item(&mut input, TxField::Data).err(),
            Some(TxDecodeError::Truncated(TxField::Data))
        );
        // A 56-byte string in the long form is canonical.
        let mut bytes = vec![0xb8, 56];
        bytes.extend([7u8; 56]);
        let mut input = bytes.as_slice();
        let item = take_item(&mut input, TxField::Data).unwrap();
        assert_eq!((item.list, item.payload.len(), input.len()), (false, 56, 0));
    }
}
