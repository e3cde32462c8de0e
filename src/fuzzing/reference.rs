//! wasmtime's own validation under the contract configuration: the reference Tally's
//! validator must never be more permissive than.

use std::sync::OnceLock;

use tally_vm::{engine_config, ModuleLimits};
use wasmtime::Engine;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        // The configuration the VM itself runs with (without the pooling allocator, which plays
        // no part in validation); the VM creates engines from it, so it is valid.
        Engine::new(&engine_config(&ModuleLimits::default(), false))
            .expect("the contract engine configuration is valid")
    })
}

/// Whether wasmtime, with the features Tally enables, accepts `wasm`.
pub fn wasmtime_accepts(wasm: &[u8]) -> bool {
    wasmtime::Module::validate(engine(), wasm).is_ok()
}
