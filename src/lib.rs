//! # tally
//!
//! The Tally chain and its tools. For now this crate holds the `tally` command-line interface
//! ([`cli`]); the chain (mempool, blocks, fees, block store) and the test harness build on
//! `tally-runtime` and `tally-vm`.

pub mod chain;
pub mod cli;
pub mod eth;
pub mod node;
