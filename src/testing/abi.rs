//! Solidity-ABI calls from Rust values: [`ContractCall`], implemented by every call struct
//! `sol!` generates (typed arguments and typed results) and by [`SigCall`], a call built at run
//! time from a signature string such as `"transfer(address,uint256)(bool)"` (arguments and
//! results as `DynSolValue`s, or arguments parsed from strings as `cast` does).

use std::borrow::Cow;

use alloy_dyn_abi::{DynSolValue, JsonAbiExt};
use alloy_json_abi::Function;
use alloy_sol_types::abi::TokenSeq;
use alloy_sol_types::{SolCall, SolType, SolValue};

use super::error::TestError;
use crate::cli::client::abi::{decode_output, encode_call, parse_function};

/// A contract function call: its calldata, and how to decode what it returns.
pub trait ContractCall {
    /// The decoded return value.
    type Return;

    /// The canonical signature, e.g. `transfer(address,uint256)` (gas reports, traces).
    fn signature(&self) -> Cow<'static, str>;

    /// The calldata: selector and ABI-encoded arguments.
    fn calldata(&self) -> Vec<u8>;

    /// Decodes the return data of a successful call.
    fn decode_return(&self, data: &[u8]) -> Result<Self::Return, TestError>;
}

impl<C: SolCall> ContractCall for C {
    type Return = C::Return;

    fn signature(&self) -> Cow<'static, str> {
        Cow::Borrowed(C::SIGNATURE)
    }

    fn calldata(&self) -> Vec<u8> {
        self.abi_encode()
    }

    fn decode_return(&self, data: &[u8]) -> Result<C::Return, TestError> {
        // Validating: return data that is not the canonical encoding is a contract bug.
        C::abi_decode_returns_validate(data).map_err(|e| TestError::Decode {
            what: C::SIGNATURE.to_string(),
            reason: e.to_string(),
        })
    }
}

/// Constructor arguments: a tuple of Rust values (`()` for none, `(token, 10u64)`, `(name,)`),
/// ABI-encoded as parameters; or [`RawArgs`].
pub trait ConstructorArgs {
    /// The constructor input.
    fn encode_args(&self) -> Vec<u8>;
}

impl<T> ConstructorArgs for T
where
    T: SolValue,
    for<'a> <T::SolType as SolType>::Token<'a>: TokenSeq<'a>,
{
    fn encode_args(&self) -> Vec<u8> {
        self.abi_encode_params()
    }
}

/// Constructor input given as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawArgs(pub Vec<u8>);

impl ConstructorArgs for RawArgs {
    fn encode_args(&self) -> Vec<u8> {
        self.0.clone()
    }
}

/// A call described by a signature string, as `cast` takes them: `name(inputs)`,
/// `name(inputs)(outputs)` or Solidity's `function name(inputs) returns (outputs)`, e.g.
/// `"balanceOf(address)(uint256)"`. Without outputs, [`ContractCall::decode_return`] gives an
/// empty list whatever the return data.
#[derive(Clone, Debug, PartialEq)]
pub struct SigCall {
    function: Function,
    calldata: Vec<u8>,
}

impl SigCall {
    /// A call of `signature` with `args`, which must match its input types.
    pub fn new(signature: &str, args: &[DynSolValue]) -> Result<Self, TestError> {
        let function = parse_function(signature).map_err(|e| bad_signature(signature, e))?;
        let calldata = function
            .abi_encode_input(args)
            .map_err(|e| bad_signature(signature, e))?;
        Ok(SigCall { function, calldata })
    }

    /// A call of `signature` with arguments written as `cast` takes them (`"0x5fbd..."` for
    /// an address, `"1000"` or `"1ether"` for a number, `"true"`, `"hello"`...).
    pub fn parse(signature: &str, args: &[&str]) -> Result<Self, TestError> {
        let function = parse_function(signature).map_err(|e| bad_signature(signature, e))?;
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let calldata = encode_call(&function, &args).map_err(|e| bad_signature(signature, e))?;
        Ok(SigCall { function, calldata })
    }
}

impl ContractCall for SigCall {
    type Return = Vec<DynSolValue>;

    fn signature(&self) -> Cow<'static, str> {
        Cow::Owned(self.function.signature())
    }

    fn calldata(&self) -> Vec<u8> {
        self.calldata.clone()
    }

    fn decode_return(&self, data: &[u8]) -> Result<Vec<DynSolValue>, TestError> {
        decode_output(&self.function, data).map_err(|e| TestError::Decode {
            what: self.function.signature(),
            reason: e.to_string(),
        })
    }
}

fn bad_signature(signature: &str, reason: impl std::fmt::Display) -> TestError {
    TestError::Signature {
        signature: signature.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};

    alloy_sol_types::sol! {
        function transfer(address to, uint256 value) external returns (bool);
    }

    #[test]
    fn signature_calls_encode_like_sol_calls() {
        let to = Address::repeat_byte(0xb0);
        let typed = transferCall {
            to,
            value: U256::from(300),
        };
        let dynamic = SigCall::new(
            "transfer(address,uint)(bool)",
            &[
                DynSolValue::Address(to),
                DynSolValue::Uint(U256::from(300), 256),
            ],
        )
        .unwrap();
        assert_eq!(dynamic.calldata(), typed.calldata());
        assert_eq!(dynamic.signature(), "transfer(address,uint256)");
        let parsed = SigCall::parse(
            "transfer(address,uint256)(bool)",
            &["0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", "300"],
        )
        .unwrap();
        assert_eq!(parsed.calldata(), dynamic.calldata());
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(
            dynamic.decode_return(&one).unwrap(),
            vec![DynSolValue::Bool(true)]
        );
        assert!(typed.decode_return(&one).unwrap());
    }

    #[test]
    fn bad_signatures_and_arguments_are_errors() {
        for (signature, args) in [
            ("transfer", &[][..]),
            ("transfer(address", &[]),
            ("(address)", &[]),
            ("transfer(address)", &[]),
            ("transfer(address)", &["12"]),
            ("transfer(uint8)", &["300"]),
            ("transfer(foo)", &["1"]),
        ] {
            let err = SigCall::parse(signature, args).unwrap_err();
            assert!(
                matches!(err, TestError::Signature { .. }),
                "{signature}: {err}"
            );
        }
        let err = SigCall::new("f(bool)", &[DynSolValue::Uint(U256::ZERO, 8)]).unwrap_err();
        assert!(matches!(err, TestError::Signature { .. }), "{err}");
    }

    #[test]
    fn malformed_return_data_is_a_decode_error() {
        let call = transferCall {
            to: Address::ZERO,
            value: U256::ZERO,
        };
        let mut two = [0u8; 32];
        two[31] = 2;
        assert!(matches!(
            call.decode_return(&two),
            Err(TestError::Decode { .. })
        ));
        let sig = SigCall::parse("f()(uint256,bool)", &[]).unwrap();
        assert!(matches!(
            sig.decode_return(&[0; 40]),
            Err(TestError::Decode { .. })
        ));
    }
}
