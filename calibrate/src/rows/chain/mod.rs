//! Rows measured through the chain, so that everything a block does for an operation is in its
//! time: decoding and recovering the sender, execution, the state root, receipts and their
//! root, and the durable commit. Storage, account, log, call and create host functions, and
//! the runtime's costs (transactions, calldata, storage writes, value moves, new accounts).

mod contracts;
mod fixture;

use std::cell::RefCell;
use std::rc::Rc;

use tally_vm::HostFn;

pub use fixture::Fixture;

use crate::env::{Env, Scale};
use crate::error::Error;
use crate::param::{Param, RuntimeCost};
use crate::row::{Group, Probe, Region, Row, Run};
use contracts::{unique_template, Op, ProbeCall};
use fixture::{sink, Pool};

/// How the probe is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// In a transaction mined into a block: the block's own work (roots, receipts, the durable
    /// commit) is measured too. For what changes state or emits logs.
    Block,
    /// In a read-only call: only the execution, without a block's noise. For what only reads
    /// or copies.
    View,
}

/// How a size becomes a probe call.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// `size` operations with `arg`; a unit is an operation.
    Calls { arg: u64 },
    /// `calls` operations on `size` words each (`arg` is the byte count); a unit is a word.
    Words { calls: u64 },
}

/// What a run of a [`ChainProbe`] sends.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// The probe runs `op` over fresh items of `pool` (one per operation).
    Probe {
        mode: Mode,
        op: Op,
        pool: Option<Pool>,
        shape: Shape,
    },
    /// `size` transactions without data, from fresh senders.
    Transactions,
    /// One transaction with `size` bytes of data, all equal to the given byte.
    Calldata(u8),
    /// `size` transactions creating a contract, from fresh senders.
    Creates,
}

struct ChainProbe {
    fixture: Rc<RefCell<Fixture>>,
    kind: Kind,
}

impl Probe for ChainProbe {
    fn run(&mut self, size: u64, region: &mut Region) -> Result<Run, Error> {
        let mut fixture = self.fixture.borrow_mut();
        let (gas, units) = match self.kind {
            Kind::Probe {
                mode,
                op,
                pool,
                shape,
            } => {
                let (n, arg, units) = match shape {
                    Shape::Calls { arg } => (size, arg, size),
                    Shape::Words { calls } => (calls, size * 32, size * calls),
                };
                let start = match pool {
                    Some(pool) => fixture.take(pool, n)?,
                    None => 0,
                };
                let call = ProbeCall { op, n, start, arg };
                (run(&mut fixture, mode, call, region)?, units)
            }
            Kind::Transactions => {
                let txs = (0..size).map(|_| (Some(sink()), Vec::new())).collect();
                (fixture.transactions(txs, region)?, size)
            }
            Kind::Calldata(byte) => {
                let txs = vec![(Some(sink()), vec![byte; size as usize])];
                (fixture.transactions(txs, region)?, size)
            }
            Kind::Creates => {
                let first = fixture.take(Pool::Unique, size)?;
                let txs = (first..first + size)
                    .map(|n| (None, unique_template(n)))
                    .collect();
                (fixture.transactions(txs, region)?, size)
            }
        };
        Ok(Run { units, gas })
    }
}

/// Runs the probe once in `mode`.
fn run(
    fixture: &mut Fixture,
    mode: Mode,
    call: ProbeCall,
    region: &mut Region,
) -> Result<u64, Error> {
    match mode {
        Mode::Block => fixture.probe(call, region),
        Mode::View => fixture.view(call, region),
    }
}

/// A row with one variant running `kind`.
fn row(name: &str, group: Group, own: Param, sizes: [u64; 5], kind: Kind) -> Row {
    Row::new(name, group, own)
        .sizes(sizes)
        .variant("chain", move |env: &Env| {
            Ok(ChainProbe {
                fixture: env.fixture()?,
                kind,
            })
        })
}

fn looped(mode: Mode, op: Op, pool: Option<Pool>, arg: u64) -> Kind {
    Kind::Probe {
        mode,
        op,
        pool,
        shape: Shape::Calls { arg },
    }
}

fn words(mode: Mode, op: Op, pool: Option<Pool>, calls: u64) -> Kind {
    Kind::Probe {
        mode,
        op,
        pool,
        shape: Shape::Words { calls },
    }
}

/// Every chain row, in the order their quantities are priced.
pub fn rows(scale: Scale) -> Vec<Row> {
    use Group::{State, Transaction};
    use HostFn::*;
    use Mode::{Block, View};
    // Reads and copies are cheap and run in views: many per run. Writes run in blocks.
    let reads = scale.pick([0, 64, 128, 192, 256], [0, 2_048, 4_096, 6_144, 8_192]);
    let writes = scale.pick([0, 64, 128, 192, 256], [0, 512, 1_024, 1_536, 2_048]);
    let creates = scale.pick([0, 4, 8, 12, 16], [0, 16, 32, 48, 64]);
    let bytes = scale.pick(
        [0, 32_768, 65_536, 98_304, 131_072],
        [0, 131_072, 262_144, 393_216, 524_288],
    );
    let mib = 32_768;
    let mib_words = [1, mib / 4, mib / 2, 3 * mib / 4, mib];
    let returned = [0, 512, 1_024, 1_536, 2_047];
    let slots = Some(Pool::ExistingSlot);
    let accounts = Some(Pool::ExistingAccount);
    let unique = Some(Pool::Unique);
    vec![
        row("transaction", Transaction, Param::Runtime(RuntimeCost::Transaction), scale.pick([1, 16, 32, 48, 64], [1, 64, 128, 192, 256]), Kind::Transactions)
            .unit("a transaction without data, from a sender never seen before")
            .worst_case("the sender is recovered on one core; its account is read cold; the transaction is encoded, hashed into the block's roots and stored"),
        row("calldata zero byte", Transaction, Param::Runtime(RuntimeCost::CalldataZeroByte), bytes, Kind::Calldata(0))
            .unit("a zero byte of transaction data")
            .worst_case("512 KiB of data: hashed for the signature and the block, stored with the block"),
        row("calldata non-zero byte", Transaction, Param::Runtime(RuntimeCost::CalldataNonzeroByte), bytes, Kind::Calldata(0xff))
            .unit("a non-zero byte of transaction data")
            .worst_case("as for zero bytes"),
        row("storage_read", State, Param::HostBase(StorageRead), reads, looped(View, Op::StorageRead, slots, 0))
            .unit("a read of a slot")
            .worst_case("every slot read for the first time, at random in a storage trie of the full state size read from the store"),
        row("storage_write", State, Param::HostBase(StorageWrite), reads, looped(View, Op::StorageRewrite, slots, 0))
            .unit("a write that leaves a slot as it was")
            .worst_case("every slot read for the first time, as for reads"),
        row("storage set", State, Param::Runtime(RuntimeCost::StorageSet), writes, looped(Block, Op::StorageSet, Some(Pool::NewSlot), 0))
            .unit("a write making a zero slot non-zero")
            .worst_case("new slots at random in a large storage trie: each adds a leaf, re-hashes its path and is written durably"),
        row("storage reset", State, Param::Runtime(RuntimeCost::StorageReset), writes, looped(Block, Op::StorageReset, slots, 0))
            .unit("a write changing a non-zero slot to another non-zero value")
            .worst_case("cold slots at random in a large storage trie: each re-hashes its path and is written durably"),
        row("storage clear", State, Param::Runtime(RuntimeCost::StorageClear), writes, looped(Block, Op::StorageClear, slots, 0))
            .unit("a write changing a non-zero slot to zero")
            .worst_case("cold slots at random in a large storage trie: each deletes a leaf and re-hashes its path"),
        row("balance", State, Param::HostBase(Balance), reads, looped(View, Op::Balance, accounts, 0))
            .unit("a balance read")
            .worst_case("every account read for the first time, at random in an account trie of the full state size read from the store"),
        row("transfer", State, Param::HostBase(Transfer), reads, looped(View, Op::TransferZero, accounts, 0))
            .unit("a transfer of nothing")
            .worst_case("the part every transfer pays; moving value is priced by the next rows"),
        row("value transfer", State, Param::Runtime(RuntimeCost::ValueTransfer), writes, looped(Block, Op::TransferOne, accounts, 0))
            .unit("a transfer of value to an existing account")
            .worst_case("every recipient read for the first time; both accounts re-hashed into the state root and written"),
        row("new account", State, Param::Runtime(RuntimeCost::NewAccount), writes, looped(Block, Op::TransferOne, Some(Pool::NewAccount), 0))
            .unit("a transfer of value creating the recipient")
            .worst_case("each creates a leaf in a large account trie"),
        row("emit_log per word", State, Param::HostWord(EmitLog), mib_words, words(Block, Op::LogData, None, 4))
            .unit("a 32-byte word of log data")
            .worst_case("1 MiB of data per log: copied, encoded into the receipt, hashed into the receipts root and stored"),
        row("emit_log", State, Param::HostBase(EmitLog), writes, looped(Block, Op::LogTopics, None, 0))
            .unit("a log with 4 topics (each a word)")
            .worst_case("the most topics: each is added to the bloom filters"),
        row("call per word", State, Param::HostWord(Call), mib_words, words(View, Op::Call, accounts, 8))
            .unit("a 32-byte word of call input")
            .worst_case("1 MiB of input per call"),
        row("call", State, Param::HostBase(Call), reads, looped(View, Op::Call, accounts, 0))
            .unit("a call of a contract with an empty entry point")
            .worst_case("every callee read for the first time; a new instance each time (of a module without memory: pages are priced by instantiation per page)"),
        row("return_data_read per word", State, Param::HostWord(ReturnDataRead), returned, words(View, Op::ReturnData, None, scale.pick(16, 256)))
            .unit("a 32-byte word of return data copied")
            .worst_case("up to the whole output of a call, 64 KiB, at once"),
        row("return_data_read", State, Param::HostBase(ReturnDataRead), reads, looped(View, Op::ReturnData, None, 1))
            .unit("a read of one byte of return data")
            .worst_case("the fixed cost of a copy"),
        row("create per word", State, Param::HostWord(Create), mib_words, words(View, Op::Create, unique, 8))
            .unit("a 32-byte word of constructor input")
            .worst_case("1 MiB of input per creation"),
        row("create", State, Param::HostBase(Create), creates, looped(Block, Op::Create, unique, 0))
            .unit("a creation of a small contract from a contract")
            .worst_case("new code every time: validated, compiled, stored, and its compiled module serialized into the block store"),
        row("create transaction", Transaction, Param::Runtime(RuntimeCost::Create), creates, Kind::Creates)
            .unit("a transaction creating a small contract")
            .worst_case("new code every time, from a new sender"),
    ]
}
