//! [`TestChain`]: a chain in memory for tests, driven with Rust values. Transactions go
//! through the chain's own code path ([`Chain::execute`]: the same validation, execution and
//! block building as mining), executed at once into the open block so each call returns its
//! receipt; blocks are sealed when something needs one (see [`TestChain::mine`]).
//!
//! Every transaction is sent as its sender without a key (impersonated), so a test can act as
//! any address. Calls pay fees at the block's base fee with no tip.

use std::borrow::Cow;
use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use tally_runtime::tx::Transaction;

use super::abi::{ConstructorArgs, ContractCall};
use super::contract::{Artifact, Contract};
use super::error::TestError;
use super::gas_report::GasReport;
use super::labels::Labels;
use super::receipt::{describe, TxReceipt};
use super::tx::Tx;
use super::TestChainBuilder;
use crate::chain::sequencer::{Chain, ChainError, SubmitError};
use crate::chain::tx::SignedTransaction;
use crate::eth::{b256, from_address, from_b256, from_u256, u256};

/// A chain in memory with funded accounts, for tests.
pub struct TestChain {
    pub(super) chain: Chain,
    pub(super) accounts: Vec<Address>,
    pub(super) sender: Address,
    pub(super) labels: Arc<Labels>,
    pub(super) gas: GasReport,
    pub(super) gas_limit: u64,
    /// Seal a block after every transaction.
    pub(super) block_per_transaction: bool,
}

/// What a transaction does, for its receipt and the gas report.
pub(super) struct Action<'a> {
    pub(super) to: Option<Address>,
    pub(super) value: U256,
    pub(super) data: Vec<u8>,
    /// The function's signature, or the contract's name for a creation.
    pub(super) function: Cow<'static, str>,
    /// The contract's name in the gas report (none for a plain transfer).
    pub(super) contract: Option<&'a str>,
    /// For a creation, the code's size.
    pub(super) code_size: usize,
}

impl TestChain {
    /// A chain with the ten dev accounts funded (anvil's), tracing on, one-second blocks.
    pub fn new() -> Result<Self, TestError> {
        TestChainBuilder::new().build()
    }

    /// A builder for another genesis, gas limit, base fee, time or runtime configuration.
    pub fn builder() -> TestChainBuilder {
        TestChainBuilder::new()
    }

    /// The funded dev accounts, in the order of their keys (anvil's order).
    pub fn accounts(&self) -> &[Address] {
        &self.accounts
    }

    /// Who sends transactions when no sender is given (the first account at first).
    pub fn sender(&self) -> Address {
        self.sender
    }

    /// Sends the following transactions as `sender` (any address: no key is needed), until
    /// changed again.
    pub fn set_sender(&mut self, sender: Address) {
        self.sender = sender;
    }

    /// A transaction from `sender` (any address: no key is needed).
    pub fn from(&mut self, sender: Address) -> Tx<'_> {
        let gas_limit = self.gas_limit;
        Tx::new(self, sender, gas_limit)
    }

    /// A transaction from the default sender.
    pub fn tx(&mut self) -> Tx<'_> {
        let sender = self.sender;
        self.from(sender)
    }

    /// Names `address` in traces and failure messages.
    pub fn label(&mut self, address: Address, name: &str) {
        Arc::make_mut(&mut self.labels).name(address, name);
    }

    /// Learns function signatures, to name them in traces (the functions called through the
    /// harness are learnt as they are called): e.g. `IToken::ITokenCalls::SIGNATURES` of a
    /// `sol!` interface.
    pub fn learn_signatures(&mut self, signatures: &[&str]) {
        let labels = Arc::make_mut(&mut self.labels);
        for signature in signatures {
            labels.function(signature);
        }
    }

    /// The contract at `address` (e.g. one that another contract created), named `name` in
    /// gas reports and traces.
    pub fn at(&mut self, address: Address, name: &str) -> Contract {
        self.label(address, name);
        Contract::new(address, name)
    }

    /// Deploys `artifact` from the default sender with constructor arguments `args` (a tuple
    /// of Rust values, `()` for none: see [`ConstructorArgs`]).
    pub fn deploy(
        &mut self,
        artifact: &Artifact,
        args: impl ConstructorArgs,
    ) -> Result<Contract, TestError> {
        self.tx().deploy(artifact, args)
    }

    /// Calls `call` on `contract` in a transaction from the default sender; its decoded result,
    /// or [`TestError::CallFailed`] with the receipt (reason and trace) if it did not succeed.
    pub fn call<C: ContractCall>(
        &mut self,
        contract: &Contract,
        call: C,
    ) -> Result<C::Return, TestError> {
        self.tx().call(contract, call)
    }

    /// Sends `call` to `contract` from the default sender; its receipt, whatever the outcome.
    pub fn send<C: ContractCall>(
        &mut self,
        contract: &Contract,
        call: C,
    ) -> Result<TxReceipt, TestError> {
        self.tx().send(contract, call)
    }

    /// Runs `call` on `contract` read-only (no transaction, nothing kept) from the default
    /// sender, in the block the next transaction goes into.
    pub fn view<C: ContractCall>(
        &mut self,
        contract: &Contract,
        call: C,
    ) -> Result<C::Return, TestError> {
        self.tx().view(contract, call)
    }

    /// Sends `value` from the default sender to `to`.
    pub fn transfer(&mut self, to: Address, value: U256) -> Result<TxReceipt, TestError> {
        self.tx().value(value).transfer(to)
    }

    /// The balance of `account`.
    pub fn balance(&mut self, account: Address) -> Result<U256, TestError> {
        let state = self.chain.runtime().state_mut();
        Ok(u256(
            state
                .balance(&from_address(account))
                .map_err(ChainError::from)?,
        ))
    }

    /// The nonce of `account`.
    pub fn nonce(&mut self, account: Address) -> Result<u64, TestError> {
        let state = self.chain.runtime().state_mut();
        Ok(state
            .nonce(&from_address(account))
            .map_err(ChainError::from)?)
    }

    /// A storage slot of `contract`.
    pub fn storage(&mut self, contract: Address, slot: B256) -> Result<B256, TestError> {
        let state = self.chain.runtime().state_mut();
        let value = state
            .storage(&from_address(contract), &from_b256(slot))
            .map_err(ChainError::from)?;
        Ok(b256(value))
    }

    /// The code of `contract` (empty for an account without code).
    pub fn code(&mut self, contract: Address) -> Result<Vec<u8>, TestError> {
        let state = self.chain.runtime().state_mut();
        Ok(state
            .code(&from_address(contract))
            .map_err(ChainError::from)?
            .to_vec())
    }

    /// The number of the block the next transaction goes into.
    pub fn block_number(&self) -> u64 {
        self.chain.pending_block().env.number
    }

    /// The timestamp of the block the next transaction goes into.
    pub fn timestamp(&self) -> u64 {
        self.chain.pending_block().env.timestamp
    }

    /// The base fee of the block the next transaction goes into.
    pub fn base_fee(&self) -> U256 {
        u256(self.chain.pending_block().env.base_fee)
    }

    /// Seals the open block (with any pooled transaction), or mines an empty one; returns
    /// its hash.
    pub fn mine(&mut self) -> Result<B256, TestError> {
        Ok(b256(self.chain.mine()?.header.hash()))
    }

    /// Seals the open block, if any, and returns the state root of the head: everything
    /// executed so far.
    pub fn state_root(&mut self) -> Result<B256, TestError> {
        self.chain.seal()?;
        Ok(b256(self.chain.head().state_root))
    }

    /// The gas this chain's transactions used so far, per contract and function.
    pub fn gas_report(&self) -> &GasReport {
        &self.gas
    }

    /// The chain itself, for what the harness does not wrap.
    pub fn chain(&mut self) -> &mut Chain {
        &mut self.chain
    }

    /// Executes `action` from `from`, into the open block (sealing it first if the
    /// transaction does not fit).
    pub(super) fn execute(
        &mut self,
        from: Address,
        gas_limit: u64,
        action: Action<'_>,
    ) -> Result<TxReceipt, TestError> {
        let sender = from_address(from);
        let pending = self.chain.block_for(gas_limit)?;
        let nonce = self
            .chain
            .runtime()
            .state_mut()
            .nonce(&sender)
            .map_err(ChainError::from)?;
        let tx = Transaction {
            chain_id: self.chain.chain_id(),
            nonce,
            max_priority_fee_per_gas: 0.into(),
            max_fee_per_gas: pending.env.base_fee,
            gas_limit,
            to: action.to.map(from_address),
            value: from_u256(action.value),
            data: action.data,
        };
        let signed = SignedTransaction::impersonated(tx, sender);
        let hash = b256(signed.hash());
        let receipt = match self.chain.execute(signed) {
            Ok(receipt) => receipt,
            Err(SubmitError::Chain(e)) => return Err(e.into()),
            Err(reason) => {
                let what = describe(&self.labels, action.to, &action.function);
                let from = self.labels.name_or_address(from);
                return Err(TestError::Rejected {
                    what: format!("{what} from {from}"),
                    reason,
                });
            }
        };
        if let Some(contract) = action.contract {
            match action.to {
                Some(_) => self
                    .gas
                    .record_call(contract, &action.function, receipt.gas_used),
                None => self
                    .gas
                    .record_deployment(contract, action.code_size, receipt.gas_used),
            }
        }
        if self.block_per_transaction {
            self.chain.seal()?;
        }
        Ok(TxReceipt {
            hash,
            block_number: pending.env.number,
            from,
            to: action.to,
            function: action.function,
            gas_limit,
            inner: receipt,
            labels: self.labels.clone(),
        })
    }

    /// Learns `signature` for traces, if new.
    pub(super) fn learn(&mut self, selector: &[u8], signature: &str) {
        if !self.labels.knows_function(selector) {
            Arc::make_mut(&mut self.labels).function(signature);
        }
    }

    /// A name for a new contract called `name`: `name`, or `name#2`, `name#3`... when taken.
    pub(super) fn unique_label(&self, name: &str) -> String {
        let mut label = name.to_string();
        let mut n = 1;
        while self.labels.is_used(&label) {
            n += 1;
            label = format!("{name}#{n}");
        }
        label
    }
}

impl Drop for TestChain {
    fn drop(&mut self) {
        self.gas.submit();
    }
}
