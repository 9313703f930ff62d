//! The prosecution's sentencing recommendation (量刑建议): `建议判处有期徒刑九个月至一年`, `建议在二年六个月至
//! 三年六个月幅度内量刑`, `建议判处一年零六个月以上二年零六个月以下有期徒刑`. In a case the defendant pleads guilty
//! and accepts punishment for, the court "一般应当采纳" it (刑事诉讼法第201条); sentencing uses it as the range the
//! term should fall in (see `sentence::recommendation`).
//!
//! In published (CAIL) data the penalty words are masked (`判处××至一年六个月`): a masked or missing lower end
//! leaves only the upper one.

use super::numbers::parse_number;
use super::spans::Doc;
use regex::Regex;
use std::sync::OnceLock;

/// Fact key of the recommended upper end, in months.
pub const RECOMMENDED_MAX: &str = "recommended_term_max_months";
/// Fact key of the recommended lower end, in months (absent when masked or not stated).
pub const RECOMMENDED_MIN: &str = "recommended_term_min_months";

/// A recommended range of months.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recommendation {
    /// Lower end in months, when stated.
    pub lo_months: Option<f64>,
    /// Upper end in months.
    pub hi_months: f64,
    /// Byte span (normalised text) of the recommendation.
    pub start: usize,
    /// End of the span.
    pub end: usize,
}

const NUM: &str = "[0-9零〇一二两三四五六七八九十]+";

fn duration_pattern() -> String {
    format!("(?:{NUM}年(?:零?{NUM}个?月|半)?|{NUM}个?月)")
}

fn recommendation_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        let d = duration_pattern();
        Regex::new(&format!(
            "建议[^。；]{{0,50}}?({d})?(?:有期徒刑|拘役|管制|××)?(?:以上|至|到|-|—|～|~)(?:有期徒刑|拘役|管制)?({d})(?:以下)?"
        ))
        .expect("static regex")
    })
}

fn duration_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(&format!("^(?:({NUM})年(?:零?({NUM})个?月|(半))?|({NUM})个?月)$")).expect("static regex")
    })
}

/// Months of a duration written like `一年零六个月`, `2年5个月`, `十个月`, `三年半`.
pub fn months_of(s: &str) -> Option<f64> {
    let c = duration_re().captures(s)?;
    if let Some(m) = c.get(4) {
        return parse_number(m.as_str());
    }
    let years = parse_number(c.get(1)?.as_str())?;
    let months = match (c.get(2), c.get(3)) {
        (Some(m), _) => parse_number(m.as_str())?,
        (None, Some(_)) => 6.0,
        _ => 0.0,
    };
    Some(years * 12.0 + months)
}

/// The first recommended range of the fact, if one is stated with an upper end.
pub fn find_recommendation(doc: &Doc) -> Option<Recommendation> {
    for c in recommendation_re().captures_iter(&doc.norm) {
        let Some(hi) = c.get(2).and_then(|m| months_of(m.as_str())) else { continue };
        let lo = c.get(1).and_then(|m| months_of(m.as_str()));
        // A term is at most 25 years when combined (刑法第69条); anything else is a misreading.
        if !(hi > 0.0 && hi <= 300.0) || lo.is_some_and(|l| l > hi) {
            continue;
        }
        let whole = c.get(0)?;
        return Some(Recommendation { lo_months: lo, hi_months: hi, start: whole.start(), end: whole.end() });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: &str) -> Option<(Option<f64>, f64)> {
        find_recommendation(&Doc::new(t)).map(|r| (r.lo_months, r.hi_months))
    }

    #[test]
    fn durations_in_words_and_digits() {
        assert_eq!(months_of("一年零六个月"), Some(18.0));
        assert_eq!(months_of("2年5个月"), Some(29.0));
        assert_eq!(months_of("十个月"), Some(10.0));
        assert_eq!(months_of("三年半"), Some(42.0));
        assert_eq!(months_of("三年"), Some(36.0));
        assert_eq!(months_of("三"), None);
    }

    #[test]
    fn ranges_as_prosecutors_write_them() {
        assert_eq!(rec("建议本院对被告人路某判处九个月至一年有期徒刑，可适用缓刑。"), Some((Some(9.0), 12.0)));
        assert_eq!(rec("建议对陈某判处6个月至1年5个月有期徒刑。"), Some((Some(6.0), 17.0)));
        assert_eq!(
            rec("建议法庭判处被告人梁某一年零六个月以上二年零六个月以下有期徒刑。"),
            Some((Some(18.0), 30.0))
        );
        assert_eq!(rec("建议在二年六个月至三年六个月幅度内量刑。"), Some((Some(30.0), 42.0)));
        // The masked lower end (CAIL hides the penalty words) leaves the upper one.
        assert_eq!(rec("建议判处被告人詹某××至一年六个月，并适用××。"), Some((None, 18.0)));
    }

    #[test]
    fn no_range_no_recommendation() {
        assert_eq!(rec("建议在法定刑幅度内量刑。"), None);
        assert_eq!(rec("建议书指出，被告人有以下量刑情节。"), None);
        assert_eq!(rec("被告人于2015年至2016年间多次盗窃。"), None);
    }
}
