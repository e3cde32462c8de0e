//! Fixed-size value types: [`Address`], [`Bytes32`] and hex literals.

/// A 20-byte account or contract address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub const ZERO: Address = Address([0; 20]);

    pub const fn is_zero(&self) -> bool {
        let mut i = 0;
        while i < 20 {
            if self.0[i] != 0 {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Parses 40 hex digits (optional `0x`); panics otherwise (at compile time in a `const`).
    pub const fn from_hex(s: &str) -> Address {
        Address(hex(s))
    }
}

/// A 32-byte opaque word: Solidity's `bytes32`, a hash, a storage key or a log topic.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug, PartialOrd, Ord)]
pub struct Bytes32(pub [u8; 32]);

impl Bytes32 {
    pub const ZERO: Bytes32 = Bytes32([0; 32]);

    /// Parses 64 hex digits (optional `0x`); panics otherwise (at compile time in a `const`).
    pub const fn from_hex(s: &str) -> Bytes32 {
        Bytes32(hex(s))
    }
}

/// The value of one hex digit; panics on anything else.
pub(crate) const fn hex_digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit"),
    }
}

/// Parses exactly `2 * N` hex digits (an optional `0x` prefix) into bytes. Meant for `const`
/// items, where a malformed literal is a compile error.
pub const fn hex<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let start = if b.len() >= 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        2
    } else {
        0
    };
    assert!(b.len() - start == 2 * N, "wrong number of hex digits");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = hex_digit(b[start + 2 * i]) << 4 | hex_digit(b[start + 2 * i + 1]);
        i += 1;
    }
    out
}
