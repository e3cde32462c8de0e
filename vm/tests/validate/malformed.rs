//! Malformed input: typed errors, never a panic.

use super::accepted::REALISTIC;
use super::common::*;
#[allow(unused_imports)]
use tally_vm::validate::{Cap, Feature, MemorySummary, TypeUse};
#[allow(unused_imports)]
use tally_vm::{validate, HostFn, ModuleLimits, ModuleSummary, ValidationError};

#[test]
fn empty_input_is_a_typed_error() {
    assert_eq!(
        validate(&[], &ModuleLimits::default()),
        Err(ValidationError::Empty)
    );
}

#[test]
fn garbage_is_not_wasm() {
    assert_eq!(
        validate(b"hello, world", &ModuleLimits::default()),
        Err(ValidationError::NotWasm)
    );
    let mut bad_version = b"\0asm\x02\0\0\0".to_vec();
    bad_version.push(0);
    assert!(matches!(
        validate(&bad_version, &ModuleLimits::default()),
        Err(ValidationError::Invalid { .. })
    ));
}

#[test]
fn truncated_modules_are_typed_errors() {
    let bytes = wasm(REALISTIC);
    assert_eq!(
        validate(&bytes[..2], &ModuleLimits::default()),
        Err(ValidationError::Truncated { offset: 2 })
    );
    // Cut in the middle of the last (data) section.
    let cut = bytes.len() - 4;
    assert!(matches!(
        validate(&bytes[..cut], &ModuleLimits::default()),
        Err(ValidationError::Truncated { .. })
    ));
    // No prefix panics; each strict prefix is either a complete shorter module or an error.
    for len in 0..bytes.len() {
        let _ = validate(&bytes[..len], &ModuleLimits::default());
    }
}

#[test]
fn huge_section_counts_do_not_panic_or_allocate() {
    // A type section claiming u32::MAX types but holding none.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend_from_slice(&[0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let error = validate(&bytes, &ModuleLimits::default()).unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::Truncated { .. } | ValidationError::Invalid { .. }
        ),
        "{error}"
    );
    // The same for a data section claiming u32::MAX segments: the cap stops it first.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend_from_slice(&[0x0b, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let error = validate(&bytes, &ModuleLimits::default()).unwrap_err();
    assert!(
        matches!(
            error,
            ValidationError::LimitExceeded {
                cap: Cap::DataSegments,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn mutated_modules_never_panic() {
    let original = wasm(REALISTIC);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut rejected = 0;
    for _ in 0..3_000 {
        let mut bytes = original.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        if validate(&bytes, &ModuleLimits::default()).is_err() {
            rejected += 1;
        }
    }
    assert!(
        rejected > 0,
        "mutations should produce some invalid modules"
    );
}
