//! State cheats: developer edits of the world state outside any transaction (anvil's
//! `anvil_setBalance`, `anvil_setNonce`, `anvil_setCode`, `anvil_setStorageAt`), and their
//! storage form.
//!
//! A cheat applies to the state at the head and takes effect in the next block. The chain
//! records the cheats applied before each block and stores them with it, so that the block can
//! be re-executed from its parent's state exactly (`Chain::trace_transaction`) and a snapshot
//! can restore unmined cheats.

use alloy_rlp::{Bytes, Decodable, Encodable, RlpDecodable, RlpEncodable};
use tally_runtime::{H160, H256, U256};

/// One edit of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cheat {
    Balance {
        address: H160,
        balance: U256,
    },
    Nonce {
        address: H160,
        nonce: u64,
    },
    /// New code (validated as a deployment's when applied); empty removes the code.
    Code {
        address: H160,
        code: Vec<u8>,
    },
    Storage {
        address: H160,
        key: H256,
        value: H256,
    },
}

impl Cheat {
    /// The account edited.
    pub fn address(&self) -> H160 {
        match self {
            Cheat::Balance { address, .. }
            | Cheat::Nonce { address, .. }
            | Cheat::Code { address, .. }
            | Cheat::Storage { address, .. } => *address,
        }
    }
}

/// `rlp([kind, address, key, value])`: kind 0 balance (value: 32 bytes), 1 nonce (value: 8
/// bytes), 2 code (value: the code), 3 storage (key and value: 32 bytes); `key` is empty
/// except for storage.
#[derive(RlpEncodable, RlpDecodable)]
struct CheatRecord {
    kind: u8,
    address: [u8; 20],
    key: Bytes,
    value: Bytes,
}

/// Why stored cheats could not be read.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed cheat record: {0}")]
pub struct CheatDecodeError(String);

/// The storage form of a block's cheats.
pub fn encode_cheats(cheats: &[Cheat]) -> Vec<u8> {
    let records: Vec<CheatRecord> = cheats
        .iter()
        .map(|cheat| {
            let (kind, key, value): (u8, &[u8], Vec<u8>) = match cheat {
                Cheat::Balance { balance, .. } => (0, &[], balance.to_big_endian().to_vec()),
                Cheat::Nonce { nonce, .. } => (1, &[], nonce.to_be_bytes().to_vec()),
                Cheat::Code { code, .. } => (2, &[], code.clone()),
                Cheat::Storage { key, value, .. } => (3, key.as_bytes(), value.0.to_vec()),
            };
            CheatRecord {
                kind,
                address: cheat.address().0,
                key: Bytes::copy_from_slice(key),
                value: value.into(),
            }
        })
        .collect();
    let mut out = Vec::new();
    records.encode(&mut out);
    out
}

/// Inverse of [`encode_cheats`].
pub fn decode_cheats(bytes: &[u8]) -> Result<Vec<Cheat>, CheatDecodeError> {
    let mut input = bytes;
    let records =
        Vec::<CheatRecord>::decode(&mut input).map_err(|e| CheatDecodeError(e.to_string()))?;
    if !input.is_empty() {
        return Err(CheatDecodeError(format!("{} trailing bytes", input.len())));
    }
    records
        .into_iter()
        .map(|r| {
            let address = H160(r.address);
            let width = |bytes: &[u8], n: usize| {
                if bytes.len() == n {
                    Ok(())
                } else {
                    Err(CheatDecodeError(format!(
                        "a field of {} bytes",
                        bytes.len()
                    )))
                }
            };
            let keyless = |r: &CheatRecord| width(&r.key, 0);
            Ok(match r.kind {
                0 => {
                    keyless(&r)?;
                    width(&r.value, 32)?;
                    Cheat::Balance {
                        address,
                        balance: U256::from_big_endian(&r.value),
                    }
                }
                1 => {
                    keyless(&r)?;
                    let nonce: [u8; 8] = r.value[..]
                        .try_into()
                        .map_err(|_| CheatDecodeError("nonce".into()))?;
                    Cheat::Nonce {
                        address,
                        nonce: u64::from_be_bytes(nonce),
                    }
                }
                2 => {
                    keyless(&r)?;
                    Cheat::Code {
                        address,
                        code: r.value.to_vec(),
                    }
                }
                3 => {
                    width(&r.key, 32)?;
                    width(&r.value, 32)?;
                    Cheat::Storage {
                        address,
                        key: H256::from_slice(&r.key),
                        value: H256::from_slice(&r.value),
                    }
                }
                n => return Err(CheatDecodeError(format!("kind {n}"))),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheats_roundtrip_and_damage_is_an_error() {
        let a = H160::repeat_byte(7);
        let cheats = vec![
            Cheat::Balance {
                address: a,
                balance: U256::MAX,
            },
            Cheat::Nonce {
                address: a,
                nonce: 5,
            },
            Cheat::Code {
                address: a,
                code: b"\0asm\x01\0\0\0".to_vec(),
            },
            Cheat::Storage {
                address: a,
                key: H256::repeat_byte(1),
                value: H256::repeat_byte(2),
            },
        ];
        let bytes = encode_cheats(&cheats);
        assert_eq!(decode_cheats(&bytes).unwrap(), cheats);
        assert_eq!(decode_cheats(&encode_cheats(&[])).unwrap(), vec![]);
        for cut in 0..bytes.len() {
            assert!(decode_cheats(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let bad_kind = CheatRecord {
            kind: 9,
            address: [0; 20],
            key: Bytes::new(),
            value: Bytes::new(),
        };
        let mut out = Vec::new();
        vec![bad_kind].encode(&mut out);
        assert!(decode_cheats(&out)
            .unwrap_err()
            .to_string()
            .contains("kind 9"));
    }
}
