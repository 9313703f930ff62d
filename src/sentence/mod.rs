//! Stage 6 — sentencing: band selection, the guideline's method, statutory bounds (issue 6).

use crate::contract::{Term, TraceStep};
use crate::kb::eval::{Facts, ThresholdUse};
use crate::kb::model::KnowledgeBase;

/// The band chosen for a charge.
#[derive(Debug, Clone, PartialEq)]
pub struct BandChoice {
    /// Charge name.
    pub charge: String,
    /// Band number.
    pub band: u32,
    /// Thresholds consulted to choose it.
    pub thresholds: Vec<ThresholdUse>,
}

/// The computed sentence of a case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sentence {
    /// Principal penalty.
    pub term: Option<Term>,
    /// Fine.
    pub fine_yuan: Option<f64>,
    /// General-part articles applied.
    pub general_articles: Vec<String>,
    /// Bands chosen per charge.
    pub bands: Vec<BandChoice>,
    /// Every step with its number and clause.
    pub trace: Vec<TraceStep>,
    /// National fallbacks and other caveats.
    pub warnings: Vec<String>,
}

/// Selects the applicable band of `charge` for `facts`.
pub fn select_band(kb: &KnowledgeBase, charge: &str, facts: &Facts) -> Option<BandChoice> {
    let c = kb.charges.iter().find(|c| c.name == charge)?;
    let mut used = Vec::new();
    let mut best: Option<u32> = None;
    for b in &c.bands {
        let holds = b.when.as_ref().is_none_or(|w| facts.eval(w, kb, &mut used));
        let excepted = b.unless.as_ref().is_some_and(|u| facts.eval(u, kb, &mut used));
        if holds && !excepted && best.is_none_or(|n| b.number > n) {
            best = Some(b.number);
        }
    }
    best.map(|band| BandChoice { charge: charge.to_string(), band, thresholds: used })
}

/// Computes the sentence for the decided `charges`.
pub fn sentence(_kb: &KnowledgeBase, _facts: &Facts, _charges: &[String]) -> Sentence {
    Sentence::default()
}
