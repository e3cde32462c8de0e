//! The [`Runtime`]: the VM, the gas costs and the world state, executing transactions with
//! EIP-1559 fee accounting ([`Runtime::transact`]), rolled-back simulations of them
//! ([`Runtime::simulate`]) and read-only calls ([`Runtime::view`]).
//!
//! A transaction is validated against the state first ([`TxError`]: nothing changes if it is
//! invalid). Then the sender prepays `gas_limit * effective_gas_price` and its nonce is bumped;
//! the message runs in its own checkpoint (`frame`); unused gas is refunded, the base-fee part
//! of the fee is burned and the priority part paid to the block producer. A transaction that
//! reverts or fails still pays for its gas and keeps its nonce bump.
//!
//! With tracing on ([`RuntimeConfig::trace`], [`Runtime::set_trace`]) every receipt and view
//! result also carries the call tree ([`CallTrace`]); off, nothing is recorded.

mod frame;
mod receipt;
mod trace;

pub use frame::{create_address, Frame};
pub use receipt::{Failure, GasReport, Receipt, Status};
pub use trace::{CallKind, CallTrace, TraceNames};

use std::sync::Arc;

use primitive_types::{H160, U256};
use tally_vm::host::BlockInfo;
use tally_vm::{Vm, VmConfig, VmError};
use thiserror::Error;

use crate::costs::RuntimeCosts;
use crate::state::{StateError, WorldState};
use crate::trie::NodeStore;
use crate::tx::{BlockEnv, DeployPayload, Transaction, TxError};
use frame::{run_message, Env, Message, MessageKind, MessageResult};
use trace::Tracer;

/// Nested calls allowed below a transaction's top-level frame, by default.
pub const DEFAULT_MAX_CALL_DEPTH: u32 = 64;

/// Everything that decides how transactions execute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    pub vm: VmConfig,
    pub costs: RuntimeCosts,
    /// Deepest nested call allowed (the top-level frame is depth 0); a call beyond it fails.
    pub max_call_depth: u32,
    /// Record a [`CallTrace`] of every transaction and view (off by default).
    pub trace: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            vm: VmConfig::default(),
            costs: RuntimeCosts::default(),
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            trace: false,
        }
    }
}

/// Errors that stop a transaction from executing at all. A transaction that executes and
/// fails is a [`Receipt`] with a failure status, not an error.
#[derive(Debug, Error)]
pub enum ExecError {
    /// The transaction is invalid against the current state; nothing changed.
    #[error("invalid transaction: {0}")]
    Invalid(#[from] TxError),
    /// Reading the state failed (the store); the transaction's changes were rolled back.
    #[error("state: {0}")]
    State(#[from] StateError),
    /// The VM failed for a reason that is not the contract's (e.g. a fatal host error).
    #[error("vm: {0}")]
    Vm(#[from] VmError),
}

/// Totals of a block being executed, updated by each [`Runtime::transact`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext {
    pub env: BlockEnv,
    /// Gas used by the transactions executed so far.
    pub gas_used: u64,
    /// Base fees burned so far.
    pub burned: U256,
}

impl BlockContext {
    /// A block with nothing executed yet.
    pub fn new(env: BlockEnv) -> Self {
        BlockContext {
            env,
            gas_used: 0,
            burned: U256::zero(),
        }
    }

    /// Gas still available in the block.
    pub fn gas_left(&self) -> u64 {
        self.env.gas_limit.saturating_sub(self.gas_used)
    }
}

/// The result of a read-only call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewResult {
    pub status: Status,
    pub output: Vec<u8>,
    pub gas_used: u64,
    /// The call tree, when tracing is on.
    pub trace: Option<CallTrace>,
}

/// Executes transactions against a world state.
pub struct Runtime<S: NodeStore + Clone + 'static> {
    /// `None` only while a transaction runs (the frames hold it).
    env: Option<Box<Env<S>>>,
    trace: bool,
}

impl<S: NodeStore + Clone + 'static> Runtime<S> {
    /// A runtime over `state`.
    pub fn new(config: RuntimeConfig, state: WorldState<S>) -> Result<Self, VmError> {
        let vm = Arc::new(Vm::new(config.vm)?);
        Ok(Runtime {
            env: Some(Box::new(Env {
                state,
                vm,
                costs: Arc::new(config.costs),
                block: BlockInfo::default(),
                max_call_depth: config.max_call_depth,
                tracer: None,
            })),
            trace: config.trace,
        })
    }

    fn env(&self) -> &Env<S> {
        // Only `transact`/`view` take the environment, and they put it back before returning.
        self.env.as_deref().expect("runtime holds its environment")
    }

    fn env_mut(&mut self) -> &mut Env<S> {
        self.env
            .as_deref_mut()
            .expect("runtime holds its environment")
    }

    /// The world state.
    pub fn state(&self) -> &WorldState<S> {
        &self.env().state
    }

    /// The world state, for genesis set-up, cheats and commits.
    pub fn state_mut(&mut self) -> &mut WorldState<S> {
        &mut self.env_mut().state
    }

    /// The VM (its module cache, configuration and schedule).
    pub fn vm(&self) -> &Vm<Frame<S>> {
        &self.env().vm
    }

    /// The runtime's gas costs.
    pub fn costs(&self) -> &RuntimeCosts {
        &self.env().costs
    }

    /// Whether transactions and views are traced.
    pub fn trace(&self) -> bool {
        self.trace
    }

    /// Turns tracing on or off for the following transactions and views.
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    /// Takes the environment for one transaction or view, with a fresh tracer if tracing.
    fn begin(&mut self, block: &BlockEnv) -> Box<Env<S>> {
        let mut env = self.env.take().expect("runtime holds its environment");
        env.block = block_info(block);
        env.tracer = self.trace.then(Tracer::default);
        env
    }

    /// Validates and executes `tx` from `sender` in `block`, charging its fees; returns its
    /// receipt and adds its gas and fees to `block`.
    pub fn transact(
        &mut self,
        block: &mut BlockContext,
        sender: H160,
        tx: &Transaction,
    ) -> Result<Receipt, ExecError> {
        self.run(block, sender, tx, true)
    }

    /// Validates and executes `tx` exactly as [`Runtime::transact`] does, then rolls back
    /// everything it did (state, fees, nonce): what `eth_call` with a full transaction and
    /// `eth_estimateGas` need. `block` still receives the transaction's gas and fees.
    pub fn simulate(
        &mut self,
        block: &mut BlockContext,
        sender: H160,
        tx: &Transaction,
    ) -> Result<Receipt, ExecError> {
        self.run(block, sender, tx, false)
    }

    /// Executes `tx`; keeps what it did when `keep` and it is valid, rolls it all back
    /// otherwise. The receipt carries the transaction's logs either way.
    fn run(
        &mut self,
        block: &mut BlockContext,
        sender: H160,
        tx: &Transaction,
        keep: bool,
    ) -> Result<Receipt, ExecError> {
        let env = self.begin(&block.env);
        let start = env.state.checkpoint();
        let (mut env, result) = execute(env, block, sender, tx);
        let logs = if keep && result.is_ok() {
            env.state.finish_transaction()
        } else {
            let logs = match result {
                Ok(_) => env.state.logs().to_vec(),
                Err(_) => Vec::new(),
            };
            env.state.revert_to(start);
            env.state.finish_transaction();
            logs
        };
        let trace = env.tracer.take().and_then(Tracer::finish);
        self.env = Some(env);
        result.map(|receipt| Receipt {
            logs,
            trace,
            ..receipt
        })
    }

    /// Runs a call without a transaction (no nonce, no fees) and rolls back everything it did,
    /// as `eth_call` does.
    pub fn view(
        &mut self,
        block: &BlockEnv,
        from: H160,
        to: H160,
        input: &[u8],
        gas: u64,
    ) -> Result<ViewResult, ExecError> {
        let env = self.begin(block);
        let start = env.state.checkpoint();
        let stack_units = env.vm.config().execution_limits.stack_units;
        let msg = Message {
            caller: from,
            value: U256::zero(),
            gas,
            depth: 0,
            stack_units,
            kind: MessageKind::Call { to, input },
        };
        let (mut env, result) = run_message(env, msg);
        env.state.revert_to(start);
        env.state.finish_transaction();
        let trace = env.tracer.take().and_then(Tracer::finish);
        self.env = Some(env);
        let result = result?;
        Ok(ViewResult {
            status: result.status,
            output: result.output,
            gas_used: result.gas_used,
            trace,
        })
    }
}

fn block_info(env: &BlockEnv) -> BlockInfo {
    BlockInfo {
        number: env.number,
        timestamp: env.timestamp,
        chain_id: env.chain_id,
        base_fee: env.base_fee.to_big_endian(),
        producer: env.producer.0,
    }
}

/// Checks `tx` against the block and the sender's account; returns its intrinsic gas.
fn validate<S: NodeStore + Clone>(
    state: &mut WorldState<S>,
    costs: &RuntimeCosts,
    block: &BlockContext,
    sender: &H160,
    tx: &Transaction,
) -> Result<u64, ExecError> {
    if tx.chain_id != block.env.chain_id {
        return Err(TxError::WrongChainId {
            expected: block.env.chain_id,
            got: tx.chain_id,
        }
        .into());
    }
    let intrinsic = tx.intrinsic_gas(costs)?;
    if tx.gas_limit < intrinsic {
        return Err(TxError::IntrinsicGasTooLow {
            limit: tx.gas_limit,
            intrinsic,
        }
        .into());
    }
    if tx.gas_limit > block.env.gas_limit {
        return Err(TxError::GasLimitAboveBlockLimit {
            limit: tx.gas_limit,
            block_limit: block.env.gas_limit,
        }
        .into());
    }
    if tx.gas_limit > block.gas_left() {
        return Err(TxError::BlockGasExhausted {
            limit: tx.gas_limit,
            available: block.gas_left(),
        }
        .into());
    }
    tx.check_fees(block.env.base_fee)?;
    let (nonce, balance) = state
        .account(sender)?
        .map_or((0, U256::zero()), |a| (a.nonce, a.balance));
    if tx.nonce < nonce {
        return Err(TxError::NonceTooLow {
            expected: nonce,
            got: tx.nonce,
        }
        .into());
    }
    if tx.nonce > nonce {
        return Err(TxError::NonceTooHigh {
            expected: nonce,
            got: tx.nonce,
        }
        .into());
    }
    if nonce == u64::MAX {
        return Err(TxError::NonceOverflow(nonce).into());
    }
    // A cost beyond 256 bits is reported as the largest amount: no balance pays it.
    match tx.max_cost() {
        Some(cost) if cost <= balance => {}
        cost => {
            let cost = cost.unwrap_or(U256::MAX);
            return Err(TxError::InsufficientFunds { balance, cost }.into());
        }
    }
    Ok(intrinsic)
}

/// Validates and runs `tx`; hands the environment back with the result.
fn execute<S: NodeStore + Clone + 'static>(
    mut env: Box<Env<S>>,
    block: &mut BlockContext,
    sender: H160,
    tx: &Transaction,
) -> (Box<Env<S>>, Result<Receipt, ExecError>) {
    let costs = env.costs.clone();
    let intrinsic = match validate(&mut env.state, &costs, block, &sender, tx) {
        Ok(gas) => gas,
        Err(e) => return (env, Err(e)),
    };
    let price = tx.effective_gas_price(block.env.base_fee);
    // Validation checked gas_limit * max_fee + value <= balance, and price <= max_fee.
    let prepaid = U256::from(tx.gas_limit) * price;
    if let Err(e) = env.state.update_account(&sender, |a| {
        a.balance -= prepaid;
        a.nonce += 1;
    }) {
        return (env, Err(e.into()));
    }
    let stack_units = env.vm.config().execution_limits.stack_units;
    let gas = tx.gas_limit - intrinsic;
    let (kind, created) = match tx.to {
        Some(to) => (
            MessageKind::Call {
                to,
                input: &tx.data,
            },
            None,
        ),
        None => {
            // Decoded once already by `intrinsic_gas` during validation.
            let payload = match DeployPayload::decode(&tx.data) {
                Ok(payload) => payload,
                Err(e) => return (env, Err(e.into())),
            };
            let address = create_address(&sender, tx.nonce);
            let kind = MessageKind::Create {
                address,
                code: payload.code,
                input: payload.input,
            };
            (kind, Some(address))
        }
    };
    let msg = Message {
        caller: sender,
        value: tx.value,
        gas,
        depth: 0,
        stack_units,
        kind,
    };
    let (mut env, result) = run_message(env, msg);
    let result = match result {
        Ok(result) => result,
        Err(e) => return (env, Err(e.into())),
    };
    let receipt = settle(
        &mut env, block, sender, tx, intrinsic, price, created, result,
    );
    (env, receipt)
}

/// Refunds unused gas, pays the producer, burns the base fee and builds the receipt.
#[allow(clippy::too_many_arguments)]
fn settle<S: NodeStore + Clone + 'static>(
    env: &mut Env<S>,
    block: &mut BlockContext,
    sender: H160,
    tx: &Transaction,
    intrinsic: u64,
    price: U256,
    created: Option<H160>,
    result: MessageResult,
) -> Result<Receipt, ExecError> {
    let gas_used = intrinsic + result.gas_used.min(tx.gas_limit - intrinsic);
    let refund = U256::from(tx.gas_limit - gas_used) * price;
    env.state.add_balance(&sender, refund)?;
    let base_fee = block.env.base_fee;
    let tip = U256::from(gas_used) * (price - base_fee);
    if !tip.is_zero() {
        env.state.add_balance(&block.env.producer, tip)?;
    }
    let burned = U256::from(gas_used) * base_fee;
    block.gas_used += gas_used;
    block.burned += burned;
    let success = result.status.is_success();
    Ok(Receipt {
        status: result.status,
        gas_used,
        cumulative_gas_used: block.gas_used,
        // Filled in by the caller when it ends the transaction (a failed message's logs
        // were already rolled back with its checkpoint).
        logs: Vec::new(),
        output: result.output,
        contract_address: created.filter(|_| success),
        effective_gas_price: price,
        burned,
        tip,
        gas: GasReport {
            intrinsic,
            execution: result.breakdown,
        },
        trace: None,
    })
}
