//! [`Tx`]: a transaction (or a read-only call) being set up on a [`TestChain`]: its sender,
//! value and gas limit, then what it does: call, send, deploy, transfer, view.

use std::borrow::Cow;

use alloy_primitives::{Address, U256};
use tally_runtime::exec::Status;
use tally_runtime::tx::DeployPayload;

use super::abi::{ConstructorArgs, ContractCall};
use super::chain::Action;
use super::contract::{Artifact, Contract};
use super::error::TestError;
use super::receipt::{outcome, TxReceipt};
use super::TestChain;
use crate::chain::sequencer::ChainError;
use crate::eth::from_address;

/// A transaction (or view) being set up: sender, value, gas limit.
#[must_use = "a transaction does nothing until it is sent"]
pub struct Tx<'a> {
    chain: &'a mut TestChain,
    from: Address,
    value: U256,
    gas_limit: u64,
}

impl<'a> Tx<'a> {
    pub(super) fn new(chain: &'a mut TestChain, from: Address, gas_limit: u64) -> Self {
        Tx {
            chain,
            from,
            value: U256::ZERO,
            gas_limit,
        }
    }

    /// Sends `value` with the transaction.
    pub fn value(mut self, value: U256) -> Self {
        self.value = value;
        self
    }

    /// The transaction's gas limit (the chain's default otherwise).
    pub fn gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = gas_limit;
        self
    }

    /// Calls `call` on `contract`: its decoded result, or [`TestError::CallFailed`] with the
    /// receipt (revert reason and trace) if it did not succeed.
    pub fn call<C: ContractCall>(
        self,
        contract: &Contract,
        call: C,
    ) -> Result<C::Return, TestError> {
        let receipt = self.send_encoded(contract, call.calldata(), call.signature())?;
        if !receipt.is_success() {
            return Err(TestError::CallFailed(Box::new(receipt)));
        }
        call.decode_return(receipt.output())
    }

    /// Sends `call` to `contract`; its receipt, whatever the outcome.
    pub fn send<C: ContractCall>(
        self,
        contract: &Contract,
        call: C,
    ) -> Result<TxReceipt, TestError> {
        self.send_encoded(contract, call.calldata(), call.signature())
    }

    fn send_encoded(
        self,
        contract: &Contract,
        data: Vec<u8>,
        function: Cow<'static, str>,
    ) -> Result<TxReceipt, TestError> {
        self.chain.learn(&data[..data.len().min(4)], &function);
        let action = Action {
            to: Some(contract.address()),
            value: self.value,
            data,
            function,
            contract: Some(contract.name()),
            code_size: 0,
        };
        self.chain.execute(self.from, self.gas_limit, action)
    }

    /// Sends raw calldata to `to` (not recorded in the gas report).
    pub fn send_raw(self, to: Address, data: Vec<u8>) -> Result<TxReceipt, TestError> {
        let action = Action {
            to: Some(to),
            value: self.value,
            data,
            function: Cow::Borrowed("(raw)"),
            contract: None,
            code_size: 0,
        };
        self.chain.execute(self.from, self.gas_limit, action)
    }

    /// Sends the value to `to` with no calldata.
    pub fn transfer(self, to: Address) -> Result<TxReceipt, TestError> {
        let action = Action {
            to: Some(to),
            value: self.value,
            data: Vec::new(),
            function: Cow::Borrowed(""),
            contract: None,
            code_size: 0,
        };
        self.chain.execute(self.from, self.gas_limit, action)
    }

    /// Deploys `artifact` with constructor arguments `args`; the contract, or
    /// [`TestError::CallFailed`] if the creation did not succeed.
    pub fn deploy(
        self,
        artifact: &Artifact,
        args: impl ConstructorArgs,
    ) -> Result<Contract, TestError> {
        let receipt = self.deploy_receipt(artifact, args)?;
        match receipt.contract_address() {
            Some(created) => Ok(Contract::new(created, artifact.name())),
            None => Err(TestError::CallFailed(Box::new(receipt))),
        }
    }

    /// Deploys `artifact` with constructor arguments `args`; the receipt, whatever the outcome.
    pub fn deploy_receipt(
        self,
        artifact: &Artifact,
        args: impl ConstructorArgs,
    ) -> Result<TxReceipt, TestError> {
        let input = args.encode_args();
        let action = Action {
            to: None,
            value: self.value,
            data: DeployPayload::encode(artifact.code(), &input),
            function: Cow::Owned(artifact.name().to_string()),
            contract: Some(artifact.name()),
            code_size: artifact.code().len(),
        };
        let chain = self.chain;
        let receipt = chain.execute(self.from, self.gas_limit, action)?;
        if let Some(created) = receipt.contract_address() {
            let label = chain.unique_label(artifact.name());
            chain.label(created, &label);
        }
        Ok(receipt)
    }

    /// Runs `call` on `contract` read-only: no transaction, no fee, nothing kept; in the block
    /// the next transaction goes into, from the sender with the gas limit set (a view carries
    /// no value).
    pub fn view<C: ContractCall>(
        self,
        contract: &Contract,
        call: C,
    ) -> Result<C::Return, TestError> {
        let data = call.calldata();
        let function = call.signature();
        self.chain.learn(&data[..data.len().min(4)], &function);
        let env = self.chain.chain.pending_block().env;
        let result = self
            .chain
            .chain
            .runtime()
            .view(
                &env,
                from_address(self.from),
                from_address(contract.address()),
                &data,
                self.gas_limit,
            )
            .map_err(|e| ChainError::Execution(e.to_string()))?;
        if result.status != Status::Success {
            let mut outcome = outcome(&result.status, &result.output);
            if let Some(trace) = &result.trace {
                outcome.push_str("\n  trace:");
                for line in self.chain.labels.render_trace(trace).lines() {
                    outcome.push_str("\n    ");
                    outcome.push_str(line);
                }
            }
            return Err(TestError::ViewFailed {
                contract: self.chain.labels.name_or_address(contract.address()),
                function: function.into_owned(),
                outcome,
            });
        }
        call.decode_return(&result.output)
    }
}
