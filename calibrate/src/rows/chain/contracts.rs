//! The contracts of the state-level workloads: the probe, which runs one operation in a loop
//! over fresh keys or accounts, and the callee its calls reach; and how their inputs, slots and
//! addresses are encoded.

use tally_runtime::{H160, H256};

/// What the probe does `n` times (its `op` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Read slot `start + i`.
    StorageRead = 0,
    /// Write slot `start + i` with the value it holds (no change).
    StorageRewrite = 1,
    /// Write 1 to slot `start + i`.
    StorageSet = 2,
    /// Write another non-zero value to slot `start + i`.
    StorageReset = 3,
    /// Write zero to slot `start + i`.
    StorageClear = 4,
    /// Read the balance of account `start + i`.
    Balance = 5,
    /// Send nothing to account `start + i`.
    TransferZero = 6,
    /// Send 1 to account `start + i`.
    TransferOne = 7,
    /// Emit a log with 4 topics and no data.
    LogTopics = 8,
    /// Emit a log with `arg` bytes of data and no topic.
    LogData = 9,
    /// Call account `start + i` with `arg` bytes of input.
    Call = 10,
    /// Create a contract from the template (made unique by `start + i`), `arg` bytes of input.
    Create = 11,
    /// Call the echo contract once so it returns 64 KiB, then read `arg` bytes of it `n` times.
    ReturnData = 12,
}

/// Every op, with its loop body (`IDX` is the i64 index `start + i`).
const BODIES: [(Op, &str); 13] = [
    (Op::StorageRead, "(call $key IDX) (call $storage_read (i32.const 64) (i32.const 96))"),
    (Op::StorageRewrite, "(call $key IDX) (call $value (i64.add IDX (i64.const 1))) (call $storage_write (i32.const 64) (i32.const 96))"),
    (Op::StorageSet, "(call $key IDX) (call $value (i64.const 1)) (call $storage_write (i32.const 64) (i32.const 96))"),
    (Op::StorageReset, "(call $key IDX) (call $value (i64.add IDX (i64.const 2))) (call $storage_write (i32.const 64) (i32.const 96))"),
    (Op::StorageClear, "(call $key IDX) (call $value (i64.const 0)) (call $storage_write (i32.const 64) (i32.const 96))"),
    (Op::Balance, "(call $addr IDX) (call $balance (i32.const 128) (i32.const 224))"),
    (Op::TransferZero, "(call $addr IDX) (drop (call $transfer (i32.const 128) (i32.const 192)))"),
    (Op::TransferOne, "(call $addr IDX) (drop (call $transfer (i32.const 128) (i32.const 160)))"),
    (Op::LogTopics, "(call $emit_log (i32.const 256) (i32.const 4) (i32.const 65536) (i32.const 0))"),
    (Op::LogData, "(call $emit_log (i32.const 256) (i32.const 0) (i32.const 65536) (local.get $arg))"),
    (Op::Call, "(call $addr IDX) (drop (call $call (i32.const 128) (i32.const 192) (i64.const 0x7fffffffffffffff) (i32.const 65536) (local.get $arg)))"),
    (Op::Create, "(call $nonce IDX) (drop (call $create (i32.const 1024) (i32.const TEMPLATE_LEN) (i32.const 192) (i32.const 65536) (local.get $arg) (i32.const 512)))"),
    (Op::ReturnData, "(call $return_data_read (i32.const 65536) (i32.const 0) (local.get $arg))"),
];

/// Index of the account holding the echo contract (outside every range handed out).
pub const ECHO: u64 = 1 << 62;

/// First 12 bytes of every account the probe addresses (the last 8 are its index).
pub const ADDRESS_PREFIX: [u8; 12] = [0xca; 12];

/// Account `index` of the state.
pub fn account(index: u64) -> H160 {
    let mut bytes = [0u8; 20];
    bytes[..12].copy_from_slice(&ADDRESS_PREFIX);
    bytes[12..].copy_from_slice(&index.to_le_bytes());
    H160(bytes)
}

/// Storage slot `index` of the probe.
pub fn slot(index: u64) -> H256 {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&index.to_le_bytes());
    H256(bytes)
}

/// The value the state holds in slot `index` (never zero).
pub fn slot_value(index: u64) -> H256 {
    slot(index + 1)
}

/// Eight bytes, none zero, distinct for distinct `n` (so data made unique with them is charged
/// the same calldata whatever `n` is).
pub fn nonzero_bytes(mut n: u64) -> [u8; 8] {
    let mut out = [1u8; 8];
    for byte in &mut out {
        *byte = (n % 255) as u8 + 1;
        n /= 255;
    }
    out
}

/// What the probe is asked to do: `op`, `n` times, from item `start`, with `arg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeCall {
    pub op: Op,
    pub n: u64,
    pub start: u64,
    pub arg: u64,
}

impl ProbeCall {
    /// The probe's calldata: each field in four bytes of seven bits with the top bit set, so
    /// every input is charged the same calldata.
    pub fn input(&self) -> Vec<u8> {
        [self.op as u64, self.n, self.start, self.arg]
            .iter()
            .flat_map(|v| {
                let v = *v as u32;
                [0, 7, 14, 21].map(|shift| 0x80 | ((v >> shift) & 0x7f) as u8)
            })
            .collect()
    }
}

/// Decodes field `at` of the input (at memory 0) as [`ProbeCall::input`] encoded it.
fn field(at: u32) -> String {
    let x = format!("(i32.load (i32.const {}))", at * 4);
    format!(
        "(i32.or (i32.or (i32.and {x} (i32.const 0x7f)) (i32.and (i32.shr_u {x} (i32.const 1)) (i32.const 0x3f80)))
                 (i32.or (i32.and (i32.shr_u {x} (i32.const 2)) (i32.const 0x1fc000)) (i32.and (i32.shr_u {x} (i32.const 3)) (i32.const 0xfe00000))))"
    )
}

/// The module `create` deploys: an empty entry point and a custom section whose last 8 bytes
/// the probe overwrites.
pub fn template() -> Vec<u8> {
    let mut code = wat::parse_str(r#"(module (func (export "call")))"#).unwrap_or_default();
    code.extend_from_slice(&[0, 10, 1, b'n']);
    code.extend_from_slice(&[1; 8]);
    code
}

/// `template()` made unique by `n`.
pub fn unique_template(n: u64) -> Vec<u8> {
    let mut code = template();
    let at = code.len() - 8;
    code[at..].copy_from_slice(&nonzero_bytes(n));
    code
}

fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// The probe contract's text.
pub fn probe() -> String {
    let template = template();
    let nonce_at = 1024 + template.len() - 8;
    let mut dispatch = String::new();
    for (op, body) in BODIES {
        let body = body
            .replace(
                "IDX",
                "(i64.add (local.get $start) (i64.extend_i32_u (local.get $i)))",
            )
            .replace("TEMPLATE_LEN", &template.len().to_string());
        dispatch += &format!(
            "(if (i32.eq (local.get $op) (i32.const {op}))
      (then
        (local.set $i (i32.const 0))
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          {body}
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))))\n    ",
            op = op as u32
        );
    }
    format!(
        r#"(module {imports}
  (memory (export "memory") 48)
  (data (i32.const 128) "{prefix}")
  (data (i32.const 191) "\01")
  (data (i32.const 1024) "{template}")
  (func $key (param $i i64) (i64.store (i32.const 88) (local.get $i)))
  (func $value (param $v i64) (i64.store (i32.const 120) (local.get $v)))
  (func $addr (param $i i64) (i64.store (i32.const 140) (local.get $i)))
  (func $nonce (param $n i64) (local $k i32)
    (loop $digits
      (i32.store8 (i32.add (i32.const {nonce_at}) (local.get $k))
        (i32.add (i32.wrap_i64 (i64.rem_u (local.get $n) (i64.const 255))) (i32.const 1)))
      (local.set $n (i64.div_u (local.get $n) (i64.const 255)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $k) (i32.const 8)))))
  (func (export "call") (local $op i32) (local $n i32) (local $start i64) (local $arg i32) (local $i i32)
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 16))
    (local.set $op {op})
    (local.set $n {n})
    (local.set $start (i64.extend_i32_u {start}))
    (local.set $arg {arg})
    (if (i32.eq (local.get $op) (i32.const {return_data}))
      (then
        (i32.store (i32.const 600) (i32.const 65536))
        (call $addr (i64.const {echo}))
        (drop (call $call (i32.const 128) (i32.const 192) (i64.const 0x7fffffffffffffff) (i32.const 600) (i32.const 4)))))
    {dispatch}))"#,
        imports = crate::kernel::imports(tally_vm::HostFn::ALL),
        prefix = escape(&ADDRESS_PREFIX),
        template = escape(&template),
        op = field(0),
        n = field(1),
        start = field(2),
        arg = field(3),
        return_data = Op::ReturnData as u32,
        echo = ECHO,
    )
}

/// The contract every account of the state holds: an empty entry point, no memory.
pub const CALLEE: &str = r#"(module (func (export "call")))"#;

/// The echo contract: returns as many bytes as the first 4 of its input say (nothing without
/// input).
pub fn echo() -> String {
    format!(
        r#"(module {imports}
  (memory (export "memory") 1)
  (func (export "call")
    (if (i32.ge_u (call $input_size) (i32.const 4))
      (then
        (call $input_read (i32.const 0) (i32.const 0) (i32.const 4))
        (call $set_return (i32.const 0) (i32.load (i32.const 0)))))))"#,
        imports = crate::kernel::imports(tally_vm::HostFn::ALL),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_parse_and_validate() {
        for wat in [probe(), echo(), CALLEE.to_string()] {
            let code = wat::parse_str(&wat).unwrap();
            tally_vm::validate(&code, &tally_vm::ModuleLimits::default()).unwrap();
        }
        tally_vm::validate(&unique_template(7), &tally_vm::ModuleLimits::default()).unwrap();
    }

    #[test]
    fn inputs_have_a_fixed_share_of_zero_bytes() {
        let call = |op, n, start, arg| ProbeCall { op, n, start, arg }.input();
        let a = call(Op::Call, 0, 0, 0);
        let b = call(Op::Create, 255, 1 << 20, 12_345);
        assert_eq!(a.len(), 16);
        assert!(a.iter().chain(&b).all(|byte| *byte != 0));
        assert_ne!(nonzero_bytes(1), nonzero_bytes(256));
        assert!(nonzero_bytes(u64::MAX).iter().all(|b| *b != 0));
    }
}
