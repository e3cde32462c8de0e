//! The bodies of the fuzz targets (`fuzz/`, built with cargo-fuzz), in library code so that
//! saved inputs replay as ordinary tests.
//!
//! Each target is a module with `run(data: &[u8])`, listed in [`TARGETS`]. A body turns the
//! bytes into a structured case with `arbitrary` (running out of bytes just ends the case),
//! runs it, and **panics when an oracle fails**: that is how libFuzzer learns of a bug, and
//! how a replayed input fails its test. The oracles are documented on each module.
//!
//! The module is compiled with the `fuzzing` feature (what `fuzz/` enables) and for this
//! crate's own unit tests, which replay every file under `fuzz/seeds/<target>/` (a few inputs
//! per target, also the start of each fuzzing corpus) and `fuzz/regressions/<target>/`
//! (inputs that found bugs, kept once fixed).

mod abi;
pub mod chain_txs;
mod contracts;
pub mod decoders;
mod host_script;
mod keys;
mod model_host;
mod mutate;
mod reference;
mod smith;
pub mod trie_model;
pub mod validate;
mod vm_case;
pub mod vm_differential;
pub mod vm_exec;

/// A fuzz target's body.
pub type Body = fn(&[u8]);

/// Every fuzz target: its name (the cargo-fuzz binary, and its directories under `fuzz/`)
/// and its body.
pub const TARGETS: [(&str, Body); 6] = [
    ("vm_exec", vm_exec::run),
    ("vm_differential", vm_differential::run),
    ("validate", validate::run),
    ("trie_model", trie_model::run),
    ("chain_txs", chain_txs::run),
    ("decoders", decoders::run),
];

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::TARGETS;

    fn fuzz_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
    }

    /// The files of `fuzz/<kind>/<target>/`, sorted (none if the directory does not exist).
    fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = dir
            .map(|entry| entry.expect("readable directory entry").path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        files
    }

    /// Runs every seed and regression of the target at `index`; panics (naming the file) on
    /// the first oracle failure. Returns the number of seeds.
    fn replay(index: usize) -> usize {
        let (target, run) = TARGETS[index];
        let seeds = inputs("seeds", target);
        for path in seeds.iter().chain(&inputs("regressions", target)) {
            let data = std::fs::read(path).expect("readable fuzz input");
            let result = std::panic::catch_unwind(|| run(&data));
            assert!(result.is_ok(), "{target}: {} fails", path.display());
        }
        seeds.len()
    }

    #[test]
    fn every_target_has_a_fuzz_binary_and_seeds() {
        let binaries = std::fs::read_dir(fuzz_dir().join("fuzz_targets")).expect("fuzz_targets");
        let mut names: Vec<String> = binaries
            .map(|e| e.expect("entry").path())
            .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
            .collect();
        names.sort();
        let mut expected: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected);
        for (target, _) in TARGETS {
            assert!(inputs("seeds", target).len() >= 3, "{target} needs seeds");
        }
    }

    #[test]
    fn vm_exec_inputs_replay() {
        assert!(replay(0) > 0);
    }

    /// Deterministic pseudo-random bytes (splitmix64).
    fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                (z ^ (z >> 31)) as u8
            })
            .collect()
    }

    /// More `vm_exec` cases than the seeds: generated modules are accepted, compile, run
    /// deterministically and exactly at the gas-limit boundary, and the generator exercises
    /// the VM (most cases are accepted, many run to the end).
    #[test]
    fn generated_vm_cases_pass_the_vm_exec_oracles() {
        use super::vm_exec::{check, Checked};
        let cases = 60;
        let checked: Vec<Checked> = (0..cases)
            .map(|seed| check(&pseudo_random(seed, 2048)))
            .collect();
        let count = |what| checked.iter().filter(|c| **c == what).count();
        assert_eq!(count(Checked::Incomplete) + count(Checked::Rejected), 0);
        assert!(
            count(Checked::Finished) >= cases as usize / 4,
            "{checked:?}"
        );
        assert!(count(Checked::Trapped) >= 1, "{checked:?}");
    }

    #[test]
    fn vm_differential_inputs_replay() {
        assert!(replay(1) > 0);
    }

    #[test]
    fn validate_inputs_replay() {
        assert!(replay(2) > 0);
    }

    #[test]
    fn trie_model_inputs_replay() {
        assert!(replay(3) > 0);
    }

    #[test]
    fn chain_txs_inputs_replay() {
        assert!(replay(4) > 0);
    }

    #[test]
    fn decoders_inputs_replay() {
        assert!(replay(5) > 0);
    }
}
