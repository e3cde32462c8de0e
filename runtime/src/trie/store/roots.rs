//! Root records and the log that lets pruning and rewinding find them without reading every
//! root. Roots are keyed `namespace ‖ version`, for [`NodeStore::root_at`]'s "latest root at or
//! before" lookups; the log is keyed `version ‖ namespace` and lists the roots written since
//! the pruning point. So a prune reads only the roots committed since the previous prune, and
//! a rewind only those after the version it goes back to, however many namespaces the store
//! holds.
//!
//! A prune to `keep_from` takes each logged root at or before `keep_from` out of the log and
//! deletes the older roots of its namespace: once the log is past a root, every older root of
//! its namespace is gone, so the root a version reads is never deleted while the version is
//! kept. A redb store written before the log existed has every root logged when it is opened
//! ([`log_existing`]); a memory store always starts empty.
//!
//! [`NodeStore::root_at`]: super::NodeStore::root_at

use super::prune::{Table, Tables};
use super::{root_key, version_of_root_key, Namespace, WriteBatch};
use crate::trie::error::StoreError;

/// Key in [`Table::Meta`] present once every root is logged.
const LOGGED: &[u8] = b"roots_logged";

/// Key of a log entry: `version (8, BE) ‖ namespace`.
fn log_key(namespace: &[u8], version: u64) -> Vec<u8> {
    let mut key = version.to_be_bytes().to_vec();
    key.extend_from_slice(namespace);
    key
}

/// The version and namespace of a log key.
fn parse_log_key(key: &[u8]) -> Result<(u64, Namespace), StoreError> {
    let (version, namespace) = key.split_first_chunk::<8>().ok_or_else(malformed)?;
    let namespace = namespace.try_into().map_err(|_| malformed())?;
    Ok((u64::from_be_bytes(*version), namespace))
}

fn malformed() -> StoreError {
    StoreError::Database("malformed root log key".into())
}

/// Logs every root of a store written before the log existed, once (a store's opening calls
/// it; afterwards it only reads a flag).
pub(crate) fn log_existing(tables: &mut impl Tables) -> Result<(), StoreError> {
    if tables.get(Table::Meta, LOGGED)?.is_some() {
        return Ok(());
    }
    for (key, _) in tables.range(Table::Roots, &[], None)? {
        // A root key is `namespace ‖ version`: 40 bytes once its version parses.
        let version = version_of_root_key(&key)?;
        tables.put(Table::RootLog, &log_key(&key[..32], version), &[])?;
    }
    tables.put(Table::Meta, LOGGED, &[])
}

/// Writes a batch's roots and logs them.
pub(crate) fn write(tables: &mut impl Tables, batch: &WriteBatch) -> Result<(), StoreError> {
    for (namespace, version, root) in &batch.roots {
        tables.put(Table::Roots, &root_key(namespace, *version), &root.encode())?;
        tables.put(Table::RootLog, &log_key(namespace, *version), &[])?;
    }
    Ok(())
}

/// Deletes every root older than a later root of the same namespace that is itself at or
/// before `keep_from`. Returns how many.
pub(crate) fn prune(tables: &mut impl Tables, keep_from: u64) -> Result<u64, StoreError> {
    let bound = keep_from.saturating_add(1).to_be_bytes();
    let mut deleted = 0;
    for (key, _) in tables.range(Table::RootLog, &[], Some(&bound))? {
        let (version, namespace) = parse_log_key(&key)?;
        let (start, end) = (root_key(&namespace, 0), root_key(&namespace, version));
        for (older, _) in tables.range(Table::Roots, &start, Some(&end))? {
            tables.delete(Table::Roots, &older)?;
            deleted += 1;
        }
        tables.delete(Table::RootLog, &key)?;
    }
    Ok(deleted)
}

/// Deletes the roots written after `to_version` (at or after the pruning point, so all are
/// logged). Returns how many.
pub(crate) fn rewind(tables: &mut impl Tables, to_version: u64) -> Result<u64, StoreError> {
    let Some(first) = to_version.checked_add(1) else {
        return Ok(0);
    };
    let mut deleted = 0;
    for (key, _) in tables.range(Table::RootLog, &first.to_be_bytes(), None)? {
        let (version, namespace) = parse_log_key(&key)?;
        let root = root_key(&namespace, version);
        if tables.get(Table::Roots, &root)?.is_some() {
            tables.delete(Table::Roots, &root)?;
            deleted += 1;
        }
        tables.delete(Table::RootLog, &key)?;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trie::store::memory::Inner;
    use crate::trie::store::prune::{Entries, Entry};
    use crate::trie::store::StoredRoot;

    /// The memory backend's tables, counting the root records that ranges return.
    #[derive(Default)]
    struct Counting {
        inner: Inner,
        roots_read: usize,
    }

    impl Tables for Counting {
        fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.get(table, key)
        }
        fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
            self.inner.put(table, key, value)
        }
        fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
            self.inner.delete(table, key)
        }
        fn range(
            &mut self,
            table: Table,
            start: &[u8],
            end: Option<&[u8]>,
        ) -> Result<Entries, StoreError> {
            let found = self.inner.range(table, start, end)?;
            if table == Table::Roots {
                self.roots_read += found.len();
            }
            Ok(found)
        }
        fn before(&mut self, table: Table, key: &[u8]) -> Result<Option<Entry>, StoreError> {
            self.inner.before(table, key)
        }
    }

    fn namespace(i: u32) -> Namespace {
        let mut ns = [0u8; 32];
        ns[..4].copy_from_slice(&i.to_be_bytes());
        ns
    }

    fn batch(roots: impl IntoIterator<Item = (u32, u64)>) -> WriteBatch {
        let root = StoredRoot {
            hash: [7; 32],
            node_version: None,
        };
        WriteBatch {
            roots: roots
                .into_iter()
                .map(|(ns, version)| (namespace(ns), version, root))
                .collect(),
            ..WriteBatch::default()
        }
    }

    /// The `(namespace, version)` of every root record.
    fn roots(tables: &mut Counting) -> Vec<(u32, u64)> {
        let entries = tables.inner.range(Table::Roots, &[], None).unwrap();
        entries
            .iter()
            .map(|(k, _)| {
                let ns = u32::from_be_bytes(k[..4].try_into().unwrap());
                (ns, version_of_root_key(k).unwrap())
            })
            .collect()
    }

    #[test]
    fn a_prune_reads_only_the_roots_written_since_the_last_one() {
        let mut tables = Counting::default();
        write(&mut tables, &batch((0..1_000).map(|ns| (ns, 1)))).unwrap();
        assert_eq!(prune(&mut tables, 1).unwrap(), 0);
        for version in 2..=10 {
            write(&mut tables, &batch((0..3).map(|ns| (ns, version)))).unwrap();
        }
        tables.roots_read = 0;
        // Each of the three namespaces loses versions 1 to 9 and keeps 10.
        assert_eq!(prune(&mut tables, 10).unwrap(), 27);
        assert!(tables.roots_read <= 27, "read {}", tables.roots_read);
        let left = roots(&mut tables);
        assert_eq!(left.len(), 1_000);
        assert!(left.contains(&(0, 10)) && left.contains(&(999, 1)));
        assert!(!left.contains(&(0, 9)));
        let log = tables.range(Table::RootLog, &[], None).unwrap();
        assert!(log.is_empty());
    }

    #[test]
    fn a_prune_keeps_the_root_each_kept_version_reads() {
        let mut tables = Counting::default();
        write(
            &mut tables,
            &batch([(0, 1), (1, 1), (0, 3), (1, 5), (0, 6)]),
        )
        .unwrap();
        // Version 4 reads namespace 0 at 3 and namespace 1 at 1.
        assert_eq!(prune(&mut tables, 4).unwrap(), 1);
        assert_eq!(roots(&mut tables), [(0, 3), (0, 6), (1, 1), (1, 5)]);
        // A rewind to 5 deletes only what was written after it.
        assert_eq!(rewind(&mut tables, 5).unwrap(), 1);
        assert_eq!(roots(&mut tables), [(0, 3), (1, 1), (1, 5)]);
        assert_eq!(prune(&mut tables, 5).unwrap(), 1);
        assert_eq!(roots(&mut tables), [(0, 3), (1, 5)]);
    }

    #[test]
    fn roots_written_before_the_log_are_logged_once() {
        let mut tables = Counting::default();
        // Roots as a store without the log holds them.
        for (ns, version) in [(0, 1), (0, 2), (1, 2), (1, 4), (0, 5)] {
            let key = root_key(&namespace(ns), version);
            tables.put(Table::Roots, &key, &[]).unwrap();
        }
        // As opening the store does. Once logged, a second opening reads only the flag: an
        // entry taken out of the log (as a prune would) is not logged again. (The root it
        // named is still deleted below, by the later root of its namespace.)
        log_existing(&mut tables).unwrap();
        assert_eq!(tables.range(Table::RootLog, &[], None).unwrap().len(), 5);
        tables
            .delete(Table::RootLog, &log_key(&namespace(0), 1))
            .unwrap();
        log_existing(&mut tables).unwrap();
        assert_eq!(tables.range(Table::RootLog, &[], None).unwrap().len(), 4);
        assert_eq!(rewind(&mut tables, 4).unwrap(), 1);
        assert_eq!(roots(&mut tables), [(0, 1), (0, 2), (1, 2), (1, 4)]);
        assert!(tables.get(Table::Meta, LOGGED).unwrap().is_some());
        assert_eq!(prune(&mut tables, 4).unwrap(), 2);
        assert_eq!(roots(&mut tables), [(0, 2), (1, 4)]);
    }
}
