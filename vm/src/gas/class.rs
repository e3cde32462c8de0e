//! Operator classes: the groups of wasm operators that share one cost in the schedule, and which
//! class each operator of the deterministic subset belongs to.

use serde::{Deserialize, Serialize};
use wasmparser::Operator;

macro_rules! operator_classes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal; )*) => {
        /// A class of wasm operators priced together.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum OperatorClass {
            $( $(#[$doc])* $variant, )*
        }

        impl OperatorClass {
            /// Every class, in schedule order.
            pub const ALL: &'static [OperatorClass] = &[$(OperatorClass::$variant),*];

            /// The class's name: its field in the schedule's `operators` table, or
            /// `memory_grow` / `bulk_memory` for the two classes priced by their own entries.
            pub const fn name(self) -> &'static str {
                match self { $(OperatorClass::$variant => $name,)* }
            }
        }
    };
}

operator_classes! {
    /// `nop`, `block`, `loop`, `else`, `end`.
    Structure = "structure";
    /// `i32.const`, `i64.const`.
    Constant = "constant";
    /// `local.get`, `local.set`, `local.tee`.
    Local = "local";
    /// `global.get`, `global.set`.
    Global = "global";
    /// `drop`, `select`.
    Parametric = "parametric";
    /// Integer add, sub, logic, shifts, rotations, comparisons, `eqz`, `clz`, `ctz`, `popcnt`.
    Integer = "integer";
    /// `i32.mul`, `i64.mul`.
    Multiply = "multiply";
    /// Integer division and remainder.
    Divide = "divide";
    /// `i32.wrap_i64`, `i64.extend_i32_*` and the sign-extension operators.
    Conversion = "conversion";
    /// Memory loads.
    Load = "load";
    /// Memory stores.
    Store = "store";
    /// `br`, `br_if`, `if`.
    Branch = "branch";
    /// `br_table`.
    BranchTable = "branch_table";
    /// `call`, of a wasm function or of a host function (which adds its own cost).
    Call = "call";
    /// `call_indirect`.
    CallIndirect = "call_indirect";
    /// `return`.
    Ret = "ret";
    /// `unreachable`.
    Unreachable = "unreachable";
    /// `memory.size`.
    MemorySize = "memory_size";
    /// `data.drop`.
    DataDrop = "data_drop";
    /// `memory.grow`: priced by the schedule's `memory_grow.base` (pages are charged apart).
    MemoryGrow = "memory_grow";
    /// `memory.copy`, `memory.fill`, `memory.init`: priced by `bulk_memory.base` (words are
    /// charged apart).
    BulkMemory = "bulk_memory";
}

impl OperatorClass {
    /// The class of `op`. Operators outside the deterministic subset never reach the
    /// instrumenter (validation rejects them); they are classed as calls, the conservative
    /// choice.
    pub fn of(op: &Operator<'_>) -> OperatorClass {
        use Operator::*;
        use OperatorClass as C;
        match op {
            Nop | Block { .. } | Loop { .. } | Else | End => C::Structure,
            I32Const { .. } | I64Const { .. } => C::Constant,
            LocalGet { .. } | LocalSet { .. } | LocalTee { .. } => C::Local,
            GlobalGet { .. } | GlobalSet { .. } => C::Global,
            Drop | Select => C::Parametric,
            I32Mul | I64Mul => C::Multiply,
            I32DivS | I32DivU | I32RemS | I32RemU | I64DivS | I64DivU | I64RemS | I64RemU => {
                C::Divide
            }
            I32WrapI64 | I64ExtendI32S | I64ExtendI32U | I32Extend8S | I32Extend16S
            | I64Extend8S | I64Extend16S | I64Extend32S => C::Conversion,
            I32Load { .. }
            | I64Load { .. }
            | I32Load8S { .. }
            | I32Load8U { .. }
            | I32Load16S { .. }
            | I32Load16U { .. }
            | I64Load8S { .. }
            | I64Load8U { .. }
            | I64Load16S { .. }
            | I64Load16U { .. }
            | I64Load32S { .. }
            | I64Load32U { .. } => C::Load,
            I32Store { .. }
            | I64Store { .. }
            | I32Store8 { .. }
            | I32Store16 { .. }
            | I64Store8 { .. }
            | I64Store16 { .. }
            | I64Store32 { .. } => C::Store,
            Br { .. } | BrIf { .. } | If { .. } => C::Branch,
            BrTable { .. } => C::BranchTable,
            Call { .. } => C::Call,
            CallIndirect { .. } => C::CallIndirect,
            Return => C::Ret,
            Unreachable => C::Unreachable,
            MemorySize { .. } => C::MemorySize,
            MemoryGrow { .. } => C::MemoryGrow,
            MemoryCopy { .. } | MemoryFill { .. } | MemoryInit { .. } => C::BulkMemory,
            DataDrop { .. } => C::DataDrop,
            I32Eqz | I32Eq | I32Ne | I32LtS | I32LtU | I32GtS | I32GtU | I32LeS | I32LeU
            | I32GeS | I32GeU | I64Eqz | I64Eq | I64Ne | I64LtS | I64LtU | I64GtS | I64GtU
            | I64LeS | I64LeU | I64GeS | I64GeU | I32Clz | I32Ctz | I32Popcnt | I32Add | I32Sub
            | I32And | I32Or | I32Xor | I32Shl | I32ShrS | I32ShrU | I32Rotl | I32Rotr | I64Clz
            | I64Ctz | I64Popcnt | I64Add | I64Sub | I64And | I64Or | I64Xor | I64Shl | I64ShrS
            | I64ShrU | I64Rotl | I64Rotr => C::Integer,
            _ => C::Call,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_serialize_as_themselves() {
        let mut names: Vec<_> = OperatorClass::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OperatorClass::ALL.len());
        for class in OperatorClass::ALL {
            let json = serde_json::to_string(class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.name()));
        }
    }

    #[test]
    fn operators_fall_in_their_classes() {
        assert_eq!(OperatorClass::of(&Operator::I64DivU), OperatorClass::Divide);
        assert_eq!(
            OperatorClass::of(&Operator::MemoryGrow { mem: 0 }),
            OperatorClass::MemoryGrow
        );
        assert_eq!(OperatorClass::of(&Operator::Return), OperatorClass::Ret);
        // Outside the subset: priced like a call.
        assert_eq!(OperatorClass::of(&Operator::F32Add), OperatorClass::Call);
    }
}
