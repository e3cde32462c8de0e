//! The single-node chain: signed transactions ([`tx`]), the mempool ([`mempool`]), blocks
//! with EIP-1559 fees, and durable storage.

pub mod block;
pub mod genesis;
pub mod mempool;
pub mod sequencer;
pub mod store;
pub mod tx;
