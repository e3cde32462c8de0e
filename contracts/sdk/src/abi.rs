//! The Solidity contract ABI: selectors, and encoding and decoding of `uint8`..`uint256`,
//! `address`, `bool`, `bytes32`, `bytes`, `string` and static arrays (`T[N]`) of the static ones.
//!
//! Values are tuples of 32-byte words: a static value is encoded in place (its "head"), a dynamic
//! value (`bytes`, `string`) as a head word holding the offset of its "tail" (length word, then
//! the data padded to a multiple of 32 bytes), offsets counting from the start of the tuple.
//!
//! Decoding borrows from its input and allocates nothing. It follows Solidity's checks: a word
//! that does not fit its type (an address with dirty upper bytes, a `bool` other than 0 or 1, a
//! `uint8` above 255) or data that runs past the input reverts with `Error("ABI decode")`.

use crate::bytes::{copy, low_bytes, range_mut, right_aligned, usize_word};
use crate::keccak::Keccak;
use crate::types::{Address, Bytes32};
use crate::u256::U256;

/// A 32-byte word.
pub type Word = [u8; 32];

/// The canonical name of an ABI type, as hashed into selectors: a base name (`uint256`) and up
/// to four static array dimensions (`uint256[2][3]`).
#[derive(Clone, Copy, Debug)]
pub struct TypeName {
    base: &'static str,
    dims: [usize; 4],
    ndims: usize,
}

impl TypeName {
    pub const fn new(base: &'static str) -> TypeName {
        TypeName {
            base,
            dims: [0; 4],
            ndims: 0,
        }
    }

    /// `self[n]`.
    pub const fn array(self, n: usize) -> TypeName {
        assert!(self.ndims < 4, "at most 4 array dimensions");
        let mut t = self;
        t.dims[t.ndims] = n;
        t.ndims += 1;
        t
    }

    const fn absorb(&self, mut h: Keccak) -> Keccak {
        h = h.update(self.base.as_bytes());
        let mut d = 0;
        while d < self.ndims {
            h = h.update(b"[");
            // decimal digits of dims[d]
            let mut digits = [0u8; 20];
            let mut n = self.dims[d];
            let mut len = 0;
            loop {
                digits[19 - len] = b'0' + (n % 10) as u8;
                len += 1;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let (_, tail) = digits.split_at(20 - len);
            h = h.update(tail);
            h = h.update(b"]");
            d += 1;
        }
        h
    }
}

/// The 4-byte selector (as a big-endian `u32`) of `name(params...)`.
pub const fn selector(name: &str, params: &[TypeName]) -> u32 {
    let mut h = Keccak::new().update(name.as_bytes()).update(b"(");
    let mut i = 0;
    while i < params.len() {
        if i > 0 {
            h = h.update(b",");
        }
        h = params[i].absorb(h);
        i += 1;
    }
    let d = h.update(b")").finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The 4-byte selector of a canonical signature such as `"transfer(address,uint256)"`.
pub const fn selector_of(signature: &str) -> u32 {
    let d = crate::keccak::keccak256(signature.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Selector of `Error(string)`, the revert reason of `require` and of a panic.
pub const ERROR_SELECTOR: u32 = 0x08c3_79a0;
/// Selector of `Panic(uint256)`, Solidity's revert data for failed assertions and overflows.
pub const PANIC_SELECTOR: u32 = 0x4e48_7b71;

/// A Rust type with an ABI encoding.
pub trait AbiType {
    /// The canonical type name used in signatures.
    const NAME: TypeName;
    /// Whether the value is encoded in the tail (`bytes`, `string`).
    const DYNAMIC: bool = false;
    /// Bytes the value takes in the head: 32 for dynamic types (the offset).
    const HEAD: usize = 32;
}

/// A type encoded as exactly one word: usable as a storage value, a mapping key and an indexed
/// event topic.
pub trait WordValue: Sized {
    fn to_word(&self) -> Word;
    /// Reads a word, `None` if it does not fit the type (dirty upper bytes).
    fn from_word(w: &Word) -> Option<Self>;
}

impl WordValue for U256 {
    fn to_word(&self) -> Word {
        self.to_be_bytes()
    }
    fn from_word(w: &Word) -> Option<Self> {
        Some(U256::from_be_bytes(w))
    }
}

impl WordValue for Bytes32 {
    fn to_word(&self) -> Word {
        self.0
    }
    fn from_word(w: &Word) -> Option<Self> {
        Some(Bytes32(*w))
    }
}

impl WordValue for Address {
    fn to_word(&self) -> Word {
        right_aligned(&self.0)
    }
    fn from_word(w: &Word) -> Option<Self> {
        low_bytes(w).map(Address)
    }
}

impl WordValue for bool {
    fn to_word(&self) -> Word {
        right_aligned(&[*self as u8])
    }
    fn from_word(w: &Word) -> Option<Self> {
        match u8::from_word(w) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        }
    }
}

macro_rules! uint_word {
    ($($t:ty => $name:literal),*) => {$(
        impl WordValue for $t {
            fn to_word(&self) -> Word {
                right_aligned(&self.to_be_bytes())
            }
            fn from_word(w: &Word) -> Option<Self> {
                Some(<$t>::from_be_bytes(low_bytes(w)?))
            }
        }
        impl AbiType for $t {
            const NAME: TypeName = TypeName::new($name);
        }
    )*};
}

uint_word!(u8 => "uint8", u16 => "uint16", u32 => "uint32", u64 => "uint64", u128 => "uint128");

impl AbiType for U256 {
    const NAME: TypeName = TypeName::new("uint256");
}
impl AbiType for Address {
    const NAME: TypeName = TypeName::new("address");
}
impl AbiType for bool {
    const NAME: TypeName = TypeName::new("bool");
}
impl AbiType for Bytes32 {
    const NAME: TypeName = TypeName::new("bytes32");
}

/// An ABI `string` borrowed from encoded data. Solidity does not check that a `string` is UTF-8
/// and neither does decoding this type; use [`AbiStr::to_str`] to check, or decode `&str`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct AbiStr<'a>(pub &'a [u8]);

impl<'a> AbiStr<'a> {
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    pub fn to_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.0).ok()
    }
}

impl AbiType for &[u8] {
    const NAME: TypeName = TypeName::new("bytes");
    const DYNAMIC: bool = true;
}
impl AbiType for AbiStr<'_> {
    const NAME: TypeName = TypeName::new("string");
    const DYNAMIC: bool = true;
}
impl AbiType for &str {
    const NAME: TypeName = TypeName::new("string");
    const DYNAMIC: bool = true;
}

impl<T: AbiType, const N: usize> AbiType for [T; N] {
    const NAME: TypeName = T::NAME.array(N);
    const HEAD: usize = {
        assert!(
            !T::DYNAMIC,
            "static arrays of dynamic types are not supported"
        );
        T::HEAD * N
    };
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Reverts with `Error("ABI decode")`.
#[cold]
#[inline(never)]
pub fn decode_error() -> ! {
    crate::env::revert_str("ABI decode")
}

/// The 32-byte word at `data[at..at + 32]`, reverting if it is out of range.
pub fn word_at(data: &[u8], at: usize) -> &Word {
    match at.checked_add(32).and_then(|end| data.get(at..end)) {
        Some(w) => w.try_into().unwrap_or_else(|_| decode_error()),
        None => decode_error(),
    }
}

/// A word holding an offset or a length: never more than the length of `data`, so adding a
/// few words to it cannot overflow.
fn usize_at(data: &[u8], at: usize) -> usize {
    match u32::from_word(word_at(data, at)) {
        Some(v) if v as usize <= data.len() => v as usize,
        _ => decode_error(),
    }
}

/// A type that can be decoded from encoded data borrowed for `'a`.
pub trait Decode<'a>: AbiType + Sized {
    /// Decodes the value whose head is at `data[at..]`, `data` being the enclosing tuple
    /// (offsets of dynamic values count from its start).
    fn decode(data: &'a [u8], at: usize) -> Self;
}

impl<'a, T: WordValue + AbiType> Decode<'a> for T {
    fn decode(data: &'a [u8], at: usize) -> Self {
        T::from_word(word_at(data, at)).unwrap_or_else(|| decode_error())
    }
}

/// The byte string of a dynamic value whose head is at `at`.
fn dynamic_at(data: &[u8], at: usize) -> &[u8] {
    let offset = usize_at(data, at);
    let len = usize_at(data, offset);
    match data.get(offset + 32..offset + 32 + len) {
        Some(bytes) => bytes,
        None => decode_error(),
    }
}

impl<'a> Decode<'a> for &'a [u8] {
    fn decode(data: &'a [u8], at: usize) -> Self {
        dynamic_at(data, at)
    }
}

impl<'a> Decode<'a> for AbiStr<'a> {
    fn decode(data: &'a [u8], at: usize) -> Self {
        AbiStr(dynamic_at(data, at))
    }
}

/// Decoding `&str` checks UTF-8 (and reverts on invalid data); [`AbiStr`] does not.
impl<'a> Decode<'a> for &'a str {
    fn decode(data: &'a [u8], at: usize) -> Self {
        core::str::from_utf8(dynamic_at(data, at)).unwrap_or_else(|_| decode_error())
    }
}

impl<'a, T: Decode<'a>, const N: usize> Decode<'a> for [T; N] {
    fn decode(data: &'a [u8], at: usize) -> Self {
        core::array::from_fn(|i| T::decode(data, at + i * T::HEAD))
    }
}

/// Reads the values of a tuple one after the other.
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder over an encoded tuple (calldata without its selector, return data, ...).
    pub fn new(data: &'a [u8]) -> Decoder<'a> {
        Decoder { data, pos: 0 }
    }

    /// Decodes the next value.
    #[allow(clippy::should_implement_trait)]
    pub fn next<T: Decode<'a>>(&mut self) -> T {
        let v = T::decode(self.data, self.pos);
        self.pos += T::HEAD;
        v
    }
}

/// A tuple of values that can be decoded together (function arguments, constructor input,
/// return data).
pub trait DecodeArgs<'a>: Sized {
    fn decode_args(data: &'a [u8]) -> Self;
}

/// Decodes an encoded tuple: `let (to, amount): (Address, U256) = abi::decode(data);`.
pub fn decode<'a, A: DecodeArgs<'a>>(data: &'a [u8]) -> A {
    A::decode_args(data)
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// A type that can be encoded.
pub trait Encode: AbiType {
    /// Bytes written by [`Encode::encode`]: the head for a static type, the tail (length word and
    /// padded data) for a dynamic one.
    fn encoded_len(&self) -> usize {
        Self::HEAD
    }
    /// Writes the encoding to `out` (exactly `encoded_len` bytes, zeroed beforehand).
    fn encode(&self, out: &mut [u8]);
}

impl<T: WordValue + AbiType> Encode for T {
    fn encode(&self, out: &mut [u8]) {
        copy(out, &self.to_word());
    }
}

/// Bytes a dynamic value of `len` bytes takes in the tail.
pub const fn padded_len(len: usize) -> usize {
    32 + len.div_ceil(32) * 32
}

fn encode_dynamic(bytes: &[u8], out: &mut [u8]) {
    copy(range_mut(out, 0, 32), &usize_word(bytes.len()));
    copy(range_mut(out, 32, bytes.len()), bytes);
}

impl Encode for &[u8] {
    fn encoded_len(&self) -> usize {
        padded_len(self.len())
    }
    fn encode(&self, out: &mut [u8]) {
        encode_dynamic(self, out)
    }
}

impl Encode for AbiStr<'_> {
    fn encoded_len(&self) -> usize {
        padded_len(self.0.len())
    }
    fn encode(&self, out: &mut [u8]) {
        encode_dynamic(self.0, out)
    }
}

impl Encode for &str {
    fn encoded_len(&self) -> usize {
        padded_len(self.len())
    }
    fn encode(&self, out: &mut [u8]) {
        encode_dynamic(self.as_bytes(), out)
    }
}

impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode(&self, out: &mut [u8]) {
        let mut i = 0;
        while i < N {
            self[i].encode(range_mut(out, i * T::HEAD, T::HEAD));
            i += 1;
        }
    }
}

/// A tuple of values encoded together: `()`, a single value (a 1-tuple) or a tuple of up to
/// eight values.
pub trait EncodeArgs {
    /// Total encoded length.
    fn args_len(&self) -> usize;
    /// Writes the encoding to `out` (`args_len` zeroed bytes).
    fn encode_args(&self, out: &mut [u8]);
}

/// Writes one element of a tuple: in place, or an offset in the head and the data in the tail.
fn put<T: Encode + ?Sized>(v: &T, out: &mut [u8], head: &mut usize, tail: &mut usize) {
    if T::DYNAMIC {
        copy(range_mut(out, *head, 32), &usize_word(*tail));
        let n = v.encoded_len();
        v.encode(range_mut(out, *tail, n));
        *tail += n;
    } else {
        v.encode(range_mut(out, *head, T::HEAD));
    }
    *head += T::HEAD;
}

fn tail_len<T: Encode + ?Sized>(v: &T) -> usize {
    if T::DYNAMIC {
        v.encoded_len()
    } else {
        0
    }
}

impl<T: Encode> EncodeArgs for T {
    fn args_len(&self) -> usize {
        T::HEAD + tail_len(self)
    }
    fn encode_args(&self, out: &mut [u8]) {
        let (mut head, mut tail) = (0, T::HEAD);
        put(self, out, &mut head, &mut tail);
    }
}

macro_rules! tuples {
    ($( ($($t:ident $i:tt),*) )*) => {$(
        impl<$($t: Encode),*> EncodeArgs for ($($t,)*) {
            #[allow(unused_variables)]
            fn args_len(&self) -> usize {
                0 $(+ $t::HEAD + tail_len(&self.$i))*
            }
            #[allow(unused_variables, unused_mut)]
            fn encode_args(&self, out: &mut [u8]) {
                let mut head = 0;
                let mut tail = 0 $(+ $t::HEAD)*;
                $(put(&self.$i, out, &mut head, &mut tail);)*
            }
        }

        impl<'a, $($t: Decode<'a>),*> DecodeArgs<'a> for ($($t,)*) {
            #[allow(unused_variables, unused_mut, clippy::unused_unit)]
            fn decode_args(data: &'a [u8]) -> Self {
                let mut d = Decoder::new(data);
                ($(d.next::<$t>(),)*)
            }
        }
    )*};
}

tuples! {
    ()
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// Encodes `args` into fresh memory (see [`crate::mem`]).
pub fn encode<A: EncodeArgs + ?Sized>(args: &A) -> &'static [u8] {
    let out = crate::mem::alloc_bytes(args.args_len());
    args.encode_args(out);
    out
}

/// Calldata for a function: the selector, then `args` encoded.
pub fn encode_call<A: EncodeArgs + ?Sized>(selector: u32, args: &A) -> &'static [u8] {
    let len = args.args_len();
    let out = crate::mem::alloc_bytes(4 + len);
    copy(range_mut(out, 0, 4), &selector.to_be_bytes());
    args.encode_args(range_mut(out, 4, len));
    out
}

/// The revert data of `require(false, msg)`: `Error(string)` with `msg`.
pub fn encode_error(msg: &str) -> &'static [u8] {
    encode_call(ERROR_SELECTOR, &msg)
}

/// `Error(string)` encoded at compile time for a message of at most 32 bytes, for reverting
/// where allocating is not possible.
pub const fn error_const(msg: &str) -> [u8; 100] {
    let m = msg.as_bytes();
    assert!(m.len() <= 32, "message longer than 32 bytes");
    let mut out = [0u8; 100];
    let sel = ERROR_SELECTOR.to_be_bytes();
    let mut i = 0;
    while i < 4 {
        out[i] = sel[i];
        i += 1;
    }
    out[4 + 31] = 0x20; // offset of the string
    out[4 + 63] = m.len() as u8; // its length
    i = 0;
    while i < m.len() {
        out[68 + i] = m[i];
        i += 1;
    }
    out
}

/// Decodes the reason of `Error(string)` revert data, if that is what `data` is.
pub fn decode_error_reason(data: &[u8]) -> Option<&[u8]> {
    let (sel, rest) = data.split_at_checked(4)?;
    if sel != ERROR_SELECTOR.to_be_bytes() {
        return None;
    }
    let small = |at: usize| -> Option<usize> {
        let w: &Word = rest.get(at..at.checked_add(32)?)?.try_into().ok()?;
        u32::from_word(w)
            .map(|v| v as usize)
            .filter(|v| *v <= rest.len())
    };
    let offset = small(0)?;
    let len = small(offset)?;
    rest.get(offset + 32..offset + 32 + len)
}

/// Values that a dispatched function can return: anything [`EncodeArgs`] (`()` returns no data).
pub fn set_return_value<A: EncodeArgs>(value: &A) {
    if value.args_len() != 0 {
        crate::env::set_return(encode(value));
    }
}
