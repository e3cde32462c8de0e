//! [`Account`]: what the account trie stores per address, and its Ethereum RLP encoding
//! `rlp([nonce, balance, storage_root, code_hash])`; plus the RLP of storage values.

use alloy_rlp::{Buf, Header};
use primitive_types::{H256, U256};

use crate::rlp::{encode_list, trim_leading_zeros};
use crate::trie::EMPTY_ROOT;

/// keccak-256 of empty code: the code hash of every account without code.
pub const EMPTY_CODE_HASH: H256 = H256([
    0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
    0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
]);

/// An account as stored in the account trie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    pub nonce: u64,
    pub balance: U256,
    /// Root of the account's storage trie.
    pub storage_root: H256,
    /// keccak-256 of the account's code ([`EMPTY_CODE_HASH`] for none).
    pub code_hash: H256,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            nonce: 0,
            balance: U256::zero(),
            storage_root: H256(EMPTY_ROOT),
            code_hash: EMPTY_CODE_HASH,
        }
    }
}

/// Why an account or storage record could not be decoded.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed state record: {0}")]
pub struct DecodeError(pub &'static str);

impl Account {
    /// Whether the account has code.
    pub fn has_code(&self) -> bool {
        self.code_hash != EMPTY_CODE_HASH
    }

    /// `rlp([nonce, balance, storage_root, code_hash])`.
    pub fn encode(&self) -> Vec<u8> {
        let nonce = self.nonce.to_be_bytes();
        let balance = self.balance.to_big_endian();
        encode_list(&[
            trim_leading_zeros(&nonce),
            trim_leading_zeros(&balance),
            &self.storage_root.0,
            &self.code_hash.0,
        ])
    }

    /// Decodes [`Account::encode`]'s output, rejecting non-canonical integers and trailing bytes.
    pub fn decode(mut bytes: &[u8]) -> Result<Self, DecodeError> {
        let header = Header::decode(&mut bytes).map_err(|_| DecodeError("account header"))?;
        if !header.list || header.payload_length != bytes.len() {
            return Err(DecodeError("account is not one RLP list"));
        }
        let nonce = decode_uint(&mut bytes, 8)?;
        let balance = decode_uint(&mut bytes, 32)?;
        let storage_root = decode_hash(&mut bytes)?;
        let code_hash = decode_hash(&mut bytes)?;
        if !bytes.is_empty() {
            return Err(DecodeError("trailing account fields"));
        }
        Ok(Account {
            nonce: U256::from_big_endian(&right_align(nonce)).low_u64(),
            balance: U256::from_big_endian(&right_align(balance)),
            storage_root,
            code_hash,
        })
    }
}

/// A storage value as the storage trie holds it: RLP of the value without leading zeros.
/// Zero values are not stored (deleting the key instead).
pub fn encode_storage_value(value: &H256) -> Vec<u8> {
    alloy_rlp::encode(trim_leading_zeros(&value.0))
}

/// Inverse of [`encode_storage_value`].
pub fn decode_storage_value(mut bytes: &[u8]) -> Result<H256, DecodeError> {
    let value = decode_uint(&mut bytes, 32)?;
    if !bytes.is_empty() {
        return Err(DecodeError("trailing bytes after storage value"));
    }
    Ok(H256(right_align(value)))
}

/// Right-aligns up to 32 big-endian bytes in a word.
fn right_align(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(bytes);
    out
}

/// An RLP string holding a canonical unsigned integer of at most `max` bytes.
fn decode_uint<'a>(bytes: &mut &'a [u8], max: usize) -> Result<&'a [u8], DecodeError> {
    let header = Header::decode(bytes).map_err(|_| DecodeError("integer header"))?;
    if header.list || header.payload_length > max || header.payload_length > bytes.len() {
        return Err(DecodeError("integer field"));
    }
    let value = &bytes[..header.payload_length];
    if value.first() == Some(&0) {
        return Err(DecodeError("integer with leading zero"));
    }
    bytes.advance(header.payload_length);
    Ok(value)
}

fn decode_hash(bytes: &mut &[u8]) -> Result<H256, DecodeError> {
    let header = Header::decode(bytes).map_err(|_| DecodeError("hash header"))?;
    if header.list || header.payload_length != 32 || bytes.len() < 32 {
        return Err(DecodeError("hash field"));
    }
    let hash = H256::from_slice(&bytes[..32]);
    bytes.advance(32);
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_code_hash_is_keccak_of_nothing() {
        assert_eq!(EMPTY_CODE_HASH.0, crate::trie::keccak256(b""));
    }

    #[test]
    fn account_encoding_matches_ethereum() {
        // An account with nonce 1, balance 1 ether, empty storage and no code, as geth
        // encodes it.
        let account = Account {
            nonce: 1,
            balance: U256::from(10u64).pow(18.into()),
            ..Account::default()
        };
        let encoded = account.encode();
        let expected = concat!(
            "f84c0188",
            "0de0b6b3a7640000",
            "a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
            "a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(hex(&encoded), expected);
        assert_eq!(Account::decode(&encoded).unwrap(), account);
        let zero = Account::default().encode();
        assert_eq!(&zero[..4], &[0xf8, 0x44, 0x80, 0x80]);
        assert_eq!(Account::decode(&zero).unwrap(), Account::default());
    }

    #[test]
    fn malformed_accounts_are_errors() {
        let good = Account::default().encode();
        assert!(Account::decode(&good[..good.len() - 1]).is_err());
        let mut trailing = good.clone();
        trailing.push(0x80);
        assert!(Account::decode(&trailing).is_err());
        // nonce 0 written as 0x00 instead of the empty string
        let mut leading_zero = good.clone();
        leading_zero[2] = 0x00;
        assert!(Account::decode(&leading_zero).is_err());
        assert!(Account::decode(&[]).is_err());
        assert!(Account::decode(&[0xc0]).is_err());
    }

    #[test]
    fn storage_values_are_trimmed_rlp() {
        let mut v = H256::zero();
        v.0[31] = 0x05;
        assert_eq!(encode_storage_value(&v), vec![0x05]);
        v.0[30] = 0x01;
        assert_eq!(encode_storage_value(&v), vec![0x82, 0x01, 0x05]);
        assert_eq!(decode_storage_value(&[0x82, 0x01, 0x05]).unwrap(), v);
        let full = H256([0xff; 32]);
        assert_eq!(
            decode_storage_value(&encode_storage_value(&full)).unwrap(),
            full
        );
        assert!(decode_storage_value(&[0x82, 0x00, 0x05]).is_err());
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
