//! Solidity signatures as users write them for `cast` (`"transfer(address,uint256)"`,
//! `"balanceOf(address)(uint256)"`, `"Transfer(address indexed,address indexed,uint256)"`),
//! command-line arguments coerced to their parameter types, and decoded values printed as text
//! or JSON.

use alloy_dyn_abi::{DynSolType, DynSolValue, EventExt, FunctionExt, JsonAbiExt, Specifier};
use alloy_json_abi::{Constructor, Event, Function, Param};
use alloy_primitives::hex;
use alloy_rpc_types_eth::Log;
use serde_json::Value;

use super::ClientError;

fn bad_signature(signature: &str, message: impl std::fmt::Display) -> ClientError {
    ClientError::Signature {
        signature: signature.to_string(),
        message: message.to_string(),
    }
}

/// The parameters' types; an error names the first type that is not a Solidity type.
fn resolve(signature: &str, params: &[Param]) -> Result<Vec<DynSolType>, ClientError> {
    params
        .iter()
        .map(|p| p.resolve().map_err(|e| bad_signature(signature, e)))
        .collect()
}

/// A function signature, with return types in cast's form (`"name(args)(returns)"`) or
/// Solidity's (`"function name(args) returns (returns)"`).
pub fn parse_function(signature: &str) -> Result<Function, ClientError> {
    let function = Function::parse(signature).map_err(|e| bad_signature(signature, e))?;
    resolve(signature, &function.inputs)?;
    resolve(signature, &function.outputs)?;
    Ok(function)
}

/// A constructor signature: `"constructor(string,uint8)"` or just `"(string,uint8)"`.
pub fn parse_constructor(signature: &str) -> Result<Constructor, ClientError> {
    let full = if signature.trim_start().starts_with('(') {
        format!("constructor{signature}")
    } else {
        signature.to_string()
    };
    let constructor = Constructor::parse(&full).map_err(|e| bad_signature(signature, e))?;
    resolve(signature, &constructor.inputs)?;
    Ok(constructor)
}

/// An event signature, indexed parameters marked: `"Transfer(address indexed,address indexed,
/// uint256)"`.
pub fn parse_event(signature: &str) -> Result<Event, ClientError> {
    let event = Event::parse(signature).map_err(|e| bad_signature(signature, e))?;
    // Checks the types and the number of topics.
    event.resolve().map_err(|e| bad_signature(signature, e))?;
    if event.anonymous {
        return Err(bad_signature(
            signature,
            "anonymous events are not supported",
        ));
    }
    Ok(event)
}

/// `args` coerced to the types of `params` (numbers in decimal, hex or with units such as
/// `1ether`; addresses, booleans, strings, hex bytes, `[..]` arrays, `(..)` tuples).
pub fn coerce_args(
    signature: &str,
    params: &[Param],
    args: &[String],
) -> Result<Vec<DynSolValue>, ClientError> {
    if params.len() != args.len() {
        return Err(ClientError::ArgumentCount {
            signature: signature.to_string(),
            expected: params.len(),
            given: args.len(),
        });
    }
    let types = resolve(signature, params)?;
    types
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (ty, arg))| {
            ty.coerce_str(arg).map_err(|e| ClientError::Argument {
                position: i + 1,
                ty: ty.sol_type_name().into_owned(),
                value: arg.clone(),
                message: e.to_string(),
            })
        })
        .collect()
}

/// Calldata of `function` with `args`: selector and ABI-encoded arguments.
pub fn encode_call(function: &Function, args: &[String]) -> Result<Vec<u8>, ClientError> {
    let signature = function.signature();
    let values = coerce_args(&signature, &function.inputs, args)?;
    function
        .abi_encode_input(&values)
        .map_err(|e| bad_signature(&signature, e))
}

/// Calldata from the command line: `signature` with `args`, or `signature` itself when it is
/// hex (`0x...`, raw calldata, no arguments). The function is returned when there is one.
pub fn calldata(
    signature: &str,
    args: &[String],
) -> Result<(Option<Function>, Vec<u8>), ClientError> {
    if let Some(raw) = signature.strip_prefix("0x") {
        if !args.is_empty() {
            return Err(ClientError::invalid(
                "raw calldata",
                "it takes no arguments (give a signature to encode arguments)",
            ));
        }
        let data = hex::decode(raw).map_err(|e| ClientError::invalid("raw calldata", e))?;
        return Ok((None, data));
    }
    let function = parse_function(signature)?;
    let data = encode_call(&function, args)?;
    Ok((Some(function), data))
}

/// Constructor input: the ABI-encoded arguments, without a selector.
pub fn encode_constructor(
    signature: &str,
    constructor: &Constructor,
    args: &[String],
) -> Result<Vec<u8>, ClientError> {
    let values = coerce_args(signature, &constructor.inputs, args)?;
    constructor
        .abi_encode_input(&values)
        .map_err(|e| bad_signature(signature, e))
}

/// `function`'s return data decoded with its return types.
pub fn decode_output(function: &Function, data: &[u8]) -> Result<Vec<DynSolValue>, ClientError> {
    function
        .abi_decode_output(data)
        .map_err(|e| ClientError::Decode {
            what: format!(
                "the return data {} as {}",
                hex::encode_prefixed(data),
                function.signature_with_outputs()
            ),
            message: e.to_string(),
        })
}

/// A log decoded as `event`: each parameter's name (empty if the signature has none) with its
/// value, in declaration order; `None` if the log is not one of these events.
pub fn decode_log(event: &Event, log: &Log) -> Option<Vec<(String, DynSolValue)>> {
    let decoded = event
        .decode_log_parts(log.topics().iter().copied(), &log.data().data)
        .ok()?;
    let mut indexed = decoded.indexed.into_iter();
    let mut body = decoded.body.into_iter();
    event
        .inputs
        .iter()
        .map(|p| {
            let value = if p.indexed {
                indexed.next()
            } else {
                body.next()
            };
            value.map(|v| (p.name.clone(), v))
        })
        .collect()
}

/// A value as cast prints it: numbers in decimal, addresses checksummed, strings quoted,
/// bytes in hex, `[..]` arrays and `(..)` tuples.
pub fn format_value(value: &DynSolValue) -> String {
    let list = |items: &[DynSolValue]| {
        items
            .iter()
            .map(format_value)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => format!("[{}]", list(items)),
        DynSolValue::Tuple(items) => format!("({})", list(items)),
        bytes => bytes_hex(bytes),
    }
}

/// A value as JSON: numbers as decimal strings (they may exceed what JSON numbers hold),
/// booleans, strings, hex for addresses and bytes, arrays for arrays and tuples.
pub fn value_json(value: &DynSolValue) -> Value {
    match value {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            Value::Array(items.iter().map(value_json).collect())
        }
        DynSolValue::Int(..) | DynSolValue::Uint(..) | DynSolValue::Address(_) => {
            Value::String(format_value(value))
        }
        bytes => Value::String(bytes_hex(bytes)),
    }
}

/// The bytes-like values in hex: `bytes`, `bytesN` and function pointers.
fn bytes_hex(value: &DynSolValue) -> String {
    match value {
        DynSolValue::FixedBytes(word, size) => hex::encode_prefixed(&word[..*size]),
        DynSolValue::Function(f) => hex::encode_prefixed(f.as_slice()),
        DynSolValue::Bytes(b) => hex::encode_prefixed(b),
        other => format!("{other:?}"),
    }
}

/// A decoded event as text: `Transfer(from: 0x.., to: 0x.., value: 100)` (names left out
/// where the signature has none).
pub fn format_event(name: &str, fields: &[(String, DynSolValue)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(n, v)| match n.as_str() {
            "" => format_value(v),
            n => format!("{n}: {}", format_value(v)),
        })
        .collect();
    format!("{name}({})", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_cast_prints_them() {
        let function = parse_function("f()(uint256,address,string,bytes2,bool[],(int8,bytes))")
            .expect("valid signature");
        let types = resolve("f", &function.outputs).expect("valid types");
        let values: Vec<DynSolValue> = [
            "1000",
            "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "hi \"there\"",
            "0xabcd",
            "[true,false]",
            "(-5, 0x01)",
        ]
        .iter()
        .zip(&types)
        .map(|(s, t)| t.coerce_str(s).expect("coerces"))
        .collect();
        let text: Vec<String> = values.iter().map(format_value).collect();
        assert_eq!(
            text,
            [
                "1000",
                "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "\"hi \\\"there\\\"\"",
                "0xabcd",
                "[true, false]",
                "(-5, 0x01)"
            ]
        );
        let json: Vec<Value> = values.iter().map(value_json).collect();
        assert_eq!(
            Value::Array(json),
            serde_json::json!([
                "1000",
                "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "hi \"there\"",
                "0xabcd",
                [true, false],
                ["-5", "0x01"]
            ])
        );
    }

    #[test]
    fn bad_signatures_and_arguments_are_reported() {
        let err = parse_function("transfer(address,uint256").unwrap_err();
        assert!(matches!(err, ClientError::Signature { .. }), "{err}");
        let err = parse_function("f(uint7)").unwrap_err();
        assert!(
            err.to_string().starts_with("bad signature `f(uint7)`"),
            "{err}"
        );
        let err = parse_constructor("(string,uint8)").map(|c| c.inputs.len());
        assert_eq!(err.ok(), Some(2));
        let f = parse_function("transfer(address,uint256)").expect("valid");
        let err = encode_call(&f, &["0x01".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "transfer(address,uint256) takes 2 arguments, 1 given"
        );
        let args = [
            "0x5fbdb2315678afecb367f032d93f642f64180aa3".into(),
            "ten".into(),
        ];
        let err = encode_call(&f, &args).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("argument 2 (uint256): cannot read `ten`"),
            "{err}"
        );
        let err = parse_event("Transfer(address indexed,address indexed,uint256) anonymous");
        assert!(err.is_err());
    }
}
