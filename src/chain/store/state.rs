//! [`StateStore`]: the world state's node store, in memory or in the chain's redb database.

use tally_runtime::trie::{
    Hash, MemoryStore, Namespace, NodeKey, NodeStore, PruneStats, Reclaim, RedbStore, StoreError,
    StoredRoot, WriteBatch,
};

/// The state's node store: in memory or in the chain's redb database.
#[derive(Clone, Debug)]
pub enum StateStore {
    Memory(MemoryStore),
    Redb(RedbStore),
}

impl NodeStore for StateStore {
    fn node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            StateStore::Memory(s) => s.node(key),
            StateStore::Redb(s) => s.node(key),
        }
    }
    fn code(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            StateStore::Memory(s) => s.code(hash),
            StateStore::Redb(s) => s.code(hash),
        }
    }
    fn root_at(
        &self,
        namespace: &Namespace,
        version: u64,
    ) -> Result<Option<(u64, StoredRoot)>, StoreError> {
        match self {
            StateStore::Memory(s) => s.root_at(namespace, version),
            StateStore::Redb(s) => s.root_at(namespace, version),
        }
    }
    fn write(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        match self {
            StateStore::Memory(s) => s.write(batch),
            StateStore::Redb(s) => s.write(batch),
        }
    }
    fn prune(&self, keep_from: u64, reclaim: Reclaim) -> Result<PruneStats, StoreError> {
        match self {
            StateStore::Memory(s) => s.prune(keep_from, reclaim),
            StateStore::Redb(s) => s.prune(keep_from, reclaim),
        }
    }
    fn kept_from(&self) -> Result<u64, StoreError> {
        match self {
            StateStore::Memory(s) => s.kept_from(),
            StateStore::Redb(s) => s.kept_from(),
        }
    }
    fn rewind(&self, to_version: u64) -> Result<PruneStats, StoreError> {
        match self {
            StateStore::Memory(s) => s.rewind(to_version),
            StateStore::Redb(s) => s.rewind(to_version),
        }
    }
}
