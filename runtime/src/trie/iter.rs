//! Iteration over a [`Trie`]'s entries in key order, loading stored nodes as it goes.

use super::error::{path_hex, TrieError};
use super::merkle::{load_node, Trie};
use super::nibbles::pack;
use super::node::{Kind, Node};
use super::store::NodeStore;

/// One iterator item: a key and its value, or the error that ended the iteration.
pub type TrieEntry = Result<(Vec<u8>, Vec<u8>), TrieError>;

enum Item<'a> {
    Borrowed(&'a Node),
    Owned(Box<Node>),
}

/// Iterator over `(key, value)` pairs in ascending key order. Stops after the first error.
pub struct TrieIter<'a, S: NodeStore> {
    trie: &'a Trie<S>,
    stack: Vec<(Vec<u8>, Item<'a>)>,
}

impl<S: NodeStore> Trie<S> {
    /// Iterates over all entries in ascending key order.
    pub fn iter(&self) -> TrieIter<'_, S> {
        let stack = match self.root_node() {
            Some(root) => vec![(Vec::new(), Item::Borrowed(root))],
            None => Vec::new(),
        };
        TrieIter { trie: self, stack }
    }
}

fn entry(
    mut path: Vec<u8>,
    suffix: &[u8],
    value: Vec<u8>,
) -> Result<(Vec<u8>, Vec<u8>), TrieError> {
    path.extend_from_slice(suffix);
    match pack(&path) {
        Some(key) => Ok((key, value)),
        None => Err(TrieError::CorruptNode {
            version: 0,
            path: path_hex(&path),
            reason: "value at an odd nibble path".into(),
        }),
    }
}

fn joined(path: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(path.len() + tail.len());
    p.extend_from_slice(path);
    p.extend_from_slice(tail);
    p
}

impl<S: NodeStore> Iterator for TrieIter<'_, S> {
    type Item = TrieEntry;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some((path, item)) = self.stack.pop() {
            let result = match item {
                Item::Borrowed(node) => match &node.kind {
                    Kind::Leaf { path: p, value } => Some(entry(path, p, value.clone())),
                    Kind::Extension { path: p, child } => {
                        self.stack.push((joined(&path, p), Item::Borrowed(child)));
                        None
                    }
                    Kind::Branch { children, value } => {
                        for (i, child) in children.iter().enumerate().rev() {
                            if let Some(child) = child {
                                // i < 16, so the cast is lossless.
                                let p = joined(&path, &[i as u8]);
                                self.stack.push((p, Item::Borrowed(child)));
                            }
                        }
                        value.clone().map(|v| entry(path, &[], v))
                    }
                    Kind::Stub(hash) => self.load(path, node.stored.unwrap_or_default(), hash),
                },
                Item::Owned(node) => match node.kind {
                    Kind::Leaf { path: p, value } => Some(entry(path, &p, value)),
                    Kind::Extension { path: p, child } => {
                        self.stack.push((joined(&path, &p), Item::Owned(child)));
                        None
                    }
                    Kind::Branch { children, value } => {
                        for (i, child) in children.into_iter().enumerate().rev() {
                            if let Some(child) = child {
                                // i < 16, so the cast is lossless.
                                let p = joined(&path, &[i as u8]);
                                self.stack.push((p, Item::Owned(child)));
                            }
                        }
                        value.map(|v| entry(path, &[], v))
                    }
                    Kind::Stub(hash) => self.load(path, node.stored.unwrap_or_default(), &hash),
                },
            };
            if let Some(result) = result {
                if result.is_err() {
                    self.stack.clear();
                }
                return Some(result);
            }
        }
        None
    }
}

impl<S: NodeStore> TrieIter<'_, S> {
    /// Loads a stored node and pushes it; yields only an error.
    fn load(&mut self, path: Vec<u8>, version: u64, hash: &[u8; 32]) -> Option<TrieEntry> {
        match load_node(
            self.trie.store(),
            self.trie.namespace(),
            version,
            &path,
            hash,
        ) {
            Ok(node) => {
                self.stack.push((path, Item::Owned(node)));
                None
            }
            Err(e) => Some(Err(e)),
        }
    }
}
