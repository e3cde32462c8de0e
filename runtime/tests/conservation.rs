//! Property tests over random transaction sequences: value is conserved (balances + burned
//! base fees equal the genesis supply) and replaying the same sequence gives the same root.

mod support;

use proptest::prelude::*;
use support::*;
use tally_runtime::exec::{BlockContext, ExecError, Runtime};
use tally_runtime::trie::MemoryStore;
use tally_runtime::{H160, H256, U256};

const SENDERS: u8 = 3;
const FUNDS: u64 = 1_000_000_000_000_000;

/// What one random transaction does.
#[derive(Clone, Debug)]
enum Op {
    /// A plain transfer to one of a few addresses (some without accounts yet).
    Transfer { to: u8, value: u64 },
    /// A call into probe `probe` sending `value`, whose script moves value onwards, calls the
    /// other probe, reverts or runs out of gas.
    Probe {
        probe: usize,
        value: u64,
        action: u8,
        amount: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u64..5_000).prop_map(|(to, value)| Op::Transfer { to, value }),
        (0usize..2, 0u64..5_000, 0u8..5, 0u64..8_000).prop_map(|(probe, value, action, amount)| {
            Op::Probe {
                probe,
                value,
                action,
                amount,
            }
        }),
    ]
}

#[derive(Clone, Debug)]
struct Tx {
    sender: u8,
    op: Op,
    gas_limit: u64,
    priority_fee: u64,
    fee_headroom: u64,
    /// Use a wrong nonce, making the transaction invalid.
    bad_nonce: bool,
}

fn transaction() -> impl Strategy<Value = Tx> {
    // From the intrinsic gas of a plain transaction (some too low for calldata) to a hundred
    // times it: enough for some calls to finish, not for all.
    let intrinsic = tally_runtime::costs::RuntimeCosts::default().transaction;
    (
        0..SENDERS,
        op(),
        intrinsic..intrinsic * 100,
        0u64..5,
        0u64..20,
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(sender, op, gas_limit, priority_fee, fee_headroom, bad_nonce)| Tx {
                sender,
                op,
                gas_limit,
                priority_fee,
                fee_headroom,
                bad_nonce,
            },
        )
}

fn sender(i: u8) -> H160 {
    addr(i + 1)
}

/// Every address a sequence can touch.
fn touched(probes: &[H160]) -> Vec<H160> {
    let mut all: Vec<H160> = (0..SENDERS).map(sender).collect();
    all.extend((0..6).map(|i| addr(100 + i)));
    all.extend_from_slice(probes);
    all.push(PRODUCER);
    all
}

fn total(rt: &mut Runtime<MemoryStore>, addresses: &[H160]) -> U256 {
    addresses
        .iter()
        .map(|a| rt.state_mut().balance(a).unwrap())
        .fold(U256::zero(), |sum, b| sum + b)
}

/// Runs `txs` from genesis; returns the state root, the burned total and the final supply.
fn replay(txs: &[Tx]) -> (H256, U256, U256) {
    let genesis: Vec<(H160, u64)> = (0..SENDERS).map(|i| (sender(i), FUNDS)).collect();
    let mut rt = runtime(&genesis);
    let mut burned = U256::zero();
    let mut setup = block(1);
    let probes = vec![
        deploy_probe_in(&mut rt, &mut setup, sender(0), 0),
        deploy_probe_in(&mut rt, &mut setup, sender(0), 1),
    ];
    burned += setup.burned;
    let addresses = touched(&probes);
    let supply = U256::from(FUNDS) * U256::from(SENDERS);
    for (n, chunk) in txs.chunks(4).enumerate() {
        let mut b: BlockContext = block(2 + n as u64);
        for t in chunk {
            let from = sender(t.sender);
            let mut nonce = rt.state_mut().nonce(&from).unwrap();
            if t.bad_nonce {
                nonce += 1;
            }
            let (to, value, data) = match &t.op {
                Op::Transfer { to, value } => (addr(100 + to), *value, vec![]),
                Op::Probe {
                    probe,
                    value,
                    action,
                    amount,
                } => {
                    let other = probes[1 - probe];
                    let script = match action {
                        0 => Script::new().transfer(addr(100 + (*amount % 6) as u8), *amount),
                        1 => Script::new().call(other, *amount, u64::MAX, &Script::new()),
                        2 => Script::new().transfer(addr(101), *amount).revert(),
                        3 => Script::new().call(other, *amount, 10_000_000, &Script::new().spin()),
                        _ => Script::new().transfer(addr(102), *amount).spin(),
                    };
                    (probes[*probe], *value, script.bytes())
                }
            };
            let mut transaction = tx(nonce, Some(to), value, data, t.gas_limit);
            transaction.max_priority_fee_per_gas = t.priority_fee.into();
            transaction.max_fee_per_gas = (BASE_FEE + t.fee_headroom).into();
            // Invalid transactions (a bad nonce, a fee below the base fee...) are expected;
            // any other error is a failure of the runtime itself.
            match rt.transact(&mut b, from, &transaction) {
                Ok(_) | Err(ExecError::Invalid(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
        burned += b.burned;
        rt.state_mut().commit(2 + n as u64).unwrap();
        assert_eq!(
            total(&mut rt, &addresses) + burned,
            supply,
            "after block {n}"
        );
    }
    let root = rt.state_mut().root().unwrap();
    (root, burned, total(&mut rt, &addresses))
}

fn deploy_probe_in(
    rt: &mut Runtime<MemoryStore>,
    b: &mut BlockContext,
    from: H160,
    nonce: u64,
) -> H160 {
    let data = tally_runtime::tx::DeployPayload::encode(&probe_code(), &[]);
    let receipt = rt
        .transact(b, from, &tx(nonce, None, 0, data, TX_GAS))
        .unwrap();
    receipt.contract_address.expect("probe deployed")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn value_is_conserved_and_replay_is_deterministic(txs in proptest::collection::vec(transaction(), 1..40)) {
        let (root, burned, supply) = replay(&txs);
        prop_assert_eq!(supply + burned, U256::from(FUNDS) * U256::from(SENDERS));
        let (again, burned_again, _) = replay(&txs);
        prop_assert_eq!(root, again);
        prop_assert_eq!(burned, burned_again);
    }
}
