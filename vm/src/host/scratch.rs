//! A self-contained in-memory host: storage, logs and a balance for one contract, no other
//! contracts. Used by `tally run`, tests and benchmarks of the VM alone.

use std::collections::BTreeMap;

use super::{
    Address, BlockInfo, CallOutput, CallRequest, CallStatus, CreateOutput, CreateRequest, GasMeter,
    Host, HostError, Word,
};

/// One emitted log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub topics: Vec<Word>,
    pub data: Vec<u8>,
}

/// Scratch state for running a single contract. Nested calls and creates fail (status 2)
/// because there is no other contract.
#[derive(Clone, Debug, Default)]
pub struct ScratchHost {
    pub storage: BTreeMap<Word, Word>,
    pub logs: Vec<Log>,
    pub caller: Address,
    pub address: Address,
    pub call_value: Word,
    /// Balance of the running contract (other addresses have none).
    pub balance: u128,
    pub block: BlockInfo,
}

fn word_from_u128(v: u128) -> Word {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

fn u128_from_word(w: &Word) -> Option<u128> {
    let (high, low) = w.split_at(16);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(low);
    high.iter()
        .all(|b| *b == 0)
        .then(|| u128::from_be_bytes(bytes))
}

impl Host for ScratchHost {
    fn storage_read(&mut self, _gas: &mut GasMeter, key: &Word) -> Result<Word, HostError> {
        Ok(self.storage.get(key).copied().unwrap_or_default())
    }

    fn storage_write(
        &mut self,
        _gas: &mut GasMeter,
        key: &Word,
        value: &Word,
    ) -> Result<(), HostError> {
        if *value == [0u8; 32] {
            self.storage.remove(key);
        } else {
            self.storage.insert(*key, *value);
        }
        Ok(())
    }

    fn caller(&self) -> Address {
        self.caller
    }

    fn address(&self) -> Address {
        self.address
    }

    fn call_value(&self) -> Word {
        self.call_value
    }

    fn balance(&mut self, _gas: &mut GasMeter, address: &Address) -> Result<Word, HostError> {
        Ok(if *address == self.address {
            word_from_u128(self.balance)
        } else {
            [0; 32]
        })
    }

    fn transfer(
        &mut self,
        _gas: &mut GasMeter,
        _to: &Address,
        value: &Word,
    ) -> Result<bool, HostError> {
        match u128_from_word(value) {
            Some(v) if v <= self.balance => {
                self.balance -= v;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn block(&self) -> BlockInfo {
        self.block
    }

    fn emit_log(
        &mut self,
        _gas: &mut GasMeter,
        topics: &[Word],
        data: &[u8],
    ) -> Result<(), HostError> {
        self.logs.push(Log {
            topics: topics.to_vec(),
            data: data.to_vec(),
        });
        Ok(())
    }

    fn call(
        &mut self,
        _gas: &mut GasMeter,
        _request: CallRequest<'_>,
    ) -> Result<CallOutput, HostError> {
        Ok(CallOutput {
            status: CallStatus::Failure,
            output: Vec::new(),
        })
    }

    fn create(
        &mut self,
        _gas: &mut GasMeter,
        _request: CreateRequest<'_>,
    ) -> Result<CreateOutput, HostError> {
        Ok(CreateOutput {
            status: CallStatus::Failure,
            address: [0; 20],
            output: Vec::new(),
        })
    }
}
