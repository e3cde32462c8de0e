//! [`ordered_root`]: the root of a whole set of entries, computed bottom-up over sorted keys
//! without building a tree (for transaction/receipt roots, snapshots and bulk verification).
//! Large inputs hash the root's subtrees on all available cores; the result does not depend on it.

use super::codec::{
    encode_branch, encode_extension, encode_leaf_of_key_suffix, Hash, NodeRef, EMPTY_ROOT,
};
use super::nibbles::nibble;

/// Below this many entries the root is computed on the calling thread only.
const PARALLEL_MIN: usize = 50_000;

/// Number of nibbles `a` and `b` share, starting at nibble `from` (both longer than `from`).
fn shared_nibbles(a: &[u8], b: &[u8], from: usize) -> usize {
    let limit = (a.len() * 2).min(b.len() * 2);
    let mut i = from;
    while i < limit && nibble(a, i) == nibble(b, i) {
        i += 1;
    }
    i - from
}

fn nibbles_of(key: &[u8], from: usize, to: usize, out: &mut Vec<u8>) {
    out.clear();
    out.extend((from..to).map(|i| nibble(key, i)));
}

struct Builder {
    path: Vec<u8>,
    buf: Vec<u8>,
}

impl Builder {
    fn new() -> Self {
        Self {
            path: Vec::with_capacity(64),
            buf: Vec::with_capacity(600),
        }
    }

    /// Reference of the node holding `items` (sorted, unique, non-empty), all of which share
    /// their first `depth` nibbles.
    fn node<K: AsRef<[u8]>, V: AsRef<[u8]>>(&mut self, items: &[(K, V)], depth: usize) -> NodeRef {
        let first = items[0].0.as_ref();
        if items.len() == 1 {
            self.buf.clear();
            encode_leaf_of_key_suffix(first, depth, items[0].1.as_ref(), &mut self.buf);
            return NodeRef::of_encoding(&self.buf);
        }
        // Sorted keys: the prefix shared by all is the one shared by the first and the last.
        let last = items[items.len() - 1].0.as_ref();
        let common = if first.len() * 2 == depth {
            0
        } else {
            shared_nibbles(first, last, depth)
        };
        if common > 0 {
            let child = self.branch(items, depth + common);
            nibbles_of(first, depth, depth + common, &mut self.path);
            self.buf.clear();
            encode_extension(&self.path, &child, &mut self.buf);
            return NodeRef::of_encoding(&self.buf);
        }
        self.branch(items, depth)
    }

    fn branch<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        items: &[(K, V)],
        depth: usize,
    ) -> NodeRef {
        let (children, value) = self.children(items, depth, |b, group, d| b.node(group, d));
        self.buf.clear();
        encode_branch(
            children.each_ref().map(Option::as_ref),
            value,
            &mut self.buf,
        );
        NodeRef::of_encoding(&self.buf)
    }

    /// Splits `items` by the nibble at `depth` and builds each group with `build`.
    fn children<'a, K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        items: &'a [(K, V)],
        depth: usize,
        mut build: impl FnMut(&mut Self, &'a [(K, V)], usize) -> NodeRef,
    ) -> ([Option<NodeRef>; 16], Option<&'a [u8]>) {
        let mut rest = items;
        let mut value = None;
        if rest[0].0.as_ref().len() * 2 == depth {
            value = Some(rest[0].1.as_ref());
            rest = &rest[1..];
        }
        let mut children = [None; 16];
        while !rest.is_empty() {
            let n = nibble(rest[0].0.as_ref(), depth);
            let end = run_end(rest, depth, n);
            children[usize::from(n)] = Some(build(self, &rest[..end], depth + 1));
            rest = &rest[end..];
        }
        (children, value)
    }
}

/// Length of the run of `items` (sorted, the first with nibble `n` at `depth`) whose nibble at
/// `depth` is `n`. Galloping: doubling steps from the start, then a binary search in the last
/// step, so a run of length `r` costs about `2 log2 r` comparisons. Most runs near the leaves
/// hold one entry and cost one comparison; a binary search over the whole slice would touch
/// distant entries and cost `log2` of the slice for every run.
fn run_end<K: AsRef<[u8]>, V>(items: &[(K, V)], depth: usize, n: u8) -> usize {
    let in_run = |item: &(K, V)| nibble(item.0.as_ref(), depth) == n;
    let (mut known, mut step) = (0, 1);
    while known + step < items.len() && in_run(&items[known + step]) {
        known += step;
        step *= 2;
    }
    let limit = (known + step).min(items.len());
    known + 1 + items[known + 1..limit].partition_point(in_run)
}

/// The root of the trie holding exactly `entries`, which must be sorted by key with no
/// duplicate keys and no empty values (use [`ordered_root_unsorted`] otherwise). Uses all
/// available cores for large inputs.
pub fn ordered_root<K, V>(entries: &[(K, V)]) -> Hash
where
    K: AsRef<[u8]> + Sync,
    V: AsRef<[u8]> + Sync,
{
    // Asking for the number of cores reads the process's limits (system calls); small inputs
    // run on the calling thread anyway.
    let threads = match entries.len() < PARALLEL_MIN {
        true => 1,
        false => std::thread::available_parallelism().map_or(1, usize::from),
    };
    ordered_root_on(entries, threads)
}

/// [`ordered_root`] using at most `threads` threads (1: the calling thread only).
pub fn ordered_root_on<K, V>(entries: &[(K, V)], threads: usize) -> Hash
where
    K: AsRef<[u8]> + Sync,
    V: AsRef<[u8]> + Sync,
{
    if entries.is_empty() {
        return EMPTY_ROOT;
    }
    if entries.len() < PARALLEL_MIN || threads < 2 {
        return Builder::new().node(entries, 0).node_hash();
    }
    let first = entries[0].0.as_ref();
    let last = entries[entries.len() - 1].0.as_ref();
    if first.is_empty() || shared_nibbles(first, last, 0) > 0 {
        return Builder::new().node(entries, 0).node_hash();
    }
    // A root branch: hash its sixteen subtrees in parallel, then the branch itself.
    let mut groups: Vec<(u8, &[(K, V)])> = Vec::with_capacity(16);
    let mut rest = entries;
    while !rest.is_empty() {
        let n = nibble(rest[0].0.as_ref(), 0);
        let end = run_end(rest, 0, n);
        groups.push((n, &rest[..end]));
        rest = &rest[end..];
    }
    let per_thread = groups.len().div_ceil(threads);
    let mut children = [None; 16];
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut b = Builder::new();
                    chunk
                        .iter()
                        .map(|(n, group)| (*n, b.node(group, 1)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            // A worker only panics if hashing panicked, which would be a bug; re-raise it.
            let refs = handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            for (n, r) in refs {
                children[usize::from(n)] = Some(r);
            }
        }
    });
    let mut buf = Vec::with_capacity(600);
    encode_branch(children.each_ref().map(Option::as_ref), None, &mut buf);
    NodeRef::of_encoding(&buf).node_hash()
}

/// [`ordered_root`] for entries in any order: sorts them (later duplicates win) and drops
/// empty values.
pub fn ordered_root_unsorted<K, V>(mut entries: Vec<(K, V)>) -> Hash
where
    K: AsRef<[u8]> + Sync,
    V: AsRef<[u8]> + Sync,
{
    // Stable sort keeps insertion order among equal keys; keep the last of each run.
    entries.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    let mut deduped: Vec<(K, V)> = Vec::with_capacity(entries.len());
    for e in entries {
        match deduped.last_mut() {
            Some(prev) if prev.0.as_ref() == e.0.as_ref() => *prev = e,
            _ => deduped.push(e),
        }
    }
    deduped.retain(|(_, v)| !v.as_ref().is_empty());
    ordered_root(&deduped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_end_where_the_nibble_changes() {
        // Runs of every length from 1 to 40 at nibble 1 (the second, low nibble of byte 0),
        // each followed by a different nibble, and a last run reaching the end of the slice.
        for run in 1..=40usize {
            let mut items: Vec<([u8; 1], ())> = vec![([0x07], ()); run];
            for tail in [0usize, 1, 7] {
                items.truncate(run);
                items.extend(std::iter::repeat_n(([0x08], ()), tail));
                assert_eq!(run_end(&items, 1, 7), run, "run {run}, tail {tail}");
                if tail > 0 {
                    assert_eq!(run_end(&items[run..], 1, 8), tail, "tail {tail}");
                }
            }
        }
    }
}
