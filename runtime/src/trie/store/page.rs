//! Pages: how node records are grouped into database values.
//!
//! A commit's records are sorted by [`NodeKey::encode`] and cut into runs of up to
//! [`PAGE_BYTES`] that share `version ‖ namespace` (the first [`PREFIX`] bytes of the key). A page
//! is stored under the full key of its first record, and holds, for each record in key order,
//! `[LEB128 suffix length][key suffix][LEB128 record length][record]`, where the suffix is the
//! key after the shared prefix (the packed path). A record is found by taking the page with the
//! greatest key at or before its own (same prefix) and scanning it. One database insert per page
//! instead of one per node is what makes a commit cheap for a B-tree store; pruning rewrites a
//! page without its dead records and deletes it once it is empty (the page keeps its key, which
//! stays at or before every record it holds).

use super::super::node::{read_varint, varint};
use std::collections::BTreeMap;

use super::segment::Histogram;
use super::{Namespace, NodeKey};
use crate::trie::error::StoreError;

/// Length of the shared key prefix of one page: `version (8) ‖ namespace (32)`.
pub(crate) const PREFIX: usize = 40;

/// Largest page: a page is closed before an entry would take it past this size (unless the
/// entry is alone). Slightly under a power of two, so that a page and redb's per-page overhead
/// fit one database page allocation.
pub(crate) const PAGE_BYTES: usize = 16 * 1024 - 256;

fn corrupt(what: &str) -> StoreError {
    StoreError::Database(format!("malformed node page: {what}"))
}

/// One `(suffix, record)` entry of a page.
type Entry<'a> = (&'a [u8], &'a [u8]);

/// Parses a page into its entries, in key order.
pub(crate) fn entries(mut page: &[u8]) -> Result<Vec<Entry<'_>>, StoreError> {
    let mut out = Vec::new();
    while !page.is_empty() {
        out.push(next_entry(&mut page)?);
    }
    Ok(out)
}

fn next_entry<'a>(page: &mut &'a [u8]) -> Result<Entry<'a>, StoreError> {
    let take = |page: &mut &'a [u8]| -> Result<&'a [u8], StoreError> {
        let len = read_varint(page).map_err(|e| corrupt(&e))?;
        let len = usize::try_from(len).map_err(|_| corrupt("length overflows"))?;
        if len > page.len() {
            return Err(corrupt("entry overruns the page"));
        }
        let (item, rest) = page.split_at(len);
        *page = rest;
        Ok(item)
    };
    let suffix = take(page)?;
    let record = take(page)?;
    Ok((suffix, record))
}

/// The record with key `suffix` in `page`, if any.
pub(crate) fn find<'a>(mut page: &'a [u8], suffix: &[u8]) -> Result<Option<&'a [u8]>, StoreError> {
    while !page.is_empty() {
        let (s, record) = next_entry(&mut page)?;
        if s == suffix {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// Bytes one entry takes: `[LEB128 suffix length][suffix][LEB128 record length][record]`.
fn entry_len(suffix_len: usize, record_len: usize) -> usize {
    let varint_len = |n: usize| varint(n as u64).1;
    varint_len(suffix_len) + suffix_len + varint_len(record_len) + record_len
}

/// Writes one entry at the front of `out`, which must have room for it ([`entry_len`]);
/// returns what follows it.
fn write_entry<'o>(out: &'o mut [u8], suffix: &[u8], record: &[u8]) -> &'o mut [u8] {
    let mut out = out;
    for part in [suffix, record] {
        let (len, n) = varint(part.len() as u64);
        for bytes in [&len[..n], part] {
            let (head, rest) = std::mem::take(&mut out).split_at_mut(bytes.len());
            head.copy_from_slice(bytes);
            out = rest;
        }
    }
    out
}

fn push_entry(page: &mut Vec<u8>, suffix: &[u8], record: &[u8]) {
    let at = page.len();
    page.resize(at + entry_len(suffix.len(), record.len()), 0);
    write_entry(&mut page[at..], suffix, record);
}

/// Whether an encoded node key and a page key belong to the same version and namespace.
pub(crate) fn same_prefix(node_key: &[u8], page_key: &[u8]) -> bool {
    node_key.len() >= PREFIX && page_key.get(..PREFIX) == node_key.get(..PREFIX)
}

/// One record of a batch, placed: its prefix rank, the first 8 bytes of its key suffix (big
/// endian, zero padded: ordering by it agrees with ordering by the suffix wherever it differs),
/// where its suffix lies in [`Layout::suffixes`], and its index in the batch.
#[derive(Clone, Copy)]
struct Item {
    rank: u32,
    head: u64,
    start: usize,
    end: usize,
    index: usize,
}

/// One page of a [`Layout`]: its key, its size and its records (a range of `Layout::items`).
pub(crate) struct PageSpan {
    pub(crate) key: Vec<u8>,
    pub(crate) len: usize,
    items: std::ops::Range<usize>,
}

/// How a batch's node records are cut into pages, computed before any page is written, so a
/// backend can write each page straight into the space it reserves for it.
pub(crate) struct Layout<'a> {
    nodes: &'a [(NodeKey, Vec<u8>)],
    suffixes: Vec<u8>,
    /// The records to write, sorted by key (later duplicates dropped).
    items: Vec<Item>,
    pub(crate) pages: Vec<PageSpan>,
}

impl<'a> Layout<'a> {
    pub(crate) fn new(nodes: &'a [(NodeKey, Vec<u8>)]) -> Self {
        // Sorting by full keys would compare the shared 40-byte prefix over and over: rank the
        // few distinct `(version, namespace)` prefixes instead and sort by (rank, packed path),
        // mostly by its first 8 bytes as one integer.
        let mut ranks: BTreeMap<(u64, Namespace), u32> = BTreeMap::new();
        let mut last: Option<(u64, Namespace)> = None;
        for (k, _) in nodes {
            if last != Some((k.version, k.namespace)) {
                ranks.insert((k.version, k.namespace), 0);
                last = Some((k.version, k.namespace));
            }
        }
        let prefixes: Vec<(u64, Namespace)> = ranks.keys().copied().collect();
        for (rank, r) in ranks.values_mut().enumerate() {
            // At most one prefix per node, so the rank fits in a u32 for any batch that fits
            // in memory; saturating keeps the order valid regardless.
            *r = u32::try_from(rank).unwrap_or(u32::MAX);
        }
        let mut suffixes = Vec::with_capacity(nodes.len() * 20);
        let mut items: Vec<Item> = Vec::with_capacity(nodes.len());
        let mut last_rank = (None, 0u32);
        for (index, (k, _)) in nodes.iter().enumerate() {
            let prefix = (k.version, k.namespace);
            let rank = match last_rank {
                (Some(p), r) if p == prefix => r,
                _ => {
                    let r = ranks.get(&prefix).copied().unwrap_or(u32::MAX);
                    last_rank = (Some(prefix), r);
                    r
                }
            };
            let start = suffixes.len();
            k.encode_suffix(&mut suffixes);
            let mut head = [0u8; 8];
            let n = (suffixes.len() - start).min(8);
            head[..n].copy_from_slice(&suffixes[start..start + n]);
            items.push(Item {
                rank,
                head: u64::from_be_bytes(head),
                start,
                end: suffixes.len(),
                index,
            });
        }
        {
            let suffix = |i: &Item| &suffixes[i.start..i.end];
            items.sort_unstable_by(|a, b| {
                (a.rank, a.head)
                    .cmp(&(b.rank, b.head))
                    .then_with(|| suffix(a).cmp(suffix(b)))
                    .then(a.index.cmp(&b.index))
            });
            // A node written twice in one batch: the later record wins, as a plain overwrite
            // would.
            let mut kept: Vec<Item> = Vec::with_capacity(items.len());
            for item in items {
                if let Some(prev) = kept.last_mut() {
                    if prev.rank == item.rank && suffix(prev) == suffix(&item) {
                        *prev = item;
                        continue;
                    }
                }
                kept.push(item);
            }
            items = kept;
        }
        let mut pages: Vec<PageSpan> = Vec::new();
        let mut open_rank = None;
        for (pos, item) in items.iter().enumerate() {
            let suffix_len = item.end - item.start;
            let record_len = nodes[item.index].1.len();
            let size = entry_len(suffix_len, record_len);
            let fits = pages.last().is_some_and(|p| p.len + size <= PAGE_BYTES);
            if open_rank != Some(item.rank) || !fits {
                let (version, namespace) = prefixes
                    .get(item.rank as usize)
                    .copied()
                    .unwrap_or((u64::MAX, [0xff; 32]));
                let mut key = Vec::with_capacity(PREFIX + suffix_len);
                key.extend_from_slice(&version.to_be_bytes());
                key.extend_from_slice(&namespace);
                key.extend_from_slice(&suffixes[item.start..item.end]);
                pages.push(PageSpan {
                    key,
                    len: 0,
                    items: pos..pos,
                });
                open_rank = Some(item.rank);
            }
            if let Some(page) = pages.last_mut() {
                page.len += size;
                page.items.end = pos + 1;
            }
        }
        Self {
            nodes,
            suffixes,
            items,
            pages,
        }
    }

    /// The records per segment (`version ‖ namespace`) and first byte of their key suffix, in
    /// key order.
    pub(crate) fn segment_histograms(&self) -> Vec<(Vec<u8>, Histogram)> {
        let mut out: Vec<(Vec<u8>, Histogram)> = Vec::new();
        for page in &self.pages {
            let segment = &page.key[..PREFIX];
            if out
                .last()
                .is_none_or(|(last, _)| last.as_slice() != segment)
            {
                out.push((segment.to_vec(), [0; 256]));
            }
            if let Some((_, histogram)) = out.last_mut() {
                for item in &self.items[page.items.clone()] {
                    // The first byte of the suffix is the top byte of `head`.
                    histogram[(item.head >> 56) as usize] += 1;
                }
            }
        }
        out
    }

    /// Writes `page`'s entries into `out`, which must be exactly `page.len` bytes long (the
    /// size the layout computed with [`entry_len`]).
    pub(crate) fn fill(&self, page: &PageSpan, out: &mut [u8]) {
        let mut out = out;
        for item in &self.items[page.items.clone()] {
            let record = self.nodes[item.index].1.as_slice();
            out = write_entry(out, &self.suffixes[item.start..item.end], record);
        }
    }
}

/// The pages holding a batch's node records, as `(page key, page)` in key order.
#[cfg(test)]
fn build_pages(nodes: &[(NodeKey, Vec<u8>)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let layout = Layout::new(nodes);
    layout
        .pages
        .iter()
        .map(|page| {
            let mut bytes = vec![0; page.len];
            layout.fill(page, &mut bytes);
            (page.key.clone(), bytes)
        })
        .collect()
}

/// Packs one segment's records (`(key suffix, record)`, in key order) into pages, as
/// `(page key, page)`: a page is closed before an entry would take it past [`PAGE_BYTES`].
pub(crate) fn pack(segment: &[u8], records: &[Entry<'_>]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pages: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (suffix, record) in records {
        let size = entry_len(suffix.len(), record.len());
        match pages.last_mut() {
            Some((_, page)) if page.len() + size <= PAGE_BYTES => push_entry(page, suffix, record),
            _ => {
                let mut key = segment.to_vec();
                key.extend_from_slice(suffix);
                let mut page = Vec::with_capacity(PAGE_BYTES);
                push_entry(&mut page, suffix, record);
                pages.push((key, page));
            }
        }
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(version: u64, ns: u8, path: &[u8]) -> NodeKey {
        NodeKey {
            namespace: [ns; 32],
            version,
            path: path.to_vec(),
        }
    }

    #[test]
    fn pages_roundtrip_and_split_by_prefix_and_size() {
        let mut nodes = Vec::new();
        for i in 0..2000u32 {
            let path: Vec<u8> = i
                .to_be_bytes()
                .iter()
                .flat_map(|b| [b >> 4, b & 15])
                .collect();
            nodes.push((key(7, 1, &path), vec![i as u8; 40]));
        }
        // Paths that agree on their first 8 bytes (16 nibbles) and differ later, or are
        // prefixes of one another: ordered by the rest of the key.
        let shared = [9u8; 17];
        for tail in [&[][..], &[0], &[0, 0], &[0, 1], &[3], &[3, 15, 2], &[15]] {
            let path: Vec<u8> = shared.iter().chain(tail).copied().collect();
            nodes.push((key(7, 1, &path), path.clone()));
            nodes.push((key(7, 1, &path[..path.len() - 1]), path.clone()));
        }
        nodes.push((key(7, 2, &[]), b"other namespace".to_vec()));
        nodes.push((key(8, 1, &[]), b"other version".to_vec()));
        let pages = build_pages(&nodes);
        assert!(pages.len() >= 4, "{} pages", pages.len());
        assert!(pages.windows(2).all(|w| w[0].0 < w[1].0));
        // Within each page too, records are in key order.
        for (_, page) in &pages {
            let suffixes: Vec<_> = entries(page).unwrap().iter().map(|e| e.0).collect();
            assert!(suffixes.windows(2).all(|w| w[0] < w[1]));
        }
        let latest: BTreeMap<Vec<u8>, &Vec<u8>> =
            nodes.iter().map(|(k, r)| (k.encode(), r)).collect();
        let total: usize = pages.iter().map(|(_, p)| entries(p).unwrap().len()).sum();
        assert_eq!(total, latest.len());
        for (encoded, record) in latest {
            // The page at or before the key, with the same prefix, holds the record.
            let (page_key, page) = pages.iter().rev().find(|(pk, _)| *pk <= encoded).unwrap();
            assert!(same_prefix(&encoded, page_key));
            assert_eq!(
                find(page, &encoded[PREFIX..]).unwrap(),
                Some(record.as_slice())
            );
        }
        for (page_key, page) in &pages {
            assert!(page.len() <= PAGE_BYTES);
            let first = entries(page).unwrap()[0].0;
            assert_eq!(&page_key[PREFIX..], first);
        }
    }

    #[test]
    fn later_duplicates_win() {
        let nodes = vec![
            (key(1, 0, &[1]), b"old".to_vec()),
            (key(1, 0, &[2]), b"two".to_vec()),
            (key(1, 0, &[1]), b"new".to_vec()),
        ];
        let pages = build_pages(&nodes);
        assert_eq!(pages.len(), 1);
        let page = &pages[0].1;
        let s1 = key(1, 0, &[1]).encode()[PREFIX..].to_vec();
        let s2 = key(1, 0, &[2]).encode()[PREFIX..].to_vec();
        assert_eq!(find(page, &s1).unwrap(), Some(&b"new"[..]));
        assert_eq!(find(page, &s2).unwrap(), Some(&b"two"[..]));
        assert_eq!(entries(page).unwrap().len(), 2);
    }

    #[test]
    fn packing_fills_pages_in_order_and_counts_segments() {
        let nodes: Vec<(NodeKey, Vec<u8>)> = (0..500u16)
            .map(|i| {
                let path = [(i >> 8) as u8 & 15, (i >> 4) as u8 & 15, i as u8 & 15];
                (key(3, 1, &path), vec![i as u8; 100])
            })
            .chain([(key(3, 2, &[]), b"other".to_vec())])
            .collect();
        let layout = Layout::new(&nodes);
        let segment = |ns: u8| key(3, ns, &[]).encode()[..PREFIX].to_vec();
        // Path [a, b, c] packs to a first byte `a << 4 | b`, here `i >> 4`: 16 records each
        // for 0..=30, 4 for 31; the root's suffix is its odd flag, 0.
        let mut first = [0u64; 256];
        first[..31].fill(16);
        first[31] = 4;
        let mut second = [0u64; 256];
        second[0] = 1;
        assert_eq!(
            layout.segment_histograms(),
            vec![(segment(1), first), (segment(2), second)]
        );
        let pages = build_pages(&nodes);
        let records: Vec<Entry<'_>> = pages
            .iter()
            .filter(|(k, _)| k[..PREFIX] == segment(1)[..])
            .flat_map(|(_, p)| entries(p).unwrap())
            .collect();
        // Every other record removed: packed again, half as many full pages.
        let survivors: Vec<Entry<'_>> = records.iter().copied().step_by(2).collect();
        let packed = pack(&segment(1), &survivors);
        assert!(packed.len() < pages.len() - 1, "{} pages", packed.len());
        assert!(packed.iter().all(|(_, p)| p.len() <= PAGE_BYTES));
        let repacked: Vec<Entry<'_>> = packed
            .iter()
            .flat_map(|(_, p)| entries(p).unwrap())
            .collect();
        assert_eq!(repacked, survivors);
        for (page_key, page) in &packed {
            assert_eq!(&page_key[..PREFIX], segment(1).as_slice());
            assert_eq!(&page_key[PREFIX..], entries(page).unwrap()[0].0);
        }
        assert!(pack(&segment(1), &[]).is_empty());
    }

    #[test]
    fn malformed_pages_are_errors() {
        assert!(find(&[5, 1], b"x").is_err());
        assert!(entries(&[1, b'a', 9, 0]).is_err());
        assert!(find(&[0xff; 11], b"x").is_err());
    }
}
