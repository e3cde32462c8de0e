//! An in-process test harness for Tally contracts: [`TestChain`] runs the real `.wasm` on the
//! chain's own code paths and charges exactly the gas the chain charges (the whole
//! transaction, intrinsic gas included).
//!
//! - Deploy and call with Solidity-ABI arguments from Rust values ([`ContractCall`]: `sol!`
//!   call structs, or [`SigCall`] signature strings); typed results decoded back.
//! - [`TxReceipt`]s: status, gas with its breakdown, fee, logs decoded against `sol!` events,
//!   return data, the revert reason of `Error(string)`, the call trace.
//! - Cheats: act as any address, set balances, nonces, code and storage, advance time and
//!   blocks, snapshot and revert (repeatably).
//! - Expectations: success, a revert with its reason, an event, balance changes.
//! - [`GasReport`]: per contract and function, over a test run; [`GasSnapshots`]: figures
//!   checked against a file kept in the repository.
//!
//! ```no_run
//! use alloy_primitives::{Address, U256};
//! use tally::testing::{Artifact, TestChain, TestResult};
//!
//! alloy_sol_types::sol! {
//!     function mint(address to, uint256 amount);
//!     function balanceOf(address who) returns (uint256);
//! }
//!
//! # fn main() -> TestResult {
//! let mut chain = TestChain::new()?;
//! let token = chain.deploy(&Artifact::read("contracts/build/token.wasm")?, ())?;
//! let alice = chain.accounts()[1];
//! chain.call(&token, mintCall { to: alice, amount: U256::from(1_000) })?;
//! assert_eq!(chain.view(&token, balanceOfCall { who: alice })?, U256::from(1_000));
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/testing.md` for a guide.

mod abi;
mod builder;
mod chain;
mod cheats;
mod contract;
mod error;
mod expect;
mod gas_report;
mod labels;
mod receipt;
mod snapshot;
mod tx;

pub use abi::{ConstructorArgs, ContractCall, RawArgs, SigCall};
pub use builder::{TestChainBuilder, DEFAULT_BLOCK_GAS_LIMIT, DEFAULT_GAS_LIMIT};
pub use chain::TestChain;
pub use cheats::ChainSnapshot;
pub use contract::{Artifact, Contract};
pub use error::{TestError, TestResult};
pub use gas_report::{GasReport, GasStats, GAS_REPORT_ENV};
pub use receipt::{GasTable, TxReceipt};
pub use snapshot::{GasSnapshots, UPDATE_ENV};
pub use tally_runtime::exec::{CallTrace, Failure, Status};
pub use tally_vm::{HostFn, TrapKind};
pub use tx::Tx;
/// The Solidity types and `sol!` of the harness's API (tests also need them as dependencies of
/// their own: `sol!` expands to paths of `alloy_sol_types`).
pub use {alloy_primitives, alloy_sol_types};

/// `n` with a comma every three digits: `2,900,083`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (2_900_083, "2,900,083"),
        ] {
            assert_eq!(super::thousands(n), s);
        }
        assert_eq!(super::thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
