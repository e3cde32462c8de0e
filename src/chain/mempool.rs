//! The mempool.
