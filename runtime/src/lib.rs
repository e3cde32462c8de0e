//! Tally's runtime: the state layer between the VM (`tally-vm`) and the chain.
//!
//! Today it provides the Ethereum-compatible Merkle-Patricia state trie ([`trie`]):
//! - [`trie::Trie`]: get / insert / delete / ordered iteration, incremental [`trie::Trie::root`],
//!   commits that write each new node once, and EIP-1186 proofs ([`trie::Trie::proof`],
//!   [`trie::verify_proof`]);
//! - [`trie::SecureTrie`]: the same, keyed by keccak-256 of the key (Ethereum's state tries);
//! - [`trie::NodeStore`]: where committed nodes live, with an in-memory backend
//!   ([`trie::MemoryStore`]) and a redb one ([`trie::RedbStore`]) laid out by version and path so
//!   that commits append and old versions stay readable until explicitly pruned.
//!
//! World state, the journal, host functions and transaction execution build on these types.

pub mod trie;
