//! Transactions as the runtime sees them (the sender already known), the block they run in,
//! their validation against state ([`TxError`]), intrinsic gas and the EIP-1559 effective gas
//! price. Deploy payloads ([`DeployPayload`]) carry the code and the constructor input.

use alloy_rlp::{Buf, Header};
use primitive_types::{H160, U256};
use thiserror::Error;

use crate::costs::RuntimeCosts;

/// An EIP-1559-shaped transaction, without its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub chain_id: u64,
    pub nonce: u64,
    pub max_priority_fee_per_gas: U256,
    pub max_fee_per_gas: U256,
    pub gas_limit: u64,
    /// The callee, or `None` to create a contract from `data` (a [`DeployPayload`]).
    pub to: Option<H160>,
    pub value: U256,
    pub data: Vec<u8>,
}

/// The block a transaction executes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    pub number: u64,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    pub chain_id: u64,
    pub gas_limit: u64,
    pub base_fee: U256,
    /// Receives the priority fees.
    pub producer: H160,
}

/// Why a transaction cannot be executed. An invalid transaction changes nothing (no fee, no
/// nonce), unlike a transaction that executes and fails.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TxError {
    #[error("wrong chain id: transaction is for {got}, this chain is {expected}")]
    WrongChainId { expected: u64, got: u64 },
    #[error("nonce too low: account nonce is {expected}, transaction has {got}")]
    NonceTooLow { expected: u64, got: u64 },
    #[error("nonce too high: account nonce is {expected}, transaction has {got}")]
    NonceTooHigh { expected: u64, got: u64 },
    #[error("the sender's nonce cannot be incremented past {0}")]
    NonceOverflow(u64),
    #[error("gas limit {limit} is below the intrinsic gas {intrinsic}")]
    IntrinsicGasTooLow { limit: u64, intrinsic: u64 },
    #[error("gas limit {limit} is above the block gas limit {block_limit}")]
    GasLimitAboveBlockLimit { limit: u64, block_limit: u64 },
    #[error("gas limit {limit} exceeds the gas left in the block ({available})")]
    BlockGasExhausted { limit: u64, available: u64 },
    #[error("max fee per gas {max_fee} is below the base fee {base_fee}")]
    MaxFeeBelowBaseFee { max_fee: U256, base_fee: U256 },
    #[error("max priority fee per gas {priority_fee} is above the max fee per gas {max_fee}")]
    PriorityFeeAboveMaxFee { priority_fee: U256, max_fee: U256 },
    #[error("insufficient funds: balance {balance}, gas_limit * max_fee + value = {cost}")]
    InsufficientFunds { balance: U256, cost: U256 },
    #[error("malformed deploy payload: {0}")]
    MalformedDeploy(&'static str),
}

/// Code and constructor input of a contract creation. In transaction data it is either the
/// raw wasm module (no constructor input) or `rlp([code, input])`; the two cannot be confused
/// because a module starts with `\0asm` and an RLP list with a byte >= 0xc0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployPayload<'a> {
    pub code: &'a [u8],
    pub input: &'a [u8],
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";

impl<'a> DeployPayload<'a> {
    /// Splits transaction data into code and constructor input.
    pub fn decode(data: &'a [u8]) -> Result<Self, TxError> {
        if data.starts_with(WASM_MAGIC) {
            return Ok(DeployPayload {
                code: data,
                input: &[],
            });
        }
        let mut rest = data;
        let header = Header::decode(&mut rest).map_err(|_| TxError::MalformedDeploy("not RLP"))?;
        if !header.list || header.payload_length != rest.len() {
            return Err(TxError::MalformedDeploy(
                "neither a wasm module nor one RLP list [code, input]",
            ));
        }
        let code = rlp_string(&mut rest)?;
        let input = rlp_string(&mut rest)?;
        if !rest.is_empty() {
            return Err(TxError::MalformedDeploy("extra fields after [code, input]"));
        }
        Ok(DeployPayload { code, input })
    }

    /// Transaction data for deploying `code` with constructor `input`.
    pub fn encode(code: &[u8], input: &[u8]) -> Vec<u8> {
        if input.is_empty() && code.starts_with(WASM_MAGIC) {
            return code.to_vec();
        }
        crate::rlp::encode_list(&[code, input])
    }
}

fn rlp_string<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], TxError> {
    let header = Header::decode(rest).map_err(|_| TxError::MalformedDeploy("bad RLP field"))?;
    if header.list || header.payload_length > rest.len() {
        return Err(TxError::MalformedDeploy(
            "code and input must be byte strings",
        ));
    }
    let value = &rest[..header.payload_length];
    rest.advance(header.payload_length);
    Ok(value)
}

impl Transaction {
    /// Gas charged before execution: per transaction, per data byte, and for a creation the
    /// creation cost plus the per-byte cost of the code.
    pub fn intrinsic_gas(&self, costs: &RuntimeCosts) -> Result<u64, TxError> {
        let mut gas = costs.transaction.saturating_add(costs.calldata(&self.data));
        if self.to.is_none() {
            let payload = DeployPayload::decode(&self.data)?;
            gas = gas
                .saturating_add(costs.create)
                .saturating_add(costs.code(payload.code.len()));
        }
        Ok(gas)
    }

    /// The price per gas actually paid: `base_fee + min(priority fee, max fee - base_fee)`.
    /// Only meaningful once [`Transaction::check_fees`] passed.
    pub fn effective_gas_price(&self, base_fee: U256) -> U256 {
        let headroom = self.max_fee_per_gas.saturating_sub(base_fee);
        base_fee + self.max_priority_fee_per_gas.min(headroom)
    }

    /// Checks the fee fields against the block's base fee.
    pub fn check_fees(&self, base_fee: U256) -> Result<(), TxError> {
        if self.max_priority_fee_per_gas > self.max_fee_per_gas {
            return Err(TxError::PriorityFeeAboveMaxFee {
                priority_fee: self.max_priority_fee_per_gas,
                max_fee: self.max_fee_per_gas,
            });
        }
        if self.max_fee_per_gas < base_fee {
            return Err(TxError::MaxFeeBelowBaseFee {
                max_fee: self.max_fee_per_gas,
                base_fee,
            });
        }
        Ok(())
    }

    /// The most the sender can be charged, `gas_limit * max_fee + value`, or `None` if it does
    /// not fit 256 bits (then no balance can pay it).
    pub fn max_cost(&self) -> Option<U256> {
        U256::from(self.gas_limit)
            .checked_mul(self.max_fee_per_gas)?
            .checked_add(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_payloads_roundtrip() {
        let code = b"\0asm\x01\0\0\0".to_vec();
        assert_eq!(DeployPayload::encode(&code, &[]), code);
        let plain = DeployPayload::decode(&code).unwrap();
        assert_eq!((plain.code, plain.input), (&code[..], &[][..]));
        let with_input = DeployPayload::encode(&code, &[1, 2, 3]);
        assert_eq!(with_input[0], 0xc0 + 9 + 4);
        let decoded = DeployPayload::decode(&with_input).unwrap();
        assert_eq!((decoded.code, decoded.input), (&code[..], &[1u8, 2, 3][..]));
    }

    #[test]
    fn malformed_deploy_payloads_are_errors() {
        for bad in [
            &[][..],
            &[0x01, 0x02],
            &[0xc1, 0x80],
            &[0xc3, 0x80, 0x80, 0x80],
            &[0xc2, 0xc0, 0x80],
            &[0xc4, 0x80, 0x83, 0x01],
        ] {
            assert!(
                matches!(DeployPayload::decode(bad), Err(TxError::MalformedDeploy(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn effective_price_is_capped_by_max_fee() {
        let tx = |priority: u64, max: u64| Transaction {
            chain_id: 1,
            nonce: 0,
            max_priority_fee_per_gas: priority.into(),
            max_fee_per_gas: max.into(),
            gas_limit: 21_000,
            to: Some(H160::zero()),
            value: U256::zero(),
            data: vec![],
        };
        assert_eq!(tx(2, 100).effective_gas_price(10.into()), 12.into());
        assert_eq!(tx(50, 30).effective_gas_price(10.into()), 30.into());
        assert_eq!(tx(0, 10).effective_gas_price(10.into()), 10.into());
    }
}
