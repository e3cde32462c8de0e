//! Every cost a calibration prices ([`Param`]): the VM schedule's entries and the runtime's
//! costs, with their names and how to read and write them in a [`Costs`] pair.

use std::fmt;

use serde::Serialize;
use tally_runtime::costs::RuntimeCosts;
use tally_vm::{GasSchedule, HostFn, OperatorClass};

/// One cost of the runtime's table ([`RuntimeCosts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeCost {
    Transaction,
    Create,
    CalldataZeroByte,
    CalldataNonzeroByte,
    CodeByte,
    StorageSet,
    StorageReset,
    StorageClear,
    ValueTransfer,
    NewAccount,
}

impl RuntimeCost {
    pub const ALL: &'static [RuntimeCost] = &[
        RuntimeCost::Transaction,
        RuntimeCost::Create,
        RuntimeCost::CalldataZeroByte,
        RuntimeCost::CalldataNonzeroByte,
        RuntimeCost::CodeByte,
        RuntimeCost::StorageSet,
        RuntimeCost::StorageReset,
        RuntimeCost::StorageClear,
        RuntimeCost::ValueTransfer,
        RuntimeCost::NewAccount,
    ];

    /// The field name in [`RuntimeCosts`].
    pub fn name(self) -> &'static str {
        match self {
            RuntimeCost::Transaction => "transaction",
            RuntimeCost::Create => "create",
            RuntimeCost::CalldataZeroByte => "calldata_zero_byte",
            RuntimeCost::CalldataNonzeroByte => "calldata_nonzero_byte",
            RuntimeCost::CodeByte => "code_byte",
            RuntimeCost::StorageSet => "storage_set",
            RuntimeCost::StorageReset => "storage_reset",
            RuntimeCost::StorageClear => "storage_clear",
            RuntimeCost::ValueTransfer => "value_transfer",
            RuntimeCost::NewAccount => "new_account",
        }
    }

    fn field(self, costs: &mut RuntimeCosts) -> &mut u64 {
        match self {
            RuntimeCost::Transaction => &mut costs.transaction,
            RuntimeCost::Create => &mut costs.create,
            RuntimeCost::CalldataZeroByte => &mut costs.calldata_zero_byte,
            RuntimeCost::CalldataNonzeroByte => &mut costs.calldata_nonzero_byte,
            RuntimeCost::CodeByte => &mut costs.code_byte,
            RuntimeCost::StorageSet => &mut costs.storage_set,
            RuntimeCost::StorageReset => &mut costs.storage_reset,
            RuntimeCost::StorageClear => &mut costs.storage_clear,
            RuntimeCost::ValueTransfer => &mut costs.value_transfer,
            RuntimeCost::NewAccount => &mut costs.new_account,
        }
    }
}

/// Whether `f` is charged per word of the data it handles (the others have no per-word
/// quantity to price: their `per_unit` is never charged).
pub fn handles_data(f: HostFn) -> bool {
    use HostFn::*;
    matches!(
        f,
        InputRead | SetReturn | Revert | Keccak256 | EmitLog | Call | Create | ReturnDataRead
    )
}

/// One priced quantity of the schedule or the runtime costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Param {
    /// The static cost of an operator class (for `memory.grow` and bulk memory: their base).
    Op(OperatorClass),
    MemoryGrowPage,
    BulkWord,
    InstantiationBase,
    InstantiationPage,
    InstantiationDataWord,
    InstantiationCodeWord,
    HostBase(HostFn),
    HostWord(HostFn),
    Runtime(RuntimeCost),
}

impl Param {
    /// Every parameter, in schedule order.
    pub fn all() -> Vec<Param> {
        let mut all: Vec<Param> = OperatorClass::ALL.iter().map(|c| Param::Op(*c)).collect();
        all.extend([
            Param::MemoryGrowPage,
            Param::BulkWord,
            Param::InstantiationBase,
            Param::InstantiationPage,
            Param::InstantiationDataWord,
            Param::InstantiationCodeWord,
        ]);
        for f in HostFn::ALL {
            all.push(Param::HostBase(*f));
            if handles_data(*f) {
                all.push(Param::HostWord(*f));
            }
        }
        all.extend(RuntimeCost::ALL.iter().map(|c| Param::Runtime(*c)));
        all
    }

    /// The smallest value calibration may give it: an operator that compiles to machine code is
    /// never free (`structure` compiles to none); everything else may be zero.
    pub fn floor(self) -> u64 {
        match self {
            Param::Op(OperatorClass::Structure) => 0,
            Param::Op(_) => 1,
            _ => 0,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Op(OperatorClass::MemoryGrow) => write!(f, "memory_grow.base"),
            Param::Op(OperatorClass::BulkMemory) => write!(f, "bulk_memory.base"),
            Param::Op(class) => write!(f, "operators.{}", class.name()),
            Param::MemoryGrowPage => write!(f, "memory_grow.per_unit"),
            Param::BulkWord => write!(f, "bulk_memory.per_unit"),
            Param::InstantiationBase => write!(f, "instantiation.base"),
            Param::InstantiationPage => write!(f, "instantiation.per_memory_page"),
            Param::InstantiationDataWord => write!(f, "instantiation.per_data_word"),
            Param::InstantiationCodeWord => write!(f, "instantiation.per_code_word"),
            Param::HostBase(h) => write!(f, "host.{}.base", h.name()),
            Param::HostWord(h) => write!(f, "host.{}.per_unit", h.name()),
            Param::Runtime(c) => write!(f, "runtime.{}", c.name()),
        }
    }
}

impl Serialize for Param {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A VM schedule and runtime costs: everything calibration prices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Costs {
    pub vm: GasSchedule,
    pub runtime: RuntimeCosts,
}

impl Costs {
    /// The value of `param`.
    pub fn get(&self, param: Param) -> u64 {
        let vm = &self.vm;
        match param {
            Param::Op(class) => vm.class_cost(class),
            Param::MemoryGrowPage => vm.memory_grow.per_unit,
            Param::BulkWord => vm.bulk_memory.per_unit,
            Param::InstantiationBase => vm.instantiation.base,
            Param::InstantiationPage => vm.instantiation.per_memory_page,
            Param::InstantiationDataWord => vm.instantiation.per_data_word,
            Param::InstantiationCodeWord => vm.instantiation.per_code_word,
            Param::HostBase(f) => vm.host_cost(f).base,
            Param::HostWord(f) => vm.host_cost(f).per_unit,
            Param::Runtime(c) => *c.field(&mut self.runtime.clone()),
        }
    }

    /// Sets `param` to `value`.
    pub fn set(&mut self, param: Param, value: u64) {
        *self.field(param) = value;
    }

    fn field(&mut self, param: Param) -> &mut u64 {
        let vm = &mut self.vm;
        match param {
            Param::Op(class) => vm.class_cost_mut(class),
            Param::MemoryGrowPage => &mut vm.memory_grow.per_unit,
            Param::BulkWord => &mut vm.bulk_memory.per_unit,
            Param::InstantiationBase => &mut vm.instantiation.base,
            Param::InstantiationPage => &mut vm.instantiation.per_memory_page,
            Param::InstantiationDataWord => &mut vm.instantiation.per_data_word,
            Param::InstantiationCodeWord => &mut vm.instantiation.per_code_word,
            Param::HostBase(f) => &mut vm.host.entry(f).or_default().base,
            Param::HostWord(f) => &mut vm.host.entry(f).or_default().per_unit,
            Param::Runtime(c) => c.field(&mut self.runtime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_param_reads_back_what_was_set_and_nothing_else_changes() {
        let base = Costs::default();
        for (i, param) in Param::all().into_iter().enumerate() {
            let mut costs = base.clone();
            let value = 1_000_000 + i as u64;
            costs.set(param, value);
            assert_eq!(costs.get(param), value, "{param}");
            for other in Param::all().into_iter().filter(|p| *p != param) {
                assert_eq!(costs.get(other), base.get(other), "{param} changed {other}");
            }
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<String> = Param::all().iter().map(|p| p.to_string()).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
