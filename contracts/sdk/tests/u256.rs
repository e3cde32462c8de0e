use tally_sdk::U256;

fn u(s: &str) -> U256 {
    U256::from_hex(s)
}

#[test]
fn bytes_round_trip() {
    let v = u("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    let b = v.to_be_bytes();
    assert_eq!(b[0], 1);
    assert_eq!(b[31], 0x20);
    assert_eq!(U256::from_be_bytes(&b), v);
    assert_eq!(v.0[0], 0x191a1b1c1d1e1f20);
    assert_eq!(v.0[3], 0x0102030405060708);
    assert_eq!(U256::from_u64(0x1234).to_be_bytes()[30..], [0x12, 0x34]);
    assert_eq!(U256::from_u128(u128::MAX).to_u128(), Some(u128::MAX));
    assert_eq!(U256::MAX.to_u128(), None);
    assert_eq!(U256::from_u64(7).to_u64(), Some(7));
    assert_eq!(u("0x10000000000000000").to_u64(), None);
}

#[test]
fn add_and_sub() {
    let max = U256::MAX;
    assert_eq!(max.checked_add(&U256::ONE), None);
    assert_eq!(max.wrapping_add(&U256::ONE), U256::ZERO);
    assert_eq!(max.saturating_add(&U256::ONE), max);
    assert_eq!(U256::ZERO.checked_sub(&U256::ONE), None);
    assert_eq!(U256::ZERO.wrapping_sub(&U256::ONE), max);
    // carries across every limb
    assert_eq!(
        u("0xffffffffffffffffffffffffffffffffffffffffffffffff").checked_add(&U256::ONE),
        Some(u("0x1000000000000000000000000000000000000000000000000"))
    );
    assert_eq!(
        u("0x1000000000000000000000000000000000000000000000000").checked_sub(&U256::ONE),
        Some(u("0xffffffffffffffffffffffffffffffffffffffffffffffff"))
    );
    assert_eq!(
        U256::from_u64(5).checked_sub(&U256::from_u64(5)),
        Some(U256::ZERO)
    );
}

#[test]
fn mul() {
    let a = u("0xffffffffffffffffffffffffffffffff"); // 2^128 - 1
                                                     // (2^128 - 1)^2 = 2^256 - 2^129 + 1
    assert_eq!(
        a.checked_mul(&a),
        Some(u(
            "0xfffffffffffffffffffffffffffffffe00000000000000000000000000000001"
        ))
    );
    let two128 = u("0x100000000000000000000000000000000");
    assert_eq!(two128.checked_mul(&two128), None);
    assert_eq!(two128.wrapping_mul(&two128), U256::ZERO);
    assert_eq!(U256::MAX.checked_mul(&U256::from_u64(2)), None);
    assert_eq!(U256::MAX.checked_mul(&U256::ONE), Some(U256::MAX));
    assert_eq!(U256::MAX.checked_mul(&U256::ZERO), Some(U256::ZERO));
    for (x, y) in [(0u64, 9u64), (u64::MAX, u64::MAX), (123456789, 987654321)] {
        assert_eq!(
            U256::from_u64(x).checked_mul(&U256::from_u64(y)),
            Some(U256::from_u128(x as u128 * y as u128))
        );
    }
}

#[test]
fn div_rem() {
    let a = u("0xfffffffffffffffffffffffffffffffe00000000000000000000000000000001");
    let b = u("0xffffffffffffffffffffffffffffffff");
    assert_eq!(a.checked_div_rem(&b), Some((b, U256::ZERO)));
    assert_eq!(
        U256::from_u64(100).checked_div_rem(&U256::from_u64(7)),
        Some((U256::from_u64(14), U256::from_u64(2)))
    );
    assert_eq!(U256::MAX.checked_div(&U256::MAX), Some(U256::ONE));
    assert_eq!(U256::MAX.checked_rem(&U256::from_u64(2)), Some(U256::ONE));
    assert_eq!(U256::ONE.checked_div(&U256::ZERO), None);
}

#[test]
fn ordering() {
    let small = U256::from_u64(u64::MAX);
    let big = u("0x10000000000000000");
    assert!(small < big);
    assert!(big > small);
    assert!(U256::MAX > big);
    assert_eq!(big.cmp(&big), core::cmp::Ordering::Equal);
    assert!(U256::ZERO.is_zero());
    assert!(!U256::ONE.is_zero());
}
