//! Reading the past: the state after any block ([`Chain::state_at`]) and the re-execution of a
//! mined transaction with tracing on ([`Chain::trace_transaction`]).
//!
//! Re-execution runs the transaction's block again, from its parent's state (old versions stay
//! readable, nothing is written) with the cheats applied before the block, up to the
//! transaction: the receipt and trace are those of the live execution.

use tally_runtime::exec::{BlockContext, CallTrace, Receipt};
use tally_runtime::state::WorldState;
use tally_runtime::tx::BlockEnv;
use tally_runtime::H256;

use super::{cheats, Chain, ChainError};
use crate::chain::store::{ChainStoreError, StateStore};

impl Chain {
    /// A read-only view of the state committed by block `number` (without the cheats applied
    /// since; those are in [`Chain::runtime`]'s state). Its writes stay in memory.
    pub fn state_at(&self, number: u64) -> Result<WorldState<StateStore>, ChainError> {
        if number > self.head.number {
            return Err(ChainError::MissingBlock(number));
        }
        let oldest = self.store.oldest_state()?;
        if number < oldest {
            return Err(ChainStoreError::StatePruned {
                block: number,
                oldest,
            }
            .into());
        }
        Ok(WorldState::open(self.store.state_store(), number)?)
    }

    /// Re-executes the mined transaction `hash` with tracing on; returns its full runtime
    /// receipt (with the gas breakdown; its `trace` is taken out) and its call trace, or `None`
    /// if no block holds it.
    pub fn trace_transaction(
        &mut self,
        hash: H256,
    ) -> Result<Option<(Receipt, CallTrace)>, ChainError> {
        let Some((number, index)) = self.store.transaction_location(&hash)? else {
            return Ok(None);
        };
        let header = self
            .store
            .block(number)?
            .ok_or(ChainError::MissingBlock(number))?
            .header;
        let transactions = self
            .store
            .block_transactions(number)?
            .ok_or(ChainError::MissingBlock(number))?;
        let cheats = self.store.cheats(number)?;
        // Blocks with transactions follow the genesis block.
        let parent = self.state_at(number.saturating_sub(1))?;
        let head_state = std::mem::replace(self.runtime.state_mut(), parent);
        let tracing = self.runtime.trace();
        self.runtime.set_trace(true);
        let replayed = (|| -> Result<Receipt, ChainError> {
            for cheat in &cheats {
                cheats::apply(&mut self.runtime, cheat)?;
            }
            let mut ctx = BlockContext::new(BlockEnv {
                number,
                timestamp: header.timestamp,
                chain_id: self.chain_id,
                gas_limit: header.gas_limit,
                base_fee: header.base_fee,
                producer: header.producer,
            });
            let mut last = None;
            for tx in transactions.iter().take(index as usize + 1) {
                let receipt = self
                    .runtime
                    .transact(&mut ctx, tx.sender(), tx.transaction())
                    .map_err(|e| ChainError::Execution(format!("replaying {hash:?}: {e}")))?;
                last = Some(receipt);
            }
            last.ok_or(ChainError::MissingBlock(number))
        })();
        self.runtime.set_trace(tracing);
        *self.runtime.state_mut() = head_state;
        let mut receipt = replayed?;
        let trace = receipt
            .trace
            .take()
            .ok_or_else(|| ChainError::Execution(format!("replaying {hash:?} left no trace")))?;
        Ok(Some((receipt, trace)))
    }
}
