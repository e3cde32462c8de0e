//! Typed storage with Solidity's layout rules.
//!
//! - A state variable takes one whole 32-byte slot, numbered from 0 in declaration order by
//!   convention (values are not packed into shared slots as Solidity packs small types).
//! - `Mapping` at slot `p`: the value for key `k` lives at `keccak256(pad32(k) . p)`; for
//!   `bytes`/`string` keys at `keccak256(k . p)`. A nested mapping applies the rule again with
//!   the derived slot as `p`, so `allowance[owner][spender]` is at
//!   `keccak256(pad32(spender) . keccak256(pad32(owner) . p))`.
//! - `StorageVec` at slot `p` (a dynamic array): the length at `p`, element `i` at
//!   `keccak256(p) + i`.
//! - `StorageBytes` at slot `p` (`bytes`/`string`): shorter than 32 bytes, the data left-aligned
//!   in `p` with `2 * len` in its last byte; otherwise `2 * len + 1` in `p` and the data in the
//!   slots from `keccak256(p)` on.
//!
//! These are the slots Solidity would use for the same declarations (with every variable in a
//! slot of its own), so Ethereum tools that compute storage proofs or read slots work unchanged.

use core::marker::PhantomData;

use crate::abi::{AbiStr, Word, WordValue};
use crate::bytes::{copy, range, range_mut};
use crate::env::{keccak256, storage_read, storage_write};
use crate::u256::U256;

/// The key of slot number `n`.
pub const fn slot_key(n: u64) -> Word {
    U256::from_u64(n).to_be_bytes()
}

/// `keccak256(slot) + index`: where the data of a dynamic array or a long byte string starts.
pub fn data_slot(slot: &Word, index: u64) -> Word {
    U256::from_be_bytes(&keccak256(slot))
        .wrapping_add(&U256::from_u64(index))
        .to_be_bytes()
}

/// A storage item that lives at a given slot: used for the values of mappings.
pub trait FromSlot {
    fn from_slot(slot: Word) -> Self;
}

#[cold]
fn corrupt() -> ! {
    crate::env::revert_str("storage decode")
}

/// A single value in one slot.
pub struct Slot<T> {
    key: Word,
    _t: PhantomData<fn() -> T>,
}

impl<T> Slot<T> {
    /// The state variable at slot number `n`.
    pub const fn new(n: u64) -> Self {
        Slot::at(slot_key(n))
    }

    /// The slot with the 32-byte key `key`.
    pub const fn at(key: Word) -> Self {
        Slot {
            key,
            _t: PhantomData,
        }
    }

    pub fn key(&self) -> &Word {
        &self.key
    }
}

impl<T: WordValue> Slot<T> {
    /// The value (zero/false/the zero address if never written).
    pub fn get(&self) -> T {
        T::from_word(&storage_read(&self.key)).unwrap_or_else(|| corrupt())
    }

    pub fn set(&self, value: &T) {
        storage_write(&self.key, &value.to_word())
    }

    /// Writes zero, which clears the slot.
    pub fn clear(&self) {
        storage_write(&self.key, &[0; 32])
    }
}

impl<T> FromSlot for Slot<T> {
    fn from_slot(slot: Word) -> Self {
        Slot::at(slot)
    }
}

/// A key of a [`Mapping`].
pub trait MapKey {
    /// The slot of this key in the mapping at `base`.
    fn derive(&self, base: &Word) -> Word;
}

impl<T: WordValue> MapKey for T {
    fn derive(&self, base: &Word) -> Word {
        keccak256([self.to_word(), *base].as_flattened())
    }
}

fn derive_bytes(key: &[u8], base: &Word) -> Word {
    let buf = crate::mem::alloc_bytes(key.len() + 32);
    copy(range_mut(buf, 0, key.len()), key);
    copy(range_mut(buf, key.len(), 32), base);
    keccak256(buf)
}

impl MapKey for [u8] {
    fn derive(&self, base: &Word) -> Word {
        derive_bytes(self, base)
    }
}

impl MapKey for str {
    fn derive(&self, base: &Word) -> Word {
        derive_bytes(self.as_bytes(), base)
    }
}

impl MapKey for AbiStr<'_> {
    fn derive(&self, base: &Word) -> Word {
        derive_bytes(self.0, base)
    }
}

/// Solidity's `mapping(K => V)`. `V` is either a one-word value (use [`Mapping::get`] and
/// [`Mapping::set`]) or another storage item such as a nested `Mapping` (use [`Mapping::at`]).
pub struct Mapping<K: ?Sized, V> {
    slot: Word,
    _kv: PhantomData<fn(&K) -> V>,
}

impl<K: ?Sized + MapKey, V> Mapping<K, V> {
    /// The mapping declared at slot number `n`.
    pub const fn new(n: u64) -> Self {
        Mapping {
            slot: slot_key(n),
            _kv: PhantomData,
        }
    }

    /// The slot holding the value for `key`.
    pub fn slot_of(&self, key: &K) -> Word {
        key.derive(&self.slot)
    }

    /// The storage item for `key` (for mappings of mappings, arrays or byte strings).
    pub fn at(&self, key: &K) -> V
    where
        V: FromSlot,
    {
        V::from_slot(self.slot_of(key))
    }
}

impl<K: ?Sized + MapKey, V: WordValue> Mapping<K, V> {
    /// The slot of `key`, derived once: read and write it without hashing the key again.
    pub fn entry(&self, key: &K) -> Slot<V> {
        Slot::at(self.slot_of(key))
    }

    pub fn get(&self, key: &K) -> V {
        Slot::<V>::at(self.slot_of(key)).get()
    }

    pub fn set(&self, key: &K, value: &V) {
        Slot::<V>::at(self.slot_of(key)).set(value)
    }
}

impl<K: ?Sized, V> FromSlot for Mapping<K, V> {
    fn from_slot(slot: Word) -> Self {
        Mapping {
            slot,
            _kv: PhantomData,
        }
    }
}

/// Solidity's dynamic array `T[]` of one-word values.
pub struct StorageVec<T> {
    slot: Word,
    _t: PhantomData<fn() -> T>,
}

impl<T> StorageVec<T> {
    pub const fn new(n: u64) -> Self {
        StorageVec {
            slot: slot_key(n),
            _t: PhantomData,
        }
    }
}

impl<T: WordValue> StorageVec<T> {
    pub fn len(&self) -> u64 {
        Slot::<U256>::at(self.slot)
            .get()
            .to_u64()
            .unwrap_or_else(|| corrupt())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `index`, `None` past the end.
    pub fn get(&self, index: u64) -> Option<T> {
        (index < self.len()).then(|| Slot::<T>::at(data_slot(&self.slot, index)).get())
    }

    /// Overwrites element `index`; reverts past the end.
    pub fn set(&self, index: u64, value: &T) {
        crate::env::require(index < self.len(), "index out of bounds");
        Slot::<T>::at(data_slot(&self.slot, index)).set(value)
    }

    /// Appends `value`; returns its index.
    pub fn push(&self, value: &T) -> u64 {
        let len = self.len();
        Slot::<T>::at(data_slot(&self.slot, len)).set(value);
        Slot::<U256>::at(self.slot).set(&U256::from_u64(len + 1));
        len
    }
}

impl<T> FromSlot for StorageVec<T> {
    fn from_slot(slot: Word) -> Self {
        StorageVec {
            slot,
            _t: PhantomData,
        }
    }
}

/// Solidity's `bytes` or `string` state variable.
pub struct StorageBytes {
    slot: Word,
}

impl StorageBytes {
    pub const fn new(n: u64) -> Self {
        StorageBytes { slot: slot_key(n) }
    }

    /// Length from the slot word; also whether the data is inline (short).
    fn decode_len(w: &Word) -> (usize, bool) {
        if w[31] & 1 == 0 {
            let len = (w[31] / 2) as usize;
            if len >= 32 {
                corrupt()
            }
            (len, true)
        } else {
            match U256::from_be_bytes(w).to_u64() {
                Some(v) if v < (1 << 32) => ((v / 2) as usize, false),
                _ => corrupt(),
            }
        }
    }

    pub fn len(&self) -> usize {
        Self::decode_len(&storage_read(&self.slot)).0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored bytes, in fresh memory.
    pub fn get(&self) -> &'static [u8] {
        let w = storage_read(&self.slot);
        let (len, short) = Self::decode_len(&w);
        let out = crate::mem::alloc_bytes(len);
        if short {
            copy(out, range(&w, 0, len));
        } else {
            let mut done = 0;
            while done < len {
                let n = (len - done).min(32);
                let word = storage_read(&data_slot(&self.slot, (done / 32) as u64));
                copy(range_mut(out, done, n), range(&word, 0, n));
                done += n;
            }
        }
        out
    }

    /// Stores `data`, clearing the slots of a longer previous value.
    pub fn set(&self, data: &[u8]) {
        let (old_len, old_short) = Self::decode_len(&storage_read(&self.slot));
        let old_chunks = if old_short {
            0
        } else {
            old_len.div_ceil(32) as u64
        };
        let mut head = [0u8; 32];
        let mut chunks = 0;
        if data.len() < 32 {
            copy(range_mut(&mut head, 0, data.len()), data);
            head[31] = (data.len() * 2) as u8;
        } else {
            head = U256::from_u64(data.len() as u64 * 2 + 1).to_be_bytes();
            let mut done = 0;
            while done < data.len() {
                let n = (data.len() - done).min(32);
                let mut word = [0u8; 32];
                copy(range_mut(&mut word, 0, n), range(data, done, n));
                storage_write(&data_slot(&self.slot, chunks), &word);
                chunks += 1;
                done += n;
            }
        }
        storage_write(&self.slot, &head);
        while chunks < old_chunks {
            storage_write(&data_slot(&self.slot, chunks), &[0; 32]);
            chunks += 1;
        }
    }
}

impl FromSlot for StorageBytes {
    fn from_slot(slot: Word) -> Self {
        StorageBytes { slot }
    }
}
