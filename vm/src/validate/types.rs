//! Types: which value types and type definitions a contract may use, and how signatures are
//! spelled in error messages.

use wasmparser::{
    AbstractHeapType, CompositeInnerType, FuncType, HeapType, RefType, SubType, ValType,
};

use super::error::{Feature, TypeUse, ValidationError};
use crate::host_abi::{AbiType, HostFn};

/// The feature that forbids the value type `ty`, or `None` for `i32` and `i64`.
pub(super) fn value_type_feature(ty: ValType) -> Option<Feature> {
    match ty {
        ValType::I32 | ValType::I64 => None,
        ValType::F32 | ValType::F64 => Some(Feature::FloatingPoint),
        ValType::V128 => Some(Feature::Simd),
        ValType::Ref(ty) => Some(ref_type_feature(ty)),
    }
}

/// The feature a reference type comes from. Contracts may hold no reference values at all; only
/// the table's element type may be (the MVP's) `funcref`.
pub(super) fn ref_type_feature(ty: RefType) -> Feature {
    match ty.heap_type() {
        HeapType::Abstract { shared: true, .. } => Feature::SharedEverythingThreads,
        HeapType::Abstract { ty: heap, .. } => match heap {
            AbstractHeapType::Func | AbstractHeapType::Extern if ty.is_nullable() => {
                Feature::ReferenceTypes
            }
            AbstractHeapType::Func | AbstractHeapType::Extern | AbstractHeapType::NoFunc => {
                Feature::FunctionReferences
            }
            AbstractHeapType::Exn | AbstractHeapType::NoExn => Feature::Exceptions,
            AbstractHeapType::Cont | AbstractHeapType::NoCont => Feature::StackSwitching,
            _ => Feature::Gc,
        },
        HeapType::Concrete(_) => Feature::FunctionReferences,
        HeapType::Exact(_) => Feature::CustomDescriptors,
    }
}

/// Rejects `ty` unless it is `i32` or `i64`.
pub(super) fn check_value_type(
    ty: ValType,
    used_in: TypeUse,
    offset: usize,
) -> Result<(), ValidationError> {
    match value_type_feature(ty) {
        None => Ok(()),
        Some(feature) => Err(ValidationError::ForbiddenType {
            ty: type_name(ty),
            feature,
            used_in,
            offset,
        }),
    }
}

/// The text-format name of a value type; type indices are printed as plain numbers.
pub(super) fn type_name(ty: ValType) -> String {
    let ValType::Ref(ty) = ty else {
        return ty.to_string();
    };
    let (HeapType::Concrete(index) | HeapType::Exact(index)) = ty.heap_type() else {
        return ty.to_string();
    };
    let index = index
        .as_module_index()
        .map_or_else(|| index.to_string(), |i| i.to_string());
    match (ty.heap_type(), ty.is_nullable()) {
        (HeapType::Exact(_), true) => format!("(ref null (exact {index}))"),
        (HeapType::Exact(_), false) => format!("(ref (exact {index}))"),
        (_, true) => format!("(ref null {index})"),
        (_, false) => format!("(ref {index})"),
    }
}

/// A signature as `[i32, i32] -> [i32]`.
pub(super) fn signature<P, R>(params: P, results: R) -> String
where
    P: IntoIterator,
    P::Item: ToString,
    R: IntoIterator,
    R::Item: ToString,
{
    format!("[{}] -> [{}]", type_list(params), type_list(results))
}

fn type_list<T: IntoIterator>(types: T) -> String
where
    T::Item: ToString,
{
    types
        .into_iter()
        .map(|ty| ty.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The signature of a wasm function type.
pub(super) fn func_signature(ty: &FuncType) -> String {
    signature(ty.params(), ty.results())
}

/// The signature the host interface gives `host`.
pub(super) fn host_signature(host: HostFn) -> String {
    let params = host.params().iter().map(|ty| abi_val_type(*ty));
    let results = host.results().iter().map(|ty| abi_val_type(*ty));
    signature(params, results)
}

/// Whether `ty` is exactly the host interface's signature of `host`.
pub(super) fn matches_host(host: HostFn, ty: &FuncType) -> bool {
    let same = |abi: &[AbiType], wasm: &[ValType]| {
        abi.len() == wasm.len() && abi.iter().zip(wasm).all(|(a, w)| abi_val_type(*a) == *w)
    };
    same(host.params(), ty.params()) && same(host.results(), ty.results())
}

fn abi_val_type(ty: AbiType) -> ValType {
    match ty {
        AbiType::I32 => ValType::I32,
        AbiType::I64 => ValType::I64,
    }
}

/// The function type of a type-section entry, rejecting everything but MVP function types whose
/// parameters and results are integers.
pub(super) fn func_type(
    sub_type: SubType,
    type_index: u32,
    offset: usize,
) -> Result<FuncType, ValidationError> {
    if !sub_type.is_final || sub_type.supertype_idx.is_some() {
        return Err(ValidationError::forbidden(
            "a subtyped type definition",
            Feature::Gc,
            offset,
        ));
    }
    let composite = sub_type.composite_type;
    if composite.shared {
        return Err(ValidationError::forbidden(
            "a shared type",
            Feature::SharedEverythingThreads,
            offset,
        ));
    }
    if composite.descriptor_idx.is_some() || composite.describes_idx.is_some() {
        return Err(ValidationError::forbidden(
            "a type with a descriptor",
            Feature::CustomDescriptors,
            offset,
        ));
    }
    let ty = match composite.inner {
        CompositeInnerType::Func(ty) => ty,
        CompositeInnerType::Array(_) => {
            return Err(ValidationError::forbidden(
                "an array type",
                Feature::Gc,
                offset,
            ))
        }
        CompositeInnerType::Struct(_) => {
            return Err(ValidationError::forbidden(
                "a struct type",
                Feature::Gc,
                offset,
            ))
        }
        CompositeInnerType::Cont(_) => {
            return Err(ValidationError::forbidden(
                "a continuation type",
                Feature::StackSwitching,
                offset,
            ))
        }
    };
    for value_type in ty.params().iter().chain(ty.results()) {
        check_value_type(*value_type, TypeUse::Signature { type_index }, offset)?;
    }
    Ok(ty)
}
