//! The RLP decoders of untrusted bytes: signed transactions, block headers, accounts, deploy
//! payloads and Merkle proofs. Each is fed arbitrary bytes and mutations of valid encodings.
//!
//! Oracles: no decoder panics; `encode(decode(x)) == x` for the canonical formats
//! (transactions, headers, accounts); `decode(encode(v)) == v` for values built from the fuzz
//! input (deploy payloads too); a transaction decodes to the signer's address; a proof that
//! verifies against a trie's root proves the value the trie holds.

use std::collections::BTreeMap;

use arbitrary::{Result, Unstructured};
use tally_runtime::state::Account;
use tally_runtime::trie::{verify_proof, MemoryStore, Trie};
use tally_runtime::tx::{DeployPayload, Transaction};
use tally_runtime::{H160, H256, U256};

use crate::chain::block::{Bloom, Header};
use crate::chain::tx::SignedTransaction;
use crate::fuzzing::keys::dev_keys;
use crate::fuzzing::mutate::mutate;

/// Signs a fuzzed transaction, decodes it back, and decodes mutations of its envelope.
pub fn transaction(u: &mut Unstructured<'_>) -> Result<()> {
    let tx = arbitrary_transaction(u)?;
    let (key, address) = u.choose(dev_keys())?;
    let signed = if u.ratio(1, 4)? {
        // Arbitrary signature values: checked, never trusted.
        let (y, r, s) = (u.arbitrary()?, u256(u)?, u256(u)?);
        match SignedTransaction::from_signature(tx.clone(), y, r, s) {
            Ok(signed) => signed,
            Err(_) => return Ok(()),
        }
    } else {
        SignedTransaction::sign(tx.clone(), key)
    };
    let bytes = signed.encode();
    let decoded = match SignedTransaction::decode(&bytes) {
        Ok(decoded) => decoded,
        Err(e) => panic!("a signed transaction does not decode: {e}"),
    };
    assert_eq!(decoded.transaction(), &tx);
    assert_eq!(decoded.sender(), signed.sender());
    assert_eq!(decoded.hash(), signed.hash());
    if signed.r() == SignedTransaction::sign(tx, key).r() {
        assert_eq!(decoded.sender(), *address, "the signer is recovered");
    }
    let mutated = mutate(bytes, u)?;
    canonical("transaction", &mutated, |b| {
        SignedTransaction::decode(b).ok().map(|t| encoded_anew(&t))
    });
    Ok(())
}

/// Arbitrary bytes as a transaction envelope.
pub fn raw_transaction(bytes: &[u8]) {
    canonical("transaction", bytes, |b| {
        SignedTransaction::decode(b).ok().map(|t| encoded_anew(&t))
    });
}

/// A fuzzed header round-trips; mutations of it decode only canonically.
pub fn header(u: &mut Unstructured<'_>) -> Result<()> {
    let header = Header {
        parent_hash: H256(u.arbitrary()?),
        producer: H160(u.arbitrary()?),
        state_root: H256(u.arbitrary()?),
        transactions_root: H256(u.arbitrary()?),
        receipts_root: H256(u.arbitrary()?),
        logs_bloom: Bloom(u.arbitrary()?),
        number: u.arbitrary()?,
        gas_limit: u.arbitrary()?,
        gas_used: u.arbitrary()?,
        timestamp: u.arbitrary()?,
        base_fee: u256(u)?,
    };
    round_trip(
        "header",
        header,
        Header::encode,
        |b| Header::decode(b).ok(),
        u,
    )
}

/// A fuzzed account round-trips; mutations of it decode only canonically.
pub fn account(u: &mut Unstructured<'_>) -> Result<()> {
    let account = Account {
        nonce: u.arbitrary()?,
        balance: u256(u)?,
        storage_root: H256(u.arbitrary()?),
        code_hash: H256(u.arbitrary()?),
    };
    round_trip(
        "account",
        account,
        Account::encode,
        |b| Account::decode(b).ok(),
        u,
    )
}

/// Deploy payloads: arbitrary transaction data decodes without panicking, and what decodes
/// encodes to data that decodes to the same code and input.
pub fn deploy_payload(bytes: &[u8]) {
    if let Ok(payload) = DeployPayload::decode(bytes) {
        let encoded = DeployPayload::encode(payload.code, payload.input);
        assert_eq!(DeployPayload::decode(&encoded).ok(), Some(payload));
    }
}

/// Proofs from a small fuzzed trie, possibly mutated: what verifies is what the trie holds.
pub fn proof(u: &mut Unstructured<'_>) -> Result<()> {
    let entries: BTreeMap<Vec<u8>, Vec<u8>> = u.arbitrary()?;
    let mut trie = Trie::new(MemoryStore::new());
    for (key, value) in &entries {
        trie.insert(key, value)
            .unwrap_or_else(|e| panic!("memory trie insert: {e}"));
    }
    let root = trie.root();
    let key: Vec<u8> = if entries.is_empty() || u.ratio(1, 4)? {
        u.arbitrary()?
    } else {
        let keys: Vec<&Vec<u8>> = entries.keys().collect();
        u.choose(&keys)?.to_vec()
    };
    let mut proof = trie
        .proof(&key)
        .unwrap_or_else(|e| panic!("memory trie proof: {e}"));
    let expected = entries.get(&key).filter(|v| !v.is_empty()).cloned();
    assert_eq!(verify_proof(&root, &key, &proof), Ok(expected.clone()));
    for _ in 0..u.int_in_range(0..=3)? {
        match u.int_in_range(0..=2)? {
            0 if !proof.is_empty() => {
                let i = u.choose_index(proof.len())?;
                proof[i] = mutate(std::mem::take(&mut proof[i]), u)?;
            }
            1 => proof.push(u.arbitrary()?),
            _ => {
                proof.pop();
            }
        }
    }
    if let Ok(value) = verify_proof(&root, &key, &proof) {
        assert_eq!(value, expected, "a changed proof proves another value");
    }
    Ok(())
}

/// `value` encodes and decodes back to itself; a mutation of its encoding decodes only if it
/// is canonical.
fn round_trip<T: PartialEq + std::fmt::Debug>(
    what: &str,
    value: T,
    encode: impl Fn(&T) -> Vec<u8>,
    decode: impl Fn(&[u8]) -> Option<T>,
    u: &mut Unstructured<'_>,
) -> Result<()> {
    let bytes = encode(&value);
    assert_eq!(decode(&bytes), Some(value), "{what} round trip");
    let mutated = mutate(bytes, u)?;
    canonical(what, &mutated, |b| decode(b).map(|v| encode(&v)));
    Ok(())
}

/// A decoded transaction's envelope encoded again from its fields (its `encode` gives back
/// the bytes it was decoded from).
fn encoded_anew(tx: &SignedTransaction) -> Vec<u8> {
    let fields = tx.transaction().clone();
    match SignedTransaction::from_signature(fields, tx.y_parity(), tx.r(), tx.s()) {
        Ok(again) => again.encode(),
        Err(e) => panic!("a decoded transaction's signature is refused: {e}"),
    }
}

/// Decoding `bytes`, if it succeeds, gives back exactly `bytes` when encoded again.
fn canonical(what: &str, bytes: &[u8], roundtrip: impl Fn(&[u8]) -> Option<Vec<u8>>) {
    if let Some(encoded) = roundtrip(bytes) {
        assert_eq!(encoded, bytes, "a {what} decoded from non-canonical bytes");
    }
}

fn arbitrary_transaction(u: &mut Unstructured<'_>) -> Result<Transaction> {
    Ok(Transaction {
        chain_id: u.arbitrary()?,
        nonce: u.arbitrary()?,
        max_priority_fee_per_gas: u256(u)?,
        max_fee_per_gas: u256(u)?,
        gas_limit: u.arbitrary()?,
        to: if u.arbitrary()? {
            Some(H160(u.arbitrary()?))
        } else {
            None
        },
        value: u256(u)?,
        data: u.arbitrary()?,
    })
}

/// A 256-bit integer: small, at a byte boundary, or any.
fn u256(u: &mut Unstructured<'_>) -> Result<U256> {
    Ok(match u.int_in_range(0..=3)? {
        0 => U256::from(u.arbitrary::<u8>()?),
        1 => U256::one() << u.int_in_range(0..=255)?,
        2 => U256::from(u.arbitrary::<u64>()?),
        _ => U256::from_big_endian(&u.arbitrary::<[u8; 32]>()?),
    })
}
