//! `tally node`: runs the chain and serves JSON-RPC until SIGINT or SIGTERM.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU64;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tracing_subscriber::EnvFilter;

use super::CliError;
use crate::chain::genesis::Genesis;
use crate::chain::sequencer::{ChainConfig, MiningMode};
use crate::chain::store::DEFAULT_DATA_DIR;
use crate::node::banner::banner;
use crate::node::{Node, NodeConfig, RpcLimits};

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 8545)]
    pub port: u16,
    /// Directory of the database.
    #[arg(long, default_value = DEFAULT_DATA_DIR, conflicts_with = "in_memory")]
    pub data_dir: PathBuf,
    /// Keep everything in memory (nothing survives the process).
    #[arg(long)]
    pub in_memory: bool,
    /// Genesis JSON file (default: the development genesis, ten funded accounts).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Mine a block every SECONDS instead of one per transaction.
    #[arg(long, short, value_name = "SECONDS", conflicts_with = "no_mining")]
    pub block_time: Option<u64>,
    /// Mine only when asked (evm_mine).
    #[arg(long)]
    pub no_mining: bool,
    /// Keep the state of only the last BLOCKS blocks: older states are pruned from the
    /// database as blocks are mined (by default every block's state stays readable).
    #[arg(long, value_name = "BLOCKS")]
    pub prune_history: Option<NonZeroU64>,
    /// Block gas limit of the genesis (only when the database is new).
    #[arg(long)]
    pub gas_limit: Option<u64>,
    /// Log filter: a level (error, warn, info, debug, trace) or tracing directives; the
    /// RUST_LOG environment variable is used when this is not given.
    #[arg(long)]
    pub log: Option<String>,
}

pub fn run(args: NodeArgs) -> Result<ExitCode, CliError> {
    let filter = match &args.log {
        Some(directives) => EnvFilter::try_new(directives),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new("info")),
    }
    .map_err(|e| CliError::Usage(format!("bad log filter: {e}")))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut genesis = match &args.genesis {
        Some(path) => Genesis::from_file(path)?,
        None => Genesis::dev(),
    };
    if let Some(limit) = args.gas_limit {
        genesis.gas_limit = limit;
    }
    let mining = match (args.block_time, args.no_mining) {
        (Some(0), _) => return Err(CliError::Usage("--block-time must be at least 1".into())),
        (Some(secs), _) => MiningMode::Interval(secs),
        (None, true) => MiningMode::Manual,
        (None, false) => MiningMode::OnDemand,
    };
    let config = NodeConfig {
        addr: SocketAddr::new(args.host, args.port),
        data_dir: (!args.in_memory).then(|| args.data_dir.clone()),
        genesis: genesis.clone(),
        chain: ChainConfig {
            mining,
            state_history: args.prune_history,
            ..ChainConfig::default()
        },
        limits: RpcLimits::default(),
    };
    let node = Node::start(config)?;
    let signals = node.shutdown_signals()?;
    let data = if args.in_memory {
        "in memory".to_string()
    } else {
        args.data_dir.display().to_string()
    };
    // A closed stdout (a supervisor that stopped reading) must not stop the node.
    let mut stdout = std::io::stdout();
    let _ = std::io::Write::write_all(
        &mut stdout,
        banner(&genesis, &node.url(), mining, &data).as_bytes(),
    );
    let _ = std::io::Write::flush(&mut stdout);
    node.wait_for(signals);
    tracing::info!("shutting down");
    node.stop();
    Ok(ExitCode::SUCCESS)
}
