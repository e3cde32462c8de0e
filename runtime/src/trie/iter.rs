//! Iteration over a [`Trie`]'s entries in key order, loading stored nodes as it goes.

use super::edit::load_node;
use super::error::{path_hex, TrieError};
use super::merkle::Trie;
use super::nibbles::pack;
use super::node::{Branch, Extension, Leaf, Node, Slot};
use super::store::NodeStore;

/// One iterator item: a key and its value, or the error that ended the iteration.
pub type TrieEntry = Result<(Vec<u8>, Vec<u8>), TrieError>;

enum Item<'a> {
    Borrowed(&'a Slot),
    Owned(Slot),
}

/// Iterator over `(key, value)` pairs in ascending key order. Stops after the first error.
pub struct TrieIter<'a, S: NodeStore> {
    trie: &'a Trie<S>,
    stack: Vec<(Vec<u8>, Item<'a>)>,
}

impl<S: NodeStore> Trie<S> {
    /// Iterates over all entries in ascending key order.
    pub fn iter(&self) -> TrieIter<'_, S> {
        let root = self.root_slot();
        let stack = if root.is_empty() {
            Vec::new()
        } else {
            vec![(Vec::new(), Item::Borrowed(root))]
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
                Item::Borrowed(slot) => match &slot.node {
                    Some(Node::Leaf(leaf)) => Some(entry(path, &leaf.path, leaf.value.to_vec())),
                    Some(Node::Extension(ext)) => {
                        self.stack
                            .push((joined(&path, &ext.path), Item::Borrowed(&ext.child)));
                        None
                    }
                    Some(Node::Branch(branch)) => {
                        for (i, child) in branch.children.iter().enumerate().rev() {
                            if !child.is_empty() {
                                // i < 16, so the cast is lossless.
                                let p = joined(&path, &[i as u8]);
                                self.stack.push((p, Item::Borrowed(child)));
                            }
                        }
                        branch.value.clone().map(|v| entry(path, &[], v))
                    }
                    None => self.load(path, slot),
                },
                Item::Owned(slot) => match slot.node {
                    Some(Node::Leaf(leaf)) => {
                        let Leaf { path: p, value, .. } = *leaf;
                        Some(entry(path, &p, value.into_vec()))
                    }
                    Some(Node::Extension(ext)) => {
                        let Extension { path: p, child, .. } = *ext;
                        self.stack.push((joined(&path, &p), Item::Owned(child)));
                        None
                    }
                    Some(Node::Branch(branch)) => {
                        let Branch {
                            children, value, ..
                        } = *branch;
                        for (i, child) in children.into_iter().enumerate().rev() {
                            if !child.is_empty() {
                                // i < 16, so the cast is lossless.
                                let p = joined(&path, &[i as u8]);
                                self.stack.push((p, Item::Owned(child)));
                            }
                        }
                        value.map(|v| entry(path, &[], v))
                    }
                    None => self.load(path, &slot),
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
    /// Loads a stub and pushes it; yields only an error.
    fn load(&mut self, path: Vec<u8>, stub: &Slot) -> Option<TrieEntry> {
        let hash = stub.cache.and_then(|r| r.as_hash().copied())?;
        let version = stub.version.get().unwrap_or_default();
        match load_node(
            self.trie.store(),
            self.trie.namespace(),
            version,
            &path,
            &hash,
        ) {
            Ok(node) => {
                let loaded = Slot {
                    node: Some(node),
                    cache: stub.cache,
                    version: stub.version,
                };
                self.stack.push((path, Item::Owned(loaded)));
                None
            }
            Err(e) => Some(Err(e)),
        }
    }
}
