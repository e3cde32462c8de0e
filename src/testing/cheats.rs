//! Cheats: set balances, nonces, code and storage, advance time and blocks, snapshot the chain
//! and revert to a snapshot (as often as wanted). Each goes through the chain's own
//! developer operations and seals the open block first, so it takes effect between blocks,
//! as on a node.

use alloy_primitives::{Address, B256, U256};

use super::error::TestError;
use super::TestChain;
use crate::eth::{from_address, from_b256, from_u256};

/// A recorded chain state to revert to ([`TestChain::snapshot`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainSnapshot(u64);

impl ChainSnapshot {
    /// The chain's snapshot id.
    pub fn id(&self) -> u64 {
        self.0
    }
}

impl TestChain {
    /// Sets the native balance of `account`.
    pub fn set_balance(&mut self, account: Address, balance: U256) -> Result<(), TestError> {
        Ok(self
            .chain
            .set_balance(from_address(account), from_u256(balance))?)
    }

    /// Sets the nonce of `account`.
    pub fn set_nonce(&mut self, account: Address, nonce: u64) -> Result<(), TestError> {
        Ok(self.chain.set_nonce(from_address(account), nonce)?)
    }

    /// Puts `code` at `account` (validated as a deployment would be).
    pub fn set_code(&mut self, account: Address, code: &[u8]) -> Result<(), TestError> {
        Ok(self.chain.set_code(from_address(account), code)?)
    }

    /// Writes a storage slot of `account`.
    pub fn set_storage(
        &mut self,
        account: Address,
        slot: B256,
        value: B256,
    ) -> Result<(), TestError> {
        Ok(self
            .chain
            .set_storage(from_address(account), from_b256(slot), from_b256(value))?)
    }

    /// Moves every later block `seconds` further in time (the open block is sealed first).
    pub fn advance_time(&mut self, seconds: u64) -> Result<(), TestError> {
        self.chain.seal()?;
        self.chain.increase_time(seconds);
        Ok(())
    }

    /// Gives the next block timestamp `timestamp` (later blocks continue from it; it is
    /// raised to the parent's plus one if not later).
    pub fn warp(&mut self, timestamp: u64) -> Result<(), TestError> {
        self.chain.seal()?;
        self.chain.set_next_timestamp(timestamp);
        Ok(())
    }

    /// Seals the open block and mines `blocks` more, empty.
    pub fn advance_blocks(&mut self, blocks: u64) -> Result<(), TestError> {
        self.chain.seal()?;
        for _ in 0..blocks {
            self.chain.mine()?;
        }
        Ok(())
    }

    /// Records the whole chain (blocks, state, time).
    pub fn snapshot(&mut self) -> Result<ChainSnapshot, TestError> {
        Ok(ChainSnapshot(self.chain.snapshot()?))
    }

    /// Brings the chain back to `snapshot`: same blocks, state and time. The snapshot stays:
    /// reverting to it again works; snapshots taken after it are dropped.
    pub fn revert(&mut self, snapshot: ChainSnapshot) -> Result<(), TestError> {
        if self.chain.revert(snapshot.0)? {
            Ok(())
        } else {
            Err(TestError::UnknownSnapshot(snapshot.0))
        }
    }
}
