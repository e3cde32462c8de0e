//! The model host of the VM targets: a [`ScratchHost`] for storage, logs and the balance, with
//! every host call it receives recorded in order, and nested calls and creates answered from a
//! script taken from the fuzz input (status, output and the gas the callee used). Its answers
//! never depend on the gas left, so a run with a different gas limit that does not run out
//! sees exactly the same host.

use arbitrary::{Arbitrary, Result, Unstructured};
use tally_vm::host::{
    Address, BlockInfo, CallOutput, CallRequest, CallStatus, CreateOutput, CreateRequest, GasMeter,
    Host, HostError, Word,
};
use tally_vm::ScratchHost;

/// The answer to one nested call or create.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// 0 success, 1 revert, anything else failure.
    status: u8,
    #[arbitrary(with = short_bytes)]
    output: Vec<u8>,
    /// Gas the callee used, charged to the caller.
    gas: u16,
    /// Address of a created contract.
    address: Address,
}

fn short_bytes(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=40)?;
    Ok(u.bytes(len)?.to_vec())
}

impl Response {
    fn status(&self) -> CallStatus {
        match self.status {
            0 => CallStatus::Success,
            1 => CallStatus::Revert,
            _ => CallStatus::Failure,
        }
    }
}

/// One host call as the host saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    StorageRead(Word),
    StorageWrite(Word, Word),
    Balance(Address),
    Transfer {
        to: Address,
        value: Word,
        done: bool,
    },
    Log {
        topics: Vec<Word>,
        data: Vec<u8>,
    },
    Call {
        to: Address,
        value: Word,
        gas: u64,
        input: Vec<u8>,
        stack_units: u32,
    },
    Create {
        code: Vec<u8>,
        value: Word,
        input: Vec<u8>,
        stack_units: u32,
    },
}

/// A host whose every effect is recorded; see the module documentation.
#[derive(Clone, Debug)]
pub struct ModelHost {
    pub state: ScratchHost,
    /// Extra gas charged per storage write (state-dependent gas, as the runtime charges).
    write_gas: u64,
    script: Vec<Response>,
    next: usize,
    pub effects: Vec<Effect>,
}

impl ModelHost {
    /// A host with its context, balance, storage costs and call script from the fuzz input.
    pub fn arbitrary(u: &mut Unstructured<'_>) -> Result<Self> {
        let base_fee: u64 = u.arbitrary()?;
        let mut base_fee_word = [0u8; 32];
        base_fee_word[24..].copy_from_slice(&base_fee.to_be_bytes());
        let state = ScratchHost {
            caller: u.arbitrary()?,
            address: u.arbitrary()?,
            call_value: u.arbitrary()?,
            balance: u.arbitrary()?,
            block: BlockInfo {
                number: u.arbitrary()?,
                timestamp: u.arbitrary()?,
                chain_id: u.arbitrary()?,
                base_fee: base_fee_word,
                producer: u.arbitrary()?,
            },
            ..ScratchHost::default()
        };
        Ok(ModelHost {
            state,
            write_gas: u.int_in_range(0..=5_000)?,
            script: (0..u.int_in_range(0..=4)?)
                .map(|_| Response::arbitrary(u))
                .collect::<Result<_>>()?,
            next: 0,
            effects: Vec::new(),
        })
    }

    /// Whether two hosts ended in the same state after the same effects.
    pub fn same_as(&self, other: &ModelHost) -> bool {
        self.effects == other.effects
            && self.state.storage == other.state.storage
            && self.state.logs == other.state.logs
            && self.state.balance == other.state.balance
    }

    fn respond(&mut self, gas: &mut GasMeter) -> Result<Response, HostError> {
        let response = self.script.get(self.next).cloned().unwrap_or(Response {
            status: 2,
            output: Vec::new(),
            gas: 0,
            address: [0; 20],
        });
        self.next += 1;
        gas.charge(response.gas.into())?;
        Ok(response)
    }
}

impl Host for ModelHost {
    fn storage_read(&mut self, gas: &mut GasMeter, key: &Word) -> Result<Word, HostError> {
        self.effects.push(Effect::StorageRead(*key));
        self.state.storage_read(gas, key)
    }

    fn storage_write(
        &mut self,
        gas: &mut GasMeter,
        key: &Word,
        value: &Word,
    ) -> Result<(), HostError> {
        self.effects.push(Effect::StorageWrite(*key, *value));
        gas.charge(self.write_gas)?;
        self.state.storage_write(gas, key, value)
    }

    fn caller(&self) -> Address {
        self.state.caller()
    }

    fn address(&self) -> Address {
        self.state.address()
    }

    fn call_value(&self) -> Word {
        self.state.call_value()
    }

    fn balance(&mut self, gas: &mut GasMeter, address: &Address) -> Result<Word, HostError> {
        self.effects.push(Effect::Balance(*address));
        self.state.balance(gas, address)
    }

    fn transfer(
        &mut self,
        gas: &mut GasMeter,
        to: &Address,
        value: &Word,
    ) -> Result<bool, HostError> {
        let done = self.state.transfer(gas, to, value)?;
        self.effects.push(Effect::Transfer {
            to: *to,
            value: *value,
            done,
        });
        Ok(done)
    }

    fn block(&self) -> BlockInfo {
        self.state.block()
    }

    fn emit_log(
        &mut self,
        gas: &mut GasMeter,
        topics: &[Word],
        data: &[u8],
    ) -> Result<(), HostError> {
        self.effects.push(Effect::Log {
            topics: topics.to_vec(),
            data: data.to_vec(),
        });
        self.state.emit_log(gas, topics, data)
    }

    fn call(
        &mut self,
        gas: &mut GasMeter,
        request: CallRequest<'_>,
    ) -> Result<CallOutput, HostError> {
        self.effects.push(Effect::Call {
            to: request.to,
            value: request.value,
            gas: request.gas,
            input: request.input.to_vec(),
            stack_units: request.stack_units,
        });
        let response = self.respond(gas)?;
        Ok(CallOutput {
            status: response.status(),
            output: response.output,
        })
    }

    fn create(
        &mut self,
        gas: &mut GasMeter,
        request: CreateRequest<'_>,
    ) -> Result<CreateOutput, HostError> {
        self.effects.push(Effect::Create {
            code: request.code.to_vec(),
            value: request.value,
            input: request.input.to_vec(),
            stack_units: request.stack_units,
        });
        let response = self.respond(gas)?;
        let status = response.status();
        Ok(CreateOutput {
            status,
            address: if status == CallStatus::Success {
                response.address
            } else {
                [0; 20]
            },
            output: response.output,
        })
    }
}
