//! A stock Ethereum client, not written by us, against `tally node`: web3.py with eth-account
//! deploys the token, calls it through a contract object built from its ABI JSON, decodes its
//! events, and verifies an EIP-1186 proof with py-trie (`tests/web3/token_flow.py`).
//!
//! The Python packages come from `.ci/run` (a virtual environment whose interpreter it names
//! in `TALLY_PYTHON`, with `TALLY_REQUIRE_WEB3=1` so that a missing package fails the test).
//! Elsewhere the test says it is skipped when they are not installed.

mod support;

use std::path::Path;
use std::process::Command;

use support::node::start;
use tally::chain::sequencer::MiningMode;

#[test]
fn web3_py_deploys_transfers_decodes_events_and_verifies_proofs() {
    let python = std::env::var("TALLY_PYTHON").unwrap_or_else(|_| "python3".into());
    let installed = Command::new(&python)
        .args(["-c", "import web3, eth_account, trie, rlp"])
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var_os("TALLY_REQUIRE_WEB3").is_none(),
            "TALLY_REQUIRE_WEB3 is set but {python} cannot import web3, eth_account, trie and rlp"
        );
        eprintln!("skipped: {python} lacks web3.py, eth-account or trie (pip install web3 eth-account trie)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let node = start(MiningMode::OnDemand);
    let output = Command::new(&python)
        .arg(root.join("tests/web3/token_flow.py"))
        .arg(node.url())
        .arg(root.join("contracts/build/token.wasm"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "web3.py flow failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("ok storage proof: holder balance"),
        "{stdout}"
    );
    assert!(stdout.ends_with("all checks passed\n"), "{stdout}");
    node.stop();
}
