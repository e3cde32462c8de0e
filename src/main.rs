//! The `tally` command-line tool.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: a block's many short-lived allocations cost
/// less, and its arenas sit on transparent huge pages, so the trie's nodes, reached at random,
/// miss the TLB far less (measured in docs/node.md, "Memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = tally::cli::Cli::parse();
    match tally::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
