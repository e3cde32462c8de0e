//! Integration tests of deploy-time validation (`tally_vm::validate`): every rejected feature
//! class, every cap at its boundary, the import and export rules, malformed input, and agreement
//! with the wasmtime engine configured by `tally_vm::engine_config`.

mod accepted;
mod caps;
mod common;
mod features;
mod imports_exports;
mod malformed;
