//! What one unit of a workload is charged, quantity by quantity ([`Composition`]), derived
//! from the gas the workload is charged rather than counted by hand: the workload runs under a
//! schedule where every quantity costs 1, then under schedules where three quantities at a time
//! cost `1 + 4096^k` more; the extra gas per unit, read in base 4096, is how many of each the
//! unit uses. Branches not taken, callee bodies, host charges and runtime costs are all counted
//! as they are charged, because the charges themselves are what is read.

use tally_vm::Allocation;

use crate::env::{Env, Scale};
use crate::error::Error;
use crate::param::{Costs, Param};
use crate::row::{gas_of, Composition, Region, Variant};

/// Base of the encoding: a unit may use at most this many of one quantity.
const DIGIT: u64 = 4096;
/// Quantities per schedule (`DIGIT^(PER_BATCH - 1)` must stay below the schedule's cost cap).
const PER_BATCH: usize = 3;

/// The schedules of a derivation and the environments that run them.
pub struct Derivation {
    base: Env,
    batches: Vec<(Vec<Param>, Env)>,
}

impl Derivation {
    /// Environments for every schedule of the derivation, with a small chain state.
    pub fn new(quick: bool, allocation: Allocation) -> Self {
        let scale = Scale {
            quick,
            state_size: 4_096,
        };
        let params = Param::all();
        let mut ones = Costs::default();
        for p in &params {
            ones.set(*p, 1);
        }
        let batches = params
            .chunks(PER_BATCH)
            .map(|chunk| {
                let mut costs = ones.clone();
                let mut weight = 1;
                for p in chunk {
                    costs.set(*p, 1 + weight);
                    weight *= DIGIT;
                }
                (chunk.to_vec(), Env::new(costs, scale, allocation, false))
            })
            .collect();
        Derivation {
            base: Env::new(ones, scale, allocation, false),
            batches,
        }
    }

    /// The composition of one unit of `variant`, from runs at the two sizes `sizes`.
    pub fn derive(
        &mut self,
        row: &str,
        variant: &Variant,
        sizes: [u64; 2],
    ) -> Result<Composition, Error> {
        let base = per_unit(row, variant, &self.base, sizes)?;
        let mut composition = Composition::new();
        for (params, env) in &self.batches {
            let gas = per_unit(row, variant, env, sizes)?;
            let mut extra = gas.checked_sub(base).ok_or_else(|| {
                Error::workload(row, "more gas per unit under a cheaper schedule")
            })?;
            for p in params {
                let count = extra % DIGIT;
                extra /= DIGIT;
                if count > 0 {
                    composition.insert(*p, count);
                }
            }
            if extra > 0 {
                return Err(Error::workload(
                    row,
                    format!("a unit uses {DIGIT} or more of one of {params:?}"),
                ));
            }
        }
        // Every quantity costs 1 in the base schedule: the counts must add up to its gas.
        if gas_of(&composition, &self.base.costs) != base {
            return Err(Error::workload(
                row,
                format!("derived composition {composition:?} does not add up to {base} gas"),
            ));
        }
        self.base.reset_vm();
        for (_, env) in &mut self.batches {
            env.reset_vm();
        }
        Ok(composition)
    }
}

/// Gas per unit of `variant` in `env` between two sizes (checked to be an integer).
fn per_unit(row: &str, variant: &Variant, env: &Env, sizes: [u64; 2]) -> Result<u64, Error> {
    let mut probe = (variant.make)(env)?;
    let first = probe.run(sizes[0], &mut Region::default())?;
    let second = probe.run(sizes[1], &mut Region::default())?;
    let units = second.units.saturating_sub(first.units);
    match second.gas.checked_sub(first.gas) {
        Some(gas) if units > 0 && gas % units == 0 => Ok(gas / units),
        _ => Err(Error::workload(
            row,
            format!(
                "gas {} at {} units, {} at {}: not a whole amount per unit",
                first.gas, first.units, second.gas, second.units
            ),
        )),
    }
}
