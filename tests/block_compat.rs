//! Blocks are byte-compatible with Ethereum: a block produced by the chain (with a contract
//! that logs) gets the same header hash, receipt encodings, receipts root, transactions root
//! and logs bloom from alloy-consensus, an independent Ethereum implementation.

use alloy_consensus::proofs::{calculate_receipt_root, calculate_transaction_root};
use alloy_consensus::{
    Eip658Value, Receipt as AlloyReceipt, ReceiptEnvelope, ReceiptWithBloom, TxEnvelope,
};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, Bloom, Bytes, Log as AlloyLog, LogData, B256, B64, U256 as AU256};
use tally::chain::genesis::Genesis;
use tally::chain::sequencer::{Chain, ChainConfig, MiningMode};
use tally::chain::store::{ChainStore, ReceiptStatus};
use tally::chain::tx::{dev_accounts, SignedTransaction};
use tally_runtime::trie::keccak256;
use tally_runtime::tx::{DeployPayload, Transaction};
use tally_runtime::{H160, U256};

fn signed(
    key: usize,
    nonce: u64,
    to: Option<H160>,
    data: Vec<u8>,
    chain_id: u64,
) -> SignedTransaction {
    let tx = Transaction {
        chain_id,
        nonce,
        max_priority_fee_per_gas: 3u64.into(),
        max_fee_per_gas: 10_000_000_000u64.into(),
        gas_limit: 1_000_000_000,
        to,
        value: U256::zero(),
        data,
    };
    SignedTransaction::sign(tx, &dev_accounts()[key].0)
}

fn call(signature: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut data = keccak256(signature.as_bytes())[..4].to_vec();
    for w in words {
        data.extend_from_slice(w);
    }
    data
}

fn address_word(a: H160) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_bytes());
    w
}

#[test]
fn blocks_match_an_independent_ethereum_implementation() {
    let genesis = Genesis::dev();
    let config = ChainConfig {
        mining: MiningMode::Manual,
        producer: H160::repeat_byte(0xfe),
        ..ChainConfig::default()
    };
    let mut chain = Chain::open(ChainStore::memory(), &genesis, config).unwrap();
    let token = include_bytes!("../contracts/build/token.wasm");
    let owner = dev_accounts()[0].1;
    chain
        .submit(signed(
            0,
            0,
            None,
            DeployPayload::encode(token, &[]),
            genesis.chain_id,
        ))
        .unwrap();
    chain.mine().unwrap();
    let address = tally_runtime::exec::create_address(&owner, 0);
    // A block with logs, a failing transaction and a plain transfer.
    let mint = call(
        "mint(address,uint256)",
        &[address_word(owner), U256::from(500).to_big_endian()],
    );
    let transfer = call(
        "transfer(address,uint256)",
        &[
            address_word(dev_accounts()[1].1),
            U256::from(7).to_big_endian(),
        ],
    );
    let bad_mint = call(
        "mint(address,uint256)",
        &[address_word(owner), U256::one().to_big_endian()],
    );
    chain
        .submit(signed(0, 1, Some(address), mint, genesis.chain_id))
        .unwrap();
    chain
        .submit(signed(0, 2, Some(address), transfer, genesis.chain_id))
        .unwrap();
    chain
        .submit(signed(1, 0, Some(address), bad_mint, genesis.chain_id))
        .unwrap();
    chain
        .submit(signed(
            2,
            0,
            Some(H160::repeat_byte(9)),
            vec![],
            genesis.chain_id,
        ))
        .unwrap();
    chain.set_next_timestamp(1_800_000_000);
    let block = chain.mine().unwrap();
    assert_eq!(block.transactions.len(), 4);
    let receipts = chain.store().receipts(block.header.number).unwrap();
    assert!(receipts.iter().any(|r| r.status == ReceiptStatus::Revert));
    assert!(receipts.iter().map(|r| r.logs.len()).sum::<usize>() >= 2);

    // Transactions: alloy decodes every envelope and computes the same root.
    let envelopes: Vec<TxEnvelope> = block
        .transactions
        .iter()
        .map(|raw| TxEnvelope::decode_2718(&mut raw.as_slice()).unwrap())
        .collect();
    assert_eq!(
        calculate_transaction_root(&envelopes).0,
        block.header.transactions_root.0
    );

    // Receipts: the same encoding and root, and the same logs bloom.
    let mut block_bloom = Bloom::ZERO;
    let alloy_receipts: Vec<ReceiptEnvelope> = receipts
        .iter()
        .map(|r| {
            let logs: Vec<AlloyLog> = r
                .logs
                .iter()
                .map(|l| AlloyLog {
                    address: Address::from(l.address.0),
                    data: LogData::new_unchecked(
                        l.topics.iter().map(|t| B256::from(t.0)).collect(),
                        Bytes::from(l.data.clone()),
                    ),
                })
                .collect();
            let receipt = AlloyReceipt {
                status: Eip658Value::Eip658(r.status == ReceiptStatus::Success),
                cumulative_gas_used: r.cumulative_gas_used,
                logs,
            };
            let with_bloom: ReceiptWithBloom<AlloyReceipt> = receipt.with_bloom();
            block_bloom.accrue_bloom(&with_bloom.logs_bloom);
            ReceiptEnvelope::Eip1559(with_bloom)
        })
        .collect();
    assert_eq!(
        calculate_receipt_root(&alloy_receipts).0,
        block.header.receipts_root.0
    );
    assert_eq!(block_bloom.0 .0, block.header.logs_bloom.0);

    // Header: alloy's London header with the same fields hashes to our block hash.
    let h = &block.header;
    let alloy_header = alloy_consensus::Header {
        parent_hash: B256::from(h.parent_hash.0),
        ommers_hash: alloy_consensus::constants::EMPTY_OMMER_ROOT_HASH,
        beneficiary: Address::from(h.producer.0),
        state_root: B256::from(h.state_root.0),
        transactions_root: B256::from(h.transactions_root.0),
        receipts_root: B256::from(h.receipts_root.0),
        logs_bloom: Bloom::from(h.logs_bloom.0),
        difficulty: AU256::ZERO,
        number: h.number,
        gas_limit: h.gas_limit,
        gas_used: h.gas_used,
        timestamp: h.timestamp,
        extra_data: Bytes::new(),
        mix_hash: B256::ZERO,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(h.base_fee.as_u64()),
        ..Default::default()
    };
    assert_eq!(alloy_header.hash_slow().0, h.hash().0);
}
