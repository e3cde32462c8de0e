//! Loop kernels: WebAssembly modules (as text) whose `call` entry point repeats a unit of work a
//! chosen number of times per loop iteration, and the operator count of one unit, which is the
//! part of the unit's gas the instrumenter charges.

use std::collections::BTreeMap;

use tally_vm::{AbiType, HostFn, OperatorClass, HOST_MODULE};
use wasmparser::{Parser, Payload};

use crate::error::Error;

/// Writes unit number `i` of a kernel (units may differ by index, e.g. in the constants or
/// locals they use, but must all count the same operators).
pub type UnitFn = Box<dyn Fn(u32) -> String>;

/// A module whose `call` entry point runs `setup`, then `iterations` loop iterations of
/// `per_iteration` units each, then `finish`. Each iteration starts by counting down (so its
/// first metered segment is never empty, whatever the units are).
pub struct LoopKernel {
    /// Module fields: imports, types, memory, globals, tables, functions, data.
    pub preamble: String,
    /// Local declarations of the entry point (`$i` is the loop counter and is always there).
    pub locals: String,
    /// Code before the loop (its cost is the same for every unit count).
    pub setup: String,
    /// One unit of work.
    pub unit: UnitFn,
    /// Code after the loop, typically storing the live values so none is dead.
    pub finish: String,
    pub iterations: u32,
    /// Calldata of every execution.
    pub input: Vec<u8>,
}

impl LoopKernel {
    /// A kernel with a one-page exported memory and no setup.
    pub fn new(unit: impl Fn(u32) -> String + 'static) -> Self {
        LoopKernel {
            preamble: r#"(memory (export "memory") 1)"#.into(),
            locals: String::new(),
            setup: String::new(),
            unit: Box::new(unit),
            finish: String::new(),
            iterations: 1,
            input: Vec::new(),
        }
    }

    pub fn preamble(mut self, preamble: impl Into<String>) -> Self {
        self.preamble = preamble.into();
        self
    }

    pub fn locals(mut self, locals: impl Into<String>) -> Self {
        self.locals = locals.into();
        self
    }

    pub fn setup(mut self, setup: impl Into<String>) -> Self {
        self.setup = setup.into();
        self
    }

    pub fn finish(mut self, finish: impl Into<String>) -> Self {
        self.finish = finish.into();
        self
    }

    pub fn iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    pub fn input(mut self, input: Vec<u8>) -> Self {
        self.input = input;
        self
    }

    /// The module's text with `per_iteration` units in the loop body.
    pub fn wat(&self, per_iteration: u32) -> String {
        let units: Vec<String> = (0..per_iteration).map(|i| (self.unit)(i)).collect();
        format!(
            "(module {preamble}
  (func (export \"call\") (local $i i32) {locals}
    {setup}
    (local.set $i (i32.const {iterations}))
    (loop $loop
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      {units}
      (br_if $loop (local.get $i)))
    {finish}))",
            preamble = self.preamble,
            locals = self.locals,
            setup = self.setup,
            iterations = self.iterations,
            units = units.join("\n      "),
            finish = self.finish,
        )
    }

    /// The operators of one unit, by class (the same for every unit index, or an error).
    pub fn unit_operators(&self) -> Result<BTreeMap<OperatorClass, u64>, Error> {
        let first = count_operators(&self.preamble, &self.locals, &(self.unit)(0))?;
        let second = count_operators(&self.preamble, &self.locals, &(self.unit)(1))?;
        if first != second {
            return Err(Error::Kernel(format!(
                "units 0 and 1 count different operators: {first:?} and {second:?}"
            )));
        }
        Ok(first)
    }
}

/// The operators of `code`, by class, as the body of a function with `locals` (the
/// `$i` counter included) after the module fields `preamble`. The function's closing `end` is
/// not counted.
pub fn count_operators(
    preamble: &str,
    locals: &str,
    code: &str,
) -> Result<BTreeMap<OperatorClass, u64>, Error> {
    let wat = format!("(module {preamble} (func (local $i i32) {locals} {code}))");
    let wasm = wat::parse_str(&wat).map_err(|e| Error::Kernel(format!("{e}\n{wat}")))?;
    let mut last = None;
    for payload in Parser::new(0).parse_all(&wasm) {
        if let Payload::CodeSectionEntry(body) = payload.map_err(kernel)? {
            last = Some(body);
        }
    }
    let body = last.ok_or_else(|| Error::Kernel("no function body".into()))?;
    let mut counts = BTreeMap::new();
    let mut reader = body.get_operators_reader().map_err(kernel)?;
    let mut ops = Vec::new();
    while !reader.eof() {
        ops.push(reader.read().map_err(kernel)?);
    }
    // The last operator is the body's own `end`.
    ops.pop();
    for op in &ops {
        *counts.entry(OperatorClass::of(op)).or_insert(0) += 1;
    }
    Ok(counts)
}

fn kernel(e: wasmparser::BinaryReaderError) -> Error {
    Error::Kernel(e.to_string())
}

/// Import declarations of `functions`, each named `$` + its import name.
pub fn imports(functions: &[HostFn]) -> String {
    let types = |types: &[AbiType]| -> String {
        types
            .iter()
            .map(|t| match t {
                AbiType::I32 => " i32",
                AbiType::I64 => " i64",
            })
            .collect()
    };
    functions
        .iter()
        .map(|f| {
            format!(
                "(import \"{HOST_MODULE}\" \"{name}\" (func ${name} (param{params}) (result{results})))",
                name = f.name(),
                params = types(f.params()),
                results = types(f.results()),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_counted_without_the_closing_end() {
        let kernel =
            LoopKernel::new(|_| "(local.set $i (i32.add (local.get $i) (i32.const 1)))".into());
        let counts = kernel.unit_operators().unwrap();
        let expected = BTreeMap::from([
            (OperatorClass::Constant, 1),
            (OperatorClass::Local, 2),
            (OperatorClass::Integer, 1),
        ]);
        assert_eq!(counts, expected);
    }

    #[test]
    fn units_that_differ_by_index_are_refused() {
        let kernel = LoopKernel::new(|i| "(nop)".repeat(i as usize + 1));
        assert!(kernel.unit_operators().is_err());
    }

    #[test]
    fn kernels_compile_with_host_imports() {
        let kernel = LoopKernel::new(|_| "(drop (call $gas_left))".into()).preamble(format!(
            "{} (memory (export \"memory\") 1)",
            imports(HostFn::ALL)
        ));
        wat::parse_str(kernel.wat(3)).unwrap();
    }
}
