//! Contracts that are mostly host calls: an exported `call` (and `deploy`) running a fuzzed
//! sequence of host function calls with fuzzed arguments (pointers in and out of bounds,
//! lengths at the edges, any gas), memory growth and small loops. Random code from wasm-smith
//! seldom calls an import with the right arguments on the stack; these reach every host
//! function's bounds checks, charges and effects.

use std::fmt::Write;

use arbitrary::{Result, Unstructured};
use tally_vm::{AbiType, HostFn, WASM_PAGE_SIZE};

use super::smith::host_import_text;

/// A module of host calls generated from the fuzz input.
pub fn host_script_module(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let pages: u32 = u.int_in_range(0..=2)?;
    let memory_bytes = u64::from(pages) * WASM_PAGE_SIZE;
    let mut text = format!("(module\n{}", host_import_text());
    let has_memory = u.ratio(7, 8)?;
    if has_memory {
        let _ = writeln!(text, "(memory (export \"memory\") {pages})");
        if pages > 0 {
            // A module header at address 0, for `create`.
            let _ = writeln!(text, "(data (i32.const 0) \"\\00asm\\01\\00\\00\\00\")");
        }
    }
    for entry in ["call", "deploy"] {
        let _ = writeln!(text, "(func (export \"{entry}\") (local i32)");
        for _ in 0..u.int_in_range(0..=12)? {
            step(&mut text, u, has_memory.then_some(memory_bytes))?;
        }
        text.push_str(")\n");
    }
    text.push(')');
    // Every name, type and constant above is valid WAT by construction.
    Ok(wat::parse_str(&text).expect("generated host script is valid WAT"))
}

/// One step: a host call, a loop of host calls, or memory growth (with a memory of
/// `memory_bytes`).
fn step(text: &mut String, u: &mut Unstructured<'_>, memory_bytes: Option<u64>) -> Result<()> {
    let memory = memory_bytes.unwrap_or(0);
    match u.int_in_range(0..=9)? {
        0 if memory_bytes.is_some() => {
            let pages = u.int_in_range(0..=300)?;
            let _ = writeln!(text, "(drop (memory.grow (i32.const {pages})))");
        }
        1 => {
            // A counted loop around one host call.
            let times = u.int_in_range(1..=50)?;
            let _ = writeln!(text, "(local.set 0 (i32.const {times})) (loop $again");
            host_call(text, u, memory)?;
            text.push_str(
                "(local.set 0 (i32.sub (local.get 0) (i32.const 1))) \
                 (br_if $again (local.get 0)))\n",
            );
        }
        _ => host_call(text, u, memory)?,
    }
    Ok(())
}

fn host_call(text: &mut String, u: &mut Unstructured<'_>, memory_bytes: u64) -> Result<()> {
    let f = *u.choose(HostFn::ALL)?;
    let _ = write!(text, "(call ${}", f.name());
    for param in f.params() {
        match param {
            AbiType::I32 => {
                let _ = write!(text, " (i32.const {})", i32_arg(u, memory_bytes)?);
            }
            AbiType::I64 => {
                let _ = write!(text, " (i64.const {})", u.arbitrary::<i64>()?);
            }
        }
    }
    text.push(')');
    for _ in f.results() {
        text.push_str(" drop");
    }
    text.push('\n');
    Ok(())
}

/// A pointer, length, count or status: mostly small and in bounds, some at the end of memory,
/// some at the edges of the 32-bit range.
fn i32_arg(u: &mut Unstructured<'_>, memory_bytes: u64) -> Result<i32> {
    let memory = i64::try_from(memory_bytes).unwrap_or(i64::MAX);
    let value: i64 = match u.int_in_range(0..=9)? {
        0 => memory - i64::from(u.int_in_range(0..=64u8)?),
        1 => i64::from(u.arbitrary::<i32>()?),
        2 => [-1, i64::from(i32::MAX), i64::from(i32::MIN)][usize::from(u.int_in_range(0..=2u8)?)],
        3..=5 => i64::from(u.int_in_range(0..=8u8)?),
        _ => i64::from(u.int_in_range(0..=256u16)?),
    };
    Ok(value as i32)
}
