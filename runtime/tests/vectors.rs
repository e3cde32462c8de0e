//! Hand-checked edge cases and the well-known Ethereum trie test vectors (ethereum/tests
//! TrieTests). Every expected root is also recomputed by the Yellow Paper reference and, where
//! keys are prefix-free, by alloy-trie, so no constant is taken on faith.

mod common;

use std::collections::BTreeMap;

use common::{alloy_root, h256, hex, reference_root};
use tally_runtime::trie::{keccak256, verify_proof, MemoryStore, SecureTrie, Trie, EMPTY_ROOT};

fn prefix_free(map: &BTreeMap<Vec<u8>, Vec<u8>>) -> bool {
    let keys: Vec<_> = map.keys().collect();
    keys.windows(2).all(|w| !w[1].starts_with(w[0]))
}

/// Applies `ops` (value `None` = delete) and checks the final root against `expected` and the
/// oracles; returns the trie for further checks.
fn check(name: &str, ops: &[(&[u8], Option<&[u8]>)], expected: &str) -> Trie<MemoryStore> {
    let mut trie = Trie::new(MemoryStore::new());
    let mut model = BTreeMap::new();
    for (k, v) in ops {
        match v {
            Some(v) => {
                trie.insert(k, v).unwrap();
                model.insert(k.to_vec(), v.to_vec());
            }
            None => {
                trie.delete(k).unwrap();
                model.remove(*k);
            }
        }
    }
    let expected = h256(expected);
    assert_eq!(trie.root(), expected, "{name}: our root");
    assert_eq!(
        reference_root(&model),
        expected,
        "{name}: Yellow Paper reference"
    );
    if prefix_free(&model) {
        assert_eq!(alloy_root(&model), expected, "{name}: alloy-trie");
    }
    for (k, v) in &model {
        assert_eq!(
            trie.get(k).unwrap().as_deref(),
            Some(v.as_slice()),
            "{name}: get"
        );
        let proof = trie.proof(k).unwrap();
        assert_eq!(
            verify_proof(&expected, k, &proof).unwrap().as_deref(),
            Some(v.as_slice())
        );
    }
    trie
}

fn ins<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a [u8], Option<&'a [u8]>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes(), Some(v.as_bytes())))
        .collect()
}

#[test]
fn empty_trie() {
    let mut trie = Trie::new(MemoryStore::new());
    assert_eq!(trie.root(), EMPTY_ROOT);
    assert_eq!(
        EMPTY_ROOT,
        h256("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
    );
    assert_eq!(reference_root(&BTreeMap::new()), EMPTY_ROOT);
    assert_eq!(trie.get(b"x").unwrap(), None);
    assert!(trie.proof(b"x").unwrap().is_empty());
    assert_eq!(
        verify_proof::<Vec<u8>>(&EMPTY_ROOT, b"x", &[]).unwrap(),
        None
    );
    assert!(!trie.delete(b"x").unwrap());
}

// trieanyorder.json
#[test]
fn single_item() {
    let a50 = "a".repeat(50);
    check(
        "singleItem",
        &ins(&[("A", &a50)]),
        "0xd23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab",
    );
}

#[test]
fn dogs() {
    check(
        "dogs",
        &ins(&[
            ("doe", "reindeer"),
            ("dog", "puppy"),
            ("dogglesworth", "cat"),
        ]),
        "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3",
    );
}

#[test]
fn puppy() {
    check(
        "puppy",
        &ins(&[
            ("do", "verb"),
            ("horse", "stallion"),
            ("doge", "coin"),
            ("dog", "puppy"),
        ]),
        "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84",
    );
}

#[test]
fn foo() {
    check(
        "foo",
        &ins(&[("foo", "bar"), ("food", "bass")]),
        "0x17beaa1648bafa633cda809c90c04af50fc8aed3cb40d16efbddee6fdf63c4c3",
    );
}

#[test]
fn small_values() {
    check(
        "smallValues",
        &ins(&[("be", "e"), ("dog", "puppy"), ("bed", "d")]),
        "0x3f67c7a47520f79faa29255d2d3c084a7a6df0453116ed7232ff10277a8be68b",
    );
}

#[test]
fn testy() {
    check(
        "testy",
        &ins(&[("test", "test"), ("te", "testy")]),
        "0x8452568af70d8d140f58d941338542f645fcca50094b20f3c3d8c3df49337928",
    );
}

#[test]
fn hex_keys() {
    let (k1, v1, k2, v2) = (
        hex("0x0045"),
        hex("0x0123456789"),
        hex("0x4500"),
        hex("0x9876543210"),
    );
    check(
        "hex",
        &[(&k1, Some(&v1)), (&k2, Some(&v2))],
        "0x285505fcabe84badc8aa310e2aae17eddc7d120aabec8a476902c8184b3a3503",
    );
}

// trietest.json (ordered, with deletions).
#[test]
fn empty_values() {
    let ops: Vec<(&[u8], Option<&[u8]>)> = vec![
        (b"do", Some(b"verb")),
        (b"ether", Some(b"wookiedoo")),
        (b"horse", Some(b"stallion")),
        (b"shaman", Some(b"horse")),
        (b"doge", Some(b"coin")),
        (b"ether", None),
        (b"dog", Some(b"puppy")),
        (b"shaman", None),
    ];
    check(
        "emptyValues",
        &ops,
        "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84",
    );
}

#[test]
fn branch_value_update() {
    check(
        "branch-value-update",
        &ins(&[("abc", "123"), ("abcd", "abcd"), ("abc", "abc")]),
        "0x7a320748f780ad9ad5b0837302075ce0eeba6c26e3d8562c67ccc0f1b273298a",
    );
}

#[test]
fn insert_middle_leaf() {
    check(
        "insert-middle-leaf",
        &ins(&[
            ("key1aa", "0123456789012345678901234567890123456789xxx"),
            ("key1", "0123456789012345678901234567890123456789Very_Long"),
            ("key2bb", "aval3"),
            ("key2", "short"),
            ("key3cc", "aval3"),
            ("key3", "1234567890123456789012345678901"),
        ]),
        "0xcb65032e2f76c48b82b5c24b3db8f670ce73982869d38cd39a624f23d62a9e89",
    );
}

#[test]
fn empty_value_deletes() {
    let mut trie = Trie::new(MemoryStore::new());
    trie.insert(b"a", b"1").unwrap();
    let one = trie.root();
    trie.insert(b"b", b"2").unwrap();
    trie.insert(b"b", b"").unwrap();
    assert_eq!(trie.root(), one);
    assert_eq!(trie.get(b"b").unwrap(), None);
}

#[test]
fn single_short_key_is_an_inline_sized_root() {
    // The root node is only 4 bytes long; the root is still its hash.
    let mut trie = check(
        "tiny",
        &ins(&[("a", "b")]),
        &hexs(&keccak256(&[0xc4, 0x82, 0x20, 0x61, 0x62])),
    );
    let proof = trie.proof(b"a").unwrap();
    assert_eq!(proof, vec![vec![0xc4, 0x82, 0x20, 0x61, 0x62]]);
    let root = trie.root();
    assert_eq!(verify_proof(&root, b"z", &proof).unwrap(), None);
}

fn hexs(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn short_nodes_are_inlined_in_the_parent() {
    // Two one-byte keys with one-byte values: both leaves are 3-byte nodes embedded in the
    // branch, so the proof is the single root node, and it contains the leaves verbatim.
    let mut trie = check(
        "inline",
        &ins(&[("\x01", "x"), ("\x02", "y")]),
        &hexs(&reference_root(&BTreeMap::from([
            (vec![1u8], b"x".to_vec()),
            (vec![2u8], b"y".to_vec()),
        ]))),
    );
    let proof = trie.proof(b"\x01").unwrap();
    assert_eq!(proof.len(), 1);
    // Keys 0x01/0x02 share nibble 0 (an extension), then branch on 1 and 2; each leaf has an
    // empty remaining path (hex-prefix 0x20) and a one-byte value: [0xc2, 0x20, 'x'].
    let leaf = [0xc2, 0x20, b'x'];
    assert!(proof[0].windows(3).any(|w| w == leaf));
    assert!(proof[0].len() < 32);
}

#[test]
fn prefix_keys_and_branch_values() {
    let mut trie = check(
        "prefixes",
        &ins(&[("a", "1"), ("ab", "2"), ("abc", "3")]),
        &{
            let m: BTreeMap<Vec<u8>, Vec<u8>> = [("a", "1"), ("ab", "2"), ("abc", "3")]
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect();
            hexs(&reference_root(&m))
        },
    );
    let keys: Vec<_> = trie.iter().map(|e| e.unwrap().0).collect();
    assert_eq!(keys, vec![b"a".to_vec(), b"ab".to_vec(), b"abc".to_vec()]);
    assert!(trie.delete(b"ab").unwrap());
    let m = BTreeMap::from([
        (b"a".to_vec(), b"1".to_vec()),
        (b"abc".to_vec(), b"3".to_vec()),
    ]);
    assert_eq!(trie.root(), reference_root(&m));
}

#[test]
fn deletion_collapses_branch_into_leaf_and_extension() {
    // 0x1234 and 0x1256 share an extension [1,2]; deleting one collapses the branch at depth 2
    // and the extension into a single leaf.
    let mut trie = Trie::new(MemoryStore::new());
    trie.insert(&[0x12, 0x34], &[0xaa; 40]).unwrap();
    let only = trie.root();
    trie.insert(&[0x12, 0x56], &[0xbb; 40]).unwrap();
    assert_ne!(trie.root(), only);
    assert!(trie.delete(&[0x12, 0x56]).unwrap());
    assert_eq!(trie.root(), only);

    // Three keys: deleting the odd one out leaves a branch under a longer extension.
    let keys: [&[u8]; 3] = [&[0x12, 0x34], &[0x12, 0x35], &[0x99]];
    let mut trie = Trie::new(MemoryStore::new());
    for k in keys {
        trie.insert(k, &[7; 33]).unwrap();
    }
    trie.delete(&[0x99]).unwrap();
    let mut expected = Trie::new(MemoryStore::new());
    expected.insert(&[0x12, 0x34], &[7; 33]).unwrap();
    expected.insert(&[0x12, 0x35], &[7; 33]).unwrap();
    assert_eq!(trie.root(), expected.root());
    let m = BTreeMap::from([
        (vec![0x12, 0x34], vec![7; 33]),
        (vec![0x12, 0x35], vec![7; 33]),
    ]);
    assert_eq!(trie.root(), alloy_root(&m));
}

#[test]
fn secure_trie_matches_hashed_keys() {
    let mut secure = SecureTrie::new(MemoryStore::new());
    let mut model = BTreeMap::new();
    for (k, v) in [
        ("do", "verb"),
        ("horse", "stallion"),
        ("doge", "coin"),
        ("dog", "puppy"),
    ] {
        secure.insert(k.as_bytes(), v.as_bytes()).unwrap();
        model.insert(keccak256(k.as_bytes()).to_vec(), v.as_bytes().to_vec());
    }
    let root = secure.root();
    assert_eq!(root, alloy_root(&model));
    assert_eq!(root, reference_root(&model));
    assert_eq!(secure.get(b"dog").unwrap(), Some(b"puppy".to_vec()));
    let proof = secure.proof(b"doge").unwrap();
    assert_eq!(
        tally_runtime::trie::verify_secure_proof(&root, b"doge", &proof).unwrap(),
        Some(b"coin".to_vec())
    );
}
