//! Progress on standard error while a calibration runs: the phase, the row being measured out of
//! how many, its variant, the time so far and an estimate of the time left.

use std::io::Write;
use std::time::Instant;

/// Reports progress (or nothing, when quiet).
pub struct Progress {
    start: Instant,
    rows: usize,
    quiet: bool,
}

impl Progress {
    pub fn new(rows: usize, quiet: bool) -> Self {
        Progress {
            start: Instant::now(),
            rows,
            quiet,
        }
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            let mut err = std::io::stderr().lock();
            // Progress is best effort: a closed stderr must not stop the calibration.
            let _ = writeln!(err, "[{}] {line}", clock(self.start.elapsed().as_secs()));
        }
    }

    /// A phase of the run ("deriving compositions", "building the chain state").
    pub fn phase(&self, what: &str) {
        self.say(what);
    }

    /// Starts a row (`index` counts from 0).
    pub fn row(&mut self, index: usize, name: &str) {
        let left = if index == 0 {
            String::new()
        } else {
            let per_row = self.start.elapsed().as_secs_f64() / index as f64;
            let remaining = per_row * (self.rows - index) as f64;
            format!(", about {} left", clock(remaining as u64))
        };
        self.say(&format!("row {}/{}: {name}{left}", index + 1, self.rows));
    }

    /// Starts one variant of the current row.
    pub fn variant(&self, name: &str, index: usize, count: usize) {
        if count > 1 {
            self.say(&format!("  variant {}/{count}: {name}", index + 1));
        }
    }

    /// A result line under the current row.
    pub fn result(&self, line: &str) {
        self.say(&format!("  {line}"));
    }
}

/// `mm:ss`.
fn clock(seconds: u64) -> String {
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}
