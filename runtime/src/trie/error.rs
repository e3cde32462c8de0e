//! Typed errors of the trie, its proofs and its node stores.

use thiserror::Error;

/// A failure of a node store backend (I/O, database, or a malformed stored record).
#[derive(Debug, Error)]
pub enum StoreError {
    /// The on-disk database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// A write was refused (used by tests to inject failures, and by stores that are read-only).
    #[error("write refused: {0}")]
    WriteRefused(String),
    /// A rewind to a version that pruning no longer keeps whole.
    #[error("cannot rewind to version {to_version}: versions before {kept_from} were pruned")]
    RewindPastPrune {
        /// The version asked for.
        to_version: u64,
        /// The oldest version pruning keeps.
        kept_from: u64,
    },
}

/// An error while reading or changing a trie.
#[derive(Debug, Error)]
pub enum TrieError {
    /// A node the trie refers to is not in the store (pruned, never written, or wrong version).
    #[error("missing trie node at version {version}, path {path}")]
    MissingNode {
        /// Version the node was expected to be written at.
        version: u64,
        /// Nibble path of the node, as hex digits.
        path: String,
    },
    /// A stored node does not hash to the hash its parent refers to, or does not decode.
    #[error("corrupt trie node at version {version}, path {path}: {reason}")]
    CorruptNode {
        /// Version the node was read at.
        version: u64,
        /// Nibble path of the node, as hex digits.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// No root was committed for this namespace and version.
    #[error("no root committed at version {0}")]
    MissingRoot(u64),
    /// Commit versions must strictly increase.
    #[error("commit version {requested} is not above the last committed version {last}")]
    VersionNotIncreasing {
        /// The version passed to commit.
        requested: u64,
        /// The last version this trie committed or was opened at.
        last: u64,
    },
    /// `u64::MAX` is not a version a trie commits (it marks "none" in the node tree).
    #[error("commit version {0} is out of range: the largest is 2^64 - 2")]
    VersionOutOfRange(u64),
    /// The trie changed between `prepare_commit` and `finish_commit`.
    #[error("the trie changed after the commit was prepared")]
    CommitInvalidated,
    /// The node store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a proof failed to verify.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofError {
    /// The first proof node does not hash to the root.
    #[error("proof does not start at the expected root")]
    RootMismatch,
    /// A proof node does not hash to the reference held by its parent.
    #[error("proof node {0} does not match the hash in its parent")]
    HashMismatch(usize),
    /// A proof node is not valid RLP or not a valid trie node.
    #[error("proof node {index} is malformed: {reason}")]
    Malformed {
        /// Index of the offending node in the proof.
        index: usize,
        /// What was wrong.
        reason: String,
    },
    /// The proof ends before the key is resolved (more nodes are needed).
    #[error("proof is incomplete")]
    Incomplete,
    /// The proof has nodes after the key was resolved.
    #[error("proof has {0} unused trailing nodes")]
    TrailingNodes(usize),
}

/// Formats a nibble path as hex digits for error messages.
pub(crate) fn path_hex(nibbles: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    nibbles
        .iter()
        .map(|n| char::from(DIGITS[usize::from(n & 0x0f)]))
        .collect()
}
