//! Call frames: [`Frame`] is the VM [`Host`] of one running contract, and [`run_message`] runs
//! one message (a call or a creation) in its own journal checkpoint, so a frame that reverts or
//! traps rolls back its changes and those of every call it made.
//!
//! The environment (world state, VM, costs) is owned by exactly one frame at a time: a frame
//! lends it to the callee for the duration of a nested call and takes it back afterwards.

use std::sync::Arc;

use primitive_types::{H160, H256, U256};
use tally_vm::host::{
    Address, BlockInfo, CallOutput, CallRequest, CallStatus, CreateOutput, CreateRequest, GasMeter,
    Word,
};
use tally_vm::{
    CompiledModule, Execution, ExecutionLimits, GasBreakdown, Host, HostError, Outcome, Vm, VmError,
};

use super::receipt::{Failure, Status};
use super::trace::Tracer;
use crate::costs::RuntimeCosts;
use crate::rlp::{encode_list, trim_leading_zeros};
use crate::state::{Log, SlotWrite, StateError, WorldState};
use crate::trie::{keccak256, NodeStore};

/// Everything a running transaction needs, passed from frame to frame.
pub(crate) struct Env<S: NodeStore + Clone + 'static> {
    pub(crate) state: WorldState<S>,
    pub(crate) vm: Arc<Vm<Frame<S>>>,
    pub(crate) costs: Arc<RuntimeCosts>,
    pub(crate) block: BlockInfo,
    pub(crate) max_call_depth: u32,
    /// Records the call tree when tracing is on.
    pub(crate) tracer: Option<Tracer>,
}

/// A message to run: who sends it, what it does, with how much gas.
pub(crate) struct Message<'a> {
    pub(crate) caller: H160,
    pub(crate) value: U256,
    pub(crate) gas: u64,
    pub(crate) depth: u32,
    pub(crate) stack_units: u32,
    pub(crate) kind: MessageKind<'a>,
}

pub(crate) enum MessageKind<'a> {
    Call {
        to: H160,
        input: &'a [u8],
    },
    Create {
        address: H160,
        code: &'a [u8],
        input: &'a [u8],
    },
}

/// How a message ended.
pub(crate) struct MessageResult {
    pub(crate) status: Status,
    pub(crate) output: Vec<u8>,
    pub(crate) gas_used: u64,
    /// Where the contract's gas went, when code ran.
    pub(crate) breakdown: Option<GasBreakdown>,
}

impl MessageResult {
    fn done(status: Status, gas_used: u64) -> Self {
        MessageResult {
            status,
            output: Vec::new(),
            gas_used,
            breakdown: None,
        }
    }

    fn failed(failure: Failure, gas_used: u64) -> Self {
        Self::done(Status::Failure(failure), gas_used)
    }
}

/// The VM host of one running contract.
pub struct Frame<S: NodeStore + Clone + 'static> {
    /// `None` only while lent to a nested call, when this frame runs no host function.
    env: Option<Box<Env<S>>>,
    caller: H160,
    address: H160,
    value: U256,
    depth: u32,
}

/// Ethereum's CREATE address: `keccak(rlp([sender, nonce]))[12..]`.
pub fn create_address(sender: &H160, nonce: u64) -> H160 {
    let nonce = nonce.to_be_bytes();
    let rlp = encode_list(&[&sender.0, trim_leading_zeros(&nonce)]);
    H160::from_slice(&keccak256(&rlp)[12..])
}

/// Gas a frame may forward: all but one 64th of what it has (EIP-150).
fn forwardable(available: u64) -> u64 {
    available - available / 64
}

/// Runs `msg` and hands the environment back with the result. `Err` only for failures of the
/// host itself (the store), never for what the contract does.
pub(crate) fn run_message<S: NodeStore + Clone + 'static>(
    mut env: Box<Env<S>>,
    msg: Message<'_>,
) -> (Box<Env<S>>, Result<MessageResult, VmError>) {
    if let Some(tracer) = env.tracer.as_mut() {
        tracer.enter(&msg);
    }
    let (mut env, result) = run_untraced(env, msg);
    if let (Some(tracer), Ok(result)) = (env.tracer.as_mut(), &result) {
        tracer.exit(result);
    }
    (env, result)
}

fn run_untraced<S: NodeStore + Clone + 'static>(
    mut env: Box<Env<S>>,
    msg: Message<'_>,
) -> (Box<Env<S>>, Result<MessageResult, VmError>) {
    let checkpoint = env.state.checkpoint();
    let result = prepare(&mut env, &msg);
    let (address, module, entry, input) = match result {
        Ok(Prepared::Run {
            address,
            module,
            entry,
            input,
        }) => (address, module, entry, input),
        Ok(Prepared::Done(result)) => {
            if !result.status.is_success() {
                env.state.revert_to(checkpoint);
            }
            return (env, Ok(result));
        }
        Err(e) => return (env, Err(e)),
    };
    let vm = env.vm.clone();
    let limits = ExecutionLimits {
        stack_units: msg.stack_units,
        ..vm.config().execution_limits
    };
    let frame = Frame {
        env: Some(env),
        caller: msg.caller,
        address,
        value: msg.value,
        depth: msg.depth,
    };
    let (frame, executed) =
        match vm.execute_with(&module, entry, input.to_vec(), msg.gas, limits, frame) {
            Ok(executed) => (executed.host, Ok(executed.execution)),
            Err((e, frame)) => (frame, Err(e)),
        };
    let mut env = frame.into_env();
    let execution = match executed {
        Ok(execution) => execution,
        Err(e) => return (env, Err(e)),
    };
    let Execution {
        outcome,
        gas_used,
        breakdown,
    } = execution;
    let (status, output) = match outcome {
        Outcome::Success { return_data } => (Status::Success, return_data),
        Outcome::Revert { data } => (Status::Revert, data),
        Outcome::Trap { kind } => (Status::Failure(Failure::Trap(kind)), Vec::new()),
    };
    if !status.is_success() {
        env.state.revert_to(checkpoint);
    }
    let result = MessageResult {
        status,
        output,
        gas_used,
        breakdown: Some(breakdown),
    };
    (env, Ok(result))
}

enum Prepared<'a, S: NodeStore + Clone + 'static> {
    Run {
        address: H160,
        module: Arc<CompiledModule<Frame<S>>>,
        entry: &'static str,
        input: &'a [u8],
    },
    Done(MessageResult),
}

/// Moves the value and, for a creation, sets up the new account; finds the code to run.
fn prepare<'a, S: NodeStore + Clone + 'static>(
    env: &mut Env<S>,
    msg: &Message<'a>,
) -> Result<Prepared<'a, S>, VmError> {
    let fatal = |e: StateError| VmError::Host(HostError::Fatal(e.to_string()));
    match msg.kind {
        MessageKind::Call { to, input } => {
            if !env
                .state
                .transfer(&msg.caller, &to, msg.value)
                .map_err(fatal)?
            {
                let failed = MessageResult::failed(Failure::InsufficientBalance, 0);
                return Ok(Prepared::Done(failed));
            }
            let code_hash = match env.state.account(&to).map_err(fatal)? {
                Some(account) if account.has_code() => account.code_hash,
                _ => return Ok(Prepared::Done(MessageResult::done(Status::Success, 0))),
            };
            let module = match env.vm.cached(&code_hash.0) {
                Some(module) => module,
                None => {
                    let code = env.state.code_by_hash(&code_hash).map_err(fatal)?;
                    env.vm.compile(&code)?
                }
            };
            Ok(Prepared::Run {
                address: to,
                module,
                entry: "call",
                input,
            })
        }
        MessageKind::Create {
            address,
            code,
            input,
        } => {
            let existing = env.state.account(&address).map_err(fatal)?;
            if existing.is_some_and(|a| a.has_code() || a.nonce != 0) {
                let failed = MessageResult::failed(Failure::AddressCollision, msg.gas);
                return Ok(Prepared::Done(failed));
            }
            let module = match env.vm.compile(code) {
                Ok(module) => module,
                Err(e @ (VmError::Validation(_) | VmError::Instrument(_))) => {
                    let failed = MessageResult::failed(Failure::InvalidCode(e.to_string()), 0);
                    return Ok(Prepared::Done(failed));
                }
                Err(e) => return Err(e),
            };
            if !env
                .state
                .transfer(&msg.caller, &address, msg.value)
                .map_err(fatal)?
            {
                let failed = MessageResult::failed(Failure::InsufficientBalance, 0);
                return Ok(Prepared::Done(failed));
            }
            env.state.set_nonce(&address, 1).map_err(fatal)?;
            let code_hash = H256(module.code_hash());
            env.state
                .set_code_hashed(&address, code_hash, code)
                .map_err(fatal)?;
            if !module.has_entry_point("deploy") {
                return Ok(Prepared::Done(MessageResult::done(Status::Success, 0)));
            }
            Ok(Prepared::Run {
                address,
                module,
                entry: "deploy",
                input,
            })
        }
    }
}

/// Charges for moving `value` to `to` (nothing for zero value, which looks nothing up).
fn charge_value_move<S: NodeStore + Clone + 'static>(
    env: &mut Env<S>,
    gas: &mut GasMeter,
    to: &H160,
    value: &U256,
) -> Result<(), HostError> {
    if value.is_zero() {
        return Ok(());
    }
    let exists = env.state.exists(to).map_err(host_error)?;
    gas.charge(env.costs.value_move(exists))
}

fn host_error(e: StateError) -> HostError {
    HostError::Fatal(e.to_string())
}

fn to_status(status: &Status) -> CallStatus {
    match status {
        Status::Success => CallStatus::Success,
        Status::Revert => CallStatus::Revert,
        Status::Failure(_) => CallStatus::Failure,
    }
}

impl<S: NodeStore + Clone + 'static> Frame<S> {
    fn env(&mut self) -> &mut Env<S> {
        // Host functions run only while this frame executes, and then it holds the environment.
        self.env
            .as_mut()
            .expect("a running frame holds the environment")
    }

    fn into_env(mut self) -> Box<Env<S>> {
        // Set at construction and restored after every nested call.
        self.env
            .take()
            .expect("a finished frame holds the environment")
    }

    /// Runs a nested message with the environment lent to it.
    fn nested(&mut self, msg: Message<'_>) -> Result<MessageResult, HostError> {
        let env = self
            .env
            .take()
            .expect("a running frame holds the environment");
        let (env, result) = run_message(env, msg);
        self.env = Some(env);
        result.map_err(|e| HostError::Fatal(e.to_string()))
    }

    /// Why a nested call or creation sending `value` may not start, if it may not: the depth
    /// limit is reached, or this contract cannot pay the value.
    fn refusal(&mut self, value: U256) -> Result<Option<Failure>, HostError> {
        if self.depth >= self.env().max_call_depth {
            return Ok(Some(Failure::CallDepth));
        }
        let address = self.address;
        let balance = self.env().state.balance(&address).map_err(host_error)?;
        Ok((balance < value).then_some(Failure::InsufficientBalance))
    }

    /// Records a nested message refused before it ran (when tracing).
    fn trace_refused(&mut self, msg: &Message<'_>, failure: Failure) {
        if let Some(tracer) = self.env().tracer.as_mut() {
            tracer.refused(msg, failure);
        }
    }
}

impl<S: NodeStore + Clone + 'static> Host for Frame<S> {
    fn storage_read(&mut self, _gas: &mut GasMeter, key: &Word) -> Result<Word, HostError> {
        let address = self.address;
        let value = self
            .env()
            .state
            .storage(&address, &H256(*key))
            .map_err(host_error)?;
        Ok(value.0)
    }

    fn storage_write(
        &mut self,
        gas: &mut GasMeter,
        key: &Word,
        value: &Word,
    ) -> Result<(), HostError> {
        let address = self.address;
        let env = self.env();
        let (original, current) = env
            .state
            .storage_slot(&address, &H256(*key))
            .map_err(host_error)?;
        let write = SlotWrite {
            original,
            current,
            new: H256(*value),
        };
        gas.charge(env.costs.storage_write(&write))?;
        env.state
            .set_storage(&address, &H256(*key), H256(*value))
            .map_err(host_error)?;
        Ok(())
    }

    fn caller(&self) -> Address {
        self.caller.0
    }

    fn address(&self) -> Address {
        self.address.0
    }

    fn call_value(&self) -> Word {
        self.value.to_big_endian()
    }

    fn balance(&mut self, _gas: &mut GasMeter, address: &Address) -> Result<Word, HostError> {
        let balance = self
            .env()
            .state
            .balance(&H160(*address))
            .map_err(host_error)?;
        Ok(balance.to_big_endian())
    }

    fn transfer(
        &mut self,
        gas: &mut GasMeter,
        to: &Address,
        value: &Word,
    ) -> Result<bool, HostError> {
        let (from, to, value) = (self.address, H160(*to), U256::from_big_endian(value));
        let env = self.env();
        charge_value_move(env, gas, &to, &value)?;
        env.state.transfer(&from, &to, value).map_err(host_error)
    }

    fn block(&self) -> BlockInfo {
        self.env.as_ref().map(|env| env.block).unwrap_or_default()
    }

    fn emit_log(
        &mut self,
        _gas: &mut GasMeter,
        topics: &[Word],
        data: &[u8],
    ) -> Result<(), HostError> {
        let log = Log {
            address: self.address,
            topics: topics.iter().map(|t| H256(*t)).collect(),
            data: data.to_vec(),
        };
        let env = self.env();
        if let Some(tracer) = env.tracer.as_mut() {
            tracer.log(&log);
        }
        env.state.push_log(log);
        Ok(())
    }

    fn call(
        &mut self,
        gas: &mut GasMeter,
        request: CallRequest<'_>,
    ) -> Result<CallOutput, HostError> {
        let (to, value) = (H160(request.to), U256::from_big_endian(&request.value));
        let env = self.env();
        charge_value_move(env, gas, &to, &value)?;
        let msg = Message {
            caller: self.address,
            value,
            gas: request.gas.min(forwardable(gas.remaining())),
            depth: self.depth + 1,
            stack_units: request.stack_units,
            kind: MessageKind::Call {
                to,
                input: request.input,
            },
        };
        if let Some(failure) = self.refusal(value)? {
            self.trace_refused(&msg, failure);
            return Ok(CallOutput {
                status: CallStatus::Failure,
                output: Vec::new(),
            });
        }
        let result = self.nested(msg)?;
        gas.charge(result.gas_used)?;
        Ok(CallOutput {
            status: to_status(&result.status),
            output: result.output,
        })
    }

    fn create(
        &mut self,
        gas: &mut GasMeter,
        request: CreateRequest<'_>,
    ) -> Result<CreateOutput, HostError> {
        let value = U256::from_big_endian(&request.value);
        let code_cost = self.env().costs.code(request.code.len());
        gas.charge(code_cost)?;
        let failed = CreateOutput {
            status: CallStatus::Failure,
            address: [0; 20],
            output: Vec::new(),
        };
        let creator = self.address;
        let nonce = self.env().state.nonce(&creator).map_err(host_error)?;
        let address = create_address(&creator, nonce);
        let msg = Message {
            caller: creator,
            value,
            gas: forwardable(gas.remaining()),
            depth: self.depth + 1,
            stack_units: request.stack_units,
            kind: MessageKind::Create {
                address,
                code: request.code,
                input: request.input,
            },
        };
        let next = match nonce.checked_add(1) {
            Some(next) => self.refusal(value)?.map_or(Ok(next), Err),
            None => Err(Failure::NonceOverflow),
        };
        let next = match next {
            Ok(next) => next,
            Err(failure) => {
                self.trace_refused(&msg, failure);
                return Ok(failed);
            }
        };
        self.env()
            .state
            .set_nonce(&creator, next)
            .map_err(host_error)?;
        let result = self.nested(msg)?;
        gas.charge(result.gas_used)?;
        Ok(CreateOutput {
            status: to_status(&result.status),
            address: if result.status.is_success() {
                address.0
            } else {
                [0; 20]
            },
            output: result.output,
        })
    }
}
