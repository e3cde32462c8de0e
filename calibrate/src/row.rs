//! A calibration row: one priced quantity ([`Param`]), the workload that isolates it (in one or
//! more variants, the slowest of which prices it), and the sizes it is measured at.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use serde::Serialize;

use crate::env::{Env, Scale};
use crate::error::Error;
use crate::kernel::LoopKernel;
use crate::param::{Costs, Param};
use crate::rows::probes::ModuleProbe;

/// How many of each priced quantity one unit of a workload is charged.
pub type Composition = BTreeMap<Param, u64>;

/// The gas of `composition` under `costs`.
pub fn gas_of(composition: &Composition, costs: &Costs) -> u64 {
    composition
        .iter()
        .map(|(param, count)| costs.get(*param).saturating_mul(*count))
        .fold(0u64, u64::saturating_add)
}

/// What part of the system a row measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// A wasm operator class, in metered code.
    Operator,
    /// Memory growth and bulk memory.
    Memory,
    /// Instantiating a module, compiling one, ending an execution with a trap.
    Module,
    /// A host function of the VM.
    Host,
    /// State access through the chain: storage, accounts, logs, nested calls.
    State,
    /// Transactions: intrinsic gas, calldata, creation.
    Transaction,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Operator => "operator",
            Group::Memory => "memory",
            Group::Module => "module",
            Group::Host => "host",
            Group::State => "state",
            Group::Transaction => "transaction",
        }
    }
}

/// One timed run of a workload: how many units it did and the gas it was charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub units: u64,
    pub gas: u64,
}

/// Times the one region of a run that is measured.
#[derive(Debug, Default)]
pub struct Region {
    ns: Option<f64>,
}

impl Region {
    /// Runs `work` as the measured region (the only one of the run).
    pub fn time<T>(&mut self, work: impl FnOnce() -> T) -> T {
        let mut work = Some(work);
        let mut out = None;
        let start = Instant::now();
        measured_region(&mut || {
            if let Some(work) = work.take() {
                out = Some(work());
            }
        });
        self.ns = Some(start.elapsed().as_secs_f64() * 1e9);
        // `measured_region` calls the closure exactly once.
        out.expect("the measured region ran")
    }

    /// Nanoseconds of the measured region, if the run timed one.
    pub fn ns(&self) -> Option<f64> {
        self.ns
    }
}

/// The measured region. Never inlined, so that callgrind can count the instructions of exactly
/// this call (`--toggle-collect`) and dump them after it (`--dump-after`).
#[inline(never)]
pub fn measured_region(work: &mut dyn FnMut()) {
    work();
    std::hint::black_box(());
}

/// A workload that can be run at a size (its unit count, or the nearest it can build).
pub trait Probe {
    /// Runs the workload once at `size`, timing its measured part with `region`.
    fn run(&mut self, size: u64, region: &mut Region) -> Result<Run, Error>;
}

/// Builds a variant's probe in an environment (the schedule it runs with, the VM, the chain).
pub type MakeProbe = Box<dyn Fn(&Env) -> Result<Box<dyn Probe>, Error>>;

/// Builds the loop kernel of a variant that is one, at a scale.
pub type KernelFn = Rc<dyn Fn(Scale) -> LoopKernel>;

/// One way of exercising a row's quantity.
pub struct Variant {
    pub name: String,
    pub make: MakeProbe,
    /// The loop kernel, for variants that are one (so it can also be run against a gas budget).
    pub kernel: Option<KernelFn>,
}

/// A priced quantity and the workloads that measure it.
pub struct Row {
    pub name: String,
    pub group: Group,
    /// The quantity this row prices; every other quantity in its units is priced by an earlier
    /// row.
    pub own: Param,
    /// What one unit of the workload is.
    pub unit: String,
    /// Why the workload is the worst case.
    pub worst_case: String,
    /// Sizes measured (units, or what the probe rounds them to).
    pub sizes: Vec<u64>,
    pub variants: Vec<Variant>,
}

impl Row {
    pub fn new(name: impl Into<String>, group: Group, own: Param) -> Self {
        Row {
            name: name.into(),
            group,
            own,
            unit: String::new(),
            worst_case: String::new(),
            sizes: Vec::new(),
            variants: Vec::new(),
        }
    }

    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    pub fn worst_case(mut self, why: impl Into<String>) -> Self {
        self.worst_case = why.into();
        self
    }

    /// The sizes to measure, in increasing order.
    pub fn sizes(mut self, sizes: impl IntoIterator<Item = u64>) -> Self {
        self.sizes = sizes.into_iter().collect();
        self.sizes.sort_unstable();
        self.sizes.dedup();
        self
    }

    pub fn variant<P: Probe + 'static>(
        mut self,
        name: impl Into<String>,
        make: impl Fn(&Env) -> Result<P, Error> + 'static,
    ) -> Self {
        self.variants.push(Variant {
            name: name.into(),
            make: Box::new(move |env| Ok(Box::new(make(env)?) as Box<dyn Probe>)),
            kernel: None,
        });
        self
    }

    /// A variant that runs the loop kernel `build` makes (a size is a total unit count).
    pub fn kernel_variant(
        mut self,
        name: impl Into<String>,
        build: impl Fn(Scale) -> LoopKernel + 'static,
    ) -> Self {
        let build: KernelFn = Rc::new(build);
        let row = self.name.clone();
        let kernel = build.clone();
        self.variants.push(Variant {
            name: name.into(),
            make: Box::new(move |env| {
                let probe = ModuleProbe::kernel(&row, env, kernel(env.scale))?;
                Ok(Box::new(probe) as Box<dyn Probe>)
            }),
            kernel: Some(build),
        });
        self
    }
}
