//! Pruning and rewinding, shared by both backends through [`Tables`]: releasing the nodes no
//! retained version needs and reclaiming their space lazily, a segment bucket at a time (see
//! `segment`); and deleting everything versions after a given one wrote.
//!
//! `prune(keep_from)` first *releases*: it moves each stale list of a commit at or before
//! `keep_from` into dead lists (`bucket prefix ‖ stale_since` → the dead records' key
//! suffixes) and adds to the buckets' dead counts. Releasing reads no page: a stale entry
//! carries its node's version, hence its segment. Then it *reclaims*: a bucket whose dead
//! count reaches half of its records ([`Reclaim::Lazy`]) or has any dead record
//! ([`Reclaim::Eager`]) is due, and compacting it reads its pages, drops its dead records,
//! packs the survivors into full pages again and deletes its dead lists. A lazy prune compacts
//! at most a budget of records (four times what it released, and at least
//! [`MIN_BUDGET`]); due buckets beyond it wait in the due table for the next prunes, so no
//! prune pays for a whole large segment at once while the reclaiming keeps up with what dies.
//! Lazily, dead records take at most about as much space as live ones (plus the due backlog),
//! and a surviving record is written again only once as many records of its bucket died.

use std::collections::{btree_map, BTreeMap, BTreeSet};

use super::page::{self, Layout, PREFIX};
use super::segment::{Counts, Histogram, Segment};
use super::{parse_items, parse_stale, roots, PruneStats, WriteBatch};
use crate::trie::error::StoreError;
use crate::trie::node::push_varint;

/// Records a lazy prune may compact however little it released.
pub(crate) const MIN_BUDGET: u64 = 16_384;

/// Key of the pruning point in [`Table::Meta`].
pub(crate) const KEPT_FROM: &[u8] = b"kept_from";

/// The oldest version the store keeps whole: the greatest `keep_from` pruned to (0 if none).
pub(crate) fn kept_from(tables: &mut impl Tables) -> Result<u64, StoreError> {
    decode_kept_from(tables.get(Table::Meta, KEPT_FROM)?.as_deref())
}

/// The pruning point from its record in [`Table::Meta`] (`None`: never pruned).
pub(crate) fn decode_kept_from(record: Option<&[u8]>) -> Result<u64, StoreError> {
    match record {
        None => Ok(0),
        Some(bytes) => bytes
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| malformed("pruning point")),
    }
}

/// When pruning rewrites a segment bucket to drop its dead records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reclaim {
    /// Once at least half of the bucket's records are dead, within a budget per prune: each
    /// surviving record is written again only after as many records of its bucket died, so
    /// the cost of reclaiming follows what dies, and dead records take about as much space
    /// as live ones at most.
    #[default]
    Lazy,
    /// As soon as the bucket holds a dead record, without a budget: the store keeps only what
    /// retained versions need, at the price of rewriting most pages when dead records are
    /// spread out.
    Eager,
}

impl Reclaim {
    fn due(self, counts: Counts) -> bool {
        match self {
            Reclaim::Lazy => counts.dead > 0 && counts.dead.saturating_mul(2) >= counts.records,
            Reclaim::Eager => counts.dead > 0,
        }
    }
}

/// The tables pruning works on, as ordered byte maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// Node pages (see `page`).
    Nodes,
    /// Stale lists: `stale_since ‖ namespace` → superseded nodes.
    Stale,
    /// Dead lists: `bucket prefix ‖ stale_since` → key suffixes of released records.
    Dead,
    /// Segment counts: `segment` → [`Segment`].
    Segments,
    /// Due buckets left for later prunes: `segment ‖ bucket (1 byte)` → nothing.
    Due,
    /// The store's pruning point: [`KEPT_FROM`] → the greatest `keep_from` pruned to (8, BE).
    Meta,
    /// Root records: `namespace ‖ version` → root.
    Roots,
    /// Roots written since the pruning point: `version ‖ namespace` → nothing (see `roots`).
    RootLog,
}

/// A key-value pair read from a table.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);
/// Key-value pairs read from a table, in key order.
pub(crate) type Entries = Vec<Entry>;

/// A backend's tables inside one atomic write.
pub(crate) trait Tables {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError>;
    /// The entries with `start <= key` (and `key < end` when `end` is given), in key order.
    fn range(
        &mut self,
        table: Table,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> Result<Entries, StoreError>;
    /// The entry with the greatest key below `key`.
    fn before(&mut self, table: Table, key: &[u8]) -> Result<Option<Entry>, StoreError>;
}

/// Records what a write adds besides its node pages (written as `layout` cuts them) and its
/// code: the counts of the segments its records belong to, its stale lists (appended to lists
/// already under the same key) and its roots.
pub(crate) fn index_batch(
    tables: &mut impl Tables,
    layout: &Layout,
    batch: &WriteBatch,
) -> Result<(), StoreError> {
    count_written(tables, &layout.segment_histograms())?;
    for (key, list) in batch.stale_lists() {
        let merged = match tables.get(Table::Stale, &key)? {
            Some(existing) => [existing, list].concat(),
            None => list,
        };
        tables.put(Table::Stale, &key, &merged)?;
    }
    roots::write(tables, batch)
}

/// Adds a commit's records to the counts of the segments they belong to.
fn count_written(
    tables: &mut impl Tables,
    written: &[(Vec<u8>, Histogram)],
) -> Result<(), StoreError> {
    for (segment, histogram) in written {
        let counts = match tables.get(Table::Segments, segment)? {
            Some(bytes) => {
                let mut counts = Segment::decode(&bytes)?;
                counts.add(histogram);
                counts
            }
            None => Segment::new(histogram),
        };
        tables.put(Table::Segments, segment, &counts.encode())?;
    }
    Ok(())
}

/// The first key after every key starting with `prefix` (`None`: no such key).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn malformed(what: &str) -> StoreError {
    StoreError::Database(format!("malformed {what}"))
}

/// The segments a prune changes, loaded once each.
#[derive(Default)]
struct Loaded {
    segments: BTreeMap<Vec<u8>, Segment>,
}

impl Loaded {
    fn get<'a>(
        &'a mut self,
        tables: &mut impl Tables,
        segment: &[u8],
    ) -> Result<&'a mut Segment, StoreError> {
        Ok(match self.segments.entry(segment.to_vec()) {
            btree_map::Entry::Occupied(loaded) => loaded.into_mut(),
            btree_map::Entry::Vacant(slot) => {
                slot.insert(match tables.get(Table::Segments, segment)? {
                    Some(bytes) => Segment::decode(&bytes)?,
                    // Written before segments were counted: count its records once.
                    None => Segment::new(&histogram_of_pages(tables, segment)?),
                })
            }
        })
    }
}

/// Releases every node no version `>= keep_from` needs, reclaims the buckets `reclaim` says
/// are due (within a budget when lazy), and deletes the root records pruning makes
/// unreachable.
pub(crate) fn prune(
    tables: &mut impl Tables,
    keep_from: u64,
    reclaim: Reclaim,
) -> Result<PruneStats, StoreError> {
    let mut stats = PruneStats::default();
    let mut loaded = Loaded::default();
    // Buckets that may be due: `(segment, bucket)`.
    let mut candidates: BTreeSet<(Vec<u8>, usize)> = BTreeSet::new();
    let bound = keep_from.saturating_add(1).to_be_bytes();
    for (stale_key, list) in tables.range(Table::Stale, &[], Some(&bound))? {
        tables.delete(Table::Stale, &stale_key)?;
        let (since, namespace) = match stale_key.len() {
            40 => stale_key.split_at(8),
            _ => return Err(malformed("stale list key")),
        };
        // This commit's dead records by the version that wrote them, i.e. by segment.
        let mut by_version: BTreeMap<&[u8], Vec<&[u8]>> = BTreeMap::new();
        for entry in parse_stale(&list)? {
            // `parse_stale` guarantees at least 9 bytes per entry.
            let (version, suffix) = entry.split_at(8);
            by_version.entry(version).or_default().push(suffix);
        }
        for (version, suffixes) in by_version {
            let segment = [version, namespace].concat();
            let counts = loaded.get(tables, &segment)?;
            // Per bucket: `[LEB128 length][suffix]` each, and how many.
            let mut dead: BTreeMap<usize, (Vec<u8>, u64)> = BTreeMap::new();
            for suffix in suffixes {
                let (bytes, count) = dead.entry(counts.bucket_of(suffix)).or_default();
                push_varint(suffix.len() as u64, bytes);
                bytes.extend_from_slice(suffix);
                *count += 1;
            }
            for (bucket, (mut bytes, count)) in dead {
                let mut key = counts.bucket_prefix(&segment, bucket);
                key.extend_from_slice(since);
                if let Some(c) = counts.buckets.get_mut(bucket) {
                    c.dead = c.dead.saturating_add(count);
                }
                if let Some(mut existing) = tables.get(Table::Dead, &key)? {
                    existing.append(&mut bytes);
                    bytes = existing;
                }
                tables.put(Table::Dead, &key, &bytes)?;
                stats.released += count;
                candidates.insert((segment.clone(), bucket));
            }
        }
    }
    // Buckets left due by earlier prunes; when eager, every bucket with dead records.
    for (key, _) in tables.range(Table::Due, &[], None)? {
        tables.delete(Table::Due, &key)?;
        match key.split_last() {
            Some((&bucket, segment)) if segment.len() == PREFIX => {
                candidates.insert((segment.to_vec(), usize::from(bucket)));
            }
            _ => return Err(malformed("due bucket key")),
        }
    }
    if reclaim == Reclaim::Eager {
        for (segment, bytes) in tables.range(Table::Segments, &[], None)? {
            let counts = Segment::decode(&bytes)?;
            for (bucket, c) in counts.buckets.iter().enumerate() {
                if c.dead > 0 {
                    candidates.insert((segment.clone(), bucket));
                }
            }
            loaded.segments.entry(segment).or_insert(counts);
        }
    }
    let budget = match reclaim {
        Reclaim::Lazy => stats.released.saturating_mul(4).max(MIN_BUDGET),
        Reclaim::Eager => u64::MAX,
    };
    let mut spent = 0u64;
    for (segment, bucket) in candidates {
        let counts = loaded.get(tables, &segment)?;
        let Some(&c) = counts.buckets.get(bucket) else {
            continue;
        };
        if !reclaim.due(c) {
            continue;
        }
        // The first due bucket is compacted whatever its size, so every bucket gets its turn.
        if spent > 0 && spent.saturating_add(c.records) > budget {
            // Left for a later prune, which finds it in the due table.
            let mut key = segment.clone();
            // At most 256 buckets, so the index fits a byte.
            key.push(bucket as u8);
            tables.put(Table::Due, &key, &[])?;
            continue;
        }
        spent = spent.saturating_add(c.records);
        let prefix = counts.bucket_prefix(&segment, bucket);
        let removed = compact(tables, &segment, &prefix)?;
        stats.nodes += removed;
        let counts = loaded.get(tables, &segment)?;
        if let Some(c) = counts.buckets.get_mut(bucket) {
            c.records = c.records.saturating_sub(removed);
            c.dead = 0;
        }
    }
    for (segment, counts) in loaded.segments {
        match counts.is_empty() {
            true => tables.delete(Table::Segments, &segment)?,
            false => tables.put(Table::Segments, &segment, &counts.encode())?,
        }
    }
    stats.roots = roots::prune(tables, keep_from)?;
    if keep_from > kept_from(tables)? {
        tables.put(Table::Meta, KEPT_FROM, &keep_from.to_be_bytes())?;
    }
    Ok(stats)
}

/// Deletes everything the versions after `to_version` wrote: node pages, stale lists, dead
/// lists, counts and due buckets of their segments (all keyed by version first), and roots
/// (through their log).
/// Refused below the pruning point: the nodes such a version needs may be released or gone.
pub(crate) fn rewind(tables: &mut impl Tables, to_version: u64) -> Result<PruneStats, StoreError> {
    let kept_from = kept_from(tables)?;
    if to_version < kept_from {
        return Err(StoreError::RewindPastPrune {
            to_version,
            kept_from,
        });
    }
    let mut stats = PruneStats::default();
    let Some(bound) = to_version.checked_add(1).map(u64::to_be_bytes) else {
        return Ok(stats);
    };
    let pages = tables.range(Table::Nodes, &bound, None)?;
    // Counted before anything changes, so a malformed page leaves the store untouched.
    for (_, page) in &pages {
        stats.nodes += page::entries(page)?.len() as u64;
    }
    for (key, _) in pages {
        tables.delete(Table::Nodes, &key)?;
    }
    for table in [Table::Stale, Table::Dead, Table::Segments, Table::Due] {
        for (key, _) in tables.range(table, &bound, None)? {
            tables.delete(table, &key)?;
        }
    }
    stats.roots = roots::rewind(tables, to_version)?;
    Ok(stats)
}

/// Records of `segment` per first byte of their key suffix, counted from its pages.
fn histogram_of_pages(tables: &mut impl Tables, segment: &[u8]) -> Result<Histogram, StoreError> {
    let mut histogram = [0u64; 256];
    for (_, page) in tables.range(Table::Nodes, segment, prefix_end(segment).as_deref())? {
        for (suffix, _) in page::entries(&page)? {
            histogram[usize::from(suffix.first().copied().unwrap_or(0))] += 1;
        }
    }
    Ok(histogram)
}

/// Rewrites the pages holding the records under `prefix` (a bucket of `segment`, or all of
/// it) without the dead ones its dead lists name, packing what survives into full pages, and
/// deletes those dead lists. Returns how many records it removed.
fn compact(tables: &mut impl Tables, segment: &[u8], prefix: &[u8]) -> Result<u64, StoreError> {
    let end = prefix_end(prefix);
    let mut dead: Vec<Vec<u8>> = Vec::new();
    for (key, list) in tables.range(Table::Dead, prefix, end.as_deref())? {
        tables.delete(Table::Dead, &key)?;
        // A suffix holds at least its odd-length flag.
        dead.extend(
            parse_items(&list, 1, "dead list")?
                .into_iter()
                .map(<[u8]>::to_vec),
        );
    }
    dead.sort_unstable();
    let mut pages = Vec::new();
    if prefix.len() > PREFIX {
        // A bucket of a segment: the page before its first key may end with its records.
        if let Some((key, page)) = tables.before(Table::Nodes, prefix)? {
            if key.get(..PREFIX) == Some(segment) {
                pages.push((key, page));
            }
        }
    }
    pages.extend(tables.range(Table::Nodes, prefix, end.as_deref())?);
    let mut survivors = Vec::new();
    let mut removed = 0;
    for (key, page) in &pages {
        tables.delete(Table::Nodes, key)?;
        for (suffix, record) in page::entries(page)? {
            match dead.binary_search_by(|d| d.as_slice().cmp(suffix)) {
                Ok(_) => removed += 1,
                Err(_) => survivors.push((suffix, record)),
            }
        }
    }
    for (key, page) in page::pack(segment, &survivors) {
        tables.put(Table::Nodes, &key, &page)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_first_key_past_the_prefix() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[]), None);
    }

    #[test]
    fn lazy_reclaim_waits_for_half_of_the_records() {
        let due = |records, dead| Counts { records, dead };
        assert!(!Reclaim::Lazy.due(due(10, 4)));
        assert!(Reclaim::Lazy.due(due(10, 5)));
        assert!(Reclaim::Lazy.due(due(1, 1)));
        assert!(!Reclaim::Lazy.due(due(0, 0)));
        assert!(Reclaim::Eager.due(due(10, 1)));
        assert!(!Reclaim::Eager.due(due(10, 0)));
    }

    /// A segment of 80,000 records (so 256 buckets), 45% then 15% of them released: the first
    /// prune deletes nothing (no bucket half dead), the second compacts only as many buckets as
    /// its budget allows and leaves the others due, later prunes finish them; in the end
    /// exactly the dead records are gone and the live ones read back.
    #[test]
    fn large_segments_are_reclaimed_a_bucket_at_a_time_within_a_budget() {
        use crate::trie::store::memory::MemoryStore;
        use crate::trie::store::{NodeKey, NodeStore, StaleEntry, StaleNodes, WriteBatch};

        const N: u32 = 80_000;
        let namespace = [3u8; 32];
        // Spread over every first byte: multiplying by an odd constant permutes u32s.
        let path = |i: u32| -> Vec<u8> {
            let x = i.wrapping_mul(0x9e37_79b1).to_be_bytes();
            x.iter().flat_map(|b| [b >> 4, b & 15]).collect()
        };
        let key = |i: u32| NodeKey {
            namespace,
            version: 1,
            path: path(i),
        };
        let store = MemoryStore::new();
        let nodes = (0..N).map(|i| (key(i), i.to_be_bytes().to_vec())).collect();
        store
            .write(&WriteBatch {
                nodes,
                ..WriteBatch::default()
            })
            .unwrap();
        let released = |since, dead: &dyn Fn(u32) -> bool| {
            let mut nodes = StaleNodes::default();
            for i in (0..N).filter(|&i| dead(i)) {
                nodes.push(1, &path(i));
            }
            WriteBatch {
                stale: vec![StaleEntry {
                    since,
                    namespace,
                    nodes,
                }],
                ..WriteBatch::default()
            }
        };
        store.write(&released(2, &|i| i % 20 < 9)).unwrap();
        store
            .write(&released(3, &|i| (9..12).contains(&(i % 20))))
            .unwrap();
        let first = store.prune(2, Reclaim::Lazy).unwrap();
        assert_eq!((first.released, first.nodes), (36_000, 0));
        let second = store.prune(3, Reclaim::Lazy).unwrap();
        assert_eq!(second.released, 12_000);
        // At most the budget (4 x 12,000 records) is compacted, 60% of it dead.
        assert!(
            second.nodes > 0 && second.nodes <= 48_000 * 6 / 10,
            "{second:?}"
        );
        let mut removed = second.nodes;
        let mut prunes = 1;
        loop {
            let stats = store.prune(3, Reclaim::Lazy).unwrap();
            assert_eq!(stats.released, 0);
            assert!(stats.nodes <= MIN_BUDGET, "{stats:?}");
            if stats.nodes == 0 {
                break;
            }
            removed += stats.nodes;
            prunes += 1;
        }
        assert!(prunes >= 3, "{prunes} prunes");
        assert_eq!(removed, 48_000);
        assert_eq!(store.node_count().unwrap(), 32_000);
        for i in (0..N).step_by(7) {
            let record = store.node(&key(i)).unwrap();
            match i % 20 < 12 {
                true => assert_eq!(record, None, "record {i}"),
                false => assert_eq!(record, Some(i.to_be_bytes().to_vec()), "record {i}"),
            }
        }
    }
}
