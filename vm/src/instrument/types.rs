//! Block types for the wrapper block around each function body, appending function types to the
//! type section when a multi-result function needs one that does not exist yet.
//!
//! Every body is wrapped in a block of the function's result type, so that a branch to the
//! function's own label (an implicit return) lands in front of the epilogue instead of skipping
//! it.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{BlockType, TypeSection};

use super::InstrumentError;

/// The module's function types, plus the ones the instrumenter adds.
#[derive(Default)]
pub(super) struct Types {
    original: Vec<wasmparser::FuncType>,
    added: Vec<Vec<wasmparser::ValType>>,
}

impl Types {
    /// Reads the function types of a type section.
    pub(super) fn read(reader: wasmparser::TypeSectionReader<'_>) -> Result<Self, InstrumentError> {
        let mut original = Vec::new();
        for group in reader {
            for sub_type in group?.into_types() {
                match sub_type.composite_type.inner {
                    wasmparser::CompositeInnerType::Func(f) => original.push(f),
                    // Validation admits only function types; anything else is malformed here.
                    _ => return Err(InstrumentError::Malformed("non-function type".into())),
                }
            }
        }
        Ok(Types {
            original,
            added: Vec::new(),
        })
    }

    /// The type of `type_index`, if it is a function type of this module.
    pub(super) fn func(&self, type_index: u32) -> Option<&wasmparser::FuncType> {
        self.original.get(type_index as usize)
    }

    /// The block type producing `results` from an empty stack.
    pub(super) fn block_for(
        &mut self,
        results: &[wasmparser::ValType],
    ) -> Result<BlockType, InstrumentError> {
        Ok(match results {
            [] => BlockType::Empty,
            [one] => BlockType::Result(RoundtripReencoder.val_type(*one)?),
            many => BlockType::FunctionType(self.index_of(many)),
        })
    }

    fn index_of(&mut self, results: &[wasmparser::ValType]) -> u32 {
        let existing = self
            .original
            .iter()
            .position(|f| f.params().is_empty() && f.results() == results);
        let index = match existing {
            Some(i) => i,
            None => match self.added.iter().position(|r| r == results) {
                Some(i) => self.original.len() + i,
                None => {
                    self.added.push(results.to_vec());
                    self.original.len() + self.added.len() - 1
                }
            },
        };
        // Type counts are bounded by the module size, far below u32::MAX.
        index as u32
    }

    /// Whether the type section must be rewritten.
    pub(super) fn changed(&self) -> bool {
        !self.added.is_empty()
    }

    /// The type section with the added types appended.
    pub(super) fn section(
        &self,
        reader: wasmparser::TypeSectionReader<'_>,
    ) -> Result<TypeSection, InstrumentError> {
        let mut section = TypeSection::new();
        RoundtripReencoder.parse_type_section(&mut section, reader)?;
        for results in &self.added {
            let results: Result<Vec<_>, _> = results
                .iter()
                .map(|t| RoundtripReencoder.val_type(*t))
                .collect();
            section.ty().function([], results?);
        }
        Ok(section)
    }
}
