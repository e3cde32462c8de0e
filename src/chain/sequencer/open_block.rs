//! The open block: transactions executed at once ([`Chain::execute`]) into the block being
//! built, each returning its full receipt, for callers that need the outcome of every
//! transaction before sending the next (the test harness). The block is sealed by the same
//! code as a mined one ([`Chain::seal`], [`Chain::mine`], which adds the pooled transactions
//! that fit), when a transaction no longer fits in it, before a cheat (so cheats stay between
//! blocks, where re-execution applies them) and before a snapshot. A block keeps the time it
//! was opened at: time changes apply to the blocks opened after them.

use tally_runtime::exec::{BlockContext, ExecError, Receipt};
use tally_runtime::tx::BlockEnv;

use super::clock::BlockClock;
use super::{Chain, ChainError, SubmitError};
use crate::chain::store::Block;
use crate::chain::tx::SignedTransaction;

/// A block being built: its totals and the transactions executed so far.
pub(super) struct OpenBlock {
    pub(super) ctx: BlockContext,
    pub(super) included: Vec<(SignedTransaction, Receipt)>,
    /// The clock once this block is sealed; time changes made while the block is open go
    /// here, so they apply to the blocks after it.
    pub(super) clock: BlockClock,
}

/// The block the next executed transaction goes into: the open block, or the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingBlock {
    pub env: BlockEnv,
    /// Gas used by the transactions executed in it so far.
    pub gas_used: u64,
    /// Transactions executed in it so far.
    pub transactions: usize,
}

impl PendingBlock {
    /// Gas still available in the block.
    pub fn gas_left(&self) -> u64 {
        self.env.gas_limit.saturating_sub(self.gas_used)
    }
}

impl Chain {
    /// A new block on the head, timed by the clock (with `wall` as the system time if given).
    pub(super) fn start_block(&self, wall: Option<u64>) -> OpenBlock {
        let (timestamp, clock) = self.clock.next_block(self.head.timestamp, wall);
        let env = BlockEnv {
            number: self.head.number + 1,
            timestamp,
            chain_id: self.chain_id,
            gas_limit: self.head.gas_limit,
            base_fee: self.head.next_base_fee(),
            producer: self.config.producer,
        };
        OpenBlock {
            ctx: BlockContext::new(env),
            included: Vec::new(),
            clock,
        }
    }

    /// Seals `block`: its roots and header, one atomic write, the new head and clock.
    pub(super) fn seal_block(&mut self, block: OpenBlock) -> Result<Block, ChainError> {
        let sealed = self.commit(block.ctx, block.included)?;
        self.clock = block.clock;
        Ok(sealed)
    }

    /// The block the next transaction given to [`Chain::execute`] goes into (if it fits).
    pub fn pending_block(&self) -> PendingBlock {
        match &self.open {
            Some(open) => PendingBlock {
                env: open.ctx.env,
                gas_used: open.ctx.gas_used,
                transactions: open.included.len(),
            },
            None => PendingBlock {
                env: self.start_block(None).ctx.env,
                gas_used: 0,
                transactions: 0,
            },
        }
    }

    /// Executes `tx` now, in the open block (opened if there is none; sealed first if it holds
    /// transactions and `tx`'s gas limit does not fit in what it has left), and returns its
    /// receipt, with its call trace when tracing: [`Chain::last_receipts`] will not have the
    /// trace. It bypasses the mempool; an invalid transaction is an error and changes nothing.
    /// A failure of the chain itself (its store) drops the open block.
    pub fn execute(&mut self, tx: SignedTransaction) -> Result<Receipt, SubmitError> {
        self.seal_if_full(tx.transaction().gas_limit)?;
        let mut block = match self.open.take() {
            Some(open) => open,
            None => self.start_block(None),
        };
        let result = self
            .runtime
            .transact(&mut block.ctx, tx.sender(), tx.transaction());
        match result {
            Ok(mut receipt) => {
                // The block keeps the receipt without its trace: the caller has it.
                let trace = receipt.trace.take();
                block.included.push((tx, receipt.clone()));
                self.open = Some(block);
                Ok(Receipt { trace, ..receipt })
            }
            Err(ExecError::Invalid(e)) => {
                // An empty block is not kept open: it would fix the time of the next one.
                if !block.included.is_empty() {
                    self.open = Some(block);
                }
                Err(e.into())
            }
            Err(e) => {
                self.reset_state()?;
                Err(ChainError::Execution(e.to_string()).into())
            }
        }
    }

    /// The block [`Chain::execute`] puts a transaction with `gas_limit` into: the open block,
    /// sealed first if it holds transactions and the limit does not fit in what it has left.
    pub fn block_for(&mut self, gas_limit: u64) -> Result<PendingBlock, ChainError> {
        self.seal_if_full(gas_limit)?;
        Ok(self.pending_block())
    }

    /// Seals the open block if it holds transactions and `gas_limit` does not fit in what it
    /// has left.
    fn seal_if_full(&mut self, gas_limit: u64) -> Result<(), ChainError> {
        let full = self
            .open
            .as_ref()
            .is_some_and(|open| !open.included.is_empty() && gas_limit > open.ctx.gas_left());
        if full {
            self.seal()?;
        }
        Ok(())
    }

    /// Seals the open block, if there is one (without the pooled transactions: see
    /// [`Chain::mine`] for those).
    pub fn seal(&mut self) -> Result<Option<Block>, ChainError> {
        match self.open.take() {
            Some(block) => self.seal_block(block).map(Some),
            None => Ok(None),
        }
    }
}
