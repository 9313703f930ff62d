//! Evaluation of conditions over a case's facts.
//!
//! `Facts` is the plain data the legal stages exchange: element values in base units, drugs by official
//! name, and the province. Conditions never fail: a missing element is false / absent, so an unknown fact
//! never selects a heavier band.

use super::model::{CmpOp, Cond, Date, ElementKind, KnowledgeBase, Operand, ResolvedThreshold, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Element values of one case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Element name → value (base units).
    pub values: BTreeMap<String, Value>,
    /// Drugs: (official name, grams).
    pub drugs: Vec<(String, f64)>,
    /// Province short name (北京, 广东 …), if known.
    pub province: Option<String>,
}

/// A threshold consulted while evaluating, with how its value was obtained (for trace and warnings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdUse {
    /// Threshold name.
    pub name: String,
    /// Resolution.
    pub resolved: ResolvedThreshold,
}

impl Facts {
    /// Sets a boolean element.
    pub fn set_bool(&mut self, name: &str, v: bool) {
        self.values.insert(name.to_string(), Value::Bool(v));
    }

    /// Sets a numeric element (base units).
    pub fn set_number(&mut self, name: &str, v: f64) {
        self.values.insert(name.to_string(), Value::Number(v));
    }

    /// True when a boolean element is set and true.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(Value::Bool(true)))
    }

    /// A numeric element's value, if set.
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.values.get(name) {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        }
    }

    /// Total grams of the listed drug types.
    pub fn drug_grams(&self, types: &[String]) -> f64 {
        self.drugs.iter().filter(|(t, _)| types.iter().any(|x| x == t)).map(|(_, g)| *g).sum()
    }

    /// Evaluates a condition; thresholds consulted are appended to `used`.
    pub fn eval(&self, cond: &Cond, kb: &KnowledgeBase, used: &mut Vec<ThresholdUse>) -> bool {
        match cond {
            Cond::Flag(n) => self.flag(n),
            Cond::And(cs) => cs.iter().all(|c| self.eval(c, kb, used)),
            Cond::Or(cs) => {
                // Evaluate all branches so every consulted threshold is reported.
                let mut any = false;
                for c in cs {
                    any |= self.eval(c, kb, used);
                }
                any
            }
            Cond::Not(c) => !self.eval(c, kb, used),
            Cond::Cmp(a, op, b) => {
                // Grade comparisons go by rank of the element's levels.
                if let Some((ra, rb)) = self.grade_ranks(a, b, kb) {
                    return compare(ra as f64, *op, rb as f64);
                }
                match (self.operand(a, kb, used), self.operand(b, kb, used)) {
                    (Some(x), Some(y)) => compare(x, *op, y),
                    _ => false,
                }
            }
        }
    }

    fn operand(&self, o: &Operand, kb: &KnowledgeBase, used: &mut Vec<ThresholdUse>) -> Option<f64> {
        match o {
            Operand::Element(n) => match self.values.get(n) {
                Some(Value::Date(d)) => Some(day_number(*d)),
                _ => self.number(n),
            },
            Operand::Threshold(n) => {
                let t = kb.thresholds.get(n)?;
                let r = t.resolve(self.province.as_deref());
                let v = r.value;
                if !used.iter().any(|u| &u.name == n) {
                    used.push(ThresholdUse { name: n.clone(), resolved: r });
                }
                Some(v)
            }
            Operand::Quantity(q) => Some(q.value),
            Operand::Number(x) => Some(*x),
            Operand::Level(_) => None,
            Operand::Drug(ts) => Some(self.drug_grams(ts)),
            Operand::Date(d) => Some(day_number(*d)),
        }
    }

    fn grade_ranks(&self, a: &Operand, b: &Operand, kb: &KnowledgeBase) -> Option<(i32, i32)> {
        let rank_of = |elem: &str, level: &str| -> Option<i32> {
            match &kb.elements.get(elem)?.kind {
                ElementKind::Grade(levels) => levels.iter().find(|(n, _)| n == level).map(|(_, r)| *r),
                _ => None,
            }
        };
        let current = |elem: &str| -> Option<i32> {
            match self.values.get(elem) {
                Some(Value::Level(l)) => rank_of(elem, l),
                // An unset grade is the lowest rank: nothing was established.
                _ => Some(i32::MIN / 2),
            }
        };
        match (a, b) {
            (Operand::Element(e), Operand::Level(l)) => Some((current(e)?, rank_of(e, l)?)),
            (Operand::Level(l), Operand::Element(e)) => Some((rank_of(e, l)?, current(e)?)),
            _ => None,
        }
    }
}

fn compare(x: f64, op: CmpOp, y: f64) -> bool {
    match op {
        CmpOp::Ge => x >= y,
        CmpOp::Gt => x > y,
        CmpOp::Le => x <= y,
        CmpOp::Lt => x < y,
        CmpOp::Eq => (x - y).abs() < 1e-9,
        CmpOp::Ne => (x - y).abs() >= 1e-9,
    }
}

/// A date as a number that orders like the calendar (not a day count: only comparisons use it).
fn day_number(d: Date) -> f64 {
    f64::from(d.year) * 10_000.0 + f64::from(d.month) * 100.0 + f64::from(d.day)
}
