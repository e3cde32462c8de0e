//! # tally
//!
//! The Tally chain and its tools, built on `tally-runtime` and `tally-vm`: the chain
//! ([`chain`]: signed transactions, mempool, blocks with EIP-1559 fees, durable storage), the
//! node serving it over Ethereum JSON-RPC ([`node`]), the `tally` command-line interface
//! ([`cli`]), and the in-process test harness for contracts ([`testing`]). [`eth`] bridges
//! the runtime's types and Ethereum's (`alloy`). With the `fuzzing` feature it also holds the
//! bodies of the fuzz targets (`fuzzing`).

pub mod chain;
pub mod cli;
pub mod eth;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod node;
pub mod testing;
