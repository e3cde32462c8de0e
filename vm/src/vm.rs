//! The [`Vm`]: one wasmtime engine, the host functions linked once, and a cache of compiled,
//! instrumented modules keyed by code hash. Compiled modules can be serialized so a node does not
//! recompile them after a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use thiserror::Error;
use wasmtime::{Engine, InstancePre, Linker, Module, ModuleExport};

use crate::engine_config::{engine_config_for, Compiler};
use crate::exec::Ctx;
use crate::gas::{GasSchedule, Linear, ScheduleError};
use crate::host::Host;
use crate::host_abi::HostFn;
use crate::instrument::{instrument, InstrumentError, GAS_GLOBAL, STACK_GLOBAL};
use crate::limits::{ExecutionLimits, ModuleLimits};
use crate::validate::{validate, ValidationError};

/// Everything that decides how contracts are validated, metered and limited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VmConfig {
    pub schedule: GasSchedule,
    pub module_limits: ModuleLimits,
    pub execution_limits: ExecutionLimits,
    /// How instances get their memory; changes speed, never an outcome or a gas figure.
    pub allocation: Allocation,
}

/// How the engine allocates instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Allocation {
    /// Pre-reserved slots reused from instance to instance: fast instantiation (the default).
    #[default]
    Pooling,
    /// A fresh allocation per instance: slower, but reserves no address space up front, for
    /// tools that cannot give the pool its terabytes of virtual memory (valgrind).
    OnDemand,
}

/// Errors of the VM itself (never an outcome of a contract).
#[derive(Debug, Error)]
pub enum VmError {
    #[error("invalid contract: {0}")]
    Validation(#[from] ValidationError),
    #[error("cannot instrument contract: {0}")]
    Instrument(#[from] InstrumentError),
    #[error("invalid gas schedule: {0}")]
    Schedule(#[from] ScheduleError),
    #[error("wasmtime: {0}")]
    Engine(String),
    #[error("the module was compiled by a VM with other module limits")]
    ForeignModule,
    #[error("serialized module rejected: {0}")]
    Artifact(&'static str),
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
}

impl VmError {
    pub(crate) fn engine(e: wasmtime::Error) -> Self {
        VmError::Engine(format!("{e:#}"))
    }
}

/// A validated, instrumented, compiled contract, ready to be instantiated.
pub struct CompiledModule<H: Host> {
    pub(crate) code_hash: [u8; 32],
    pub(crate) module: Module,
    pub(crate) pre: InstancePre<Ctx<H>>,
    /// Gas charged before instantiating it.
    pub(crate) instantiation_gas: u64,
    /// Pre-resolved exports, so an execution looks nothing up by name.
    pub(crate) exports: Exports,
}

/// Export handles of an instrumented module.
pub(crate) struct Exports {
    pub(crate) gas: ModuleExport,
    pub(crate) stack: ModuleExport,
    pub(crate) memory: Option<ModuleExport>,
}

impl<H: Host> CompiledModule<H> {
    /// keccak-256 of the original (uninstrumented) code.
    pub fn code_hash(&self) -> [u8; 32] {
        self.code_hash
    }

    /// Gas charged for instantiating the module, before its entry point runs.
    pub fn instantiation_gas(&self) -> u64 {
        self.instantiation_gas
    }

    /// Whether the module exports a function `name` (validation guarantees every exported
    /// function is a `() -> ()` entry point).
    pub fn has_entry_point(&self, name: &str) -> bool {
        matches!(
            self.module.get_export(name),
            Some(wasmtime::ExternType::Func(_))
        )
    }
}

/// Host function costs indexed by `HostFn as usize`.
pub(crate) type HostCosts = [Linear; HostFn::ALL.len()];

/// A compiled module is identified by the gas schedule it was instrumented for and its code.
type CacheKey = ([u8; 32], [u8; 32]);

/// The contract execution engine.
pub struct Vm<H: Host> {
    pub(crate) engine: Engine,
    linker: Linker<Ctx<H>>,
    pub(crate) config: Arc<VmConfig>,
    schedule_hash: [u8; 32],
    /// The schedule's host costs indexed by `HostFn as usize`, for O(1) lookup per host call.
    pub(crate) host_costs: Arc<HostCosts>,
    cache: Mutex<HashMap<CacheKey, Arc<CompiledModule<H>>>>,
}

/// The process-wide engine for a set of module limits, an allocation strategy and a compiler:
/// VMs with the same ones share one engine (and so one pooling allocator and one code
/// registry), as wasmtime intends.
fn shared_engine(
    limits: &ModuleLimits,
    allocation: Allocation,
    compiler: Compiler,
) -> Result<Engine, VmError> {
    type Engines = Vec<(ModuleLimits, Allocation, Compiler, Engine)>;
    static ENGINES: OnceLock<Mutex<Engines>> = OnceLock::new();
    let mut engines = ENGINES
        .get_or_init(Default::default)
        .lock()
        // Only pushes happen under the lock, so a poisoned list is still consistent.
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let found = engines
        .iter()
        .find(|(l, a, c, _)| l == limits && *a == allocation && *c == compiler);
    if let Some((_, _, _, engine)) = found {
        return Ok(engine.clone());
    }
    let pooling = allocation == Allocation::Pooling;
    let config = engine_config_for(limits, pooling, compiler);
    let engine = Engine::new(&config).map_err(VmError::engine)?;
    engines.push((limits.clone(), allocation, compiler, engine.clone()));
    Ok(engine)
}

/// Magic bytes and format version of a serialized module.
const ARTIFACT_MAGIC: &[u8; 8] = b"TALLYMOD";
const ARTIFACT_VERSION: u32 = 1;
const ARTIFACT_HEADER: usize = 8 + 4 + 32 + 32 + 8 + 32;

impl<H: Host> Vm<H> {
    /// Creates a VM that compiles with Cranelift. VMs with the same module limits and
    /// allocation share one wasmtime engine per process.
    pub fn new(config: VmConfig) -> Result<Self, VmError> {
        Self::with_compiler(config, Compiler::Cranelift)
    }

    /// Creates a VM that compiles with `compiler`; outcomes and gas do not depend on it.
    pub fn with_compiler(config: VmConfig, compiler: Compiler) -> Result<Self, VmError> {
        config.schedule.check()?;
        let engine = shared_engine(&config.module_limits, config.allocation, compiler)?;
        let mut linker = Linker::new(&engine);
        crate::host_fns::link(&mut linker).map_err(VmError::engine)?;
        let schedule_hash = config.schedule.hash();
        let host_costs = Arc::new(std::array::from_fn(|i| {
            config.schedule.host_cost(HostFn::ALL[i])
        }));
        Ok(Vm {
            engine,
            linker,
            config: Arc::new(config),
            schedule_hash,
            host_costs,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The configuration this VM runs with.
    pub fn config(&self) -> &VmConfig {
        &self.config
    }

    /// Validates, instruments and compiles `code`, or returns the cached module of the same code.
    pub fn compile(&self, code: &[u8]) -> Result<Arc<CompiledModule<H>>, VmError> {
        let code_hash = crate::keccak256(code);
        if let Some(hit) = self.cached(&code_hash) {
            return Ok(hit);
        }
        validate(code, &self.config.module_limits)?;
        let instrumented = instrument(
            code,
            &self.config.schedule,
            self.config.module_limits.max_memory_pages,
        )?;
        let module = Module::new(&self.engine, &instrumented.wasm).map_err(VmError::engine)?;
        let instantiation_gas = self.config.schedule.instantiation.cost(
            code.len() as u64,
            instrumented.initial_pages,
            instrumented.data_bytes,
        );
        self.insert(code_hash, module, instantiation_gas)
    }

    /// Number of modules in the cache.
    pub fn cached_modules(&self) -> usize {
        self.lock_cache().len()
    }

    /// Code hashes of the modules in the cache.
    pub fn cached_code_hashes(&self) -> Vec<[u8; 32]> {
        self.lock_cache().keys().map(|(_, code)| *code).collect()
    }

    /// keccak-256 of this VM's gas schedule.
    pub fn schedule_hash(&self) -> [u8; 32] {
        self.schedule_hash
    }

    /// The key to store the compiled module of `code_hash` under, outside the process:
    /// keccak-256 of the schedule hash and the code hash, so a module compiled for another
    /// schedule (whose instrumented code charges other costs) is never found.
    pub fn artifact_key(&self, code_hash: &[u8; 32]) -> [u8; 32] {
        let mut both = [0u8; 64];
        both[..32].copy_from_slice(&self.schedule_hash);
        both[32..].copy_from_slice(code_hash);
        crate::keccak256(&both)
    }

    /// Serializes a compiled module (machine code included) for a later
    /// [`Vm::deserialize`] by a VM with the same engine build and gas schedule.
    pub fn serialize(&self, compiled: &CompiledModule<H>) -> Result<Vec<u8>, VmError> {
        let body = compiled.module.serialize().map_err(VmError::engine)?;
        let mut out = Vec::with_capacity(ARTIFACT_HEADER + body.len());
        out.extend_from_slice(ARTIFACT_MAGIC);
        out.extend_from_slice(&ARTIFACT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.schedule_hash);
        out.extend_from_slice(&compiled.code_hash);
        out.extend_from_slice(&compiled.instantiation_gas.to_le_bytes());
        out.extend_from_slice(&crate::keccak256(&body));
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Loads a module produced by [`Vm::serialize`] into the cache.
    ///
    /// The header is checked (format, gas schedule, checksum of the machine code) and wasmtime
    /// checks the engine configuration, so a stale or damaged artifact is an error.
    ///
    /// # Safety
    /// The bytes are native code. They must come from [`Vm::serialize`] of this same program,
    /// through storage the node trusts (its own data directory); never from the network.
    pub unsafe fn deserialize(&self, bytes: &[u8]) -> Result<Arc<CompiledModule<H>>, VmError> {
        if bytes.len() < ARTIFACT_HEADER || &bytes[..8] != ARTIFACT_MAGIC {
            return Err(VmError::Artifact("not a Tally module artifact"));
        }
        let field = |at: usize, len: usize| &bytes[at..at + len];
        if field(8, 4) != ARTIFACT_VERSION.to_le_bytes() {
            return Err(VmError::Artifact("unsupported artifact version"));
        }
        if field(12, 32) != self.schedule_hash {
            return Err(VmError::Artifact("compiled for another gas schedule"));
        }
        let mut code_hash = [0u8; 32];
        code_hash.copy_from_slice(field(44, 32));
        let mut gas = [0u8; 8];
        gas.copy_from_slice(field(76, 8));
        let body = &bytes[ARTIFACT_HEADER..];
        if field(84, 32) != crate::keccak256(body) {
            return Err(VmError::Artifact("checksum mismatch"));
        }
        // SAFETY: the caller guarantees the bytes come from `serialize` of this program; the
        // checksum above rules out accidental damage.
        let module = unsafe { Module::deserialize(&self.engine, body) }.map_err(VmError::engine)?;
        self.insert(code_hash, module, u64::from_le_bytes(gas))
    }

    fn insert(
        &self,
        code_hash: [u8; 32],
        module: Module,
        instantiation_gas: u64,
    ) -> Result<Arc<CompiledModule<H>>, VmError> {
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(VmError::engine)?;
        let (Some(gas), Some(stack)) = (
            module.get_export_index(GAS_GLOBAL),
            module.get_export_index(STACK_GLOBAL),
        ) else {
            return Err(VmError::Artifact("module lacks the metering globals"));
        };
        let exports = Exports {
            gas,
            stack,
            memory: module.get_export_index("memory"),
        };
        let compiled = Arc::new(CompiledModule {
            code_hash,
            module,
            pre,
            instantiation_gas,
            exports,
        });
        self.lock_cache()
            .insert((self.schedule_hash, code_hash), compiled.clone());
        Ok(compiled)
    }

    /// The cached module of the code whose keccak-256 hash is `code_hash`, if compiled
    /// already (lets a caller that knows the hash skip hashing the code).
    pub fn cached(&self, code_hash: &[u8; 32]) -> Option<Arc<CompiledModule<H>>> {
        self.lock_cache()
            .get(&(self.schedule_hash, *code_hash))
            .cloned()
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Arc<CompiledModule<H>>>> {
        // A panic while holding the lock cannot leave the map inconsistent (single insert/get),
        // so a poisoned lock is still usable.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
