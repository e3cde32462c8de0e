//! Pricing the schedule from the measurements, at one fixed conversion ([`NS_PER_GAS`]).
//!
//! Rows are priced in catalog order. A row's unit costs `time per unit / NS_PER_GAS` gas;
//! whatever of that its other quantities (all priced by earlier rows) do not already charge is
//! its own quantity's price, divided by how many of it one unit uses. Of a row's variants, the
//! one giving the highest price is taken (the worst case). Prices are rounded half up to whole
//! gas and never go below the quantity's floor ([`Param::floor`]).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::Error;
use crate::measure::MeasuredRow;
use crate::param::{Costs, Param};
use crate::row::gas_of;

/// The fixed conversion: nanoseconds of the reference machine per unit of gas.
pub const NS_PER_GAS: f64 = 0.1;

/// How one row priced its quantity.
#[derive(Clone, Debug, Serialize)]
pub struct Pricing {
    /// The variant with the most time per gas under the new price (the worst case shown).
    pub variant: usize,
    /// The price before rounding.
    pub exact: f64,
    /// The price set.
    pub value: u64,
}

/// The variant of `row` with the most time per gas under `costs`.
fn slowest(row: &MeasuredRow, costs: &Costs) -> usize {
    let per_gas = |i: usize| {
        let v = &row.variants[i];
        v.time.per_unit / gas_of(&v.composition, costs).max(1) as f64
    };
    (0..row.variants.len())
        .max_by(|a, b| per_gas(*a).total_cmp(&per_gas(*b)))
        .unwrap_or(0)
}

/// Rounds half up, at least `floor`.
pub fn round(exact: f64, floor: u64) -> u64 {
    if exact.is_nan() || exact <= floor as f64 {
        return floor;
    }
    (exact + 0.5).floor() as u64
}

/// Prices every quantity from `rows`, starting from `start` (whose values the rows replace);
/// returns the new costs and each row's pricing. Fails if a row uses a quantity no earlier row
/// priced, if two rows price one quantity, or if a quantity has no row.
pub fn price(rows: &[MeasuredRow], start: &Costs) -> Result<(Costs, Vec<Pricing>), Error> {
    let (mut costs, pricings) = price_in_order(rows, start)?;
    let priced: BTreeSet<Param> = rows.iter().map(|r| r.own).collect();
    let missing: Vec<String> = Param::all()
        .into_iter()
        .filter(|p| !priced.contains(p))
        .map(|p| p.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "no row prices {}",
            missing.join(", ")
        )));
    }
    if costs.vm != start.vm {
        costs.vm.version = start.vm.version + 1;
    }
    if costs.runtime != start.runtime {
        costs.runtime.version = start.runtime.version + 1;
    }
    Ok((costs, pricings))
}

/// Prices the rows' own quantities in order (every other quantity keeps its value).
fn price_in_order(rows: &[MeasuredRow], start: &Costs) -> Result<(Costs, Vec<Pricing>), Error> {
    let mut costs = start.clone();
    let mut priced = BTreeSet::new();
    let mut pricings = Vec::new();
    for row in rows {
        if !priced.insert(row.own) {
            return Err(Error::workload(
                &row.name,
                format!("{} is priced twice", row.own),
            ));
        }
        let mut best: Option<(usize, f64)> = None;
        for (index, variant) in row.variants.iter().enumerate() {
            let own_count = variant.composition.get(&row.own).copied().unwrap_or(0);
            if own_count == 0 {
                return Err(Error::workload(
                    &row.name,
                    format!("variant {} does not use {}", variant.name, row.own),
                ));
            }
            let mut others = 0.0;
            for (param, count) in &variant.composition {
                if *param == row.own {
                    continue;
                }
                if !priced.contains(param) {
                    return Err(Error::workload(
                        &row.name,
                        format!("uses {param}, which no earlier row prices"),
                    ));
                }
                others += (*count * costs.get(*param)) as f64;
            }
            let exact = (variant.time.per_unit / NS_PER_GAS - others) / own_count as f64;
            if best.is_none_or(|(_, b)| exact > b) {
                best = Some((index, exact));
            }
        }
        let (_, exact) =
            best.ok_or_else(|| Error::workload(&row.name, "the row has no variant"))?;
        let value = round(exact, row.own.floor());
        costs.set(row.own, value);
        // The variant shown is the one that then gets the most time per gas (at the floor, the
        // variants may differ however much).
        let variant = slowest(row, &costs);
        pricings.push(Pricing {
            variant,
            exact,
            value,
        });
    }
    Ok((costs, pricings))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fit::Line;
    use crate::measure::MeasuredVariant;
    use crate::row::{Composition, Group};
    use tally_vm::OperatorClass::{Integer, Local};

    fn row(own: Param, variants: &[(f64, &[(Param, u64)])]) -> MeasuredRow {
        let line = |per_unit| Line {
            base: 0.0,
            per_unit,
            r2: 1.0,
        };
        MeasuredRow {
            name: own.to_string(),
            group: Group::Operator,
            own,
            unit: String::new(),
            worst_case: String::new(),
            variants: variants
                .iter()
                .map(|(ns, composition)| MeasuredVariant {
                    name: format!("{ns}"),
                    composition: composition.iter().copied().collect::<Composition>(),
                    points: Vec::new(),
                    time: line(*ns),
                    median_time: line(*ns),
                    gas_per_unit: 0,
                    instructions: None,
                })
                .collect(),
        }
    }

    #[test]
    fn rows_price_their_quantity_after_what_earlier_rows_priced() {
        let (local, integer) = (Param::Op(Local), Param::Op(Integer));
        let rows = [
            // 0.2 ns for two locals: 1 gas each.
            row(local, &[(0.2, &[(local, 2)])]),
            // 1.3 ns = 13 gas, 4 of them locals: (13 - 4) / 2 = 4.5, rounded up to 5; the other
            // variant would give less.
            row(
                integer,
                &[
                    (1.3, &[(local, 4), (integer, 2)]),
                    (0.5, &[(local, 1), (integer, 1)]),
                ],
            ),
        ];
        let (costs, pricings) = price_in_order(&rows, &Costs::default()).unwrap();
        assert_eq!(costs.get(local), 1);
        assert_eq!(costs.get(integer), 5);
        assert_eq!(pricings[1].value, 5);
        assert!((pricings[1].exact - 4.5).abs() < 1e-9);
        // Shown: the variant with the most time per gas (1.3 / 14 against 0.5 / 6).
        assert_eq!(pricings[1].variant, 0);
    }

    #[test]
    fn a_row_using_a_later_quantity_or_pricing_one_twice_is_refused() {
        let (local, integer) = (Param::Op(Local), Param::Op(Integer));
        let later = [row(integer, &[(1.0, &[(local, 1), (integer, 1)])])];
        assert!(price_in_order(&later, &Costs::default()).is_err());
        let twice = [
            row(local, &[(0.1, &[(local, 1)])]),
            row(local, &[(0.1, &[(local, 1)])]),
        ];
        assert!(price_in_order(&twice, &Costs::default()).is_err());
        let incomplete = [row(local, &[(0.1, &[(local, 1)])])];
        assert!(price(&incomplete, &Costs::default()).is_err());
    }

    #[test]
    fn rounds_half_up_above_the_floor() {
        assert_eq!(round(2.5, 0), 3);
        assert_eq!(round(2.49, 0), 2);
        assert_eq!(round(-4.0, 1), 1);
        assert_eq!(round(0.2, 1), 1);
        assert_eq!(round(f64::NAN, 0), 0);
    }
}
