//! Cache warm-up for a batch of edits. In a large trie each level of a random key's path is a
//! cache miss, and an edit pays them one after another. [`warm_paths`] walks many keys' paths
//! together, one level per key per round, prefetching each next slot, so the misses of
//! different keys overlap; the edits that follow find their paths in cache. It only reads the
//! loaded part of the tree and changes nothing.

use super::nibbles::nibble_at;
use super::node::{Node, Slot};

/// How many paths are walked together: enough misses in flight to cover memory latency.
const LANES: usize = 16;

/// Where one key's walk is: the slot to read next (`None` once done), the key and the number
/// of nibbles consumed.
type Lane<'t, 'k> = (Option<&'t Slot>, &'k [u8], usize);

/// Reads the slots along each key's path (keys as packed bytes, as [`super::Trie::insert`]
/// takes them) as far as the tree is loaded. Extensions are skipped over without comparing
/// their paths: a key that leaves the trie there only warms a few lines too many.
pub(crate) fn warm_paths<'k>(root: &Slot, keys: impl IntoIterator<Item = &'k [u8]>) {
    let mut keys = keys.into_iter();
    let mut lanes: [Lane<'_, 'k>; LANES] = [(None, &[], 0); LANES];
    loop {
        let mut active = false;
        for lane in &mut lanes {
            if lane.0.is_none() {
                if let Some(key) = keys.next() {
                    *lane = (Some(root), key, 0);
                }
            }
            let (Some(slot), key, depth) = *lane else {
                continue;
            };
            active = true;
            let next = match &slot.node {
                Some(Node::Branch(branch)) => {
                    nibble_at(key, depth).map(|i| (&branch.children[i], depth + 1))
                }
                Some(Node::Extension(ext)) => Some((&ext.child, depth + ext.path.len())),
                Some(Node::Leaf(_)) | None => None,
            };
            *lane = match next {
                Some((child, depth)) => {
                    prefetch(child);
                    (Some(child), key, depth)
                }
                None => (None, &[], 0),
            };
        }
        if !active {
            break;
        }
    }
}

/// Asks the processor to bring `slot`'s first cache line in (a hint; no effect on results).
#[inline(always)]
fn prefetch(slot: &Slot) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults and reads nothing into the program; the
    // address comes from a live reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(slot).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}
