//! World state: Ethereum's account model on the Merkle-Patricia trie.
//!
//! The account trie is keyed by keccak(address) and holds [`Account`]s; every contract has its
//! own storage trie (keyed by keccak(slot), values RLP-encoded without leading zeros) in a
//! namespace of the node store; code is stored by its keccak hash. [`WorldState`] keeps an
//! overlay in front of the tries: reads are cached, writes stay in memory and are journaled
//! (so call frames roll back with [`WorldState::revert_to`]), and the tries are only touched
//! when a root is asked for ([`WorldState::root`]) or the state is committed.

mod account;
mod commit;
mod journal;
mod proof;

pub use account::EMPTY_CODE_HASH;
pub use account::{decode_storage_value, encode_storage_value, Account, DecodeError};
pub use commit::StateCommit;
pub use journal::Checkpoint;
pub use proof::{AccountProof, StorageProof};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use primitive_types::{H160, H256, U256};
use thiserror::Error;

use crate::trie::{keccak256, Hash, Namespace, NodeStore, SecureTrie, TrieError, EMPTY_ROOT};
use journal::Change;

/// Hash maps of the overlay: keys are chosen by users, so the hasher is seeded per process
/// (never iterated where order matters: dirty sets are sorted before use).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Namespace of the account trie in the node store. Storage tries use keccak(address), which
/// cannot be all zeros.
const ACCOUNTS: Namespace = [0; 32];

/// Errors reading or committing state. They come from the store, never from what a
/// transaction does.
#[derive(Debug, Error)]
pub enum StateError {
    #[error(transparent)]
    Trie(#[from] TrieError),
    #[error(transparent)]
    Store(#[from] crate::trie::StoreError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("code {0:?} is referenced by an account but not stored")]
    MissingCode(H256),
    #[error("storage trie of {address:?} has root {found:?}, its account says {expected:?}")]
    StorageRootMismatch {
        address: H160,
        expected: H256,
        found: H256,
    },
}

/// A log emitted by a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub address: H160,
    pub topics: Vec<H256>,
    pub data: Vec<u8>,
}

/// What a storage write replaced, for pricing it (see `costs::RuntimeCosts::storage_write`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotWrite {
    /// Value at the start of the transaction.
    pub original: H256,
    /// Value just before this write.
    pub current: H256,
    /// Value written.
    pub new: H256,
}

/// A cached storage slot.
#[derive(Clone, Copy, Debug)]
struct Slot {
    value: H256,
    /// keccak-256 of the slot's key: its path in the storage trie, hashed once.
    hashed_key: Hash,
    /// Value at the start of the current transaction.
    original: H256,
    /// Listed in its account's `dirty_slots`.
    dirty: bool,
}

/// A cached account with its cached storage.
#[derive(Debug, Default)]
struct Cached {
    /// `None`: the account does not exist.
    account: Option<Account>,
    /// keccak-256 of the address: its path in the account trie, hashed once.
    hashed_address: Hash,
    storage: HashMap<H256, Slot>,
    /// Slots written since the last root computation (each once; sorted when applied).
    dirty_slots: Vec<H256>,
    /// Listed in the state's `dirty`.
    dirty: bool,
}

/// The world state of one chain head, with its overlay and journal.
pub struct WorldState<S: NodeStore + Clone> {
    store: S,
    accounts: SecureTrie<S>,
    /// Storage tries opened so far.
    storage_tries: HashMap<H160, SecureTrie<S>>,
    cache: HashMap<H160, Cached>,
    /// Accounts written since the last root computation (each once; sorted when applied).
    dirty: Vec<H160>,
    /// Storage tries changed since the last commit.
    uncommitted_storage: BTreeSet<H160>,
    code: HashMap<H256, Arc<[u8]>>,
    /// Code added since the last commit.
    new_code: BTreeMap<H256, Arc<[u8]>>,
    journal: Vec<Change>,
    logs: Vec<Log>,
    /// Last committed (or opened) version.
    version: Option<u64>,
}

impl<S: NodeStore + Clone> WorldState<S> {
    /// An empty state over `store` (a genesis to be filled).
    pub fn new(store: S) -> Self {
        let accounts = SecureTrie::new_in(store.clone(), ACCOUNTS);
        Self::with_accounts(store, accounts, None)
    }

    /// The state committed at `version` (its latest commit at or before it).
    pub fn open(store: S, version: u64) -> Result<Self, StateError> {
        let accounts = SecureTrie::open(store.clone(), ACCOUNTS, version)?;
        Ok(Self::with_accounts(store, accounts, Some(version)))
    }

    fn with_accounts(store: S, accounts: SecureTrie<S>, version: Option<u64>) -> Self {
        WorldState {
            store,
            accounts,
            storage_tries: HashMap::default(),
            cache: HashMap::default(),
            dirty: Vec::new(),
            uncommitted_storage: BTreeSet::new(),
            code: HashMap::default(),
            new_code: BTreeMap::new(),
            journal: Vec::new(),
            logs: Vec::new(),
            version,
        }
    }

    /// The node store under this state.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The last committed (or opened) version.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The cache entry of `address`, loaded from the account trie on first use.
    ///
    /// A lookup then a second one, rather than `HashMap::entry`: measured faster on a value
    /// transfer (0.39 against 0.49 µs), `entry` copying the key and reserving on every hit.
    fn cached(&mut self, address: &H160) -> Result<&mut Cached, StateError> {
        if !self.cache.contains_key(address) {
            let hashed_address = keccak256(&address.0);
            let account = match self.accounts.get_hashed(&hashed_address)? {
                Some(bytes) => Some(Account::decode(&bytes)?),
                None => None,
            };
            self.cache.insert(
                *address,
                Cached {
                    account,
                    hashed_address,
                    ..Cached::default()
                },
            );
        }
        // Inserted just above if it was missing.
        Ok(self.cache.get_mut(address).expect("account cached"))
    }

    /// The account at `address`, if it exists. Its `storage_root` is as of the last
    /// [`WorldState::root`]; storage written since is not reflected until then.
    pub fn account(&mut self, address: &H160) -> Result<Option<Account>, StateError> {
        Ok(self.cached(address)?.account)
    }

    /// Balance of `address` (zero if it does not exist).
    pub fn balance(&mut self, address: &H160) -> Result<U256, StateError> {
        Ok(self.account(address)?.map_or(U256::zero(), |a| a.balance))
    }

    /// Nonce of `address` (zero if it does not exist).
    pub fn nonce(&mut self, address: &H160) -> Result<u64, StateError> {
        Ok(self.account(address)?.map_or(0, |a| a.nonce))
    }

    /// Whether an account exists at `address`.
    pub fn exists(&mut self, address: &H160) -> Result<bool, StateError> {
        Ok(self.account(address)?.is_some())
    }

    /// Applies `change` to the account at `address` (created with defaults if missing),
    /// journaling its previous value.
    pub fn update_account(
        &mut self,
        address: &H160,
        change: impl FnOnce(&mut Account),
    ) -> Result<(), StateError> {
        let cached = self.cached(address)?;
        let previous = cached.account;
        let mut account = previous.unwrap_or_default();
        change(&mut account);
        cached.account = Some(account);
        let newly_dirty = !std::mem::replace(&mut cached.dirty, true);
        self.journal.push(Change::Account {
            address: *address,
            previous,
        });
        if newly_dirty {
            self.dirty.push(*address);
        }
        Ok(())
    }

    /// Sets the balance of `address`, creating the account if needed.
    pub fn set_balance(&mut self, address: &H160, balance: U256) -> Result<(), StateError> {
        self.update_account(address, |a| a.balance = balance)
    }

    /// Adds `value` to the balance of `address`, creating the account if needed. Balances are
    /// bounded by the total supply, so the addition saturates only on a corrupt state.
    pub fn add_balance(&mut self, address: &H160, value: U256) -> Result<(), StateError> {
        self.update_account(address, |a| a.balance = a.balance.saturating_add(value))
    }

    /// Moves `value` from `from` to `to`. Returns `false` (changing nothing) if `from` holds
    /// less. A zero-value transfer changes nothing and creates no account.
    pub fn transfer(&mut self, from: &H160, to: &H160, value: U256) -> Result<bool, StateError> {
        if value.is_zero() {
            return Ok(true);
        }
        let balance = self.balance(from)?;
        if balance < value {
            return Ok(false);
        }
        self.update_account(from, |a| a.balance = balance - value)?;
        self.add_balance(to, value)?;
        Ok(true)
    }

    /// Sets the nonce of `address`, creating the account if needed.
    pub fn set_nonce(&mut self, address: &H160, nonce: u64) -> Result<(), StateError> {
        self.update_account(address, |a| a.nonce = nonce)
    }

    /// Stores `code` and points the account at `address` to it; returns the code hash.
    pub fn set_code(&mut self, address: &H160, code: &[u8]) -> Result<H256, StateError> {
        let hash = H256(keccak256(code));
        self.set_code_hashed(address, hash, code)?;
        Ok(hash)
    }

    /// [`WorldState::set_code`] for a caller that already knows `hash = keccak256(code)`
    /// (the VM computed it when compiling), so large code is not hashed twice.
    pub fn set_code_hashed(
        &mut self,
        address: &H160,
        hash: H256,
        code: &[u8],
    ) -> Result<(), StateError> {
        if !self.code.contains_key(&hash) && self.store.code(&hash.0)?.is_none() {
            let code: Arc<[u8]> = code.into();
            self.new_code.insert(hash, code.clone());
            self.code.insert(hash, code);
        }
        self.update_account(address, |a| a.code_hash = hash)
    }

    /// The code with hash `hash` (empty for [`EMPTY_CODE_HASH`]).
    pub fn code_by_hash(&mut self, hash: &H256) -> Result<Arc<[u8]>, StateError> {
        if *hash == EMPTY_CODE_HASH {
            return Ok(Arc::from(&[][..]));
        }
        if let Some(code) = self.code.get(hash) {
            return Ok(code.clone());
        }
        let code: Arc<[u8]> = self
            .store
            .code(&hash.0)?
            .ok_or(StateError::MissingCode(*hash))?
            .into();
        self.code.insert(*hash, code.clone());
        Ok(code)
    }

    /// The code of the account at `address` (empty if none).
    pub fn code(&mut self, address: &H160) -> Result<Arc<[u8]>, StateError> {
        let hash = self
            .account(address)?
            .map_or(EMPTY_CODE_HASH, |a| a.code_hash);
        self.code_by_hash(&hash)
    }

    fn storage_trie(&mut self, address: &H160) -> Result<&mut SecureTrie<S>, StateError> {
        if !self.storage_tries.contains_key(address) {
            let cached = self.cached(address)?;
            let expected = cached.account.map_or(H256(EMPTY_ROOT), |a| a.storage_root);
            // A storage trie's namespace is keccak(address), kept since the account was loaded.
            let namespace = cached.hashed_address;
            let mut trie = match self.version {
                Some(version) if expected.0 != EMPTY_ROOT => {
                    SecureTrie::open(self.store.clone(), namespace, version)?
                }
                _ => SecureTrie::new_in(self.store.clone(), namespace),
            };
            let found = H256(trie.root());
            if found != expected {
                return Err(StateError::StorageRootMismatch {
                    address: *address,
                    expected,
                    found,
                });
            }
            self.storage_tries.insert(*address, trie);
        }
        // Inserted just above if it was missing.
        Ok(self.storage_tries.get_mut(address).expect("trie opened"))
    }

    fn slot(&mut self, address: &H160, key: &H256) -> Result<Slot, StateError> {
        if let Some(slot) = self.cache.get(address).and_then(|c| c.storage.get(key)) {
            return Ok(*slot);
        }
        let exists = self.account(address)?.is_some();
        let hashed_key = keccak256(&key.0);
        let value = if exists {
            match self.storage_trie(address)?.get_hashed(&hashed_key)? {
                Some(bytes) => decode_storage_value(&bytes)?,
                None => H256::zero(),
            }
        } else {
            H256::zero()
        };
        let slot = Slot {
            value,
            hashed_key,
            original: value,
            dirty: false,
        };
        self.cached(address)?.storage.insert(*key, slot);
        Ok(slot)
    }

    /// The value of storage slot `key` of `address` (zero if never written).
    pub fn storage(&mut self, address: &H160, key: &H256) -> Result<H256, StateError> {
        Ok(self.slot(address, key)?.value)
    }

    /// Storage slot `key` of `address` as `(value at the start of the transaction, current
    /// value)`, for pricing a write before making it.
    pub fn storage_slot(&mut self, address: &H160, key: &H256) -> Result<(H256, H256), StateError> {
        let slot = self.slot(address, key)?;
        Ok((slot.original, slot.value))
    }

    /// Writes storage slot `key` of `address` (zero clears it); returns what it replaced.
    /// The account is created if it does not exist.
    pub fn set_storage(
        &mut self,
        address: &H160,
        key: &H256,
        value: H256,
    ) -> Result<SlotWrite, StateError> {
        let slot = self.slot(address, key)?;
        let write = SlotWrite {
            original: slot.original,
            current: slot.value,
            new: value,
        };
        if slot.value == value {
            return Ok(write);
        }
        if self.account(address)?.is_none() {
            self.update_account(address, |_| ())?;
        }
        let cached = self.cached(address)?;
        cached.storage.insert(
            *key,
            Slot {
                value,
                dirty: true,
                ..slot
            },
        );
        if !slot.dirty {
            cached.dirty_slots.push(*key);
        }
        let newly_dirty = !std::mem::replace(&mut cached.dirty, true);
        self.journal.push(Change::Storage {
            address: *address,
            key: *key,
            previous: slot.value,
        });
        if newly_dirty {
            self.dirty.push(*address);
        }
        Ok(write)
    }

    /// Appends a log to the current transaction's logs.
    pub fn push_log(&mut self, log: Log) {
        self.logs.push(log);
    }

    /// Logs emitted so far in the current transaction.
    pub fn logs(&self) -> &[Log] {
        &self.logs
    }

    /// A point to roll back to.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            changes: self.journal.len(),
            logs: self.logs.len(),
        }
    }

    /// Undoes every change and log made since `checkpoint`.
    pub fn revert_to(&mut self, checkpoint: Checkpoint) {
        while self.journal.len() > checkpoint.changes {
            // The loop condition guarantees an entry.
            let (address, slot_key, previous_value, previous_account) =
                match self.journal.pop().expect("journal entry") {
                    Change::Account { address, previous } => (address, None, None, previous),
                    Change::Storage {
                        address,
                        key,
                        previous,
                    } => (address, Some(key), Some(previous), None),
                };
            let Some(cached) = self.cache.get_mut(&address) else {
                continue;
            };
            match (slot_key, previous_value) {
                (Some(key), Some(previous)) => {
                    if let Some(slot) = cached.storage.get_mut(&key) {
                        slot.value = previous;
                        // A root computed since the write must see the rollback too.
                        if !std::mem::replace(&mut slot.dirty, true) {
                            cached.dirty_slots.push(key);
                        }
                    }
                }
                _ => {
                    // The storage root is derived from the slots (rolled back separately) by
                    // the next root computation, not journaled.
                    let storage_root = cached.account.map(|a| a.storage_root);
                    cached.account = previous_account.map(|mut account| {
                        account.storage_root = storage_root.unwrap_or(account.storage_root);
                        account
                    });
                }
            }
            if !std::mem::replace(&mut cached.dirty, true) {
                self.dirty.push(address);
            }
        }
        self.logs.truncate(checkpoint.logs);
    }

    /// Ends the current transaction: its changes become the new originals (for pricing the
    /// next transaction's storage writes), the journal is cleared and its logs are returned.
    pub fn finish_transaction(&mut self) -> Vec<Log> {
        for change in self.journal.drain(..) {
            if let Change::Storage { address, key, .. } = change {
                let slot = self
                    .cache
                    .get_mut(&address)
                    .and_then(|c| c.storage.get_mut(&key));
                if let Some(slot) = slot {
                    slot.original = slot.value;
                }
            }
        }
        std::mem::take(&mut self.logs)
    }
}
