//! Keccak-256 (the pre-standard SHA-3 padding Ethereum uses) as `const fn`s.
//!
//! Contracts use it at compile time for selectors and event topics. At run time prefer
//! [`crate::env::keccak256`], which asks the host and keeps the permutation out of the
//! contract's code; this module is also usable at run time (the `bench_keccak` kernel does so).

const ROUND_CONSTANTS: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808a,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808b,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008a,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000a,
    0x0000_0000_8000_808b,
    0x8000_0000_0000_008b,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800a,
    0x8000_0000_8000_000a,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

/// Rotation offsets of the rho step, in the order the pi step visits the lanes.
const RHO: [u32; 24] = [
    1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
];

/// Lane visited at each step of the pi permutation.
const PI: [usize; 24] = [
    10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
];

/// Bytes absorbed per permutation for a 256-bit output.
const RATE: usize = 136;

/// The Keccak-f\[1600\] permutation.
pub const fn keccak_f(mut a: [u64; 25]) -> [u64; 25] {
    let mut round = 0;
    while round < 24 {
        // theta
        let mut c = [0u64; 5];
        let mut x = 0;
        while x < 5 {
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
            x += 1;
        }
        x = 0;
        while x < 5 {
            let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
            let mut y = 0;
            while y < 25 {
                a[y + x] ^= d;
                y += 5;
            }
            x += 1;
        }
        // rho and pi
        let mut last = a[1];
        let mut i = 0;
        while i < 24 {
            let j = PI[i];
            let next = a[j];
            a[j] = last.rotate_left(RHO[i]);
            last = next;
            i += 1;
        }
        // chi
        let mut y = 0;
        while y < 25 {
            let row = [a[y], a[y + 1], a[y + 2], a[y + 3], a[y + 4]];
            x = 0;
            while x < 5 {
                a[y + x] = row[x] ^ (!row[(x + 1) % 5] & row[(x + 2) % 5]);
                x += 1;
            }
            y += 5;
        }
        // iota
        a[0] ^= ROUND_CONSTANTS[round];
        round += 1;
    }
    a
}

/// An incremental Keccak-256 hasher usable in `const` contexts:
/// `Keccak::new().update(b"ab").update(b"c").finalize()`.
#[derive(Clone, Copy)]
pub struct Keccak {
    state: [u64; 25],
    /// Bytes absorbed into the current block.
    pos: usize,
}

impl Keccak {
    pub const fn new() -> Self {
        Keccak {
            state: [0; 25],
            pos: 0,
        }
    }

    /// Absorbs `data`.
    pub const fn update(mut self, data: &[u8]) -> Self {
        let mut i = 0;
        while i < data.len() {
            self.state[self.pos / 8] ^= (data[i] as u64) << (8 * (self.pos % 8));
            self.pos += 1;
            if self.pos == RATE {
                self.state = keccak_f(self.state);
                self.pos = 0;
            }
            i += 1;
        }
        self
    }

    /// Pads, permutes and returns the 32-byte digest.
    pub const fn finalize(mut self) -> [u8; 32] {
        self.state[self.pos / 8] ^= 0x01 << (8 * (self.pos % 8));
        self.state[(RATE - 1) / 8] ^= 0x80 << (8 * ((RATE - 1) % 8));
        let state = keccak_f(self.state);
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            out[i] = (state[i / 8] >> (8 * (i % 8))) as u8;
            i += 1;
        }
        out
    }
}

impl Default for Keccak {
    fn default() -> Self {
        Self::new()
    }
}

/// Keccak-256 of `data`, computed in the contract (or at compile time in a `const`).
pub const fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak::new().update(data).finalize()
}
