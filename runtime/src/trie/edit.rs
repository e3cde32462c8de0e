//! Structural edits of the node tree: insert (splitting leaves and extensions) and delete
//! (collapsing branches left with one entry), loading stored nodes on the way and recording
//! the stored nodes each edit supersedes.

use super::codec::{Hash, NodeRef};
use super::error::{path_hex, TrieError};
use super::nibbles::common_prefix_len;
use super::node::{decode_record, Branch, LeafPath, Node, Slot, SlotVersion};
use super::store::{Namespace, NodeKey, NodeStore, StaleNodes};

/// Context for operations that may load nodes and supersede stored ones.
pub(crate) struct Ctx<'a, S> {
    pub(crate) store: &'a S,
    pub(crate) namespace: &'a Namespace,
    pub(crate) stale: &'a mut StaleNodes,
    /// The trie's last confirmed version: slot versions above it are not stored yet.
    pub(crate) confirmed: Option<u64>,
}

impl<S: NodeStore> Ctx<'_, S> {
    /// Marks a child as changed: drops its cached reference and, if it was stored on its own,
    /// records its old key as superseded.
    fn touch(&mut self, cache: &mut Option<NodeRef>, version: &mut SlotVersion, path: &[u8]) {
        *cache = None;
        let stored = match (version.take(), self.confirmed) {
            (Some(v), Some(c)) if v <= c => v,
            _ => return,
        };
        self.stale.push(stored, path);
    }

    /// Loads a stub in place.
    fn resolve(&self, slot: &mut Slot, path: &[u8]) -> Result<(), TrieError> {
        if slot.node.is_none() {
            if let Some(hash) = slot.cache.and_then(|r| r.as_hash().copied()) {
                let version = slot.version.get().unwrap_or_default();
                slot.node = Some(load_node(self.store, self.namespace, version, path, &hash)?);
            }
        }
        Ok(())
    }
}

/// Reads, verifies and decodes the node stored at `(namespace, version, path)` with hash `hash`.
pub(crate) fn load_node<S: NodeStore>(
    store: &S,
    namespace: &Namespace,
    version: u64,
    path: &[u8],
    hash: &Hash,
) -> Result<Node, TrieError> {
    let key = NodeKey {
        namespace: *namespace,
        version,
        path: path.to_vec(),
    };
    let record = store.node(&key)?.ok_or_else(|| TrieError::MissingNode {
        version,
        path: path_hex(path),
    })?;
    let corrupt = |reason: String| TrieError::CorruptNode {
        version,
        path: path_hex(path),
        reason,
    };
    let (versions, rlp) = decode_record(&record, version).map_err(corrupt)?;
    if super::codec::keccak256(rlp) != *hash {
        return Err(corrupt("hash mismatch".into()));
    }
    let mut versions_iter = versions.iter().copied();
    let node = Node::from_rlp(rlp, &mut versions_iter).map_err(corrupt)?;
    if versions_iter.next().is_some() {
        return Err(corrupt("record lists too many child versions".into()));
    }
    Ok(node)
}

/// What a delete did to a node.
#[derive(PartialEq, Eq)]
pub(crate) enum Deleted {
    Unchanged,
    Changed,
    Removed,
}

/// Sets `key` (the rest of the nibble path below `path`) to `value` in the subtree of `slot`.
/// Returns whether anything changed.
pub(crate) fn insert_node<S: NodeStore>(
    ctx: &mut Ctx<'_, S>,
    slot: &mut Slot,
    path: &mut Vec<u8>,
    key: &[u8],
    value: &[u8],
) -> Result<bool, TrieError> {
    ctx.resolve(slot, path)?;
    let Slot {
        node,
        cache,
        version,
    } = slot;
    let Some(current) = node else {
        *node = Some(Node::leaf(key, value));
        *cache = None;
        return Ok(true);
    };
    match current {
        Node::Leaf(leaf) => {
            if leaf.path.as_slice() == key {
                if leaf.value.as_slice() == value {
                    return Ok(false);
                }
                ctx.touch(cache, version, path);
                leaf.value.clear();
                leaf.value.extend_from_slice(value);
                return Ok(true);
            }
            ctx.touch(cache, version, path);
            let common = common_prefix_len(&leaf.path, key);
            let mut branch = Box::<Branch>::default();
            place(&mut branch, &leaf.path[common..], &leaf.value);
            place(&mut branch, &key[common..], value);
            *current = wrap_in_extension(&key[..common], branch);
            Ok(true)
        }
        Node::Extension(ext) => {
            let common = common_prefix_len(&ext.path, key);
            if common == ext.path.len() {
                let len = path.len();
                path.extend_from_slice(&ext.path);
                let changed = insert_node(ctx, &mut ext.child, path, &key[common..], value)?;
                path.truncate(len);
                if changed {
                    ctx.touch(cache, version, path);
                }
                return Ok(changed);
            }
            ctx.touch(cache, version, path);
            let old_path = std::mem::take(&mut ext.path);
            let old_child = std::mem::take(&mut ext.child);
            let mut branch = Box::<Branch>::default();
            let rest = &old_path[common + 1..];
            branch.children[usize::from(old_path[common])] = if rest.is_empty() {
                old_child
            } else {
                Slot::dirty(Node::extension(rest.to_vec(), old_child))
            };
            place(&mut branch, &key[common..], value);
            *current = wrap_in_extension(&old_path[..common], branch);
            Ok(true)
        }
        Node::Branch(branch) => {
            let changed = match key.split_first() {
                None => {
                    if branch.value.as_deref() == Some(value) {
                        false
                    } else {
                        branch.value = Some(value.to_vec());
                        true
                    }
                }
                Some((&i, rest)) => {
                    path.push(i);
                    let changed =
                        insert_node(ctx, &mut branch.children[usize::from(i)], path, rest, value)?;
                    path.pop();
                    changed
                }
            };
            if changed {
                ctx.touch(cache, version, path);
            }
            Ok(changed)
        }
    }
}

/// Puts `value` under the nibbles `rest` of a fresh branch: in the branch itself if `rest` is
/// empty, otherwise in a new leaf below it.
fn place(branch: &mut Branch, rest: &[u8], value: &[u8]) {
    match rest.split_first() {
        None => branch.value = Some(value.to_vec()),
        Some((&i, tail)) => {
            branch.children[usize::from(i)] = Slot::dirty(Node::leaf(tail, value));
        }
    }
}

fn wrap_in_extension(prefix: &[u8], branch: Box<Branch>) -> Node {
    if prefix.is_empty() {
        Node::Branch(branch)
    } else {
        Node::extension(prefix.to_vec(), Slot::dirty(Node::Branch(branch)))
    }
}

/// Removes `key` (the rest of the nibble path below `path`) from the subtree of `slot`.
/// On [`Deleted::Removed`] the caller must empty the slot.
pub(crate) fn delete_node<S: NodeStore>(
    ctx: &mut Ctx<'_, S>,
    slot: &mut Slot,
    path: &mut Vec<u8>,
    key: &[u8],
) -> Result<Deleted, TrieError> {
    ctx.resolve(slot, path)?;
    let Slot {
        node,
        cache,
        version,
    } = slot;
    let Some(current) = node else {
        return Ok(Deleted::Unchanged);
    };
    match current {
        Node::Leaf(leaf) => {
            if leaf.path.as_slice() != key {
                return Ok(Deleted::Unchanged);
            }
            ctx.touch(cache, version, path);
            Ok(Deleted::Removed)
        }
        Node::Extension(ext) => {
            if !key.starts_with(&ext.path) {
                return Ok(Deleted::Unchanged);
            }
            let len = path.len();
            path.extend_from_slice(&ext.path);
            let outcome = delete_node(ctx, &mut ext.child, path, &key[ext.path.len()..])?;
            path.truncate(len);
            if outcome == Deleted::Unchanged {
                return Ok(outcome);
            }
            ctx.touch(cache, version, path);
            if outcome == Deleted::Removed {
                return Ok(Deleted::Removed);
            }
            // The child changed, so it is loaded and no longer stored; merge it if it is no
            // longer a branch.
            match ext.child.node.take() {
                Some(Node::Leaf(mut leaf)) => {
                    let mut merged = std::mem::take(&mut ext.path);
                    merged.extend_from_slice(&leaf.path);
                    leaf.path = LeafPath::from_vec(merged);
                    *current = Node::Leaf(leaf);
                }
                Some(Node::Extension(mut inner)) => {
                    let mut merged = std::mem::take(&mut ext.path);
                    merged.append(&mut inner.path);
                    inner.path = merged;
                    *current = Node::Extension(inner);
                }
                other => ext.child.node = other,
            }
            Ok(Deleted::Changed)
        }
        Node::Branch(branch) => {
            match key.split_first() {
                None => {
                    if branch.value.take().is_none() {
                        return Ok(Deleted::Unchanged);
                    }
                }
                Some((&i, rest)) => {
                    let child = &mut branch.children[usize::from(i)];
                    if child.is_empty() {
                        return Ok(Deleted::Unchanged);
                    }
                    path.push(i);
                    let outcome = delete_node(ctx, child, path, rest)?;
                    path.pop();
                    match outcome {
                        Deleted::Unchanged => return Ok(outcome),
                        Deleted::Removed => *child = Slot::default(),
                        Deleted::Changed => {}
                    }
                }
            }
            ctx.touch(cache, version, path);
            let mut occupied = branch
                .children
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_empty());
            let only = occupied.next().map(|(i, _)| i);
            let more = occupied.next().is_some();
            match (only, more, branch.value.is_some()) {
                (None, _, false) => Ok(Deleted::Removed),
                (None, _, true) => {
                    let value = branch.value.take().unwrap_or_default();
                    *current = Node::leaf(&[], &value);
                    Ok(Deleted::Changed)
                }
                (Some(index), false, false) => {
                    let only = std::mem::take(&mut branch.children[index]);
                    // index < 16, so the cast is lossless.
                    *current = collapse(ctx, path, index as u8, only)?;
                    Ok(Deleted::Changed)
                }
                _ => Ok(Deleted::Changed),
            }
        }
    }
}

/// The node replacing a branch left with a single child `only` at nibble `index`.
fn collapse<S: NodeStore>(
    ctx: &mut Ctx<'_, S>,
    path: &mut Vec<u8>,
    index: u8,
    mut only: Slot,
) -> Result<Node, TrieError> {
    path.push(index);
    ctx.resolve(&mut only, path)?;
    let result = match only.node.take() {
        Some(Node::Leaf(mut leaf)) => {
            ctx.touch(&mut only.cache, &mut only.version, path);
            leaf.path.insert(0, index);
            Node::Leaf(leaf)
        }
        Some(Node::Extension(mut ext)) => {
            ctx.touch(&mut only.cache, &mut only.version, path);
            ext.path.insert(0, index);
            Node::Extension(ext)
        }
        other => {
            // A branch (kept as it is, with its cached reference and stored version) below a
            // new one-nibble extension.
            only.node = other;
            Node::extension(vec![index], only)
        }
    };
    path.pop();
    Ok(result)
}
