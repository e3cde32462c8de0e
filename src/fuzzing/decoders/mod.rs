//! `decoders`: every decoder of untrusted bytes, one arm per format, chosen by the first bytes
//! of the input: signed transactions (raw, and mutations of fuzzed signed ones), block headers,
//! accounts, deploy payloads, Merkle proofs, ABI calldata and constructor input (into the
//! example contracts, see [`calldata`]), genesis JSON and JSON-RPC request bodies into the
//! node's methods ([`json_rpc`]).
//!
//! A new format is one more variant of [`Arm`] and one more line in [`run`].

mod calldata;
mod json_rpc;
mod rlp;

use arbitrary::{Arbitrary, Unstructured};

use crate::chain::genesis::Genesis;

/// The decoder an input goes to.
#[derive(Arbitrary, Debug)]
enum Arm {
    RawTransaction,
    Transaction,
    Header,
    Account,
    DeployPayload,
    Proof,
    Calldata,
    GenesisJson,
    JsonRpc,
}

/// Runs one input; panics when an oracle fails.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(arm) = u.arbitrary::<Arm>() else {
        return;
    };
    // An `Err` is only the input running out before the case was complete.
    let _ = match arm {
        Arm::RawTransaction => {
            rlp::raw_transaction(u.take_rest());
            Ok(())
        }
        Arm::Transaction => rlp::transaction(&mut u),
        Arm::Header => rlp::header(&mut u),
        Arm::Account => rlp::account(&mut u),
        Arm::DeployPayload => {
            rlp::deploy_payload(u.take_rest());
            Ok(())
        }
        Arm::Proof => rlp::proof(&mut u),
        Arm::Calldata => calldata::check(&mut u),
        Arm::GenesisJson => {
            genesis_json(u.take_rest());
            Ok(())
        }
        Arm::JsonRpc => {
            json_rpc::check(u.take_rest());
            Ok(())
        }
    };
}

/// Genesis files are user input: parsing never panics, whatever the bytes.
fn genesis_json(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Genesis::from_json(text);
    }
}
