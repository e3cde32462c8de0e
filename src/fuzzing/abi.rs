//! The Solidity ABI as the example contracts use it, host side: canonical encoding of the
//! argument types they take, and a reference decoder with the SDK's documented acceptance rules
//! (each word in range, integers without dirty high bytes, offsets and lengths that fit the
//! data), to compare the contracts' own decoding with.

/// A 32-byte ABI word.
pub type Word = [u8; 32];

/// An argument type of an example contract's function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    Address,
    Uint8,
    Uint64,
    Uint256,
    Bytes,
    String,
}

impl ArgType {
    fn parse(name: &str) -> Option<ArgType> {
        Some(match name {
            "address" => ArgType::Address,
            "uint8" => ArgType::Uint8,
            "uint64" => ArgType::Uint64,
            "uint256" => ArgType::Uint256,
            "bytes" => ArgType::Bytes,
            "string" => ArgType::String,
            _ => return None,
        })
    }

    fn dynamic(self) -> bool {
        matches!(self, ArgType::Bytes | ArgType::String)
    }
}

/// An argument value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A static value as its word.
    Word(Word),
    /// A byte string (`bytes` or `string`).
    Bytes(Vec<u8>),
}

/// The argument types of a signature such as `transfer(address,uint256)`; `None` for a type
/// this module does not know.
pub fn arg_types(signature: &str) -> Option<Vec<ArgType>> {
    let inner = signature.split_once('(')?.1.strip_suffix(')')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(ArgType::parse).collect()
}

pub use crate::eth::selector;

/// A word holding `value` right-aligned.
pub fn uint_word(value: u128) -> Word {
    let mut word = [0; 32];
    word[16..].copy_from_slice(&value.to_be_bytes());
    word
}

/// The canonical encoding of a tuple of arguments: heads, then the tails of the byte strings
/// (length word and data padded to whole words).
pub fn encode(args: &[Arg]) -> Vec<u8> {
    let mut head = Vec::with_capacity(32 * args.len());
    let mut tail = Vec::new();
    for arg in args {
        match arg {
            Arg::Word(word) => head.extend_from_slice(word),
            Arg::Bytes(bytes) => {
                head.extend_from_slice(&uint_word((32 * args.len() + tail.len()) as u128));
                tail.extend_from_slice(&uint_word(bytes.len() as u128));
                tail.extend_from_slice(bytes);
                tail.resize(tail.len().next_multiple_of(32), 0);
            }
        }
    }
    head.extend_from_slice(&tail);
    head
}

/// Calldata: the selector of `signature` and the encoded arguments.
pub fn encode_call(signature: &str, args: &[Arg]) -> Vec<u8> {
    let mut data = selector(signature).to_vec();
    data.extend_from_slice(&encode(args));
    data
}

/// Decodes a tuple of `types` from `data` as the SDK does, or `None` where it reverts.
pub fn decode(types: &[ArgType], data: &[u8]) -> Option<Vec<Arg>> {
    types
        .iter()
        .enumerate()
        .map(|(i, ty)| decode_at(*ty, data, 32 * i))
        .collect()
}

fn decode_at(ty: ArgType, data: &[u8], at: usize) -> Option<Arg> {
    if ty.dynamic() {
        let offset = small(data, at)?;
        let len = small(data, offset)?;
        return data
            .get(offset + 32..offset + 32 + len)
            .map(|bytes| Arg::Bytes(bytes.to_vec()));
    }
    let word = word(data, at)?;
    let high_zero_bytes = match ty {
        ArgType::Address => 12,
        ArgType::Uint8 => 31,
        ArgType::Uint64 => 24,
        _ => 0,
    };
    word[..high_zero_bytes]
        .iter()
        .all(|b| *b == 0)
        .then_some(Arg::Word(word))
}

fn word(data: &[u8], at: usize) -> Option<Word> {
    data.get(at..at.checked_add(32)?)?.try_into().ok()
}

/// An offset or a length: a `uint32` word no larger than the data.
fn small(data: &[u8], at: usize) -> Option<usize> {
    let word = word(data, at)?;
    if word[..28].iter().any(|b| *b != 0) {
        return None;
    }
    let value = u32::from_be_bytes([word[28], word[29], word[30], word[31]]) as usize;
    (value <= data.len()).then_some(value)
}

/// A value of type `ty` from the fuzz input: addresses mostly from `addresses` (so calls reach
/// known accounts and contracts), integers mostly small, some at the type's maximum, byte
/// strings short or the code of an example contract.
pub fn arbitrary_arg(
    u: &mut arbitrary::Unstructured<'_>,
    ty: ArgType,
    addresses: &[[u8; 20]],
) -> arbitrary::Result<Arg> {
    let max_bytes = match ty {
        ArgType::Uint8 => 1,
        ArgType::Uint64 => 8,
        ArgType::Address => 20,
        _ => 32,
    };
    let word = |bytes: &[u8]| {
        let mut word = [0u8; 32];
        word[32 - bytes.len()..].copy_from_slice(bytes);
        word
    };
    Ok(match ty {
        ArgType::Address => match addresses {
            [] => Arg::Word(word(&u.arbitrary::<[u8; 20]>()?)),
            _ if u.ratio(1, 8)? => Arg::Word(word(&u.arbitrary::<[u8; 20]>()?)),
            _ => Arg::Word(word(u.choose(addresses)?)),
        },
        ArgType::Bytes | ArgType::String => {
            if u.ratio(1, 4)? {
                Arg::Bytes(u.choose(super::contracts::WELL_BEHAVED)?.code.to_vec())
            } else {
                let len = u.int_in_range(0..=64)?;
                Arg::Bytes(u.bytes(len)?.to_vec())
            }
        }
        _ => match u.int_in_range(0..=7)? {
            0 => Arg::Word(word(&vec![0xff; max_bytes])),
            1 => Arg::Word(word(u.bytes(max_bytes)?)),
            2 | 3 if max_bytes >= 8 => Arg::Word(uint_word(u.arbitrary::<u64>()?.into())),
            _ => Arg::Word(uint_word(u.int_in_range(0..=200)?)),
        },
    })
}
