//! Snapshots of the whole observable chain (anvil's `evm_snapshot` / `evm_revert`).
//!
//! A snapshot records the head, the cheats applied since it was mined and the clock (offset and
//! next timestamp). Reverting to it deletes the blocks mined since from the store in one atomic
//! write ([`ChainStore::rewind`](crate::chain::store::ChainStore::rewind)), reopens the state
//! at the head, applies the recorded cheats again and restores the clock: the state root, the
//! head hash and the next block's timestamp are as they were. Reverting is repeatable: the
//! snapshot stays and can be reverted to again; the snapshots taken after it are dropped. The
//! mempool is cleared (its transactions were admitted against a state that no longer exists).

use super::clock::BlockClock;
use super::{Chain, ChainError};
use crate::chain::block::Header;
use crate::chain::cheat::Cheat;

/// What a revert restores.
#[derive(Clone, Debug)]
pub(super) struct Snapshot {
    head: Header,
    cheats: Vec<Cheat>,
    clock: BlockClock,
}

impl Chain {
    /// Records the current chain, after sealing the open block if there is one (see
    /// [`Chain::execute`]); returns the id to revert to (ids increase from 0).
    pub fn snapshot(&mut self) -> Result<u64, ChainError> {
        self.seal()?;
        let id = self.next_snapshot;
        self.next_snapshot += 1;
        let snapshot = Snapshot {
            head: self.head.clone(),
            cheats: self.pending_cheats.clone(),
            clock: self.clock,
        };
        self.snapshots.insert(id, snapshot);
        Ok(id)
    }

    /// Brings the chain back to snapshot `id`; `Ok(false)` if there is no such snapshot (never
    /// taken, or dropped by a revert to an earlier one). Drops the snapshots taken after `id`
    /// and clears the mempool.
    pub fn revert(&mut self, id: u64) -> Result<bool, ChainError> {
        let Some(snapshot) = self.snapshots.get(&id).cloned() else {
            return Ok(false);
        };
        // First, so that a snapshot whose state was pruned changes nothing.
        self.store.rewind(snapshot.head.number)?;
        if let Some(later) = id.checked_add(1) {
            self.snapshots.split_off(&later);
        }
        self.head = snapshot.head;
        self.pending_cheats = snapshot.cheats;
        self.clock = snapshot.clock;
        self.last_receipts.clear();
        self.pool.clear();
        self.pool.set_base_fee(self.head.next_base_fee());
        self.reset_state()?;
        Ok(true)
    }
}
