// TEMPORARY profiling harness (to be deleted).
use std::time::Instant;
use tally_runtime::trie::{MemoryStore, NodeStore, RedbStore, Trie};

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
        for c in out.chunks_exact_mut(8) {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        out
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut rng = Rng(1);
    let data: Vec<_> = (0..1_000_000).map(|_| (rng.word(), rng.word())).collect();
    if mode == "keccak" {
        for len in [70usize, 200, 532] {
            let buf = vec![7u8; len];
            let t = Instant::now();
            let mut acc = 0u8;
            for _ in 0..200_000 {
                acc ^= tally_runtime::trie::keccak256(&buf)[0];
            }
            println!("keccak {len}B: {:?}/hash ({acc})", t.elapsed() / 200_000);
        }
        return;
    }
    if mode == "build" {
        for _ in 0..3 {
            let t = Instant::now();
            let mut trie = Trie::new(MemoryStore::new());
            for (k, v) in &data {
                trie.insert(k, v).unwrap();
            }
            let ins = t.elapsed();
            trie.root();
            let all = t.elapsed();
            drop(trie);
            println!(
                "insert {:?} root {:?} drop {:?}",
                ins,
                all - ins,
                t.elapsed() - all
            );
        }
        let mut trie = Trie::new(MemoryStore::new());
        for (k, v) in &data {
            trie.insert(k, v).unwrap();
        }
        trie.root();
        for n in [1000, 10000, 10000] {
            let batch: Vec<_> = (0..n)
                .map(|_| (data[(rng.next_u64() % 1_000_000) as usize].0, rng.word()))
                .collect();
            let t = Instant::now();
            for (k, v) in &batch {
                trie.insert(k, v).unwrap();
            }
            let ins = t.elapsed();
            trie.root();
            println!("{n} updates: insert {:?} root {:?}", ins, t.elapsed() - ins);
        }
        return;
    }
    let path = std::env::temp_dir().join("tally-trie-profile.redb");
    let _ = std::fs::remove_file(&path);
    let mut store = RedbStore::open(&path).unwrap();
    if mode == "nondurable" {
        store.set_durable(false);
    }
    let mut trie = Trie::new(store.clone());
    for (k, v) in &data {
        trie.insert(k, v).unwrap();
    }
    trie.commit(1).unwrap();
    for version in 2..8 {
        for _ in 0..10_000 {
            let k = data[(rng.next_u64() % 1_000_000) as usize].0;
            trie.insert(&k, &rng.word()).unwrap();
        }
        trie.root();
        let t = Instant::now();
        let c = trie.prepare_commit(version).unwrap();
        let prep = t.elapsed();
        let sort = prep;
        let t2 = Instant::now();
        store.write(&c.batch).unwrap();
        let write = t2.elapsed();
        trie.finish_commit(&c).unwrap();
        let bytes: usize = c.batch.nodes.iter().map(|n| n.1.len() + 40).sum();
        println!("v{version}: nodes {} stale {} bytes {} prepare {:?} sortkeys {:?} write {:?} finish {:?}", c.batch.nodes.len(), c.batch.stale.len(), bytes, prep, sort, write, t2.elapsed() - write);
    }
    let _ = std::fs::remove_file(&path);
}
#[allow(dead_code)]
fn keccak_floor() {}
