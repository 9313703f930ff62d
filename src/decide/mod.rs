//! Stage 5 — decision: final charges, defining articles, general articles, with reasons (issue 5).

use crate::contract::TraceStep;
use crate::extract::Extraction;
use crate::kb::model::KnowledgeBase;
use crate::retrieve::Candidate;

/// A decided charge.
#[derive(Debug, Clone, PartialEq)]
pub struct DecidedCharge {
    /// Official name.
    pub name: String,
    /// Defining articles, primary first.
    pub articles: Vec<String>,
    /// Confidence in [0, 1].
    pub score: f64,
}

/// The decision on one case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Charges decided (several for 数罪).
    pub charges: Vec<DecidedCharge>,
    /// Reasons.
    pub trace: Vec<TraceStep>,
}

/// Decides the charges of a case from its extraction and retrieval candidates.
pub fn decide(_kb: &KnowledgeBase, _fact: &str, _ex: &Extraction, _candidates: &[Candidate]) -> Decision {
    Decision::default()
}
