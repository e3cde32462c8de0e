//! `tally trace`: a mined transaction's call tree (`tally_traceTransaction`), one line per
//! call, indented by depth. A result of another shape than the call frame below is printed as
//! the node sent it; `--json` always prints it so.

use std::process::ExitCode;

use alloy_primitives::{Address, Bytes, B256, U256};
use clap::Args;
use serde::Deserialize;
use serde_json::Value;

use super::client::ClientArgs;
use super::CliError;

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The transaction's hash.
    pub hash: B256,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// One call of the tree.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame {
    kind: String,
    from: Address,
    #[serde(default)]
    to: Option<Address>,
    #[serde(default)]
    value: U256,
    #[serde(default)]
    input: Bytes,
    gas_limit: U256,
    gas_used: U256,
    status: String,
    #[serde(default)]
    output: Bytes,
    /// The revert reason, when the revert data is Solidity's `Error(string)`.
    #[serde(default)]
    reason: Option<String>,
    /// The frame's own gas: `{instantiation, instructions, host: {name: {calls, gas}}}`.
    #[serde(default)]
    gas: Option<OwnGas>,
    #[serde(default)]
    calls: Vec<Frame>,
}

/// A frame's own gas, children excluded.
#[derive(Debug, Deserialize)]
struct OwnGas {
    instantiation: u64,
    instructions: u64,
    /// By host function name, sorted.
    host: std::collections::BTreeMap<String, HostGas>,
}

#[derive(Debug, Deserialize)]
struct HostGas {
    calls: u64,
    gas: u64,
}

pub fn run(args: TraceArgs) -> Result<ExitCode, CliError> {
    let raw: Value = args
        .client
        .client()
        .request("tally_traceTransaction", (args.hash,))?;
    match serde_json::from_value::<Frame>(raw.clone()) {
        Ok(frame) if !args.client.json => print!("{}", tree(&frame, 0)),
        _ => println!("{}", serde_json::to_string_pretty(&raw).unwrap_or_default()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `frame` and its calls: `[gas used/limit] KIND from -> to value status`, then what went in
/// and came out.
fn tree(frame: &Frame, depth: usize) -> String {
    let indent = "  ".repeat(depth);
    let to = frame
        .to
        .map(|a| a.to_string())
        .unwrap_or_else(|| "(new)".into());
    let mut text = format!(
        "{indent}[{}/{}] {} {} -> {to} value {}: {}\n",
        frame.gas_used, frame.gas_limit, frame.kind, frame.from, frame.value, frame.status
    );
    text.push_str(&format!("{indent}    input  {}\n", bytes(&frame.input)));
    if !frame.output.is_empty() {
        text.push_str(&format!("{indent}    output {}\n", bytes(&frame.output)));
    }
    if let Some(reason) = &frame.reason {
        text.push_str(&format!("{indent}    reason {reason}\n"));
    }
    if let Some(gas) = &frame.gas {
        let mut parts = vec![
            format!("instantiation {}", gas.instantiation),
            format!("instructions {}", gas.instructions),
        ];
        parts.extend(
            gas.host
                .iter()
                .map(|(name, h)| format!("{name} {}x {}", h.calls, h.gas)),
        );
        text.push_str(&format!("{indent}    gas    {}\n", parts.join(", ")));
    }
    for call in &frame.calls {
        text.push_str(&tree(call, depth + 1));
    }
    text
}

/// Bytes in hex, shortened to their first 36 (a selector and one word) with the length.
fn bytes(b: &Bytes) -> String {
    const SHOWN: usize = 36;
    if b.len() <= SHOWN {
        return b.to_string();
    }
    format!(
        "{}.. ({} bytes)",
        Bytes::copy_from_slice(&b[..SHOWN]),
        b.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_trees_print_one_line_per_call_indented_by_depth() {
        let raw = serde_json::json!({
            "kind": "CALL",
            "from": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "to": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "value": "0x0",
            "input": format!("0xa9059cbb{}", "00".repeat(64)),
            "gasLimit": "0x186a0",
            "gasUsed": 53396,
            "status": "success",
            "output": "0x01",
            "calls": [{
                "kind": "CREATE",
                "from": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                "value": "0x5",
                "gasLimit": 1000,
                "gasUsed": 10,
                "status": "reverted"
            }]
        });
        let frame: Frame = serde_json::from_value(raw).expect("the call-frame shape");
        assert_eq!(
            tree(&frame, 0),
            "[53396/100000] CALL 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 -> \
             0x5FbDB2315678afecb367f032d93F642f64180aa3 value 0: success\n    \
             input  0xa9059cbb00000000000000000000000000000000000000000000000000000000000000\
             00.. (68 bytes)\n    output 0x01\n  \
             [10/1000] CREATE 0x5FbDB2315678afecb367f032d93F642f64180aa3 -> (new) value 5: \
             reverted\n      input  0x\n"
        );
    }
}
