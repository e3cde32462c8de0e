//! Panic-free byte-slice primitives. Slice indexing and `copy_from_slice` panic with formatted
//! messages, which would pull `core::fmt` (about 2 KiB) into every contract; these revert
//! instead, with a message encoded at compile time.
//!
//! (The SDK also avoids iterator adapters in code that ends up in contracts: at
//! `opt-level = "z"` they are not inlined and cost far more than a loop.)

use crate::abi::Word;

/// Reverts with `Error("out of bounds")`.
#[cold]
#[inline(never)]
pub fn out_of_bounds() -> ! {
    static DATA: [u8; 100] = crate::abi::error_const("out of bounds");
    crate::env::revert(&DATA)
}

/// `data[start..start + len]`, reverting if out of range.
#[inline]
pub fn range(data: &[u8], start: usize, len: usize) -> &[u8] {
    match start.checked_add(len).and_then(|end| data.get(start..end)) {
        Some(s) => s,
        None => out_of_bounds(),
    }
}

/// `&mut data[start..start + len]`, reverting if out of range.
#[inline]
pub fn range_mut(data: &mut [u8], start: usize, len: usize) -> &mut [u8] {
    match start
        .checked_add(len)
        .and_then(|end| data.get_mut(start..end))
    {
        Some(s) => s,
        None => out_of_bounds(),
    }
}

/// Copies `src` into `dst` (a `memory.copy`); reverts unless the lengths are equal.
#[inline]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    if dst.len() != src.len() {
        out_of_bounds()
    }
    // SAFETY: both are valid for `src.len()` bytes and cannot overlap (one is borrowed mutably).
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr(), src.len()) }
}

/// A word holding `b` in its last `N` bytes (zeros before).
#[inline]
pub fn right_aligned<const N: usize>(b: &[u8; N]) -> Word {
    const { assert!(N <= 32) };
    let mut w = [0u8; 32];
    // SAFETY: N <= 32, so the last N bytes of `w` are in range.
    unsafe { core::ptr::copy_nonoverlapping(b.as_ptr(), w.as_mut_ptr().add(32 - N), N) };
    w
}

/// The last `N` bytes of `w`, if the bytes before them are zero.
#[inline]
pub fn low_bytes<const N: usize>(w: &Word) -> Option<[u8; N]> {
    const { assert!(N <= 32) };
    let mut i = 0;
    while i < 32 - N {
        if w[i] != 0 {
            return None;
        }
        i += 1;
    }
    let mut out = [0u8; N];
    // SAFETY: N <= 32, so the last N bytes of `w` are in range.
    unsafe { core::ptr::copy_nonoverlapping(w.as_ptr().add(32 - N), out.as_mut_ptr(), N) };
    Some(out)
}

/// The big-endian word of an ABI offset or length (below 2^32: wasm32 memory).
#[inline]
pub fn usize_word(n: usize) -> Word {
    right_aligned(&(n as u32).to_be_bytes())
}
