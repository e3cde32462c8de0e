//! Tally's runtime: the state layer between the VM (`tally-vm`) and the chain.
//!
//! - [`trie`]: the Ethereum-compatible Merkle-Patricia trie ([`trie::Trie`],
//!   [`trie::SecureTrie`]), EIP-1186 proofs and node stores (in memory, redb) laid out by
//!   version and path so that commits append and old versions stay readable until pruned.
//! - [`state`]: Ethereum's account model on the trie ([`state::WorldState`]): accounts,
//!   per-contract storage tries and code by hash, behind a journaled overlay whose checkpoints
//!   roll back call frames.
//! - [`costs`]: the state-dependent and per-transaction gas costs ([`costs::RuntimeCosts`]).
//! - [`tx`]: transactions, their validation and intrinsic gas.
//! - [`exec`]: the [`exec::Runtime`], which runs transactions and nested calls through the VM
//!   with EIP-1559 fee accounting and produces receipts (with call traces when asked).

pub mod costs;
pub mod exec;
pub mod rlp;
pub mod state;
pub mod trie;
pub mod tx;

pub use primitive_types::{H160, H256, U256};
