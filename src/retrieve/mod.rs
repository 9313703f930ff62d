//! Stage 4 — retrieval of candidate charges, articles, interpretations and similar cases (issue 5).

use crate::extract::Extraction;
use crate::kb::model::KnowledgeBase;

/// Errors building or querying retrieval indexes.
#[derive(Debug, thiserror::Error)]
pub enum RetrieveError {
    /// A cue pattern does not compile.
    #[error("charge `{charge}`: invalid cue pattern `{pattern}`: {message}")]
    BadPattern {
        /// Charge name.
        charge: String,
        /// The pattern.
        pattern: String,
        /// Regex error.
        message: String,
    },
}

/// A candidate charge with its score and why it was retrieved.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Charge name.
    pub charge: String,
    /// Retrieval score (higher is better).
    pub score: f64,
    /// Human-readable reasons (cue matched, BM25 on article text, graph expansion …).
    pub reasons: Vec<String>,
}

/// Compiled-once retriever over the knowledge base.
#[derive(Debug)]
pub struct Retriever {
    _private: (),
}

impl Retriever {
    /// Builds the indexes for `kb`.
    pub fn new(_kb: &KnowledgeBase) -> Result<Retriever, RetrieveError> {
        Ok(Retriever { _private: () })
    }

    /// The `k` best candidate charges for a fact.
    pub fn retrieve(&self, _fact: &str, _ex: &Extraction, _k: usize) -> Vec<Candidate> {
        Vec::new()
    }
}
