//! Merkle proofs of accounts and their storage slots, in the shape of EIP-1186
//! (`eth_getProof`): the RLP nodes from the state root to the account, and from the account's
//! storage root to each slot. They verify with keccak-256 and RLP alone
//! ([`crate::trie::verify_secure_proof`]), for present and absent keys alike.

use primitive_types::{H160, H256};

use super::{Account, StateError, WorldState};
use crate::trie::NodeStore;

/// An account and the proof of it against the state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountProof {
    pub address: H160,
    /// `None` if the account does not exist (the proof then proves its absence).
    pub account: Option<Account>,
    /// RLP-encoded nodes from the state root down to the account's leaf (or to where it
    /// would be).
    pub proof: Vec<Vec<u8>>,
    /// One proof per requested slot, in request order.
    pub storage: Vec<StorageProof>,
}

/// A storage slot and the proof of it against its account's storage root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageProof {
    pub key: H256,
    /// Zero if the slot is empty (the proof then proves its absence).
    pub value: H256,
    pub proof: Vec<Vec<u8>>,
}

impl<S: NodeStore + Clone> WorldState<S> {
    /// Proves `address` and its `slots` against [`WorldState::root`] (changes not yet rooted
    /// are rooted first, so the proof is against the root the state has now).
    pub fn proof(&mut self, address: &H160, slots: &[H256]) -> Result<AccountProof, StateError> {
        self.root()?;
        let account = self.account(address)?;
        let proof = self.accounts.proof(&address.0)?;
        let mut storage = Vec::with_capacity(slots.len());
        for key in slots {
            let value = self.storage(address, key)?;
            let proof = match account {
                Some(_) => self.storage_trie(address)?.proof(&key.0)?,
                // No account, no storage trie: the account proof already proves the slot empty.
                None => Vec::new(),
            };
            storage.push(StorageProof {
                key: *key,
                value,
                proof,
            });
        }
        Ok(AccountProof {
            address: *address,
            account,
            proof,
            storage,
        })
    }
}
