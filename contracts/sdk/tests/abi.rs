//! Selectors, keccak and the ABI codec against published values. Hashes not taken from
//! Ethereum references were cross-checked with the host's keccak-256 (tiny-keccak).

use tally_sdk::abi::{self, AbiStr, AbiType, Decoder, TypeName};
use tally_sdk::keccak::{keccak256, Keccak};
use tally_sdk::testing::{self, Outcome};
use tally_sdk::types::hex;
use tally_sdk::{selector, Address, Bytes32, U256};

fn h32(s: &str) -> [u8; 32] {
    hex::<32>(s)
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn keccak_known_vectors() {
    assert_eq!(
        keccak256(b""),
        h32("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    );
    assert_eq!(
        keccak256(b"abc"),
        h32("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
    );
    assert_eq!(
        keccak256(b"The quick brown fox jumps over the lazy dog"),
        h32("4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")
    );
    // Three blocks (300 bytes), and the same absorbed in uneven pieces.
    let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let expected = h32("a679e749a6af300c36e7ff2255d220864eab27b382f9cfdc5aa4d13563ba36ff");
    assert_eq!(keccak256(&data), expected);
    let pieces = Keccak::new()
        .update(&data[..1])
        .update(&data[1..136])
        .update(&data[136..137])
        .update(&data[137..]);
    assert_eq!(pieces.finalize(), expected);
    // Exactly one block of input: the padding takes a block of its own.
    assert_eq!(
        Keccak::new().update(&[0u8; 136]).finalize(),
        keccak256(&[0u8; 136])
    );
}

#[test]
fn erc20_selectors() {
    assert_eq!(selector!("transfer(address,uint256)"), 0xa9059cbb);
    assert_eq!(selector!("balanceOf(address)"), 0x70a08231);
    assert_eq!(selector!("approve(address,uint256)"), 0x095ea7b3);
    assert_eq!(
        selector!("transferFrom(address,address,uint256)"),
        0x23b872dd
    );
    assert_eq!(selector!("allowance(address,address)"), 0xdd62ed3e);
    assert_eq!(selector!("totalSupply()"), 0x18160ddd);
    assert_eq!(selector!("name()"), 0x06fdde03);
    assert_eq!(selector!("symbol()"), 0x95d89b41);
    assert_eq!(selector!("decimals()"), 0x313ce567);
    assert_eq!(selector!("mint(address,uint256)"), 0x40c10f19);
    assert_eq!(selector!("Error(string)"), abi::ERROR_SELECTOR);
    assert_eq!(selector!("Panic(uint256)"), abi::PANIC_SELECTOR);
    // From the Solidity ABI specification.
    assert_eq!(selector!("baz(uint32,bool)"), 0xcdcd77c0);
}

#[test]
fn selectors_from_types_match_signatures() {
    const S: u32 = abi::selector(
        "transfer",
        &[<Address as AbiType>::NAME, <U256 as AbiType>::NAME],
    );
    assert_eq!(S, 0xa9059cbb);
    assert_eq!(
        abi::selector(
            "f",
            &[
                <[U256; 3] as AbiType>::NAME,
                <[[Address; 2]; 10] as AbiType>::NAME,
                <&[u8] as AbiType>::NAME,
                <AbiStr as AbiType>::NAME,
                <Bytes32 as AbiType>::NAME,
                <bool as AbiType>::NAME,
                <u8 as AbiType>::NAME,
                <u64 as AbiType>::NAME,
            ],
        ),
        abi::selector_of("f(uint256[3],address[2][10],bytes,string,bytes32,bool,uint8,uint64)")
    );
    assert_eq!(
        abi::selector("g", &[TypeName::new("uint256").array(123)]),
        abi::selector_of("g(uint256[123])")
    );
    assert_eq!(abi::selector("h", &[]), abi::selector_of("h()"));
}

#[test]
fn event_topics() {
    assert_eq!(
        keccak256(b"Transfer(address,address,uint256)"),
        h32("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
    );
    assert_eq!(
        keccak256(b"Approval(address,address,uint256)"),
        h32("8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925")
    );
}

#[test]
fn error_string_encoding_matches_solidity_docs() {
    // docs.soliditylang.org, "Error handling": revert("Not enough Ether provided.")
    let expected = unhex(
        "08c379a0
         0000000000000000000000000000000000000000000000000000000000000020
         000000000000000000000000000000000000000000000000000000000000001a
         4e6f7420656e6f7567682045746865722070726f76696465642e000000000000",
    );
    assert_eq!(
        abi::encode_error("Not enough Ether provided."),
        &expected[..]
    );
    assert_eq!(
        abi::decode_error_reason(&expected),
        Some(&b"Not enough Ether provided."[..])
    );
    let short = abi::error_const("out of gas");
    assert_eq!(&short[..], abi::encode_error("out of gas"));
    assert_eq!(abi::decode_error_reason(&expected[..50]), None);
    assert_eq!(abi::decode_error_reason(b"\x08\xc3\x79"), None);
}

#[test]
fn encode_static_values() {
    // Solidity ABI specification: baz(69, true)
    let call = abi::encode_call(0xcdcd77c0, &(69u32, true));
    let expected = unhex(
        "cdcd77c0
         0000000000000000000000000000000000000000000000000000000000000045
         0000000000000000000000000000000000000000000000000000000000000001",
    );
    assert_eq!(call, &expected[..]);

    let a = Address::from_hex("0x00000000000000000000000000000000000000ff");
    let enc = abi::encode(&(a, U256::from_u64(1), [1u8, 2u8], Bytes32([7; 32])));
    assert_eq!(enc.len(), 5 * 32);
    assert_eq!(enc[31], 0xff);
    assert_eq!(enc[63], 1);
    assert_eq!(enc[95], 1);
    assert_eq!(enc[127], 2);
    assert_eq!(&enc[128..], &[7u8; 32]);
    // A single value is a 1-tuple; () is empty.
    assert_eq!(abi::encode(&U256::MAX), &[0xffu8; 32]);
    assert!(abi::encode(&()).is_empty());
}

#[test]
fn encode_and_decode_dynamic_values() {
    // sam("dave", true, ...) from the ABI specification, without the array.
    let enc = abi::encode(&(&b"dave"[..], true));
    let expected = unhex(
        "0000000000000000000000000000000000000000000000000000000000000040
         0000000000000000000000000000000000000000000000000000000000000001
         0000000000000000000000000000000000000000000000000000000000000004
         6461766500000000000000000000000000000000000000000000000000000000",
    );
    assert_eq!(enc, &expected[..]);
    let (bytes, flag): (&[u8], bool) = abi::decode(enc);
    assert_eq!((bytes, flag), (&b"dave"[..], true));

    // Two strings and a uint8 (the token's constructor arguments), one longer than 32 bytes.
    let name = "A token with a name longer than one word";
    let enc = abi::encode(&(name, "TKN", 18u8));
    assert_eq!(enc.len(), 3 * 32 + (32 + 64) + (32 + 32));
    assert_eq!(enc[31], 0x60);
    assert_eq!(enc[63], 0x60 + 32 + 64);
    let (n, s, d): (AbiStr, &str, u8) = abi::decode(enc);
    assert_eq!(n.to_str(), Some(name));
    assert_eq!((s, d), ("TKN", 18));

    // Empty bytes: a length word and no data.
    let enc = abi::encode(&(&b""[..],));
    assert_eq!(enc.len(), 64);
    let (e,): (&[u8],) = abi::decode(enc);
    assert!(e.is_empty());

    // A static array.
    let values = [U256::from_u64(1), U256::from_u64(2), U256::MAX];
    let enc = abi::encode(&(values, 5u64));
    assert_eq!(enc.len(), 4 * 32);
    let mut d = Decoder::new(enc);
    assert_eq!(d.next::<[U256; 3]>(), values);
    assert_eq!(d.next::<u64>(), 5);
}

/// Runs `f` as an entry point in the mock and returns how it ended.
fn try_decode(f: fn()) -> Outcome {
    testing::reset();
    testing::run(f, &[])
}

#[test]
fn malformed_input_reverts_with_abi_decode() {
    fn dirty_address() {
        let mut w = [0u8; 32];
        w[0] = 1;
        let _: (Address,) = abi::decode(&w);
    }
    fn bool_two() {
        let mut w = [0u8; 32];
        w[31] = 2;
        let _: (bool,) = abi::decode(&w);
    }
    fn uint8_overflow() {
        let mut w = [0u8; 32];
        w[30] = 1;
        let _: (u8,) = abi::decode(&w);
    }
    fn short() {
        let _: (U256, U256) = abi::decode(&[0u8; 63]);
    }
    fn bytes_past_end() {
        let mut enc = abi::encode(&(&b"hello"[..],)).to_vec();
        enc[63] = 40; // length 40, only 32 bytes of data
        let _: (&[u8],) = abi::decode(&enc);
    }
    fn huge_offset() {
        let mut enc = abi::encode(&(&b"hello"[..],)).to_vec();
        enc[0] = 0xff;
        let _: (&[u8],) = abi::decode(&enc);
    }
    fn invalid_utf8() {
        let enc = abi::encode(&(&[0xffu8, 0xfe][..],));
        let _: (&str,) = abi::decode(enc);
    }
    let cases: [fn(); 7] = [
        dirty_address,
        bool_two,
        uint8_overflow,
        short,
        bytes_past_end,
        huge_offset,
        invalid_utf8,
    ];
    for f in cases {
        assert_eq!(try_decode(f).revert_reason(), "ABI decode");
    }
}
