//! Injury grades and deaths.
//!
//! The grade names are the levels of the knowledge base's grade element (`injury_max`: the names of 人体损伤程度
//! 鉴定标准), matched longest first; its negate patterns cancel a grade (未达到轻伤). Deaths are the cue hits of
//! the `deaths` element: an explicit number (致二人死亡) wins, otherwise the distinct victims named right before
//! the death wording are counted.

use super::cues::{CompiledElement, CueHit, CueSet};
use super::spans::Doc;
use crate::kb::model::ElementKind;
use regex::Regex;
use std::sync::OnceLock;

/// Anonymised or plain personal names as judgments write them: 张某, 李3某, 张某12, 肖2某x, 崔×, 吴某乙.
pub fn name_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"\p{Han}[0-9]?[某×xX*][某甲乙丙丁0-9xX×*]{0,3}").expect("static regex"))
}

/// The grade patterns of a grade element: level names longest first, compiled once.
#[derive(Debug)]
pub struct Grades {
    /// Element index in the cue set.
    pub element: usize,
    re: Option<Regex>,
    levels: Vec<(String, i32)>,
}

/// A grade found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeHit {
    /// Level name.
    pub level: String,
    /// Rank of the level.
    pub rank: i32,
    /// Byte range.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// The people named right before it: every name of its clause, else the last name of its sentence.
    pub persons: Vec<String>,
}

/// Level names that are not injuries a text states as a grade.
const NOT_A_GRADE: &[&str] = &["none", "死亡"];

impl Grades {
    /// Prepares the grade matcher of element `element` (must be a grade element).
    pub fn new(cues: &CueSet, element: usize) -> Grades {
        let levels = match &cues.elements[element].kind {
            ElementKind::Grade(l) => l.clone(),
            _ => Vec::new(),
        };
        let mut names: Vec<&str> =
            levels.iter().map(|(n, _)| n.as_str()).filter(|n| !NOT_A_GRADE.contains(n)).collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        let re = (!names.is_empty()).then(|| {
            let alt: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
            Regex::new(&format!("(?:{})", alt.join("|"))).expect("escaped literals")
        });
        Grades { element, re, levels }
    }

    /// Rank of a level name.
    pub fn rank(&self, level: &str) -> Option<i32> {
        self.levels.iter().find(|(n, _)| n == level).map(|(_, r)| *r)
    }

    /// Grades stated in the text, after negation and scope checks.
    pub fn find(&self, doc: &Doc, cues: &CueSet) -> Vec<GradeHit> {
        let Some(re) = &self.re else { return Vec::new() };
        let el: &CompiledElement = &cues.elements[self.element];
        let text = doc.norm.as_str();
        let mut out = Vec::new();
        for m in re.find_iter(text) {
            let after = &text[m.end()..];
            // 重伤害 / 轻伤害 name offences or statutory wording, not a grade; 致人重伤的 quotes the statute.
            if after.starts_with('害') || after.starts_with("的，") || after.starts_with("的,") {
                continue;
            }
            if !cues.survives(doc, el, m.start(), m.end()) {
                continue;
            }
            let Some(rank) = self.rank(m.as_str()) else { continue };
            out.push(GradeHit {
                level: m.as_str().to_string(),
                rank,
                start: m.start(),
                end: m.end(),
                persons: people_before(doc, m.start()),
            });
        }
        out
    }
}

/// Names enumerated before byte `at` in its clause (靳某、马某的伤情为重伤), else the last name before it in
/// its sentence.
pub fn people_before(doc: &Doc, at: usize) -> Vec<String> {
    let (cs, _) = doc.clause_of(doc.char_of(at));
    let cb = doc.byte_of(cs).min(at);
    let mut out: Vec<String> = Vec::new();
    for m in name_re().find_iter(&doc.norm[cb..at]) {
        if !out.iter().any(|x| x == m.as_str()) {
            out.push(m.as_str().to_string());
        }
    }
    if out.is_empty() {
        out.extend(person_before(doc, at));
    }
    out
}

/// The last name mentioned before byte `at` within its sentence.
pub fn person_before(doc: &Doc, at: usize) -> Option<String> {
    let ch = doc.char_of(at);
    let (s, _) = doc.sentences.get(doc.sentence_of(ch)).copied()?;
    let sb = doc.byte_of(s);
    name_re().find_iter(&doc.norm[sb..at]).last().map(|m| m.as_str().to_string())
}

fn defendant_name_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(被告人|上诉人|原审被告人|犯罪嫌疑人)(\p{Han}[0-9]?[某×xX*][某甲乙丙丁0-9xX×*]{0,3})")
            .expect("static regex")
    })
}

/// Names written right after 被告人 / 上诉人: the people who acted, not victims.
pub fn defendant_names(doc: &Doc) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in defendant_name_re().captures_iter(&doc.norm) {
        if let Some(m) = c.get(2) {
            if !out.iter().any(|x| x == m.as_str()) {
                out.push(m.as_str().to_string());
            }
        }
    }
    out
}

/// The most severe grade: highest rank; among equal ranks the more specific (longer) name.
pub fn most_severe(hits: &[GradeHit]) -> Option<&GradeHit> {
    hits.iter().max_by(|a, b| a.rank.cmp(&b.rank).then(a.level.chars().count().cmp(&b.level.chars().count())))
}

/// Number of people killed, from the hits of the `deaths` element.
pub fn count_deaths(doc: &Doc, hits: &[CueHit]) -> u32 {
    if hits.is_empty() {
        return 0;
    }
    let explicit = hits.iter().filter_map(|h| h.n.and_then(|(_, _, v)| v)).fold(0.0f64, f64::max);
    if explicit >= 1.0 {
        return explicit.min(10_000.0) as u32;
    }
    let defendants = defendant_names(doc);
    let mut people: Vec<String> = Vec::new();
    for h in hits {
        if let Some(p) = person_before(doc, h.start).filter(|p| !defendants.contains(p)) {
            // 死亡 of a person written 张某12 and 张某1 are different people; 张某 and 张某某 too.
            if !people.contains(&p) {
                people.push(p);
            }
        }
    }
    people.len().max(1) as u32
}

/// Number of distinct people whose grade rank lies in `[lo, hi]`.
pub fn count_people(hits: &[GradeHit], lo: i32, hi: i32) -> u32 {
    let mut people: Vec<&str> = Vec::new();
    let mut anonymous = false;
    for h in hits.iter().filter(|h| h.rank >= lo && h.rank <= hi) {
        if h.persons.is_empty() {
            anonymous = true;
        }
        for p in &h.persons {
            if !people.contains(&p.as_str()) {
                people.push(p);
            }
        }
    }
    (people.len() as u32).max(u32::from(anonymous))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::model::{Cue, Element, KnowledgeBase, Loc};

    fn kb() -> KnowledgeBase {
        let mut kb = KnowledgeBase::default();
        let levels = [
            ("none", 0),
            ("轻微伤", 1),
            ("轻伤", 2),
            ("轻伤二级", 2),
            ("轻伤一级", 3),
            ("重伤", 4),
            ("重伤二级", 4),
            ("重伤一级", 5),
            ("死亡", 6),
        ];
        kb.elements.insert(
            "injury_max".into(),
            Element {
                name: "injury_max".into(),
                kind: ElementKind::Grade(levels.iter().map(|(n, r)| (n.to_string(), *r)).collect()),
                label: "最重伤情".into(),
                cues: vec![],
                negates: vec!["(未|不|尚未)(达到|构成|够)?(轻伤|重伤|轻微伤)".into()],
                personal: false,
                source: None,
                loc: Loc::default(),
            },
        );
        kb.elements.insert(
            "deaths".into(),
            Element {
                name: "deaths".into(),
                kind: ElementKind::Count,
                label: "死亡人数".into(),
                cues: vec![
                    Cue { pattern: "致(?P<n>[一二两三四五六七八九十0-9]+)人死亡".into(), weight: 1.0 },
                    Cue { pattern: "死亡".into(), weight: 1.0 },
                ],
                negates: vec!["死亡(赔偿金|医学证明|证明)".into()],
                personal: false,
                source: None,
                loc: Loc::default(),
            },
        );
        kb
    }

    fn run(text: &str) -> (Option<String>, u32) {
        let kb = kb();
        let cues = CueSet::new(&kb).unwrap();
        let doc = Doc::new(text);
        let g = Grades::new(&cues, cues.position("injury_max").unwrap());
        let hits = g.find(&doc, &cues);
        let all = cues.hits(&doc);
        let deaths = count_deaths(&doc, &all[cues.position("deaths").unwrap()]);
        (most_severe(&hits).map(|h| h.level.clone()), deaths)
    }

    #[test]
    fn grades_pick_most_severe_and_specific() {
        assert_eq!(
            run("经鉴定，被害人高某1的损伤程度评定为轻伤一级，高某3为轻伤二级，洪某轻微伤。").0.as_deref(),
            Some("轻伤一级")
        );
        assert_eq!(run("经鉴定，伤情为轻伤。").0.as_deref(), Some("轻伤"));
        assert_eq!(run("被害人损伤程度为轻伤二级，属轻伤。").0.as_deref(), Some("轻伤二级"));
    }

    #[test]
    fn negated_and_statutory_grades_are_ignored() {
        assert_eq!(run("经鉴定，被害人的损伤未达到轻伤。").0, None);
        assert_eq!(run("被告人以特别残忍手段致人重伤的，处十年以上。").0, None);
        assert_eq!(run("以故意伤害罪（重伤害）追究").0, None);
    }

    #[test]
    fn deaths_counted_by_number_or_victims() {
        assert_eq!(run("致车辆损坏，庞某某当场死亡，乘客张某某送医院抢救无效死亡；").1, 2);
        assert_eq!(run("发生交通事故，致二人死亡、二人重伤。").1, 2);
        assert_eq!(run("致赵某当场死亡。经鉴定赵某符合交通事故致死亡。").1, 1);
        assert_eq!(run("出具了死亡医学证明。").1, 0);
    }
}
