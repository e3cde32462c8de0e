//! The start-up banner `tally node` prints, as anvil prints its own: the chain, the
//! development accounts with their balances and private keys, and where to connect.

use std::fmt::Write;

use tally_runtime::U256;

use crate::chain::genesis::Genesis;
use crate::chain::sequencer::MiningMode;
use crate::chain::tx::{dev_accounts, DEV_KEYS};
use crate::eth::{ether, u256};

/// The banner text for a node serving `url` on `genesis`.
pub fn banner(genesis: &Genesis, url: &str, mining: MiningMode, data: &str) -> String {
    let mut out = String::new();
    let accounts = dev_accounts();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "tally node {}\n", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "Available accounts\n==================");
    for (i, (_, address)) in accounts.iter().enumerate() {
        let balance = genesis
            .accounts
            .get(address)
            .map_or(U256::zero(), |a| a.balance);
        let checksummed = crate::eth::address(*address);
        let _ = writeln!(out, "({i}) {checksummed} ({} ETH)", ether(u256(balance)));
    }
    let _ = writeln!(out, "\nPrivate keys\n==================");
    for (i, key) in DEV_KEYS.iter().enumerate() {
        let _ = writeln!(out, "({i}) {key}");
    }
    let mining = match mining {
        MiningMode::OnDemand => "on demand (a block per transaction)".to_string(),
        MiningMode::Interval(secs) => format!("every {secs} s"),
        MiningMode::Manual => "manual (evm_mine)".to_string(),
    };
    let _ = writeln!(out, "\nChain id:     {}", genesis.chain_id);
    let _ = writeln!(out, "Gas limit:    {}", genesis.gas_limit);
    let _ = writeln!(out, "Base fee:     {} wei", genesis.base_fee);
    let _ = writeln!(out, "Mining:       {mining}");
    let _ = writeln!(out, "Data:         {data}");
    let _ = writeln!(out, "\nListening on {url}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_lists_every_dev_account_and_key() {
        let text = banner(
            &Genesis::dev(),
            "http://127.0.0.1:8545",
            MiningMode::OnDemand,
            "memory",
        );
        for key in DEV_KEYS {
            assert!(text.contains(key), "{key} missing");
        }
        for (_, address) in dev_accounts() {
            let checksummed = crate::eth::address(address);
            assert!(
                text.contains(&format!("{checksummed} (10000 ETH)")),
                "{checksummed}"
            );
        }
        assert!(text.contains("Chain id:     31337"));
        assert!(text.contains("Listening on http://127.0.0.1:8545"));
    }
}
