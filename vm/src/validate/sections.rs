//! Tally's policy checks on each section of a module, applied to every payload before wasmparser
//! validates it, so the first error a user sees names the forbidden feature, host import, export
//! or cap instead of a generic wasmparser message. The checks also collect the
//! [`ModuleSummary`].

use wasmparser::{
    DataKind, DataSectionReader, ElementItems, ElementKind, ElementSectionReader, Encoding, Export,
    ExportSectionReader, ExternalKind, FuncType, FunctionBody, FunctionSectionReader,
    GlobalSectionReader, Import, ImportSectionReader, Imports, MemorySectionReader, MemoryType,
    Payload, RefType, Table, TableInit, TableSectionReader, TypeRef, TypeSectionReader, ValType,
};

use super::code::{check_body, check_const_expr};
use super::error::{Cap, Feature, TypeUse, ValidationError};
use super::types::{
    check_value_type, func_signature, func_type, host_signature, matches_host, type_name,
};
use super::{reader_error, MemorySummary, ModuleSummary};
use crate::host_abi::{HostFn, HOST_MODULE};
use crate::limits::ModuleLimits;

/// Export names starting with this prefix are reserved for the instrumenter.
pub const RESERVED_EXPORT_PREFIX: &str = "__tally";

/// The only name the memory may be exported under.
pub const MEMORY_EXPORT: &str = "memory";

/// Immutable i32 globals that the WebAssembly linker (`wasm-ld`, used by rustc and clang)
/// exports from every `cdylib`. They are accepted, and inert: the host never reads them.
pub const LINKER_GLOBAL_EXPORTS: [&str; 2] = ["__data_end", "__heap_base"];

/// Policy state accumulated over the payloads of one module.
pub(super) struct ModuleChecker<'l> {
    limits: &'l ModuleLimits,
    code_size: usize,
    /// Function types by type index (every type is a function type once `types` accepted it).
    types: Vec<FuncType>,
    /// Type index of every function, imported first.
    function_types: Vec<u32>,
    imports: Vec<HostFn>,
    /// Type of every defined global (imported globals are rejected).
    globals: Vec<wasmparser::GlobalType>,
    memory: Option<MemorySummary>,
    entry_points: Vec<String>,
    bodies_seen: u32,
}

type Checked = Result<(), ValidationError>;

/// An index from a length bounded by a `u32` cap (saturating, so it cannot panic).
fn index(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl<'l> ModuleChecker<'l> {
    pub(super) fn new(limits: &'l ModuleLimits, code_size: usize) -> Self {
        ModuleChecker {
            limits,
            code_size,
            types: Vec::new(),
            function_types: Vec::new(),
            imports: Vec::new(),
            globals: Vec::new(),
            memory: None,
            entry_points: Vec::new(),
            bodies_seen: 0,
        }
    }

    /// Applies Tally's policy to one payload.
    pub(super) fn check(&mut self, payload: &Payload<'_>) -> Checked {
        match payload {
            Payload::Version {
                encoding: Encoding::Component,
                range,
                ..
            } => Err(ValidationError::forbidden(
                "a component",
                Feature::ComponentModel,
                range.start,
            )),
            Payload::TypeSection(reader) => self.types(reader.clone()),
            Payload::ImportSection(reader) => self.imports(reader.clone()),
            Payload::FunctionSection(reader) => self.functions(reader.clone()),
            Payload::TableSection(reader) => self.tables(reader.clone()),
            Payload::MemorySection(reader) => self.memories(reader.clone()),
            Payload::TagSection(reader) => Err(ValidationError::forbidden(
                "a tag section",
                Feature::Exceptions,
                reader.range().start,
            )),
            Payload::GlobalSection(reader) => self.globals(reader.clone()),
            Payload::ExportSection(reader) => self.exports(reader.clone()),
            Payload::StartSection { func, .. } => {
                Err(ValidationError::StartFunction { function: *func })
            }
            Payload::ElementSection(reader) => elements(reader.clone()),
            Payload::DataCountSection { count, .. } => {
                self.cap(Cap::DataSegments, u64::from(*count))
            }
            Payload::DataSection(reader) => self.data(reader.clone()),
            Payload::CodeSectionEntry(body) => self.body(body),
            // The version header, code section start, custom sections and the end need no
            // policy; unknown sections are rejected by wasmparser.
            Payload::Version { .. }
            | Payload::CodeSectionStart { .. }
            | Payload::CustomSection(_)
            | Payload::UnknownSection { .. }
            | Payload::End(_) => Ok(()),
            // Everything else belongs to components.
            _ => Err(ValidationError::forbidden(
                "a component section",
                Feature::ComponentModel,
                0,
            )),
        }
    }

    /// The summary of the module checked so far (call after the last payload).
    pub(super) fn finish(mut self) -> ModuleSummary {
        self.entry_points.sort();
        ModuleSummary {
            imports: self.imports,
            entry_points: self.entry_points,
            memory: self.memory,
            functions: index(self.function_types.len()),
            code_size: self.code_size,
        }
    }

    /// Fails if `actual` is over the inclusive cap.
    fn cap(&self, cap: Cap, actual: u64) -> Checked {
        let l = self.limits;
        let limit = match cap {
            Cap::CodeSize => u64::try_from(l.max_code_size).unwrap_or(u64::MAX),
            Cap::Functions => u64::from(l.max_functions),
            Cap::Globals => u64::from(l.max_globals),
            Cap::TableSize => u64::from(l.max_table_size),
            Cap::DataSegments => u64::from(l.max_data_segments),
            Cap::MemoryPages => u64::from(l.max_memory_pages),
            Cap::Imports => u64::from(l.max_imports),
            Cap::Exports => u64::from(l.max_exports),
        };
        if actual > limit {
            return Err(ValidationError::LimitExceeded { cap, limit, actual });
        }
        Ok(())
    }

    fn types(&mut self, reader: TypeSectionReader<'_>) -> Checked {
        for group in reader.into_iter_with_offsets() {
            let (offset, group) = group.map_err(reader_error)?;
            if group.is_explicit_rec_group() {
                return Err(ValidationError::forbidden(
                    "a recursive type group",
                    Feature::Gc,
                    offset,
                ));
            }
            for sub_type in group.into_types() {
                let type_index = index(self.types.len());
                self.types.push(func_type(sub_type, type_index, offset)?);
            }
        }
        Ok(())
    }

    fn imports(&mut self, reader: ImportSectionReader<'_>) -> Checked {
        self.cap(Cap::Imports, u64::from(reader.count()))?;
        for group in reader.into_iter_with_offsets() {
            let (offset, group) = group.map_err(reader_error)?;
            let Imports::Single(_, import) = group else {
                return Err(ValidationError::forbidden(
                    "a compact import group",
                    Feature::CompactImports,
                    offset,
                ));
            };
            self.import(import, offset)?;
        }
        self.cap(Cap::Functions, self.function_types.len() as u64)
    }

    fn import(&mut self, import: Import<'_>, offset: usize) -> Checked {
        if import.module != HOST_MODULE {
            return Err(ValidationError::ImportFromUnknownModule {
                module: import.module.to_string(),
                name: import.name.to_string(),
            });
        }
        let type_index = match import.ty {
            TypeRef::Func(type_index) => type_index,
            TypeRef::FuncExact(_) => {
                return Err(ValidationError::forbidden(
                    "an exact function import",
                    Feature::CustomDescriptors,
                    offset,
                ))
            }
            other => {
                return Err(ValidationError::NonFunctionImport {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    kind: type_ref_kind(other),
                })
            }
        };
        let host = self.host_function(import.name, type_index)?;
        self.imports.push(host);
        self.function_types.push(type_index);
        Ok(())
    }

    /// The host function `name` imported with type `type_index`, checked against the host
    /// interface and the imports so far.
    fn host_function(&self, name: &str, type_index: u32) -> Result<HostFn, ValidationError> {
        let host = HostFn::from_name(name).ok_or_else(|| ValidationError::UnknownHostFunction {
            name: name.to_string(),
        })?;
        if self.imports.contains(&host) {
            return Err(ValidationError::DuplicateImport {
                name: name.to_string(),
            });
        }
        // An out-of-range type index is left to wasmparser, which reports it.
        if let Some(ty) = self.types.get(type_index as usize) {
            if !matches_host(host, ty) {
                return Err(ValidationError::ImportSignatureMismatch {
                    name: name.to_string(),
                    expected: host_signature(host),
                    actual: func_signature(ty),
                });
            }
        }
        Ok(host)
    }

    fn functions(&mut self, reader: FunctionSectionReader<'_>) -> Checked {
        let total = self.function_types.len() as u64 + u64::from(reader.count());
        self.cap(Cap::Functions, total)?;
        for type_index in reader {
            self.function_types.push(type_index.map_err(reader_error)?);
        }
        Ok(())
    }

    fn tables(&mut self, reader: TableSectionReader<'_>) -> Checked {
        for (table_index, table) in reader.into_iter_with_offsets().enumerate() {
            let (offset, table) = table.map_err(reader_error)?;
            if table_index > 0 {
                return Err(ValidationError::forbidden(
                    "a second table",
                    Feature::ReferenceTypes,
                    offset,
                ));
            }
            self.table(table, offset)?;
        }
        Ok(())
    }

    fn table(&self, table: Table<'_>, offset: usize) -> Checked {
        let ty = table.ty;
        if ty.table64 {
            return Err(ValidationError::forbidden(
                "a 64-bit table",
                Feature::Memory64,
                offset,
            ));
        }
        if ty.shared {
            return Err(ValidationError::forbidden(
                "a shared table",
                Feature::SharedEverythingThreads,
                offset,
            ));
        }
        if ty.element_type != RefType::FUNCREF {
            return Err(ValidationError::ForbiddenType {
                ty: type_name(ValType::Ref(ty.element_type)),
                feature: super::types::ref_type_feature(ty.element_type),
                used_in: TypeUse::Table { table: 0 },
                offset,
            });
        }
        if let TableInit::Expr(_) = table.init {
            return Err(ValidationError::forbidden(
                "a table initializer expression",
                Feature::FunctionReferences,
                offset,
            ));
        }
        self.cap(Cap::TableSize, ty.initial)?;
        ty.maximum
            .map_or(Ok(()), |maximum| self.cap(Cap::TableSize, maximum))
    }

    fn memories(&mut self, reader: MemorySectionReader<'_>) -> Checked {
        for (memory_index, memory) in reader.into_iter_with_offsets().enumerate() {
            let (offset, memory) = memory.map_err(reader_error)?;
            if memory_index > 0 {
                return Err(ValidationError::forbidden(
                    "a second memory",
                    Feature::MultiMemory,
                    offset,
                ));
            }
            self.memory = Some(self.memory(memory, offset)?);
        }
        Ok(())
    }

    fn memory(&self, memory: MemoryType, offset: usize) -> Result<MemorySummary, ValidationError> {
        if memory.memory64 {
            return Err(ValidationError::forbidden(
                "a 64-bit memory",
                Feature::Memory64,
                offset,
            ));
        }
        if memory.shared {
            return Err(ValidationError::forbidden(
                "a shared memory",
                Feature::Threads,
                offset,
            ));
        }
        if memory.page_size_log2.is_some() {
            return Err(ValidationError::forbidden(
                "a memory with a custom page size",
                Feature::CustomPageSizes,
                offset,
            ));
        }
        self.cap(Cap::MemoryPages, memory.initial)?;
        if let Some(maximum) = memory.maximum {
            self.cap(Cap::MemoryPages, maximum)?;
        }
        // Both values are at most `max_memory_pages`, a `u32`, so the conversions are exact.
        Ok(MemorySummary {
            initial_pages: u32::try_from(memory.initial).unwrap_or(u32::MAX),
            max_pages: memory.maximum.map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
        })
    }

    fn globals(&mut self, reader: GlobalSectionReader<'_>) -> Checked {
        self.cap(Cap::Globals, u64::from(reader.count()))?;
        for (global_index, global) in reader.into_iter_with_offsets().enumerate() {
            let (offset, global) = global.map_err(reader_error)?;
            if global.ty.shared {
                return Err(ValidationError::forbidden(
                    "a shared global",
                    Feature::SharedEverythingThreads,
                    offset,
                ));
            }
            let used_in = TypeUse::Global {
                global: index(global_index),
            };
            check_value_type(global.ty.content_type, used_in, offset)?;
            check_const_expr(&global.init_expr)?;
            self.globals.push(global.ty);
        }
        Ok(())
    }

    fn exports(&mut self, reader: ExportSectionReader<'_>) -> Checked {
        self.cap(Cap::Exports, u64::from(reader.count()))?;
        for export in reader.into_iter_with_offsets() {
            let (offset, export) = export.map_err(reader_error)?;
            self.export(export, offset)?;
        }
        Ok(())
    }

    fn export(&mut self, export: Export<'_>, offset: usize) -> Checked {
        let name = export.name;
        if name.starts_with(RESERVED_EXPORT_PREFIX) {
            return Err(reserved(name, "the instrumenter (prefix `__tally`)"));
        }
        match export.kind {
            ExternalKind::Memory if name == MEMORY_EXPORT => Ok(()),
            ExternalKind::Memory => Err(ValidationError::MemoryExportName {
                name: name.to_string(),
            }),
            ExternalKind::Func if name == MEMORY_EXPORT => Err(reserved(name, "the memory")),
            ExternalKind::Func => self.entry_point(name, export.index),
            ExternalKind::Global if self.is_linker_global(name, export.index) => Ok(()),
            ExternalKind::Table | ExternalKind::Global | ExternalKind::Tag => {
                Err(ValidationError::ForbiddenExport {
                    name: name.to_string(),
                    kind: external_kind(export.kind),
                })
            }
            ExternalKind::FuncExact => Err(ValidationError::forbidden(
                "an exact function export",
                Feature::CustomDescriptors,
                offset,
            )),
        }
    }

    /// Whether a global export is one of the inert linker-generated ones.
    fn is_linker_global(&self, name: &str, global: u32) -> bool {
        LINKER_GLOBAL_EXPORTS.contains(&name)
            && self
                .globals
                .get(global as usize)
                .is_some_and(|ty| !ty.mutable && ty.content_type == wasmparser::ValType::I32)
    }

    /// Records an exported function as an entry point if its type is `[] -> []`.
    fn entry_point(&mut self, name: &str, function: u32) -> Checked {
        // An out-of-range function or type index is left to wasmparser, which reports it.
        let ty = self
            .function_types
            .get(function as usize)
            .and_then(|type_index| self.types.get(*type_index as usize));
        if let Some(ty) = ty {
            if !ty.params().is_empty() || !ty.results().is_empty() {
                return Err(ValidationError::EntryPointSignature {
                    name: name.to_string(),
                    function,
                    signature: func_signature(ty),
                });
            }
        }
        self.entry_points.push(name.to_string());
        Ok(())
    }

    fn data(&mut self, reader: DataSectionReader<'_>) -> Checked {
        self.cap(Cap::DataSegments, u64::from(reader.count()))?;
        for segment in reader {
            if let DataKind::Active { offset_expr, .. } = segment.map_err(reader_error)?.kind {
                check_const_expr(&offset_expr)?;
            }
        }
        Ok(())
    }

    fn body(&mut self, body: &FunctionBody<'_>) -> Checked {
        let imported = index(self.imports.len());
        let function = imported.saturating_add(self.bodies_seen);
        self.bodies_seen = self.bodies_seen.saturating_add(1);
        check_body(body, function, self.limits.max_locals_per_function)
    }
}

/// Element segments: only `funcref` elements, with MVP offset expressions.
fn elements(reader: ElementSectionReader<'_>) -> Checked {
    for element in reader {
        let element = element.map_err(reader_error)?;
        if let ElementKind::Active { offset_expr, .. } = &element.kind {
            check_const_expr(offset_expr)?;
        }
        if let ElementItems::Expressions(ty, items) = element.items {
            if ty != RefType::FUNCREF {
                return Err(ValidationError::ForbiddenType {
                    ty: type_name(ValType::Ref(ty)),
                    feature: super::types::ref_type_feature(ty),
                    used_in: TypeUse::ElementSegment,
                    offset: element.range.start,
                });
            }
            for item in items {
                check_const_expr(&item.map_err(reader_error)?)?;
            }
        }
    }
    Ok(())
}

fn reserved(name: &str, reserved_for: &'static str) -> ValidationError {
    ValidationError::ReservedExportName {
        name: name.to_string(),
        reserved_for,
    }
}

fn type_ref_kind(ty: TypeRef) -> &'static str {
    match ty {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => "function",
        TypeRef::Table(_) => "table",
        TypeRef::Memory(_) => "memory",
        TypeRef::Global(_) => "global",
        TypeRef::Tag(_) => "tag",
    }
}

fn external_kind(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => "function",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}
