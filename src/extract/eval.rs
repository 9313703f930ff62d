//! Scoring extraction against hand-labelled gold files.
//!
//! - [`evaluate_gold`]: the element file of `../shared/data/elements/` (GUIDE.md keys): per key precision, recall
//!   and F1 of "the element is present" and the accuracy of its value, plus the headline numbers (circumstance
//!   micro-F1, amount exact within ±0.5 %, injury grade and deaths accuracy).
//! - [`span_f1_money`], [`span_f1_drug_weights`]: span F1 of money / value mentions on CAIL2021 信息抽取 (NCSM,
//!   NCGV) and of drug weights on CAIL2022 信息抽取 (NW), exact and overlapping.

use super::drugs::{drug_weights, official};
use super::numbers::find_money;
use super::spans::Doc;
use super::Extractor;
use crate::contract::ElementsOut;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Errors reading a gold file.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A line is not a JSON object with a `fact`.
    #[error("line {line}: {message}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Counts for one key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyScore {
    /// Present in both.
    pub tp: u32,
    /// Predicted, not in gold.
    pub fp: u32,
    /// In gold, not predicted.
    pub fn_: u32,
    /// Cases whose value matches (absent = absent counts).
    pub correct: u32,
    /// Cases scored.
    pub total: u32,
}

impl KeyScore {
    fn add(&mut self, gold: bool, pred: bool, value_ok: bool) {
        match (gold, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            _ => {}
        }
        self.total += 1;
        if value_ok {
            self.correct += 1;
        }
    }

    /// Precision (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Recall (1 when nothing was to be found).
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// F1 of presence.
    pub fn f1(&self) -> f64 {
        f1(self.tp, self.fp, self.fn_)
    }

    /// Value accuracy over all cases.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct, self.total)
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

fn f1(tp: u32, fp: u32, fn_: u32) -> f64 {
    if tp + fp + fn_ == 0 {
        return 1.0;
    }
    2.0 * f64::from(tp) / f64::from(2 * tp + fp + fn_)
}

/// One disagreement, for error analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Case id.
    pub id: String,
    /// Key.
    pub key: String,
    /// Gold value.
    pub gold: String,
    /// Predicted value.
    pub predicted: String,
}

/// The result of [`evaluate_gold`].
#[derive(Debug, Clone, Default)]
pub struct GoldReport {
    /// Per key, in GUIDE order.
    pub keys: Vec<(String, KeyScore)>,
    /// Cases scored.
    pub cases: u32,
    /// Amount within ±0.5 % (null = null counts) over all cases.
    pub amount_exact_all: f64,
    /// Amount within ±0.5 % over cases whose gold amount is not null.
    pub amount_exact_labelled: f64,
    /// Micro-F1 over the circumstance booleans.
    pub circumstance_micro_f1: f64,
    /// Injury grade accuracy.
    pub injury_accuracy: f64,
    /// Deaths accuracy.
    pub deaths_accuracy: f64,
    /// Every disagreement.
    pub mismatches: Vec<Mismatch>,
}

/// Boolean circumstance keys of GUIDE.md.
pub const CIRCUMSTANCES: &[&str] = &[
    "minor_victim",
    "surrender",
    "confession",
    "guilty_plea",
    "recidivist",
    "restitution",
    "forgiveness",
    "attempted",
    "accessory",
    "meritorious",
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.005 * a.abs().max(b.abs()) + 1e-9
}

fn opt_num_ok(g: Option<f64>, p: Option<f64>) -> bool {
    match (g, p) {
        (None, None) => true,
        (Some(a), Some(b)) => close(a, b),
        _ => false,
    }
}

fn show<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}")
}

fn gold_drugs(v: &Json) -> Vec<(String, Option<f64>)> {
    let mut out: Vec<(String, Option<f64>)> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    let t = d.get("type")?.as_str()?;
                    let kind = official(t).map_or_else(|| t.to_string(), str::to_string);
                    Some((kind, d.get("grams").and_then(Json::as_f64)))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Scores the extractor on gold lines (JSONL text in the GUIDE.md format).
pub fn evaluate_gold(ex: &Extractor, jsonl: &str) -> Result<GoldReport, EvalError> {
    let mut keys: BTreeMap<&str, KeyScore> = BTreeMap::new();
    let order = [
        "amount_yuan",
        "drugs",
        "bac_mg_per_100ml",
        "injury_max",
        "deaths",
        "minor_defendant",
        "minor_victim",
        "surrender",
        "confession",
        "guilty_plea",
        "recidivist",
        "restitution",
        "forgiveness",
        "attempted",
        "accessory",
        "meritorious",
    ];
    let mut rep = GoldReport::default();
    let (mut amount_ok_lab, mut amount_lab) = (0u32, 0u32);
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let g: Json =
            serde_json::from_str(line).map_err(|e| EvalError::BadLine { line: i + 1, message: e.to_string() })?;
        let fact = g
            .get("fact")
            .and_then(Json::as_str)
            .ok_or_else(|| EvalError::BadLine { line: i + 1, message: "no `fact` string".into() })?;
        let id = g.get("id").and_then(Json::as_str).unwrap_or("").to_string();
        let p: ElementsOut = ex.extract(fact, None).elements;
        rep.cases += 1;
        let mut record = |key: &str, gold_present: bool, pred_present: bool, ok: bool, gs: String, ps: String| {
            keys.entry(order.iter().copied().find(|k| *k == key).unwrap_or("?")).or_default().add(
                gold_present,
                pred_present,
                ok,
            );
            if !ok {
                rep.mismatches.push(Mismatch { id: id.clone(), key: key.to_string(), gold: gs, predicted: ps });
            }
        };
        let ga = g.get("amount_yuan").and_then(Json::as_f64);
        let ok = opt_num_ok(ga, p.amount_yuan);
        if ga.is_some() {
            amount_lab += 1;
            if ok {
                amount_ok_lab += 1;
            }
        }
        record("amount_yuan", ga.is_some(), p.amount_yuan.is_some(), ok, show(&ga), show(&p.amount_yuan));

        let gd = gold_drugs(g.get("drugs").unwrap_or(&Json::Null));
        let mut pd: Vec<(String, Option<f64>)> = p.drugs.iter().map(|d| (d.kind.clone(), d.grams)).collect();
        pd.sort_by(|a, b| a.0.cmp(&b.0));
        let drugs_ok = gd.len() == pd.len() && gd.iter().zip(&pd).all(|(a, b)| a.0 == b.0 && opt_num_ok(a.1, b.1));
        record("drugs", !gd.is_empty(), !pd.is_empty(), drugs_ok, show(&gd), show(&pd));

        let gb = g.get("bac_mg_per_100ml").and_then(Json::as_f64);
        record(
            "bac_mg_per_100ml",
            gb.is_some(),
            p.bac_mg_per_100ml.is_some(),
            opt_num_ok(gb, p.bac_mg_per_100ml),
            show(&gb),
            show(&p.bac_mg_per_100ml),
        );

        let gi = g.get("injury_max").and_then(Json::as_str).unwrap_or("none").to_string();
        record(
            "injury_max",
            gi != "none",
            p.injury_max != "none",
            gi == p.injury_max,
            gi.clone(),
            p.injury_max.clone(),
        );

        let gdth = g.get("deaths").and_then(Json::as_u64).unwrap_or(0) as u32;
        record("deaths", gdth > 0, p.deaths > 0, gdth == p.deaths, gdth.to_string(), p.deaths.to_string());

        let gm = g.get("minor_defendant").and_then(Json::as_bool);
        record(
            "minor_defendant",
            gm == Some(true),
            p.minor_defendant == Some(true),
            gm == p.minor_defendant,
            show(&gm),
            show(&p.minor_defendant),
        );

        let pv = serde_json::to_value(&p).unwrap_or(Json::Null);
        for key in CIRCUMSTANCES {
            let gv = g.get(*key).and_then(Json::as_bool).unwrap_or(false);
            let pvv = pv.get(*key).and_then(Json::as_bool).unwrap_or(false);
            record(key, gv, pvv, gv == pvv, gv.to_string(), pvv.to_string());
        }
    }
    let get = |k: &str| keys.get(k).cloned().unwrap_or_default();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for k in CIRCUMSTANCES {
        let s = get(k);
        tp += s.tp;
        fp += s.fp;
        fn_ += s.fn_;
    }
    rep.circumstance_micro_f1 = f1(tp, fp, fn_);
    rep.amount_exact_all = get("amount_yuan").accuracy();
    rep.amount_exact_labelled = ratio(amount_ok_lab, amount_lab);
    rep.injury_accuracy = get("injury_max").accuracy();
    rep.deaths_accuracy = get("deaths").accuracy();
    rep.keys = order.iter().map(|k| (k.to_string(), get(k))).collect();
    Ok(rep)
}

impl std::fmt::Display for GoldReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<18} {:>4} {:>4} {:>4} {:>7} {:>7} {:>7} {:>9}",
            "key", "tp", "fp", "fn", "P", "R", "F1", "value_acc"
        )?;
        for (k, s) in &self.keys {
            writeln!(
                f,
                "{:<18} {:>4} {:>4} {:>4} {:>7.3} {:>7.3} {:>7.3} {:>9.3}",
                k,
                s.tp,
                s.fp,
                s.fn_,
                s.precision(),
                s.recall(),
                s.f1(),
                s.accuracy()
            )?;
        }
        writeln!(f, "cases: {}", self.cases)?;
        writeln!(f, "circumstance booleans micro-F1: {:.3}", self.circumstance_micro_f1)?;
        writeln!(f, "amount exact (±0.5%), all cases: {:.3}", self.amount_exact_all)?;
        writeln!(f, "amount exact (±0.5%), labelled amounts: {:.3}", self.amount_exact_labelled)?;
        writeln!(f, "injury grade accuracy: {:.3}", self.injury_accuracy)?;
        write!(f, "deaths accuracy: {:.3}", self.deaths_accuracy)
    }
}

/// Span scores: exact boundaries and any overlap (each gold span matched at most once).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanScore {
    /// Sentences read.
    pub sentences: u32,
    /// Gold spans.
    pub gold: u32,
    /// Predicted spans.
    pub predicted: u32,
    /// Exact matches.
    pub exact: u32,
    /// Overlapping matches.
    pub overlap: u32,
}

impl SpanScore {
    fn add(&mut self, gold: &[(usize, usize)], pred: &[(usize, usize)]) {
        self.sentences += 1;
        self.gold += gold.len() as u32;
        self.predicted += pred.len() as u32;
        self.exact += pred.iter().filter(|p| gold.contains(p)).count() as u32;
        let mut used = vec![false; gold.len()];
        for p in pred {
            if let Some(j) = (0..gold.len()).find(|&j| !used[j] && gold[j].0 < p.1 && p.0 < gold[j].1) {
                used[j] = true;
                self.overlap += 1;
            }
        }
    }

    /// F1 with exact boundaries.
    pub fn exact_f1(&self) -> f64 {
        f1(self.exact, self.predicted - self.exact, self.gold - self.exact)
    }

    /// F1 counting overlapping spans as matches.
    pub fn overlap_f1(&self) -> f64 {
        f1(self.overlap, self.predicted - self.overlap, self.gold - self.overlap)
    }

    /// One line of results.
    pub fn summary(&self, name: &str) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "{name}: sentences {} gold {} predicted {} | exact P {:.3} R {:.3} F1 {:.3} | overlap P {:.3} R {:.3} F1 {:.3}",
            self.sentences,
            self.gold,
            self.predicted,
            ratio(self.exact, self.predicted),
            ratio(self.exact, self.gold),
            self.exact_f1(),
            ratio(self.overlap, self.predicted),
            ratio(self.overlap, self.gold),
            self.overlap_f1()
        );
        s
    }
}

fn parse_span(s: &str) -> Option<(usize, usize)> {
    let (a, b) = s.split_once(';')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Span F1 of crime-money mentions (the money the `amount_yuan` cues designate) against CAIL2021 NCSM and
/// NCGV spans (JSONL: `context`, `entities[{label, span: ["start;end"]}]`).
pub fn span_f1_money(ex: &Extractor, jsonl: &str) -> Result<SpanScore, EvalError> {
    let mut score = SpanScore::default();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let g: Json =
            serde_json::from_str(line).map_err(|e| EvalError::BadLine { line: i + 1, message: e.to_string() })?;
        let text = g.get("context").and_then(Json::as_str).unwrap_or("");
        let mut gold = Vec::new();
        for e in g.get("entities").and_then(Json::as_array).into_iter().flatten() {
            let label = e.get("label").and_then(Json::as_str).unwrap_or("");
            if label != "NCSM" && label != "NCGV" {
                continue;
            }
            for s in e.get("span").and_then(Json::as_array).into_iter().flatten() {
                if let Some(sp) = s.as_str().and_then(parse_span) {
                    gold.push(sp);
                }
            }
        }
        let pred: Vec<(usize, usize)> = ex.amount_mentions(text).iter().map(|s| (s.start, s.end)).collect();
        score.add(&gold, &pred);
    }
    Ok(score)
}

/// Span F1 of drug weights against CAIL2022 NW spans (JSONL: `sentText`, `entityMentions[{start, end, label}]`).
pub fn span_f1_drug_weights(jsonl: &str) -> Result<SpanScore, EvalError> {
    let mut score = SpanScore::default();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let g: Json =
            serde_json::from_str(line).map_err(|e| EvalError::BadLine { line: i + 1, message: e.to_string() })?;
        let text = g.get("sentText").and_then(Json::as_str).unwrap_or("");
        let gold: Vec<(usize, usize)> = g
            .get("entityMentions")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter(|e| e.get("label").and_then(Json::as_str) == Some("NW"))
            .filter_map(|e| Some((e.get("start")?.as_u64()? as usize, e.get("end")?.as_u64()? as usize)))
            .collect();
        let doc = Doc::new(text);
        let (weights, _) = drug_weights(&doc);
        let pred: Vec<(usize, usize)> =
            weights.iter().map(|w| (doc.char_of(w.mention.start), doc.char_of(w.mention.end))).collect();
        score.add(&gold, &pred);
    }
    Ok(score)
}

/// All money mentions of a text, as spans (used to check the money finder alone).
pub fn money_spans(text: &str) -> Vec<(usize, usize)> {
    let doc = Doc::new(text);
    find_money(&doc.norm).iter().map(|m| (doc.char_of(m.start), doc.char_of(m.end))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_scores() {
        let mut s = SpanScore::default();
        s.add(&[(0, 5), (10, 14)], &[(0, 5), (11, 14), (20, 22)]);
        assert_eq!((s.gold, s.predicted, s.exact, s.overlap), (2, 3, 1, 2));
        assert!((s.exact_f1() - 0.4).abs() < 1e-9);
        assert!((s.overlap_f1() - 0.8).abs() < 1e-9);
    }

    #[test]
    fn key_scores() {
        let mut k = KeyScore::default();
        k.add(true, true, true);
        k.add(false, true, false);
        k.add(true, false, false);
        k.add(false, false, true);
        assert_eq!((k.precision(), k.recall(), k.f1(), k.accuracy()), (0.5, 0.5, 0.5, 0.5));
    }

    #[test]
    fn bad_gold_line_is_an_error() {
        let ex = Extractor::new(&crate::kb::model::KnowledgeBase::default()).unwrap();
        assert!(matches!(evaluate_gold(&ex, "{not json"), Err(EvalError::BadLine { line: 1, .. })));
        assert!(matches!(evaluate_gold(&ex, "{\"id\":\"x\"}"), Err(EvalError::BadLine { .. })));
    }
}
