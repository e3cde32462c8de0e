//! Instruction counts, the noise-free second signal: this program runs itself under
//! `valgrind --tool=callgrind` as a child that runs each chosen variant once per size. Callgrind
//! collects only inside [`crate::row::measured_region`] and dumps its count after each call, so
//! the dumps, in order, are the instructions of the runs the child lists on standard output.
//!
//! Under valgrind the VM allocates instances on demand (the pooling allocator reserves more
//! address space than valgrind allows), the run is at the quick scale, and the chain's state is
//! the quick one: counts of instantiation and state rows are of those set-ups.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;
use crate::fit::{fit, Line};

/// The measured region's symbol, as callgrind names it (`--dump-after` takes no wildcard).
const REGION: &str = "tally_calibrate::row::measured_region";

/// Whether valgrind can be run.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One run of the child: which row and variant, how many units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildRun {
    pub row: usize,
    pub variant: usize,
    pub units: u64,
}

impl ChildRun {
    /// The line the child prints for it.
    pub fn line(&self) -> String {
        format!("run {} {} {}", self.row, self.variant, self.units)
    }

    fn parse(line: &str) -> Option<ChildRun> {
        let mut fields = line.strip_prefix("run ")?.split(' ');
        let mut next = || fields.next()?.parse::<u64>().ok();
        Some(ChildRun {
            row: next()? as usize,
            variant: next()? as usize,
            units: next()?,
        })
    }
}

/// The argument naming what a child runs: `row:variant` pairs.
pub fn spec(pairs: &[(usize, usize)]) -> String {
    pairs
        .iter()
        .map(|(r, v)| format!("{r}:{v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses [`spec`].
pub fn parse_spec(spec: &str) -> Result<Vec<(usize, usize)>, Error> {
    spec.split(',')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (r, v) = pair
                .split_once(':')
                .ok_or_else(|| Error::Usage(format!("bad pair {pair}")))?;
            let parse = |s: &str| s.parse::<usize>().map_err(|e| Error::Usage(e.to_string()));
            Ok((parse(r)?, parse(v)?))
        })
        .collect()
}

/// Runs this program under callgrind as a child running `pairs`; returns the instructions per
/// unit of each pair (`None` where the child could not count it). Callgrind's files go to a
/// temporary directory, removed afterwards.
pub fn count(pairs: &[(usize, usize)]) -> Result<Vec<Option<Line>>, Error> {
    let dir =
        std::env::temp_dir().join(format!("tally-calibrate-callgrind-{}", std::process::id()));
    let result = count_in(pairs, &dir);
    // Best effort: a leftover temporary directory is harmless.
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn count_in(pairs: &[(usize, usize)], dir: &Path) -> Result<Vec<Option<Line>>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let out_file = dir.join("callgrind.out");
    let exe = std::env::current_exe().map_err(|e| Error::io("current executable", e))?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--toggle-collect={REGION}"))
        .arg(format!("--dump-after={REGION}"))
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(&exe)
        .arg("--callgrind-child")
        .arg(spec(pairs))
        .output()
        .map_err(|e| Error::io("valgrind", e))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let runs: Vec<ChildRun> = stdout.lines().filter_map(ChildRun::parse).collect();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        eprintln!(
            "callgrind child stopped after {} runs: {}",
            runs.len(),
            tail.join(" / ")
        );
    }
    let counts = dumps(dir, &out_file)?;
    let mut lines = Vec::new();
    for (row, variant) in pairs {
        let points: Vec<(f64, f64)> = runs
            .iter()
            .zip(&counts)
            .filter(|(run, _)| run.row == *row && run.variant == *variant)
            .map(|(run, count)| (run.units as f64, *count as f64))
            .collect();
        lines.push(fit(&points));
    }
    Ok(lines)
}

/// The instruction counts of the dumps `<out_file>.1`, `.2`, ... in order.
fn dumps(dir: &Path, out_file: &Path) -> Result<Vec<u64>, Error> {
    let prefix = format!(
        "{}.",
        out_file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("callgrind.out")
    );
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let n = name.strip_prefix(&prefix)?.parse::<u64>().ok()?;
            Some((n, path))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, path)| {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let count = text
                .lines()
                .find_map(|l| {
                    l.strip_prefix("summary:")
                        .or_else(|| l.strip_prefix("totals:"))
                })
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .ok_or_else(|| Error::Callgrind(format!("no count in {}", path.display())))?;
            Ok(count)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_lines_and_specs_round_trip() {
        let run = ChildRun {
            row: 3,
            variant: 1,
            units: 4_096,
        };
        assert_eq!(ChildRun::parse(&run.line()), Some(run));
        assert_eq!(ChildRun::parse("noise"), None);
        let pairs = vec![(0, 1), (12, 0)];
        assert_eq!(parse_spec(&spec(&pairs)).unwrap(), pairs);
        assert!(parse_spec("1-2").is_err());
    }
}
