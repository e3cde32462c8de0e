//! Signing with a memory: consecutive fuzz inputs share most of their transactions, and a
//! secp256k1 signature costs more than executing a transfer. Signing is deterministic (RFC
//! 6979), so a remembered signature is the one signing would give.

use std::cell::RefCell;
use std::collections::HashMap;

use tally_runtime::tx::Transaction;
use tally_runtime::H256;

use crate::chain::tx::{signing_hash, SignedTransaction};
use crate::fuzzing::keys::dev_keys;

/// Signatures remembered at most; the memory is cleared when full.
const REMEMBERED: usize = 4096;

thread_local! {
    static SIGNED: RefCell<HashMap<(usize, H256), SignedTransaction>> =
        RefCell::new(HashMap::new());
}

/// `tx` signed by the development key at `signer`.
pub fn sign(tx: Transaction, signer: usize) -> SignedTransaction {
    let key = (signer, signing_hash(&tx));
    SIGNED.with(|memory| {
        let mut memory = memory.borrow_mut();
        if let Some(signed) = memory.get(&key) {
            return signed.clone();
        }
        if memory.len() >= REMEMBERED {
            memory.clear();
        }
        let signed = SignedTransaction::sign(tx, &dev_keys()[signer].0);
        memory.insert(key, signed.clone());
        signed
    })
}
