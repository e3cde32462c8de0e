//! What the node logs (with `tracing`): each block it mines and each transaction in it.

use tracing::{info, warn};

use crate::chain::sequencer::Chain;
use crate::chain::store::ReceiptStatus;

/// Runs `op` on the chain, then logs every block it mined.
pub fn mined_by<T, E>(
    chain: &mut Chain,
    op: impl FnOnce(&mut Chain) -> Result<T, E>,
) -> Result<T, E> {
    let before = chain.head().number;
    let result = op(chain);
    log_blocks(chain, before + 1..=chain.head().number);
    result
}

/// Logs the blocks `numbers` and their transactions. A block that cannot be read is
/// reported, not fatal: logging never fails a request.
pub fn log_blocks(chain: &Chain, numbers: std::ops::RangeInclusive<u64>) {
    for number in numbers {
        let (block, receipts) = match (chain.store().block(number), chain.store().receipts(number))
        {
            (Ok(Some(block)), Ok(receipts)) => (block, receipts),
            _ => {
                warn!(number, "block mined but not readable for the log");
                continue;
            }
        };
        for r in &receipts {
            let status = match &r.status {
                ReceiptStatus::Success => "success".to_string(),
                ReceiptStatus::Revert => "reverted".to_string(),
                ReceiptStatus::Failure(reason) => format!("failed: {reason}"),
            };
            info!(
                hash = ?r.transaction_hash,
                from = ?r.from,
                to = ?r.to,
                created = ?r.contract_address,
                gas_used = r.gas_used,
                status,
                "transaction"
            );
        }
        info!(
            number,
            hash = ?block.header.hash(),
            transactions = receipts.len(),
            gas_used = block.header.gas_used,
            base_fee = %block.header.base_fee,
            "block mined"
        );
    }
}
