//! Benchmarks of the Merkle-Patricia trie (tally-runtime): full root builds against
//! alloy-trie's HashBuilder, incremental roots, durable redb commits (against a hash-keyed
//! layout), and proofs. Run with `cargo bench --bench trie`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy_trie::{HashBuilder, Nibbles};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use redb::{Database, TableDefinition};
use tally_runtime::trie::{
    keccak256, ordered_root_on, verify_proof, MemoryStore, NodeStore, Reclaim, RedbStore, Trie,
};

/// The node's allocator (see `src/main.rs`), so the figures are the node's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MILLION: usize = 1_000_000;

/// SplitMix64, seeded: the same keys on every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn word(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        out
    }
}

fn entries(n: usize, seed: u64) -> Vec<([u8; 32], [u8; 32])> {
    let mut rng = Rng(seed);
    (0..n).map(|_| (rng.word(), rng.word())).collect()
}

fn build(store_entries: &[([u8; 32], [u8; 32])]) -> Trie<MemoryStore> {
    let mut trie = Trie::new(MemoryStore::new());
    for (k, v) in store_entries {
        trie.insert(k, v).expect("in-memory insert");
    }
    trie
}

fn alloy_full_root(data: &[([u8; 32], [u8; 32])]) -> [u8; 32] {
    let mut sorted = data.to_vec();
    sorted.sort_unstable_by_key(|a| a.0);
    let mut hb = HashBuilder::default();
    for (k, v) in &sorted {
        hb.add_leaf(Nibbles::unpack(k), v);
    }
    hb.root().0
}

fn tally_ordered(data: &[([u8; 32], [u8; 32])], threads: usize) -> [u8; 32] {
    let mut sorted = data.to_vec();
    sorted.sort_unstable_by_key(|a| a.0);
    ordered_root_on(&sorted, threads)
}

fn full_root(c: &mut Criterion) {
    let data = entries(MILLION, 1);
    let mut ours = build(&data);
    assert_eq!(
        ours.root(),
        alloy_full_root(&data),
        "same root as alloy-trie"
    );
    drop(ours);
    let mut group = c.benchmark_group("full_root_1m");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(MILLION as u64));
    group.bench_function("tally_insert_and_root", |b| {
        b.iter(|| {
            let mut t = build(&data);
            t.root()
        })
    });
    group.bench_function("tally_sort_and_ordered_root_1_thread", |b| {
        b.iter(|| tally_ordered(&data, 1))
    });
    group.bench_function("tally_sort_and_ordered_root_2_threads", |b| {
        b.iter(|| tally_ordered(&data, 2))
    });
    group.bench_function("alloy_sort_and_hash_builder", |b| {
        b.iter(|| alloy_full_root(&data))
    });
    group.finish();
}

fn incremental(c: &mut Criterion) {
    let data = entries(MILLION, 2);
    let mut trie = build(&data);
    trie.root();
    let mut rng = Rng(3);
    let mut group = c.benchmark_group("incremental_root_1m");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    // `insert_batch` (paths walked together first) at both sizes, and 1,000 single inserts for
    // the ratio between them.
    for (name, updates, batched) in [
        ("update_and_root", 1_000usize, true),
        ("update_and_root", 10_000, true),
        ("update_one_at_a_time_and_root", 1_000, false),
    ] {
        group.throughput(Throughput::Elements(updates as u64));
        group.bench_with_input(BenchmarkId::new(name, updates), &updates, |b, &n| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let batch: Vec<_> = (0..n)
                        .map(|_| {
                            (
                                data[(rng.next_u64() % MILLION as u64) as usize].0,
                                rng.word(),
                            )
                        })
                        .collect();
                    let start = Instant::now();
                    if batched {
                        trie.insert_batch(&batch).expect("insert");
                    } else {
                        for (k, v) in &batch {
                            trie.insert(k, v).expect("insert");
                        }
                    }
                    std::hint::black_box(trie.root());
                    total += start.elapsed();
                }
                total
            })
        });
    }
    // The ceiling keccak sets: the nodes that updating 1,000 random keys re-hashes (every node
    // on their paths, each once) hashed with nothing else, in the same run.
    let mut rehashed = BTreeSet::new();
    for _ in 0..1_000 {
        let key = data[(rng.next_u64() % MILLION as u64) as usize].0;
        rehashed.extend(trie.proof(&key).expect("proof"));
    }
    let rehashed: Vec<Vec<u8>> = rehashed.into_iter().collect();
    eprintln!(
        "[trie] 1,000 updates in a 1M trie re-hash {} nodes ({} bytes)",
        rehashed.len(),
        rehashed.iter().map(Vec::len).sum::<usize>()
    );
    group.throughput(Throughput::Elements(1_000));
    group.bench_function(
        BenchmarkId::new("keccak_of_rehashed_nodes_only", 1_000),
        |b| {
            b.iter(|| {
                for node in &rehashed {
                    std::hint::black_box(keccak256(node));
                }
            })
        },
    );
    group.finish();
}

const BASELINE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("nodes_by_hash");

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("tally-trie-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// Writes a commit's node records keyed by keccak of the record (random keys), as a
/// hash-keyed node store would.
fn write_hash_keyed(db: &Database, records: &[Vec<u8>]) {
    let txn = db.begin_write().expect("begin");
    {
        let mut table = txn.open_table(BASELINE).expect("table");
        for record in records {
            table
                .insert(keccak256(record).as_slice(), record.as_slice())
                .expect("insert");
        }
    }
    txn.commit().expect("commit");
}

fn file_mb(p: &PathBuf) -> f64 {
    std::fs::metadata(p)
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0)
}

/// Commits recorded for the hash-keyed baseline: at most this many, replayed in turn.
const RECORDED_COMMITS: usize = 40;
/// Versions kept by the pruned durable-commit benchmark.
const KEPT_VERSIONS: u64 = 16;

/// The oldest version kept when `latest` is the newest: the last [`KEPT_VERSIONS`] stay.
fn keep_from(latest: u64) -> u64 {
    (latest + 1).saturating_sub(KEPT_VERSIONS)
}

fn durable_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("durable_commit_10k_updates");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for keys in [MILLION, 3 * MILLION] {
        let data = entries(keys, 4 + keys as u64);
        let ours_path = tmp(&format!("ours-{keys}.redb"));
        let base_path = tmp(&format!("hash-{keys}.redb"));
        let store = RedbStore::open(&ours_path).expect("open");
        let mut trie = Trie::new(store.clone());
        for (k, v) in &data {
            trie.insert(k, v).expect("insert");
        }
        let start = Instant::now();
        let initial = trie.prepare_commit(1).expect("prepare");
        store.write(&initial.batch).expect("write");
        trie.finish_commit(&initial).expect("finish");
        eprintln!(
            "[trie] {keys} keys: initial commit of {} nodes in {:?} ({:.0} MB)",
            initial.batch.nodes.len(),
            start.elapsed(),
            file_mb(&ours_path)
        );
        let mut version = 1u64;
        let mut rng = Rng(5);
        let mut root_time = Duration::ZERO;
        let mut commits = 0u32;
        // Each measured commit's records, for the baseline below (not timed).
        let mut recorded: Vec<Vec<Vec<u8>>> = Vec::new();
        // One block: 10,000 random updates, the root (not part of the measured commit, but
        // reported: for a trie that commits, hashing also builds and gathers the new nodes'
        // records), then the measured commit. Returns the commit's time.
        let mut block = |trie: &mut Trie<RedbStore>, version: u64| {
            for _ in 0..10_000 {
                let k = data[(rng.next_u64() % keys as u64) as usize].0;
                trie.insert(&k, &rng.word()).expect("insert");
            }
            let start = Instant::now();
            trie.root();
            root_time += start.elapsed();
            let start = Instant::now();
            let commit = trie.prepare_commit(version).expect("prepare");
            store.write(&commit.batch).expect("write");
            trie.finish_commit(&commit).expect("finish");
            let elapsed = start.elapsed();
            commits += 1;
            if recorded.len() < RECORDED_COMMITS {
                recorded.push(commit.batch.nodes.iter().map(|n| n.1.clone()).collect());
            }
            elapsed
        };
        group.bench_function(BenchmarkId::new("tally_version_path_layout", keys), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    version += 1;
                    total += block(&mut trie, version);
                }
                total
            })
        });
        let grown_mb = file_mb(&ours_path);
        // The same commits on a store pruned as a chain keeping the last KEPT_VERSIONS states
        // prunes it (lazily, as the chain does): the file stops growing and commits reuse the
        // freed pages. First the versions the unpruned commits left, at once (reported).
        let start = Instant::now();
        let bulk = store
            .prune(keep_from(version), Reclaim::Lazy)
            .expect("prune");
        eprintln!(
            "[trie] {keys} keys: pruning the versions before {} took {:?} ({bulk:?})",
            keep_from(version),
            start.elapsed()
        );
        // Measured: the commit and the prune after it, a chain block's whole storage cost.
        let (mut commit_times, mut prune_times) = (Vec::new(), Vec::new());
        group.bench_function(
            BenchmarkId::new("tally_commit_and_lazy_prune_keep_16", keys),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        version += 1;
                        let commit = block(&mut trie, version);
                        let start = Instant::now();
                        store
                            .prune(keep_from(version), Reclaim::Lazy)
                            .expect("prune");
                        let prune = start.elapsed();
                        total += commit + prune;
                        commit_times.push(commit);
                        prune_times.push(prune);
                    }
                    total
                })
            },
        );
        let mean = |times: &[Duration]| times.iter().sum::<Duration>() / times.len().max(1) as u32;
        eprintln!(
            "[trie] {keys} keys, pruned lazily to 16 versions, over {} blocks: commit {:?} and \
             prune {:?} on average, prune at most {:?}; file {grown_mb:.0} MB before pruning, \
             {:.0} MB after; {} records held",
            prune_times.len(),
            mean(&commit_times),
            mean(&prune_times),
            prune_times.iter().max().copied().unwrap_or_default(),
            file_mb(&ours_path),
            store.node_count().expect("count"),
        );
        let nodes_per_commit = recorded.iter().map(Vec::len).sum::<usize>() / recorded.len().max(1);
        eprintln!(
            "[trie] {keys} keys: {nodes_per_commit} nodes per 10k-update commit; root() before \
             each commit (unmeasured, includes building and gathering the records): {:?} on \
             average over {commits} commits; file {:.0} MB",
            root_time / commits.max(1),
            file_mb(&ours_path),
        );
        // Reads from disk still work after the commits.
        let reopened = Trie::open(store.clone(), [0; 32], version).expect("reopen");
        let probe = data[7].0;
        assert!(reopened.get(&probe).expect("get").is_some());
        drop((trie, reopened, store, data));

        // Baseline, after (not between) the measured commits so that neither disturbs the
        // other: the same records in a hash-keyed layout, loaded with the initial commit's
        // records first.
        let baseline = Database::create(&base_path).expect("create");
        let start = Instant::now();
        let initial_records: Vec<Vec<u8>> =
            initial.batch.nodes.iter().map(|n| n.1.clone()).collect();
        drop(initial);
        write_hash_keyed(&baseline, &initial_records);
        drop(initial_records);
        eprintln!(
            "[trie] {keys} keys: hash-keyed initial load in {:?} ({:.0} MB)",
            start.elapsed(),
            file_mb(&base_path)
        );
        let mut next = 0;
        group.bench_function(BenchmarkId::new("hash_keyed_layout", keys), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    write_hash_keyed(&baseline, &recorded[next % recorded.len()]);
                    total += start.elapsed();
                    next += 1;
                }
                total
            })
        });
        eprintln!(
            "[trie] {keys} keys: files {:.0} MB (ours) vs {:.0} MB (hash-keyed)",
            file_mb(&ours_path),
            file_mb(&base_path)
        );
        drop(baseline);
        let _ = std::fs::remove_file(&ours_path);
        let _ = std::fs::remove_file(&base_path);
    }
    group.finish();
}

fn proofs(c: &mut Criterion) {
    let data = entries(MILLION, 6);
    let mut trie = build(&data);
    let root = trie.root();
    let probes: Vec<[u8; 32]> = data.iter().step_by(9973).map(|e| e.0).collect();
    let proofs: Vec<Vec<Vec<u8>>> = probes
        .iter()
        .map(|k| trie.proof(k).expect("proof"))
        .collect();
    let nodes: usize = proofs.iter().map(Vec::len).sum();
    let bytes: usize = proofs.iter().flatten().map(Vec::len).sum();
    eprintln!(
        "[trie] proofs at 1M keys: {:.2} nodes, {:.0} bytes on average",
        nodes as f64 / proofs.len() as f64,
        bytes as f64 / proofs.len() as f64
    );
    let by_key: BTreeMap<_, _> = data.iter().cloned().collect();
    let mut group = c.benchmark_group("proof_1m");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    let mut i = 0;
    group.bench_function("generate", |b| {
        b.iter(|| {
            i = (i + 1) % probes.len();
            trie.proof(&probes[i]).expect("proof")
        })
    });
    let mut j = 0;
    group.bench_function("verify", |b| {
        b.iter(|| {
            j = (j + 1) % probes.len();
            let value = verify_proof(&root, &probes[j], &proofs[j]).expect("valid");
            debug_assert_eq!(value.as_deref(), by_key.get(&probes[j]).map(|v| &v[..]));
            value
        })
    });
    group.finish();
}

criterion_group!(benches, full_root, incremental, durable_commit, proofs);
criterion_main!(benches);
