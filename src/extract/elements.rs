//! Assembly: cue hits, quantities, grades, dates and drugs become `Facts` (what conditions read), the contract's
//! `ElementsOut` (GUIDE.md keys) and evidence spans.
//!
//! Statutory relations between elements applied here, each with its source:
//! - 坦白 is 如实供述 without 自首 (刑法第67条第3款 “虽不具有前两款规定的自首情节”);
//! - a defendant under 18 at the offence is a minor (刑法第17条), 75 or older is elderly (刑法第17条之一);
//! - a victim under 18 is a minor (未成年人保护法第2条);
//! - the contract's `recidivist` includes 毒品再犯 (GUIDE.md), `injury_max` is 死亡 when someone died (GUIDE.md).

use super::cues::{CueHit, CueSet};
use super::dates::{find_ages, find_dates, offence_date, Role};
use super::drugs::find_drugs;
use super::injury::{count_deaths, count_people, most_severe, GradeHit, Grades};
use super::numbers::{aggregate, find_bac, find_money, AggItem, Mention};
use super::province::detect_province;
use super::recommendation::{find_recommendation, RECOMMENDED_MAX, RECOMMENDED_MIN};
use super::spans::Doc;
use super::{ExtractError, Extraction};
use crate::contract::{DrugOut, ElementsOut, Span};
use crate::kb::model::{Date, ElementKind, KnowledgeBase, Value};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Most evidence spans reported per element.
const MAX_EVIDENCE: usize = 5;

/// The compiled extractor behind [`super::Extractor`].
#[derive(Debug)]
pub struct Assembler {
    cues: CueSet,
    grades: Vec<Grades>,
}

fn total_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(共计|合计|总计|累计|总价值|总额|总金额|共|计|达)[^，。；0-9]{0,6}$").expect("static regex")
    })
}

fn grand_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^\s*(综上所述|综上|总之|经统计|据统计|以上共计|合计)").expect("static regex"))
}

fn breakdown_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"^[）)]?[，,。；;：:]?\s*(其中|具体(犯罪)?(事实)?(如下|是|为|分述如下)|分别|明细|包括)")
            .expect("static regex")
    })
}

fn restate_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(认为|综上|据此)").expect("static regex"))
}

fn each_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"各[^，。；0-9]{0,3}$").expect("static regex"))
}

fn enumeration_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"^([^，。；]{0,2}(及|和|、|以及|另|并|与)[^，。；]{0,24}|[^，。；]{0,12}，((现金|价值|及|和|以及|另有?)[^，。；]{0,10})?)$")
            .expect("static regex")
    })
}

impl Assembler {
    /// Compiles the knowledge base's patterns.
    pub fn new(kb: &KnowledgeBase) -> Result<Assembler, ExtractError> {
        let cues = CueSet::new(kb)?;
        let grades = cues
            .elements
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.kind, ElementKind::Grade(_)))
            .map(|(i, _)| Grades::new(&cues, i))
            .collect();
        Ok(Assembler { cues, grades })
    }

    /// Extracts every element of the knowledge base from `fact`.
    pub fn extract(&self, fact: &str, date: Option<Date>) -> Extraction {
        let doc = Doc::new(fact);
        let hits = self.cues.hits(&doc);
        let money = find_money(&doc.norm);
        let dates = find_dates(&doc.norm);
        let text_date = offence_date(&dates).cloned();
        let on = date.or(text_date.as_ref().map(|d| d.date));
        let ages = find_ages(&doc.norm, on);
        let mut ex = Extraction::default();
        let mut grade_hits: BTreeMap<String, Vec<GradeHit>> = BTreeMap::new();
        for g in &self.grades {
            grade_hits.insert(self.cues.elements[g.element].name.clone(), g.find(&doc, &self.cues));
        }
        let mut deaths = 0u32;

        for (i, el) in self.cues.elements.iter().enumerate() {
            let h = &hits[i];
            let name = el.name.as_str();
            match &el.kind {
                ElementKind::Bool => {
                    if !h.is_empty() {
                        ex.facts.set_bool(name, true);
                        add_evidence(&mut ex, &doc, name, h.iter().map(|x| (x.start, x.end)));
                    }
                }
                ElementKind::Money => {
                    if let Some((v, used)) = self.sum_money(&doc, h, &money) {
                        ex.facts.set_number(name, v);
                        if used.iter().any(|&u| money[u].approx) {
                            ex.warnings
                                .push(format!("{name}: an amount stated as “余 / 以上” is taken as its lower bound"));
                        }
                        add_evidence(&mut ex, &doc, name, used.iter().map(|&u| (money[u].start, money[u].end)));
                    }
                }
                ElementKind::Quantity(unit) => {
                    // Blood alcohol has its own number machinery (mg/100ml with the unit in the evidence).
                    let mut found: Vec<(f64, usize, usize)> = if *unit == crate::kb::model::Unit::MgPer100ml {
                        find_bac(&doc.norm).into_iter().map(|m| (m.value, m.start, m.end)).collect()
                    } else {
                        Vec::new()
                    };
                    if found.is_empty() {
                        found = h.iter().filter_map(|x| x.n.and_then(|(s, e, v)| v.map(|v| (v, s, e)))).collect();
                    }
                    if let Some(best) = found.iter().cloned().max_by(|a, b| a.0.total_cmp(&b.0)) {
                        ex.facts.set_number(name, best.0);
                        add_evidence(&mut ex, &doc, name, std::iter::once((best.1, best.2)));
                    }
                }
                ElementKind::Count => {
                    let v = if name == "deaths" {
                        deaths = count_deaths(&doc, h);
                        f64::from(deaths)
                    } else {
                        let mut v = count_value(h);
                        if let Some(gh) = grade_hits.get("injury_max") {
                            let fallback = match name {
                                "serious_injuries" => count_people(gh, 4, 5),
                                "light_injuries" => count_people(gh, 2, 3),
                                _ => 0,
                            };
                            v = v.max(f64::from(fallback));
                        }
                        v
                    };
                    if v > 0.0 {
                        ex.facts.set_number(name, v);
                        add_evidence(&mut ex, &doc, name, h.iter().map(|x| (x.start, x.end)));
                    }
                }
                ElementKind::Grade(levels) => {
                    let gh = grade_hits.get(name).map(Vec::as_slice).unwrap_or(&[]);
                    if let Some(best) = most_severe(gh) {
                        ex.facts.values.insert(name.to_string(), Value::Level(best.level.clone()));
                        add_evidence(&mut ex, &doc, name, std::iter::once((best.start, best.end)));
                    }
                    let _ = levels;
                }
                ElementKind::Date => {
                    if name == "offence_date" {
                        if let Some(d) = date {
                            ex.facts.values.insert(name.to_string(), Value::Date(d));
                        } else if let Some(d) = &text_date {
                            ex.facts.values.insert(name.to_string(), Value::Date(d.date));
                            add_evidence(&mut ex, &doc, name, std::iter::once((d.start, d.end)));
                        }
                    }
                }
                ElementKind::Age => {
                    let role = match name {
                        "defendant_age" => Some(Role::Defendant),
                        "victim_age" => Some(Role::Victim),
                        _ => None,
                    };
                    if let Some(role) = role {
                        if let Some(a) = ages.iter().filter(|a| a.role == role).min_by_key(|a| a.years) {
                            ex.facts.set_number(name, f64::from(a.years));
                            add_evidence(&mut ex, &doc, name, std::iter::once((a.start, a.end)));
                        }
                    }
                }
            }
        }

        // A death is the most severe harm: the injury grade follows the deaths count.
        if deaths > 0 {
            for g in &self.grades {
                let el = &self.cues.elements[g.element];
                if g.rank("死亡").is_some() {
                    ex.facts.values.insert(el.name.clone(), Value::Level("死亡".to_string()));
                    let death_spans = ex.evidence.get("deaths").cloned().unwrap_or_default();
                    ex.evidence.insert(el.name.clone(), death_spans);
                }
            }
        }
        self.apply_statutory_relations(&mut ex);

        let drugs = find_drugs(&doc);
        for d in &drugs {
            if let Some(g) = d.grams {
                ex.facts.drugs.push((d.kind.clone(), g));
            }
            if d.grams.is_none() {
                ex.warnings.push(format!("drug {}: weight not stated", d.kind));
            }
        }
        if !drugs.is_empty() {
            let spans: Vec<(usize, usize)> = drugs.iter().flat_map(|d| d.evidence.iter().copied()).collect();
            add_evidence(&mut ex, &doc, "drugs", spans.into_iter());
        }
        ex.facts.province = detect_province(&doc).map(str::to_string);
        if let Some(r) = find_recommendation(&doc) {
            ex.facts.set_number(RECOMMENDED_MAX, r.hi_months);
            if let Some(lo) = r.lo_months {
                ex.facts.set_number(RECOMMENDED_MIN, lo);
            }
            add_evidence(&mut ex, &doc, "recommended_term", std::iter::once((r.start, r.end)));
        }
        ex.elements = self.contract(&ex, &drugs);
        ex
    }

    /// Every money mention a cue of `amount_yuan` designates, before summing (for span evaluation).
    pub fn amount_mentions(&self, fact: &str) -> Vec<Span> {
        let Some(i) = self.cues.position("amount_yuan") else { return Vec::new() };
        let doc = Doc::new(fact);
        let hits = self.cues.hits(&doc);
        let money = find_money(&doc.norm);
        let mut idx: Vec<usize> = hits[i].iter().flat_map(|h| self.mentions_of(&doc, h, &money)).collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|j| doc.span_bytes(money[j].start, money[j].end)).collect()
    }

    fn apply_statutory_relations(&self, ex: &mut Extraction) {
        let f = &mut ex.facts;
        if f.flag("surrender") && f.flag("confession") {
            f.values.remove("confession");
            ex.evidence.remove("confession");
        }
        if let Some(age) = f.number("defendant_age") {
            if age < 18.0 && self.cues.position("minor_defendant").is_some() {
                f.set_bool("minor_defendant", true);
                if let Some(sp) = ex.evidence.get("defendant_age").cloned() {
                    ex.evidence.entry("minor_defendant".to_string()).or_default().extend(sp);
                }
            }
            if age >= 75.0 && self.cues.position("elderly_defendant").is_some() {
                f.set_bool("elderly_defendant", true);
            }
        }
        if let Some(age) = f.number("victim_age") {
            if age < 18.0 && self.cues.position("minor_victim").is_some() {
                f.set_bool("minor_victim", true);
                if let Some(sp) = ex.evidence.get("victim_age").cloned() {
                    ex.evidence.entry("minor_victim".to_string()).or_default().extend(sp);
                }
            }
        }
    }

    /// Money mentions selected by the hits of a money element, summed; the highest cue weight wins.
    fn sum_money(&self, doc: &Doc, hits: &[CueHit], money: &[Mention]) -> Option<(f64, Vec<usize>)> {
        let mut chosen: Vec<(f64, usize)> = Vec::new();
        for h in hits {
            for m in self.mentions_of(doc, h, money) {
                chosen.push((h.weight, m));
            }
        }
        let top = chosen.iter().map(|c| c.0).fold(f64::NEG_INFINITY, f64::max);
        let mut idx: Vec<usize> = chosen.iter().filter(|c| c.0 == top).map(|c| c.1).collect();
        idx.sort_unstable();
        idx.dedup();
        if idx.is_empty() {
            return None;
        }
        // The same value repeated where the prosecution or the court sums up (公诉机关认为…价值11281元) is a
        // restatement, not another count.
        let mut kept: Vec<usize> = Vec::new();
        for &i in &idx {
            let m = &money[i];
            let (ss, se) = doc.sentences.get(doc.sentence_of(doc.char_of(m.start))).copied().unwrap_or((0, doc.len()));
            let restated = kept.iter().any(|&k| (money[k].value - m.value).abs() < 0.005)
                && restate_re().is_match(doc.slice(ss, se));
            if !restated {
                kept.push(i);
            }
        }
        let idx = kept;
        let items: Vec<AggItem> = idx.iter().map(|&i| self.agg_item(doc, money, &idx, i)).collect();
        let (v, used) = aggregate(&items)?;
        Some(((v * 100.0).round() / 100.0, used.into_iter().map(|u| idx[u]).collect()))
    }

    /// The money mentions a hit designates: the one in its `n` group and those enumerated after it in the same
    /// clause (及 / 和 / 、); without an `n` group, those after the cue in its clause.
    fn mentions_of(&self, doc: &Doc, h: &CueHit, money: &[Mention]) -> Vec<usize> {
        let end_ch = doc.char_of(h.end.saturating_sub(1));
        let clause_end = doc.byte_of(doc.clause_of(end_ch).1);
        let sentence_end = doc.byte_of(doc.sentences.get(doc.sentence_of(end_ch)).map_or(doc.len(), |s| s.1));
        let mut out = Vec::new();
        match h.n {
            Some((ns, ne, _)) => {
                let Some(first) = money.iter().position(|m| m.start < ne && ns < m.end) else { return out };
                out.push(first);
                let mut prev = first;
                for (j, m) in money.iter().enumerate().skip(first + 1) {
                    if m.start >= sentence_end {
                        break;
                    }
                    let between = &doc.norm[money[prev].end..m.start];
                    if enumeration_re().is_match(between) {
                        out.push(j);
                        prev = j;
                    } else {
                        break;
                    }
                }
            }
            None => {
                for (j, m) in money.iter().enumerate() {
                    if m.start >= h.start && m.start < clause_end {
                        out.push(j);
                    }
                }
            }
        }
        out
    }

    fn agg_item(&self, doc: &Doc, money: &[Mention], chosen: &[usize], i: usize) -> AggItem {
        let m = &money[i];
        let ch = doc.char_of(m.start);
        let (cs, _) = doc.clause_of(ch);
        let before = &doc.norm[doc.byte_of(cs)..m.start];
        let total = total_re().is_match(before);
        let si = doc.sentence_of(ch);
        let (ss, se) = doc.sentences.get(si).copied().unwrap_or((0, doc.len()));
        let sentence_start = &doc.norm[doc.byte_of(ss)..m.start];
        let grand = total && grand_re().is_match(sentence_start);
        let after_end = doc.byte_of((doc.char_of(m.end) + 16).min(doc.len()));
        let breakdown = total && breakdown_re().is_match(&doc.norm[m.end..after_end.max(m.end)]);
        let se_b = doc.byte_of(se);
        let each_with_total = each_re().is_match(before)
            && chosen.iter().any(|&j| {
                let o = &money[j];
                o.start > m.start && o.start < se_b && {
                    let (ocs, _) = doc.clause_of(doc.char_of(o.start));
                    total_re().is_match(&doc.norm[doc.byte_of(ocs)..o.start])
                }
            });
        AggItem { value: m.value, total, grand, breakdown, each_with_total, sentence: si, summarises: true }
    }

    fn contract(&self, ex: &Extraction, drugs: &[super::drugs::DrugFinding]) -> ElementsOut {
        let f = &ex.facts;
        let mut out = ElementsOut {
            amount_yuan: f.number("amount_yuan"),
            drugs: drugs.iter().map(|d| DrugOut { kind: d.kind.clone(), grams: d.grams }).collect(),
            bac_mg_per_100ml: f.number("bac_mg_per_100ml"),
            injury_max: match f.values.get("injury_max") {
                Some(Value::Level(l)) => l.clone(),
                _ => "none".to_string(),
            },
            deaths: f.number("deaths").map_or(0, |d| d as u32),
            minor_defendant: if f.flag("minor_defendant") {
                Some(true)
            } else if f.number("defendant_age").is_some() {
                Some(false)
            } else {
                None
            },
            minor_victim: f.flag("minor_victim"),
            surrender: f.flag("surrender"),
            confession: f.flag("confession"),
            guilty_plea: f.flag("guilty_plea"),
            recidivist: f.flag("recidivist") || f.flag("drug_recidivist"),
            restitution: f.flag("restitution"),
            forgiveness: f.flag("forgiveness"),
            attempted: f.flag("attempted"),
            accessory: f.flag("accessory") || f.flag("coerced_accessory"),
            meritorious: f.flag("meritorious") || f.flag("major_meritorious"),
            extra: BTreeMap::new(),
        };
        const FIXED: &[&str] = &[
            "amount_yuan",
            "bac_mg_per_100ml",
            "injury_max",
            "deaths",
            "minor_defendant",
            "minor_victim",
            "surrender",
            "confession",
            "guilty_plea",
            "restitution",
            "forgiveness",
            "attempted",
            "accessory",
            "meritorious",
        ];
        for (k, v) in &f.values {
            if FIXED.contains(&k.as_str()) {
                continue;
            }
            let j = match v {
                Value::Bool(true) => serde_json::Value::Bool(true),
                Value::Bool(false) => continue,
                Value::Number(n) => {
                    serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, serde_json::Value::Number)
                }
                Value::Level(l) => serde_json::Value::String(l.clone()),
                Value::Date(d) => serde_json::Value::String(d.to_string()),
            };
            out.extra.insert(k.clone(), j);
        }
        out
    }
}

/// Largest number a count element's hits state; a hit without a number implies its weight.
fn count_value(hits: &[CueHit]) -> f64 {
    hits.iter()
        .map(|h| match h.n {
            Some((_, _, Some(v))) => v,
            Some((_, _, None)) => 0.0,
            None => h.weight,
        })
        .fold(0.0, f64::max)
}

fn add_evidence(ex: &mut Extraction, doc: &Doc, name: &str, ranges: impl Iterator<Item = (usize, usize)>) {
    let entry = ex.evidence.entry(name.to_string()).or_default();
    for (s, e) in ranges {
        if entry.len() >= MAX_EVIDENCE {
            break;
        }
        let sp: Span = doc.span_bytes(s, e);
        if !entry.iter().any(|x| x.start == sp.start && x.end == sp.end) {
            entry.push(sp);
        }
    }
    if entry.is_empty() {
        ex.evidence.remove(name);
    }
}
