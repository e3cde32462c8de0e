//! The journal: an undo log of every state change made during a transaction, so that a call
//! frame can be rolled back to a [`Checkpoint`] together with everything its nested calls did.

use primitive_types::{H160, H256};

use super::account::Account;

/// One undoable change, holding the value it replaced.
#[derive(Clone, Debug)]
pub(crate) enum Change {
    /// An account's nonce, balance or code changed, or it was created (`previous` is `None`).
    Account {
        address: H160,
        previous: Option<Account>,
    },
    /// A storage slot changed.
    Storage {
        address: H160,
        key: H256,
        previous: H256,
    },
}

/// A point the state can be rolled back to: the journal and log lengths when it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub(crate) changes: usize,
    pub(crate) logs: usize,
}
