//! Drugs: type normalised to the official name of 法释〔2016〕8号 (最高人民法院关于审理毒品犯罪案件适用法律
//! 若干问题的解释) with total grams.
//!
//! A weight counts for a drug when its sentence is about drugs (names a drug, or speaks of 毒品 / 净重 (CAIL also
//! masks it as 净某) / 疑似毒品 / a weighing: 称量, 称重, 重达); it belongs to the nearest drug named in its clause, else in its sentence, else anywhere (鉴定 sentences
//! name the drug after the weight was given). Weights of one type are summed with [`aggregate`].

use super::numbers::{aggregate, find_weights, AggItem, Mention};
use super::spans::Doc;
use regex::Regex;
use std::sync::OnceLock;

/// Official name and the street or scientific names judgments use for it. The names are those of the 2016
/// interpretation (第一条, 第二条); street names are the ones judgments put in brackets after the official name.
pub const DRUGS: &[(&str, &[&str])] = &[
    ("甲基苯丙胺片剂", &["甲基苯丙胺片剂", "麻古", "麻果", "麻谷", "马古"]),
    ("甲基苯丙胺", &["甲基苯丙胺", "冰毒", "去氧麻黄碱", "甲基安非他明"]),
    ("海洛因", &["海洛因", "二乙酰吗啡"]),
    ("氯胺酮", &["氯胺酮", "K粉", "k粉"]),
    ("3,4-亚甲二氧基甲基苯丙胺", &["3,4-亚甲二氧基甲基苯丙胺", "MDMA", "摇头丸"]),
    ("可卡因", &["可卡因", "古柯碱"]),
    ("大麻油", &["大麻油"]),
    ("大麻脂", &["大麻脂"]),
    ("大麻", &["大麻"]),
    ("吗啡", &["吗啡"]),
    ("鸦片", &["鸦片", "阿片"]),
    ("美沙酮", &["美沙酮"]),
    ("芬太尼", &["芬太尼"]),
    ("曲马多", &["曲马多"]),
    ("可待因", &["可待因"]),
    ("哌替啶", &["哌替啶", "度冷丁"]),
    ("甲卡西酮", &["甲卡西酮"]),
    ("安钠咖", &["安钠咖"]),
    ("咖啡因", &["咖啡因"]),
    ("罂粟壳", &["罂粟壳"]),
    ("三唑仑", &["三唑仑"]),
    ("艾司唑仑", &["艾司唑仑"]),
    ("地西泮", &["地西泮", "安定"]),
    ("丁丙诺啡", &["丁丙诺啡"]),
    ("γ-羟丁酸", &["γ-羟丁酸"]),
];

/// Official name of a drug name or street name, if known.
pub fn official(name: &str) -> Option<&'static str> {
    let n: String = name.chars().map(super::spans::normalise_char).collect();
    DRUGS.iter().find(|(_, names)| names.iter().any(|a| *a == n)).map(|(o, _)| *o)
}

fn names_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        let mut all: Vec<&str> = DRUGS.iter().flat_map(|(_, a)| a.iter().copied()).collect();
        all.sort_by_key(|a| std::cmp::Reverse(a.chars().count()));
        let alt: Vec<String> = all.iter().map(|a| regex::escape(a)).collect();
        Regex::new(&format!("(?:{})", alt.join("|"))).expect("static regex")
    })
}

fn context_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(毒品|净重|净某|疑似|可疑|毒资|吸食|贩卖|运输|制造|持有|称量|称重|重达)").expect("static regex"))
}

fn total_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(共计|合计|总计|累计|共重|总重|共净重|净重共计|共|计)[^，。；0-9]{0,6}$").expect("static regex")
    })
}

/// A statutory threshold quoted before a weight (贩卖海洛因不满十克; the lower end of 十克以上不满五十克 is caught
/// by what follows it): the band the prosecution names, not a quantity seized.
fn threshold_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(不满|不足|未满|少于|低于|未达到?)$").expect("static regex"))
}

/// A sentence about somebody else's drug case that the defendant helped to solve (立功: 提供线索，侦破他人贩卖
/// 41克毒品案): its weights are not the defendant's.
fn informant_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(提供[^，。；]{0,6}线索|检举|揭发|协助[^，。；]{0,8}(抓获|抓捕)|侦破)[^。；]{0,30}(他人|其他)[^。；]{0,30}案")
            .expect("static regex")
    })
}

fn restate_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(上述|该|前述|以上)").expect("static regex"))
}

/// One drug type found in a fact.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugFinding {
    /// Official name.
    pub kind: String,
    /// Total grams, when stated.
    pub grams: Option<f64>,
    /// Byte ranges (normalised text) of the names and weights used.
    pub evidence: Vec<(usize, usize)>,
}

/// A weight mention attributed to a drug type.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugWeight {
    /// Official name.
    pub kind: &'static str,
    /// The weight.
    pub mention: Mention,
}

struct NameHit {
    kind: &'static str,
    start: usize,
    end: usize,
}

fn name_hits(doc: &Doc) -> Vec<NameHit> {
    let text = doc.norm.as_str();
    let mut out = Vec::new();
    for m in names_re().find_iter(text) {
        let Some(kind) = official(m.as_str()) else { continue };
        // 安定 is also an ordinary word (社会安定); it names the drug only in a text that is about drugs.
        if m.as_str() == "安定" && !names_re().find_iter(text).any(|x| x.as_str() != "安定") && !text.contains("毒品")
        {
            continue;
        }
        out.push(NameHit { kind, start: m.start(), end: m.end() });
    }
    out
}

/// Weights of drugs with their type, in text order.
pub fn drug_weights(doc: &Doc) -> (Vec<DrugWeight>, Vec<(&'static str, usize, usize)>) {
    let names = name_hits(doc);
    let mut out = Vec::new();
    if names.is_empty() {
        return (out, Vec::new());
    }
    let text = doc.norm.as_str();
    for w in find_weights(text) {
        let ch = doc.char_of(w.start);
        let si = doc.sentence_of(ch);
        let (ss, se) = doc.sentences.get(si).copied().unwrap_or((0, doc.len()));
        let (ss_b, se_b) = (doc.byte_of(ss), doc.byte_of(se));
        let (cs, ce) = doc.clause_of(ch);
        let (cs_b, ce_b) = (doc.byte_of(cs), doc.byte_of(ce));
        let rest = &text[w.end.min(text.len())..];
        let range_start = ["以上不满", "以上不足", "以上未满"].iter().any(|p| rest.starts_with(p));
        if range_start
            || threshold_re().is_match(&text[cs_b.min(w.start)..w.start])
            || informant_re().is_match(&text[ss_b..se_b])
        {
            continue;
        }
        let in_sentence: Vec<&NameHit> = names.iter().filter(|n| n.start >= ss_b && n.end <= se_b).collect();
        if in_sentence.is_empty() && !context_re().is_match(&text[ss_b..se_b]) {
            continue;
        }
        let dist = |n: &NameHit| if n.end <= w.start { w.start - n.end } else { n.start.saturating_sub(w.end) };
        let in_clause: Vec<&NameHit> =
            in_sentence.iter().copied().filter(|n| n.start >= cs_b && n.end <= ce_b).collect();
        let pick: Option<&NameHit> = in_clause
            .iter()
            .copied()
            .min_by_key(|n| dist(n))
            .or_else(|| in_sentence.iter().copied().filter(|n| n.end <= w.start).max_by_key(|n| n.end))
            .or_else(|| in_sentence.iter().copied().min_by_key(|n| dist(n)))
            .or_else(|| names.iter().min_by_key(|n| dist(n)));
        if let Some(n) = pick {
            out.push(DrugWeight { kind: n.kind, mention: w });
        }
    }
    let name_spans = names.iter().map(|n| (n.kind, n.start, n.end)).collect();
    (out, name_spans)
}

/// Drug types with total grams and evidence.
pub fn find_drugs(doc: &Doc) -> Vec<DrugFinding> {
    let (weights, names) = drug_weights(doc);
    let mut kinds: Vec<&'static str> = Vec::new();
    for (k, _, _) in &names {
        if !kinds.contains(k) {
            kinds.push(k);
        }
    }
    let text = doc.norm.as_str();
    let mut out = Vec::new();
    for kind in kinds {
        let ws: Vec<&DrugWeight> = weights.iter().filter(|w| w.kind == kind).collect();
        let mut items = Vec::new();
        let mut seen: Vec<f64> = Vec::new();
        let mut idx = Vec::new();
        for w in &ws {
            let before = &text[doc.byte_of(doc.clause_of(doc.char_of(w.mention.start)).0)..w.mention.start];
            // A weight restated for 上述 / 该 drugs was counted already.
            if seen.iter().any(|&s| (s - w.mention.value).abs() < 1e-9) && restate_re().is_match(before) {
                continue;
            }
            seen.push(w.mention.value);
            items.push(AggItem {
                value: w.mention.value,
                total: total_re().is_match(before),
                grand: false,
                breakdown: false,
                each_with_total: false,
                sentence: doc.sentence_of(doc.char_of(w.mention.start)),
                summarises: false,
            });
            idx.push(*w);
        }
        let mut evidence: Vec<(usize, usize)> =
            names.iter().filter(|(k, _, _)| *k == kind).take(1).map(|(_, s, e)| (*s, *e)).collect();
        let grams = aggregate(&items).map(|(g, used)| {
            for u in used {
                evidence.push((idx[u].mention.start, idx[u].mention.end));
            }
            (g * 1e6).round() / 1e6
        });
        out.push(DrugFinding { kind: kind.to_string(), grams, evidence });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drugs(t: &str) -> Vec<(String, Option<f64>)> {
        find_drugs(&Doc::new(t)).into_iter().map(|d| (d.kind, d.grams)).collect()
    }

    #[test]
    fn street_names_are_normalised() {
        assert_eq!(official("冰毒"), Some("甲基苯丙胺"));
        assert_eq!(official("麻古"), Some("甲基苯丙胺片剂"));
        assert_eq!(official("Ｋ粉"), Some("氯胺酮"));
        assert_eq!(official("白糖"), None);
    }

    #[test]
    fn weights_sum_per_type() {
        let t = "被告人将一小包重约0.1克的毒品冰毒贩卖给林某。民警现场搜获16小包共重3.8克的毒品冰毒，经检验检出甲基苯丙胺成分。";
        assert_eq!(drugs(t), vec![("甲基苯丙胺".to_string(), Some(3.9))]);
    }

    #[test]
    fn weight_before_the_drug_is_named() {
        let t = "被告人将一小包白色晶体（约重0.7克）贩卖给苏某。经鉴定，查获的白色晶体中含有甲基苯丙胺成分。";
        assert_eq!(drugs(t), vec![("甲基苯丙胺".to_string(), Some(0.7))]);
        // A weight in a sentence that is not about drugs is not a drug weight.
        let t3 = "被告人盗窃黄金首饰一条，重10克。经鉴定，被告人尿液中检出甲基苯丙胺成分。";
        assert_eq!(drugs(t3), vec![("甲基苯丙胺".to_string(), None)]);
        let t2 = "查获疑似毒品一包，净重0.7克。经鉴定，检出海洛因成分。";
        assert_eq!(drugs(t2), vec![("海洛因".to_string(), Some(0.7))]);
    }

    #[test]
    fn a_weighing_sentence_is_about_the_drug() {
        // 经称量 … 重 X 克 in a sentence of its own, the drug named in the next one; CAIL also masks 净重 as 净某.
        let t = "被告人将6颗红色圆形片剂卖给陈某。经称量，上述物品重0.55克；经鉴定，检出甲基苯丙胺成分。";
        assert_eq!(drugs(t), vec![("甲基苯丙胺".to_string(), Some(0.55))]);
        let t2 = "被告人以200元的价格贩卖K粉1包。民警从于某某处扣押了净某11.28克白色晶体状物品8小包。";
        assert_eq!(drugs(t2), vec![("氯胺酮".to_string(), Some(11.28))]);
    }

    #[test]
    fn two_types_and_no_weight() {
        let t = "从他处购得净重为0.36克海洛因。后曾某提出购买安定，被告人购买了安定。";
        assert_eq!(drugs(t), vec![("海洛因".to_string(), Some(0.36)), ("地西泮".to_string(), None)]);
        assert!(drugs("社会安定，秩序良好。").is_empty());
    }

    #[test]
    fn statutory_thresholds_and_other_peoples_cases_are_not_weights() {
        let t = "被告人将海洛因0.2克贩卖给刘某，另被查获海洛因0.32克。公诉机关认为被告人贩卖毒品海洛因不满十克。";
        assert_eq!(drugs(t), vec![("海洛因".to_string(), Some(0.52))]);
        let t3 = "查获甲基苯丙胺净重0.75克，又查获甲基苯丙胺净重40.13克。公诉机关认为被告人运输毒品甲基苯丙胺十克以上不满五十克。";
        assert_eq!(drugs(t3), vec![("甲基苯丙胺".to_string(), Some(40.88))]);
        let t2 = "被告人韩某贩卖海洛因0.16克。被告人韩某被抓获后，提供线索，使公安机关顺利侦破他人贩卖41克海洛因案。";
        assert_eq!(drugs(t2), vec![("海洛因".to_string(), Some(0.16))]);
    }

    #[test]
    fn totals_are_not_double_counted() {
        let t = "查获甲基苯丙胺三包，分别净重1克、2克、3克，共计净重6克。";
        assert_eq!(drugs(t), vec![("甲基苯丙胺".to_string(), Some(6.0))]);
    }
}
