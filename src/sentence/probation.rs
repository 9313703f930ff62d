//! 缓刑 (Art. 72–74): eligibility, lexpro's reading of the discretionary conditions, and the
//! probation period.

use super::guideline::Penal;
use crate::contract::{TermKind, TraceStep};
use crate::kb::eval::Facts;

/// The probation decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Probation {
    /// 考验期 in months when probation is suggested.
    pub months: Option<f64>,
    /// Steps.
    pub trace: Vec<TraceStep>,
}

/// Decides probation for the executed penalty.
///
/// Art. 72 allows it for 拘役 or 有期徒刑 of at most three years when the crime is light, the offender
/// shows remorse, there is no risk of reoffending and no bad effect on the community; Art. 74 excludes
/// recidivists. The facts only show remorse and repair, so lexpro suggests probation when a remorse
/// signal (自首, 坦白, 认罪认罚) meets a repair signal (退赃退赔, 谅解) or a protected defendant (under 18,
/// 75 or older: 第72条 "应当宣告缓刑"), and says that this is its reading.
pub fn decide(facts: &Facts, penal: &Penal) -> Probation {
    let mut trace = Vec::new();
    let (kind, months) = match penal {
        Penal::Months { kind, months } if matches!(kind, TermKind::FixedTerm | TermKind::CriminalDetention) => (*kind, *months),
        _ => return Probation { months: None, trace },
    };
    if kind == TermKind::FixedTerm && months > 36.0 {
        trace.push(TraceStep::new("sentence", "刑期超过三年，不适用缓刑").cite("刑法第72条第1款"));
        return Probation { months: None, trace };
    }
    if facts.flag("recidivist") {
        trace.push(TraceStep::new("sentence", "累犯不适用缓刑").cite("刑法第74条"));
        return Probation { months: None, trace };
    }
    let remorse = ["surrender", "confession", "guilty_plea"].iter().any(|k| facts.flag(k));
    let repair = ["restitution", "forgiveness"].iter().any(|k| facts.flag(k));
    let age = facts.number("defendant_age");
    let protected = facts.flag("minor_defendant") || facts.flag("elderly_defendant") || age.is_some_and(|a| !(18.0..75.0).contains(&a));
    if !(remorse && (repair || protected)) {
        trace.push(TraceStep::new("sentence", "符合缓刑的刑期条件，但未认定悔罪与退赔/谅解等情节，不建议缓刑（lexpro 对第72条酌定条件的读法）").cite("刑法第72条第1款"));
        return Probation { months: None, trace };
    }
    // Art. 73: 拘役 原判刑期以上一年以下，但不能少于二个月; 有期徒刑 原判刑期以上五年以下，但不能少于一年.
    let period = match kind {
        TermKind::CriminalDetention => months.clamp(2.0, 12.0),
        _ => months.clamp(12.0, 60.0),
    };
    trace.push(
        TraceStep::new("sentence", format!("有悔罪表现并已退赔或取得谅解，建议宣告缓刑，考验期 {period} 个月（lexpro 对第72条酌定条件的读法）"))
            .cite("刑法第72条第1款、第73条")
            .value(period),
    );
    Probation { months: Some(period), trace }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(m: f64) -> Penal {
        Penal::Months { kind: TermKind::FixedTerm, months: m }
    }

    #[test]
    fn three_years_is_the_limit() {
        let mut f = Facts::default();
        f.set_bool("confession", true);
        f.set_bool("forgiveness", true);
        assert_eq!(decide(&f, &fixed(36.0)).months, Some(36.0));
        assert_eq!(decide(&f, &fixed(37.0)).months, None);
        assert_eq!(decide(&f, &fixed(8.0)).months, Some(12.0));
        assert_eq!(decide(&f, &Penal::Months { kind: TermKind::CriminalDetention, months: 1.0 }).months, Some(2.0));
    }

    #[test]
    fn recidivists_and_no_remorse_are_excluded() {
        let mut f = Facts::default();
        f.set_bool("confession", true);
        f.set_bool("restitution", true);
        f.set_bool("recidivist", true);
        assert_eq!(decide(&f, &fixed(12.0)).months, None);
        let mut g = Facts::default();
        g.set_bool("restitution", true);
        assert_eq!(decide(&g, &fixed(12.0)).months, None);
        assert_eq!(decide(&g, &Penal::Life).months, None);
    }

    #[test]
    fn minors_with_remorse() {
        let mut f = Facts::default();
        f.set_bool("guilty_plea", true);
        f.set_number("defendant_age", 17.0);
        assert_eq!(decide(&f, &fixed(10.0)).months, Some(12.0));
    }
}
