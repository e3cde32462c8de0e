//! Chains for the `chain_txs` target with the example contracts already compiled: each is
//! compiled once per process and loaded into every new chain's VM, as a node loads the modules
//! stored with its blocks at start, so that an input pays for execution, not compilation.

use std::sync::OnceLock;

use tally_runtime::exec::{Runtime, RuntimeConfig};
use tally_runtime::state::WorldState;
use tally_runtime::trie::MemoryStore;

use crate::chain::genesis::Genesis;
use crate::chain::sequencer::{Chain, ChainConfig};
use crate::chain::store::{ChainStore, StateStore};
use crate::fuzzing::contracts::{HOSTILE, WELL_BEHAVED};

/// The serialized modules of every example contract, for the default runtime configuration.
fn artifacts() -> &'static [Vec<u8>] {
    static ARTIFACTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ARTIFACTS.get_or_init(|| {
        let state = WorldState::new(StateStore::Memory(MemoryStore::new()));
        let runtime = Runtime::new(RuntimeConfig::default(), state)
            .unwrap_or_else(|e| panic!("default runtime: {e}"));
        let vm = runtime.vm();
        WELL_BEHAVED
            .iter()
            .chain(HOSTILE)
            .map(|example| {
                vm.compile(example.code)
                    .and_then(|module| vm.serialize(&module))
                    .unwrap_or_else(|e| panic!("{}: {e}", example.name))
            })
            .collect()
    })
}

/// A new in-memory chain from `genesis` whose VM already holds the example contracts.
pub fn open_chain(genesis: &Genesis, config: &ChainConfig) -> Chain {
    assert_eq!(
        config.runtime,
        RuntimeConfig::default(),
        "artifacts are for the default runtime"
    );
    let mut chain = Chain::open(ChainStore::memory(), genesis, config.clone())
        .unwrap_or_else(|e| panic!("opening a chain: {e}"));
    for artifact in artifacts() {
        // SAFETY: the artifacts were produced by `Vm::serialize` in this process, for the same
        // engine configuration and gas schedule, and never left memory.
        let loaded = unsafe { chain.runtime().vm().deserialize(artifact) };
        if let Err(e) = loaded {
            panic!("loading a compiled example: {e}");
        }
    }
    chain
}
