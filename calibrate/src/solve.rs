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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_up_above_the_floor() {
        assert_eq!(round(2.5, 0), 3);
        assert_eq!(round(2.49, 0), 2);
        assert_eq!(round(-4.0, 1), 1);
        assert_eq!(round(0.2, 1), 1);
        assert_eq!(round(f64::NAN, 0), 0);
    }
}
