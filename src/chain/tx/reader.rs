//! A strict RLP reader for transaction envelopes: canonical lengths and integers only, every
//! failure a [`TxDecodeError`] naming the field; [`parse`] reads a whole envelope's fields.

use tally_runtime::tx::Transaction;
use tally_runtime::{H160, H256, U256};

use super::{SignedTransaction, TxDecodeError, TxField, EIP1559_TX_TYPE};

/// An envelope's fields, parsed strictly but not yet checked against a sender.
pub(super) struct Parsed<'a> {
    pub(super) tx: Transaction,
    pub(super) y_parity: bool,
    pub(super) r: U256,
    pub(super) s: U256,
    /// The unsigned fields exactly as encoded: the signing payload.
    pub(super) unsigned: &'a [u8],
}

impl Parsed<'_> {
    /// The signed transaction, keeping `envelope`: the bytes these fields were parsed from.
    pub(super) fn into_signed(
        self,
        hash: H256,
        sender: H160,
        envelope: &[u8],
    ) -> SignedTransaction {
        SignedTransaction {
            tx: self.tx,
            y_parity: self.y_parity,
            r: self.r,
            s: self.s,
            hash,
            sender,
            envelope: envelope.to_vec(),
        }
    }
}

/// Parses a canonical type-2 envelope.
pub(super) fn parse(bytes: &[u8]) -> Result<Parsed<'_>, TxDecodeError> {
    let (&tx_type, rest) = bytes.split_first().ok_or(TxDecodeError::Empty)?;
    if tx_type != EIP1559_TX_TYPE {
        return Err(TxDecodeError::UnsupportedType(tx_type));
    }
    let mut rest = rest;
    let payload = take_item(&mut rest, TxField::Payload)?;
    if !payload.list {
        return Err(TxDecodeError::ExpectedList(TxField::Payload));
    }
    if !rest.is_empty() {
        return Err(TxDecodeError::TrailingBytes(rest.len()));
    }

    let fields = payload.payload;
    let mut input = fields;
    let chain_id = take_u64(&mut input, TxField::ChainId)?;
    let nonce = take_u64(&mut input, TxField::Nonce)?;
    let max_priority_fee_per_gas = take_u256(&mut input, TxField::MaxPriorityFeePerGas)?;
    let max_fee_per_gas = take_u256(&mut input, TxField::MaxFeePerGas)?;
    let gas_limit = take_u64(&mut input, TxField::GasLimit)?;
    let to = match take_string(&mut input, TxField::To)? {
        [] => None,
        address if address.len() == 20 => Some(H160::from_slice(address)),
        other => return Err(TxDecodeError::InvalidToLength(other.len())),
    };
    let value = take_u256(&mut input, TxField::Value)?;
    let data = take_string(&mut input, TxField::Data)?.to_vec();
    let access_list = take_item(&mut input, TxField::AccessList)?;
    if !access_list.list {
        return Err(TxDecodeError::ExpectedList(TxField::AccessList));
    }
    if !access_list.payload.is_empty() {
        return Err(TxDecodeError::AccessListNotEmpty);
    }
    // The unsigned fields, exactly as encoded: canonical, so they are the signing payload.
    let unsigned_len = fields.len() - input.len();
    let unsigned = fields.get(..unsigned_len).unwrap_or_default();

    let y_parity = match take_u64(&mut input, TxField::YParity)? {
        0 => false,
        1 => true,
        other => return Err(TxDecodeError::InvalidYParity(other)),
    };
    let r = take_u256(&mut input, TxField::R)?;
    let s = take_u256(&mut input, TxField::S)?;
    if !input.is_empty() {
        return Err(TxDecodeError::ExtraFields(input.len()));
    }
    let tx = Transaction {
        chain_id,
        nonce,
        max_priority_fee_per_gas,
        max_fee_per_gas,
        gas_limit,
        to,
        value,
        data,
    };
    Ok(Parsed {
        tx,
        y_parity,
        r,
        s,
        unsigned,
    })
}

/// One RLP item: a byte string or the payload of a list.
pub(super) struct Item<'a> {
    pub(super) list: bool,
    pub(super) payload: &'a [u8],
}

/// Takes the next canonical RLP item from `input`.
pub(super) fn take_item<'a>(
    input: &mut &'a [u8],
    field: TxField,
) -> Result<Item<'a>, TxDecodeError> {
    let (&prefix, rest) = input
        .split_first()
        .ok_or(TxDecodeError::MissingField(field))?;
    let (list, len, rest) = match prefix {
        0x00..=0x7f => {
            let (item, rest) = input.split_at(1);
            *input = rest;
            return Ok(Item {
                list: false,
                payload: item,
            });
        }
        0x80..=0xb7 => (false, usize::from(prefix - 0x80), rest),
        0xb8..=0xbf => {
            let (len, rest) = long_length(prefix - 0xb7, rest, field)?;
            (false, len, rest)
        }
        0xc0..=0xf7 => (true, usize::from(prefix - 0xc0), rest),
        0xf8..=0xff => {
            let (len, rest) = long_length(prefix - 0xf7, rest, field)?;
            (true, len, rest)
        }
    };
    let (payload, rest) = rest
        .split_at_checked(len)
        .ok_or(TxDecodeError::Truncated(field))?;
    if !list && len == 1 && payload.first().is_some_and(|b| *b < 0x80) {
        return Err(TxDecodeError::NonCanonicalSingleByte(field));
    }
    *input = rest;
    Ok(Item { list, payload })
}

/// The length of a long-form item, written in `len_of_len` (1..=8) big-endian bytes.
fn long_length(
    len_of_len: u8,
    input: &[u8],
    field: TxField,
) -> Result<(usize, &[u8]), TxDecodeError> {
    let (len_bytes, rest) = input
        .split_at_checked(usize::from(len_of_len))
        .ok_or(TxDecodeError::Truncated(field))?;
    if len_bytes.first() == Some(&0) {
        return Err(TxDecodeError::NonCanonicalLength(field));
    }
    // At most 8 bytes, so the fold cannot overflow.
    let len = len_bytes
        .iter()
        .fold(0u64, |len, byte| (len << 8) | u64::from(*byte));
    if len < 56 {
        return Err(TxDecodeError::NonCanonicalLength(field));
    }
    // A length beyond the address space is beyond the input.
    let len = usize::try_from(len).map_err(|_| TxDecodeError::Truncated(field))?;
    Ok((len, rest))
}

pub(super) fn take_string<'a>(
    input: &mut &'a [u8],
    field: TxField,
) -> Result<&'a [u8], TxDecodeError> {
    let item = take_item(input, field)?;
    if item.list {
        return Err(TxDecodeError::ExpectedString(field));
    }
    Ok(item.payload)
}

/// The big-endian bytes of a canonical integer of at most `max` bytes.
fn take_uint<'a>(
    input: &mut &'a [u8],
    field: TxField,
    max: usize,
) -> Result<&'a [u8], TxDecodeError> {
    let bytes = take_string(input, field)?;
    if bytes.first() == Some(&0) {
        return Err(TxDecodeError::LeadingZero(field));
    }
    if bytes.len() > max {
        return Err(TxDecodeError::IntegerTooLarge {
            field,
            len: bytes.len(),
            max,
        });
    }
    Ok(bytes)
}

pub(super) fn take_u64(input: &mut &[u8], field: TxField) -> Result<u64, TxDecodeError> {
    let bytes = take_uint(input, field, 8)?;
    Ok(bytes
        .iter()
        .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)))
}

pub(super) fn take_u256(input: &mut &[u8], field: TxField) -> Result<U256, TxDecodeError> {
    Ok(U256::from_big_endian(take_uint(input, field, 32)?))
}
