//! Segments: the records one commit wrote for one trie (one `version ‖ namespace` page prefix),
//! and the counts pruning keeps of them. A large segment is counted, and reclaimed, in 256
//! *buckets* by the first byte of the record's key suffix, so that reclaiming its dead records
//! rewrites a 256th of it at a time instead of all of it at once.

use crate::trie::error::StoreError;

/// Segments of more records than this are counted per bucket (~6 MiB of pages and more).
pub(crate) const BUCKETED_ABOVE: u64 = 65_536;

/// Records per first byte of their key suffix, for one segment of a commit.
pub(crate) type Histogram = [u64; 256];

/// How many records a bucket's pages hold, and how many of those are dead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) records: u64,
    pub(crate) dead: u64,
}

/// The counts of one segment: one bucket, or 256 for a segment of more than
/// [`BUCKETED_ABOVE`] records. Stored as 16 bytes per bucket, `records ‖ dead` (big endian).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) buckets: Vec<Counts>,
}

impl Segment {
    /// The counts of a segment holding the records `histogram` counts (none dead).
    pub(crate) fn new(histogram: &Histogram) -> Self {
        let total: u64 = histogram.iter().sum();
        let buckets = match total > BUCKETED_ABOVE {
            true => histogram
                .iter()
                .map(|&records| Counts { records, dead: 0 })
                .collect(),
            false => vec![Counts {
                records: total,
                dead: 0,
            }],
        };
        Self { buckets }
    }

    /// Adds records written to the segment after it was first counted (its bucketing stays).
    pub(crate) fn add(&mut self, histogram: &Histogram) {
        match self.buckets.as_mut_slice() {
            [single] => single.records += histogram.iter().sum::<u64>(),
            buckets => {
                for (counts, records) in buckets.iter_mut().zip(histogram) {
                    counts.records += records;
                }
            }
        }
    }

    /// The bucket a record with key suffix `suffix` is counted in.
    pub(crate) fn bucket_of(&self, suffix: &[u8]) -> usize {
        match self.buckets.len() {
            1 => 0,
            _ => usize::from(suffix.first().copied().unwrap_or(0)),
        }
    }

    /// The key prefix shared by bucket `bucket`'s records (and its dead lists): the segment
    /// itself when it has one bucket.
    pub(crate) fn bucket_prefix(&self, segment: &[u8], bucket: usize) -> Vec<u8> {
        let mut prefix = segment.to_vec();
        if self.buckets.len() > 1 {
            // At most 256 buckets, so the index fits a byte.
            prefix.push(bucket as u8);
        }
        prefix
    }

    /// Whether the segment holds no record any more.
    pub(crate) fn is_empty(&self) -> bool {
        self.buckets.iter().all(|c| c.records == 0)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buckets.len() * 16);
        for counts in &self.buckets {
            out.extend_from_slice(&counts.records.to_be_bytes());
            out.extend_from_slice(&counts.dead.to_be_bytes());
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        if bytes.len() != 16 && bytes.len() != 16 * 256 {
            return Err(StoreError::Database(format!(
                "malformed segment counts of {} bytes",
                bytes.len()
            )));
        }
        let word = |b: &[u8]| {
            // Chunks of 16 bytes split in halves of 8: the conversion cannot fail.
            u64::from_be_bytes(b.try_into().unwrap_or([0; 8]))
        };
        let buckets = bytes
            .chunks_exact(16)
            .map(|c| Counts {
                records: word(&c[..8]),
                dead: word(&c[8..]),
            })
            .collect();
        Ok(Self { buckets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(per_byte: u64) -> Histogram {
        [per_byte; 256]
    }

    #[test]
    fn small_segments_have_one_bucket_large_ones_256() {
        let small = Segment::new(&histogram(BUCKETED_ABOVE / 256));
        assert_eq!(small.buckets.len(), 1);
        assert_eq!(small.buckets[0].records, BUCKETED_ABOVE);
        assert_eq!(small.bucket_of(&[7, 1]), 0);
        assert_eq!(small.bucket_prefix(&[1, 2], 0), vec![1, 2]);
        let large = Segment::new(&histogram(BUCKETED_ABOVE / 256 + 1));
        assert_eq!(large.buckets.len(), 256);
        assert_eq!(large.bucket_of(&[7, 1]), 7);
        assert_eq!(large.bucket_prefix(&[1, 2], 7), vec![1, 2, 7]);
    }

    #[test]
    fn counts_roundtrip_add_and_reject_bad_lengths() {
        for per_byte in [1, 1000] {
            let mut segment = Segment::new(&histogram(per_byte));
            segment.buckets[0].dead = 3;
            segment.add(&histogram(2));
            assert_eq!(Segment::decode(&segment.encode()).unwrap(), segment);
            let first = segment.buckets[0];
            match segment.buckets.len() {
                1 => assert_eq!(first.records, 256 * (per_byte + 2)),
                _ => assert_eq!(first.records, per_byte + 2),
            }
            assert!(!segment.is_empty());
        }
        assert!(Segment::decode(&[0; 17]).is_err());
        assert!(Segment::decode(&[0; 16]).unwrap().is_empty());
    }
}
