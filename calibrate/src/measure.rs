//! Measuring a row: every variant at every size, repeated with the sizes interleaved so drift
//! hits them alike; the minimum of the repeats (noise only ever adds time) is fitted, the median
//! kept to show the spread. Gas must be the same on every repeat, exactly linear in the units,
//! and equal to what the variant's composition says: a workload that is not doing what it
//! claims stops the calibration.

use serde::Serialize;

use crate::env::Env;
use crate::error::Error;
use crate::fit::{fit, Line};
use crate::param::Param;
use crate::progress::Progress;
use crate::row::{gas_of, Composition, Group, Region, Row, Run};

/// One size of a variant, over its repeats.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub units: u64,
    pub gas: u64,
    pub min_ns: f64,
    pub median_ns: f64,
}

/// A measured variant.
#[derive(Clone, Debug, Serialize)]
pub struct MeasuredVariant {
    pub name: String,
    #[serde(serialize_with = "crate::report::composition_as_names")]
    pub composition: Composition,
    pub points: Vec<Point>,
    /// Time against units, fitted on the minimum of the repeats.
    pub time: Line,
    /// The same on the median, to show how noisy the run was.
    pub median_time: Line,
    /// Gas per unit under the schedule the run used (checked exact).
    pub gas_per_unit: u64,
    /// Instructions against units, when callgrind counted them.
    pub instructions: Option<Line>,
}

/// A measured row (its description and its variants).
#[derive(Clone, Debug, Serialize)]
pub struct MeasuredRow {
    pub name: String,
    pub group: Group,
    pub own: Param,
    pub unit: String,
    pub worst_case: String,
    pub variants: Vec<MeasuredVariant>,
}

/// Measures every variant of `row` (whose compositions are `compositions`) at every size in
/// `env`, repeated as its scale says.
pub fn measure_row(
    row: &Row,
    compositions: &[Composition],
    env: &Env,
    progress: &mut Progress,
) -> Result<MeasuredRow, Error> {
    let mut variants = Vec::new();
    let count = row.variants.len();
    for (index, (variant, composition)) in row.variants.iter().zip(compositions).enumerate() {
        progress.variant(&variant.name, index, count);
        let mut probe = (variant.make)(env)?;
        let mut runs: Vec<Vec<(Run, f64)>> = vec![Vec::new(); row.sizes.len()];
        for _ in 0..env.scale.repeats() {
            for (at, size) in row.sizes.iter().enumerate() {
                let mut region = Region::default();
                let run = probe.run(*size, &mut region)?;
                let ns = region
                    .ns()
                    .ok_or_else(|| Error::workload(&row.name, "a run timed nothing"))?;
                runs[at].push((run, ns));
            }
        }
        let points = points(&row.name, &runs)?;
        let expected = gas_of(composition, &env.costs);
        let gas_per_unit = exact_slope(&row.name, &points)?;
        if gas_per_unit != expected {
            return Err(Error::workload(
                &row.name,
                format!(
                    "variant {} is charged {gas_per_unit} gas per unit, its composition says \
                     {expected}",
                    variant.name
                ),
            ));
        }
        let line = |value: fn(&Point) -> f64| {
            let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.units as f64, value(p))).collect();
            fit(&xy).ok_or_else(|| Error::workload(&row.name, "fewer than two distinct sizes"))
        };
        variants.push(MeasuredVariant {
            name: variant.name.clone(),
            composition: composition.clone(),
            time: line(|p| p.min_ns)?,
            median_time: line(|p| p.median_ns)?,
            points,
            gas_per_unit,
            instructions: None,
        });
    }
    Ok(MeasuredRow {
        name: row.name.clone(),
        group: row.group,
        own: row.own,
        unit: row.unit.clone(),
        worst_case: row.worst_case.clone(),
        variants,
    })
}

/// Minimum and median time per size; the units and gas of every repeat must agree.
fn points(row: &str, runs: &[Vec<(Run, f64)>]) -> Result<Vec<Point>, Error> {
    runs.iter()
        .map(|repeats| {
            let (first, _) = repeats
                .first()
                .ok_or_else(|| Error::workload(row, "no run"))?;
            if let Some((other, _)) = repeats.iter().find(|(r, _)| r != first) {
                return Err(Error::workload(
                    row,
                    format!("not deterministic: {first:?} then {other:?}"),
                ));
            }
            let mut ns: Vec<f64> = repeats.iter().map(|(_, ns)| *ns).collect();
            ns.sort_by(f64::total_cmp);
            Ok(Point {
                units: first.units,
                gas: first.gas,
                min_ns: ns[0],
                median_ns: ns[ns.len() / 2],
            })
        })
        .collect()
}

/// Gas per unit, checked to be an integer slope through every point.
fn exact_slope(row: &str, points: &[Point]) -> Result<u64, Error> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Err(Error::workload(row, "no sizes"));
    };
    let units = last.units.saturating_sub(first.units);
    let gas = last.gas.checked_sub(first.gas);
    let slope = match gas {
        Some(gas) if units > 0 && gas % units == 0 => gas / units,
        _ => {
            return Err(Error::workload(
                row,
                format!("gas {} -> {} over {units} units", first.gas, last.gas),
            ))
        }
    };
    for p in points {
        if p.gas != first.gas + slope * (p.units - first.units) {
            return Err(Error::workload(
                row,
                format!(
                    "gas is not linear in units: {} gas at {} units",
                    p.gas, p.units
                ),
            ));
        }
    }
    Ok(slope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Scale;
    use crate::param::Costs;
    use crate::row::{Probe, Row};
    use tally_vm::{Allocation, OperatorClass};

    /// A probe charged `10 + per_unit * units` gas, taking `units` nanoseconds... or, when
    /// `flaky`, a different gas on every run.
    struct Fake {
        per_unit: u64,
        flaky: bool,
        runs: u64,
    }

    impl Probe for Fake {
        fn run(&mut self, size: u64, region: &mut Region) -> Result<Run, Error> {
            self.runs += 1;
            region.time(|| std::hint::black_box(size));
            let noise = if self.flaky { self.runs } else { 0 };
            Ok(Run {
                units: size,
                gas: 10 + self.per_unit * size + noise,
            })
        }
    }

    fn fake(per_unit: u64, flaky: bool) -> Row {
        Row::new("fake", Group::Operator, Param::Op(OperatorClass::Local))
            .sizes([0, 10, 20])
            .variant("fake", move |_| {
                Ok(Fake {
                    per_unit,
                    flaky,
                    runs: 0,
                })
            })
    }

    fn measure(row: &Row, composition: Composition) -> Result<MeasuredRow, Error> {
        let env = Env::new(
            Costs::default(),
            Scale::new(true),
            Allocation::Pooling,
            false,
        );
        let mut progress = Progress::new(1, true);
        measure_row(row, &[composition], &env, &mut progress)
    }

    #[test]
    fn gas_must_match_the_composition_and_repeat_exactly() {
        let local = Param::Op(OperatorClass::Local);
        let one_local = Composition::from([(local, 1)]);
        // The default schedule charges 1 per local.
        let measured = measure(&fake(1, false), one_local.clone()).unwrap();
        let variant = &measured.variants[0];
        assert_eq!(variant.gas_per_unit, 1);
        assert_eq!(variant.points.len(), 3);
        assert_eq!(variant.points[2].gas, 30);
        assert!(measure(&fake(2, false), one_local.clone()).is_err());
        assert!(measure(&fake(1, true), one_local).is_err());
    }
}
