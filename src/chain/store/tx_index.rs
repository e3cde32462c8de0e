//! The transaction index of the redb store: transaction hash -> (block number, position).
//!
//! Transaction hashes are random, so in a B-tree each new entry lands on a different leaf:
//! written block by block, the index rewrote about one 4 KiB page per transaction in every
//! block's write, the largest cost of committing a block of 1,000 transfers. The store
//! therefore keeps the entries of its latest blocks in memory ([`RecentIndex`]) and writes
//! them to the table in one sorted batch, inside the write of the block that fills the batch
//! ([`FLUSH_ENTRIES`] entries or [`FLUSH_BLOCKS`] blocks), where neighbouring entries share
//! their pages.
//!
//! Nothing is lost by a crash: the entries are derived from the receipts, which every block's
//! atomic write stores. The meta key `tx_indexed_through` records the last block whose entries
//! are in the table, and opening the store re-reads the receipts of the blocks after it.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use tally_runtime::H256;

use super::records::decode_receipts;
use super::{db_err, ChainStoreError, META, RECEIPTS};

pub(super) const TX_INDEX: TableDefinition<&[u8; 32], (u64, u32)> =
    TableDefinition::new("tx_index");
/// Meta key: the last block whose transactions are in [`TX_INDEX`].
pub(super) const INDEXED_THROUGH: &str = "tx_indexed_through";
/// Entries held in memory before they are written to the table.
pub(super) const FLUSH_ENTRIES: usize = 16_384;
/// Blocks held in memory before their entries are written to the table.
pub(super) const FLUSH_BLOCKS: u64 = 64;

/// The entries of the blocks after the last one written to [`TX_INDEX`].
#[derive(Debug, Default)]
pub(super) struct RecentIndex {
    /// The last block whose entries are in the table; `None` before the first write.
    indexed_through: Option<u64>,
    entries: BTreeMap<H256, (u64, u32)>,
}

impl RecentIndex {
    /// Reads the marker and rebuilds the entries of the blocks after it from their receipts.
    pub(super) fn load(txn: &WriteTransaction) -> Result<Self, ChainStoreError> {
        let meta = txn.open_table(META).map_err(db_err)?;
        let indexed_through = meta
            .get(INDEXED_THROUGH)
            .map_err(db_err)?
            .map(|v| v.value());
        let mut recent = RecentIndex {
            indexed_through,
            entries: BTreeMap::new(),
        };
        let after = indexed_through.map_or(0, |n| n + 1);
        let receipts = txn.open_table(RECEIPTS).map_err(db_err)?;
        for entry in receipts.range(after..).map_err(db_err)? {
            let (number, encoded) = entry.map_err(db_err)?;
            let number = number.value();
            for (i, receipt) in decode_receipts(encoded.value())?.iter().enumerate() {
                recent
                    .entries
                    .insert(receipt.transaction_hash, (number, position(i)?));
            }
        }
        Ok(recent)
    }

    /// Where the transaction `hash` of a block not yet in the table was included.
    pub(super) fn get(&self, hash: &H256) -> Option<(u64, u32)> {
        self.entries.get(hash).copied()
    }

    /// Whether the write of block `number`, adding `new` entries, writes the batch.
    pub(super) fn is_full_at(&self, number: u64, new: usize) -> bool {
        match self.indexed_through {
            None => true,
            Some(through) => {
                number.saturating_sub(through) >= FLUSH_BLOCKS
                    || self.entries.len() + new >= FLUSH_ENTRIES
            }
        }
    }

    /// Writes the held entries and `new` (block `number`'s) to the table, in key order, and
    /// moves the marker to `number`. [`RecentIndex::committed`] applies it once the write
    /// commits.
    pub(super) fn write_batch(
        &self,
        txn: &WriteTransaction,
        number: u64,
        new: &[(H256, u32)],
    ) -> Result<(), ChainStoreError> {
        let mut batch: Vec<(&H256, (u64, u32))> =
            self.entries.iter().map(|(h, l)| (h, *l)).collect();
        batch.extend(new.iter().map(|(h, i)| (h, (number, *i))));
        batch.sort_unstable_by_key(|(hash, _)| *hash);
        let mut index = txn.open_table(TX_INDEX).map_err(db_err)?;
        for (hash, location) in batch {
            index.insert(&hash.0, location).map_err(db_err)?;
        }
        let mut meta = txn.open_table(META).map_err(db_err)?;
        meta.insert(INDEXED_THROUGH, number).map_err(db_err)?;
        Ok(())
    }

    /// Block `number`'s write has committed: with `written`, everything held went to the
    /// table with it; otherwise its entries join the held ones.
    pub(super) fn committed(&mut self, number: u64, new: &[(H256, u32)], written: bool) {
        if written {
            self.entries.clear();
            self.indexed_through = Some(number);
        } else {
            self.entries
                .extend(new.iter().map(|(hash, i)| (*hash, (number, *i))));
        }
    }

    /// The marker after a rewind to `to_block` (written by the rewind's transaction).
    pub(super) fn marker_after_rewind(&self, to_block: u64) -> Option<u64> {
        self.indexed_through.map(|through| through.min(to_block))
    }

    /// The rewind to `to_block` has committed: entries of later blocks are gone.
    pub(super) fn rewound(&mut self, to_block: u64) {
        self.indexed_through = self.marker_after_rewind(to_block);
        self.entries.retain(|_, (number, _)| *number <= to_block);
    }
}

/// A transaction's position in its block as stored.
pub(super) fn position(i: usize) -> Result<u32, ChainStoreError> {
    u32::try_from(i).map_err(|_| ChainStoreError::Corrupt(format!("transaction position {i}")))
}
