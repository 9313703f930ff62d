//! 数罪并罚 (Art. 69): combining the sentences of several charges into the executed term.

use super::guideline::Penal;
use crate::contract::{TermKind, TraceStep};

/// Share of the other terms added to the heaviest one (限制加重原则: "在总和刑期以下、数刑中最高刑期
/// 以上，酌情决定执行的刑期"). Calibrated: docs/CALIBRATION.md#combine.
pub const DEFAULT_PORTION: f64 = 0.9;

/// The terms Art. 69 combines, their kind, that kind's cap (a function of the sum) and whether 拘役 terms were
/// absorbed: 第2款 — 有期徒刑 absorbs 拘役; 管制 is executed after 有期徒刑 / 拘役 and does not add custody. `None`
/// when no term is in months (only 免予刑事处罚 / 单处罚金; death and life are absorbed before this).
fn combined_terms(terms: &[Penal]) -> Option<(TermKind, Vec<f64>, fn(f64) -> f64, bool)> {
    let of_kind = |k: TermKind| -> Vec<f64> {
        terms.iter().filter_map(|t| match t {
            Penal::Months { kind, months } if *kind == k => Some(*months),
            _ => None,
        }).collect()
    };
    let fixed = of_kind(TermKind::FixedTerm);
    let det = of_kind(TermKind::CriminalDetention);
    let sur = of_kind(TermKind::PublicSurveillance);
    if !fixed.is_empty() {
        Some((TermKind::FixedTerm, fixed, |s| if s < 420.0 { 240.0 } else { 300.0 }, !det.is_empty()))
    } else if !det.is_empty() {
        Some((TermKind::CriminalDetention, det, |_| 12.0, false))
    } else if !sur.is_empty() {
        Some((TermKind::PublicSurveillance, sur, |_| 36.0, false))
    } else {
        None
    }
}

/// The range Art. 69 leaves for the executed term of several terms in months: from the heaviest term to the
/// sum, capped. `None` when the combined penalty is not a term in months.
pub fn legal_range(terms: &[Penal]) -> Option<(f64, f64)> {
    if terms.contains(&Penal::Death) || terms.contains(&Penal::Life) {
        return None;
    }
    let (_, ms, cap_of, _) = combined_terms(terms)?;
    let max = ms.iter().copied().fold(0.0, f64::max);
    let sum: f64 = ms.iter().sum();
    Some((max, sum.min(cap_of(sum)).max(max)))
}

/// Combines per-charge penalties per Art. 69; `portion` places the result between the heaviest term
/// and the statutory cap.
pub fn combine(terms: &[Penal], portion: f64) -> (Penal, Vec<TraceStep>) {
    let mut trace = Vec::new();
    let cite = "刑法第69条";
    if terms.contains(&Penal::Death) {
        trace.push(TraceStep::new("sentence", "数罪中有判处死刑的，只执行死刑（吸收原则）").cite(cite));
        return (Penal::Death, trace);
    }
    if terms.contains(&Penal::Life) {
        trace.push(TraceStep::new("sentence", "数罪中有判处无期徒刑的，只执行无期徒刑（吸收原则）").cite(cite));
        return (Penal::Life, trace);
    }
    let Some((kind, ms, cap_of, absorbed)) = combined_terms(terms) else {
        let p = if terms.contains(&Penal::FineOnly) { Penal::FineOnly } else { Penal::Exempt };
        return (p, trace);
    };
    if absorbed {
        trace.push(TraceStep::new("sentence", "数罪中有判处有期徒刑和拘役的，执行有期徒刑").cite("刑法第69条第2款"));
    }
    let max = ms.iter().copied().fold(0.0, f64::max);
    let sum: f64 = ms.iter().sum();
    let cap = cap_of(sum);
    let hi = sum.min(cap);
    // min/max rather than clamp: no panic even on a degenerate (NaN) bound.
    let months = if ms.len() == 1 { max } else { (max + portion * (hi - max)).round().min(hi).max(max) };
    if ms.len() > 1 {
        trace.push(
            TraceStep::new(
                "sentence",
                format!("数罪并罚：总和刑期 {sum} 个月，最高刑 {max} 个月，上限 {cap} 个月；在最高刑以上、总和刑期以下取 {:.0}% 位置（docs/CALIBRATION.md#combine）= {months} 个月", portion * 100.0),
            )
            .cite(cite)
            .value(months),
        );
    }
    (Penal::Months { kind, months }, trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(m: f64) -> Penal {
        Penal::Months { kind: TermKind::FixedTerm, months: m }
    }

    #[test]
    fn between_max_and_sum() {
        let (p, t) = combine(&[fixed(36.0), fixed(12.0)], 0.5);
        assert_eq!(p, fixed(42.0));
        assert!(!t.is_empty());
        assert_eq!(combine(&[fixed(36.0), fixed(12.0)], 0.0).0, fixed(36.0));
        assert_eq!(combine(&[fixed(36.0), fixed(12.0)], 1.0).0, fixed(48.0));
    }

    #[test]
    fn caps_twenty_and_twenty_five_years() {
        assert_eq!(combine(&[fixed(180.0), fixed(180.0)], 1.0).0, fixed(240.0));
        assert_eq!(combine(&[fixed(180.0), fixed(180.0), fixed(120.0)], 1.0).0, fixed(300.0));
    }

    #[test]
    fn the_legal_range_is_what_combine_chooses_from() {
        assert_eq!(legal_range(&[fixed(36.0), fixed(12.0)]), Some((36.0, 48.0)));
        assert_eq!(legal_range(&[fixed(180.0), fixed(180.0)]), Some((180.0, 240.0)));
        // 有期徒刑 absorbs 拘役 (第2款): the detention adds nothing to the range.
        let det = Penal::Months { kind: TermKind::CriminalDetention, months: 5.0 };
        assert_eq!(legal_range(&[fixed(24.0), det]), Some((24.0, 24.0)));
        assert_eq!(legal_range(&[fixed(24.0), Penal::Life]), None);
        assert_eq!(legal_range(&[Penal::Exempt]), None);
    }

    #[test]
    fn absorption() {
        assert_eq!(combine(&[fixed(36.0), Penal::Life], 0.5).0, Penal::Life);
        assert_eq!(combine(&[Penal::Death, Penal::Life], 0.5).0, Penal::Death);
        let det = Penal::Months { kind: TermKind::CriminalDetention, months: 5.0 };
        assert_eq!(combine(&[fixed(10.0), det], 0.5).0, fixed(10.0));
        assert_eq!(combine(&[det, det, det], 1.0).0, Penal::Months { kind: TermKind::CriminalDetention, months: 12.0 });
        assert_eq!(combine(&[Penal::Exempt, Penal::FineOnly], 0.5).0, Penal::FineOnly);
    }
}
