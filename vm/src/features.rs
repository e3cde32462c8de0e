//! The deterministic WebAssembly subset Tally accepts, as one feature set shared by the deploy-time
//! validator and the wasmtime engine so the two can never disagree.

use wasmparser::WasmFeatures;

/// The WebAssembly features a Tally contract may use: the MVP plus mutable globals, sign extension,
/// bulk memory (`memory.copy`/`memory.fill`/`memory.init`/`data.drop`, priced per byte) and
/// multi-value. Everything else (floats, SIMD, threads, reference types, multi-memory, memory64,
/// GC, exceptions, tail calls, ...) is off.
///
/// `CALL_INDIRECT_OVERLONG` only allows the multi-byte LEB encoding of the table index of
/// `call_indirect` that current compilers emit; it adds no instruction.
pub fn contract_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::CALL_INDIRECT_OVERLONG
}

/// Every feature flag wasmparser knows that Tally rejects, used to switch the same proposals off in
/// the wasmtime `Config`.
pub fn rejected_features() -> WasmFeatures {
    WasmFeatures::all().difference(contract_features())
}
