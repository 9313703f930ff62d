//! Stage 3 — element extraction with evidence (issue 4).
//!
//! Reads a fact description and produces `Facts` (element values in base units) plus evidence spans
//! (character offsets). Which wording signals which element is declared in the knowledge base
//! (`element … { cue … negate … }`); this module holds only the generic machinery.

use crate::contract::{ElementsOut, Span};
use crate::kb::eval::Facts;
use crate::kb::model::{Date, KnowledgeBase};
use std::collections::BTreeMap;

/// Errors building an extractor from a knowledge base.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// A cue pattern of an element does not compile.
    #[error("element `{element}`: invalid cue pattern `{pattern}`: {message}")]
    BadPattern {
        /// Element name.
        element: String,
        /// The pattern.
        pattern: String,
        /// Regex error.
        message: String,
    },
}

/// What extraction found in one fact.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// Element values for conditions.
    pub facts: Facts,
    /// Contract view of the elements.
    pub elements: ElementsOut,
    /// Evidence spans per element name.
    pub evidence: BTreeMap<String, Vec<Span>>,
    /// Notes for the output's `warnings`.
    pub warnings: Vec<String>,
}

/// Compiled-once extractor (cue regexes), shared across threads.
#[derive(Debug)]
pub struct Extractor {
    _private: (),
}

impl Extractor {
    /// Compiles the cue patterns of `kb`.
    pub fn new(_kb: &KnowledgeBase) -> Result<Extractor, ExtractError> {
        Ok(Extractor { _private: () })
    }

    /// Extracts the elements of `fact`; `date` (offence date) helps compute ages.
    pub fn extract(&self, _fact: &str, _date: Option<Date>) -> Extraction {
        Extraction::default()
    }
}
