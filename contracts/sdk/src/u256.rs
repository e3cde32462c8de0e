//! A 256-bit unsigned integer (Solidity's `uint256`), four 64-bit limbs, least significant first.

use core::cmp::Ordering;

/// An unsigned 256-bit integer. Arithmetic is explicit: `checked_*` return `None` on overflow,
/// `wrapping_*` wrap modulo 2^256. There are no operator overloads, so an overflow can never go
/// unnoticed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct U256(pub [u64; 4]);

impl U256 {
    pub const ZERO: U256 = U256([0; 4]);
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    pub const MAX: U256 = U256([u64::MAX; 4]);

    pub const fn from_u64(v: u64) -> U256 {
        U256([v, 0, 0, 0])
    }

    pub const fn from_u128(v: u128) -> U256 {
        U256([v as u64, (v >> 64) as u64, 0, 0])
    }

    /// Reads a big-endian 32-byte word (the ABI and storage layout).
    pub const fn from_be_bytes(b: &[u8; 32]) -> U256 {
        // Whole 64-bit limbs (a load and a byte swap each): far cheaper than a loop over bytes.
        // SAFETY: [u8; 32] and [[u8; 8]; 4] have the same size and no invalid values.
        let chunks: [[u8; 8]; 4] = unsafe { core::mem::transmute(*b) };
        let mut limbs = [0u64; 4];
        let mut i = 0;
        while i < 4 {
            limbs[i] = u64::from_be_bytes(chunks[3 - i]);
            i += 1;
        }
        U256(limbs)
    }

    /// Writes the big-endian 32-byte word.
    pub const fn to_be_bytes(&self) -> [u8; 32] {
        let mut chunks = [[0u8; 8]; 4];
        let mut i = 0;
        while i < 4 {
            chunks[3 - i] = self.0[i].to_be_bytes();
            i += 1;
        }
        // SAFETY: as in `from_be_bytes`.
        unsafe { core::mem::transmute(chunks) }
    }

    /// Parses hexadecimal digits (an optional `0x` prefix, at most 64 digits); panics (at
    /// compile time in a `const`) on anything else.
    pub const fn from_hex(s: &str) -> U256 {
        let b = s.as_bytes();
        let mut i = if b.len() >= 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
            2
        } else {
            0
        };
        assert!(b.len() - i <= 64, "more than 64 hex digits");
        let mut limbs = [0u64; 4];
        while i < b.len() {
            let d = crate::types::hex_digit(b[i]) as u64;
            // shift left by 4 bits
            limbs[3] = (limbs[3] << 4) | (limbs[2] >> 60);
            limbs[2] = (limbs[2] << 4) | (limbs[1] >> 60);
            limbs[1] = (limbs[1] << 4) | (limbs[0] >> 60);
            limbs[0] = (limbs[0] << 4) | d;
            i += 1;
        }
        U256(limbs)
    }

    pub const fn is_zero(&self) -> bool {
        (self.0[0] | self.0[1] | self.0[2] | self.0[3]) == 0
    }

    /// The value as a `u64` if it fits.
    pub const fn to_u64(&self) -> Option<u64> {
        if (self.0[1] | self.0[2] | self.0[3]) == 0 {
            Some(self.0[0])
        } else {
            None
        }
    }

    /// The value as a `u128` if it fits.
    pub const fn to_u128(&self) -> Option<u128> {
        if (self.0[2] | self.0[3]) == 0 {
            Some(self.0[0] as u128 | (self.0[1] as u128) << 64)
        } else {
            None
        }
    }

    /// The low 64 bits.
    pub const fn low_u64(&self) -> u64 {
        self.0[0]
    }

    /// `self + rhs` modulo 2^256 and whether it overflowed.
    pub const fn overflowing_add(&self, rhs: &U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut carry = false;
        let mut i = 0;
        while i < 4 {
            let (s, c1) = self.0[i].overflowing_add(rhs.0[i]);
            let (s, c2) = s.overflowing_add(carry as u64);
            out[i] = s;
            carry = c1 | c2;
            i += 1;
        }
        (U256(out), carry)
    }

    /// `self - rhs` modulo 2^256 and whether it borrowed (i.e. `rhs > self`).
    pub const fn overflowing_sub(&self, rhs: &U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut borrow = false;
        let mut i = 0;
        while i < 4 {
            let (d, b1) = self.0[i].overflowing_sub(rhs.0[i]);
            let (d, b2) = d.overflowing_sub(borrow as u64);
            out[i] = d;
            borrow = b1 | b2;
            i += 1;
        }
        (U256(out), borrow)
    }

    /// `self * rhs` modulo 2^256 and whether the full product needed more than 256 bits.
    pub const fn overflowing_mul(&self, rhs: &U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut overflow = false;
        let mut i = 0;
        while i < 4 {
            let mut carry: u64 = 0;
            let mut j = 0;
            while j < 4 {
                let prod = (self.0[i] as u128) * (rhs.0[j] as u128);
                if i + j < 4 {
                    let t = prod + out[i + j] as u128 + carry as u128;
                    out[i + j] = t as u64;
                    carry = (t >> 64) as u64;
                } else if prod != 0 {
                    overflow = true;
                }
                j += 1;
            }
            if carry != 0 {
                overflow = true;
            }
            i += 1;
        }
        (U256(out), overflow)
    }

    pub const fn checked_add(&self, rhs: &U256) -> Option<U256> {
        match self.overflowing_add(rhs) {
            (v, false) => Some(v),
            _ => None,
        }
    }

    pub const fn checked_sub(&self, rhs: &U256) -> Option<U256> {
        match self.overflowing_sub(rhs) {
            (v, false) => Some(v),
            _ => None,
        }
    }

    pub const fn checked_mul(&self, rhs: &U256) -> Option<U256> {
        match self.overflowing_mul(rhs) {
            (v, false) => Some(v),
            _ => None,
        }
    }

    pub const fn wrapping_add(&self, rhs: &U256) -> U256 {
        self.overflowing_add(rhs).0
    }

    pub const fn wrapping_sub(&self, rhs: &U256) -> U256 {
        self.overflowing_sub(rhs).0
    }

    pub const fn wrapping_mul(&self, rhs: &U256) -> U256 {
        self.overflowing_mul(rhs).0
    }

    /// `self + rhs`, or the maximum on overflow.
    pub const fn saturating_add(&self, rhs: &U256) -> U256 {
        match self.overflowing_add(rhs) {
            (v, false) => v,
            _ => U256::MAX,
        }
    }

    /// Quotient and remainder (bitwise long division); `None` when dividing by zero.
    pub const fn checked_div_rem(&self, rhs: &U256) -> Option<(U256, U256)> {
        if rhs.is_zero() {
            return None;
        }
        let mut q = [0u64; 4];
        let mut r = U256::ZERO;
        let mut bit = 256;
        while bit > 0 {
            bit -= 1;
            // r = r << 1 | bit of self
            let top = r.0[3] >> 63;
            r.0[3] = (r.0[3] << 1) | (r.0[2] >> 63);
            r.0[2] = (r.0[2] << 1) | (r.0[1] >> 63);
            r.0[1] = (r.0[1] << 1) | (r.0[0] >> 63);
            r.0[0] = (r.0[0] << 1) | ((self.0[bit / 64] >> (bit % 64)) & 1);
            if top != 0 || r.const_cmp(rhs) >= 0 {
                r = r.wrapping_sub(rhs);
                q[bit / 64] |= 1 << (bit % 64);
            }
        }
        Some((U256(q), r))
    }

    pub const fn checked_div(&self, rhs: &U256) -> Option<U256> {
        match self.checked_div_rem(rhs) {
            Some((q, _)) => Some(q),
            None => None,
        }
    }

    pub const fn checked_rem(&self, rhs: &U256) -> Option<U256> {
        match self.checked_div_rem(rhs) {
            Some((_, r)) => Some(r),
            None => None,
        }
    }

    /// -1, 0 or 1 as `self` is less than, equal to or greater than `rhs` (usable in `const`).
    pub const fn const_cmp(&self, rhs: &U256) -> i8 {
        let mut i = 4;
        while i > 0 {
            i -= 1;
            if self.0[i] != rhs.0[i] {
                return if self.0[i] < rhs.0[i] { -1 } else { 1 };
            }
        }
        0
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &U256) -> Ordering {
        self.const_cmp(other).cmp(&0)
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &U256) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<u64> for U256 {
    fn from(v: u64) -> U256 {
        U256::from_u64(v)
    }
}

impl From<u128> for U256 {
    fn from(v: u128) -> U256 {
        U256::from_u128(v)
    }
}
