//! The single-node chain: signed transactions ([`tx`]), the mempool ([`mempool`]), blocks
//! with EIP-1559 fees, durable storage, and developer operations (state cheats ([`cheat`]),
//! snapshots, impersonation, time control, traced re-execution) on the [`sequencer::Chain`].

pub mod block;
pub mod cheat;
pub mod genesis;
pub mod mempool;
pub mod sequencer;
pub mod store;
pub mod tx;
