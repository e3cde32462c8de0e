//! The environment workloads run in: the costs they are charged with, the scale of the run, a VM
//! for VM-level workloads and, built on first use, the chain with a large state for state-level
//! ones.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use tally_vm::{Allocation, ScratchHost, Vm, VmConfig};

use crate::error::Error;
use crate::param::Costs;
use crate::rows::chain::Fixture;

/// How big a run is: `quick` for a check in about a minute, otherwise the full calibration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    pub quick: bool,
    /// Accounts (and storage slots of the probe contract) in the chain's state.
    pub state_size: u64,
}

impl Scale {
    /// The scale of a quick or a full run.
    pub fn new(quick: bool) -> Self {
        Scale {
            quick,
            state_size: if quick { 50_000 } else { 1_000_000 },
        }
    }

    /// Timed repeats of every size.
    pub fn repeats(self) -> usize {
        if self.quick {
            3
        } else {
            11
        }
    }

    /// `full` in a full run, `quick` in a quick one.
    pub fn pick<T>(self, quick: T, full: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

/// Where workloads run.
pub struct Env {
    pub costs: Costs,
    pub scale: Scale,
    pub allocation: Allocation,
    /// Print what takes long (building the chain).
    pub verbose: bool,
    vm: OnceCell<Rc<Vm<ScratchHost>>>,
    fixture: OnceCell<Rc<RefCell<Fixture>>>,
}

impl Env {
    pub fn new(costs: Costs, scale: Scale, allocation: Allocation, verbose: bool) -> Self {
        Env {
            costs,
            scale,
            allocation,
            verbose,
            vm: OnceCell::new(),
            fixture: OnceCell::new(),
        }
    }

    /// The VM configuration of this environment.
    pub fn vm_config(&self) -> VmConfig {
        VmConfig {
            schedule: self.costs.vm.clone(),
            allocation: self.allocation,
            ..VmConfig::default()
        }
    }

    /// A VM with this environment's schedule and a scratch host.
    pub fn vm(&self) -> Result<Rc<Vm<ScratchHost>>, Error> {
        if let Some(vm) = self.vm.get() {
            return Ok(vm.clone());
        }
        let vm = Rc::new(Vm::new(self.vm_config())?);
        Ok(self.vm.get_or_init(|| vm).clone())
    }

    /// Drops the VM (and the modules it cached); the next [`Env::vm`] builds a fresh one.
    pub fn reset_vm(&mut self) {
        self.vm.take();
    }

    /// The chain with the large state, built on first use.
    pub fn fixture(&self) -> Result<Rc<RefCell<Fixture>>, Error> {
        if let Some(fixture) = self.fixture.get() {
            return Ok(fixture.clone());
        }
        let fixture = Rc::new(RefCell::new(Fixture::build(self)?));
        Ok(self.fixture.get_or_init(|| fixture).clone())
    }
}
