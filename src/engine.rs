//! `Engine`: the product. Opened once (knowledge base, rule graph, compiled extractors and indexes),
//! `Send + Sync`, then `analyze` runs the pipeline on one case with plain data between the stages:
//! extract → retrieve → decide → sentence → explain.

use crate::contract::{CaseInput, ChargeOut, Judgment, TraceStep};
use crate::decide::{self, Decision};
use crate::extract::{ExtractError, Extraction, Extractor};
use crate::kb::graph::RuleGraph;
use crate::kb::model::{Date, KnowledgeBase};
use crate::kb::{self, provinces, KbError};
use crate::cases::{CaseIndex, CasesError};
use crate::retrieve::{Candidate, RetrieveError, Retriever};
use crate::sentence::{self, Sentence};
use crate::store::{self, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest fact accepted, in bytes: judgments are far shorter; this bounds work per case.
pub const MAX_FACT_BYTES: usize = 1 << 20;

/// Errors of the engine layer.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The knowledge base did not compile.
    #[error(transparent)]
    Kb(#[from] KbError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Extraction patterns did not compile.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// Retrieval patterns did not compile.
    #[error(transparent)]
    Retrieve(#[from] RetrieveError),
    /// The similar-case index could not be opened.
    #[error(transparent)]
    Cases(#[from] CasesError),
    /// The case has no fact text.
    #[error("case `{0}`: empty fact")]
    EmptyFact(String),
    /// The fact is larger than `MAX_FACT_BYTES`.
    #[error("case `{id}`: fact of {bytes} bytes exceeds the {max}-byte limit")]
    FactTooLarge {
        /// Case id.
        id: String,
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The `date` field is not `YYYY-MM-DD`.
    #[error("case `{id}`: date `{date}` is not a valid YYYY-MM-DD date")]
    BadDate {
        /// Case id.
        id: String,
        /// The value.
        date: String,
    },
    /// The `province` field names no province.
    #[error("case `{id}`: unknown province `{province}`")]
    BadProvince {
        /// Case id.
        id: String,
        /// The value.
        province: String,
    },
}

/// Everything the pipeline produced for one case (the REPL and `analyze` show it; `Judgment` is the contract).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The contract output.
    pub judgment: Judgment,
    /// Elements, evidence.
    pub extraction: Extraction,
    /// Retrieved candidates, best first.
    pub candidates: Vec<Candidate>,
    /// The decision.
    pub decision: Decision,
    /// The sentence.
    pub sentence: Sentence,
}

/// The reasoning engine.
#[derive(Debug)]
pub struct Engine {
    kb: Arc<KnowledgeBase>,
    graph: RuleGraph,
    extractor: Extractor,
    retriever: Retriever,
    cases: Option<CaseIndex>,
}

/// How many candidates retrieval hands to the decision.
const CANDIDATES: usize = 10;

/// How many similar cases vote when an index is attached.
const PRECEDENTS: usize = 10;

impl Engine {
    /// Builds an engine over a compiled knowledge base.
    pub fn from_kb(kb: KnowledgeBase) -> Result<Engine, EngineError> {
        let graph = RuleGraph::build(&kb);
        let extractor = Extractor::new(&kb)?;
        let retriever = Retriever::new(&kb)?;
        Ok(Engine { kb: Arc::new(kb), graph, extractor, retriever, cases: None })
    }

    /// Compiles a knowledge directory (`knowledge/`) and builds an engine over it.
    pub fn from_dir(dir: &Path) -> Result<Engine, EngineError> {
        Engine::from_kb(kb::load_dir(dir)?)
    }

    /// Opens a knowledge store built by `lexpro kb build`.
    pub fn open(store_path: &Path) -> Result<Engine, EngineError> {
        let (kb, _meta) = store::open(store_path)?;
        Engine::from_kb(kb)
    }

    /// Adds a similar-case index (built by `lexpro cases index`): retrieval then weighs the charges of the
    /// most similar decided cases (类案) as well.
    pub fn with_cases(mut self, index_path: &Path) -> Result<Engine, EngineError> {
        self.cases = Some(CaseIndex::open(index_path)?);
        Ok(self)
    }

    /// The similar-case index, when one is attached.
    pub fn cases(&self) -> Option<&CaseIndex> {
        self.cases.as_ref()
    }

    /// The knowledge base.
    pub fn kb(&self) -> &KnowledgeBase {
        &self.kb
    }

    /// The rule graph.
    pub fn graph(&self) -> &RuleGraph {
        &self.graph
    }

    /// The extractor.
    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }

    /// The retriever.
    pub fn retriever(&self) -> &Retriever {
        &self.retriever
    }

    /// Runs the pipeline on one case and returns the contract output.
    pub fn analyze(&self, case: &CaseInput) -> Result<Judgment, EngineError> {
        Ok(self.analyze_detailed(case)?.judgment)
    }

    /// Runs the pipeline and returns every stage's output.
    pub fn analyze_detailed(&self, case: &CaseInput) -> Result<Analysis, EngineError> {
        let fact = case.fact.trim();
        if fact.is_empty() {
            return Err(EngineError::EmptyFact(case.id.clone()));
        }
        if fact.len() > MAX_FACT_BYTES {
            return Err(EngineError::FactTooLarge { id: case.id.clone(), bytes: fact.len(), max: MAX_FACT_BYTES });
        }
        let date = match case.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(Date::parse(d).ok_or_else(|| EngineError::BadDate { id: case.id.clone(), date: d.to_string() })?),
            None => None,
        };
        let province = match case.province.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(
                provinces::normalize(p)
                    .ok_or_else(|| EngineError::BadProvince { id: case.id.clone(), province: p.to_string() })?
                    .to_string(),
            ),
            None => None,
        };

        // 3. extract
        let mut extraction = self.extractor.extract(fact, date);
        if let Some(p) = &province {
            extraction.facts.province = Some(p.clone());
        }
        // 4. retrieve (with the votes of similar decided cases when an index is attached)
        let candidates = match &self.cases {
            Some(idx) => match self.retriever.retrieve_with_index(fact, &extraction, CANDIDATES, idx, PRECEDENTS) {
                Ok(c) => c,
                Err(e) => {
                    extraction.warnings.push(format!("similar-case search failed ({e}); rules only"));
                    self.retriever.retrieve(fact, &extraction, CANDIDATES)
                }
            },
            None => self.retriever.retrieve(fact, &extraction, CANDIDATES),
        };
        // 5. decide
        let decision = decide::decide(&self.kb, fact, &extraction, &candidates);
        // 6. sentence
        let names: Vec<String> = decision.charges.iter().map(|c| c.name.clone()).collect();
        // Facts that hold by the nature of the decided charges (`implies`), e.g. a negligent offence.
        let mut facts = extraction.facts.clone();
        for n in &names {
            if let Some(i) = self.graph.charge_index(n) {
                for e in &self.kb.charges[i].implies {
                    facts.set_bool(e, true);
                }
            }
        }
        let sentence = sentence::sentence(&self.kb, &facts, &names);

        // explain: assemble the contract.
        let mut trace = Vec::new();
        match &extraction.facts.province {
            Some(p) => trace.push(TraceStep::new("extract", format!("province: {p}"))),
            None => trace.push(TraceStep::new("extract", "province: not stated; national thresholds apply")),
        }
        for c in candidates.iter().take(5) {
            trace.push(TraceStep::new("retrieve", format!("candidate {} ({:.2}): {}", c.charge, c.score, c.reasons.join("; "))).value(c.score));
        }
        trace.extend(decision.trace.iter().cloned());
        trace.extend(sentence.trace.iter().cloned());

        let mut articles: Vec<String> = decision.articles.clone();
        for c in &decision.charges {
            for a in &c.articles {
                if !articles.contains(a) {
                    articles.push(a.clone());
                }
            }
        }
        let mut general_articles = decision.general_articles.clone();
        for a in &sentence.general_articles {
            if !general_articles.contains(a) {
                general_articles.push(a.clone());
            }
        }
        let mut warnings = extraction.warnings.clone();
        warnings.extend(decision.warnings.iter().cloned());
        for w in &sentence.warnings {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
        let judgment = Judgment {
            id: case.id.clone(),
            charges: decision
                .charges
                .iter()
                .map(|c| ChargeOut { name: c.name.clone(), article: c.articles.first().cloned().unwrap_or_default(), score: c.score })
                .collect(),
            articles,
            general_articles,
            term: sentence.term.clone(),
            fine_yuan: sentence.fine_yuan,
            elements: extraction.elements.clone(),
            evidence: extraction.evidence.clone(),
            trace,
            reasoning: None,
            warnings,
        };
        Ok(Analysis { judgment, extraction, candidates, decision, sentence })
    }
}

/// Where the shipped knowledge lives when no path is given: `$LEXPRO_KB`, `./knowledge`, or the
/// `knowledge/` folder of the source tree this binary was built from.
pub fn default_knowledge_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("LEXPRO_KB") {
        return PathBuf::from(p);
    }
    let here = PathBuf::from("knowledge");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}
