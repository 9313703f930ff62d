//! Evaluation of decisions against judged cases: charge exact accuracy, set-F1, macro-F1, article set-F1 and
//! the confusions most often made. Charges compare as `../shared/tools/devcheck.py` compares them
//! (brackets and trailing 罪 removed); articles on their integer part (`133-1` counts as 133, as CAIL does).

use crate::retrieve::norm_charge;
use std::collections::{BTreeMap, BTreeSet};

/// Integer part of an article number (`133-1` → 133), as CAIL labels articles.
pub fn article_int(a: &str) -> Option<u32> {
    let d: String = a.trim().chars().take_while(|c| c.is_ascii_digit()).collect();
    d.parse().ok()
}

/// Set-F1 of two label sets (0 when either is empty and they differ; 1 when both are empty).
pub fn set_f1<T: Ord>(gold: &BTreeSet<T>, pred: &BTreeSet<T>) -> f64 {
    if gold.is_empty() && pred.is_empty() {
        return 1.0;
    }
    let tp = gold.intersection(pred).count() as f64;
    if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (gold.len() + pred.len()) as f64
    }
}

/// Per-charge counts for macro-F1 and failure reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChargeCounts {
    /// Gold and predicted.
    pub tp: u32,
    /// Predicted, not gold.
    pub fp: u32,
    /// Gold, not predicted.
    pub fn_: u32,
}

impl ChargeCounts {
    /// F1 of this charge.
    pub fn f1(&self) -> f64 {
        let d = 2 * self.tp + self.fp + self.fn_;
        if d == 0 {
            0.0
        } else {
            2.0 * self.tp as f64 / d as f64
        }
    }
}

/// Accumulated evaluation of many cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Cases seen.
    pub n: usize,
    /// Cases whose charge set is exactly right.
    pub exact: usize,
    /// Sum of per-case charge set-F1.
    pub charge_f1_sum: f64,
    /// Sum of per-case article set-F1.
    pub article_f1_sum: f64,
    /// Per charge (normalised name).
    pub per_charge: BTreeMap<String, ChargeCounts>,
    /// (gold, predicted) → count, over gold charges missed with a wrong charge predicted in their place;
    /// a missing prediction is `∅`.
    pub confusions: BTreeMap<(String, String), u32>,
}

impl Metrics {
    /// Adds one case. `gold_*` and `pred_*` are charge names (any notation) and article numbers.
    pub fn add(&mut self, gold_charges: &[String], pred_charges: &[String], gold_articles: &[String], pred_articles: &[String]) {
        let g: BTreeSet<String> = gold_charges.iter().map(|c| norm_charge(c)).collect();
        let p: BTreeSet<String> = pred_charges.iter().map(|c| norm_charge(c)).collect();
        self.n += 1;
        if g == p {
            self.exact += 1;
        }
        self.charge_f1_sum += set_f1(&g, &p);
        let ga: BTreeSet<u32> = gold_articles.iter().filter_map(|a| article_int(a)).collect();
        let pa: BTreeSet<u32> = pred_articles.iter().filter_map(|a| article_int(a)).collect();
        self.article_f1_sum += set_f1(&ga, &pa);
        for c in g.union(&p) {
            let e = self.per_charge.entry(c.clone()).or_default();
            match (g.contains(c), p.contains(c)) {
                (true, true) => e.tp += 1,
                (true, false) => e.fn_ += 1,
                (false, true) => e.fp += 1,
                (false, false) => {}
            }
        }
        let wrong: Vec<&String> = p.difference(&g).collect();
        for m in g.difference(&p) {
            if wrong.is_empty() {
                *self.confusions.entry((m.clone(), "∅".into())).or_insert(0) += 1;
            }
            for w in &wrong {
                *self.confusions.entry((m.clone(), (*w).clone())).or_insert(0) += 1;
            }
        }
        if g.is_subset(&p) {
            for w in &wrong {
                *self.confusions.entry(("∅".into(), (*w).clone())).or_insert(0) += 1;
            }
        }
    }

    /// Charge exact accuracy.
    pub fn accuracy(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.exact as f64 / self.n as f64 }
    }

    /// Mean per-case charge set-F1.
    pub fn charge_f1(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.charge_f1_sum / self.n as f64 }
    }

    /// Mean per-case article set-F1.
    pub fn article_f1(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.article_f1_sum / self.n as f64 }
    }

    /// Macro-F1 over the charges that occur in the gold labels.
    pub fn macro_f1(&self) -> f64 {
        let v: Vec<f64> = self.per_charge.values().filter(|c| c.tp + c.fn_ > 0).map(ChargeCounts::f1).collect();
        if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
    }

    /// The `k` most frequent confusions, most frequent first.
    pub fn top_confusions(&self, k: usize) -> Vec<(&str, &str, u32)> {
        let mut v: Vec<(&str, &str, u32)> =
            self.confusions.iter().map(|((g, p), n)| (g.as_str(), p.as_str(), *n)).collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1)));
        v.truncate(k);
        v
    }

    /// A plain-text report.
    pub fn report(&self, confusions: usize) -> String {
        let mut s = format!(
            "cases {}\ncharge exact accuracy {:.4}\ncharge set-F1 {:.4}\ncharge macro-F1 {:.4}\narticle set-F1 {:.4}\n",
            self.n,
            self.accuracy(),
            self.charge_f1(),
            self.macro_f1(),
            self.article_f1()
        );
        s.push_str(&format!("top {confusions} confusions (gold → predicted, count):\n"));
        for (g, p, n) in self.top_confusions(confusions) {
            s.push_str(&format!("  {g} → {p}: {n}\n"));
        }
        let mut fails: Vec<(&String, &ChargeCounts)> =
            self.per_charge.iter().filter(|(_, c)| c.fn_ + c.fp > 0).collect();
        fails.sort_by(|a, b| (b.1.fn_ + b.1.fp).cmp(&(a.1.fn_ + a.1.fp)).then(a.0.cmp(b.0)));
        s.push_str("per-charge failures (charge: tp fp fn F1):\n");
        for (c, k) in fails.iter().take(40) {
            s.push_str(&format!("  {c}: {} {} {} {:.3}\n", k.tp, k.fp, k.fn_, k.f1()));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn compares_like_devcheck() {
        let mut m = Metrics::default();
        m.add(&v(&["[走私、贩卖、运输、制造]毒品"]), &v(&["走私、贩卖、运输、制造毒品罪"]), &v(&["347"]), &v(&["347"]));
        m.add(&v(&["危险驾驶"]), &v(&["危险驾驶罪"]), &v(&["133"]), &v(&["133-1"]));
        m.add(&v(&["抢劫", "盗窃"]), &v(&["抢劫罪"]), &v(&["263", "264"]), &v(&["263"]));
        m.add(&v(&["诈骗"]), &v(&["合同诈骗罪"]), &v(&["266"]), &v(&["224"]));
        assert_eq!(m.n, 4);
        assert_eq!(m.exact, 2);
        assert!((m.accuracy() - 0.5).abs() < 1e-9);
        assert!((m.charge_f1() - (1.0 + 1.0 + 2.0 / 3.0 + 0.0) / 4.0).abs() < 1e-9);
        assert!((m.article_f1() - (1.0 + 1.0 + 2.0 / 3.0 + 0.0) / 4.0).abs() < 1e-9);
        let top = m.top_confusions(5);
        assert!(top.contains(&("盗窃", "∅", 1)), "{top:?}");
        assert!(top.contains(&("诈骗", "合同诈骗", 1)), "{top:?}");
        assert_eq!(m.per_charge["诈骗"].fn_, 1);
        assert!(m.macro_f1() > 0.0 && m.macro_f1() < 1.0);
        assert!(m.report(20).contains("诈骗 → 合同诈骗: 1"));
    }

    #[test]
    fn set_f1_edge_cases() {
        let e: BTreeSet<u32> = BTreeSet::new();
        assert_eq!(set_f1(&e, &e), 1.0);
        assert_eq!(set_f1(&[1u32].into(), &e), 0.0);
        assert_eq!(article_int("133-1"), Some(133));
        assert_eq!(article_int("x"), None);
    }
}
