//! [`GasReport`]: gas per contract and per function (calls, min, mean, median, max) over a
//! test run, printed as a table like `forge test --gas-report`. Every transaction a
//! [`TestChain`](super::TestChain) sends to a named contract is recorded (its whole gas,
//! intrinsic gas included; read-only views are not transactions and are not recorded), and
//! so is every deployment with its code size. Each chain adds its report to the process-wide
//! one when it is dropped: [`GasReport::collected`] reads it, and with `TALLY_GAS_REPORT=1`
//! set the collected report is printed when the test binary exits.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, Once};

use super::thousands;

/// Set to print the collected gas report when the test binary exits.
pub const GAS_REPORT_ENV: &str = "TALLY_GAS_REPORT";

/// Gas figures per contract and function. Everything is kept sorted by name, so the table is
/// the same on every run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GasReport {
    contracts: BTreeMap<String, ContractGas>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ContractGas {
    /// Code size of the last deployment, in bytes.
    size: usize,
    deployments: Vec<u64>,
    functions: BTreeMap<String, Vec<u64>>,
}

/// Statistics of one function's (or a deployment's) gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasStats {
    pub calls: u64,
    pub min: u64,
    /// Rounded down.
    pub mean: u64,
    /// The middle value; for an even count, the mean of the two middle values, rounded down.
    pub median: u64,
    pub max: u64,
}

impl GasStats {
    fn of(values: &[u64]) -> Option<GasStats> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let n = sorted.len();
        let sum: u128 = sorted.iter().map(|&v| u128::from(v)).sum();
        let middle = |i: usize| u128::from(sorted[i]);
        let median = if !n.is_multiple_of(2) {
            middle(n / 2)
        } else {
            (middle(n / 2 - 1) + middle(n / 2)) / 2
        };
        // Both are at most `max`, a u64.
        let narrow = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
        Some(GasStats {
            calls: n as u64,
            min,
            mean: narrow(sum / n as u128),
            median: narrow(median),
            max,
        })
    }
}

/// The report of every chain dropped so far in this process.
static COLLECTED: Mutex<GasReport> = Mutex::new(GasReport::new());

impl GasReport {
    /// An empty report.
    pub const fn new() -> Self {
        GasReport {
            contracts: BTreeMap::new(),
        }
    }

    /// Records a transaction to `contract` calling `function`.
    pub fn record_call(&mut self, contract: &str, function: &str, gas: u64) {
        let functions = &mut self.contract(contract).functions;
        match functions.get_mut(function) {
            Some(values) => values.push(gas),
            None => {
                functions.insert(function.to_string(), vec![gas]);
            }
        }
    }

    /// Records a deployment of `contract`, whose code has `size` bytes.
    pub fn record_deployment(&mut self, contract: &str, size: usize, gas: u64) {
        let entry = self.contract(contract);
        entry.size = size;
        entry.deployments.push(gas);
    }

    fn contract(&mut self, name: &str) -> &mut ContractGas {
        if !self.contracts.contains_key(name) {
            self.contracts
                .insert(name.to_string(), ContractGas::default());
        }
        // Inserted just above if it was missing.
        self.contracts
            .get_mut(name)
            .expect("the contract's entry exists")
    }

    /// Adds everything `other` recorded.
    pub fn merge(&mut self, other: &GasReport) {
        for (name, theirs) in &other.contracts {
            let ours = self.contract(name);
            if !theirs.deployments.is_empty() {
                ours.size = theirs.size;
            }
            ours.deployments.extend(&theirs.deployments);
            for (function, values) in &theirs.functions {
                ours.functions
                    .entry(function.clone())
                    .or_default()
                    .extend(values);
            }
        }
    }

    /// Statistics of `contract`'s `function` (its signature, e.g. `transfer(address,uint256)`).
    pub fn function(&self, contract: &str, function: &str) -> Option<GasStats> {
        GasStats::of(self.contracts.get(contract)?.functions.get(function)?)
    }

    /// Statistics of `contract`'s deployments.
    pub fn deployment(&self, contract: &str) -> Option<GasStats> {
        GasStats::of(&self.contracts.get(contract)?.deployments)
    }

    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// The report of every chain dropped so far in this process (chains still alive are not
    /// in it yet).
    pub fn collected() -> GasReport {
        lock().clone()
    }

    /// Prints the table to standard output.
    pub fn print(&self) {
        println!("{self}");
    }

    /// Adds a chain's report to the process-wide one.
    pub(super) fn submit(&self) {
        if !self.is_empty() {
            lock().merge(self);
        }
    }

    /// The rows of the table: contract, function (or deployment), statistics.
    fn rows(&self) -> Vec<[String; 7]> {
        let mut rows = Vec::new();
        let mut push = |contract: &str, what: String, s: GasStats| {
            rows.push([
                contract.to_string(),
                what,
                s.calls.to_string(),
                thousands(s.min),
                thousands(s.mean),
                thousands(s.median),
                thousands(s.max),
            ]);
        };
        for (name, contract) in &self.contracts {
            if let Some(s) = GasStats::of(&contract.deployments) {
                push(
                    name,
                    format!("(deploy, {} bytes)", thousands(contract.size as u64)),
                    s,
                );
            }
            for (function, values) in &contract.functions {
                if let Some(s) = GasStats::of(values) {
                    push(name, function.clone(), s);
                }
            }
        }
        rows
    }
}

fn lock() -> std::sync::MutexGuard<'static, GasReport> {
    // A test that panicked while merging leaves a report that is still well-formed.
    COLLECTED.lock().unwrap_or_else(|e| e.into_inner())
}

/// A Markdown table, one row per deployment and per function:
///
/// ```text
/// | contract | function                  | calls |    min |   mean | median |    max |
/// |----------|---------------------------|------:|-------:|-------:|-------:|-------:|
/// | token    | transfer(address,uint256) |     3 | 53,396 | 58,396 | 53,396 | 68,396 |
/// ```
impl fmt::Display for GasReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "contract", "function", "calls", "min", "mean", "median", "max",
        ]
        .map(String::from);
        let rows = self.rows();
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String; 7]| -> fmt::Result {
            write!(f, "|")?;
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i < 2 {
                    write!(f, " {cell:<w$} |")?;
                } else {
                    write!(f, " {cell:>w$} |")?;
                }
            }
            Ok(())
        };
        writeln!(f, "gas report (transactions, intrinsic gas included)")?;
        line(f, &header)?;
        write!(f, "\n|")?;
        for (i, w) in widths.iter().enumerate() {
            let dashes = "-".repeat(*w);
            if i < 2 {
                write!(f, "-{dashes}-|")?;
            } else {
                write!(f, "-{dashes}:|")?;
            }
        }
        for row in &rows {
            writeln!(f)?;
            line(f, row)?;
        }
        Ok(())
    }
}

/// With [`GAS_REPORT_ENV`] set, prints the collected report when the process exits (once per
/// process, whatever the number of chains).
pub(super) fn print_at_exit_if_asked() {
    static REGISTER: Once = Once::new();
    if std::env::var_os(GAS_REPORT_ENV).is_none() {
        return;
    }
    REGISTER.call_once(|| {
        extern "C" {
            fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
        }
        extern "C" fn print_collected() {
            use std::io::Write;
            let report = GasReport::collected();
            if !report.is_empty() {
                // Nothing to do about a closed standard output at exit.
                let _ = writeln!(std::io::stdout(), "\n{report}");
            }
        }
        // SAFETY: `atexit` is the C standard library's; the callback is a plain function
        // that takes no arguments and cannot unwind (a poisoned lock is read anyway and a
        // write error is ignored).
        unsafe {
            atexit(print_collected);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_exact_integers() {
        let s = GasStats::of(&[68_396, 53_396, 53_396, 53_397]).unwrap();
        assert_eq!(
            s,
            GasStats {
                calls: 4,
                min: 53_396,
                mean: 57_146,
                median: 53_396,
                max: 68_396
            }
        );
        let odd = GasStats::of(&[3, 1, 2]).unwrap();
        assert_eq!((odd.mean, odd.median), (2, 2));
        assert_eq!(GasStats::of(&[]), None);
        let huge = GasStats::of(&[u64::MAX, u64::MAX]).unwrap();
        assert_eq!((huge.mean, huge.median), (u64::MAX, u64::MAX));
    }

    #[test]
    fn reports_merge_and_print_sorted() {
        let mut a = GasReport::new();
        a.record_call("token", "transfer(address,uint256)", 53_396);
        a.record_deployment("token", 8_728, 2_900_083);
        let mut b = GasReport::new();
        b.record_call("token", "transfer(address,uint256)", 68_396);
        b.record_call("token", "approve(address,uint256)", 46_000);
        b.record_call("bank", "deposit()", 30_000);
        a.merge(&b);
        let transfer = a.function("token", "transfer(address,uint256)").unwrap();
        assert_eq!((transfer.calls, transfer.mean), (2, 60_896));
        assert_eq!(a.deployment("token").unwrap().max, 2_900_083);
        let table = a.to_string();
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(rows.len(), 7, "{table}");
        assert_eq!(
            rows[3],
            "| bank     | deposit()                 |     1 |    30,000 |    30,000 |    30,000 |    30,000 |"
        );
        assert!(rows[4].contains("(deploy, 8,728 bytes)"), "{table}");
        assert!(rows[5].contains("approve(address,uint256)"), "{table}");
        assert!(
            rows[6].ends_with("|     2 |    53,396 |    60,896 |    60,896 |    68,396 |"),
            "{table}"
        );
    }
}
