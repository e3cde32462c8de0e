//! Call traces: the tree of frames a transaction ran ([`CallTrace`]), recorded only when tracing
//! is on ([`RuntimeConfig::trace`](super::RuntimeConfig::trace) or
//! [`Runtime::set_trace`](super::Runtime::set_trace)), and its one-line-per-frame rendering.
//!
//! Every message (the transaction's own, each nested `call` and `create`) is one frame, in the
//! order it ran. A frame that reverted or failed is kept, marked by its status, with everything
//! it did (its logs and children included) although the state rolled it back. A nested call or
//! creation refused before it ran (the call-depth limit, a value the caller cannot pay, a
//! creator nonce at its maximum) is a leaf frame with a failure status and no gas.

use std::fmt;

use primitive_types::{H160, U256};
use tally_vm::{GasBreakdown, HostFn};

use super::frame::{Message, MessageKind, MessageResult};
use super::receipt::{Failure, Status};
use crate::state::Log;
use crate::trie::keccak256;

/// What started a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// A call of an existing account (the transaction's, or the `call` host function).
    Call,
    /// A contract creation (a creating transaction, or the `create` host function).
    Create,
}

/// One frame of a transaction and the frames it started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallTrace {
    pub kind: CallKind,
    pub caller: H160,
    /// The callee, or the created contract's address.
    pub address: H160,
    pub value: U256,
    /// Calldata, or the constructor input of a creation.
    pub input: Vec<u8>,
    /// Gas the frame was given.
    pub gas_limit: u64,
    /// Gas the frame used, its children's included.
    pub gas_used: u64,
    /// The frame's own gas (instantiation, instructions, each host function), without what its
    /// children used: a child's gas is taken out of the `call` or `create` entry that paid for
    /// it. `None` when no code ran. Its total plus the children's `gas_used` is `gas_used`.
    pub gas: Option<GasBreakdown>,
    pub status: Status,
    /// Return data on success, revert data on revert, empty on failure.
    pub output: Vec<u8>,
    /// Logs the frame itself emitted, in order (kept even if the frame was rolled back).
    pub logs: Vec<Log>,
    /// Frames this one started, in order.
    pub children: Vec<CallTrace>,
}

/// The selector of Solidity's `Error(string)` revert data.
fn error_selector() -> [u8; 4] {
    let hash = keccak256(b"Error(string)");
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The reason of ABI-encoded `Error(string)` data: selector, offset, length, bytes.
fn decode_error_string(data: &[u8]) -> Option<String> {
    let body = data.strip_prefix(&error_selector()[..])?;
    let word = |at: usize| -> Option<usize> {
        let w = body.get(at..at.checked_add(32)?)?;
        // Offsets and lengths beyond 64 bits cannot index anything.
        if w[..24].iter().any(|b| *b != 0) {
            return None;
        }
        usize::try_from(u64::from_be_bytes(w[24..].try_into().ok()?)).ok()
    };
    let offset = word(0)?;
    let len = word(offset)?;
    let start = offset.checked_add(32)?;
    let bytes = body.get(start..start.checked_add(len)?)?;
    String::from_utf8(bytes.to_vec()).ok()
}

impl CallTrace {
    /// The first four bytes of a call's input (its ABI function selector), if it has them.
    pub fn selector(&self) -> Option<[u8; 4]> {
        match self.kind {
            CallKind::Call => self.input.get(..4)?.try_into().ok(),
            CallKind::Create => None,
        }
    }

    /// The reason of a revert with Solidity's `Error(string)` data.
    pub fn revert_reason(&self) -> Option<String> {
        match self.status {
            Status::Revert => decode_error_string(&self.output),
            _ => None,
        }
    }

    /// Gas the frame used itself: `gas_used` minus its children's.
    pub fn own_gas_used(&self) -> u64 {
        let children: u64 = self.children.iter().map(|c| c.gas_used).sum();
        self.gas_used.saturating_sub(children)
    }

    /// This frame and every frame below it, depth first, each with its depth (0 for `self`).
    pub fn frames(&self) -> Vec<(usize, &CallTrace)> {
        let mut out = Vec::new();
        let mut stack = vec![(0, self)];
        while let Some((depth, frame)) = stack.pop() {
            out.push((depth, frame));
            stack.extend(frame.children.iter().rev().map(|c| (depth + 1, c)));
        }
        out
    }

    /// The tree, one frame per line, indented two spaces per level: kind, address, selector,
    /// gas used / gas limit and outcome (see the `Display` implementation).
    pub fn render(&self) -> String {
        self.to_string()
    }

    /// [`CallTrace::render`] with the names `names` knows in place of addresses and selectors.
    pub fn render_named(&self, names: &dyn TraceNames) -> String {
        Named { trace: self, names }.to_string()
    }

    fn fmt_line(&self, f: &mut fmt::Formatter<'_>, names: &dyn TraceNames) -> fmt::Result {
        let who = names
            .address(&self.address)
            .unwrap_or_else(|| format!("{:?}", self.address));
        match (self.kind, self.selector()) {
            (CallKind::Call, Some(s)) => match names.function(s) {
                Some(function) => write!(f, "call {who} {function}")?,
                None => write!(f, "call {who} 0x{}", hex(&s))?,
            },
            (CallKind::Call, None) => write!(f, "call {who} ()")?,
            (CallKind::Create, _) => write!(f, "create {who}")?,
        }
        if !self.value.is_zero() {
            write!(f, " value {}", self.value)?;
        }
        write!(f, " gas {}/{} ", self.gas_used, self.gas_limit)?;
        match (&self.status, self.revert_reason()) {
            (Status::Revert, Some(reason)) => write!(f, "revert: Error({reason:?})"),
            (Status::Revert, None) if self.output.is_empty() => write!(f, "revert"),
            (Status::Revert, None) => {
                let shown = &self.output[..self.output.len().min(64)];
                let more = if shown.len() < self.output.len() {
                    "…"
                } else {
                    ""
                };
                write!(f, "revert 0x{}{more}", hex(shown))
            }
            (status, _) => write!(f, "{status}"),
        }
    }
}

/// Renders the tree: one frame per line, e.g.
///
/// ```text
/// call 0x42c9458357f1fccd4cddcd1916d0857c1a62d2b7 0xb6b55f25 gas 19180/4978796 revert: Error("Vault: token transfer failed")
///   call 0x89eb5891179fb8c2dbd1bb2d7167306aab3a7cd3 0x23b872dd gas 7605/4890013 revert: Error("ERC20: insufficient allowance")
/// ```
impl fmt::Display for CallTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Named {
            trace: self,
            names: &NoNames,
        }
        .fmt(f)
    }
}

/// Names for the addresses and function selectors of a rendered trace (a test harness knows
/// the contracts it deployed and the functions it called).
pub trait TraceNames {
    /// The name of `address`, if known.
    fn address(&self, address: &H160) -> Option<String>;
    /// The signature of the function with `selector`, if known.
    fn function(&self, selector: [u8; 4]) -> Option<String>;
}

/// Addresses and selectors in hex.
struct NoNames;

impl TraceNames for NoNames {
    fn address(&self, _: &H160) -> Option<String> {
        None
    }

    fn function(&self, _: [u8; 4]) -> Option<String> {
        None
    }
}

/// A trace rendered with names.
struct Named<'a> {
    trace: &'a CallTrace,
    names: &'a dyn TraceNames,
}

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (depth, frame)) in self.trace.frames().into_iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{:width$}", "", width = 2 * depth)?;
            frame.fmt_line(f, self.names)?;
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the tree while a transaction runs: a stack of the frames still running.
#[derive(Debug, Default)]
pub(crate) struct Tracer {
    open: Vec<CallTrace>,
    root: Option<CallTrace>,
}

impl Tracer {
    /// A message starts.
    pub(crate) fn enter(&mut self, msg: &Message<'_>) {
        let (kind, address, input) = match msg.kind {
            MessageKind::Call { to, input } => (CallKind::Call, to, input),
            MessageKind::Create { address, input, .. } => (CallKind::Create, address, input),
        };
        self.open.push(CallTrace {
            kind,
            caller: msg.caller,
            address,
            value: msg.value,
            input: input.to_vec(),
            gas_limit: msg.gas,
            gas_used: 0,
            gas: None,
            status: Status::Success,
            output: Vec::new(),
            logs: Vec::new(),
            children: Vec::new(),
        });
    }

    /// The running message ended with `result`.
    pub(crate) fn exit(&mut self, result: &MessageResult) {
        let Some(mut frame) = self.open.pop() else {
            return;
        };
        frame.gas_used = result.gas_used;
        frame.status = result.status.clone();
        frame.output = result.output.clone();
        frame.gas = result
            .breakdown
            .as_ref()
            .map(|b| own_gas(b, &frame.children));
        self.attach(frame);
    }

    /// A nested message was refused before it ran.
    pub(crate) fn refused(&mut self, msg: &Message<'_>, failure: Failure) {
        self.enter(msg);
        if let Some(frame) = self.open.last_mut() {
            frame.status = Status::Failure(failure);
        }
        if let Some(frame) = self.open.pop() {
            self.attach(frame);
        }
    }

    /// The running frame emitted `log`.
    pub(crate) fn log(&mut self, log: &Log) {
        if let Some(frame) = self.open.last_mut() {
            frame.logs.push(log.clone());
        }
    }

    fn attach(&mut self, frame: CallTrace) {
        match self.open.last_mut() {
            Some(parent) => parent.children.push(frame),
            None => self.root = Some(frame),
        }
    }

    /// The finished tree (`None` if no message ran).
    pub(crate) fn finish(self) -> Option<CallTrace> {
        self.root
    }
}

/// `breakdown` without the gas of `children`, which the `call` and `create` entries paid.
fn own_gas(breakdown: &GasBreakdown, children: &[CallTrace]) -> GasBreakdown {
    let mut own = breakdown.clone();
    for child in children {
        let function = match child.kind {
            CallKind::Call => HostFn::Call,
            CallKind::Create => HostFn::Create,
        };
        if let Some(entry) = own.host.get_mut(&function) {
            entry.gas = entry.gas.saturating_sub(child.gas_used);
        }
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_data(reason: &str) -> Vec<u8> {
        let mut data = error_selector().to_vec();
        data.extend_from_slice(&U256::from(32).to_big_endian());
        data.extend_from_slice(&U256::from(reason.len()).to_big_endian());
        data.extend_from_slice(reason.as_bytes());
        data.resize(4 + 64 + reason.len().div_ceil(32) * 32, 0);
        data
    }

    #[test]
    fn error_strings_decode_and_damage_does_not_panic() {
        assert_eq!(
            decode_error_string(&error_data("Vault: locked")).as_deref(),
            Some("Vault: locked")
        );
        let good = error_data("abc");
        for cut in 0..good.len() - 29 {
            assert_eq!(decode_error_string(&good[..cut]), None, "cut at {cut}");
        }
        let mut huge_offset = good.clone();
        huge_offset[4] = 1;
        assert_eq!(decode_error_string(&huge_offset), None);
        let mut huge_len = good;
        huge_len[4 + 32 + 31] = 0xff;
        assert_eq!(decode_error_string(&huge_len), None);
    }

    #[test]
    fn renders_one_indented_line_per_frame() {
        let frame = |kind, address: u8, input: &[u8], status, output: Vec<u8>| CallTrace {
            kind,
            caller: H160::zero(),
            address: H160::repeat_byte(address),
            value: U256::zero(),
            input: input.to_vec(),
            gas_limit: 1_000,
            gas_used: 10,
            gas: None,
            status,
            output,
            logs: Vec::new(),
            children: Vec::new(),
        };
        let mut root = frame(CallKind::Call, 1, &[1, 2, 3, 4, 5], Status::Success, vec![]);
        let mut middle = frame(CallKind::Create, 2, &[], Status::Success, vec![]);
        middle.children.push(frame(
            CallKind::Call,
            3,
            &[],
            Status::Revert,
            error_data("no"),
        ));
        root.children.push(middle);
        root.children.push(frame(
            CallKind::Call,
            4,
            &[9; 4],
            Status::Failure(Failure::CallDepth),
            vec![],
        ));
        root.gas_used = 40;
        assert_eq!(root.own_gas_used(), 20);
        let a = |n: u8| format!("{:?}", H160::repeat_byte(n));
        let expected = [
            format!("call {} 0x01020304 gas 40/1000 success", a(1)),
            format!("  create {} gas 10/1000 success", a(2)),
            format!("    call {} () gas 10/1000 revert: Error(\"no\")", a(3)),
            format!(
                "  call {} 0x09090909 gas 10/1000 failure: call depth limit reached",
                a(4)
            ),
        ]
        .join("\n");
        assert_eq!(root.render(), expected);

        struct Names;
        impl TraceNames for Names {
            fn address(&self, address: &H160) -> Option<String> {
                (*address == H160::repeat_byte(1)).then(|| "token".to_string())
            }
            fn function(&self, selector: [u8; 4]) -> Option<String> {
                (selector == [1, 2, 3, 4]).then(|| "f(uint8)".to_string())
            }
        }
        let named = root.render_named(&Names);
        let first = named.lines().next().unwrap();
        assert_eq!(first, "call token f(uint8) gas 40/1000 success");
        assert_eq!(
            named.lines().nth(3),
            expected.lines().nth(3),
            "unknown names stay hex"
        );
    }
}
