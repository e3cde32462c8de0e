//! Writing the overlay into the tries: the state root (only changed accounts and slots are
//! re-hashed, with the keccak of their keys kept from when they were loaded) and commits that
//! write every changed trie's nodes and new code in one batch.

use primitive_types::{H160, H256};

use super::{encode_storage_value, Account, DecodeError, StateError, WorldState};
use crate::trie::{keccak256, Hash, NodeStore, TrieCommit, WriteBatch};

/// A prepared commit of the whole state: the root and everything to write atomically.
#[derive(Debug)]
pub struct StateCommit {
    pub root: H256,
    pub version: u64,
    pub batch: WriteBatch,
    tries: Vec<(Option<H160>, TrieCommit)>,
}

impl<S: NodeStore + Clone> WorldState<S> {
    /// Writes the overlay's changes into the tries and returns the state root.
    pub fn root(&mut self) -> Result<H256, StateError> {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        // Account writes, an empty value deleting: applied together once storage roots are in.
        let mut accounts = Vec::with_capacity(dirty.len());
        for address in dirty {
            let Some(cached) = self.cache.get_mut(&address) else {
                continue;
            };
            cached.dirty = false;
            let mut slots = std::mem::take(&mut cached.dirty_slots);
            let mut storage_root = None;
            if !slots.is_empty() {
                slots.sort_unstable();
                storage_root = Some(self.write_slots(&address, &slots)?);
                self.uncommitted_storage.insert(address);
            }
            let cached = self.cached(&address)?;
            if let (Some(root), Some(account)) = (storage_root, cached.account.as_mut()) {
                account.storage_root = root;
            }
            let account = cached.account.map(|a| a.encode()).unwrap_or_default();
            accounts.push((cached.hashed_address, account));
        }
        self.accounts.insert_batch_hashed(&accounts)?;
        Ok(H256(self.accounts.root()))
    }

    /// Every account, by `keccak(address)` in the account trie's order, as of the last
    /// [`WorldState::root`] or commit (later changes are not included): a full walk of the
    /// account trie, for audits such as summing every balance.
    pub fn accounts(&self) -> impl Iterator<Item = Result<(H256, Account), StateError>> + '_ {
        self.accounts.inner().iter().map(|entry| {
            let (key, value) = entry?;
            let key: [u8; 32] = key
                .as_slice()
                .try_into()
                .map_err(|_| DecodeError("account trie key is not 32 bytes"))?;
            Ok((H256(key), Account::decode(&value)?))
        })
    }

    /// Applies `slots` of `address` to its storage trie; returns the new storage root.
    fn write_slots(&mut self, address: &H160, slots: &[H256]) -> Result<H256, StateError> {
        // Each slot's new value, RLP-encoded; empty (a delete) for zero.
        let values: Vec<(Hash, Vec<u8>)> = {
            let cached = self.cached(address)?;
            slots
                .iter()
                .map(|k| {
                    let (hashed_key, value) = match cached.storage.get_mut(k) {
                        Some(slot) => {
                            slot.dirty = false;
                            (slot.hashed_key, slot.value)
                        }
                        // Not reached: a dirty slot stays cached until it is written.
                        None => (keccak256(&k.0), H256::zero()),
                    };
                    let encoded = match value.is_zero() {
                        true => Vec::new(),
                        false => encode_storage_value(&value),
                    };
                    (hashed_key, encoded)
                })
                .collect()
        };
        let trie = self.storage_trie(address)?;
        trie.insert_batch_hashed(&values)?;
        Ok(H256(trie.root()))
    }

    /// Computes the root and collects everything a commit at `version` writes: the changed
    /// tries' nodes and roots, and new code. Write `commit.batch` atomically (possibly with
    /// other data), then call [`WorldState::finish_commit`].
    pub fn prepare_commit(&mut self, version: u64) -> Result<StateCommit, StateError> {
        let root = self.root()?;
        let mut batch = WriteBatch::default();
        let mut tries = Vec::new();
        for address in &self.uncommitted_storage {
            // Every address in the set had its trie opened when its slots were written.
            if let Some(trie) = self.storage_tries.get_mut(address) {
                let mut commit = trie.prepare_commit(version)?;
                append(&mut batch, &mut commit.batch);
                tries.push((Some(*address), commit));
            }
        }
        let mut commit = self.accounts.prepare_commit(version)?;
        append(&mut batch, &mut commit.batch);
        tries.push((None, commit));
        batch.code = self
            .new_code
            .iter()
            .map(|(hash, code)| (hash.0, code.to_vec()))
            .collect();
        Ok(StateCommit {
            root,
            version,
            batch,
            tries,
        })
    }

    /// Records that `commit` was durably written.
    pub fn finish_commit(&mut self, commit: StateCommit) -> Result<(), StateError> {
        for (address, trie_commit) in &commit.tries {
            match address {
                Some(address) => {
                    if let Some(trie) = self.storage_tries.get_mut(address) {
                        trie.finish_commit(trie_commit)?;
                    }
                }
                None => self.accounts.finish_commit(trie_commit)?,
            }
        }
        self.uncommitted_storage.clear();
        self.new_code.clear();
        self.version = Some(commit.version);
        Ok(())
    }

    /// Prepares, writes and finishes a commit at `version`; returns the state root.
    pub fn commit(&mut self, version: u64) -> Result<H256, StateError> {
        let commit = self.prepare_commit(version)?;
        self.store.write(&commit.batch)?;
        let root = commit.root;
        self.finish_commit(commit)?;
        Ok(root)
    }
}

/// Moves the contents of `other` into `batch`.
fn append(batch: &mut WriteBatch, other: &mut WriteBatch) {
    batch.nodes.append(&mut other.nodes);
    batch.stale.append(&mut other.stale);
    batch.roots.append(&mut other.roots);
}
