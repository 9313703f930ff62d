//! Matching the cue and negate patterns the knowledge base declares for each element.
//!
//! A cue hit counts unless a negate pattern of the same element matches in the same clause or overlaps the hit
//! (a negate may reach across commas: `投案[^。]{0,30}不(能|应)认定[^。]{0,4}自首`), the sentence reports a claim
//! the court did not accept, or — for circumstances personal to the defendant — another party is its subject.
//! All patterns are compiled once; a `RegexSet` tells which ones can match before any is run for positions.

use super::numbers::parse_group;
use super::spans::Doc;
use super::ExtractError;
use crate::kb::model::{ElementKind, KnowledgeBase};
use regex::{Regex, RegexSet};

/// Circumstances that belong to the person who acted (刑法第65、67、68条: 累犯, 自首, 坦白, 立功 are personal):
/// a co-defendant's 自首 is not the defendant's.
pub const PERSONAL: &[&str] = &[
    "surrender",
    "confession",
    "guilty_plea",
    "recidivist",
    "drug_recidivist",
    "meritorious",
    "major_meritorious",
    "limited_capacity",
    "minor_defendant",
    "elderly_defendant",
    "accessory",
    "coerced_accessory",
    "principal",
];

fn numeral_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '.' | '零' | '〇' | '一' | '二' | '两' | '三' | '四' | '五' | '六' | '七' | '八' | '九' | '十' | '百' | '千' | '万' | '亿')
}

/// Moves a group start left over the numeral characters right before it.
fn extend_number_start(text: &str, mut start: usize) -> usize {
    if !text[start..].chars().next().is_some_and(numeral_char) {
        return start;
    }
    while let Some(c) = text[..start].chars().next_back() {
        if !numeral_char(c) {
            break;
        }
        start -= c.len_utf8();
    }
    start
}

/// One element's compiled patterns.
#[derive(Debug)]
pub struct CompiledElement {
    /// Element name.
    pub name: String,
    /// Its type.
    pub kind: ElementKind,
    /// Cue regexes, weights, and whether the cue has an `n` group.
    pub cues: Vec<(Regex, f64, bool)>,
    /// Negate regexes.
    pub negates: Vec<Regex>,
    /// Personal circumstance (attribution check applies).
    pub personal: bool,
}

/// A cue match that survived negation and scope checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CueHit {
    /// Index into [`CueSet::elements`].
    pub element: usize,
    /// Weight of the cue that matched.
    pub weight: f64,
    /// Byte range of the match in the normalised text.
    pub start: usize,
    /// End of the match.
    pub end: usize,
    /// Byte range and parsed value of the `n` group, if any.
    pub n: Option<(usize, usize, Option<f64>)>,
}

/// All cue patterns of a knowledge base.
#[derive(Debug)]
pub struct CueSet {
    /// Elements in name order.
    pub elements: Vec<CompiledElement>,
    set: Option<RegexSet>,
    index: Vec<(usize, usize)>,
}

fn compile(element: &str, pattern: &str) -> Result<Regex, ExtractError> {
    Regex::new(pattern).map_err(|e| ExtractError::BadPattern {
        element: element.to_string(),
        pattern: pattern.to_string(),
        message: e.to_string(),
    })
}

impl CueSet {
    /// Compiles every cue and negate of `kb`.
    pub fn new(kb: &KnowledgeBase) -> Result<CueSet, ExtractError> {
        let mut elements = Vec::new();
        let mut patterns = Vec::new();
        let mut index = Vec::new();
        for (name, el) in &kb.elements {
            let mut cues = Vec::new();
            for (ci, cue) in el.cues.iter().enumerate() {
                let re = compile(name, &cue.pattern)?;
                let has_n = re.capture_names().any(|n| n == Some("n"));
                cues.push((re, cue.weight, has_n));
                patterns.push(cue.pattern.clone());
                index.push((elements.len(), ci));
            }
            let negates = el.negates.iter().map(|p| compile(name, p)).collect::<Result<Vec<_>, _>>()?;
            elements.push(CompiledElement {
                name: name.clone(),
                kind: el.kind.clone(),
                cues,
                negates,
                personal: PERSONAL.contains(&name.as_str()),
            });
        }
        let set = if patterns.is_empty() {
            None
        } else {
            Some(RegexSet::new(&patterns).map_err(|e| ExtractError::BadPattern {
                element: "(cue set)".to_string(),
                pattern: String::new(),
                message: e.to_string(),
            })?)
        };
        Ok(CueSet { elements, set, index })
    }

    /// Index of an element by name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name == name)
    }

    /// Every surviving cue hit in `doc`, grouped by element (in element order, then text order).
    pub fn hits(&self, doc: &Doc) -> Vec<Vec<CueHit>> {
        let mut out: Vec<Vec<CueHit>> = vec![Vec::new(); self.elements.len()];
        let Some(set) = &self.set else { return out };
        let text = doc.norm.as_str();
        for pi in set.matches(text).into_iter() {
            let (ei, ci) = self.index[pi];
            let el = &self.elements[ei];
            let (re, weight, has_n) = &el.cues[ci];
            for caps in re.captures_iter(text) {
                let Some(m) = caps.get(0) else { continue };
                if m.start() == m.end() {
                    continue;
                }
                if !self.survives(doc, el, m.start(), m.end()) {
                    continue;
                }
                let n = if *has_n {
                    caps.name("n").map(|g| {
                        // A greedy gap before the group may have eaten the number's first digits: take them back.
                        let start = extend_number_start(text, g.start());
                        (start, g.end(), parse_group(&text[start..g.end()]))
                    })
                } else {
                    None
                };
                out[ei].push(CueHit { element: ei, weight: *weight, start: m.start(), end: m.end(), n });
            }
        }
        for hits in &mut out {
            hits.sort_by_key(|h| (h.start, h.end));
            hits.dedup_by(|a, b| a.start == b.start && a.end == b.end);
        }
        out
    }

    /// True when a match at `[start, end)` (bytes) of element `el` is neither negated nor out of scope.
    pub fn survives(&self, doc: &Doc, el: &CompiledElement, start: usize, end: usize) -> bool {
        let ch = doc.char_of(start);
        if doc.is_unaccepted(ch) {
            return false;
        }
        if el.personal && doc.is_other_party(ch) {
            return false;
        }
        if el.negates.is_empty() {
            return true;
        }
        let (cs, ce) = doc.clause_of(ch);
        let (cs_b, ce_b) = (doc.byte_of(cs), doc.byte_of(ce));
        // Negates are searched in the sentence and must overlap the hit or fall in its clause.
        let si = doc.sentence_of(ch);
        let (ss, se) = doc.sentences.get(si).copied().unwrap_or((cs, ce));
        let (ss_b, se_b) = (doc.byte_of(ss), doc.byte_of(se));
        let sentence = &doc.norm[ss_b..se_b];
        for neg in &el.negates {
            for m in neg.find_iter(sentence) {
                let (ns, ne) = (m.start() + ss_b, m.end() + ss_b);
                let overlaps = ns < end && start < ne;
                let in_clause = ns < ce_b && cs_b < ne;
                if overlaps || in_clause {
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::model::{Cue, Element, Loc};

    fn bool_el(name: &str, cues: &[&str], negates: &[&str]) -> Element {
        Element {
            name: name.to_string(),
            kind: ElementKind::Bool,
            label: name.to_string(),
            cues: cues.iter().map(|p| Cue { pattern: p.to_string(), weight: 1.0 }).collect(),
            negates: negates.iter().map(|p| p.to_string()).collect(),
            source: None,
            loc: Loc::default(),
        }
    }

    fn kb() -> KnowledgeBase {
        let mut kb = KnowledgeBase::default();
        for el in [
            bool_el("surrender", &["自首", "投案"], &["不(构成|成立|认定|能认定为?|应认定为?)[^，。；]{0,6}自首", "投案[^。]{0,30}不(能|应)?认定[^。]{0,4}自首"]),
            bool_el("forgiveness", &["谅解"], &["(未|没有|未能|不予?)[^，。；]{0,8}谅解"]),
        ] {
            kb.elements.insert(el.name.clone(), el);
        }
        kb
    }

    fn found(text: &str, name: &str) -> bool {
        let cs = CueSet::new(&kb()).unwrap();
        let doc = Doc::new(text);
        let i = cs.position(name).unwrap();
        !cs.hits(&doc)[i].is_empty()
    }

    #[test]
    fn plain_cue_matches() {
        assert!(found("被告人主动到公安机关投案，如实供述。", "surrender"));
        assert!(found("被告人取得了被害人的谅解。", "forgiveness"));
    }

    #[test]
    fn negation_in_clause_cancels() {
        assert!(!found("被告人不构成自首。", "surrender"));
        assert!(!found("被告人未取得被害人谅解。", "forgiveness"));
        assert!(!found("被告人虽到派出所投案，但未如实供述，不能认定为自首。", "surrender"));
    }

    #[test]
    fn rejected_claim_and_co_defendant() {
        assert!(!found("辩护人提出被告人有自首情节。经查，该意见与事实不符，本院不予采纳。", "surrender"));
        assert!(!found("同案人李某主动到公安机关投案。", "surrender"));
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let mut kb = KnowledgeBase::default();
        let el = bool_el("x", &["(unclosed"], &[]);
        kb.elements.insert("x".into(), el);
        assert!(matches!(CueSet::new(&kb), Err(ExtractError::BadPattern { .. })));
    }
}
