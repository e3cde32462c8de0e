//! [`Labels`]: the names a test chain knows for addresses (deployed contracts, accounts) and
//! for function selectors (every signature it called), used to print traces and failures as
//! `token.transfer(address,uint256)` instead of an address and four bytes.

use std::collections::BTreeMap;

use alloy_primitives::Address;
use tally_runtime::exec::{CallTrace, TraceNames};
use tally_runtime::H160;

use crate::eth::{address, selector};

/// Names of addresses and function selectors.
#[derive(Clone, Debug, Default)]
pub struct Labels {
    names: BTreeMap<Address, String>,
    functions: BTreeMap<[u8; 4], String>,
}

impl Labels {
    /// Names `address` (a later name replaces an earlier one).
    pub fn name(&mut self, address: Address, name: &str) {
        self.names.insert(address, name.to_string());
    }

    /// Whether some address is named `name`.
    pub fn is_used(&self, name: &str) -> bool {
        self.names.values().any(|n| n == name)
    }

    /// Whether a function with this selector is known.
    pub fn knows_function(&self, selector: &[u8]) -> bool {
        <[u8; 4]>::try_from(selector).is_ok_and(|s| self.functions.contains_key(&s))
    }

    /// Learns a function signature, e.g. `transfer(address,uint256)`.
    pub fn function(&mut self, signature: &str) {
        self.functions
            .insert(selector(signature), signature.to_string());
    }

    /// The name of `address`, or the address itself (checksummed).
    pub fn name_or_address(&self, address: Address) -> String {
        self.names
            .get(&address)
            .cloned()
            .unwrap_or_else(|| address.to_string())
    }

    /// The call tree, one frame per line, with the names known.
    pub fn render_trace(&self, trace: &CallTrace) -> String {
        trace.render_named(self)
    }
}

impl TraceNames for Labels {
    fn address(&self, a: &H160) -> Option<String> {
        self.names.get(&address(*a)).cloned()
    }

    fn function(&self, selector: [u8; 4]) -> Option<String> {
        self.functions.get(&selector).cloned()
    }
}
