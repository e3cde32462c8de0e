//! Gas snapshots: named measurements checked against a file kept in the repository, one
//! `name gas [state_root]` line per measurement, sorted by name. By default a measurement that
//! differs from its line (or has none) fails with a diff; with `TALLY_UPDATE_SNAPSHOTS=1` the
//! file takes the new figures instead. A state root in a line makes a change of state show in
//! review as well as a change of gas.
//!
//! Every [`GasSnapshots`] handle on one path shares the file's contents in the process, so the
//! tests of a binary, running in parallel, can record into the same file. Updating rewrites
//! the file with the lines recorded and keeps the others: delete the line of a measurement
//! that no longer exists by hand.

use std::collections::{btree_map, BTreeMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use alloy_primitives::B256;

use super::error::TestError;

/// Set to `1` to write new figures instead of checking them.
pub const UPDATE_ENV: &str = "TALLY_UPDATE_SNAPSHOTS";

/// A gas snapshot file.
#[derive(Clone, Debug)]
pub struct GasSnapshots {
    path: PathBuf,
    /// Whether to update instead of checking; `None`: as the environment says.
    update: Option<bool>,
}

/// One line of a snapshot file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Figure {
    gas: u64,
    state_root: Option<B256>,
}

/// A file's lines and what this process recorded in it.
#[derive(Default)]
struct FileState {
    lines: BTreeMap<String, Figure>,
    recorded: BTreeMap<String, Figure>,
}

/// Every snapshot file this process opened, by path.
static FILES: Mutex<BTreeMap<PathBuf, FileState>> = Mutex::new(BTreeMap::new());

impl GasSnapshots {
    /// The snapshot file at `path` (usually `tests/snapshots/<test file>.gas` under the
    /// package: `concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/examples.gas")`). It
    /// is read at the first measurement; a missing file has no lines.
    pub fn new(path: impl AsRef<Path>) -> Self {
        GasSnapshots {
            path: path.as_ref().to_path_buf(),
            update: None,
        }
    }

    /// Updates (`true`) or checks (`false`) whatever [`UPDATE_ENV`] says.
    pub fn updating(mut self, update: bool) -> Self {
        self.update = Some(update);
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks (or, updating, writes) the measurement `name`: `gas`.
    pub fn record(&self, name: &str, gas: u64) -> Result<(), TestError> {
        self.measure(
            name,
            Figure {
                gas,
                state_root: None,
            },
        )
    }

    /// Checks (or, updating, writes) the measurement `name`: `gas` and the state root.
    pub fn record_with_state(
        &self,
        name: &str,
        gas: u64,
        state_root: B256,
    ) -> Result<(), TestError> {
        self.measure(
            name,
            Figure {
                gas,
                state_root: Some(state_root),
            },
        )
    }

    fn measure(&self, name: &str, figure: Figure) -> Result<(), TestError> {
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(self.file_error(format!(
                "measurement name {name:?} must be non-empty without whitespace"
            )));
        }
        let update = self.update.unwrap_or_else(|| {
            std::env::var_os(UPDATE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
        });
        // A test that panicked while holding the lock leaves well-formed maps.
        let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
        let file = match files.entry(self.path.clone()) {
            btree_map::Entry::Occupied(file) => file.into_mut(),
            btree_map::Entry::Vacant(slot) => slot.insert(FileState {
                lines: self.read()?,
                recorded: BTreeMap::new(),
            }),
        };
        if let Some(earlier) = file.recorded.insert(name.to_string(), figure) {
            if earlier != figure {
                return Err(TestError::SnapshotMismatch(format!(
                    "gas snapshot {}: {name} was measured twice with different figures:\n  {}\n  {}",
                    self.path.display(),
                    line(name, &earlier),
                    line(name, &figure)
                )));
            }
        }
        let stored = file.lines.get(name).copied();
        if stored == Some(figure) {
            return Ok(());
        }
        if update {
            file.lines.insert(name.to_string(), figure);
            return self.write(&file.lines);
        }
        Err(TestError::SnapshotMismatch(self.diff(name, stored, figure)))
    }

    fn diff(&self, name: &str, stored: Option<Figure>, new: Figure) -> String {
        let mut out = format!(
            "gas snapshot {} differs ({UPDATE_ENV}=1 accepts the new figures):",
            self.path.display()
        );
        match stored {
            None => {
                let _ = write!(out, "\n+ {}   (new measurement)", line(name, &new));
            }
            Some(old) => {
                let _ = write!(out, "\n- {}\n+ {}", line(name, &old), line(name, &new));
                let delta = i128::from(new.gas) - i128::from(old.gas);
                let mut notes = Vec::new();
                if delta != 0 {
                    notes.push(format!("gas {delta:+}"));
                }
                if old.state_root != new.state_root {
                    notes.push("state root changed".to_string());
                }
                let _ = write!(out, "   ({})", notes.join(", "));
            }
        }
        out
    }

    fn file_error(&self, reason: String) -> TestError {
        TestError::SnapshotFile {
            path: self.path.display().to_string(),
            reason,
        }
    }

    fn read(&self) -> Result<BTreeMap<String, Figure>, TestError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(self.file_error(e.to_string())),
        };
        let mut lines = BTreeMap::new();
        for (i, text) in text.lines().enumerate() {
            let bad = |why: &str| self.file_error(format!("line {}: {why}: {text:?}", i + 1));
            let fields: Vec<&str> = text.split_whitespace().collect();
            let (name, gas, root) = match fields[..] {
                [] => continue,
                [name, gas] => (name, gas, None),
                [name, gas, root] => (name, gas, Some(root)),
                _ => return Err(bad("expected `name gas [state_root]`")),
            };
            let gas = gas.parse().map_err(|_| bad("gas is not a number"))?;
            let state_root = root
                .map(|r| {
                    r.parse::<B256>()
                        .map_err(|_| bad("not a 32-byte hex state root"))
                })
                .transpose()?;
            if lines
                .insert(name.to_string(), Figure { gas, state_root })
                .is_some()
            {
                return Err(bad("measured twice"));
            }
        }
        Ok(lines)
    }

    /// Writes the file through a temporary file and a rename, so it is never half-written.
    fn write(&self, lines: &BTreeMap<String, Figure>) -> Result<(), TestError> {
        let mut text = String::new();
        for (name, figure) in lines {
            text.push_str(&line(name, figure));
            text.push('\n');
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.file_error(e.to_string()))?;
        }
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        std::fs::write(&temporary, text).map_err(|e| self.file_error(e.to_string()))?;
        std::fs::rename(&temporary, &self.path).map_err(|e| self.file_error(e.to_string()))
    }
}

fn line(name: &str, figure: &Figure) -> String {
    match figure.state_root {
        Some(root) => format!("{name} {} {root}", figure.gas),
        None => format!("{name} {}", figure.gas),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tally-snapshots-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir.join(name)
    }

    #[test]
    fn update_writes_sorted_lines_and_check_reports_a_diff() {
        let path = temporary("update.gas");
        let _ = std::fs::remove_file(&path);
        let root = B256::repeat_byte(0xab);
        let update = GasSnapshots::new(&path).updating(true);
        update.record("zeta", 200).unwrap();
        update.record_with_state("alpha", 100, root).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("alpha 100 {root}\nzeta 200\n"));

        let check = GasSnapshots::new(&path).updating(false);
        check.record("zeta", 200).unwrap();
        // Measured twice differently in one run: an error whatever the file says.
        let err = check.record("zeta", 201).unwrap_err().to_string();
        assert!(err.contains("measured twice"), "{err}");
        FILES.lock().unwrap().remove(&path);

        let check = GasSnapshots::new(&path).updating(false);
        let err = check
            .record_with_state("alpha", 116, root)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "- alpha 100 {root}\n+ alpha 116 {root}   (gas +16)"
            )),
            "{err}"
        );
        let err = check
            .record_with_state("zeta", 200, root)
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("(state root changed)"), "{err}");
        let err = check.record("beta", 1).unwrap_err().to_string();
        assert!(err.ends_with("+ beta 1   (new measurement)"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "checking writes nothing"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn malformed_files_and_names_are_errors() {
        let path = temporary("bad.gas");
        std::fs::write(&path, "ok 1\nbad gas\n").unwrap();
        let err = GasSnapshots::new(&path)
            .updating(false)
            .record("ok", 1)
            .unwrap_err();
        assert!(
            err.to_string().contains("line 2: gas is not a number"),
            "{err}"
        );
        let err = GasSnapshots::new(&path).record("two words", 1).unwrap_err();
        assert!(matches!(err, TestError::SnapshotFile { .. }), "{err}");
        let _ = std::fs::remove_file(&path);
    }
}
