//! The gas schedule: what every wasm operator class ([`OperatorClass`]), memory growth, bulk
//! memory, instantiation and host function costs. Versioned, serializable to JSON, and hashed
//! into the module-cache key because the instrumented code bakes the costs in. The default is
//! the JSON file the calibration command writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use wasmparser::Operator;

use crate::host_abi::HostFn;

mod class;

pub use class::OperatorClass;

/// Bytes in one "word" of a per-word cost (as in the EVM: sizes are rounded up to 32-byte words).
pub const WORD_BYTES: u64 = 32;

/// A base cost plus a cost per unit (the unit is named by each field that uses it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    pub base: u64,
    pub per_unit: u64,
}

impl Linear {
    pub const fn new(base: u64, per_unit: u64) -> Self {
        Linear { base, per_unit }
    }

    /// `base + per_unit * units`, saturating (a saturated cost is always out of gas).
    pub fn cost(&self, units: u64) -> u64 {
        self.base
            .saturating_add(self.per_unit.saturating_mul(units))
    }

    /// The cost of an operation on `bytes` bytes, priced per started 32-byte word.
    pub fn cost_bytes(&self, bytes: u64) -> u64 {
        self.cost(bytes.div_ceil(WORD_BYTES))
    }
}

/// The cost of each class of wasm operator, charged when the operator executes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorCosts {
    /// `nop`, `block`, `loop`, `else`, `end`: structure that compiles to no work.
    pub structure: u64,
    /// `i32.const`, `i64.const`.
    pub constant: u64,
    /// `local.get`, `local.set`, `local.tee`.
    pub local: u64,
    /// `global.get`, `global.set`.
    pub global: u64,
    /// `drop`, `select`.
    pub parametric: u64,
    /// Integer add, sub, logic, shifts, rotations, comparisons, `eqz`, `clz`, `ctz`, `popcnt`.
    pub integer: u64,
    /// `i32.mul`, `i64.mul`.
    pub multiply: u64,
    /// Integer division and remainder.
    pub divide: u64,
    /// `i32.wrap_i64`, `i64.extend_i32_*` and the sign-extension operators.
    pub conversion: u64,
    /// Memory loads.
    pub load: u64,
    /// Memory stores.
    pub store: u64,
    /// `br`, `br_if`, `if`.
    pub branch: u64,
    /// `br_table`.
    pub branch_table: u64,
    /// `call` of a wasm function (host functions have their own costs on top).
    pub call: u64,
    /// `call_indirect`.
    pub call_indirect: u64,
    /// `return`.
    pub ret: u64,
    /// `unreachable`.
    pub unreachable: u64,
    /// `memory.size`.
    pub memory_size: u64,
    /// `data.drop`.
    pub data_drop: u64,
}

/// Costs of instantiating a module for one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiationCosts {
    /// Per instantiation.
    pub base: u64,
    /// Per initial 64 KiB memory page (the pages are cleared for the new instance).
    pub per_memory_page: u64,
    /// Per 32-byte word of data segments copied into memory.
    pub per_data_word: u64,
    /// Per 32-byte word of the module's code (its functions, tables and globals are set up for
    /// each instance).
    pub per_code_word: u64,
}

impl InstantiationCosts {
    /// Gas to instantiate a module of `code_bytes` bytes with `pages` initial memory pages and
    /// `data_bytes` bytes of active data segments.
    pub fn cost(&self, code_bytes: u64, pages: u32, data_bytes: u64) -> u64 {
        self.base
            .saturating_add(self.per_memory_page.saturating_mul(pages.into()))
            .saturating_add(
                self.per_data_word
                    .saturating_mul(data_bytes.div_ceil(WORD_BYTES)),
            )
            .saturating_add(
                self.per_code_word
                    .saturating_mul(code_bytes.div_ceil(WORD_BYTES)),
            )
    }
}

/// A complete, versioned gas schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasSchedule {
    /// Bumped whenever a cost changes meaning or value in a released schedule.
    pub version: u32,
    pub operators: OperatorCosts,
    /// `memory.grow`: base per call plus `per_unit` per page grown.
    pub memory_grow: Linear,
    /// `memory.copy`, `memory.fill`, `memory.init`: base plus `per_unit` per 32-byte word.
    pub bulk_memory: Linear,
    pub instantiation: InstantiationCosts,
    /// Every host function: base plus `per_unit` per 32-byte word of the data it handles
    /// (see `docs/host-abi.md` for what each function counts).
    pub host: BTreeMap<HostFn, Linear>,
}

/// Errors loading or checking a gas schedule.
#[derive(Debug, Error)]
pub enum ScheduleError {
    #[error("cannot read gas schedule {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid gas schedule JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("gas schedule has no cost for host function `{0}`")]
    MissingHostFn(&'static str),
    #[error("gas schedule cost `{name}` is {value}, above the maximum {MAX_COST}")]
    CostTooLarge { name: String, value: u64 },
}

/// Largest value any single cost in a schedule may have. Keeps every charge the instrumented
/// code computes (cost x pages, cost x words) far from i64 overflow.
pub const MAX_COST: u64 = 1 << 32;

/// The default schedule as JSON: written by the calibration command (`tally-calibrate`) from
/// its measurements; `docs/gas.md` explains every figure.
pub const DEFAULT_SCHEDULE_JSON: &str = include_str!("default.json");

impl Default for GasSchedule {
    /// The default schedule ([`DEFAULT_SCHEDULE_JSON`]).
    fn default() -> Self {
        static DEFAULT: OnceLock<GasSchedule> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                // A unit test parses and checks the built-in file, so this cannot fail.
                GasSchedule::from_json(DEFAULT_SCHEDULE_JSON).expect("built-in gas schedule")
            })
            .clone()
    }
}

impl GasSchedule {
    /// Parses a schedule from JSON and checks it is complete.
    pub fn from_json(json: &str) -> Result<Self, ScheduleError> {
        let schedule: GasSchedule = serde_json::from_str(json)?;
        schedule.check()?;
        Ok(schedule)
    }

    /// Loads a schedule from a JSON file.
    pub fn from_file(path: &Path) -> Result<Self, ScheduleError> {
        let json = std::fs::read_to_string(path).map_err(|source| ScheduleError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&json)
    }

    /// The schedule as pretty JSON (host functions in ABI order, so the output is stable).
    pub fn to_json(&self) -> String {
        // Serializing plain integers and string keys cannot fail.
        serde_json::to_string_pretty(self).expect("gas schedule serializes")
    }

    /// Checks every host function has a cost and no cost exceeds [`MAX_COST`].
    pub fn check(&self) -> Result<(), ScheduleError> {
        if let Some(missing) = HostFn::ALL.iter().find(|f| !self.host.contains_key(f)) {
            return Err(ScheduleError::MissingHostFn(missing.name()));
        }
        // Every cost is a JSON integer somewhere in the serialized schedule.
        let value = serde_json::to_value(self)?;
        check_costs("", &value)
    }

    /// The cost of one host function. Schedules are checked complete on load; a schedule built
    /// by hand without an entry prices that function at zero.
    pub fn host_cost(&self, f: HostFn) -> Linear {
        self.host.get(&f).copied().unwrap_or_default()
    }

    /// keccak-256 of the canonical JSON: identifies the schedule in the module-cache key.
    pub fn hash(&self) -> [u8; 32] {
        // Compact serialization of a struct of integers and a BTreeMap is canonical (fields in
        // declaration order, map keys sorted).
        let json = serde_json::to_vec(self).expect("gas schedule serializes");
        crate::keccak256(&json)
    }

    /// The static cost of one operator. Dynamic parts (memory growth per page, bulk memory per
    /// word) are charged separately at run time.
    pub fn operator_cost(&self, op: &Operator<'_>) -> u64 {
        self.class_cost(OperatorClass::of(op))
    }
}

/// `GasSchedule::class_cost` and `class_cost_mut`: the field of the schedule that prices each
/// class.
macro_rules! class_fields {
    ($($class:ident => $field:ident),* $(,)?) => {
        impl GasSchedule {
            /// The static cost of every operator of `class`.
            pub fn class_cost(&self, class: OperatorClass) -> u64 {
                match class {
                    $(OperatorClass::$class => self.operators.$field,)*
                    OperatorClass::MemoryGrow => self.memory_grow.base,
                    OperatorClass::BulkMemory => self.bulk_memory.base,
                }
            }

            /// The static cost of `class`, to change it.
            pub fn class_cost_mut(&mut self, class: OperatorClass) -> &mut u64 {
                match class {
                    $(OperatorClass::$class => &mut self.operators.$field,)*
                    OperatorClass::MemoryGrow => &mut self.memory_grow.base,
                    OperatorClass::BulkMemory => &mut self.bulk_memory.base,
                }
            }
        }
    };
}

class_fields! {
    Structure => structure,
    Constant => constant,
    Local => local,
    Global => global,
    Parametric => parametric,
    Integer => integer,
    Multiply => multiply,
    Divide => divide,
    Conversion => conversion,
    Load => load,
    Store => store,
    Branch => branch,
    BranchTable => branch_table,
    Call => call,
    CallIndirect => call_indirect,
    Ret => ret,
    Unreachable => unreachable,
    MemorySize => memory_size,
    DataDrop => data_drop,
}

fn check_costs(path: &str, value: &serde_json::Value) -> Result<(), ScheduleError> {
    match value {
        serde_json::Value::Object(map) => map.iter().try_for_each(|(key, v)| {
            let name = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if name == "version" {
                return Ok(());
            }
            check_costs(&name, v)
        }),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(v) if v <= MAX_COST => Ok(()),
            _ => Err(ScheduleError::CostTooLarge {
                name: path.to_string(),
                value: n.as_u64().unwrap_or(u64::MAX),
            }),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_schedule_is_complete_and_canonical() {
        let s = GasSchedule::from_json(DEFAULT_SCHEDULE_JSON).unwrap();
        // The file is exactly what `to_json` writes, so regenerating it changes no byte.
        assert_eq!(format!("{}\n", s.to_json()), DEFAULT_SCHEDULE_JSON);
        for class in OperatorClass::ALL {
            let mut changed = s.clone();
            *changed.class_cost_mut(*class) += 1;
            assert_eq!(changed.class_cost(*class), s.class_cost(*class) + 1);
            assert_ne!(changed.hash(), s.hash(), "{}", class.name());
        }
    }

    #[test]
    fn default_round_trips_through_json() {
        let s = GasSchedule::default();
        let back = GasSchedule::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.hash(), s.hash());
    }

    #[test]
    fn missing_host_fn_is_rejected() {
        let mut s = GasSchedule::default();
        s.host.remove(&HostFn::Call);
        let err = GasSchedule::from_json(&s.to_json()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "gas schedule has no cost for host function `call`"
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let json = s_with_extra_field();
        assert!(GasSchedule::from_json(&json).is_err());
    }

    fn s_with_extra_field() -> String {
        let mut v: serde_json::Value =
            serde_json::from_str(&GasSchedule::default().to_json()).unwrap();
        v["bogus"] = 1.into();
        v.to_string()
    }

    #[test]
    fn oversized_cost_is_rejected() {
        let mut s = GasSchedule::default();
        s.memory_grow.per_unit = MAX_COST + 1;
        let err = GasSchedule::from_json(&s.to_json()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "gas schedule cost `memory_grow.per_unit` is {}, above the maximum {MAX_COST}",
                MAX_COST + 1
            )
        );
    }

    #[test]
    fn any_cost_change_changes_hash() {
        let a = GasSchedule::default();
        let mut b = a.clone();
        b.operators.integer += 1;
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn per_word_costs_round_up() {
        let l = Linear::new(10, 3);
        assert_eq!(l.cost_bytes(0), 10);
        assert_eq!(l.cost_bytes(1), 13);
        assert_eq!(l.cost_bytes(32), 13);
        assert_eq!(l.cost_bytes(33), 16);
        assert_eq!(Linear::new(1, u64::MAX).cost(2), u64::MAX);
    }
}
