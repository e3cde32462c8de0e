//! What can stop a calibration: a workload that does not build or behaves unexpectedly, a
//! failure of the VM or the chain under it, or an output that cannot be written.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("kernel: {0}")]
    Kernel(String),
    #[error("vm: {0}")]
    Vm(#[from] tally_vm::VmError),
    #[error("chain: {0}")]
    Chain(String),
    /// A workload did something other than what it measures (wrong outcome, gas that is not
    /// linear in its units or does not match its composition).
    #[error("{row}: {reason}")]
    Workload { row: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("callgrind: {0}")]
    Callgrind(String),
    #[error("chart: {0}")]
    Chart(String),
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn workload(row: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Workload {
            row: row.into(),
            reason: reason.into(),
        }
    }

    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
