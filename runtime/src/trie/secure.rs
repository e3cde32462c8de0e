//! [`SecureTrie`]: a [`Trie`] keyed by keccak-256 of the caller's key, as Ethereum's state and
//! storage tries are. Keys are spread evenly, so no key choice can deepen the trie.

use super::codec::{keccak256, Hash};
use super::error::{ProofError, TrieError};
use super::merkle::{Trie, TrieCommit};
use super::proof::verify_proof;
use super::store::{Namespace, NodeStore, StoredRoot};

/// A trie whose keys are hashed with keccak-256 before use.
#[derive(Debug)]
pub struct SecureTrie<S: NodeStore> {
    inner: Trie<S>,
}

impl<S: NodeStore> SecureTrie<S> {
    /// An empty secure trie in `namespace`.
    pub fn new_in(store: S, namespace: Namespace) -> Self {
        Self {
            inner: Trie::new_in(store, namespace),
        }
    }

    /// An empty secure trie in the default namespace.
    pub fn new(store: S) -> Self {
        Self::new_in(store, [0; 32])
    }

    /// Opens the secure trie of `namespace` as of `version`.
    pub fn open(store: S, namespace: Namespace, version: u64) -> Result<Self, TrieError> {
        Trie::open(store, namespace, version).map(|inner| Self { inner })
    }

    /// Opens the secure trie with root `root`.
    pub fn from_root(store: S, namespace: Namespace, root: StoredRoot) -> Self {
        Self {
            inner: Trie::from_root(store, namespace, root),
        }
    }

    /// The value under `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        self.get_hashed(&keccak256(key))
    }

    /// The value under the key whose keccak-256 is `hashed_key`: for callers that keep the
    /// hashes of the keys they use often, so that each is hashed once.
    pub fn get_hashed(&self, hashed_key: &Hash) -> Result<Option<Vec<u8>>, TrieError> {
        self.inner.get(hashed_key)
    }

    /// Sets `key` to `value` (empty deletes).
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<(), TrieError> {
        self.inner.insert(&keccak256(key), value)
    }

    /// Sets each key to its value in order (an empty value deletes it); see
    /// [`Trie::insert_batch`].
    pub fn insert_batch<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        entries: &[(K, V)],
    ) -> Result<(), TrieError> {
        let hashed: Vec<(Hash, &[u8])> = entries
            .iter()
            .map(|(k, v)| (keccak256(k.as_ref()), v.as_ref()))
            .collect();
        self.insert_batch_hashed(&hashed)
    }

    /// [`SecureTrie::insert_batch`] with each key given by its keccak-256.
    pub fn insert_batch_hashed<V: AsRef<[u8]>>(
        &mut self,
        entries: &[(Hash, V)],
    ) -> Result<(), TrieError> {
        self.inner.insert_batch(entries)
    }

    /// Removes `key`; returns whether it was present.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, TrieError> {
        self.inner.delete(&keccak256(key))
    }

    /// The root hash.
    pub fn root(&mut self) -> Hash {
        self.inner.root()
    }

    /// Proof for `key` (the path to keccak-256 of `key`).
    pub fn proof(&mut self, key: &[u8]) -> Result<Vec<Vec<u8>>, TrieError> {
        self.inner.proof(&keccak256(key))
    }

    /// Commits at `version`; returns the root.
    pub fn commit(&mut self, version: u64) -> Result<Hash, TrieError> {
        self.inner.commit(version)
    }

    /// See [`Trie::prepare_commit`].
    pub fn prepare_commit(&mut self, version: u64) -> Result<TrieCommit, TrieError> {
        self.inner.prepare_commit(version)
    }

    /// See [`Trie::finish_commit`].
    pub fn finish_commit(&mut self, commit: &TrieCommit) -> Result<(), TrieError> {
        self.inner.finish_commit(commit)
    }

    /// The underlying trie, keyed by hashed keys (its iterator yields hashed keys).
    pub fn inner(&self) -> &Trie<S> {
        &self.inner
    }
}

/// Verifies a [`SecureTrie`] proof for the unhashed `key`.
pub fn verify_secure_proof<P: AsRef<[u8]>>(
    root: &Hash,
    key: &[u8],
    proof: &[P],
) -> Result<Option<Vec<u8>>, ProofError> {
    verify_proof(root, &keccak256(key), proof)
}
