//! Stage 4 — retrieval of candidate charges, articles, interpretations and similar cases (issue 5).
//!
//! A careful judge reads the acts and results in the facts and thinks of the charges they point to. The
//! retriever does the same with the knowledge base's own material, compiled once in [`Retriever::new`]:
//! - the charges' `cue` / `anti` patterns (hand-curated or derived from the article text);
//! - explicit naming of a charge in the fact (`已构成盗窃罪`), through every charge's name and aliases;
//! - BM25 (jieba segmentation) over each charge's name, aliases and defining article texts;
//! - the elements its band conditions are written on (a blood-alcohol level points to the charges whose
//!   bands are written on it, weighted by how few charges use the element);
//! - similar decided cases (类案), when an index is supplied;
//! - the rule graph: charge → articles → interpretations, and charges sharing an article.
//!
//! What is read past: cue matches that describe the act of a prior conviction (曾因盗窃被判处…) or name a case
//! (在办理一起故意伤害案件中), counter-cues
//! inside a claim the court did not accept (辩护人提出…，不予采纳), and class labels that denote many charges
//! (经济犯 in 经济犯罪侦查大队).
//!
//! Every candidate carries its score, the signals that make it up and the reasons in words.

pub mod prefilter;
pub mod text;

pub use crate::cases;

use crate::extract::Extraction;
use crate::kb::model::{Cond, KnowledgeBase, Operand, Value};
use regex::Regex;
use std::collections::{BTreeSet, HashMap};
use text::Bm25;

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

/// The separate pieces of evidence behind a candidate, each roughly in [0, 1] (cue sums may exceed 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// The fact names the charge as the current offence (`构成…罪`, `以…罪`).
    pub mention: f64,
    /// Sum of the weights of the charge's cues that matched.
    pub cue: f64,
    /// Sum of the weights of the charge's counter-cues that matched.
    pub anti: f64,
    /// BM25 of the fact against the charge's text, relative to the best charge.
    pub bm25: f64,
    /// Support from extracted elements its band conditions are written on.
    pub element: f64,
    /// Similarity-weighted share of similar cases decided with this charge.
    pub precedent: f64,
    /// Reached only through the graph (shares an article with a retrieved charge).
    pub neighbour: bool,
    /// Character spans (start, end) of the cue matches, to tell separate acts from one act.
    pub cue_spans: Vec<(usize, usize)>,
    /// Each cue match's span with the weight of its cue, to tell where the charge's own wording (a full-weight
    /// cue) lies: in the facts or only in the prosecution's assessment.
    pub weighted_spans: Vec<((usize, usize), f64)>,
    /// Weight of the heaviest single cue that matched: a weight-3 cue is the charge's own wording
    /// (容留…吸食, 非法持有毒品), a sum of lighter cues is circumstantial.
    pub cue_max: f64,
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
    /// The evidence behind the score.
    pub signals: Signals,
    /// Defining articles (graph expansion), primary first.
    pub articles: Vec<String>,
    /// Interpretations attached to the charge (graph expansion).
    pub interpretations: Vec<String>,
}

/// How much each signal counts in the retrieval score.
///
/// These are ranking weights, not legal values; they were set by hand and checked on the development
/// set (`../shared/data/cail2018/train.jsonl`, leave-one-out with `lexpro eval judgments --loo`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Explicit naming of the charge.
    pub mention: f64,
    /// Cues (after saturation `1 - e^{-x/2}`).
    pub cue: f64,
    /// Counter-cues (after the same saturation).
    pub anti: f64,
    /// Relative BM25.
    pub bm25: f64,
    /// Element support.
    pub element: f64,
    /// Precedent share.
    pub precedent: f64,
    /// Precedents only confirm: their votes count for a charge the fact itself supports (a cue or its naming),
    /// never for one they alone bring in. An index covers the charges it was built from, so an ungated vote
    /// pulls a fact of an unindexed charge toward the nearest indexed one.
    pub precedent_gated: bool,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            mention: 3.0,
            cue: 1.5,
            anti: 2.0,
            bm25: 0.8,
            element: 0.6,
            precedent: 2.5,
            precedent_gated: false,
        }
    }
}

/// A similar decided case, as the retriever needs it (see [`cases::SimilarCase`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Precedent {
    /// Similarity score (BM25).
    pub score: f64,
    /// Charge names as the source labelled them (official or CAIL names).
    pub charges: Vec<String>,
    /// Case identifier for explanations.
    pub id: String,
}

#[derive(Debug)]
struct ChargeInfo {
    name: String,
    articles: Vec<String>,
    interpretations: Vec<String>,
    /// Element names (and `drug`) its band conditions are written on.
    elements: Vec<String>,
}

#[derive(Debug)]
struct CueRef {
    charge: usize,
    weight: f64,
    anti: bool,
    regex: Regex,
    /// Sets of ids in [`Retriever::atoms`]: every match contains a literal of each set (empty: always run).
    atoms: Vec<Vec<u32>>,
    /// Longest match in characters, when bounded: long facts are searched only around the literals.
    max_chars: Option<usize>,
}

/// Compiled-once retriever over the knowledge base.
#[derive(Debug)]
pub struct Retriever {
    charges: Vec<ChargeInfo>,
    cues: Vec<CueRef>,
    /// The cues' required literals, found in one pass over the fact.
    atoms: prefilter::AtomIndex,
    /// Atom id → the cues (ascending) whose first literal set contains it: the only cues that can match a
    /// fact are those listed under its present atoms, so a fact visits a few hundred cues, not all of them
    /// (the check of every cue's sets was 12% of the engine's time, all cache misses).
    cues_by_atom: Vec<Vec<u32>>,
    /// Cues with no required literal: run on every fact.
    cues_unfiltered: Vec<u32>,
    /// Every charge name and alias (and short forms), looked up before each 罪 of the fact.
    mention: NameIndex,
    /// Normalised name / alias → charge indexes.
    names: HashMap<String, Vec<usize>>,
    bm25: Bm25,
    /// Every charge's full official name (without 罪), for the names a masked text leaves standing.
    full_names: aho_corasick::AhoCorasick,
    /// A masked charge name (`××罪`) or a masked statute reference (`刑法》××之规定`): the text was anonymised
    /// by label (CAIL masks the judgment's own charges and articles everywhere in the fact).
    masked: Regex,
    /// Element → weight (rarer elements point more precisely).
    element_weight: HashMap<String, f64>,
    /// Article → charges it defines.
    by_article: HashMap<String, Vec<usize>>,
    /// Article number → a short verbatim excerpt, for reasons.
    weights: Weights,
}

/// Normalises a charge name for comparison as `../shared/tools/devcheck.py` does: NFKC-ish width folding,
/// CAIL brackets removed, trailing 罪 removed.
pub fn norm_charge(s: &str) -> String {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '［' | '］' | ' ' | '　'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '，' => ',',
            c => c,
        })
        .collect();
    t.strip_suffix('罪').map(str::to_string).unwrap_or(t)
}

/// Variants under which a selective charge (选择性罪名) is named in judgments: `走私、贩卖、运输、制造毒品`
/// is also written `贩卖毒品` or `运输毒品`. Each 、-separated act is joined to the shared object.
fn selective_variants(stem: &str) -> Vec<String> {
    let mut out = vec![stem.to_string()];
    let items: Vec<&str> = stem.split('、').collect();
    if items.len() < 2 {
        return out;
    }
    let first_len = items[0].chars().count();
    let last = items[items.len() - 1];
    let tail: String = last.chars().skip(first_len).collect();
    if tail.chars().count() < 2 {
        return out;
    }
    for it in &items[..items.len() - 1] {
        out.push(format!("{it}{tail}"));
    }
    let last_act: String = last.chars().take(first_len).collect();
    out.push(format!("{last_act}{tail}"));
    out
}

/// Element names a condition reads (`drug` for drug weights).
pub(crate) fn cond_elements(c: &Cond, out: &mut BTreeSet<String>) {
    match c {
        Cond::Flag(n) => {
            out.insert(n.clone());
        }
        Cond::Cmp(a, _, b) => {
            for o in [a, b] {
                match o {
                    Operand::Element(n) => {
                        out.insert(n.clone());
                    }
                    Operand::Drug(_) => {
                        out.insert("drug".to_string());
                    }
                    _ => {}
                }
            }
        }
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| cond_elements(c, out)),
        Cond::Not(c) => cond_elements(c, out),
    }
}

/// True when the extraction established the element (a true flag, a positive number, a grade above none).
fn element_present(ex: &Extraction, name: &str) -> bool {
    if name == "drug" {
        return !ex.facts.drugs.is_empty();
    }
    match ex.facts.values.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => *n > 0.0,
        Some(Value::Level(l)) => l != "none",
        _ => false,
    }
}

fn saturate(x: f64) -> f64 {
    1.0 - (-x / 2.0).exp()
}

/// Counter-evidence of a charge named openly in a text that masks the charge under judgment.
const MASKED_NAME_PENALTY: f64 = 2.0;

/// Counts a charge named openly in a masked text against it, once however often it is named.
fn named_in_masked_text(sig: &mut Signals, reasons: &mut Vec<String>, why: impl FnOnce() -> String) {
    if sig.anti < MASKED_NAME_PENALTY {
        reasons.push(why());
        sig.anti += MASKED_NAME_PENALTY;
    }
}

/// Weight factor of cues derived from article text (charges without `curated`).
const DERIVED_CUE_FACTOR: f64 = 0.6;

impl Retriever {
    /// Builds the indexes for `kb`.
    pub fn new(kb: &KnowledgeBase) -> Result<Retriever, RetrieveError> {
        Self::with_weights(kb, Weights::default())
    }

    /// Builds the indexes for `kb` with explicit signal weights.
    pub fn with_weights(kb: &KnowledgeBase, weights: Weights) -> Result<Retriever, RetrieveError> {
        let mut charges = Vec::with_capacity(kb.charges.len());
        let mut cues = Vec::new();
        let mut atom_index = prefilter::AtomIndex::default();
        let mut names: HashMap<String, Vec<usize>> = HashMap::new();
        let mut docs = Vec::with_capacity(kb.charges.len());
        let mut by_article: HashMap<String, Vec<usize>> = HashMap::new();
        let mut refs: HashMap<String, usize> = HashMap::new();
        for (i, c) in kb.charges.iter().enumerate() {
            for (anti, list) in [(false, &c.cues), (true, &c.anti)] {
                for cue in list {
                    let regex =
                        Regex::new(&cue.pattern).map_err(|e| RetrieveError::BadPattern {
                            charge: c.name.clone(),
                            pattern: cue.pattern.clone(),
                            message: e.to_string(),
                        })?;
                    // Cues derived mechanically from the article text are weaker evidence than curated ones.
                    let weight = if c.curated {
                        cue.weight
                    } else {
                        cue.weight * DERIVED_CUE_FACTOR
                    };
                    let atoms = prefilter::required_atom_sets(&cue.pattern)
                        .iter()
                        .filter_map(|set| {
                            set.iter()
                                .map(|a| atom_index.add(a))
                                .collect::<Option<Vec<u32>>>()
                        })
                        .collect();
                    let max_chars = prefilter::max_match_chars(&cue.pattern);
                    cues.push(CueRef {
                        charge: i,
                        weight,
                        anti,
                        regex,
                        atoms,
                        max_chars,
                    });
                }
            }
            names.entry(norm_charge(&c.name)).or_default().push(i);
            // The name counts three times: it is the most specific text a charge has.
            let mut doc = format!("{n} {n} {n}", n = c.name);
            for a in &c.aliases {
                doc.push(' ');
                doc.push_str(a);
            }
            for a in &c.articles {
                if let Some(art) = kb.articles.get(a) {
                    doc.push(' ');
                    doc.push_str(&art.text);
                }
                by_article.entry(a.clone()).or_default().push(i);
            }
            docs.push(doc);
            let mut els = BTreeSet::new();
            for b in &c.bands {
                if let Some(w) = &b.when {
                    cond_elements(w, &mut els);
                }
            }
            for e in &els {
                *refs.entry(e.clone()).or_insert(0) += 1;
            }
            charges.push(ChargeInfo {
                name: c.name.clone(),
                articles: c.articles.clone(),
                interpretations: c.interpretations.clone(),
                elements: els.into_iter().collect(),
            });
        }
        // Aliases after every official name, so a label that is one charge's name and another's alias
        // resolves to the charge that bears it as its name.
        for (i, c) in kb.charges.iter().enumerate() {
            for n in &c.aliases {
                let e = names.entry(norm_charge(n)).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
        }
        // Selective names are also written in their short forms (贩卖毒品罪); the text may use full-width
        // or half-width brackets, so both spellings enter the alternation and map back through `norm_charge`.
        let mut spellings: BTreeSet<String> = BTreeSet::new();
        for c in &kb.charges {
            for n in std::iter::once(&c.name).chain(c.aliases.iter()) {
                let raw: String = n
                    .trim()
                    .chars()
                    .filter(|c| !matches!(c, '[' | ']' | '［' | '］'))
                    .collect();
                let raw = raw.strip_suffix('罪').map(str::to_string).unwrap_or(raw);
                let owners = names.get(&norm_charge(&raw)).cloned().unwrap_or_default();
                for v in selective_variants(&raw) {
                    let e = names.entry(norm_charge(&v)).or_default();
                    for o in &owners {
                        if !e.contains(o) {
                            e.push(*o);
                        }
                    }
                    spellings.insert(norm_charge(&v));
                    spellings.insert(v);
                }
            }
        }
        let mut variants: Vec<String> = spellings
            .into_iter()
            .filter(|v| v.chars().count() >= 2)
            .collect();
        // Longest first: the alternation takes the first alternative that matches at a position.
        variants.sort_by_key(|v| std::cmp::Reverse(v.chars().count()));
        let mention = NameIndex::new(variants);
        let n = charges.len().max(1) as f64;
        let element_weight: HashMap<String, f64> = refs
            .into_iter()
            .map(|(e, k)| (e, (n / k as f64).ln() / n.ln().max(1.0)))
            .collect();
        // Leftmost-longest, so that 合同诈骗 is found whole rather than as 诈骗.
        let mut full: Vec<String> =
            kb.charges.iter().map(|c| norm_charge(&c.name)).filter(|n| n.chars().count() >= 2).collect();
        full.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        full.dedup();
        let full_names = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&full)
            .map_err(|e| RetrieveError::BadPattern {
                charge: "(full names)".into(),
                pattern: "full names".into(),
                message: e.to_string(),
            })?;
        let mut cues_by_atom: Vec<Vec<u32>> = vec![Vec::new(); atom_index.len()];
        let mut cues_unfiltered = Vec::new();
        for (i, cue) in cues.iter().enumerate() {
            match cue.atoms.first() {
                // An empty set can never hold; such a cue is never run (as before).
                Some(set) => {
                    for &a in set {
                        let list = &mut cues_by_atom[a as usize];
                        if list.last() != Some(&(i as u32)) {
                            list.push(i as u32);
                        }
                    }
                }
                None => cues_unfiltered.push(i as u32),
            }
        }
        Ok(Retriever {
            charges,
            cues,
            atoms: atom_index,
            cues_by_atom,
            cues_unfiltered,
            mention,
            names,
            bm25: Bm25::new(&docs),
            masked: Regex::new(
                r"[×xXＸ＊*]{2,}罪|(刑法》?|法》)第?[×xXＸ＊*]{2,}|[×xXＸ＊*]{2,}(之规定|的规定|第[（(一二三四五六七八九十0-9]|条|款)",
            )
            .map_err(|e| RetrieveError::BadPattern {
                charge: "(masked name)".into(),
                pattern: "masked".into(),
                message: e.to_string(),
            })?,
            full_names,
            element_weight,
            by_article,
            weights,
        })
    }

    /// Number of charges indexed.
    pub fn len(&self) -> usize {
        self.charges.len()
    }

    /// True when the knowledge base had no charge.
    pub fn is_empty(&self) -> bool {
        self.charges.is_empty()
    }

    /// The charge a label (official name, alias or CAIL name) denotes, if any.
    pub fn resolve_name(&self, label: &str) -> Option<&str> {
        let n = norm_charge(label);
        self.names
            .get(&n)
            .and_then(|v| v.first())
            .map(|&i| self.charges[i].name.as_str())
    }

    /// Every charge a label may denote (CAIL's composite labels name several), official name first.
    pub fn resolve_all(&self, label: &str) -> Vec<&str> {
        let n = norm_charge(label);
        self.names
            .get(&n)
            .map(|v| v.iter().map(|&i| self.charges[i].name.as_str()).collect())
            .unwrap_or_default()
    }

    /// Up to 8 non-overlapping matches of a cue whose literals passed the prefilter. A bounded cue on a
    /// long fact is run only on windows around the occurrences of its rarest required literals.
    fn cue_matches<'f>(&self, cue: &CueRef, fact: &'f str, present: &[bool]) -> Vec<Span<'f>> {
        const MAX: usize = 8;
        let full = |hay: &'f str, off: usize, out: &mut Vec<Span<'f>>| {
            for m in cue.regex.find_iter(hay) {
                if out.len() >= MAX {
                    break;
                }
                let (start, end) = (m.start() + off, m.end() + off);
                if out.last().is_some_and(|l| start < l.end) {
                    continue;
                }
                out.push(Span {
                    start,
                    end,
                    text: &fact[start..end],
                });
            }
        };
        let mut out = Vec::new();
        let Some(l) = cue.max_chars.filter(|_| !cue.atoms.is_empty()) else {
            full(fact, 0, &mut out);
            return out;
        };
        // Occurrences of the set with the fewest of them.
        let mut occ: Option<Vec<(usize, usize)>> = None;
        for set in &cue.atoms {
            let mut v = Vec::new();
            for &a in set {
                if present.get(a as usize).copied().unwrap_or(true) {
                    let t = self.atoms.text(a);
                    v.extend(fact.match_indices(t).map(|(p, _)| (p, p + t.len())));
                }
            }
            if occ.as_ref().is_none_or(|o| v.len() < o.len()) {
                occ = Some(v);
            }
        }
        let mut occ = occ.unwrap_or_default();
        occ.sort_unstable();
        let mut windows: Vec<(usize, usize)> = Vec::new();
        for (s, e) in occ {
            let ws = fact[..s]
                .char_indices()
                .rev()
                .take(l)
                .last()
                .map(|(i, _)| i)
                .unwrap_or(s);
            let we = fact[e..]
                .char_indices()
                .nth(l)
                .map(|(i, _)| e + i)
                .unwrap_or(fact.len());
            match windows.last_mut() {
                Some(w) if ws <= w.1 => w.1 = w.1.max(we),
                _ => windows.push((ws, we)),
            }
        }
        if windows.iter().map(|w| w.1 - w.0).sum::<usize>() * 2 >= fact.len() {
            full(fact, 0, &mut out);
            return out;
        }
        for (ws, we) in windows {
            full(&fact[ws..we], ws, &mut out);
        }
        out
    }

    /// The `k` best candidate charges for a fact.
    pub fn retrieve(&self, fact: &str, ex: &Extraction, k: usize) -> Vec<Candidate> {
        self.retrieve_with(fact, ex, k, &[])
    }

    /// The `k` best candidate charges for a fact, with the `n_cases` most similar cases of `index` voting
    /// (cases with the identical fact are skipped, so an indexed case is never its own precedent).
    pub fn retrieve_with_index(
        &self,
        fact: &str,
        ex: &Extraction,
        k: usize,
        index: &cases::CaseIndex,
        n_cases: usize,
    ) -> Result<Vec<Candidate>, cases::CasesError> {
        let opts = cases::SearchOpts {
            exclude_same_fact: true,
            ..Default::default()
        };
        let precedents: Vec<Precedent> = index
            .search(fact, n_cases, &opts)?
            .iter()
            .map(|s| s.to_precedent())
            .collect();
        Ok(self.retrieve_with(fact, ex, k, &precedents))
    }

    /// The `k` best candidate charges for a fact, using similar decided cases as well.
    pub fn retrieve_with(
        &self,
        fact: &str,
        ex: &Extraction,
        k: usize,
        precedents: &[Precedent],
    ) -> Vec<Candidate> {
        let n = self.charges.len();
        if n == 0 || k == 0 {
            return Vec::new();
        }
        let mut sig: Vec<Signals> = vec![Signals::default(); n];
        let mut reasons: Vec<Vec<String>> = vec![Vec::new(); n];

        // Cues and counter-cues: only patterns whose required literals occur in the fact are run.
        let present = self.atoms.present(fact);
        // Byte offset → character offset, for evidence spans.
        let mut char_of = vec![0usize; fact.len() + 1];
        {
            let mut k = 0;
            for (b, ch) in fact.char_indices() {
                char_of[b..b + ch.len_utf8()].fill(k);
                k += 1;
            }
            char_of[fact.len()] = k;
        }
        // Sentences reporting a party's claim: built only when the fact reports one.
        let doc = claim_words().is_match(fact).then(|| crate::extract::spans::Doc::new(fact));
        // The cues that can match, in the knowledge base's order (reasons and sums keep that order).
        let mut runnable: Vec<u32> = self.cues_unfiltered.clone();
        for (a, _) in present.iter().enumerate().filter(|(_, p)| **p) {
            runnable.extend_from_slice(&self.cues_by_atom[a]);
        }
        runnable.sort_unstable();
        runnable.dedup();
        for cue in runnable.iter().map(|&i| &self.cues[i as usize]) {
            {
                if !cue
                    .atoms
                    .iter()
                    .all(|set| set.iter().any(|&a| present[a as usize]))
                {
                    continue;
                }
                let mut ms = self.cue_matches(cue, fact, &present);
                // An act of a prior conviction (曾因盗窃被判处…) is not an act under judgment.
                if !cue.anti {
                    ms.retain(|m| !is_prior_act(fact, m.start(), m.end()) && !names_a_case(fact, m.end()));
                }
                // A counter-cue inside a claim the court did not accept (辩护人提出系故意伤害致人死亡…，不予采纳)
                // weighs nothing. (The same rule for cues cost accuracy on the development cases: a defence
                // claim usually restates the acts charged.)
                if let (true, Some(d)) = (cue.anti, &doc) {
                    ms.retain(|m| !d.is_unaccepted(char_of[m.start()]));
                }
                let Some(first) = ms.first() else { continue };
                let s = &mut sig[cue.charge];
                if cue.anti {
                    s.anti += cue.weight;
                    reasons[cue.charge].push(format!(
                        "counter-cue `{}` matched 「{}」 (−{:.1})",
                        cue.regex.as_str(),
                        first.as_str(),
                        cue.weight
                    ));
                } else {
                    // Repetition adds a little: several acts of the same kind.
                    s.cue += cue.weight * (1.0 + 0.1 * (ms.len() as f64 - 1.0));
                    s.cue_max = s.cue_max.max(cue.weight);
                    for m in &ms {
                        let span = (char_of[m.start()], char_of[m.end()]);
                        s.cue_spans.push(span);
                        s.weighted_spans.push((span, cue.weight));
                    }
                    reasons[cue.charge].push(format!(
                        "cue `{}` matched 「{}」 (+{:.1})",
                        cue.regex.as_str(),
                        first.as_str(),
                        cue.weight
                    ));
                }
            }
        }

        // Explicit naming of the charge as the current offence. Published judgment data (CAIL) masks the
        // full name of the charge under judgment everywhere (`已构成××罪`, and its articles: `刑法》××之规定`);
        // in such a text a charge still named openly by its full name is a different one — a prosecution
        // charge the court did not retain (指控诈骗罪, 认定合同诈骗罪), or another offence — so it counts
        // against, not for. On the CAIL dev facts no openly named full name was the judgment's charge
        // (0 of 43), and the narrower names left standing were (382 of 383).
        let masked = self.masked.is_match(fact);
        {
            for (start, end) in self.mention.find_iter(fact) {
                let m = Span {
                    start,
                    end,
                    text: &fact[start..end],
                };
                let stem = &m.as_str()[..m.as_str().len() - '罪'.len_utf8()];
                let Some(owners) = self.names.get(&norm_charge(stem)) else {
                    continue;
                };
                // A class label (CAIL's 经济犯) denotes dozens of charges and names none of them: 「经济犯罪侦查
                // 大队」 is a police unit.
                if owners.len() > MAX_NAMED_OWNERS {
                    continue;
                }
                if is_defence_claim(fact, m.start(), m.end()) {
                    for &o in owners {
                        reasons[o].push(format!("「{}」 is named in a defence claim, not counted", m.as_str()));
                    }
                    continue;
                }
                if is_prior_conviction(fact, m.start(), m.end()) {
                    for &o in owners {
                        reasons[o].push(format!(
                            "「{}」 names a prior conviction, not counted",
                            m.as_str()
                        ));
                    }
                    continue;
                }
                for &o in owners {
                    // The anonymisation masks a charge's full official name only: a narrower name of a
                    // selective charge (贩卖毒品罪 for 走私、贩卖、运输、制造毒品罪) is left standing, and in such a
                    // text says nothing either way.
                    let full_name = norm_charge(&self.charges[o].name) == norm_charge(stem);
                    if masked && !full_name {
                        continue;
                    }
                    if masked {
                        named_in_masked_text(&mut sig[o], &mut reasons[o], || {
                            format!(
                                "the fact masks the charge under judgment (××罪) but names 「{}」 openly: not the masked charge",
                                m.as_str()
                            )
                        });
                        continue;
                    }
                    if sig[o].mention == 0.0 {
                        reasons[o].push(format!("the fact names the charge: 「{}」", m.as_str()));
                    }
                    sig[o].mention = 1.0;
                }
            }
        }

        // The same in a masked text for a full name written without 罪 (以非法占有为目的…诈骗, 曾因盗窃被判刑): the
        // masking replaces every occurrence of the judgment's charge names, so one left standing is not among
        // them. On the CAIL dev facts with masked statute references, no visible full name was the judgment's.
        if masked {
            for m in self.full_names.find_iter(fact) {
                if fact[m.end()..].starts_with('罪') {
                    continue; // a named charge, weighed above
                }
                let name = &fact[m.start()..m.end()];
                let Some(owners) = self.names.get(name) else { continue };
                if owners.len() > MAX_NAMED_OWNERS {
                    continue;
                }
                for &o in owners {
                    if norm_charge(&self.charges[o].name) == name {
                        named_in_masked_text(&mut sig[o], &mut reasons[o], || {
                            format!("the fact is masked (××) but writes 「{name}」 openly: not the masked charge")
                        });
                    }
                }
            }
        }

        // BM25 against name, aliases and article text.
        // Single characters are too ambiguous against statute wording; words only.
        let mut q = text::term_counts(fact);
        q.retain(|t, _| t.chars().count() >= 2 && !text::is_procedural(t));
        let scores = self.bm25.scores(&q);
        let best = scores.iter().cloned().fold(0.0, f64::max);
        if best > 0.0 {
            for (i, s) in scores.iter().enumerate() {
                sig[i].bm25 = s / best;
            }
        }

        // Elements the bands are written on.
        for (i, c) in self.charges.iter().enumerate() {
            // Elements are shared by many charges: they confirm a charge the text points to, never
            // suggest one on their own (so the others are not looked at).
            let s = &sig[i];
            if !(s.mention > 0.0 || s.cue > 0.0 || s.bm25 >= 0.3) {
                continue;
            }
            let mut best_e: Option<(&str, f64)> = None;
            for e in &c.elements {
                if element_present(ex, e) {
                    let w = self.element_weight.get(e).copied().unwrap_or(0.0);
                    if best_e.is_none_or(|(_, b)| w > b) {
                        best_e = Some((e, w));
                    }
                }
            }
            if let Some((e, w)) = best_e {
                sig[i].element = w;
                if w > 0.3 {
                    reasons[i].push(format!(
                        "element `{e}` established; its bands are written on it ({w:.2})"
                    ));
                }
            }
        }

        // Precedents: similarity-weighted vote.
        let total: f64 = precedents.iter().map(|p| p.score.max(0.0)).sum();
        if total > 0.0 {
            let mut ids: Vec<Vec<&str>> = vec![Vec::new(); n];
            for p in precedents {
                let mut seen = BTreeSet::new();
                for c in &p.charges {
                    let Some(owners) = self.names.get(&norm_charge(c)) else {
                        continue;
                    };
                    // A composite label (CAIL's `[制造、贩卖、传播]淫秽物品`) votes once, for the charge it
                    // denotes that this fact's own text supports best.
                    let textual =
                        |o: usize| 10.0 * sig[o].mention + sig[o].cue + sig[o].bm25 - sig[o].anti;
                    let Some(&o) = owners
                        .iter()
                        .max_by(|a, b| textual(**a).total_cmp(&textual(**b)).then(b.cmp(a)))
                    else {
                        continue;
                    };
                    if self.weights.precedent_gated && sig[o].cue <= 0.0 && sig[o].mention <= 0.0 {
                        continue;
                    }
                    if seen.insert(o) {
                        sig[o].precedent += p.score.max(0.0) / total;
                        ids[o].push(&p.id);
                    }
                }
            }
            for (i, v) in ids.iter().enumerate() {
                if !v.is_empty() {
                    let shown: Vec<&str> = v.iter().take(3).copied().collect();
                    reasons[i].push(format!(
                        "{} of {} similar cases decided it (share {:.2}; e.g. {})",
                        v.len(),
                        precedents.len(),
                        sig[i].precedent,
                        shown.join(", ")
                    ));
                }
            }
        }

        let w = &self.weights;
        let mut scored: Vec<(usize, f64)> = sig
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let v = w.mention * s.mention
                    + w.cue * saturate(s.cue)
                    + w.bm25 * s.bm25 * s.bm25
                    + w.element * s.element
                    + w.precedent * s.precedent
                    - w.anti * saturate(s.anti);
                (i, v)
            })
            .filter(|(i, _)| {
                // Kept even when counter-cues drive the score below zero: the decision reports what it weighed.
                let s = &sig[*i];
                s.mention > 0.0
                    || s.cue > 0.0
                    || s.bm25 > 0.25
                    || s.precedent > 0.0
                    || s.element > 0.3
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);

        // Graph expansion: charges sharing a defining article with a leading candidate are near
        // neighbours the decision must weigh (e.g. the offences of one article).
        let mut present: BTreeSet<usize> = scored.iter().map(|(i, _)| *i).collect();
        let mut extra = Vec::new();
        for &(i, v) in scored.iter().take(3) {
            for a in &self.charges[i].articles {
                for &j in self.by_article.get(a).map(Vec::as_slice).unwrap_or(&[]) {
                    if present.insert(j) {
                        sig[j].neighbour = true;
                        reasons[j].push(format!(
                            "graph: shares article {a} with {} (neighbour)",
                            self.charges[i].name
                        ));
                        extra.push((j, (v * 0.2).min(0.2)));
                    }
                }
            }
        }
        scored.extend(extra);

        scored
            .into_iter()
            .map(|(i, score)| {
                let c = &self.charges[i];
                let mut rs = std::mem::take(&mut reasons[i]);
                if sig[i].bm25 > 0.0 {
                    let terms = self.bm25.matched_terms(&q, i, 5);
                    rs.push(format!(
                        "BM25 on name and article text {:.2} (terms: {})",
                        sig[i].bm25,
                        terms.join(" ")
                    ));
                }
                if !c.articles.is_empty() {
                    rs.push(format!(
                        "graph: defined by article {}",
                        c.articles.join(", ")
                    ));
                }
                if !c.interpretations.is_empty() {
                    rs.push(format!(
                        "graph: interpretations {}",
                        c.interpretations.join(", ")
                    ));
                }
                Candidate {
                    charge: c.name.clone(),
                    score,
                    reasons: rs,
                    signals: std::mem::take(&mut sig[i]),
                    articles: c.articles.clone(),
                    interpretations: c.interpretations.clone(),
                }
            })
            .collect()
    }
}

/// A matched charge name (byte span including the final 罪).
struct Span<'a> {
    start: usize,
    end: usize,
    text: &'a str,
}

impl Span<'_> {
    fn as_str(&self) -> &str {
        self.text
    }
    fn start(&self) -> usize {
        self.start
    }
    fn end(&self) -> usize {
        self.end
    }
}

/// Charge names looked up backwards from each 罪 of a fact: a regex alternation of a thousand names costs
/// a lazy-DFA walk of the whole fact, while 罪 is rare and names are short.
#[derive(Debug, Default)]
struct NameIndex {
    names: std::collections::HashSet<String>,
    max_chars: usize,
}

impl NameIndex {
    fn new(variants: Vec<String>) -> NameIndex {
        let max_chars = variants
            .iter()
            .map(|v| v.chars().count())
            .max()
            .unwrap_or(0);
        NameIndex {
            names: variants.into_iter().collect(),
            max_chars,
        }
    }

    /// Non-overlapping (start, end) byte spans of `name罪`, the longest name ending at each 罪, left to right.
    fn find_iter(&self, fact: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.names.is_empty() {
            return out;
        }
        let mut floor = 0usize;
        for (b, ch) in fact.char_indices() {
            if ch != '罪' {
                continue;
            }
            // Candidate starts: up to `max_chars` characters back, not before the previous match.
            let starts: Vec<usize> = fact[floor..b]
                .char_indices()
                .rev()
                .take(self.max_chars)
                .map(|(i, _)| floor + i)
                .collect();
            if let Some(&s) = starts
                .iter()
                .rev()
                .find(|&&s| self.names.contains(&fact[s..b]))
            {
                let end = b + '罪'.len_utf8();
                out.push((s, end));
                floor = end;
            }
        }
        out
    }
}

/// True when a charge named at bytes `start..end` of `fact` is a prior conviction (`曾因盗窃罪被判处…`),
/// which says nothing about the current offence.
/// True when the cue match ending at byte `end` is the name of a case (`在办理一起故意伤害案件中`, `盗窃一案`): the
/// case another person is tried in, which the defendant's act (徇私枉法, 妨害作证, 帮助毁灭证据 …) concerns.
fn names_a_case(fact: &str, end: usize) -> bool {
    let after: String = fact[end..].chars().take(3).collect();
    ["案件", "一案", "案中", "案的", "案侦", "案犯"].iter().any(|w| after.starts_with(w)) || after.starts_with("罪案")
}

/// Words that report a party's claim (the extractor's `spans::Doc` finds whether the court accepted it).
fn claim_words() -> &'static regex::Regex {
    static R: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    R.get_or_init(|| regex::Regex::new(r"辩护|辩称|辩解|上诉").expect("static regex"))
}

/// A name shared by more charges than this is a class of offences, not a charge.
const MAX_NAMED_OWNERS: usize = 4;

/// The match's clause around it: before it at most `back` characters, cut at the last of `seps`; after it at
/// most 24 characters, cut at the next clause end.
fn clause_around(fact: &str, start: usize, end: usize, back: usize, seps: &[char]) -> (String, String) {
    let before: String = fact[..start].chars().rev().take(back).collect::<Vec<_>>().into_iter().rev().collect();
    let before = before.rsplit(seps).next().unwrap_or("").to_string();
    let after: String = fact[end..].chars().take(24).collect();
    let after = after.split(['。', '；', ';', '，', ',']).next().unwrap_or("").to_string();
    (before, after)
}

/// True when a charge named at `start..end` is what the defence argues for (上诉人提出其行为构成非法持有毒品罪的
/// 上诉理由, 辩护人建议以…罪从轻处罚): the lesser charge the defence asks for is not evidence of the one decided,
/// nor of a further one.
fn is_defence_claim(fact: &str, start: usize, end: usize) -> bool {
    let (before, _) = clause_around(fact, start, end, 60, &['。', '；', ';']);
    let after: String = fact[end..].chars().take(30).collect();
    let after = after.split(['。', '；', ';']).next().unwrap_or("");
    // Claim verbs, not the bare 辩护人: 被告人及其辩护人对指控的盗窃罪无异议 agrees with the charge.
    [
        "辩解", "辩称", "上诉理由", "上诉称", "上诉提出", "认识上的疑问", "辩护意见", "辩护人提出", "辩护人认为",
        "辩护人建议", "辩护人称",
    ]
    .iter()
    .any(|w| before.contains(w))
        || ["的上诉理由", "的辩护意见", "的辩解", "的辩护"].iter().any(|w| after.contains(w))
}

/// True when a charge named at `start..end` is the name of a prior conviction (曾因盗窃罪被判处…).
fn is_prior_conviction(fact: &str, start: usize, end: usize) -> bool {
    let (before, after) = clause_around(fact, start, end, 10, &['。', '；', ';']);
    before.contains('曾') || before.contains("前科") || before.contains("因犯")
        || ["判处", "被判", "刑满", "释放", "假释", "服刑"].iter().any(|w| after.contains(w))
}

/// True when the cue match at `start..end` describes the act of a prior conviction: its clause begins with
/// 曾因 / 因犯 / 前科 …, or goes on to the sentence served (被判处, 刑满释放 …). Stricter than
/// [`is_prior_conviction`] before the match: 曾 alone is also a surname (曾某).
fn is_prior_act(fact: &str, start: usize, end: usize) -> bool {
    let (before, after) = clause_around(fact, start, end, 16, &['。', '；', ';', '，', ',']);
    ["曾因", "曾经因", "曾于", "曾被", "前科", "因犯", "因涉嫌"].iter().any(|w| before.contains(w))
        || ["被判处", "被判刑", "判处有期徒刑", "刑满释放", "被劳动教养", "被行政拘留"].iter().any(|w| after.contains(w))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_class_label_names_no_charge() {
        let mut kb = tiny_kb();
        // Enough charges under one class label: copies of the first under other names.
        let base = kb.charges[0].clone();
        for k in 0..=MAX_NAMED_OWNERS {
            let mut c = base.clone();
            c.name = format!("测试类罪{k}罪");
            c.cues.clear();
            kb.charges.push(c);
        }
        for c in kb.charges.iter_mut() {
            c.aliases.push("经济犯".into());
        }
        let r = Retriever::new(&kb).unwrap();
        let fact = "经济犯罪侦查大队民警将被告人抓获。被告人窃取手机一部。";
        let c = r.retrieve(fact, &Extraction::default(), 10);
        assert!(c.iter().all(|c| c.signals.mention == 0.0), "{c:?}");
    }

    #[test]
    fn a_counter_cue_in_a_rejected_claim_weighs_nothing() {
        let kb = tiny_kb();
        let r = Retriever::new(&kb).unwrap();
        let anti = |fact: &str| {
            let c = r.retrieve(fact, &Extraction::default(), 10);
            c.iter().find(|c| c.charge == "盗窃罪").map(|c| c.signals.anti).unwrap()
        };
        assert!(anti("被告人窃取手机一部，被发现后当场使用暴力。") > 0.0);
        assert_eq!(anti("被告人窃取手机一部。辩护人提出被告人当场使用暴力，该意见与事实不符，本院不予采纳。"), 0.0);
    }

    #[test]
    fn the_name_of_a_case_is_not_the_act() {
        let f = "被告人在办理一起盗窃案件中收受贿赂。被告人盗窃手机一部。";
        let first = f.find("盗窃").unwrap();
        assert!(names_a_case(f, first + "盗窃".len()));
        let second = f.rfind("盗窃").unwrap();
        assert!(!names_a_case(f, second + "盗窃".len()));
    }

    #[test]
    fn acts_of_a_prior_conviction_are_told_apart() {
        let f = "被告人曾某曾因盗窃被判处有期徒刑一年，2016年刑满释放。2017年3月，被告人曾某盗窃手机一部。";
        let at = |needle: &str, nth: usize| f.match_indices(needle).nth(nth).map(|(i, _)| i).unwrap();
        let first = at("盗窃", 0);
        assert!(is_prior_act(f, first, first + "盗窃".len()));
        let second = at("盗窃", 1);
        assert!(!is_prior_act(f, second, second + "盗窃".len()), "曾 in the surname 曾某 is not 曾因");
    }
    use crate::kb::model::*;

    fn article(n: &str, text: &str) -> Article {
        Article {
            number: n.into(),
            part: Part::Special,
            chapter: None,
            text: text.into(),
            in_force: None,
            versions: vec![],
            amended_by: vec![],
            notes: vec![],
            loc: Loc::default(),
        }
    }

    fn charge(name: &str, art: &str, cues: &[&str], anti: &[&str], when: Option<Cond>) -> Charge {
        Charge {
            name: name.into(),
            articles: vec![art.into()],
            aliases: vec![name.trim_end_matches('罪').into()],
            group: Some("侵犯财产罪".into()),
            curated: true,
            cues: cues
                .iter()
                .map(|p| Cue {
                    pattern: p.to_string(),
                    weight: 2.0,
                })
                .collect(),
            anti: anti
                .iter()
                .map(|p| Cue {
                    pattern: p.to_string(),
                    weight: 2.0,
                })
                .collect(),
            interpretations: vec![],
            guideline: None,
            bands: vec![Band {
                number: 1,
                text: None,
                when,
                unless: None,
                overrides: vec![],
                penalty: Penalty::default(),
                penalty_from: None,
                fine: Requirement::None,
                confiscation: Requirement::None,
                deprivation: Requirement::None,
                start: None,
                increments: vec![],
                start_position: None,
                source: Source {
                    cite: format!("刑法第{art}条"),
                    calibrated: false,
                },
                loc: Loc::default(),
            }],
            converts: vec![],
            requires: vec![],
            yields: vec![],
            cumulative: vec![],
            implies: vec![],
            loc: Loc::default(),
        }
    }

    /// A small hand-built knowledge base of near neighbours, for unit tests of retrieval and decision.
    pub(crate) fn tiny_kb() -> KnowledgeBase {
        let mut kb = KnowledgeBase::default();
        for (n, t) in [
            ("264", "盗窃公私财物，数额较大的，或者多次盗窃、入户盗窃、携带凶器盗窃、扒窃的，处三年以下有期徒刑、拘役或者管制，并处或者单处罚金"),
            ("263", "以暴力、胁迫或者其他方法抢劫公私财物的，处三年以上十年以下有期徒刑，并处罚金"),
            ("267", "抢夺公私财物，数额较大的，或者多次抢夺的，处三年以下有期徒刑、拘役或者管制，并处或者单处罚金"),
            ("133-1", "在道路上驾驶机动车，有下列情形之一的，处拘役，并处罚金：（二）醉酒驾驶机动车的"),
            ("269", "犯盗窃、诈骗、抢夺罪，为窝藏赃物、抗拒抓捕或者毁灭罪证而当场使用暴力或者以暴力相威胁的，依照本法第二百六十三条的规定定罪处罚。"),
        ] {
            kb.articles.insert(n.into(), article(n, t));
        }
        kb.elements.insert(
            "bac_mg_per_100ml".into(),
            Element {
                name: "bac_mg_per_100ml".into(),
                kind: ElementKind::Quantity(Unit::MgPer100ml),
                label: "血液酒精含量".into(),
                cues: vec![],
                negates: vec![],
                personal: false,
                source: None,
                loc: Loc::default(),
            },
        );
        let bac = Cond::Cmp(
            Operand::Element("bac_mg_per_100ml".into()),
            CmpOp::Ge,
            Operand::Quantity(Quantity {
                value: 80.0,
                unit: Unit::MgPer100ml,
            }),
        );
        let amount = Cond::Cmp(
            Operand::Element("amount_yuan".into()),
            CmpOp::Ge,
            Operand::Quantity(Quantity {
                value: 1000.0,
                unit: Unit::Yuan,
            }),
        );
        let mut theft = charge(
            "盗窃罪",
            "264",
            &["窃取|盗走|偷走|盗得|盗窃"],
            &["当场.{0,6}(使用暴力|以暴力相威胁)"],
            Some(amount.clone()),
        );
        theft.converts.push(Conversion {
            to: "抢劫罪".into(),
            when: Cond::Flag("violence_to_resist".into()),
            source: Source {
                cite: "刑法第269条".into(),
                calibrated: false,
            },
        });
        kb.charges = vec![
            theft,
            charge(
                "抢劫罪",
                "263",
                &["抢劫|劫取|持刀.{0,8}(索要|逼迫)"],
                &[],
                Some(amount.clone()),
            ),
            charge(
                "抢夺罪",
                "267",
                &["抢夺|夺走|夺下|抢走"],
                &["暴力"],
                Some(amount),
            ),
            charge("危险驾驶罪", "133-1", &["醉酒驾驶|醉驾"], &[], Some(bac)),
        ];
        kb.charges[3].group = Some("危害公共安全罪".into());
        kb
    }

    #[test]
    fn cues_rank_the_right_charge_first_and_explain_why() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let c = r.retrieve(
            "被告人张某趁被害人熟睡之机，窃取其手机一部，价值2000元。",
            &Extraction::default(),
            5,
        );
        assert_eq!(c[0].charge, "盗窃罪");
        assert!(
            c[0].reasons.iter().any(|r| r.contains("窃取")),
            "{:?}",
            c[0].reasons
        );
        assert_eq!(c[0].articles, vec!["264".to_string()]);
    }

    #[test]
    fn counter_cues_lower_a_charge() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let c = r.retrieve(
            "被告人抢走被害人挎包，并当场使用暴力将其打倒。",
            &Extraction::default(),
            5,
        );
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert!(grab.signals.anti > 0.0);
        assert!(grab.reasons.iter().any(|r| r.contains("counter-cue")));
    }

    #[test]
    fn an_explicitly_named_charge_is_strong_evidence_but_not_a_prior_conviction() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let ex = Extraction::default();
        let c = r.retrieve("公诉机关认为，被告人的行为已构成抢夺罪。", &ex, 5);
        assert_eq!(c[0].charge, "抢夺罪");
        assert_eq!(c[0].signals.mention, 1.0);
        let c = r.retrieve("被告人曾因抢夺罪被判处有期徒刑一年。", &ex, 5);
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert_eq!(grab.signals.mention, 0.0);
    }

    #[test]
    fn a_charge_the_defence_argues_for_is_not_named() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let ex = Extraction::default();
        let c = r.retrieve("对于上诉人所提其行为构成抢夺罪的上诉理由，经查，不能成立。", &ex, 5);
        let grab = c.iter().find(|c| c.charge == "抢夺罪");
        assert!(grab.is_none_or(|g| g.signals.mention == 0.0 && g.signals.anti == 0.0), "{c:?}");
        let c = r.retrieve("辩护人提出被告人的行为应认定为抢夺罪。", &ex, 5);
        let grab = c.iter().find(|c| c.charge == "抢夺罪");
        assert!(grab.is_none_or(|g| g.signals.mention == 0.0), "{c:?}");
        // The prosecution's own finding still counts.
        let c = r.retrieve("公诉机关认为，被告人的行为已构成抢夺罪。", &ex, 5);
        assert_eq!(c[0].signals.mention, 1.0);
        // Agreeing with the charge is not arguing for another one.
        let c = r.retrieve("被告人及其辩护人对公诉机关指控的抢夺罪无异议。", &ex, 5);
        assert_eq!(c[0].signals.mention, 1.0);
    }

    #[test]
    fn a_charge_named_beside_a_masked_one_is_not_the_masked_charge() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let c = r.retrieve(
            "公诉机关认为，被告人的行为已构成抢夺罪、××罪。",
            &Extraction::default(),
            5,
        );
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert_eq!(grab.signals.mention, 0.0);
        assert!(grab.signals.anti > 0.0);
    }

    #[test]
    fn a_masked_statute_reference_marks_the_text_as_masked() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        // CAIL masks the articles of the judgment too: the charge still named in full is not the judgment's.
        let c = r.retrieve(
            "被告人抢走被害人挎包。公诉机关认为，被告人的行为触犯了《中华人民共和国刑法》××之规定，应当以抢夺罪追究其刑事责任。",
            &Extraction::default(),
            5,
        );
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert_eq!(grab.signals.mention, 0.0);
        assert!(grab.signals.anti > 0.0);
        // An unmasked text names the charge as usual.
        let c = r.retrieve(
            "被告人抢走被害人挎包。公诉机关认为，被告人的行为触犯了《中华人民共和国刑法》第二百六十七条之规定，应当以抢夺罪追究其刑事责任。",
            &Extraction::default(),
            5,
        );
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert_eq!(grab.signals.mention, 1.0);
    }

    #[test]
    fn a_full_name_written_without_its_suffix_in_a_masked_text_is_not_the_masked_charge() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let masked = "被告人窃取手机一部。被告人曾因抢夺被判处有期徒刑一年。公诉机关认为，被告人的行为触犯了《中华人民共和国刑法》××之规定。";
        let c = r.retrieve(masked, &Extraction::default(), 5);
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert!(grab.signals.anti > 0.0, "{:?}", grab.reasons);
        assert!(grab.reasons.iter().any(|r| r.contains("openly")), "{:?}", grab.reasons);
        let plain = masked.replace("××", "第二百六十四条");
        let c = r.retrieve(&plain, &Extraction::default(), 5);
        assert!(c.iter().find(|c| c.charge == "抢夺罪").is_none_or(|g| g.signals.anti == 0.0));
    }

    #[test]
    fn a_narrower_name_left_standing_in_a_masked_text_is_neutral() {
        let mut kb = tiny_kb();
        let mut drugs = charge("走私、贩卖、运输、制造毒品罪", "347", &["贩卖[^。；]{0,6}毒品"], &[], None);
        drugs.aliases.push("贩卖毒品".into());
        kb.charges.push(drugs);
        let r = Retriever::new(&kb).unwrap();
        // The masking hides full names only: 贩卖毒品罪 is neither the masked charge's rival nor counted twice.
        let c = r.retrieve(
            "被告人多次向吸毒人员贩卖毒品，其行为构成贩卖毒品罪；其容留他人吸食毒品，其行为构成××罪。",
            &Extraction::default(),
            5,
        );
        let d = c.iter().find(|c| c.charge == "走私、贩卖、运输、制造毒品罪").unwrap();
        assert_eq!(d.signals.mention, 0.0);
        assert_eq!(d.signals.anti, 0.0, "{:?}", d.reasons);
    }

    #[test]
    fn elements_point_to_the_charges_written_on_them() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let mut ex = Extraction::default();
        ex.facts.set_number("bac_mg_per_100ml", 150.0);
        let c = r.retrieve(
            "被告人饮酒后驾驶机动车，经鉴定，其血液中乙醇含量为150mg/100ml。",
            &ex,
            5,
        );
        assert_eq!(c[0].charge, "危险驾驶罪");
        assert!(
            c[0].signals.cue == 0.0,
            "only the element and the article text point to it"
        );
        // Without any textual support the element alone suggests nothing.
        let c = r.retrieve("经鉴定，其血液中乙醇含量为150mg/100ml。", &ex, 5);
        assert!(c.iter().all(|c| c.signals.element == 0.0), "{c:?}");
        let c = r.retrieve(
            "被告人饮酒后驾驶机动车，经鉴定，其血液中乙醇含量为150mg/100ml。",
            &ex,
            5,
        );
        assert_eq!(c[0].charge, "危险驾驶罪");
        assert!(c[0].signals.element > 0.5, "{:?}", c[0].signals);
    }

    #[test]
    fn precedents_vote_through_aliases() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let p = vec![
            Precedent {
                score: 3.0,
                charges: vec!["抢夺".into()],
                id: "a".into(),
            },
            Precedent {
                score: 1.0,
                charges: vec!["盗窃".into()],
                id: "b".into(),
            },
        ];
        let c = r.retrieve_with(
            "被告人在街上将他人财物拿走。",
            &Extraction::default(),
            5,
            &p,
        );
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert!((grab.signals.precedent - 0.75).abs() < 1e-9);
    }

    #[test]
    fn an_index_of_judged_cases_votes_without_leaking_the_case_itself() {
        let r = Retriever::new(&tiny_kb()).unwrap();
        let idx = cases::CaseIndex::temporary().unwrap();
        let fact = "被告人在街上将他人挎包拿走后逃离。";
        let mk = |id: &str, fact: &str, ch: &str| cases::LabelledCase {
            id: id.into(),
            fact: fact.into(),
            charges: vec![ch.into()],
            ..Default::default()
        };
        idx.add(&[
            mk("self", fact, "盗窃"),
            mk("other", "被告人在街上将他人挎包夺走后逃离。", "抢夺"),
        ])
        .unwrap();
        let c = r
            .retrieve_with_index(fact, &Extraction::default(), 5, &idx, 5)
            .unwrap();
        let grab = c.iter().find(|c| c.charge == "抢夺罪").unwrap();
        assert!(
            (grab.signals.precedent - 1.0).abs() < 1e-9,
            "{:?}",
            grab.signals
        );
        assert!(c
            .iter()
            .all(|c| c.charge != "盗窃罪" || c.signals.precedent == 0.0));
    }

    #[test]
    fn selective_names_are_recognised_in_their_short_forms() {
        let v = selective_variants("走私、贩卖、运输、制造毒品");
        assert!(v.contains(&"贩卖毒品".to_string()), "{v:?}");
        assert!(v.contains(&"制造毒品".to_string()), "{v:?}");
        assert_eq!(
            norm_charge("[走私、贩卖、运输、制造]毒品"),
            "走私、贩卖、运输、制造毒品"
        );
        assert_eq!(norm_charge("盗窃罪"), "盗窃");
    }

    #[test]
    fn bad_patterns_are_reported_not_panicked() {
        let mut kb = tiny_kb();
        kb.charges[0].cues.push(Cue {
            pattern: "(".into(),
            weight: 1.0,
        });
        assert!(matches!(
            Retriever::new(&kb),
            Err(RetrieveError::BadPattern { .. })
        ));
    }

    #[test]
    fn empty_knowledge_base_and_empty_fact_give_no_candidates() {
        let r = Retriever::new(&KnowledgeBase::default()).unwrap();
        assert!(r
            .retrieve("被告人盗窃", &Extraction::default(), 5)
            .is_empty());
        let r = Retriever::new(&tiny_kb()).unwrap();
        assert!(r.retrieve("", &Extraction::default(), 5).is_empty());
    }
}
