//! Amounts of the native currency: read from the command line as a `uint256` argument is (`100`,
//! `0x64`, `1.5ether`, `10 gwei`); printed with `crate::eth::ether`.

use alloy_dyn_abi::{DynSolType, DynSolValue};
use alloy_primitives::U256;

use super::ClientError;

/// An amount in wei: a plain number is wei (decimal or `0x` hex); a number followed by a unit
/// (`wei`, `gwei`, `ether`) is scaled by it. `what` names the amount in errors.
pub fn parse_amount(what: &str, s: &str) -> Result<U256, ClientError> {
    let invalid =
        |message: &dyn std::fmt::Display| ClientError::invalid(format!("{what} `{s}`"), message);
    match DynSolType::Uint(256)
        .coerce_str(s)
        .map_err(|e| invalid(&e))?
    {
        DynSolValue::Uint(wei, _) => Ok(wei),
        // A `uint256` coerces to a `Uint` or fails.
        other => Err(invalid(&format!("read as {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_and_without_units() {
        let wei = |s| parse_amount("--value", s).map(|v| v.to_string());
        assert_eq!(wei("100").ok().as_deref(), Some("100"));
        assert_eq!(wei("0x64").ok().as_deref(), Some("100"));
        assert_eq!(wei("1.5ether").ok().as_deref(), Some("1500000000000000000"));
        assert_eq!(wei("2 gwei").ok().as_deref(), Some("2000000000"));
        let err = wei("1 parsec").unwrap_err().to_string();
        assert!(err.starts_with("--value `1 parsec` is not valid"), "{err}");
        for bad in ["-1", "", "ether", "0x", "0.5"] {
            assert!(wei(bad).is_err(), "{bad}");
        }
    }
}
