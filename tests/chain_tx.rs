//! Signed EIP-1559 transactions: published vectors (mainnet transactions, viem and ox test
//! suites), signing with the development keys, every decoding error, malleability (EIP-2),
//! property tests (no panics on any input, canonical round trips) and parallel recovery.

use k256::ecdsa::SigningKey;
use proptest::prelude::*;
use tally::chain::tx::{
    address_of, dev_accounts, recover_senders_parallel, signing_hash, SignedTransaction,
    TxDecodeError, TxField, DEV_KEYS,
};
use tally_runtime::trie::keccak256;
use tally_runtime::tx::Transaction;
use tally_runtime::{H160, H256, U256};

fn bytes(hex_str: &str) -> Vec<u8> {
    hex::decode(hex_str.trim_start_matches("0x")).expect("test hex")
}

fn h160(hex_str: &str) -> H160 {
    H160::from_slice(&bytes(hex_str))
}

fn h256(hex_str: &str) -> H256 {
    H256::from_slice(&bytes(hex_str))
}

fn u256(hex_str: &str) -> U256 {
    U256::from_big_endian(&bytes(hex_str))
}

fn dev_key(i: usize) -> SigningKey {
    dev_accounts().swap_remove(i).0
}

const GWEI: u64 = 1_000_000_000;

/// secp256k1's group order n.
fn order() -> U256 {
    u256("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
}

// ---- published vectors ----

/// Mainnet transaction 0xce4dc6d7a7549a98ee3b071b67e970879ff51b5b95d1c340bacd80fa1e1aab31,
/// raw bytes and sender as in alloy's test `test_decode_live_1559_tx`
/// (alloy-rs/alloy, crates/consensus/src/transaction/envelope.rs).
const MAINNET_RAW: &str = "02f86f0102843b9aca0085029e7822d68298f094d9e1459a7a482635700cbc20bbaf52d495ab9c9680841b55ba3ac080a0c199674fcb29f353693dd779c017823b954b3c69dffa3cd6b2a6ff7888798039a028ca912de909e7e6cdef9cdcaf24c54dd8c1032946dfa1d85c206b32a9064fe8";

#[test]
fn mainnet_vector_decodes_with_hash_and_sender() {
    let raw = bytes(MAINNET_RAW);
    let signed = SignedTransaction::decode(&raw).unwrap();
    assert_eq!(
        signed.hash(),
        h256("ce4dc6d7a7549a98ee3b071b67e970879ff51b5b95d1c340bacd80fa1e1aab31")
    );
    assert_eq!(
        signed.sender(),
        h160("001e2b7dE757bA469a57bF6b23d982458a07eFcE")
    );
    let tx = signed.transaction();
    assert_eq!(tx.chain_id, 1);
    assert_eq!(tx.nonce, 2);
    assert_eq!(tx.max_priority_fee_per_gas, U256::from(GWEI));
    assert_eq!(tx.max_fee_per_gas, U256::from(0x029e7822d6u64));
    assert_eq!(tx.gas_limit, 0x98f0);
    assert_eq!(
        tx.to,
        Some(h160("D9e1459A7A482635700cBc20BBAF52D495Ab9C96"))
    );
    assert_eq!(tx.value, U256::zero());
    assert_eq!(tx.data, bytes("1b55ba3a"));
    assert!(!signed.y_parity());
    assert_eq!(
        signed.r(),
        u256("c199674fcb29f353693dd779c017823b954b3c69dffa3cd6b2a6ff7888798039")
    );
    assert_eq!(signed.encode(), raw);
    // The signature verifies against our signing hash: rebuilding from the parts recovers
    // the same sender and hash.
    let rebuilt =
        SignedTransaction::from_signature(tx.clone(), signed.y_parity(), signed.r(), signed.s())
            .unwrap();
    assert_eq!(rebuilt, signed);
}

/// Mainnet transaction 0x0ec0b6a2df4d87424e5f6ad2a654e27aaeb7dac20ae9e8385cc09087ad532ee0,
/// fields, signature and signer as in reth's test `recover_signer_eip1559`
/// (paradigmxyz/reth, crates/primitives/src/transaction/eip1559.rs) and alloy's
/// EIP-1559 encoding example.
#[test]
fn mainnet_vector_from_fields_and_signature() {
    let tx = Transaction {
        chain_id: 1,
        nonce: 0x42,
        max_priority_fee_per_gas: U256::from(0x3b9aca00u64),
        max_fee_per_gas: U256::from(0x4a817c800u64),
        gas_limit: 44386,
        to: Some(h160("6069a6c32cf691f5982febae4faf8a6f3ab2f0f6")),
        value: U256::zero(),
        data: bytes("a22cb4650000000000000000000000005eee75727d804a2b13038928d36f8b188945a57a0000000000000000000000000000000000000000000000000000000000000000"),
    };
    let signed = SignedTransaction::from_signature(
        tx,
        false,
        u256("840cfc572845f5786e702984c2a582528cad4b49b2a10b9db1be7fca90058565"),
        u256("25e7109ceb98168d95b09b18bbf6b685130e0562f233877d492b94eee0c5b6d1"),
    )
    .unwrap();
    assert_eq!(
        signed.hash(),
        h256("0ec0b6a2df4d87424e5f6ad2a654e27aaeb7dac20ae9e8385cc09087ad532ee0")
    );
    assert_eq!(
        signed.sender(),
        h160("dd6b8b3dc6b7ad97db52f08a275ff4483e024cea")
    );
    let raw = signed.encode();
    assert_eq!(H256(keccak256(&raw)), signed.hash());
    assert_eq!(SignedTransaction::decode(&raw).unwrap(), signed);
}

/// ox's `getSignPayload` and `hash` tests (wevm/ox,
/// src/internal/transactionEnvelope/getSignPayload.test.ts and hash.test.ts): the signing
/// hash of fixed fields, the signature of dev account 0 over it, and the signed hash.
#[test]
fn dev_key_0_signature_matches_ox() {
    let tx = Transaction {
        chain_id: 1,
        nonce: 665,
        max_priority_fee_per_gas: U256::from(GWEI),
        max_fee_per_gas: U256::from(13 * GWEI),
        gas_limit: 21000,
        to: Some(h160("70997970c51812dc3a010c7d01b50e0d17dc79c8")),
        value: U256::from(10u64).pow(18.into()),
        data: vec![],
    };
    assert_eq!(
        signing_hash(&tx),
        h256("1d099d1f25465b53e1e56e715e35d5daaaef6a9e9883ba21652eea7f411fffc7")
    );
    let key = dev_key(0);
    let signed = SignedTransaction::sign(tx, &key);
    assert_eq!(
        signed.signing_hash(),
        h256("1d099d1f25465b53e1e56e715e35d5daaaef6a9e9883ba21652eea7f411fffc7")
    );
    assert!(!signed.y_parity());
    assert_eq!(
        signed.r(),
        u256("acf664dcd984d082b68c434feb66ac684711babdeefe6f101bf8df88fc367a37")
    );
    assert_eq!(
        signed.s(),
        u256("5e0800058a9b5c2250bed60ee969a45b7445e562a8298c2d222d114e6dfbfcb9")
    );
    assert_eq!(
        signed.hash(),
        h256("57e6a86fac2dc4b827f6d77d869d625aebf88a71790a740bc859badf556d43c4")
    );
    let sender = h160("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    assert_eq!(signed.sender(), sender);
    let decoded = SignedTransaction::decode(&signed.encode()).unwrap();
    assert_eq!(decoded.sender(), sender);
    assert_eq!(decoded, signed);
}

/// viem's `signTransaction` snapshots for EIP-1559 (wevm/viem,
/// src/accounts/utils/signTransaction.test.ts, `describe('eip1559')`), signed with dev
/// account 0: our deterministic signatures and encodings are byte-identical.
#[test]
fn dev_key_0_signatures_match_viem() {
    let base = Transaction {
        chain_id: 1,
        nonce: 785,
        max_priority_fee_per_gas: U256::zero(),
        max_fee_per_gas: U256::zero(),
        gas_limit: 21000,
        to: None,
        value: U256::zero(),
        data: vec![],
    };
    let minimal = Transaction {
        nonce: 0,
        gas_limit: 0,
        ..base.clone()
    };
    let cases = [
        (
            "default",
            base.clone(),
            "02f850018203118080825208808080c080a04012522854168b27e5dc3d5839bab5e6b39e1a0ffd343901ce1622e3d64b48f1a04e00902ae0502c4728cbf12156290df99c3ed7de85b1dbfe20b5c36931733a33",
        ),
        (
            "minimal (w/ maxFeePerGas)",
            Transaction {
                max_fee_per_gas: U256::one(),
                ..minimal.clone()
            },
            "02f84c0180800180808080c080a0c95f157628e67a435b1b85584db1b8346cbccf9890d28466f6edfed07d097793a03bdfde4f59a340a4308b5b4d2c89da83838d691c8059b228d0667309f1d2e893",
        ),
        (
            "minimal (w/ type)",
            minimal,
            "02f84c0180808080808080c001a0db5b8a12b90b68aeb786379ac14219ac85934e833082dee6cf03fd912809224da06902cc208e3b14a056dca2005c96f59eae33118b899f642551a58cff09044c9a",
        ),
        (
            "args: data",
            Transaction {
                data: vec![0x12, 0x34],
                ..base.clone()
            },
            "02f8520182031180808252088080821234c001a054d552c58a162c9003633c20871d8e381ef7a3c35d1c8a79c7c12d5cf09a0914a03c5d6241f8c4fcf8b35262de038d3ab1940feb1a70b934ae5d40ea6bce912e2d",
        ),
        (
            "args: maxFeePerGas/maxPriorityFeePerGas",
            Transaction {
                max_priority_fee_per_gas: U256::from(2 * GWEI),
                max_fee_per_gas: U256::from(20 * GWEI),
                ..base
            },
            "02f8590182031184773594008504a817c800825208808080c001a06ea33b188b30a5f5d0d1cec62b2bac7203ff428a49048766596727737689043fa0255b74c8e704e3692497a29cd246ffc4344b4107457ce1c914fe2b4e09993859",
        ),
    ];
    let key = dev_key(0);
    let sender = address_of(&key);
    for (name, tx, expected) in cases {
        let expected = bytes(expected);
        let signed = SignedTransaction::sign(tx, &key);
        assert_eq!(
            hex::encode(signed.encode()),
            hex::encode(&expected),
            "{name}"
        );
        let decoded = SignedTransaction::decode(&expected).unwrap();
        assert_eq!(decoded.sender(), sender, "{name}");
        assert_eq!(decoded, signed, "{name}");
        assert_eq!(decoded.hash(), H256(keccak256(&expected)), "{name}");
    }
}

/// viem's `args: accessList` snapshot (same file): validly signed, but its access list is
/// not empty.
#[test]
fn non_empty_access_list_is_rejected() {
    let raw = bytes("02f8ac018203118080825208808080f85bf85994f39fd6e51aad88f6f4ce6ab8827279cfffb92266f842a00000000000000000000000000000000000000000000000000000000000000001a060fdd29ff912ce880cd3edaf9f932dc61d3dae823ea77e0323f94adb9f6a72fe80a0df4810a25d0e147163b03e392bf083dc852702715b9ba848eb9821c70ce2c92ea00b6d11209ef326abaf83aa2443ba61851c7c8ca0813e347a04b501f584b03024");
    assert_eq!(
        SignedTransaction::decode(&raw),
        Err(TxDecodeError::AccessListNotEmpty)
    );
}

// ---- signing ----

fn sample_tx() -> Transaction {
    Transaction {
        chain_id: 31337,
        nonce: 7,
        max_priority_fee_per_gas: U256::from(GWEI),
        max_fee_per_gas: U256::from(30 * GWEI),
        gas_limit: 100_000,
        to: Some(h160("70997970C51812dc3A010C7d01b50e0d17dc79C8")),
        value: U256::from(12345u64),
        data: b"hello".to_vec(),
    }
}

#[test]
fn signing_is_deterministic_low_s_and_recovers_the_signer() {
    for (i, (key, address)) in dev_accounts().into_iter().enumerate() {
        let mut tx = sample_tx();
        tx.nonce = i as u64;
        let signed = SignedTransaction::sign(tx.clone(), &key);
        assert_eq!(signed.sender(), address);
        assert!(signed.s() <= order() >> 1, "low s");
        assert_eq!(SignedTransaction::sign(tx, &key), signed, "deterministic");
        let raw = signed.encode();
        let decoded = SignedTransaction::decode(&raw).unwrap();
        assert_eq!(decoded.sender(), address);
        assert_eq!(decoded.hash(), H256(keccak256(&raw)));
        assert_eq!(decoded, signed);
    }
}

#[test]
fn creation_round_trips_with_empty_to() {
    let tx = Transaction {
        to: None,
        data: vec![0xab; 300],
        ..sample_tx()
    };
    let signed = SignedTransaction::sign(tx, &dev_key(1));
    let raw = signed.encode();
    let decoded = SignedTransaction::decode(&raw).unwrap();
    assert_eq!(decoded.transaction().to, None);
    assert_eq!(decoded, signed);
    assert_eq!(decoded.into_transaction().data.len(), 300);
}

#[test]
fn a_changed_field_changes_the_sender_not_the_validity() {
    let signed = SignedTransaction::sign(sample_tx(), &dev_key(0));
    let mut tx = signed.transaction().clone();
    tx.nonce += 1;
    // Same signature over other fields: either no key recovers, or another one does.
    match SignedTransaction::from_signature(tx, signed.y_parity(), signed.r(), signed.s()) {
        Ok(other) => assert_ne!(other.sender(), signed.sender()),
        Err(e) => assert_eq!(e, TxDecodeError::RecoveryFailed),
    }
}

// ---- hand-built envelopes for the error variants ----

/// RLP of a byte string.
fn rlp_str(payload: &[u8]) -> Vec<u8> {
    if payload.len() == 1 && payload[0] < 0x80 {
        return payload.to_vec();
    }
    with_prefix(0x80, payload)
}

/// RLP of a list whose items are already encoded.
fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    with_prefix(0xc0, &items.concat())
}

fn with_prefix(offset: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if payload.len() < 56 {
        out.push(offset + payload.len() as u8);
    } else {
        let len = (payload.len() as u64).to_be_bytes();
        let start = len.iter().position(|b| *b != 0).unwrap();
        out.push(offset + 55 + (8 - start) as u8);
        out.extend_from_slice(&len[start..]);
    }
    out.extend_from_slice(payload);
    out
}

fn rlp_u256(value: U256) -> Vec<u8> {
    let be = value.to_big_endian();
    let start = be.iter().position(|b| *b != 0).unwrap_or(32);
    rlp_str(&be[start..])
}

/// The twelve encoded fields of a valid signed transaction.
fn valid_fields() -> (SignedTransaction, Vec<Vec<u8>>) {
    let signed = SignedTransaction::sign(sample_tx(), &dev_key(0));
    let tx = signed.transaction();
    let fields = vec![
        rlp_u256(tx.chain_id.into()),
        rlp_u256(tx.nonce.into()),
        rlp_u256(tx.max_priority_fee_per_gas),
        rlp_u256(tx.max_fee_per_gas),
        rlp_u256(tx.gas_limit.into()),
        rlp_str(tx.to.unwrap().as_bytes()),
        rlp_u256(tx.value),
        rlp_str(&tx.data),
        rlp_list(&[]),
        rlp_u256(u64::from(signed.y_parity()).into()),
        rlp_u256(signed.r()),
        rlp_u256(signed.s()),
    ];
    assert_eq!(envelope(&fields), signed.encode(), "test encoder agrees");
    (signed, fields)
}

fn envelope(fields: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0x02];
    out.extend(rlp_list(fields));
    out
}

/// Decodes a valid envelope with field `index` replaced by `encoded`.
fn decode_with(index: usize, encoded: Vec<u8>) -> Result<SignedTransaction, TxDecodeError> {
    let (_, mut fields) = valid_fields();
    fields[index] = encoded;
    SignedTransaction::decode(&envelope(&fields))
}

const NONCE: usize = 1;
const TO: usize = 5;
const VALUE: usize = 6;
const DATA: usize = 7;
const ACCESS_LIST: usize = 8;
const Y_PARITY: usize = 9;
const R: usize = 10;
const S: usize = 11;

#[test]
fn every_decode_error_variant() {
    use TxDecodeError::*;
    let (signed, fields) = valid_fields();
    let valid = envelope(&fields);
    let decode = SignedTransaction::decode;

    assert_eq!(decode(&[]), Err(Empty));
    assert_eq!(decode(&[0x01, 0xc0]), Err(UnsupportedType(0x01)));
    // A legacy transaction starts with its list prefix.
    assert_eq!(decode(&valid[1..]), Err(UnsupportedType(valid[1])));

    assert_eq!(decode(&[0x02]), Err(MissingField(TxField::Payload)));
    assert_eq!(
        decode(&envelope(&fields[..11])),
        Err(MissingField(TxField::S))
    );
    assert_eq!(
        decode(&envelope(&fields[..0])),
        Err(MissingField(TxField::ChainId))
    );

    assert_eq!(
        decode(&valid[..valid.len() - 1]),
        Err(Truncated(TxField::Payload))
    );
    // A field whose length runs past the end of the list.
    let mut inner = fields[..DATA].concat();
    inner.extend([0x85, 1, 2]);
    let mut short = vec![0x02];
    short.extend(with_prefix(0xc0, &inner));
    assert_eq!(decode(&short), Err(Truncated(TxField::Data)));

    assert_eq!(
        decode_with(NONCE, vec![0x81, 0x07]),
        Err(NonCanonicalSingleByte(TxField::Nonce))
    );
    assert_eq!(
        decode_with(DATA, vec![0xb8, 0x03, 1, 2, 3]),
        Err(NonCanonicalLength(TxField::Data))
    );
    // The payload list in the long form although it is shorter than 56 bytes.
    let small = rlp_list(&vec![vec![0x80]; 12]);
    let mut long_form = vec![0x02, 0xf8, 12];
    long_form.extend_from_slice(&small[1..]);
    assert_eq!(
        decode(&long_form),
        Err(NonCanonicalLength(TxField::Payload))
    );

    assert_eq!(decode(&[0x02, 0x80]), Err(ExpectedList(TxField::Payload)));
    assert_eq!(
        decode_with(ACCESS_LIST, vec![0x80]),
        Err(ExpectedList(TxField::AccessList))
    );
    assert_eq!(
        decode_with(NONCE, vec![0xc0]),
        Err(ExpectedString(TxField::Nonce))
    );
    assert_eq!(
        decode_with(TO, rlp_list(&[])),
        Err(ExpectedString(TxField::To))
    );

    let mut trailing = valid.clone();
    trailing.extend([0x00, 0x00]);
    assert_eq!(decode(&trailing), Err(TrailingBytes(2)));

    let mut extra = fields.clone();
    extra.push(vec![0x80]);
    assert_eq!(decode(&envelope(&extra)), Err(ExtraFields(1)));

    assert_eq!(
        decode_with(NONCE, vec![0x00]),
        Err(LeadingZero(TxField::Nonce))
    );
    assert_eq!(
        decode_with(VALUE, vec![0x82, 0x00, 0x01]),
        Err(LeadingZero(TxField::Value))
    );
    assert_eq!(
        decode_with(Y_PARITY, vec![0x00]),
        Err(LeadingZero(TxField::YParity))
    );

    assert_eq!(
        decode_with(0, rlp_str(&[1; 9])),
        Err(IntegerTooLarge {
            field: TxField::ChainId,
            len: 9,
            max: 8
        })
    );
    assert_eq!(
        decode_with(VALUE, rlp_str(&[1; 33])),
        Err(IntegerTooLarge {
            field: TxField::Value,
            len: 33,
            max: 32
        })
    );

    assert_eq!(decode_with(TO, rlp_str(&[1; 19])), Err(InvalidToLength(19)));
    assert_eq!(decode_with(TO, rlp_str(&[1; 32])), Err(InvalidToLength(32)));
    assert_eq!(decode_with(TO, rlp_str(&[1])), Err(InvalidToLength(1)));

    assert_eq!(
        decode_with(ACCESS_LIST, rlp_list(&[rlp_list(&[])])),
        Err(AccessListNotEmpty)
    );

    assert_eq!(decode_with(Y_PARITY, vec![0x02]), Err(InvalidYParity(2)));
    assert_eq!(decode_with(Y_PARITY, vec![27]), Err(InvalidYParity(27)));

    assert_eq!(
        decode_with(R, vec![0x80]),
        Err(ZeroSignatureValue(TxField::R))
    );
    assert_eq!(
        decode_with(S, vec![0x80]),
        Err(ZeroSignatureValue(TxField::S))
    );
    assert_eq!(
        decode_with(R, rlp_u256(order())),
        Err(SignatureValueTooLarge(TxField::R))
    );
    assert_eq!(
        decode_with(S, rlp_u256(U256::MAX)),
        Err(SignatureValueTooLarge(TxField::S))
    );

    assert_eq!(decode_with(S, rlp_u256(order() - signed.s())), Err(HighS));

    // An r that is not the x coordinate of any curve point recovers no key.
    let r = (1u64..)
        .map(U256::from)
        .find(|r| decode_with(R, rlp_u256(*r)) == Err(RecoveryFailed))
        .unwrap();
    assert!(r < U256::from(64u64), "found quickly: r = {r}");
    assert_eq!(
        SignedTransaction::from_signature(sample_tx(), false, r, signed.s()),
        Err(RecoveryFailed)
    );

    // Every variant names what is wrong.
    for error in [
        Empty,
        UnsupportedType(0x01),
        Truncated(TxField::Payload),
        IntegerTooLarge {
            field: TxField::GasLimit,
            len: 9,
            max: 8,
        },
        HighS,
    ] {
        assert!(!error.to_string().is_empty());
    }
    assert_eq!(
        IntegerTooLarge {
            field: TxField::GasLimit,
            len: 9,
            max: 8,
        }
        .to_string(),
        "gas_limit: integer of 9 bytes does not fit in 8 bytes"
    );
}

// ---- malleability (EIP-2) ----

#[test]
fn high_s_signatures_are_rejected() {
    let (signed, fields) = valid_fields();
    let high_s = order() - signed.s();
    // The malleable twin: (r, n - s) with the other parity is the same signature in
    // pre-EIP-2 ECDSA. Both the envelope and explicit signatures refuse it.
    let mut twin = fields.clone();
    twin[Y_PARITY] = rlp_u256(u64::from(!signed.y_parity()).into());
    twin[S] = rlp_u256(high_s);
    assert_eq!(
        SignedTransaction::decode(&envelope(&twin)),
        Err(TxDecodeError::HighS)
    );
    assert_eq!(
        SignedTransaction::from_signature(
            signed.transaction().clone(),
            !signed.y_parity(),
            signed.r(),
            high_s
        ),
        Err(TxDecodeError::HighS)
    );
    // n/2 itself is the largest accepted s; n/2 + 1 is refused.
    let half = order() >> 1;
    assert_eq!(
        decode_with(S, rlp_u256(half + 1)),
        Err(TxDecodeError::HighS)
    );
    assert_ne!(decode_with(S, rlp_u256(half)), Err(TxDecodeError::HighS));
}

// ---- parallel recovery ----

#[test]
fn parallel_recovery_preserves_order() {
    let accounts = dev_accounts();
    let mut raw: Vec<Vec<u8>> = (0..37)
        .map(|i| {
            let (key, _) = &accounts[i % accounts.len()];
            let mut tx = sample_tx();
            tx.nonce = i as u64;
            SignedTransaction::sign(tx, key).encode()
        })
        .collect();
    raw.insert(5, vec![0x02, 0xc0]);
    raw.insert(20, vec![]);
    let sequential: Vec<_> = raw.iter().map(|r| SignedTransaction::decode(r)).collect();
    for threads in [0, 1, 2, 3, 8, 100] {
        assert_eq!(recover_senders_parallel(&raw, threads), sequential);
    }
    assert_eq!(
        sequential[5],
        Err(TxDecodeError::MissingField(TxField::ChainId))
    );
    assert_eq!(sequential[20], Err(TxDecodeError::Empty));
    assert_eq!(sequential[0].as_ref().unwrap().sender(), accounts[0].1);
    assert!(recover_senders_parallel(&[], 4).is_empty());
}

// ---- properties ----

fn arb_u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::zero()),
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(|b| U256::from_big_endian(&b)),
        Just(U256::MAX),
    ]
}

fn arb_tx() -> impl Strategy<Value = Transaction> {
    (
        any::<u64>(),
        any::<u64>(),
        arb_u256(),
        arb_u256(),
        any::<u64>(),
        proptest::option::of(any::<[u8; 20]>()),
        arb_u256(),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(
            |(chain_id, nonce, priority, max_fee, gas_limit, to, value, data)| Transaction {
                chain_id,
                nonce,
                max_priority_fee_per_gas: priority,
                max_fee_per_gas: max_fee,
                gas_limit,
                to: to.map(H160),
                value,
                data,
            },
        )
}

fn arb_key() -> impl Strategy<Value = SigningKey> {
    prop_oneof![
        (0..DEV_KEYS.len()).prop_map(dev_key),
        any::<[u8; 32]>().prop_filter_map("a valid scalar", |b| SigningKey::from_slice(&b).ok()),
    ]
}

/// Decoding must not panic; whatever it accepts is canonical: its fields, encoded anew,
/// give the same bytes, and its hash is their keccak.
fn check_decode(input: &[u8]) {
    if let Ok(signed) = SignedTransaction::decode(input) {
        assert_eq!(signed.envelope(), input);
        let reencoded = SignedTransaction::from_signature(
            signed.transaction().clone(),
            signed.y_parity(),
            signed.r(),
            signed.s(),
        )
        .expect("a decoded signature is valid");
        assert_eq!(reencoded.encode(), input);
        assert_eq!(signed.hash(), H256(keccak256(input)));
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    match *mutation {
        Mutation::Set(i, b) if !bytes.is_empty() => {
            let i = i % bytes.len();
            bytes[i] = b;
        }
        Mutation::Insert(i, b) => {
            let i = i % (bytes.len() + 1);
            bytes.insert(i, b);
        }
        Mutation::Remove(i) if !bytes.is_empty() => {
            let i = i % bytes.len();
            bytes.remove(i);
        }
        Mutation::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
        _ => {}
    }
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn prop_round_trip(tx in arb_tx(), key in arb_key()) {
        let signed = SignedTransaction::sign(tx.clone(), &key);
        prop_assert_eq!(signed.sender(), address_of(&key));
        prop_assert!(signed.s() <= order() >> 1);
        let raw = signed.encode();
        prop_assert_eq!(raw[0], 0x02);
        let decoded = SignedTransaction::decode(&raw).unwrap();
        prop_assert_eq!(decoded.transaction(), &tx);
        prop_assert_eq!(decoded.sender(), address_of(&key));
        prop_assert_eq!(decoded.hash(), H256(keccak256(&raw)));
        prop_assert_eq!(decoded.encode(), raw);
        prop_assert_eq!(decoded, signed);
    }

    #[test]
    fn prop_random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_decode(&raw);
        // Also behind a type byte and a plausible list header, to reach the fields.
        let mut typed = vec![0x02];
        typed.extend(with_prefix(0xc0, &raw));
        check_decode(&typed);
    }

    #[test]
    fn prop_mutated_envelopes_never_panic(
        tx in arb_tx(),
        mutations in proptest::collection::vec(arb_mutation(), 1..4),
    ) {
        let mut raw = SignedTransaction::sign(tx, &dev_key(0)).encode();
        for mutation in &mutations {
            apply(&mut raw, mutation);
        }
        check_decode(&raw);
    }
}

// ---- differential tests against alloy ----

/// Our transaction as alloy's (fees must fit in u128, as alloy's do).
fn to_alloy(tx: &Transaction) -> alloy_consensus::TxEip1559 {
    use alloy_primitives::{Address, Bytes, TxKind};
    alloy_consensus::TxEip1559 {
        chain_id: tx.chain_id,
        nonce: tx.nonce,
        gas_limit: tx.gas_limit,
        max_fee_per_gas: tx.max_fee_per_gas.as_u128(),
        max_priority_fee_per_gas: tx.max_priority_fee_per_gas.as_u128(),
        to: match tx.to {
            Some(to) => TxKind::Call(Address::from(to.0)),
            None => TxKind::Create,
        },
        value: alloy_u256(tx.value),
        access_list: Default::default(),
        input: Bytes::from(tx.data.clone()),
    }
}

fn alloy_u256(value: U256) -> alloy_primitives::U256 {
    alloy_primitives::U256::from_be_bytes(value.to_big_endian())
}

/// What alloy makes of an envelope: (hash, signer, canonical re-encoding, s) when it
/// decodes an EIP-1559 transaction with an empty access list and recovers a signer.
fn alloy_view(raw: &[u8]) -> Option<(H256, H160, Vec<u8>, U256)> {
    use alloy_eips::eip2718::{Decodable2718, Encodable2718};
    let envelope = alloy_consensus::TxEnvelope::decode_2718(&mut &raw[..]).ok()?;
    let signed = envelope.as_eip1559()?;
    if !signed.tx().access_list.is_empty() {
        return None;
    }
    let signer = signed.recover_signer().ok()?;
    Some((
        H256(signed.hash().0),
        H160(signer.0 .0),
        envelope.encoded_2718(),
        U256::from_big_endian(&signed.signature().s().to_be_bytes::<32>()),
    ))
}

fn arb_alloy_compatible_tx() -> impl Strategy<Value = Transaction> {
    (arb_tx(), any::<u128>(), any::<u128>()).prop_map(|(mut tx, priority, max_fee)| {
        tx.max_priority_fee_per_gas = U256::from(priority);
        tx.max_fee_per_gas = U256::from(max_fee);
        tx
    })
}

#[test]
fn published_vectors_agree_with_alloy() {
    let raw = bytes(MAINNET_RAW);
    let ours = SignedTransaction::decode(&raw).unwrap();
    assert_eq!(
        alloy_view(&raw),
        Some((ours.hash(), ours.sender(), raw, ours.s()))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Signing hash, envelope bytes, transaction hash and sender agree with alloy.
    #[test]
    fn prop_signing_and_encoding_match_alloy(tx in arb_alloy_compatible_tx(), key in arb_key()) {
        use alloy_consensus::SignableTransaction;
        use alloy_eips::eip2718::Encodable2718;
        let ours = SignedTransaction::sign(tx.clone(), &key);
        let theirs = to_alloy(&tx);
        prop_assert_eq!(H256(theirs.signature_hash().0), signing_hash(&tx));
        let signature = alloy_primitives::Signature::new(
            alloy_u256(ours.r()),
            alloy_u256(ours.s()),
            ours.y_parity(),
        );
        let theirs = alloy_consensus::TxEnvelope::from(theirs.into_signed(signature));
        prop_assert_eq!(theirs.encoded_2718(), ours.encode());
        prop_assert_eq!(
            alloy_view(&ours.encode()),
            Some((ours.hash(), ours.sender(), ours.encode(), ours.s()))
        );
    }

    /// On mutated envelopes, what we accept alloy accepts with the same hash and sender;
    /// what alloy accepts canonically, with an empty access list and a low s, we accept.
    #[test]
    fn prop_mutated_envelopes_agree_with_alloy(
        tx in arb_alloy_compatible_tx(),
        mutations in proptest::collection::vec(arb_mutation(), 1..3),
    ) {
        let mut raw = SignedTransaction::sign(tx, &dev_key(2)).encode();
        for mutation in &mutations {
            apply(&mut raw, mutation);
        }
        let ours = SignedTransaction::decode(&raw);
        let theirs = alloy_view(&raw);
        if let Ok(ours) = &ours {
            prop_assert_eq!(
                &theirs,
                &Some((ours.hash(), ours.sender(), raw.clone(), ours.s()))
            );
        }
        if let Some((_, sender, encoded, s)) = theirs {
            if encoded == raw && s <= order() >> 1 {
                prop_assert_eq!(ours.map(|o| o.sender()), Ok(sender));
            }
        }
    }
}

// ---- timing ----

/// Time of one decode with sender recovery. Run with
/// `cargo test --release --test chain_tx -- --ignored --nocapture recovery_timing`.
#[test]
#[ignore = "timing; run in release"]
fn recovery_timing() {
    use std::time::Instant;
    let accounts = dev_accounts();
    let raw: Vec<Vec<u8>> = (0..2000u64)
        .map(|i| {
            let mut tx = sample_tx();
            tx.nonce = i;
            SignedTransaction::sign(tx, &accounts[i as usize % 10].0).encode()
        })
        .collect();
    // Warm up.
    for r in raw.iter().take(100) {
        SignedTransaction::decode(r).unwrap();
    }
    let start = Instant::now();
    for r in &raw {
        std::hint::black_box(SignedTransaction::decode(std::hint::black_box(r)).unwrap());
    }
    let sequential = start.elapsed();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    let results = recover_senders_parallel(&raw, threads);
    let parallel = start.elapsed();
    assert!(results.iter().all(Result::is_ok));

    let key = &accounts[0].0;
    let start = Instant::now();
    for r in raw.iter().take(500) {
        let tx = SignedTransaction::decode(r).unwrap().into_transaction();
        std::hint::black_box(SignedTransaction::sign(tx, key));
    }
    let decode_and_sign = start.elapsed();

    // k256's own recovery (which verifies the recovered key) on the same signatures.
    let parts: Vec<_> = raw
        .iter()
        .map(|r| {
            let signed = SignedTransaction::decode(r).unwrap();
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&signed.r().to_big_endian());
            sig[32..].copy_from_slice(&signed.s().to_big_endian());
            (
                signed.signing_hash(),
                k256::ecdsa::Signature::from_slice(&sig).unwrap(),
                k256::ecdsa::RecoveryId::new(signed.y_parity(), false),
            )
        })
        .collect();
    let start = Instant::now();
    for (hash, sig, id) in &parts {
        std::hint::black_box(
            k256::ecdsa::VerifyingKey::recover_from_prehash(hash.as_bytes(), sig, *id).unwrap(),
        );
    }
    let k256_recovery = start.elapsed();

    let n = raw.len() as u128;
    println!(
        "k256 VerifyingKey::recover_from_prehash alone: {} ns per signature",
        k256_recovery.as_nanos() / n
    );
    println!(
        "decode + sender recovery: {} ns per transaction ({} transactions, 1 thread)",
        sequential.as_nanos() / n,
        raw.len()
    );
    println!(
        "recover_senders_parallel with {threads} threads: {} ns per transaction",
        parallel.as_nanos() / n
    );
    println!(
        "sign: {} ns per transaction",
        (decode_and_sign.as_nanos() / 500).saturating_sub(sequential.as_nanos() / n)
    );
}
