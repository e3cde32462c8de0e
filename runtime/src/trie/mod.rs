//! The Ethereum-compatible Merkle-Patricia trie: [`Trie`] and [`SecureTrie`], proofs
//! ([`verify_proof`]) and node stores ([`MemoryStore`], [`store::redb::RedbStore`]).

mod codec;
mod edit;
pub mod error;
mod hashing;
mod iter;
mod merkle;
pub mod nibbles;
mod node;
mod ordered;
mod proof;
mod secure;
pub mod store;
mod warm;

pub use codec::{keccak256, Hash, EMPTY_ROOT};
pub use error::{ProofError, StoreError, TrieError};
pub use iter::{TrieEntry, TrieIter};
pub use merkle::{Trie, TrieCommit};
pub use ordered::{ordered_root, ordered_root_on, ordered_root_unsorted};
pub use proof::verify_proof;
pub use secure::{verify_secure_proof, SecureTrie};
pub use store::memory::MemoryStore;
pub use store::redb::RedbStore;
pub use store::{
    Namespace, NodeKey, NodeStore, PruneStats, Reclaim, StaleEntry, StaleNodes, StoredRoot,
    WriteBatch,
};
