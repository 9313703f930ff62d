//! Dates (2013年3月9日, 同年8月20日, 二〇一三年三月), birth dates and ages (男，47岁 / 未满十四周岁), and the age
//! at the offence computed from a birth date.

use super::numbers::parse_number;
use crate::kb::model::Date;
use regex::Regex;
use std::sync::OnceLock;

/// A date found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct DateMention {
    /// The date (day 1 when only the month is given).
    pub date: Date,
    /// Byte range in the normalised text.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// The text says it is a birth date (…出生).
    pub birth: bool,
    /// The day of the month was stated.
    pub has_day: bool,
}

const Y: &str = r"[0-9]{4}|[一二三四五六七八九〇零]{4}";
const MD: &str = r"[0-9]{1,2}|[一二三四五六七八九十]{1,3}";

fn date_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(&format!(
            r"(?:(?P<y>{Y})年|(?P<same>同年|当年))(?P<m>{MD})月(?:(?P<d>{MD})日)?(?P<birth>[^，。；,]{{0,2}}(?:出生|生))?"
        ))
        .expect("static regex")
    })
}

/// All dates in text order; 同年 / 当年 take the year of the previous date.
pub fn find_dates(text: &str) -> Vec<DateMention> {
    let mut out: Vec<DateMention> = Vec::new();
    let mut last_year: Option<i32> = None;
    for c in date_re().captures_iter(text) {
        let Some(all) = c.get(0) else { continue };
        let year = match c.name("y") {
            Some(y) => parse_number(y.as_str()).map(|v| v as i32),
            None => last_year,
        };
        let Some(year) = year else { continue };
        let Some(month) = c.name("m").and_then(|m| parse_number(m.as_str())) else { continue };
        let day = c.name("d").and_then(|d| parse_number(d.as_str()));
        let Some(date) = Date::new(year, month as u32, day.map_or(1, |d| d as u32)) else { continue };
        if !(1900..=2100).contains(&year) {
            continue;
        }
        last_year = Some(year);
        out.push(DateMention {
            date,
            start: all.start(),
            end: all.end(),
            birth: c.name("birth").is_some(),
            has_day: day.is_some(),
        });
    }
    out
}

/// The first date that is not a birth date: judgments state the offence date first.
pub fn offence_date(dates: &[DateMention]) -> Option<&DateMention> {
    dates.iter().find(|d| !d.birth)
}

/// Role of a person whose age is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// 被告人 / 上诉人 / 犯罪嫌疑人.
    Defendant,
    /// 被害人.
    Victim,
}

/// An age stated or computed for a defendant or a victim.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeMention {
    /// Whose age.
    pub role: Role,
    /// Age in full years at the offence.
    pub years: i32,
    /// Byte range of the supporting text.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
}

const NAME: &str = r"[\p{Han}][\p{Han}0-9某×xX*]{0,3}";

fn role_birth_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(&format!(
            r"(?P<role>被害人|被告人|上诉人|原审被告人|犯罪嫌疑人)(?:{NAME})?[（(，,](?P<inner>[^）)。；]{{0,40}}?)(?P<y>{Y})年(?P<m>{MD})月(?:(?P<d>{MD})日)?(?:出生|生)"
        ))
        .expect("static regex")
    })
}

fn role_age_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(&format!(
            r"(?P<role>被害人|被告人|上诉人|原审被告人|犯罪嫌疑人)(?:{NAME})?[（(，,](?P<inner>[^）)。；]{{0,20}}?)(?P<age>[0-9]{{1,3}}|[一二三四五六七八九十]{{1,3}})周?岁"
        ))
        .expect("static regex")
    })
}

fn role_of(s: &str) -> Role {
    if s == "被害人" {
        Role::Victim
    } else {
        Role::Defendant
    }
}

/// Ages of defendants and victims: a birth date next to the person (age at `on`, the offence date) or a stated
/// age (男，47岁). Without an offence date a birth date gives no age.
pub fn find_ages(text: &str, on: Option<Date>) -> Vec<AgeMention> {
    let mut out = Vec::new();
    for c in role_birth_re().captures_iter(text) {
        let (Some(all), Some(role)) = (c.get(0), c.name("role")) else { continue };
        let Some(on) = on else { continue };
        let y = c.name("y").and_then(|y| parse_number(y.as_str()));
        let m = c.name("m").and_then(|m| parse_number(m.as_str()));
        let d = c.name("d").and_then(|d| parse_number(d.as_str())).unwrap_or(1.0);
        let (Some(y), Some(m)) = (y, m) else { continue };
        let Some(birth) = Date::new(y as i32, m as u32, d as u32) else { continue };
        let years = birth.years_until(on);
        if (0..=120).contains(&years) {
            out.push(AgeMention { role: role_of(role.as_str()), years, start: all.start(), end: all.end() });
        }
    }
    for c in role_age_re().captures_iter(text) {
        let (Some(all), Some(role), Some(age)) = (c.get(0), c.name("role"), c.name("age")) else { continue };
        // "未满十四周岁" is a statutory bracket, not the person's age.
        if c.name("inner").is_some_and(|i| i.as_str().ends_with("未满") || i.as_str().ends_with("不满")) {
            continue;
        }
        let Some(years) = parse_number(age.as_str()) else { continue };
        if (0.0..=120.0).contains(&years) {
            out.push(AgeMention {
                role: role_of(role.as_str()),
                years: years as i32,
                start: all.start(),
                end: all.end(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_same_year() {
        let d = find_dates("2013年1月22日，双方碰面。同年8月20日，被告人约见。");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].date, Date::new(2013, 8, 20).unwrap());
        assert_eq!(offence_date(&d).unwrap().date, Date::new(2013, 1, 22).unwrap());
    }

    #[test]
    fn birth_dates_are_not_offence_dates() {
        let d = find_dates("被害人王某某（1999年7月2日出生）于2014年3月5日被殴打");
        assert!(d[0].birth);
        assert_eq!(offence_date(&d).unwrap().date, Date::new(2014, 3, 5).unwrap());
    }

    #[test]
    fn victim_age_from_birth_date() {
        let text = "被告人刘某某指使李某某对被害人王某某（1999年7月2日出生）进行了殴打";
        let ages = find_ages(text, Date::new(2014, 3, 5));
        assert_eq!(ages.len(), 1);
        assert_eq!(ages[0].role, Role::Victim);
        assert_eq!(ages[0].years, 14);
    }

    #[test]
    fn stated_ages() {
        let ages = find_ages("途经被害人韩某某（男，47岁）家承包的林地", None);
        assert_eq!(ages[0].years, 47);
        assert_eq!(ages[0].role, Role::Victim);
        let ages = find_ages("被告人张某（男，十七岁）", None);
        assert_eq!((ages[0].role, ages[0].years), (Role::Defendant, 17));
        assert!(find_ages("被告人王某（未满十四周岁）", None).is_empty());
    }

    #[test]
    fn chinese_year() {
        let d = find_dates("二〇一三年三月");
        assert_eq!(d[0].date, Date::new(2013, 3, 1).unwrap());
        assert!(!d[0].has_day);
    }
}
