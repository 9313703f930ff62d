//! The CAIL term score, as `../shared/tools/devcheck.py` computes it, and per-charge reports.
//!
//! Per case, v = |ln(y+1) − ln(ŷ+1)| in months; score 1 / 0.8 / 0.6 / 0.4 / 0.2 / 0 for v ≤ 0.2 / 0.4 /
//! 0.6 / 0.8 / 1.0 / above. Life (−1) and death (−2) must match exactly. Exempt and fine-only count as 0.

use crate::contract::{Term, TermKind};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Errors reading gold data.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A line is not a CAIL case.
    #[error("line {line}: {message}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// Parser message.
        message: String,
    },
}

/// The CAIL label of a term.
#[derive(Debug, Clone, Deserialize)]
pub struct CailTerm {
    /// Months of 有期徒刑 / 拘役.
    pub imprisonment: f64,
    /// 无期徒刑.
    pub life_imprisonment: bool,
    /// 死刑 (including 死缓).
    pub death_penalty: bool,
}

/// The CAIL labels used here.
#[derive(Debug, Clone, Deserialize)]
pub struct CailMeta {
    /// Charge names (CAIL notation, no 罪).
    pub accusation: Vec<String>,
    /// Term.
    pub term_of_imprisonment: CailTerm,
    /// Fine in yuan.
    #[serde(default)]
    pub punish_of_money: f64,
}

/// One CAIL case.
#[derive(Debug, Clone, Deserialize)]
pub struct CailCase {
    /// Fact description.
    pub fact: String,
    /// Labels.
    pub meta: CailMeta,
}

impl CailCase {
    /// Gold months in the scoring convention (life −1, death −2).
    pub fn gold_months(&self) -> f64 {
        let t = &self.meta.term_of_imprisonment;
        if t.death_penalty {
            -2.0
        } else if t.life_imprisonment {
            -1.0
        } else {
            t.imprisonment
        }
    }

    /// The charge key for per-charge reports: the CAIL names joined with `+`, sorted.
    pub fn charge_key(&self) -> String {
        let mut a = self.meta.accusation.clone();
        a.sort();
        a.join("+")
    }
}

/// Parses a CAIL JSONL text; empty lines are skipped.
pub fn parse_cail(text: &str) -> Result<Vec<CailCase>, EvalError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| EvalError::BadLine { line: i + 1, message: e.to_string() }))
        .collect()
}

/// Predicted months in the scoring convention; None when no term was produced.
pub fn predicted_months(term: Option<&Term>) -> Option<f64> {
    let t = term?;
    match t.kind {
        TermKind::Life => Some(-1.0),
        TermKind::Death => Some(-2.0),
        TermKind::Exempt | TermKind::FineOnly => Some(0.0),
        _ => t.months,
    }
}

/// |ln(y+1) − ln(ŷ+1)| for non-negative months; None for life / death or a missing prediction.
pub fn log_distance(gold: f64, pred: Option<f64>) -> Option<f64> {
    let p = pred?;
    (gold >= 0.0 && p >= 0.0).then(|| ((gold + 1.0).ln() - (p + 1.0).ln()).abs())
}

/// The CAIL score of one case.
pub fn score(gold: f64, pred: Option<f64>) -> f64 {
    if gold < 0.0 {
        return if pred == Some(gold) { 1.0 } else { 0.0 };
    }
    let Some(v) = log_distance(gold, pred) else { return 0.0 };
    for (lim, s) in [(0.2, 1.0), (0.4, 0.8), (0.6, 0.6), (0.8, 0.4), (1.0, 0.2)] {
        if v <= lim {
            return s;
        }
    }
    0.0
}

/// Accumulated scores of a group of cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Cases.
    pub n: usize,
    /// Sum of scores.
    pub score: f64,
    /// Sum of log distances over cases where one is defined.
    pub log_dist: f64,
    /// Cases with a defined log distance.
    pub n_dist: usize,
}

impl Tally {
    /// Adds one case.
    pub fn add(&mut self, gold: f64, pred: Option<f64>) {
        self.n += 1;
        self.score += score(gold, pred);
        if let Some(d) = log_distance(gold, pred) {
            self.log_dist += d;
            self.n_dist += 1;
        }
    }

    /// Mean score.
    pub fn mean_score(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.score / self.n as f64 }
    }

    /// Mean log distance.
    pub fn mean_log_dist(&self) -> f64 {
        if self.n_dist == 0 { 0.0 } else { self.log_dist / self.n_dist as f64 }
    }
}

/// Scores over a data set, overall and per charge key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermReport {
    /// All cases.
    pub total: Tally,
    /// Per charge key.
    pub by_charge: BTreeMap<String, Tally>,
}

impl TermReport {
    /// Adds one case.
    pub fn add(&mut self, charge_key: &str, gold: f64, pred: Option<f64>) {
        self.total.add(gold, pred);
        self.by_charge.entry(charge_key.to_string()).or_default().add(gold, pred);
    }

    /// A table of the `top` most frequent charge keys and the total.
    pub fn table(&self, top: usize) -> String {
        let mut rows: Vec<(&String, &Tally)> = self.by_charge.iter().collect();
        rows.sort_by(|a, b| b.1.n.cmp(&a.1.n).then(a.0.cmp(b.0)));
        let mut out = format!("{:<40} {:>6} {:>8} {:>10}\n", "charge", "n", "score", "mean |Δln|");
        for (k, t) in rows.into_iter().take(top) {
            out.push_str(&format!("{:<40} {:>6} {:>8.3} {:>10.3}\n", k, t.n, t.mean_score(), t.mean_log_dist()));
        }
        out.push_str(&format!("{:<40} {:>6} {:>8.3} {:>10.3}\n", "ALL", self.total.n, self.total.mean_score(), self.total.mean_log_dist()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_devcheck() {
        assert_eq!(score(12.0, Some(12.0)), 1.0);
        // ln(13) − ln(10) = 0.262 → 0.8.
        assert_eq!(score(12.0, Some(9.0)), 0.8);
        // ln(13) − ln(4) = 1.18 → 0.
        assert_eq!(score(12.0, Some(3.0)), 0.0);
        assert_eq!(score(0.0, Some(0.0)), 1.0);
        assert_eq!(score(12.0, None), 0.0);
        assert_eq!(score(-1.0, Some(-1.0)), 1.0);
        assert_eq!(score(-1.0, Some(180.0)), 0.0);
        assert_eq!(score(36.0, Some(-1.0)), 0.0);
    }

    #[test]
    fn predicted_months_of_kinds() {
        let t = |kind, months| Term { kind, months, range_months: None, probation_months: None };
        assert_eq!(predicted_months(Some(&t(TermKind::Life, None))), Some(-1.0));
        assert_eq!(predicted_months(Some(&t(TermKind::Death, None))), Some(-2.0));
        assert_eq!(predicted_months(Some(&t(TermKind::Exempt, None))), Some(0.0));
        assert_eq!(predicted_months(Some(&t(TermKind::CriminalDetention, Some(3.0)))), Some(3.0));
        assert_eq!(predicted_months(None), None);
    }

    #[test]
    fn parses_cail_lines_and_reports() {
        let text = r#"{"fact": "x", "meta": {"relevant_articles": [234], "accusation": ["故意伤害"], "punish_of_money": 0, "criminals": ["李"], "term_of_imprisonment": {"death_penalty": false, "imprisonment": 6, "life_imprisonment": false}}}

{"fact": "y", "meta": {"accusation": ["盗窃", "抢劫"], "term_of_imprisonment": {"death_penalty": true, "imprisonment": 0, "life_imprisonment": false}}}"#;
        let cases = parse_cail(text).expect("parse");
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].gold_months(), 6.0);
        assert_eq!(cases[1].gold_months(), -2.0);
        assert_eq!(cases[1].charge_key(), "抢劫+盗窃");
        let mut r = TermReport::default();
        r.add(&cases[0].charge_key(), 6.0, Some(6.0));
        r.add(&cases[1].charge_key(), -2.0, Some(-1.0));
        assert_eq!(r.total.mean_score(), 0.5);
        assert_eq!(r.total.n_dist, 1);
        assert!(r.table(15).contains("ALL"));
        assert!(matches!(parse_cail("{oops"), Err(EvalError::BadLine { line: 1, .. })));
    }
}
