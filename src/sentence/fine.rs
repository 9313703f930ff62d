//! 罚金 (Art. 52–53): whether a fine is imposed, and its amount.
//!
//! The statute sets an amount only for a few articles ("并处二万元以上二十万元以下罚金"); those bounds
//! are read from the band's verbatim text. Otherwise Art. 52 leaves the amount to the court ("根据犯罪
//! 情节"), bounded below by 1 000 yuan (500 for minors) by 《关于适用财产刑若干问题的规定》第2条; the
//! point lexpro chooses is calibrated (docs/CALIBRATION.md#fine).

use crate::contract::TraceStep;
use crate::kb::eval::Facts;
use crate::kb::model::{Band, Requirement};
use regex::Regex;
use std::sync::OnceLock;

/// Fine as a share of the criminal amount (calibrated, docs/CALIBRATION.md#fine).
pub const AMOUNT_SHARE: f64 = 0.3;
/// Yuan per month of the term when no amount is known (calibrated, docs/CALIBRATION.md#fine).
pub const YUAN_PER_MONTH: f64 = 500.0;

/// Parses a Chinese or Arabic number (`二十万`, `5000`, `一千五百`, `3.5万`).
pub fn parse_cn_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(v) = s.parse::<f64>() {
        return Some(v);
    }
    if let Some(rest) = s.strip_suffix('万') {
        return parse_cn_number(rest).map(|v| v * 10_000.0);
    }
    if let Some(i) = s.find('万') {
        let (hi, lo) = s.split_at(i);
        return Some(parse_cn_number(hi)? * 10_000.0 + parse_cn_number(&lo['万'.len_utf8()..])?);
    }
    let mut total = 0.0;
    let mut digit: Option<f64> = None;
    for c in s.chars() {
        let d = match c {
            '零' | '〇' => Some(0.0),
            '一' => Some(1.0),
            '二' | '两' => Some(2.0),
            '三' => Some(3.0),
            '四' => Some(4.0),
            '五' => Some(5.0),
            '六' => Some(6.0),
            '七' => Some(7.0),
            '八' => Some(8.0),
            '九' => Some(9.0),
            _ => None,
        };
        if let Some(d) = d {
            digit = Some(d);
            continue;
        }
        let unit = match c {
            '十' => 10.0,
            '百' => 100.0,
            '千' => 1000.0,
            _ => return None,
        };
        total += digit.take().unwrap_or(1.0) * unit;
    }
    Some(total + digit.unwrap_or(0.0))
}

fn range_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([0-9.一二两三四五六七八九十百千万]+)元以上([0-9.一二两三四五六七八九十百千万]+)元以下罚金").expect("static regex")
    })
}

/// The statutory fine range of a band, when its text states one.
pub fn statutory_range(b: &Band) -> Option<(f64, f64)> {
    let t = b.text.as_deref()?;
    let c = range_re().captures(t)?;
    Some((parse_cn_number(&c[1])?, parse_cn_number(&c[2])?))
}

/// The fine for one charge's band, or None when the band prescribes none.
pub fn fine(b: &Band, facts: &Facts, months: f64, minor: bool, cite: &str) -> (Option<f64>, Vec<TraceStep>) {
    let mut trace = Vec::new();
    if b.fine == Requirement::None {
        return (None, trace);
    }
    let how = if b.fine == Requirement::Required { "并处罚金" } else { "可以并处罚金" };
    let floor = if minor { 500.0 } else { 1000.0 };
    let amount = facts.number("amount_yuan").filter(|a| *a > 0.0);
    let mut v = match amount {
        Some(a) => (a * AMOUNT_SHARE).max(floor),
        None => (months.max(1.0) * YUAN_PER_MONTH).max(floor),
    };
    let basis = match amount {
        Some(a) => format!("犯罪数额 {a} 元的 {:.0}%", AMOUNT_SHARE * 100.0),
        None => format!("每月刑期 {YUAN_PER_MONTH} 元"),
    };
    let mut src = format!("{cite}；《关于适用财产刑若干问题的规定》第2条；docs/CALIBRATION.md#fine");
    if let Some((lo, hi)) = statutory_range(b) {
        // min/max rather than clamp: a statute text with reversed bounds must not panic.
        v = v.min(hi).max(lo);
        src = format!("{cite}（{lo}–{hi} 元）；docs/CALIBRATION.md#fine");
    }
    let v = (v / 100.0).round() * 100.0;
    trace.push(TraceStep::new("sentence", format!("{how}：按{basis}，不低于 {floor} 元 = {v} 元")).cite(src).value(v));
    (Some(v), trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentence::testkb::band;
    use crate::kb::model::Penalty;

    #[test]
    fn chinese_numbers() {
        assert_eq!(parse_cn_number("二万"), Some(20_000.0));
        assert_eq!(parse_cn_number("二十万"), Some(200_000.0));
        assert_eq!(parse_cn_number("五十万"), Some(500_000.0));
        assert_eq!(parse_cn_number("一千五百"), Some(1500.0));
        assert_eq!(parse_cn_number("3.5万"), Some(35_000.0));
        assert_eq!(parse_cn_number("十"), Some(10.0));
        assert_eq!(parse_cn_number("abc"), None);
    }

    #[test]
    fn statutory_range_from_text() {
        let mut b = band(1, None, Penalty::default(), None, "");
        b.text = Some("进行信用卡诈骗活动，数额较大的，处五年以下有期徒刑或者拘役，并处二万元以上二十万元以下罚金".into());
        b.fine = Requirement::Required;
        assert_eq!(statutory_range(&b), Some((20_000.0, 200_000.0)));
        let mut f = Facts::default();
        f.set_number("amount_yuan", 10_000.0);
        assert_eq!(fine(&b, &f, 12.0, false, "刑法第196条").0, Some(20_000.0));
    }

    #[test]
    fn amounts_and_floors() {
        let mut b = band(1, None, Penalty::default(), None, "");
        assert_eq!(fine(&b, &Facts::default(), 12.0, false, "").0, None);
        b.fine = Requirement::Optional;
        let mut f = Facts::default();
        f.set_number("amount_yuan", 50_000.0);
        assert_eq!(fine(&b, &f, 12.0, false, "").0, Some(15_000.0));
        assert_eq!(fine(&b, &Facts::default(), 1.0, false, "").0, Some(1000.0));
        assert_eq!(fine(&b, &Facts::default(), 1.0, true, "").0, Some(500.0));
        assert_eq!(fine(&b, &Facts::default(), 6.0, false, "").0, Some(3000.0));
    }
}
