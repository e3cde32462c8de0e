//! The typed errors of deploy-time validation. Their `Display` text is what a user sees from
//! `tally run` and `tally deploy`, so each one names what is wrong, where, and why.

use std::fmt;

/// A WebAssembly feature (or Tally-specific construct) that contracts may not use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `f32`/`f64` values and every instruction on them (NaN bit patterns are not deterministic
    /// across hosts).
    FloatingPoint,
    /// The 128-bit SIMD proposal (`v128`).
    Simd,
    /// The relaxed-SIMD proposal.
    RelaxedSimd,
    /// Threads: atomic instructions and shared memories.
    Threads,
    /// Reference types: `ref.null`, `ref.func`, `ref.is_null`, typed `select`, `table.get`,
    /// `table.set`, `table.size`, `table.fill`, reference-typed values and multiple tables.
    ReferenceTypes,
    /// `table.grow`: a contract's table is fixed at deploy time.
    TableGrowth,
    /// `table.init`, `table.copy` and `elem.drop` (only the memory bulk operations are metered).
    TableBulkOperations,
    /// More than one memory.
    MultiMemory,
    /// 64-bit memories and tables.
    Memory64,
    /// Custom memory page sizes.
    CustomPageSizes,
    /// Garbage collection: structs, arrays, `i31`, recursive and sub-typed type definitions.
    Gc,
    /// Typed function references (`call_ref`, `ref.as_non_null`, `br_on_null`, ...).
    FunctionReferences,
    /// Exception handling (tags, `throw`, `try_table`, ...; legacy or current encoding).
    Exceptions,
    /// Tail calls (`return_call`, `return_call_indirect`, `return_call_ref`).
    TailCalls,
    /// Extended constant expressions (arithmetic in global and segment initializers).
    ExtendedConst,
    /// The shared-everything-threads proposal (shared globals, tables and types).
    SharedEverythingThreads,
    /// The stack-switching proposal.
    StackSwitching,
    /// The wide-arithmetic proposal (`i64.add128`, ...).
    WideArithmetic,
    /// The memory-control proposal (`memory.discard`).
    MemoryControl,
    /// The custom-descriptors proposal.
    CustomDescriptors,
    /// The compact import section encoding.
    CompactImports,
    /// Components (the component model) instead of a core module.
    ComponentModel,
    /// A proposal this validator does not know by name (named as wasmparser names it).
    Other(&'static str),
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Feature::FloatingPoint => "floating point",
            Feature::Simd => "SIMD",
            Feature::RelaxedSimd => "relaxed SIMD",
            Feature::Threads => "threads and atomics",
            Feature::ReferenceTypes => "reference types",
            Feature::TableGrowth => "table growth",
            Feature::TableBulkOperations => "table bulk operations",
            Feature::MultiMemory => "multiple memories",
            Feature::Memory64 => "64-bit memories (memory64)",
            Feature::CustomPageSizes => "custom page sizes",
            Feature::Gc => "garbage collection (GC)",
            Feature::FunctionReferences => "typed function references",
            Feature::Exceptions => "exception handling",
            Feature::TailCalls => "tail calls",
            Feature::ExtendedConst => "extended constant expressions",
            Feature::SharedEverythingThreads => "shared-everything threads",
            Feature::StackSwitching => "stack switching",
            Feature::WideArithmetic => "wide arithmetic",
            Feature::MemoryControl => "memory control",
            Feature::CustomDescriptors => "custom descriptors",
            Feature::CompactImports => "compact imports",
            Feature::ComponentModel => "the component model",
            Feature::Other(proposal) => return write!(f, "the `{proposal}` proposal"),
        };
        f.write_str(name)
    }
}

/// A cap of [`crate::ModuleLimits`] that a module can exceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cap {
    /// `max_code_size`: bytes of the whole binary.
    CodeSize,
    /// `max_functions`: imported plus defined functions.
    Functions,
    /// `max_globals`: globals.
    Globals,
    /// `max_table_size`: table elements, initial or declared maximum.
    TableSize,
    /// `max_data_segments`: data segments.
    DataSegments,
    /// `max_memory_pages`: memory pages, initial or declared maximum.
    MemoryPages,
    /// `max_imports`: imports.
    Imports,
    /// `max_exports`: exports.
    Exports,
}

impl Cap {
    /// The name of the [`crate::ModuleLimits`] field holding this cap.
    pub const fn field(self) -> &'static str {
        match self {
            Cap::CodeSize => "max_code_size",
            Cap::Functions => "max_functions",
            Cap::Globals => "max_globals",
            Cap::TableSize => "max_table_size",
            Cap::DataSegments => "max_data_segments",
            Cap::MemoryPages => "max_memory_pages",
            Cap::Imports => "max_imports",
            Cap::Exports => "max_exports",
        }
    }

    /// What the cap counts, for messages.
    pub const fn counts(self) -> &'static str {
        match self {
            Cap::CodeSize => "module size in bytes",
            Cap::Functions => "functions (imported and defined)",
            Cap::Globals => "globals",
            Cap::TableSize => "table elements (initial or declared maximum)",
            Cap::DataSegments => "data segments",
            Cap::MemoryPages => "memory pages (initial or declared maximum)",
            Cap::Imports => "imports",
            Cap::Exports => "exports",
        }
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.counts())
    }
}

/// Where a forbidden value type appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeUse {
    /// A parameter or result of the function type at this type index.
    Signature { type_index: u32 },
    /// A declared local of this function (function index space, imports included).
    Local { function: u32 },
    /// The result type of a block, loop or if in this function.
    BlockType { function: u32 },
    /// This global (global index space).
    Global { global: u32 },
    /// The element type of this table.
    Table { table: u32 },
    /// The element type of an element segment.
    ElementSegment,
}

impl fmt::Display for TypeUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeUse::Signature { type_index } => write!(f, "the signature of type {type_index}"),
            TypeUse::Local { function } => write!(f, "a local of function {function}"),
            TypeUse::BlockType { function } => write!(f, "a block type in function {function}"),
            TypeUse::Global { global } => write!(f, "global {global}"),
            TypeUse::Table { table } => write!(f, "table {table}"),
            TypeUse::ElementSegment => f.write_str("an element segment"),
        }
    }
}

/// Why a module cannot be deployed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ValidationError {
    /// The input is empty.
    #[error("the module is empty (0 bytes)")]
    Empty,
    /// The input does not start with the WebAssembly magic bytes `\0asm`.
    #[error("not a WebAssembly module: the binary does not start with `\\0asm`")]
    NotWasm,
    /// The binary ends in the middle of a section or item.
    #[error("the module is truncated: unexpected end at offset {offset:#x}")]
    Truncated { offset: usize },
    /// The binary is not valid WebAssembly (malformed or ill-typed), as reported by wasmparser.
    #[error("invalid WebAssembly at offset {offset:#x}: {message}")]
    Invalid { offset: usize, message: String },
    /// An instruction from a feature Tally does not allow. `function` is the index in the
    /// function index space (imports included), or `None` in a constant expression.
    #[error(
        "{} at offset {offset:#x}: instruction {instruction} uses {feature}, which Tally does not allow",
        match function { Some(index) => format!("function {index}"), None => "constant expression".to_string() }
    )]
    ForbiddenInstruction {
        instruction: String,
        feature: Feature,
        function: Option<u32>,
        offset: usize,
    },
    /// A value type (`f32`, `v128`, `externref`, ...) Tally does not allow.
    #[error(
        "{used_in} at offset {offset:#x}: type {ty} uses {feature}, which Tally does not allow"
    )]
    ForbiddenType {
        ty: String,
        feature: Feature,
        used_in: TypeUse,
        offset: usize,
    },
    /// A module-level construct (a second memory, a shared memory, a tag section, a GC type
    /// definition, ...) from a feature Tally does not allow.
    #[error("offset {offset:#x}: {construct} uses {feature}, which Tally does not allow")]
    ForbiddenConstruct {
        construct: &'static str,
        feature: Feature,
        offset: usize,
    },
    /// A start function: it would run during instantiation, before gas metering and the call
    /// context are set up, so Tally rejects it.
    #[error(
        "the module declares a start function (function {function}); Tally does not allow one \
         because it would run at instantiation, before gas metering is set up"
    )]
    StartFunction { function: u32 },
    /// An import from a module other than [`crate::HOST_MODULE`].
    #[error("import `{module}.{name}`: contracts may only import from module `tally`")]
    ImportFromUnknownModule { module: String, name: String },
    /// An import of something other than a function (memory, table, global, tag).
    #[error("import `{module}.{name}` is a {kind}: contracts may only import functions")]
    NonFunctionImport {
        module: String,
        name: String,
        kind: &'static str,
    },
    /// An import of a name the host interface does not define.
    #[error("import `tally.{name}`: the host interface has no function `{name}`")]
    UnknownHostFunction { name: String },
    /// A host function imported with another signature than the host interface's.
    #[error("import `tally.{name}` has signature {actual}, but the host function is {expected}")]
    ImportSignatureMismatch {
        name: String,
        expected: String,
        actual: String,
    },
    /// The same host function imported twice.
    #[error("import `tally.{name}` appears more than once")]
    DuplicateImport { name: String },
    /// An export of a global, table or tag.
    #[error(
        "export `{name}` is a {kind}: contracts may only export functions (entry points) and \
         their memory as `memory`"
    )]
    ForbiddenExport { name: String, kind: &'static str },
    /// An exported function whose type is not `[] -> []`.
    #[error(
        "export `{name}` (function {function}) has signature {signature}; entry points must take \
         no parameters and return nothing ([] -> [])"
    )]
    EntryPointSignature {
        name: String,
        function: u32,
        signature: String,
    },
    /// An export name reserved by Tally.
    #[error("export `{name}`: the name is reserved for {reserved_for}")]
    ReservedExportName {
        name: String,
        reserved_for: &'static str,
    },
    /// The memory exported under another name than `memory`.
    #[error("the memory is exported as `{name}`; it may only be exported as `memory`")]
    MemoryExportName { name: String },
    /// A module-wide cap of [`crate::ModuleLimits`] exceeded.
    #[error("{cap}: {actual} exceeds the limit of {limit} ({})", .cap.field())]
    LimitExceeded { cap: Cap, limit: u64, actual: u64 },
    /// A function declares more locals than `max_locals_per_function`.
    #[error(
        "function {function} declares {actual} locals, more than the limit of {limit} \
         (max_locals_per_function)"
    )]
    TooManyLocals {
        function: u32,
        limit: u32,
        actual: u64,
    },
}

impl ValidationError {
    /// A [`ValidationError::ForbiddenConstruct`].
    pub(super) fn forbidden(construct: &'static str, feature: Feature, offset: usize) -> Self {
        ValidationError::ForbiddenConstruct {
            construct,
            feature,
            offset,
        }
    }
}
