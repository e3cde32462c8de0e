//! Generated contract modules: the wasm-smith configuration that keeps modules inside Tally's
//! deterministic subset, importing only host functions with their exact signatures and exporting
//! the entry points and memory a contract may export.

use arbitrary::{Result, Unstructured};
use tally_vm::{AbiType, HostFn, HOST_MODULE};
use wasm_smith::{Config, InstructionKind, InstructionKinds, Module};

/// Entry points every generated module exports (as `[] -> []` functions).
pub const ENTRY_POINTS: [&str; 2] = ["call", "deploy"];

/// A module importing every host function of the ABI table, from which wasm-smith picks
/// the imports of each generated module.
fn host_imports() -> Vec<u8> {
    // The text is built from the ABI table, whose names and types are valid WAT.
    wat::parse_str(format!("(module {})", host_import_text())).expect("host imports are valid WAT")
}

/// WAT imports of every host function, each named `$` and its import name.
pub fn host_import_text() -> String {
    let types = |types: &[AbiType]| -> String {
        types
            .iter()
            .map(|t| match t {
                AbiType::I32 => " i32",
                AbiType::I64 => " i64",
            })
            .collect()
    };
    HostFn::ALL
        .iter()
        .map(|f| {
            format!(
                "(import \"{HOST_MODULE}\" \"{name}\" (func ${name} (param{}) (result{})))\n",
                types(f.params()),
                types(f.results()),
                name = f.name(),
            )
        })
        .collect()
}

/// The exports of a generated module: both entry points and a memory of `pages` initial
/// pages (with a maximum of `max` pages when given).
fn exports(pages: u32, max: Option<u32>) -> Vec<u8> {
    let max = max.map_or(String::new(), |m| m.to_string());
    let entries: String = ENTRY_POINTS
        .iter()
        .map(|name| format!(r#"(func (export "{name}"))"#))
        .collect();
    let text = format!(r#"(module (memory (export "memory") {pages} {max}) {entries})"#);
    // Built from integers and fixed names only.
    wat::parse_str(text).expect("exports are valid WAT")
}

/// A wasm-smith configuration for contracts inside the deterministic subset; the fuzz input
/// chooses the memory, the size of the module and whether wasm-smith guards against traps.
pub fn contract_config(u: &mut Unstructured<'_>) -> Result<Config> {
    let pages = u.int_in_range(0..=3)?;
    let max = if u.arbitrary()? {
        Some(u.int_in_range(pages..=8)?)
    } else {
        None
    };
    Ok(Config {
        available_imports: Some(host_imports()),
        exports: Some(exports(pages, max)),
        allow_floats: false,
        allow_start_export: false,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: false,
        reference_types_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        extended_const_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        allowed_instructions: InstructionKinds::new(&[
            InstructionKind::NumericInt,
            InstructionKind::Parametric,
            InstructionKind::Variable,
            InstructionKind::MemoryInt,
            InstructionKind::Control,
        ]),
        disallow_traps: u.ratio(1, 4)?,
        // The exported memory comes from `exports`; no other may be generated.
        max_memories: 0,
        max_memory32_bytes: 8 * 65_536,
        max_tables: 1,
        max_table_elements: 1_000,
        max_instructions: u.int_in_range(1..=400)?,
        max_funcs: u.int_in_range(1..=30)?,
        max_globals: 20,
        max_data_segments: 8,
        max_element_segments: 8,
        ..Config::default()
    })
}

/// A module of the deterministic subset, generated from the fuzz input.
pub fn contract_module(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let config = contract_config(u)?;
    Ok(Module::new(config, u)?.to_bytes())
}
