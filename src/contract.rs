//! The stable output contract: one `Judgment` per case, serialised as one JSON object.
//!
//! Field names and meanings are fixed by `README.md` ("Output contract") and by `tests/contract.rs`.
//! Element keys follow `../shared/data/elements/GUIDE.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One input case: a line of `lexpro batch` input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseInput {
    /// Caller's identifier, echoed in the output.
    #[serde(default)]
    pub id: String,
    /// The fact description (公诉机关指控… / 经审理查明…).
    pub fact: String,
    /// Province of the court, short or full name (北京 / 北京市); detected from the fact when absent.
    #[serde(default)]
    pub province: Option<String>,
    /// Offence or judgment date `YYYY-MM-DD`, for the article text in force.
    #[serde(default)]
    pub date: Option<String>,
}

/// A decided charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeOut {
    /// Official charge name (ends in 罪).
    pub name: String,
    /// Primary defining article (canonical number, e.g. `264`, `133-1`).
    pub article: String,
    /// Confidence in [0, 1].
    pub score: f64,
}

/// Kinds of principal penalty in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    /// 有期徒刑.
    FixedTerm,
    /// 拘役.
    CriminalDetention,
    /// 管制.
    PublicSurveillance,
    /// 无期徒刑.
    Life,
    /// 死刑.
    Death,
    /// 免予刑事处罚.
    Exempt,
    /// 单处罚金.
    FineOnly,
}

/// The sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// Penalty kind.
    pub kind: TermKind,
    /// Months (None for life / death).
    pub months: Option<f64>,
    /// Statutory range of the selected band, months.
    pub range_months: Option<[f64; 2]>,
    /// Probation (缓刑) months when suspended.
    pub probation_months: Option<f64>,
}

/// A drug and its total weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrugOut {
    /// Official name (甲基苯丙胺, 海洛因 …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Total grams, when stated.
    pub grams: Option<f64>,
}

/// The element object of the contract (keys of GUIDE.md plus any the knowledge base adds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementsOut {
    /// Total money amount / value, yuan.
    pub amount_yuan: Option<f64>,
    /// Drugs with grams.
    pub drugs: Vec<DrugOut>,
    /// Blood alcohol, mg/100ml.
    pub bac_mg_per_100ml: Option<f64>,
    /// Most severe injury (GUIDE levels).
    pub injury_max: String,
    /// Number of people killed.
    pub deaths: u32,
    /// A defendant was under 18 at the offence (None: unknown).
    pub minor_defendant: Option<bool>,
    /// A victim is under 18.
    pub minor_victim: bool,
    /// 自首.
    pub surrender: bool,
    /// 坦白.
    pub confession: bool,
    /// 认罪认罚 / 自愿认罪.
    pub guilty_plea: bool,
    /// 累犯 (incl. 毒品再犯).
    pub recidivist: bool,
    /// 退赃退赔 / 赔偿.
    pub restitution: bool,
    /// 取得谅解.
    pub forgiveness: bool,
    /// 未遂.
    pub attempted: bool,
    /// 从犯 / 胁从犯.
    pub accessory: bool,
    /// 立功.
    pub meritorious: bool,
    /// Further elements declared by the knowledge base (name → value).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for ElementsOut {
    fn default() -> Self {
        ElementsOut {
            amount_yuan: None,
            drugs: Vec::new(),
            bac_mg_per_100ml: None,
            injury_max: "none".to_string(),
            deaths: 0,
            minor_defendant: None,
            minor_victim: false,
            surrender: false,
            confession: false,
            guilty_plea: false,
            recidivist: false,
            restitution: false,
            forgiveness: false,
            attempted: false,
            accessory: false,
            meritorious: false,
            extra: BTreeMap::new(),
        }
    }
}

/// A span of the fact text: character (not byte) offsets, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// The characters themselves.
    pub text: String,
}

/// One reasoning step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceStep {
    /// Pipeline stage: extract | retrieve | decide | sentence | constrain | explain.
    pub stage: String,
    /// What was concluded, in words.
    pub message: String,
    /// Article / interpretation / guideline clause it rests on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cite: Option<String>,
    /// A number the step produced (months, yuan, score …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl TraceStep {
    /// A step with a message only.
    pub fn new(stage: &str, message: impl Into<String>) -> Self {
        TraceStep { stage: stage.to_string(), message: message.into(), cite: None, value: None }
    }

    /// Adds a citation.
    pub fn cite(mut self, cite: impl Into<String>) -> Self {
        self.cite = Some(cite.into());
        self
    }

    /// Adds a number.
    pub fn value(mut self, v: f64) -> Self {
        self.value = Some(v);
        self
    }
}

/// The engine's conclusion on one case: the output contract.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Judgment {
    /// Echo of the input id.
    pub id: String,
    /// Decided charges.
    pub charges: Vec<ChargeOut>,
    /// Special-part articles defining the charges.
    pub articles: Vec<String>,
    /// General-part articles applied.
    pub general_articles: Vec<String>,
    /// Sentence (None until sentencing has run or when it cannot be computed).
    pub term: Option<Term>,
    /// Fine in yuan.
    pub fine_yuan: Option<f64>,
    /// Extracted elements.
    pub elements: ElementsOut,
    /// Evidence spans per element.
    pub evidence: BTreeMap<String, Vec<Span>>,
    /// Reasoning steps.
    pub trace: Vec<TraceStep>,
    /// Model-written reasoning (None when no model ran).
    pub reasoning: Option<String>,
    /// Warnings: national fallbacks, calibrated thresholds, unparsed input, low confidence, a charge decided on
    /// article-text overlap alone.
    pub warnings: Vec<String>,
}

/// An error record for a batch line that could not be processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The id, when the line had one.
    pub id: Option<String>,
    /// 1-based input line number.
    pub line: usize,
    /// What went wrong.
    pub error: String,
}
