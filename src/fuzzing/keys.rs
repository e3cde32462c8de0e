//! The development keys, derived once per process (deriving an address is a scalar
//! multiplication).

use std::sync::OnceLock;

use k256::ecdsa::SigningKey;
use tally_runtime::H160;

use crate::chain::tx::dev_accounts;

/// The ten development keys with their addresses.
pub fn dev_keys() -> &'static [(SigningKey, H160)] {
    static KEYS: OnceLock<Vec<(SigningKey, H160)>> = OnceLock::new();
    KEYS.get_or_init(dev_accounts)
}
