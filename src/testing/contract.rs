//! [`Artifact`]: a contract's code and the name reports and traces give it; [`Contract`]: a
//! contract on a test chain.

use std::path::Path;
use std::sync::Arc;

use alloy_primitives::Address;

use super::error::TestError;

/// A contract's wasm code and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    name: Arc<str>,
    code: Arc<[u8]>,
}

impl Artifact {
    /// `code` (a wasm module) under `name`.
    pub fn new(name: &str, code: impl Into<Vec<u8>>) -> Self {
        Artifact {
            name: name.into(),
            code: code.into().into(),
        }
    }

    /// Reads a `.wasm` file (or a `.wat` file, compiled to wasm); the name is the file's stem
    /// (`token` for `contracts/build/token.wasm`).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TestError> {
        let path = path.as_ref();
        let error = |reason: String| TestError::Artifact {
            path: path.display().to_string(),
            reason,
        };
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| error("no file name".into()))?;
        let code = if path.extension().is_some_and(|e| e == "wat") {
            wat::parse_file(path).map_err(|e| error(e.to_string()))?
        } else {
            std::fs::read(path).map_err(|e| error(e.to_string()))?
        };
        Ok(Artifact::new(name, code))
    }

    /// Compiles WebAssembly text to a module named `name`.
    pub fn from_wat(name: &str, text: &str) -> Result<Self, TestError> {
        let code = wat::parse_str(text).map_err(|e| TestError::Artifact {
            path: name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Artifact::new(name, code))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn code(&self) -> &[u8] {
        &self.code
    }
}

/// A contract on a test chain: its address, and its name in gas reports (the artifact's name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Contract {
    address: Address,
    name: Arc<str>,
}

impl Contract {
    /// The contract at `address`, reported under `name` (e.g. a contract another contract
    /// created).
    pub fn new(address: Address, name: &str) -> Self {
        Contract {
            address,
            name: name.into(),
        }
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}
