//! Numbers as judgments write them: Arabic (full- or half-width, with thousands separators and decimals),
//! Chinese (三千五百, 二〇一三, 壹万贰仟), mixed (1.2万, 3万5千), with 余 / 多 ("at least"), and the
//! quantities built on them: money (元, 万元, the anonymised 万某 of CAIL), weights (克, 千克, 公斤, 毫克) and
//! blood alcohol (mg/100ml).
//!
//! All finders run on the normalised text of [`super::spans::Doc`] and return byte ranges of it.

use regex::Regex;
use std::sync::OnceLock;

fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' | 'O' => 0,
        '一' | '壹' | '幺' => 1,
        '二' | '两' | '贰' | '貳' => 2,
        '三' | '叁' | '參' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' | '陸' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

fn cn_small_unit(c: char) -> Option<f64> {
    Some(match c {
        '十' | '拾' => 10.0,
        '百' | '佰' => 100.0,
        '千' | '仟' => 1000.0,
        _ => return None,
    })
}

/// Parses a number in any of the forms above; `None` when `s` is not a number. Trailing 余 / 多 / 来 (approximate
/// lower bounds) are ignored: the value is the stated bound.
pub fn parse_number(s: &str) -> Option<f64> {
    let s: String = s.chars().map(super::spans::normalise_char).filter(|c| !c.is_whitespace()).collect();
    let s = s.trim_end_matches(['余', '多', '来', '整']);
    if s.is_empty() {
        return None;
    }
    // Chinese decimal point: 三点五.
    if let Some((int, frac)) = s.split_once('点') {
        let i = if int.is_empty() { 0.0 } else { parse_number(int)? };
        let mut digits = String::new();
        for c in frac.chars() {
            digits.push(char::from_digit(cn_digit(c).or_else(|| c.to_digit(10))?, 10)?);
        }
        if digits.is_empty() {
            return None;
        }
        let f: f64 = format!("0.{digits}").parse().ok()?;
        return Some(i + f);
    }
    let chars: Vec<char> = s.chars().collect();
    // Positional Chinese digits (二〇一三) or plain Arabic.
    if chars.iter().all(|&c| cn_digit(c).is_some()) {
        if chars.len() == 1 {
            return cn_digit(chars[0]).map(f64::from);
        }
        let mut v = 0.0;
        for &c in &chars {
            v = v * 10.0 + f64::from(cn_digit(c)?);
        }
        return Some(v);
    }
    let mut total = 0.0f64;
    let mut section = 0.0f64;
    let mut number: Option<f64> = None;
    let mut any = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let st = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | ',' | '，')) {
                i += 1;
            }
            let run: String = chars[st..i].iter().filter(|&&c| c != ',' && c != '，').collect();
            if run.ends_with('.') || run.matches('.').count() > 1 {
                return None;
            }
            number = Some(run.parse().ok()?);
            any = true;
            continue;
        }
        if let Some(d) = cn_digit(c) {
            if c == '零' || c == '〇' {
                i += 1;
                continue;
            }
            number = Some(f64::from(d));
            any = true;
        } else if let Some(u) = cn_small_unit(c) {
            let digit = match number {
                Some(d) => d,
                None if u == 10.0 => 1.0,
                None => return None,
            };
            section += digit * u;
            number = None;
            any = true;
        } else if c == '万' || c == '萬' {
            total += (section + number.unwrap_or(if section == 0.0 { 1.0 } else { 0.0 })) * 1e4;
            section = 0.0;
            number = None;
            any = true;
        } else if c == '亿' || c == '億' {
            total = (total + section + number.unwrap_or(if section == 0.0 && total == 0.0 { 1.0 } else { 0.0 })) * 1e8;
            section = 0.0;
            number = None;
            any = true;
        } else {
            return None;
        }
        i += 1;
    }
    any.then_some(total + section + number.unwrap_or(0.0))
}

/// Writes a non-negative integer in Chinese numerals (三千五百, 一万零二十); used by tests and messages.
pub fn to_chinese(n: u64) -> String {
    const D: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    fn below_10k(n: u64, out: &mut String, pad: bool) {
        let units = [(1000, '千'), (100, '百'), (10, '十'), (1, ' ')];
        let mut zero = false;
        let mut started = pad;
        for (u, name) in units {
            let d = (n / u) % 10;
            if d == 0 {
                if started {
                    zero = true;
                }
                continue;
            }
            if zero {
                out.push('零');
                zero = false;
            }
            out.push(D[d as usize]);
            if name != ' ' {
                out.push(name);
            }
            started = true;
        }
    }
    if n == 0 {
        return "零".to_string();
    }
    let mut out = String::new();
    let groups = [(n / 100_000_000, '亿'), ((n / 10_000) % 10_000, '万'), (n % 10_000, ' ')];
    let mut started = false;
    let mut need_zero = false;
    for (g, name) in groups {
        if g == 0 {
            if started {
                need_zero = true;
            }
            continue;
        }
        if started && (need_zero || g < 1000) {
            out.push('零');
        }
        need_zero = false;
        if name == '亿' && g >= 10_000 {
            out.push_str(&to_chinese(g));
        } else {
            below_10k(g, &mut out, false);
        }
        if name != ' ' {
            out.push(name);
        }
        started = true;
    }
    out
}

/// Unit of a quantity mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QtyKind {
    /// Money, yuan.
    Money,
    /// Weight, grams.
    Weight,
    /// Blood alcohol, mg/100ml.
    Bac,
}

/// A number with a unit found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    /// What is measured.
    pub kind: QtyKind,
    /// Value in base units (yuan, grams, mg/100ml).
    pub value: f64,
    /// Byte range in the normalised text (including a 人民币 prefix).
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// Byte offset where the number itself starts.
    pub num_start: usize,
    /// Stated as a lower bound (余 / 多 / 以上).
    pub approx: bool,
}

const NUM: &str = r"(?:[0-9]{1,3}(?:[,，][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|[0-9]*\.[0-9]+|[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]+(?:点[零〇一二三四五六七八九]+)?)";

fn money_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(&format!(
            r"(?P<pre>现金人民币|现金|人民币|RMB|￥|¥)?\s*(?P<num>{NUM})(?P<a1>余|多)?(?P<mult>万|亿)?(?P<a2>余|多)?(?P<unit>元|块钱|某)(?P<a3>以上|余)?(?P<post>人民币|现金)?"
        ))
        .expect("static regex")
    })
}

fn weight_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(&format!(r"(?P<num>{NUM})(?P<a1>余|多)?(?P<unit>千克|公斤|kg|KG|Kg|毫克|mg|克|g|G)"))
            .expect("static regex")
    })
}

fn bac_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?:mg|MG|毫克)?\s*/\s*(?:100|一百|百)\s*(?:ml|mL|ML|毫升)")
            .expect("static regex")
    })
}

fn prev_char(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// Money mentions (元, 万元, 万某), in text order.
pub fn find_money(text: &str) -> Vec<Mention> {
    let mut out = Vec::new();
    for c in money_re().captures_iter(text) {
        let (Some(all), Some(num), Some(unit)) = (c.get(0), c.name("num"), c.name("unit")) else { continue };
        let mult = c.name("mult").map(|m| m.as_str());
        // 某 stands for an anonymised 元 only after 万 / 亿 (CAIL writes 5万某 for 5万元).
        if unit.as_str() == "某" && mult.is_none() {
            continue;
        }
        // A Chinese numeral glued to a preceding letter or digit is part of a code, not an amount.
        if let Some(p) = prev_char(text, num.start()) {
            if p.is_ascii_alphanumeric() || p == '.' {
                continue;
            }
        }
        let Some(mut v) = parse_number(num.as_str()) else { continue };
        match mult {
            Some("万") => v *= 1e4,
            Some("亿") => v *= 1e8,
            _ => {}
        }
        if !v.is_finite() {
            continue;
        }
        let approx = c.name("a1").is_some() || c.name("a2").is_some() || c.name("a3").is_some();
        let start = c.name("pre").map_or(num.start(), |p| p.start());
        out.push(Mention { kind: QtyKind::Money, value: v, start, end: all.end(), num_start: num.start(), approx });
    }
    out
}

/// Weight mentions in grams (克, 千克, 公斤, 毫克), excluding blood-alcohol concentrations.
pub fn find_weights(text: &str) -> Vec<Mention> {
    let mut out = Vec::new();
    for c in weight_re().captures_iter(text) {
        let (Some(all), Some(num), Some(unit)) = (c.get(0), c.name("num"), c.name("unit")) else { continue };
        let rest = &text[all.end()..];
        let next = rest.chars().next();
        if next.is_some_and(|n| n == '/' || n.is_ascii_alphabetic()) {
            continue;
        }
        if let Some(p) = prev_char(text, num.start()) {
            if p.is_ascii_alphabetic() || p == '.' || p == '-' {
                continue;
            }
        }
        let Some(v) = parse_number(num.as_str()) else { continue };
        let factor = match unit.as_str() {
            "千克" | "公斤" | "kg" | "KG" | "Kg" => 1000.0,
            "毫克" | "mg" => 0.001,
            _ => 1.0,
        };
        let v = v * factor;
        if !v.is_finite() {
            continue;
        }
        out.push(Mention {
            kind: QtyKind::Weight,
            value: v,
            start: num.start(),
            end: all.end(),
            num_start: num.start(),
            approx: c.name("a1").is_some(),
        });
    }
    out
}

/// Blood-alcohol mentions (mg/100ml, 毫克/100毫升, also the bare `203.8/100ml`).
pub fn find_bac(text: &str) -> Vec<Mention> {
    bac_re()
        .captures_iter(text)
        .filter_map(|c| {
            let all = c.get(0)?;
            let num = c.name("num")?;
            let v = parse_number(num.as_str())?;
            Some(Mention {
                kind: QtyKind::Bac,
                value: v,
                start: num.start(),
                end: all.end(),
                num_start: num.start(),
                approx: false,
            })
        })
        .collect()
}

/// One quantity mention prepared for [`aggregate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggItem {
    /// Value in base units.
    pub value: f64,
    /// Introduced by a summing word (共计, 合计, 总计, 累计, 共, 计).
    pub total: bool,
    /// A concluding total (综上 … 共计): it covers every other mention.
    pub grand: bool,
    /// The total is followed by its breakdown (其中, 具体如下, 分别).
    pub breakdown: bool,
    /// A per-person amount (各 5000 元) followed by its own total.
    pub each_with_total: bool,
    /// Sentence index: a marked total absorbs the items of its own sentence.
    pub sentence: usize,
    /// A marked total also absorbs the items of earlier sentences when they fit in it (money totals summarise
    /// the counts before them; drug seizures are stated per event).
    pub summarises: bool,
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= (0.005 * a.abs().max(b.abs())).max(0.011)
}

/// Sums the mentions of one quantity the way a court counts them: a concluding total wins; a mention that equals
/// the sum of the run of mentions right before or after it is their total (itemised lists); a total restated
/// later is counted once; a marked total absorbs the items before it when they fit in it, and its announced
/// breakdown after it. Returns the sum and the indices of the mentions that make it up.
pub fn aggregate(items: &[AggItem]) -> Option<(f64, Vec<usize>)> {
    if items.is_empty() {
        return None;
    }
    if let Some((i, g)) =
        items.iter().enumerate().filter(|(_, it)| it.grand).max_by(|a, b| a.1.value.total_cmp(&b.1.value))
    {
        return Some((g.value, vec![i]));
    }
    let n = items.len();
    let mut absorbed: Vec<bool> = items.iter().map(|it| it.each_with_total).collect();
    let mut is_total: Vec<bool> = items.iter().map(|it| it.total).collect();
    let mut run_total = vec![false; n];
    // Exact sums of adjacent runs (largest candidates first).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| items[b].value.total_cmp(&items[a].value));
    for &i in &order {
        if absorbed[i] || items[i].value <= 0.0 {
            continue;
        }
        let v = items[i].value;
        let try_run = |range: &mut dyn Iterator<Item = usize>, absorbed: &[bool]| -> Option<Vec<usize>> {
            let mut sum = 0.0;
            let mut run = Vec::new();
            for j in range {
                if absorbed[j] {
                    continue;
                }
                sum += items[j].value;
                run.push(j);
                if run.len() >= 2 && close(sum, v) {
                    return Some(run);
                }
                if sum > v * 1.005 + 0.011 {
                    return None;
                }
            }
            None
        };
        let found = try_run(&mut (i + 1..n), &absorbed).or_else(|| try_run(&mut (0..i).rev(), &absorbed));
        if let Some(run) = found {
            for j in run {
                absorbed[j] = true;
            }
            is_total[i] = true;
            run_total[i] = true;
        }
    }
    // Marked totals: restatements, items before, breakdown after.
    let mut kept_totals: Vec<f64> = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    let mut budget = 0.0f64;
    for i in 0..n {
        if absorbed[i] {
            continue;
        }
        let v = items[i].value;
        if is_total[i] {
            if kept_totals.iter().any(|&t| close(t, v)) {
                absorbed[i] = true;
                continue;
            }
            if budget > 0.0 && v <= budget * 1.005 + 0.011 {
                // A sub-total inside the breakdown of an earlier total.
                absorbed[i] = true;
                budget -= v;
                continue;
            }
            let same: Vec<usize> = pending
                .iter()
                .copied()
                .filter(|&j| items[i].summarises || items[j].sentence == items[i].sentence)
                .collect();
            let before: f64 = same.iter().map(|&j| items[j].value).sum();
            let mut used_before = 0.0;
            // A total that equals its own itemised run explains nothing else.
            if !run_total[i] && !same.is_empty() && before <= v * 1.005 + 0.011 {
                for &j in &same {
                    absorbed[j] = true;
                }
                used_before = before;
            }
            pending.clear();
            kept_totals.push(v);
            budget = if items[i].breakdown && !run_total[i] { (v - used_before).max(0.0) } else { 0.0 };
        } else if budget > 0.0 && v <= budget * 1.005 + 0.011 {
            absorbed[i] = true;
            budget -= v;
        } else {
            budget = 0.0;
            pending.push(i);
        }
    }
    let used: Vec<usize> = (0..n).filter(|&i| !absorbed[i]).collect();
    let sum = used.iter().map(|&i| items[i].value).sum();
    Some((sum, used))
}

/// Parses the text of a cue's `n` group: the first money, weight or plain number in it, in base units.
pub fn parse_group(s: &str) -> Option<f64> {
    if let Some(m) = find_money(s).first() {
        return Some(m.value);
    }
    if let Some(m) = find_weights(s).first() {
        return Some(m.value);
    }
    if let Some(v) = parse_number(s) {
        return Some(v);
    }
    static R: OnceLock<Regex> = OnceLock::new();
    let r = R.get_or_init(|| Regex::new(NUM).expect("static regex"));
    r.find(s).and_then(|m| parse_number(m.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals() {
        assert_eq!(parse_number("三千五百"), Some(3500.0));
        assert_eq!(parse_number("二万"), Some(20000.0));
        assert_eq!(parse_number("十"), Some(10.0));
        assert_eq!(parse_number("十五"), Some(15.0));
        assert_eq!(parse_number("一百零五"), Some(105.0));
        assert_eq!(parse_number("二〇一三"), Some(2013.0));
        assert_eq!(parse_number("壹万贰仟叁佰"), Some(12300.0));
        assert_eq!(parse_number("一亿二千万"), Some(120_000_000.0));
        assert_eq!(parse_number("三点五"), Some(3.5));
        assert_eq!(parse_number("两"), Some(2.0));
    }

    #[test]
    fn arabic_and_mixed() {
        assert_eq!(parse_number("1.2万"), Some(12000.0));
        assert_eq!(parse_number("3,500"), Some(3500.0));
        assert_eq!(parse_number("１２３４"), Some(1234.0));
        assert_eq!(parse_number("3万5千"), Some(35000.0));
        assert_eq!(parse_number("18.5万余"), Some(185000.0));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("1.2.3"), None);
    }

    #[test]
    fn money_in_judgment_wording() {
        let t = "骗取人民币１２３４元，另盗窃1.2万元、二万余元及3,500元，价税合计人民币129，534元";
        let d = super::super::spans::Doc::new(t);
        let v: Vec<f64> = find_money(&d.norm).iter().map(|m| m.value).collect();
        assert_eq!(v, vec![1234.0, 12000.0, 20000.0, 3500.0, 129534.0]);
        let m = find_money("现金33万余元");
        assert_eq!(m[0].value, 330000.0);
        assert!(m[0].approx);
        assert_eq!(find_money("借人民币5万某")[0].value, 50000.0);
        assert!(find_money("张某某").is_empty());
        assert!(find_money("5000美元").is_empty());
        assert_eq!(find_money("三千五百元")[0].value, 3500.0);
    }

    #[test]
    fn weights_and_bac() {
        let w: Vec<f64> =
            find_weights("净重0.36克海洛因，另查获1.5千克、二百克及2公斤").iter().map(|m| m.value).collect();
        assert_eq!(w, vec![0.36, 1500.0, 200.0, 2000.0]);
        assert!(find_weights("酒精含量为99mg/100ml").is_empty());
        let d = super::super::spans::Doc::new("含量为99mg／100ml，醉酒（203.8／100ml），214.797毫克／100毫升");
        let b: Vec<f64> = find_bac(&d.norm).iter().map(|m| m.value).collect();
        assert_eq!(b, vec![99.0, 203.8, 214.797]);
    }

    fn it(value: f64, total: bool) -> AggItem {
        AggItem { value, total, grand: false, breakdown: false, each_with_total: false, sentence: 0, summarises: false }
    }

    #[test]
    fn aggregate_itemised_and_totals() {
        // Items then their stated total.
        let (v, _) = aggregate(&[it(2000.0, false), it(3000.0, false), it(5000.0, true)]).unwrap();
        assert_eq!(v, 5000.0);
        // A total followed by its breakdown, then a second count.
        let mut t = it(72000.0, true);
        t.breakdown = true;
        let (v, _) = aggregate(&[
            t,
            it(70000.0, false),
            it(2000.0, false),
            it(22897.0, true),
            it(20899.0, false),
            it(1998.0, false),
        ])
        .unwrap();
        assert_eq!(v, 94897.0);
        // Separate counts are summed; a restated total counts once.
        let (v, _) = aggregate(&[it(1172505.38, true), it(313217.05, true), it(313217.05, true)]).unwrap();
        assert!((v - 1485722.43).abs() < 1e-6);
        // A value stated before its itemisation (价值14260元。具体是：11700 … 2300 … 180 … 80).
        let (v, _) = aggregate(&[
            it(1530.0, false),
            it(14260.0, false),
            it(11700.0, false),
            it(2300.0, false),
            it(180.0, false),
            it(80.0, false),
        ])
        .unwrap();
        assert_eq!(v, 15790.0);
        // A concluding total wins.
        let mut g = it(164351.0, true);
        g.grand = true;
        let (v, used) = aggregate(&[it(2000.0, false), it(4000.0, false), g]).unwrap();
        assert_eq!((v, used), (164351.0, vec![2]));
        assert!(aggregate(&[]).is_none());
    }

    #[test]
    fn to_chinese_examples() {
        assert_eq!(to_chinese(3500), "三千五百");
        assert_eq!(to_chinese(10020), "一万零二十");
        assert_eq!(to_chinese(100000), "一十万");
        assert_eq!(to_chinese(105), "一百零五");
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn chinese_round_trip(n in 0u64..1_000_000_000_000) {
                prop_assert_eq!(parse_number(&to_chinese(n)), Some(n as f64));
            }

            #[test]
            fn arabic_round_trip(n in 0u64..10_000_000_000, frac in 0u32..100) {
                let s = format!("{n}.{frac:02}");
                let v = parse_number(&s).unwrap();
                prop_assert!((v - (n as f64 + f64::from(frac) / 100.0)).abs() < 1e-6);
            }

            #[test]
            fn grouped_round_trip(n in 0u64..10_000_000_000) {
                let digits = n.to_string();
                let mut grouped = String::new();
                for (i, c) in digits.chars().enumerate() {
                    if i > 0 && (digits.len() - i) % 3 == 0 { grouped.push(','); }
                    grouped.push(c);
                }
                prop_assert_eq!(parse_number(&grouped), Some(n as f64));
                let money = find_money(&format!("人民币{grouped}元"));
                prop_assert_eq!(money.len(), 1);
                prop_assert_eq!(money[0].value, n as f64);
            }

            #[test]
            fn no_panic_on_any_string(s in "\\PC*") {
                let _ = parse_number(&s);
                let _ = find_money(&s);
                let _ = find_weights(&s);
                let _ = find_bac(&s);
                let _ = parse_group(&s);
            }

            #[test]
            fn no_panic_on_numeral_soup(s in "[0-9,.一二三十百千万亿余多元克零两点]{0,30}") {
                let _ = parse_number(&s);
                let _ = find_money(&s);
                let _ = find_weights(&s);
            }
        }
    }
}
