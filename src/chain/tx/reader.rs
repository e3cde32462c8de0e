//! A strict RLP reader for transaction envelopes: canonical lengths and integers only, every
//! failure a [`TxDecodeError`] naming the field.

use tally_runtime::U256;

use super::{TxDecodeError, TxField};

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
