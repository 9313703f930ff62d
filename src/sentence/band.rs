//! Band selection (量刑档次) and the ordering of a charge's bands by severity.
//!
//! The statute language numbers bands from the lightest, but a few articles list the heaviest first
//! (第347条), so everything that needs "the next band down" (Art. 63) orders bands by their penalty
//! bounds, never by number.

use super::BandChoice;
use crate::kb::eval::Facts;
use crate::kb::model::{Band, Charge, KnowledgeBase, MonthRange};

/// Finds a charge by official name or alias (CAIL names, pre-amendment names, bracket notation).
pub fn find_charge<'a>(kb: &'a KnowledgeBase, name: &str) -> Option<&'a Charge> {
    if let Some(c) = kb.charges.iter().find(|c| c.name == name) {
        return Some(c);
    }
    let key = normalise_name(name);
    kb.charges.iter().find(|c| {
        normalise_name(&c.name) == key || c.aliases.iter().any(|a| normalise_name(a) == key)
    })
}

/// CAIL writes `[走私、贩卖、运输、制造]毒品` without 罪; official names end in 罪.
fn normalise_name(s: &str) -> String {
    let s: String = s.chars().filter(|c| !matches!(c, '[' | ']' | ' ')).collect();
    s.strip_suffix('罪').map(str::to_string).unwrap_or(s)
}

/// Applicable bands of `charge` for `facts`: `when` holds, `unless` does not, and no other applicable
/// band `overrides` it. Returns band numbers and the thresholds consulted.
pub fn applicable(kb: &KnowledgeBase, charge: &Charge, facts: &Facts) -> (Vec<u32>, Vec<crate::kb::eval::ThresholdUse>) {
    let mut used = Vec::new();
    let mut holds = Vec::new();
    for b in &charge.bands {
        let when = b.when.as_ref().is_none_or(|w| facts.eval(w, kb, &mut used));
        let excepted = b.unless.as_ref().is_some_and(|u| facts.eval(u, kb, &mut used));
        if when && !excepted {
            holds.push(b.number);
        }
    }
    let overridden: Vec<u32> = charge
        .bands
        .iter()
        .filter(|b| holds.contains(&b.number))
        .flat_map(|b| b.overrides.iter().copied())
        .collect();
    holds.retain(|n| !overridden.contains(n));
    (holds, used)
}

/// Selects the band per LANGUAGE.md: the highest-numbered applicable band, after `overrides`.
pub fn select(kb: &KnowledgeBase, charge_name: &str, facts: &Facts) -> Option<BandChoice> {
    let c = find_charge(kb, charge_name)?;
    let (holds, used) = applicable(kb, c, facts);
    holds.into_iter().max().map(|band| BandChoice { charge: c.name.clone(), band, thresholds: used })
}

/// The band with this number.
pub fn band(charge: &Charge, number: u32) -> Option<&Band> {
    charge.bands.iter().find(|b| b.number == number)
}

/// The month bounds of a band; a band with only life / death counts as 180..180 months.
pub fn bounds(b: &Band) -> Option<MonthRange> {
    b.penalty.month_bounds().or_else(|| (b.penalty.life || b.penalty.death).then_some(MonthRange { lo: 180.0, hi: 180.0 }))
}

/// The lightest band of a charge (by penalty bounds), used when no band condition was established.
pub fn lightest(charge: &Charge) -> Option<&Band> {
    charge
        .bands
        .iter()
        .filter_map(|b| bounds(b).map(|r| (b, r)))
        .min_by(|(_, x), (_, y)| x.lo.total_cmp(&y.lo).then(x.hi.total_cmp(&y.hi)))
        .map(|(b, _)| b)
}

/// The next band down (Art. 63 第1款 "下一个量刑幅度"): the band whose upper bound is the highest one
/// not above this band's lower bound.
pub fn next_lower<'a>(charge: &'a Charge, current: &Band) -> Option<&'a Band> {
    let lo = bounds(current)?.lo;
    charge
        .bands
        .iter()
        .filter(|b| b.number != current.number)
        .filter_map(|b| bounds(b).map(|r| (b, r)))
        .filter(|(_, r)| r.hi <= lo + 1e-9 && r.lo < lo)
        .max_by(|(_, x), (_, y)| x.hi.total_cmp(&y.hi).then(x.lo.total_cmp(&y.lo)))
        .map(|(b, _)| b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentence::testkb::{theft_kb, drug_kb};

    #[test]
    fn highest_applicable_band_wins() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_number("amount_yuan", 50_000.0);
        let c = select(&kb, "盗窃罪", &f).expect("band");
        assert_eq!(c.band, 2);
        assert_eq!(c.thresholds.len(), 3);
    }

    #[test]
    fn boundaries_of_theft_bands() {
        let kb = theft_kb();
        for (amount, band) in [(999.0, None), (1000.0, Some(1)), (29_999.0, Some(1)), (30_000.0, Some(2)), (299_999.0, Some(2)), (300_000.0, Some(3))] {
            let mut f = Facts::default();
            f.set_number("amount_yuan", amount);
            assert_eq!(select(&kb, "盗窃罪", &f).map(|c| c.band), band, "amount {amount}");
        }
    }

    #[test]
    fn province_value_moves_the_boundary() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_number("amount_yuan", 1500.0);
        f.province = Some("北京".into());
        assert_eq!(select(&kb, "盗窃罪", &f), None);
        f.province = None;
        assert_eq!(select(&kb, "盗窃罪", &f).map(|c| c.band), Some(1));
    }

    #[test]
    fn cail_alias_finds_the_charge() {
        let kb = drug_kb();
        assert!(find_charge(&kb, "[走私、贩卖、运输、制造]毒品").is_some());
        assert!(find_charge(&kb, "走私、贩卖、运输、制造毒品罪").is_some());
        assert!(find_charge(&kb, "不存在罪").is_none());
    }

    #[test]
    fn overrides_beat_higher_numbers() {
        // 第347条 lists the heaviest band first; the knowledge base says so with `overrides`.
        let kb = drug_kb();
        let mut f = Facts::default();
        f.drugs.push(("甲基苯丙胺".into(), 60.0));
        assert_eq!(select(&kb, "走私、贩卖、运输、制造毒品罪", &f).map(|c| c.band), Some(1));
        f.drugs[0].1 = 20.0;
        assert_eq!(select(&kb, "走私、贩卖、运输、制造毒品罪", &f).map(|c| c.band), Some(2));
        f.drugs[0].1 = 2.0;
        assert_eq!(select(&kb, "走私、贩卖、运输、制造毒品罪", &f).map(|c| c.band), Some(3));
    }

    #[test]
    fn next_lower_goes_by_severity() {
        let kb = drug_kb();
        let c = find_charge(&kb, "走私、贩卖、运输、制造毒品罪").expect("charge");
        let b2 = band(c, 2).expect("band 2");
        assert_eq!(next_lower(c, b2).map(|b| b.number), Some(4));
        let b3 = band(c, 3).expect("band 3");
        assert_eq!(next_lower(c, b3).map(|b| b.number), None);
        assert_eq!(lightest(c).map(|b| b.number), Some(3));
    }
}
