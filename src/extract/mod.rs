//! Stage 3 — element extraction with evidence (issue 4).
//!
//! Reads a fact description and produces `Facts` (element values in base units) plus evidence spans
//! (character offsets). Which wording signals which element is declared in the knowledge base
//! (`element … { cue … negate … }`); this module holds only the generic machinery:
//!
//! - [`spans`]: character offsets, sentences and clauses, and the scope of statements (claims the court did not
//!   accept, statements about co-defendants);
//! - [`numbers`]: Chinese and Arabic numerals, money, weights, blood alcohol, and how courts sum amounts;
//! - [`dates`]: dates, birth dates and ages at the offence;
//! - [`cues`]: the knowledge base's cue and negate patterns, compiled once;
//! - [`drugs`], [`injury`]: drug types with grams, injury grades and deaths;
//! - [`province`]: the province of the case from court and place names;
//! - [`recommendation`]: the prosecution's recommended range of the term (量刑建议);
//! - [`elements`]: assembly of the facts and of the contract view;
//! - [`eval`]: scoring against hand-labelled gold files.

pub mod cues;
pub mod dates;
pub mod drugs;
pub mod elements;
pub mod eval;
pub mod injury;
pub mod numbers;
pub mod province;
pub mod recommendation;
pub mod spans;

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
    inner: elements::Assembler,
}

impl Extractor {
    /// Compiles the cue patterns of `kb`.
    pub fn new(kb: &KnowledgeBase) -> Result<Extractor, ExtractError> {
        Ok(Extractor { inner: elements::Assembler::new(kb)? })
    }

    /// Extracts the elements of `fact`; `date` (offence date) helps compute ages.
    pub fn extract(&self, fact: &str, date: Option<Date>) -> Extraction {
        self.inner.extract(fact, date)
    }

    /// Every money mention the `amount_yuan` cues designate in `fact`, before totals are formed.
    pub fn amount_mentions(&self, fact: &str) -> Vec<Span> {
        self.inner.amount_mentions(fact)
    }
}
