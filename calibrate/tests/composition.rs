//! The derived compositions of a few workloads, against counts made by hand from their code.

use tally_calibrate::composition::Derivation;
use tally_calibrate::env::Scale;
use tally_calibrate::param::Param;
use tally_calibrate::row::Composition;
use tally_calibrate::rows::catalog;
use tally_vm::{Allocation, HostFn, OperatorClass::*};

fn derive(row: &str, variant: &str) -> Composition {
    let rows = catalog(Scale::new(true));
    let row = rows.iter().find(|r| r.name == row).unwrap();
    let variant = row.variants.iter().find(|v| v.name == variant).unwrap();
    let mut derivation = Derivation::new(true, Allocation::Pooling);
    derivation
        .derive(&row.name, variant, [row.sizes[0], row.sizes[1]])
        .unwrap()
}

#[test]
fn a_straight_unit_counts_its_operators() {
    // (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (local.get $y))))
    let expected = Composition::from([(Param::Op(Local), 4), (Param::Op(Integer), 2)]);
    assert_eq!(derive("integer", "xorshift"), expected);
}

#[test]
fn a_branch_counts_the_arm_it_takes() {
    // The LCG step: 2 locals, 2 constants, a multiply, an add. The condition: a local, a
    // constant, a shift, a wrap. The `if`, then one arm (2 locals, a constant, an add or a
    // sub) closed by `else` or `end`.
    let expected = Composition::from([
        (Param::Op(Local), 5),
        (Param::Op(Constant), 4),
        (Param::Op(Multiply), 1),
        (Param::Op(Integer), 3),
        (Param::Op(Conversion), 1),
        (Param::Op(Branch), 1),
        (Param::Op(Structure), 1),
    ]);
    assert_eq!(derive("branch", "if/else"), expected);
}

#[test]
fn host_calls_count_their_charges() {
    let caller = Composition::from([
        (Param::Op(Constant), 1),
        (Param::Op(Call), 1),
        (Param::HostBase(HostFn::Caller), 1),
    ]);
    assert_eq!(derive("caller", "calls"), caller);
    let keccak = Composition::from([(Param::HostWord(HostFn::Keccak256), 1)]);
    assert_eq!(derive("keccak256 per word", "1 MiB at most"), keccak);
}
