//! Probes that run modules on the VM alone (scratch host): a module built for each size (a loop
//! kernel with that many units, a memory of that many pages...), one module run a number of
//! times, and compiling fresh modules.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use tally_vm::{CompiledModule, Outcome, ScratchHost, TrapKind, Vm};

use crate::env::Env;
use crate::error::Error;
use crate::kernel::LoopKernel;
use crate::row::{Probe, Region, Run};

/// Gas limit of VM-level workloads: far above anything they use.
pub const LIMIT: u64 = 1 << 50;

type Module = Arc<CompiledModule<ScratchHost>>;

/// What every execution of a probe must end with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Success,
    Revert,
    Unreachable,
}

impl Expect {
    fn matches(self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (Expect::Success, Outcome::Success { .. }) => true,
            (Expect::Revert, Outcome::Revert { .. }) => true,
            (Expect::Unreachable, Outcome::Trap { kind }) => *kind == TrapKind::Unreachable,
            _ => false,
        }
    }
}

/// Builds the module text for a size and says how many units one execution of it does.
pub type Build = Box<dyn Fn(u64) -> (String, u64)>;

/// How a probe pads its modules with a custom section, so that instantiation, charged per
/// word of code, costs the same at every size (or grows exactly with the size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Every module exactly this many bytes.
    To(usize),
    /// Every module a multiple of this many bytes.
    Align(usize),
    /// As built.
    None,
}

/// Size of the padded modules of most probes: more than any of them needs.
pub const PADDED: usize = 64 * 1024;

/// `code` followed by a custom section that brings it to the length `padding` asks for.
pub fn pad(mut code: Vec<u8>, padding: Padding) -> Result<Vec<u8>, Error> {
    let target = match padding {
        Padding::None => return Ok(code),
        Padding::To(n) => n,
        Padding::Align(n) => (code.len() + 8).div_ceil(n) * n,
    };
    // A custom section: id, LEB128 size, then the name `p` (length-prefixed) and filler.
    for size_bytes in 1..=3 {
        let Some(size) = target.checked_sub(code.len() + 1 + size_bytes) else {
            break;
        };
        let mut leb = Vec::new();
        let mut rest = size;
        loop {
            let byte = (rest & 0x7f) as u8;
            rest >>= 7;
            if rest == 0 {
                leb.push(byte);
                break;
            }
            leb.push(byte | 0x80);
        }
        if leb.len() == size_bytes && size >= 2 {
            code.push(0);
            code.extend_from_slice(&leb);
            code.extend_from_slice(&[1, b'p']);
            code.resize(target, 0);
            return Ok(code);
        }
    }
    Err(Error::Kernel(format!(
        "a module of {} bytes cannot be padded to {target}",
        code.len()
    )))
}

/// Runs a module built for each size, `executions` times per run.
pub struct ModuleProbe {
    name: String,
    vm: Rc<Vm<ScratchHost>>,
    build: Build,
    modules: BTreeMap<u64, (Module, u64)>,
    executions: u64,
    input: Vec<u8>,
    expect: Expect,
    padding: Padding,
}

impl ModuleProbe {
    pub fn new(name: &str, env: &Env, build: Build) -> Result<Self, Error> {
        Ok(ModuleProbe {
            name: name.to_string(),
            vm: env.vm()?,
            build,
            modules: BTreeMap::new(),
            executions: 1,
            input: Vec::new(),
            expect: Expect::Success,
            padding: Padding::To(PADDED),
        })
    }

    /// How modules are padded (by default to [`PADDED`] bytes).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Runs a loop kernel; a size is a total unit count (rounded down to whole iterations).
    pub fn kernel(name: &str, env: &Env, kernel: LoopKernel) -> Result<Self, Error> {
        let iterations = u64::from(kernel.iterations);
        let input = kernel.input.clone();
        let build: Build = Box::new(move |size| {
            let per_iteration = (size / iterations).min(u64::from(u32::MAX)) as u32;
            (
                kernel.wat(per_iteration),
                u64::from(per_iteration) * iterations,
            )
        });
        Ok(Self::new(name, env, build)?.input(input))
    }

    /// Executions per run (units add up over them).
    pub fn executions(mut self, executions: u64) -> Self {
        self.executions = executions;
        self
    }

    /// Calldata of every execution.
    pub fn input(mut self, input: Vec<u8>) -> Self {
        self.input = input;
        self
    }

    /// What every execution must end with.
    pub fn expect(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }

    fn module(&mut self, size: u64) -> Result<(Module, u64), Error> {
        if let Some(found) = self.modules.get(&size) {
            return Ok(found.clone());
        }
        let (wat, units) = (self.build)(size);
        let code = pad(parse(&wat)?, self.padding)?;
        let module = self.vm.compile(&code)?;
        self.modules.insert(size, (module.clone(), units));
        Ok((module, units))
    }
}

impl Probe for ModuleProbe {
    fn run(&mut self, size: u64, region: &mut Region) -> Result<Run, Error> {
        let (module, units) = self.module(size)?;
        let inputs = vec![self.input.clone(); self.executions as usize];
        let results = region.time(|| execute_all(&self.vm, &module, inputs, LIMIT));
        let gas = check(&self.name, results, self.expect)?;
        Ok(Run {
            units: units * self.executions,
            gas,
        })
    }
}

/// Runs one module `size` times per run; a unit is an execution.
pub struct RepeatProbe {
    name: String,
    vm: Rc<Vm<ScratchHost>>,
    module: Module,
    limit: u64,
    expect: Expect,
}

impl RepeatProbe {
    pub fn new(name: &str, env: &Env, wat: &str, expect: Expect) -> Result<Self, Error> {
        let vm = env.vm()?;
        let module = vm.compile(&pad(parse(wat)?, Padding::To(PADDED))?)?;
        Ok(RepeatProbe {
            name: name.to_string(),
            vm,
            module,
            limit: LIMIT,
            expect,
        })
    }

    /// The gas limit of each execution, from the compiled module (a trap uses the whole limit,
    /// so a trapping workload is given exactly what it needs).
    pub fn limit(mut self, limit: impl Fn(&CompiledModule<ScratchHost>) -> u64) -> Self {
        self.limit = limit(&self.module);
        self
    }
}

impl Probe for RepeatProbe {
    fn run(&mut self, size: u64, region: &mut Region) -> Result<Run, Error> {
        let inputs = vec![Vec::new(); size as usize];
        let results = region.time(|| execute_all(&self.vm, &self.module, inputs, self.limit));
        let gas = check(&self.name, results, self.expect)?;
        Ok(Run { units: size, gas })
    }
}

type Results = Vec<Result<tally_vm::Execution, tally_vm::VmError>>;

fn execute_all(vm: &Vm<ScratchHost>, module: &Module, inputs: Vec<Vec<u8>>, limit: u64) -> Results {
    inputs
        .into_iter()
        .map(|input| {
            vm.execute(module, "call", input, limit, ScratchHost::default())
                .map(|executed| executed.execution)
                .map_err(|(e, _)| e)
        })
        .collect()
}

/// Total gas of `results`, each checked to end as expected.
fn check(name: &str, results: Results, expect: Expect) -> Result<u64, Error> {
    let mut gas = 0;
    for execution in results {
        let execution = execution?;
        if !expect.matches(&execution.outcome) {
            return Err(Error::workload(
                name,
                format!("ended with {:?}, expected {expect:?}", execution.outcome),
            ));
        }
        gas += execution.gas_used;
    }
    Ok(gas)
}

/// Parses module text.
pub fn parse(wat: &str) -> Result<Vec<u8>, Error> {
    wat::parse_str(wat).map_err(|e| Error::Kernel(format!("{e}\n{wat}")))
}

/// Generates a module of about `size` bytes; `nonce` makes every module distinct without
/// changing its length.
pub type Generator = Box<dyn Fn(u64, u64) -> Result<Vec<u8>, Error>>;

/// Compiles (validates, instruments, compiles with Cranelift) a fresh module of about `size`
/// bytes; a unit is a byte of code, charged `code_byte` as a deployment is.
pub struct CompileProbe {
    vm: Rc<Vm<ScratchHost>>,
    generate: Generator,
    code_byte: u64,
    nonce: u64,
}

impl CompileProbe {
    pub fn new(env: &Env, generate: Generator) -> Result<Self, Error> {
        Ok(CompileProbe {
            vm: env.vm()?,
            generate,
            code_byte: env.costs.runtime.code_byte,
            nonce: 0,
        })
    }
}

impl Probe for CompileProbe {
    fn run(&mut self, size: u64, region: &mut Region) -> Result<Run, Error> {
        self.nonce += 1;
        let code = (self.generate)(size, self.nonce)?;
        region.time(|| self.vm.compile(&code))?;
        let units = code.len() as u64;
        Ok(Run {
            units,
            gas: units * self.code_byte,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_modules_have_the_length_asked_for_and_stay_valid() {
        let code = parse(r#"(module (func (export "call")))"#).unwrap();
        for target in [40, 200, 129, 20_000, PADDED] {
            let padded = pad(code.clone(), Padding::To(target)).unwrap();
            assert_eq!(padded.len(), target);
            wasmparser::validate(&padded).unwrap();
        }
        let aligned = pad(code.clone(), Padding::Align(32)).unwrap();
        assert_eq!(aligned.len() % 32, 0);
        assert!(pad(code, Padding::To(10)).is_err());
    }
}
