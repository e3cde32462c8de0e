//! Byte-level edits of valid encodings (modules, transactions, headers, proofs), for the
//! targets that start from something valid and need to reach the decoder's error paths near it.

use arbitrary::{Arbitrary, Result, Unstructured};

/// One edit.
#[derive(Arbitrary, Debug)]
enum Edit {
    Set { at: usize, byte: u8 },
    Flip { at: usize, bit: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Remove { at: usize, len: u8 },
    Truncate { at: usize },
}

/// `bytes` with one edit chosen by the fuzz input.
pub fn mutate(mut bytes: Vec<u8>, u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let len = bytes.len();
    match u.arbitrary()? {
        Edit::Insert { at, bytes: new } => {
            let at = at % (len + 1);
            bytes.splice(at..at, new);
        }
        _ if len == 0 => {}
        Edit::Set { at, byte } => bytes[at % len] = byte,
        Edit::Flip { at, bit } => bytes[at % len] ^= 1 << (bit % 8),
        Edit::Remove { at, len: n } => {
            let at = at % len;
            let end = (at + usize::from(n)).min(len);
            bytes.drain(at..end);
        }
        Edit::Truncate { at } => bytes.truncate(at % len),
    }
    Ok(bytes)
}
