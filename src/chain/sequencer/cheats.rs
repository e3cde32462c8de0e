//! State cheats on the chain (anvil's `anvil_setBalance`, `anvil_setNonce`, `anvil_setCode`,
//! `anvil_setStorageAt`): each edits the state at the head, takes effect in the next block and
//! keeps the mempool's view of the account in sync.
//!
//! A cheat is applied like a finished transaction of its own: the world state's journal is
//! emptied after it (a later transaction's rollback cannot undo it) and the slots it writes get
//! it as their original value (the next transaction's storage writes are priced as after a
//! block that made the same change). Unmined cheats live in memory only: they are lost on
//! restart, and stored with the block that follows them once it is mined.

use tally_runtime::exec::Runtime;
use tally_runtime::state::EMPTY_CODE_HASH;
use tally_runtime::{H160, H256, U256};
use tally_vm::VmError;

use super::{Chain, ChainError};
use crate::chain::cheat::Cheat;
use crate::chain::store::StateStore;

/// Applies `cheat` to the runtime's state (validating and compiling new code).
pub(super) fn apply(runtime: &mut Runtime<StateStore>, cheat: &Cheat) -> Result<(), ChainError> {
    let state = runtime.state_mut();
    match cheat {
        Cheat::Balance { address, balance } => state.set_balance(address, *balance)?,
        Cheat::Nonce { address, nonce } => state.set_nonce(address, *nonce)?,
        Cheat::Code { address, code } if code.is_empty() => {
            state.update_account(address, |a| a.code_hash = EMPTY_CODE_HASH)?
        }
        Cheat::Code { address, code } => {
            let module = runtime.vm().compile(code).map_err(|e| match e {
                VmError::Validation(_) | VmError::Instrument(_) => ChainError::InvalidCode(e),
                e => ChainError::Vm(e),
            })?;
            let hash = H256(module.code_hash());
            runtime.state_mut().set_code_hashed(address, hash, code)?;
        }
        Cheat::Storage {
            address,
            key,
            value,
        } => {
            state.set_storage(address, key, *value)?;
        }
    }
    runtime.state_mut().finish_transaction();
    Ok(())
}

impl Chain {
    /// Sets the balance of `address` (creating the account).
    pub fn set_balance(&mut self, address: H160, balance: U256) -> Result<(), ChainError> {
        self.cheat(Cheat::Balance { address, balance })
    }

    /// Sets the nonce of `address` (creating the account). Pooled transactions below it are
    /// dropped; lowering it leaves the pooled ones queued behind the gap.
    pub fn set_nonce(&mut self, address: H160, nonce: u64) -> Result<(), ChainError> {
        self.cheat(Cheat::Nonce { address, nonce })
    }

    /// Replaces the code of `address` (creating the account), checked like a deployment's:
    /// code outside the deterministic subset is [`ChainError::InvalidCode`] and changes
    /// nothing. Empty code removes the account's code. Storage and nonce stay.
    pub fn set_code(&mut self, address: H160, code: &[u8]) -> Result<(), ChainError> {
        self.cheat(Cheat::Code {
            address,
            code: code.to_vec(),
        })
    }

    /// Writes storage slot `key` of `address` (creating the account; zero clears the slot).
    pub fn set_storage(&mut self, address: H160, key: H256, value: H256) -> Result<(), ChainError> {
        self.cheat(Cheat::Storage {
            address,
            key,
            value,
        })
    }

    fn cheat(&mut self, cheat: Cheat) -> Result<(), ChainError> {
        // Between blocks, where re-executing a block applies the cheats before it.
        self.seal()?;
        apply(&mut self.runtime, &cheat)?;
        let address = cheat.address();
        self.pending_cheats.push(cheat);
        let account = self.account_state(&address)?;
        self.pool.update_account(address, account);
        Ok(())
    }
}
