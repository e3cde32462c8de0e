//! `tally node`: the chain served over an Ethereum-compatible JSON-RPC on HTTP.
//!
//! [`NodeConfig`] says where the data lives, which genesis, how blocks are mined and the
//! server's limits. [`Node::start`] opens the chain, binds the server and, in interval mode,
//! starts the miner; [`Node::stop`] stops both, after which the database is closed (every
//! committed block is durable: blocks are written atomically). The methods live in [`rpc`].

pub mod banner;
pub mod logging;
pub mod rpc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use thiserror::Error;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use crate::chain::genesis::Genesis;
use crate::chain::sequencer::{Chain, ChainConfig, ChainError, MiningMode};
use crate::chain::store::{ChainStore, ChainStoreError};
use crate::chain::tx::dev_accounts;
use rpc::NodeState;

/// The address `tally node` serves on unless told otherwise (anvil's).
pub const DEFAULT_ADDR: &str = "127.0.0.1:8545";

/// Limits that keep any one client from exhausting the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest request body, in bytes (a contract deployment must fit).
    pub max_request_bytes: u32,
    /// Largest response body, in bytes.
    pub max_response_bytes: u32,
    /// Most calls in one batch request.
    pub max_batch: u32,
    /// Most open connections.
    pub max_connections: u32,
    /// Widest block range one `eth_getLogs` scans.
    pub max_log_range: u64,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            max_request_bytes: 4 * 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            max_batch: 100,
            max_connections: 128,
            max_log_range: 10_000,
        }
    }
}

/// How a node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub addr: SocketAddr,
    /// Where the database lives; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    pub genesis: Genesis,
    pub chain: ChainConfig,
    pub limits: RpcLimits,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            // A constant that parses.
            addr: DEFAULT_ADDR
                .parse()
                .expect("DEFAULT_ADDR is a socket address"),
            data_dir: Some(PathBuf::from(crate::chain::store::DEFAULT_DATA_DIR)),
            genesis: Genesis::dev(),
            chain: ChainConfig::default(),
            limits: RpcLimits::default(),
        }
    }
}

/// Why a node did not start.
#[derive(Debug, Error)]
pub enum NodeError {
    #[error("cannot open the database: {0}")]
    Store(#[from] ChainStoreError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot serve on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running node.
pub struct Node {
    runtime: Runtime,
    server: ServerHandle,
    addr: SocketAddr,
    chain: Arc<Mutex<Chain>>,
    miner: Option<JoinHandle<()>>,
}

impl Node {
    /// Opens the chain and starts serving.
    pub fn start(config: NodeConfig) -> Result<Node, NodeError> {
        let store = match &config.data_dir {
            Some(dir) => ChainStore::open(dir)?,
            None => ChainStore::memory(),
        };
        let chain = Chain::open(store, &config.genesis, config.chain.clone())?;
        let chain = Arc::new(Mutex::new(chain));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tally-node")
            .enable_all()
            .build()
            .map_err(NodeError::Runtime)?;
        let limits = config.limits;
        let server_config = ServerConfig::builder()
            .max_request_body_size(limits.max_request_bytes)
            .max_response_body_size(limits.max_response_bytes)
            .max_connections(limits.max_connections)
            .set_batch_request_config(BatchRequestConfig::Limit(limits.max_batch))
            .http_only()
            .build();
        let server = runtime
            .block_on(
                Server::builder()
                    .set_config(server_config)
                    .build(config.addr),
            )
            .map_err(|source| NodeError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = server.local_addr().map_err(|source| NodeError::Bind {
            addr: config.addr,
            source,
        })?;
        let state = NodeState::new(chain.clone(), dev_accounts(), limits.max_log_range);
        let server = {
            // The server spawns its tasks on the runtime it is started in.
            let _context = runtime.enter();
            server.start(rpc::module(state))
        };
        let miner = match config.chain.mining {
            MiningMode::Interval(_) => Some(runtime.spawn(mine_on_timer(chain.clone()))),
            _ => None,
        };
        tracing::info!(%addr, "serving JSON-RPC");
        Ok(Node {
            runtime,
            server,
            addr,
            chain,
            miner,
        })
    }

    /// The address the server listens on (the port is the one bound, if 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's URL, `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The chain, for in-process use (tests, the banner).
    pub fn chain(&self) -> &Arc<Mutex<Chain>> {
        &self.chain
    }

    /// Starts listening for SIGINT and SIGTERM: from now on they are caught (call this before
    /// telling anyone the node is up, so a signal sent at once does not kill it).
    pub fn shutdown_signals(&self) -> Result<ShutdownSignals, NodeError> {
        let _context = self.runtime.enter();
        ShutdownSignals::listen().map_err(NodeError::Runtime)
    }

    /// Blocks until one of `signals` arrives.
    pub fn wait_for(&self, signals: ShutdownSignals) {
        self.runtime.block_on(signals.recv());
    }

    /// Stops serving and mining and closes the database.
    pub fn stop(self) {
        if let Some(miner) = &self.miner {
            miner.abort();
        }
        // Err only if it is already stopped.
        let _ = self.server.stop();
        self.runtime.block_on(self.server.stopped());
        self.runtime.shutdown_timeout(Duration::from_secs(5));
        // The last reference to the chain: dropping it closes the database.
        drop(self.chain);
        tracing::info!("stopped");
    }
}

/// Mines a block whenever the interval has passed since the head's timestamp.
async fn mine_on_timer(chain: Arc<Mutex<Chain>>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    loop {
        ticker.tick().await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let Ok(mut chain) = chain.lock() else {
            tracing::error!("the chain lock is poisoned; the miner stops");
            return;
        };
        if let Err(e) = logging::mined_by(&mut chain, |c| c.tick(now)) {
            tracing::error!(error = %e, "mining failed");
        }
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment this is created.
pub struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    #[cfg(unix)]
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(ShutdownSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn listen() -> std::io::Result<Self> {
        Ok(ShutdownSignals {})
    }

    #[cfg(unix)]
    async fn recv(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }

    #[cfg(not(unix))]
    async fn recv(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
