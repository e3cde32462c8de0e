//! Pruning and rewinding, shared by both backends through [`Tables`]: releasing the nodes no
//! retained version needs and reclaiming their space lazily, one *segment* at a time; and
//! deleting everything versions after a given one wrote.
//!
//! A segment is every record of one `(version, namespace)`: the records one commit wrote for
//! one trie, stored in the pages under that 40-byte prefix. The segments table holds, per
//! segment, how many records its pages hold and how many of those are dead.
//!
//! `prune(keep_from)` first *releases*: it moves each stale list of a commit at or before
//! `keep_from` into per-segment dead lists (`segment ‖ stale_since` → the dead records' key
//! suffixes) and adds to the segments' dead counts. Releasing reads no page: a stale entry
//! carries its node's version, hence its segment. Then it *reclaims*: a segment whose dead
//! count reaches half of its records ([`Reclaim::Lazy`]) or has any dead record
//! ([`Reclaim::Eager`]) is compacted: its pages are read, its dead records dropped, the
//! survivors packed into full pages again and its dead lists deleted. Reclaiming lazily
//! bounds the space dead records take to about as much as the live ones, and writes each
//! surviving record again only when its segment has lost half of its records, instead of
//! rewriting every page that holds one dead record (most of the store, when keys are random).

use std::collections::BTreeMap;

use super::page::{self, PREFIX};
use super::{parse_stale, superseded_roots, version_of_root_key, PruneStats};
use crate::trie::error::StoreError;
use crate::trie::node::{push_varint, read_varint};

/// When pruning rewrites a segment to drop its dead records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reclaim {
    /// Once at least half of the segment's records are dead: each surviving record is written
    /// again only after as many records of its segment died, so the cost of reclaiming is
    /// proportional to what dies, and dead records take at most about as much space as live
    /// ones.
    #[default]
    Lazy,
    /// As soon as the segment holds a dead record: the store keeps only what retained
    /// versions need, at the price of rewriting most pages when dead records are spread out.
    Eager,
}

impl Reclaim {
    fn due(self, counts: SegmentCounts) -> bool {
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
    /// Dead lists: `segment ‖ stale_since` → key suffixes of released records.
    Dead,
    /// Segment counts: `segment` → `records (8, BE) ‖ dead (8, BE)`.
    Segments,
    /// Root records: `namespace ‖ version` → root.
    Roots,
}

/// Key-value pairs read from a table, in key order.
pub(crate) type Entries = Vec<(Vec<u8>, Vec<u8>)>;

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
}

/// How many records a segment's pages hold, and how many of those are dead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SegmentCounts {
    pub(crate) records: u64,
    pub(crate) dead: u64,
}

impl SegmentCounts {
    pub(crate) fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.records.to_be_bytes());
        out[8..].copy_from_slice(&self.dead.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let word = |range: std::ops::Range<usize>| {
            bytes
                .get(range)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Database("malformed segment counts".into()))
        };
        if bytes.len() != 16 {
            return Err(StoreError::Database("malformed segment counts".into()));
        }
        Ok(Self {
            records: word(0..8)?,
            dead: word(8..16)?,
        })
    }
}

/// Adds a commit's records to the counts of the segments they belong to: `written` lists
/// `(segment, records)`.
pub(crate) fn count_written(
    tables: &mut impl Tables,
    written: &[(Vec<u8>, u64)],
) -> Result<(), StoreError> {
    for (segment, records) in written {
        let mut counts = match tables.get(Table::Segments, segment)? {
            Some(bytes) => SegmentCounts::decode(&bytes)?,
            None => SegmentCounts::default(),
        };
        counts.records = counts.records.saturating_add(*records);
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

/// Releases every node no version `>= keep_from` needs, reclaims the segments `reclaim` says
/// are due, and deletes the root records pruning makes unreachable.
pub(crate) fn prune(
    tables: &mut impl Tables,
    keep_from: u64,
    reclaim: Reclaim,
) -> Result<PruneStats, StoreError> {
    let mut stats = PruneStats::default();
    let bound = keep_from.saturating_add(1).to_be_bytes();
    let mut touched: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for (stale_key, list) in tables.range(Table::Stale, &[], Some(&bound))? {
        tables.delete(Table::Stale, &stale_key)?;
        let (since, namespace) = match stale_key.len() {
            40 => stale_key.split_at(8),
            _ => return Err(malformed("stale list key")),
        };
        // This commit's dead records, per segment: `[LEB128 length][suffix]` each.
        let mut dead: BTreeMap<Vec<u8>, (Vec<u8>, u64)> = BTreeMap::new();
        for entry in parse_stale(&list)? {
            // `parse_stale` guarantees at least 9 bytes per entry.
            let (version, suffix) = entry.split_at(8);
            let mut segment = Vec::with_capacity(PREFIX);
            segment.extend_from_slice(version);
            segment.extend_from_slice(namespace);
            let (bytes, count) = dead.entry(segment).or_default();
            push_varint(suffix.len() as u64, bytes);
            bytes.extend_from_slice(suffix);
            *count += 1;
        }
        for (segment, (mut bytes, count)) in dead {
            let mut key = segment.clone();
            key.extend_from_slice(since);
            if let Some(mut existing) = tables.get(Table::Dead, &key)? {
                existing.append(&mut bytes);
                bytes = existing;
            }
            tables.put(Table::Dead, &key, &bytes)?;
            *touched.entry(segment).or_default() += count;
            stats.released += count;
        }
    }
    if reclaim == Reclaim::Eager {
        // Segments with records released by earlier, lazy prunes are due as well.
        for (segment, counts) in tables.range(Table::Segments, &[], None)? {
            if SegmentCounts::decode(&counts)?.dead > 0 {
                touched.entry(segment).or_default();
            }
        }
    }
    for (segment, released) in touched {
        let mut counts = match tables.get(Table::Segments, &segment)? {
            Some(bytes) => SegmentCounts::decode(&bytes)?,
            // A segment written before segments were counted: count its records once.
            None => SegmentCounts {
                records: segment_records(tables, &segment)?,
                dead: 0,
            },
        };
        counts.dead = counts.dead.saturating_add(released);
        if reclaim.due(counts) {
            let (removed, survivors) = compact(tables, &segment)?;
            stats.nodes += removed;
            counts = SegmentCounts {
                records: survivors,
                dead: 0,
            };
        }
        if counts.records == 0 {
            tables.delete(Table::Segments, &segment)?;
        } else {
            tables.put(Table::Segments, &segment, &counts.encode())?;
        }
    }
    let roots = tables.range(Table::Roots, &[], None)?;
    for key in superseded_roots(roots.iter().map(|(k, _)| k.as_slice()), keep_from)? {
        tables.delete(Table::Roots, &key)?;
        stats.roots += 1;
    }
    Ok(stats)
}

/// Deletes everything the versions after `to_version` wrote: node pages, stale lists, dead
/// lists and counts of their segments (all keyed by version first), and roots.
pub(crate) fn rewind(tables: &mut impl Tables, to_version: u64) -> Result<PruneStats, StoreError> {
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
    for table in [Table::Stale, Table::Dead, Table::Segments] {
        for (key, _) in tables.range(table, &bound, None)? {
            tables.delete(table, &key)?;
        }
    }
    for (key, _) in tables.range(Table::Roots, &[], None)? {
        // A malformed root key is kept.
        if version_of_root_key(&key).is_ok_and(|v| v > to_version) {
            tables.delete(Table::Roots, &key)?;
            stats.roots += 1;
        }
    }
    Ok(stats)
}

/// The pages of `segment`, as `(page key, page)` in key order.
fn segment_pages(tables: &mut impl Tables, segment: &[u8]) -> Result<Entries, StoreError> {
    tables.range(Table::Nodes, segment, prefix_end(segment).as_deref())
}

fn segment_records(tables: &mut impl Tables, segment: &[u8]) -> Result<u64, StoreError> {
    let mut records = 0;
    for (_, page) in segment_pages(tables, segment)? {
        records += page::entries(&page)?.len() as u64;
    }
    Ok(records)
}

/// Rewrites `segment` without its dead records, packing the survivors into full pages, and
/// deletes its dead lists. Returns how many records it removed and how many survive.
fn compact(tables: &mut impl Tables, segment: &[u8]) -> Result<(u64, u64), StoreError> {
    let mut dead: Vec<Vec<u8>> = Vec::new();
    for (key, list) in tables.range(Table::Dead, segment, prefix_end(segment).as_deref())? {
        tables.delete(Table::Dead, &key)?;
        let mut rest: &[u8] = &list;
        while !rest.is_empty() {
            let len = read_varint(&mut rest).map_err(|_| malformed("dead list"))?;
            let len = usize::try_from(len).map_err(|_| malformed("dead list"))?;
            let suffix = rest.get(..len).ok_or_else(|| malformed("dead list"))?;
            dead.push(suffix.to_vec());
            rest = &rest[len..];
        }
    }
    dead.sort_unstable();
    let pages = segment_pages(tables, segment)?;
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
    Ok((removed, survivors.len() as u64))
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
    fn segment_counts_roundtrip_and_reject_bad_lengths() {
        let counts = SegmentCounts {
            records: 7,
            dead: 3,
        };
        assert_eq!(SegmentCounts::decode(&counts.encode()).unwrap(), counts);
        assert!(SegmentCounts::decode(&[0; 15]).is_err());
    }

    #[test]
    fn lazy_reclaim_waits_for_half_of_the_records() {
        let due = |records, dead| SegmentCounts { records, dead };
        assert!(!Reclaim::Lazy.due(due(10, 4)));
        assert!(Reclaim::Lazy.due(due(10, 5)));
        assert!(Reclaim::Lazy.due(due(1, 1)));
        assert!(!Reclaim::Lazy.due(due(0, 0)));
        assert!(Reclaim::Eager.due(due(10, 1)));
        assert!(!Reclaim::Eager.due(due(10, 0)));
    }
}
