//! The calibration table: for every row the measured time per unit, the gas a unit is charged
//! (under the new schedule, and under the one the run started from), nanoseconds per gas and,
//! where counted, instructions per gas; a summary (spread of nanoseconds per gas); and the
//! table as Markdown and JSON.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::measure::MeasuredRow;
use crate::param::{Costs, Param};
use crate::row::{gas_of, Composition, Group};
use crate::solve::{Pricing, NS_PER_GAS};

/// Serializes a composition with quantity names as keys.
pub fn composition_as_names<S: Serializer>(c: &Composition, s: S) -> Result<S::Ok, S::Error> {
    let named: BTreeMap<String, u64> = c.iter().map(|(p, n)| (p.to_string(), *n)).collect();
    named.serialize(s)
}

/// One line of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub name: String,
    pub group: Group,
    pub quantity: Param,
    pub unit: String,
    pub worst_case: String,
    /// The variant that priced the row.
    pub variant: String,
    pub ns_per_unit: f64,
    /// Fit quality of the time per unit.
    pub r2: f64,
    pub old_value: u64,
    pub value: u64,
    pub old_gas_per_unit: u64,
    pub gas_per_unit: u64,
    pub old_ns_per_gas: Option<f64>,
    pub ns_per_gas: Option<f64>,
    pub instructions_per_unit: Option<f64>,
    pub instructions_per_gas: Option<f64>,
}

/// The table's summary.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub rows: usize,
    pub ns_per_gas_target: f64,
    pub min: (String, f64),
    pub max: (String, f64),
    /// `max / min` of nanoseconds per gas over the rows charged gas.
    pub spread: f64,
    pub mean: f64,
    /// The spread of the schedule the run started from.
    pub old_spread: f64,
    /// Rows charged no gas although their units take more than half a gas of time.
    pub unpriced: Vec<String>,
}

fn ratio(ns: f64, gas: u64) -> Option<f64> {
    (gas > 0).then(|| ns / gas as f64)
}

/// The table of `rows` priced by `pricings`, under `old` and `new` costs.
pub fn lines(rows: &[MeasuredRow], pricings: &[Pricing], old: &Costs, new: &Costs) -> Vec<Line> {
    rows.iter()
        .zip(pricings)
        .map(|(row, pricing)| {
            let variant = &row.variants[pricing.variant];
            let ns = variant.time.per_unit;
            let old_gas = gas_of(&variant.composition, old);
            let gas = gas_of(&variant.composition, new);
            let instructions = variant.instructions.map(|line| line.per_unit);
            Line {
                name: row.name.clone(),
                group: row.group,
                quantity: row.own,
                unit: row.unit.clone(),
                worst_case: row.worst_case.clone(),
                variant: variant.name.clone(),
                ns_per_unit: ns,
                r2: variant.time.r2,
                old_value: old.get(row.own),
                value: new.get(row.own),
                old_gas_per_unit: old_gas,
                gas_per_unit: gas,
                old_ns_per_gas: ratio(ns, old_gas),
                ns_per_gas: ratio(ns, gas),
                instructions_per_unit: instructions,
                instructions_per_gas: instructions.and_then(|i| ratio(i, gas)),
            }
        })
        .collect()
}

fn extremes(values: impl Iterator<Item = (String, f64)>) -> Option<((String, f64), (String, f64))> {
    let values: Vec<(String, f64)> = values.collect();
    let min = values.iter().min_by(|a, b| a.1.total_cmp(&b.1))?.clone();
    let max = values.iter().max_by(|a, b| a.1.total_cmp(&b.1))?.clone();
    Some((min, max))
}

/// The summary of `lines`, if any row is charged gas.
pub fn summary(lines: &[Line]) -> Option<Summary> {
    let priced = || {
        lines
            .iter()
            .filter_map(|l| l.ns_per_gas.map(|r| (l.name.clone(), r)))
    };
    let (min, max) = extremes(priced())?;
    let mean = priced().map(|(_, r)| r).sum::<f64>() / priced().count() as f64;
    let old = extremes(
        lines
            .iter()
            .filter_map(|l| l.old_ns_per_gas.map(|r| (l.name.clone(), r))),
    );
    let unpriced = lines
        .iter()
        .filter(|l| l.gas_per_unit == 0 && l.ns_per_unit > NS_PER_GAS / 2.0)
        .map(|l| l.name.clone())
        .collect();
    Some(Summary {
        rows: lines.len(),
        ns_per_gas_target: NS_PER_GAS,
        spread: max.1 / min.1,
        min,
        max,
        mean,
        old_spread: old.map_or(f64::NAN, |(min, max)| max.1 / min.1),
        unpriced,
    })
}

/// A number with three significant digits.
fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), num)
}

/// The table and its summary as Markdown.
pub fn markdown(lines: &[Line], summary: Option<&Summary>) -> String {
    let mut out = String::new();
    if let Some(s) = summary {
        out += &format!(
            "{} rows; nanoseconds per gas from {} ({}) to {} ({}): spread {}x (target 2x), \
             mean {} (conversion {NS_PER_GAS}); the schedule before calibration: spread {}x.\n\n",
            s.rows,
            num(s.min.1),
            s.min.0,
            num(s.max.1),
            s.max.0,
            num(s.spread),
            num(s.mean),
            num(s.old_spread),
        );
        if !s.unpriced.is_empty() {
            out += &format!(
                "Charged no gas but measurable: {}.\n\n",
                s.unpriced.join(", ")
            );
        }
    }
    out += "| row | quantity | unit | ns / unit | gas / unit | ns / gas | instructions / gas | r² | before: gas / unit | before: ns / gas |\n";
    out += "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for l in lines {
        out += &format!(
            "| {} | `{}` = {} | {} | {} | {} | {} | {} | {:.3} | {} | {} |\n",
            l.name,
            l.quantity,
            l.value,
            l.unit,
            num(l.ns_per_unit),
            l.gas_per_unit,
            opt(l.ns_per_gas),
            opt(l.instructions_per_gas),
            l.r2,
            l.old_gas_per_unit,
            opt(l.old_ns_per_gas),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(num(0.012345), "0.0123");
        assert_eq!(num(1.5), "1.50");
        assert_eq!(num(1234.4), "1234");
        assert_eq!(opt(None), "–");
    }
}
