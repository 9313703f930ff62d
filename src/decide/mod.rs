//! Stage 5 — decision: final charges, defining articles, general articles, with reasons (issue 5).
//!
//! The decision takes the retriever's ranked candidates and reasons as a judge does:
//! 1. conversions (转化犯, `convert` in the knowledge base) turn a charge into another when their condition
//!    holds on the extracted elements (盗窃 + violence to resist arrest → 抢劫, Art. 269); acts of the source
//!    charge set out at another time than the converted one stay that charge (数罪);
//! 2. the best-supported charge is decided;
//! 3. further charges (数罪) are decided only on evidence of their own — the fact names them, similar cases
//!    were decided with them, or their cues match acts elsewhere in the fact — and never when one is the
//!    special or general form of a decided charge (合同诈骗 / 诈骗: 特别法优于普通法, Art. 266 in fine);
//! 4. the articles: each charge's defining articles, the article of an applied conversion, special-part
//!    articles of circumstances that hold (毒品再犯, Art. 356), and general-part articles of circumstances
//!    (自首, 累犯, 从犯 …) and of 数罪并罚 (Art. 69) when present in the knowledge base.
//!
//! Every step is written to `trace` with the article text it rests on.

pub mod metrics;

use crate::contract::TraceStep;
use crate::extract::Extraction;
use crate::kb::model::{Cond, Conversion, Date, KnowledgeBase, Part, Value};
use crate::retrieve::{norm_charge, Candidate};
use std::collections::BTreeSet;

/// A decided charge.
#[derive(Debug, Clone, PartialEq)]
pub struct DecidedCharge {
    /// Official name.
    pub name: String,
    /// Defining articles, primary first.
    pub articles: Vec<String>,
    /// Confidence in [0, 1].
    pub score: f64,
}

/// The decision on one case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Charges decided (several for 数罪).
    pub charges: Vec<DecidedCharge>,
    /// Reasons.
    pub trace: Vec<TraceStep>,
    /// Special-part articles of the judgment (defining articles, conversions, special circumstances).
    pub articles: Vec<String>,
    /// General-part articles applied.
    pub general_articles: Vec<String>,
    /// Caveats for the output's `warnings` (low confidence …).
    pub warnings: Vec<String>,
}

/// Tunable thresholds of the decision: ranking parameters, not legal values, set by hand and checked on the
/// development set with `lexpro eval judgments --loo`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecideConfig {
    /// A further charge needs at least this share of the leading charge's score.
    pub secondary_ratio: f64,
    /// Precedent share that counts as evidence of its own for a further charge.
    pub secondary_precedent: f64,
    /// Cue weight that counts as evidence of its own when its matches lie outside the decided charges'.
    pub secondary_cue: f64,
    /// Cue weight of its own a special form needs to displace the general form leading the ranking.
    pub special_cue: f64,
    /// …and this share of the general form's score.
    pub special_ratio: f64,
    /// …and, on cues alone, at least this share of the leading charge's score.
    pub secondary_cue_ratio: f64,
    /// Weight of a single cue that makes a further charge on its own when all its cue matches lie in sentences
    /// no decided charge's cue matched.
    pub separate_cue_max: f64,
    /// Cue weight a further charge needs when its cues lie in a numbered section of the fact (一、… 二、…)
    /// where the decided charges have none: a separately charged count is a separate offence.
    pub section_cue: f64,
    /// …and this share of the leading charge's score.
    pub section_ratio: f64,
    /// Cue weight a candidate needs for a decided charge that `yields` to it to give way to it.
    pub yield_cue: f64,
    /// Weight of a single cue that makes a further property offence when one of its matches lies in an episode
    /// of the fact (from one time expression to the next) where no decided charge's cue matched.
    pub episode_cue_max: f64,
    /// At most this many charges.
    pub max_charges: usize,
    /// Below this confidence the decision carries a warning.
    pub warn_below: f64,
}

impl Default for DecideConfig {
    fn default() -> Self {
        DecideConfig {
            secondary_ratio: 0.5,
            secondary_precedent: 0.45,
            secondary_cue: 4.0,
            secondary_cue_ratio: 0.5,
            separate_cue_max: 3.0,
            special_cue: 2.0,
            special_ratio: 0.6,
            section_cue: 2.0,
            section_ratio: 0.35,
            yield_cue: 2.0,
            episode_cue_max: 2.0,
            max_charges: 4,
            warn_below: 0.4,
        }
    }
}

/// The element (a bool, `knowledge/elements/core.law`) saying that the text is a 死刑缓期二年执行 judgment sent up for
/// approval (核准, 刑法第48条第2款): only charges whose article provides the death penalty are decided.
pub const DEATH_SENTENCE_UNDER_REVIEW: &str = "death_reprieve_under_review";

/// Decides the charges of a case from its extraction and retrieval candidates.
pub fn decide(
    kb: &KnowledgeBase,
    fact: &str,
    ex: &Extraction,
    candidates: &[Candidate],
) -> Decision {
    decide_with(kb, fact, ex, candidates, &DecideConfig::default())
}

/// Canonical article number from a citation such as `刑法第269条` or `刑法第133条之一`.
pub fn article_in_cite(cite: &str) -> Option<String> {
    let i = cite.find('第')?;
    let rest = &cite[i + '第'.len_utf8()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let after = &rest[digits.len()..];
    let after = after.strip_prefix('条')?;
    let sub = after
        .strip_prefix('之')
        .and_then(|s| s.chars().next())
        .and_then(|c| {
            "一二三四五六七八九"
                .chars()
                .position(|x| x == c)
                .map(|p| p + 1)
        });
    Some(match sub {
        Some(k) => format!("{digits}-{k}"),
        None => digits,
    })
}

/// A verbatim excerpt of an article (its first sentence, at most 80 characters) for reasons.
fn excerpt(kb: &KnowledgeBase, number: &str, date: Option<Date>) -> Option<String> {
    let a = kb.articles.get(number)?;
    let text = match date {
        Some(d) => a.text_on(d),
        None => &a.text,
    };
    let first = text.split('。').next().unwrap_or(text);
    let mut s: String = first.chars().take(80).collect();
    if first.chars().count() > 80 {
        s.push('…');
    }
    Some(s)
}

fn cite_article(kb: &KnowledgeBase, number: &str, date: Option<Date>) -> String {
    match excerpt(kb, number, date) {
        Some(t) => format!("刑法第{number}条：「{t}」"),
        None => format!("刑法第{number}条"),
    }
}

/// True when one charge is the special form of the other (合同诈骗 ⊃ 诈骗, 信用卡诈骗 ⊃ 诈骗): their names
/// share the general one's stem, so only one of them can apply to the same act.
fn special_general(a: &str, b: &str) -> bool {
    let (a, b) = (norm_charge(a), norm_charge(b));
    a != b
        && a.chars().count() >= 2
        && b.chars().count() >= 2
        && (a.ends_with(&b) || b.ends_with(&a))
}

/// Character offsets where the numbered counts of a fact begin (`一、…二、…`, `（一）…（二）…`), when it
/// has at least two; prosecutors and courts set out each offence of 数罪 as a count of its own.
pub fn sections(fact: &str) -> Vec<usize> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| regex::Regex::new(r"(?:^|[。；;：:，,\n])\s*(?:（[一二三四五六七八九十]{1,3}）|\([一二三四五六七八九十]{1,3}\)|[一二三四五六七八九十]{1,3}[、．.])").ok())
        .as_ref()
    else {
        return Vec::new();
    };
    let mut starts = Vec::new();
    for m in re.find_iter(fact) {
        starts.push(fact[..m.end()].chars().count());
    }
    if starts.len() < 2 {
        starts.clear();
    }
    starts
}

/// How many offences the fact says are charged, when it says so: a list of charge names with at least one masked
/// (published judgments write 构成××罪、××罪 for two charges), counts headed by their masked offence (一、××事实
/// 二、××事实), or 一人犯数罪 / 犯二罪 / 犯三罪. 0 when the fact does not say. Neither 数罪并罚 alone (it also joins a
/// new offence to an earlier sentence: 撤销缓刑，数罪并罚) nor 分别构成 alone (分别构成轻伤、轻微伤 are injuries) is
/// counted; 分别构成××罪、××罪 is, as a list.
pub fn stated_offence_count(fact: &str) -> usize {
    static RE: std::sync::OnceLock<Option<(regex::Regex, regex::Regex, regex::Regex)>> = std::sync::OnceLock::new();
    let Some((list, words, headings)) = RE
        .get_or_init(|| {
            Some((
                // A list of charge names with at least one masked: 构成××罪、××罪; 以贩卖毒品罪、××罪.
                regex::Regex::new(
                    r"(?:[×xXＸ＊*]{2,}|\p{Han}{2,10})罪(?:(?:、|和|及|与|以及)(?:[×xXＸ＊*]{2,}|\p{Han}{2,10})罪)+",
                )
                .ok()?,
                regex::Regex::new(r"一人犯数罪|犯(二|两|三|四)罪").ok()?,
                // Counts headed by the (masked) name of their offence: 一、××事实 … 二、××罪 ….
                regex::Regex::new(
                    r"(?:^|[。；：:\s])(?:[一二三四五][、.．]|（[一二三四五]）|\([一二三四五]\))\s*[×xXＸ＊*]{2,}(?:罪|事实|犯罪事实)?",
                )
                .ok()?,
            ))
        })
        .as_ref()
    else {
        return 0;
    };
    let from_headings = headings.find_iter(fact).count();
    let from_headings = if from_headings >= 2 { from_headings } else { 0 };
    let from_list = list
        .find_iter(fact)
        .filter(|m| m.as_str().chars().filter(|c| matches!(c, '×' | 'x' | 'X' | 'Ｘ' | '＊' | '*')).count() >= 2)
        .map(|m| m.as_str().matches(['、', '和', '及', '与']).count() + 1)
        .max()
        .unwrap_or(0);
    let from_words = words
        .captures_iter(fact)
        .map(|c| match c.get(1).map(|m| m.as_str()) {
            Some("三") => 3,
            Some("四") => 4,
            _ => 2,
        })
        .max()
        .unwrap_or(0);
    from_list.max(from_words).max(from_headings)
}

/// The section (0 before the first count) holding character offset `pos`.
fn section_of(starts: &[usize], pos: usize) -> usize {
    starts.partition_point(|&s| s <= pos)
}

/// Character offset where the prosecution's or the court's legal assessment begins (`公诉机关认为…`): what
/// follows restates the acts in legal words and describes no further act.
fn assessment_start(fact: &str) -> usize {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| regex::Regex::new(r"(公诉机关|检察院|本院|公诉人)[^。；]{0,8}认为").ok())
        .as_ref()
    else {
        return usize::MAX;
    };
    re.find(fact)
        .map(|m| fact[..m.start()].chars().count())
        .unwrap_or(usize::MAX)
}

/// Cue spans of a charge that lie in episodes of the described facts (see [`episode_ids`]) other than those
/// holding the evidence of `when`, a conversion's condition: acts of the charge committed at another time.
/// Empty when the condition has no evidence span before the legal assessment.
fn separate_act_spans(
    fact: &str,
    ex: &Extraction,
    when: &Cond,
    cue_spans: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let mut names = BTreeSet::new();
    crate::retrieve::cond_elements(when, &mut names);
    let ids = crate::retrieve::text::episode_ids(fact);
    let episode = |pos: usize| ids.get(pos).copied();
    let limit = assessment_start(fact);
    let conv: BTreeSet<usize> = names
        .iter()
        .filter_map(|n| ex.evidence.get(n))
        .flatten()
        .filter(|s| s.start < limit)
        .filter_map(|s| episode(s.start))
        .collect();
    // The condition may be stated only in the prosecution's assessment (…被发现后，为抗拒抓捕当场以暴力相威胁): the
    // converted act is then the episode of the narrative where force is used.
    let conv = if conv.is_empty() {
        force_words()
            .find_iter(&fact[..fact.char_indices().nth(limit).map_or(fact.len(), |(b, _)| b)])
            .filter_map(|m| episode(fact[..m.start()].chars().count()))
            .collect()
    } else {
        conv
    };
    if conv.is_empty() {
        return Vec::new();
    }
    cue_spans
        .iter()
        .filter(|s| s.0 < limit && episode(s.0).is_some_and(|k| !conv.contains(&k)))
        .copied()
        .collect()
}

/// The article a conversion cites (刑法第269条 → "269"), when the knowledge base has it.
fn conversion_article(kb: &KnowledgeBase, conv: &Conversion) -> Option<String> {
    article_in_cite(&conv.source.cite).filter(|a| kb.articles.contains_key(a))
}

/// Words of force against a person, for locating the act a conversion concerns (刑法第269条).
fn force_words() -> &'static regex::Regex {
    static R: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        regex::Regex::new(r"威胁|暴力|殴打|持刀|拿刀|菜刀|匕首|刺伤|砍伤|捅伤|推倒|打伤|咬伤|拳打脚踢|击打")
            .expect("static regex")
    })
}

fn overlaps(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.0 < y.1 && y.0 < x.1))
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// [`decide`] with explicit thresholds.
pub fn decide_with(
    kb: &KnowledgeBase,
    fact: &str,
    ex: &Extraction,
    candidates: &[Candidate],
    cfg: &DecideConfig,
) -> Decision {
    let mut d = Decision::default();
    let date = match ex.facts.values.get("offence_date") {
        Some(Value::Date(x)) => Some(*x),
        _ => None,
    };
    let mut cands: Vec<Candidate> = candidates.to_vec();
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));

    // 0. A charge whose constitutive requirement (`requires`) does not hold on the facts is not a candidate:
    //    a result crime without its result (交通肇事 without a death, a serious injury or the unpaid loss of
    //    法释〔2000〕33号 第二条), whatever words match. A fact that names the charge as its finding is not
    //    second-guessed (the result may simply not be quoted). Said in the trace for the leading candidates only.
    let mut rank = 0usize;
    let mut dropped: Vec<String> = Vec::new();
    // Direct evidence of a charge: a clear cue (weight 1 or more), the fact naming it, or precedents (used again in 1b).
    let direct = |c: &Candidate| {
        c.signals.cue >= 1.0 || c.signals.mention > 0.0 || c.signals.precedent > 0.0
    };
    // A 死刑缓期二年执行 judgment sent up for approval (刑法第48条) is a judgment for a crime whose article provides the
    // death penalty: a charge without it cannot be the one under review, whatever words its article shares with the
    // text (these reviews state no facts).
    let death_under_review = ex.facts.flag(DEATH_SENTENCE_UNDER_REVIEW);
    cands.retain(|c| {
        rank += 1;
        if c.signals.mention > 0.0 {
            return true;
        }
        let Some(ch) = kb.charges.iter().find(|x| x.name == c.charge) else { return true };
        if death_under_review && !ch.bands.iter().any(|b| b.penalty.death) {
            if rank <= 6 {
                d.trace.push(
                    TraceStep::new(
                        "decide",
                        format!("{} not decided: the judgment under review is 死刑缓期二年执行, and its article provides no death penalty", c.charge),
                    )
                    .cite("刑法第48条"),
                );
            }
            return false;
        }
        // The procedural text of a review (判处…缓期二年执行，剥夺政治权利终身…报请核准) shares words with many
        // articles that provide death (贪污罪's "终身"): overlap with it is no evidence of the crime reviewed.
        if death_under_review && !direct(c) {
            if rank <= 6 {
                d.trace.push(TraceStep::new(
                    "decide",
                    format!("{} not decided: the text reviews a 死刑缓期二年执行 judgment, and only its words overlap with the charge's", c.charge),
                ));
            }
            return false;
        }
        for r in &ch.requires {
            let mut used = Vec::new();
            if !ex.facts.eval(&r.when, kb, &mut used) {
                if rank <= 6 {
                    dropped.push(c.charge.clone());
                    d.trace.push(
                        TraceStep::new(
                            "decide",
                            format!("{} not decided: what the charge requires is not in the fact", c.charge),
                        )
                        .cite(r.source.cite.clone()),
                    );
                }
                return false;
            }
        }
        true
    });
    // What is left after a leading candidate failed its requirement is read on text overlap alone: the fact as
    // described makes no crime (a beating that left 轻微伤), so no charge is decided rather than an unrelated one.
    // Here an established element its bands are written on counts too (the blood alcohol of 危险驾驶).
    if !dropped.is_empty() && !cands.iter().take(6).any(|c| direct(c) || c.signals.element > 0.0) {
        d.trace.push(TraceStep::new(
            "decide",
            format!(
                "no charge decided: {} lacks what it requires, and no other candidate has evidence of its own",
                dropped.join("、")
            ),
        ));
        d.warnings.push(format!("no charge: the fact lacks what {} requires", dropped.join("、")));
        return d;
    }
    if cands.is_empty() && death_under_review {
        d.trace.push(
            TraceStep::new(
                "decide",
                "no charge decided: the text reviews a 死刑缓期二年执行 judgment, and no retrieved charge both provides the death penalty and has evidence in the text beyond word overlap",
            )
            .cite("刑法第48条"),
        );
        d.warnings.push(
            "no charge: the text reviews a 死刑缓期二年执行 judgment (刑法第48条) and describes no act; no retrieved charge both provides the death penalty and has evidence beyond word overlap".into(),
        );
        return d;
    }
    if cands.is_empty() {
        let why = if candidates.is_empty() {
            "no candidate charge was retrieved; no charge decided"
        } else {
            "no retrieved charge has what it requires in the fact; no charge decided"
        };
        d.trace.push(TraceStep::new("decide", why));
        d.warnings.push("no applicable charge found".into());
        return d;
    }

    // 1. Conversions on the leading candidates.
    let mut extra_articles: Vec<(String, String)> = Vec::new();
    let mut remnants: Vec<Candidate> = Vec::new();
    // The source candidate of each applied 第269条 conversion (its cue spans less those set apart above as separate
    // acts), with the charge it converted to: step 3d may decide it for the acts the conversion did not take.
    let mut converted_sources: Vec<(Candidate, String)> = Vec::new();
    let mut i = 0;
    while i < cands.len().min(5) {
        let Some(ch) = kb.charges.iter().find(|c| c.name == cands[i].charge) else {
            i += 1;
            continue;
        };
        let mut converted = false;
        for conv in &ch.converts {
            let mut used = Vec::new();
            if !ex.facts.eval(&conv.when, kb, &mut used)
                || !kb.charges.iter().any(|c| c.name == conv.to)
            {
                continue;
            }
            let from = cands[i].charge.clone();
            // The conversion concerns the act where its condition was met (e.g. the theft where violence
            // was used to resist arrest, Art. 269). Acts of the source charge described in other sentences of
            // the fact remain that charge, and both are punished together (数罪并罚, Art. 69).
            let separate = separate_act_spans(fact, ex, &conv.when, &cands[i].signals.cue_spans);
            if !separate.is_empty() {
                let mut rest = cands[i].clone();
                rest.signals.cue_spans = separate.clone();
                rest.reasons.push(format!(
                    "acts of {from} described apart from the converted one"
                ));
                cands[i].signals.cue_spans.retain(|s| !separate.contains(s));
                remnants.push(rest);
            }
            d.trace.push(
                TraceStep::new(
                    "decide",
                    format!(
                        "{from} converts to {}: the conversion's condition holds",
                        conv.to
                    ),
                )
                .cite(conv.source.cite.clone()),
            );
            if let Some(a) = conversion_article(kb, conv) {
                extra_articles.push((conv.to.clone(), a));
            }
            let c = cands.remove(i);
            // 第269条 converts the one theft (fraud, snatching) where force was used; the offender's other such acts
            // stay what they were. The other conversions (第196条第3款, 第238条第2款, 第267条第2款, 第292条第2款) make
            // the whole act the target charge, so their source is never a further offence on that ground.
            if conversion_article(kb, conv).as_deref() == Some("269") {
                converted_sources.push((c.clone(), conv.to.clone()));
            }
            if let Some(t) = cands.iter_mut().find(|x| x.charge == conv.to) {
                t.score = t.score.max(c.score) + 0.1;
                t.reasons
                    .push(format!("converted from {from} ({})", conv.source.cite));
            } else {
                let target = kb.charges.iter().find(|x| x.name == conv.to);
                let mut t = c;
                t.reasons
                    .push(format!("converted from {from} ({})", conv.source.cite));
                t.charge = conv.to.clone();
                t.articles = target.map(|x| x.articles.clone()).unwrap_or_default();
                cands.insert(i, t);
            }
            converted = true;
            break;
        }
        if !converted {
            i += 1;
        }
    }
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));

    // 1b. Word overlap with an article's text is not evidence of the act: a leader found by BM25 alone gives way
    //     to the best candidate whose own cues, naming or precedents speak for it (e.g. 第241条 quotes 强行与其
    //     发生性关系 and would otherwise win 强奸 facts).
    //     Only a clear signal counts (a cue weight of at least 1), and only a candidate
    //     within reach of the leader's score.
    let weak = |c: &Candidate| {
        c.signals.cue <= 0.0 && c.signals.mention <= 0.0 && c.signals.precedent <= 0.0
    };
    if weak(&cands[0]) {
        let lead = cands[0].score;
        if let Some(j) =
            (1..cands.len().min(6)).find(|&j| direct(&cands[j]) && cands[j].score >= 0.6 * lead)
        {
            let c = cands.remove(j);
            d.trace.push(TraceStep::new(
                "decide",
                format!("{} leads on text overlap alone; {} has direct evidence (cues, naming or precedents) and is preferred", cands[0].charge, c.charge),
            ));
            cands.insert(0, c);
        }
    }

    // 2. The leading charge. When it is the general form of a charge whose own distinguishing cues matched
    //    (诈骗 / 合同诈骗, 受贿 / 非国家工作人员受贿), the special form applies: the general act is always
    //    part of the special one, so the general charge's cues match in both (特别法优于普通法).
    if let Some(j) = (1..cands.len().min(8)).find(|&j| {
        let (g, s) = (&cands[0], &cands[j]);
        norm_charge(&s.charge).ends_with(&norm_charge(&g.charge))
            && s.charge != g.charge
            && s.signals.cue >= cfg.special_cue
            && s.signals.anti < s.signals.cue
            // The prosecution naming the general form does not bind the court (it may change the charge),
            // so the general form's lead from being named is set aside in this comparison.
            && s.score >= cfg.special_ratio * (g.score - crate::retrieve::Weights::default().mention * g.signals.mention)
    }) {
        let s = cands.remove(j);
        d.trace.push(TraceStep::new(
            "decide",
            format!(
                "{} rather than {}: the special form's distinguishing facts are described (特别法优于普通法)",
                s.charge, cands[0].charge
            ),
        ));
        cands.insert(0, s);
    }
    let top = cands[0].clone();
    let mut chosen: Vec<&Candidate> = vec![&cands[0]];
    let mut spans: Vec<(usize, usize)> = top.signals.cue_spans.clone();
    let counts = sections(fact);

    // 3. Further charges on evidence of their own.
    let sentence_ids = crate::retrieve::text::sentence_ids(fact);
    let episode_ids = crate::retrieve::text::episode_ids(fact);
    let episode = |p: usize| episode_ids.get(p).copied();
    let limit = assessment_start(fact);
    let sentence = |p: usize| sentence_ids.get(p).copied();
    // The provision that punishes charges `a` and `b` together (`cumulative`, declared on `a`), if it applies here.
    let declared = |a: &str, b: &str| {
        kb.charges.iter().find(|x| x.name == a).and_then(|x| {
            x.cumulative
                .iter()
                .find(|k| k.with == b && k.when.as_ref().is_none_or(|w| ex.facts.eval(w, kb, &mut Vec::new())))
        })
    };
    for c in cands.iter().skip(1).take(12) {
        if chosen.len() >= cfg.max_charges {
            break;
        }
        let floor = if counts.is_empty() {
            cfg.secondary_ratio
        } else {
            cfg.secondary_ratio.min(cfg.section_ratio)
        };
        if c.score < floor * top.score || c.score <= 0.0 {
            continue;
        }
        let strong = c.score >= cfg.secondary_ratio * top.score;
        if let Some(g) = chosen
            .iter()
            .find(|x| special_general(&x.charge, &c.charge))
        {
            if !(c.signals.mention > 0.0 && g.signals.mention > 0.0) {
                d.trace.push(TraceStep::new(
                    "decide",
                    format!("{} not decided separately: special and general forms of one offence with {} (特别法优于普通法)", c.charge, g.charge),
                ));
                continue;
            }
        }
        let named = c.signals.mention > 0.0;
        let by_precedent = c.signals.precedent >= cfg.secondary_precedent;
        let taken_sentences: BTreeSet<usize> = spans.iter().filter_map(|s| sentence(s.0)).collect();
        let own_acts = (c.signals.cue >= cfg.secondary_cue
            && c.score >= cfg.secondary_cue_ratio * top.score
            && !c.signals.cue_spans.is_empty()
            && !overlaps(&c.signals.cue_spans, &spans))
            // The charge's own wording (a cue of full weight) in a sentence of its own, where no decided
            // charge's cue is: 贩卖毒品 in one sentence, 容留…吸食 in another. One such act is enough; others
            // may share a sentence with a decided charge's act (卖与某某后，容留某某吸食: two offences,
            // 法释〔2016〕8号 第十二条第二款).
            || (c.signals.cue_max >= cfg.separate_cue_max
                && c.signals.anti < c.signals.cue
                && c.score >= cfg.secondary_cue_ratio * top.score
                && !c.signals.cue_spans.is_empty()
                && c.signals.cue_spans.iter().any(|s| sentence(s.0).is_some_and(|k| !taken_sentences.contains(&k))));
        // A count of its own: its cues lie in a numbered section where no decided charge's cues do.
        let own_count = !counts.is_empty()
            && c.signals.cue >= cfg.section_cue
            && c.signals.anti < c.signals.cue
            && c.score >= cfg.section_ratio * top.score
            && {
                let taken: BTreeSet<usize> =
                    spans.iter().map(|s| section_of(&counts, s.0)).collect();
                c.signals.cue_spans.iter().any(|s| {
                    let k = section_of(&counts, s.0);
                    k > 0 && !taken.contains(&k)
                })
            };
        // Serial property offences (侵犯财产罪, 刑法分则第五章): a charge with a cue of weight 2 or more, one of whose cue
        // matches lies in an episode of the fact (from one time expression to the next, `episode_ids`) that holds no
        // decided charge's cue, has another act: a theft one night, a robbery on another. Across chapters a charge's wording in
        // another episode is more often the same incident told again (the robbery motive of a killing), so this
        // reading is kept to the one chapter.
        let property = |name: &str| {
            kb.charges.iter().find(|x| x.name == name).and_then(|x| x.group.as_deref()) == Some("侵犯财产罪")
        };
        let own_episode = c.signals.cue_max >= cfg.episode_cue_max
            && c.signals.anti < c.signals.cue
            && property(&c.charge)
            && chosen.iter().all(|x| property(&x.charge))
            && {
                // Only against decided charges whose own acts are located: one decided by naming or word overlap
                // alone has no episode to compare with.
                let taken: BTreeSet<usize> =
                    spans.iter().filter(|s| s.0 < limit).filter_map(|s| episode(s.0)).collect();
                !taken.is_empty()
                    && c.signals.cue_spans.iter().any(|s| s.0 < limit && episode(s.0).is_some_and(|k| !taken.contains(&k)))
            };
        // Punished together by statute (`cumulative`): the charge's own wording (a cue of full weight) is enough even
        // where it shares a sentence with a decided charge's act (卖与某某后，容留其吸食: 法释〔2016〕8号 第十二条第二款).
        let by_statute = if c.signals.anti < c.signals.cue
            && c.score >= cfg.secondary_cue_ratio * top.score
            // The charge's own wording in the facts, not only in the assessment (公诉机关认为…容留他人吸食毒品, or a
            // 容留 the defendant was once fined for, told there to explain 自首).
            && c.signals.weighted_spans.iter().any(|&((start, _), w)| w >= cfg.separate_cue_max && start < limit)
        {
            chosen.iter().find_map(|x| declared(&c.charge, &x.charge).or_else(|| declared(&x.charge, &c.charge)))
        } else {
            None
        };
        if !((strong && (named || by_precedent || own_acts || own_episode || by_statute.is_some())) || own_count) {
            continue;
        }
        let count = "its cues match a count of the fact (一、二、…) where no other decided charge's do";
        let (why, cite) = if !strong {
            (count, None)
        } else if named {
            ("the fact names it", None)
        } else if by_precedent {
            ("similar cases were decided with it as a further offence", None)
        } else if own_acts {
            ("its cues match acts separate from the other charges'", None)
        } else if own_episode {
            ("its cues match an act at another time (another episode of the fact) than the other charges'", None)
        } else if let Some(k) = by_statute {
            ("its own act is described beside a decided charge's, and the law punishes the two together", Some(k))
        } else {
            (count, None)
        };
        let step = TraceStep::new("decide", format!("{} is a further offence (数罪): {why}", c.charge)).value(c.score);
        d.trace.push(match cite {
            Some(k) => step.cite(k.source.cite.clone()),
            None => step,
        });
        spans.extend(c.signals.cue_spans.iter().copied());
        chosen.push(c);
    }

    // 3b. Separate acts of a converted charge (see step 1).
    for r in &remnants {
        if chosen.len() >= cfg.max_charges || chosen.iter().any(|c| c.charge == r.charge) {
            continue;
        }
        d.trace.push(
            TraceStep::new(
                "decide",
                format!("{} is a further offence (数罪): acts of it are described apart from the act that was converted", r.charge),
            )
            .value(r.score),
        );
        chosen.push(r);
    }

    // 3c. A decided charge that gives way to another (`yields`: one act under two provisions, and the statute
    //     says to punish by the heavier, e.g. 刑法第133条之一第3款) is dropped when that charge is decided too,
    //     and replaced by it when it is a candidate with cues of its own (its `requires` already held in step 0:
    //     醉驾 that caused a death is 交通肇事罪 even where the drunk-driving wording dominates the fact).
    let mut k = 0;
    while k < chosen.len() {
        let Some(y) = kb
            .charges
            .iter()
            .find(|x| x.name == chosen[k].charge)
            .and_then(|ch| {
                ch.yields.iter().find(|y| {
                    chosen.iter().any(|o| o.charge == y.to)
                        || cands.iter().take(8).any(|t| {
                            t.charge == y.to && t.signals.cue >= cfg.yield_cue && t.signals.anti < t.signals.cue
                        })
                })
            })
        else {
            k += 1;
            continue;
        };
        let from = chosen[k].charge.clone();
        d.trace.push(
            TraceStep::new(
                "decide",
                format!("{from} not decided separately: it gives way to {} (依照处罚较重的规定定罪处罚)", y.to),
            )
            .cite(y.source.cite.clone()),
        );
        if chosen.iter().any(|o| o.charge == y.to) {
            chosen.remove(k);
        } else if let Some(t) = cands.iter().find(|t| t.charge == y.to) {
            chosen[k] = t;
            k += 1;
        } else {
            k += 1;
        }
    }

    // 3d. The fact says how many offences are charged (一人犯数罪, 犯二罪, or a list of masked charge
    //     names) and fewer are decided: the best remaining candidates whose own cues speak for them are the
    //     further offences. The number is the prosecution's statement; which charge it is, the evidence decides.
    let stated = stated_offence_count(fact).min(cfg.max_charges);
    // A candidate that cannot join the decided charges: it is one of them, a special or general form of one, or it
    // gives way to one (`yields`).
    let excluded_by = |name: &str, chosen: &[&Candidate]| {
        chosen.iter().any(|x| x.charge == name || special_general(&x.charge, name))
            || kb
                .charges
                .iter()
                .find(|x| x.name == name)
                .is_some_and(|ch| ch.yields.iter().any(|y| chosen.iter().any(|o| o.charge == y.to)))
    };
    if stated > chosen.len() {
        // First the source of a 第269条 conversion (step 1): the prosecution charges the converted act and the
        // source's remaining acts together (…当场使用暴力；多次××他人财物 → ××罪、××罪; 数罪并罚, 第69条). The
        // conversion having applied to it is the evidence of the source's act (a masked fact hides its verbs);
        // counter-cues still rule it out.
        for (src, to) in &converted_sources {
            if chosen.len() >= stated {
                break;
            }
            if excluded_by(&src.charge, &chosen)
                || !chosen.iter().any(|x| &x.charge == to)
                || src.signals.anti > src.signals.cue
            {
                continue;
            }
            d.trace.push(
                TraceStep::new(
                    "decide",
                    format!(
                        "{} is a further offence (数罪): the fact states {stated} offences, and one act of {} converted to {to} (第269条); the others are {}",
                        src.charge, src.charge, src.charge
                    ),
                )
                .value(src.score),
            );
            chosen.push(src);
        }
        for c in cands.iter().take(12) {
            if chosen.len() >= stated {
                break;
            }
            if excluded_by(&c.charge, &chosen)
                || c.signals.cue < 1.0
                || c.signals.anti >= c.signals.cue
            {
                continue;
            }
            d.trace.push(
                TraceStep::new(
                    "decide",
                    format!(
                        "{} is a further offence (数罪): the fact states {stated} offences and its cues are the strongest evidence of another",
                        c.charge
                    ),
                )
                .value(c.score),
            );
            chosen.push(c);
        }
    }

    // 4. Confidence, articles and reasons.
    for (k, c) in chosen.iter().enumerate() {
        let runner = cands
            .iter()
            .filter(|x| x.charge != c.charge)
            .map(|x| x.score)
            .fold(0.0, f64::max);
        let conf = (c.score.max(0.0) / (c.score.max(0.0) + runner.max(0.0) + 0.5)).clamp(0.0, 1.0);
        let articles = kb
            .charges
            .iter()
            .find(|x| x.name == c.charge)
            .map(|x| x.articles.clone())
            .unwrap_or_else(|| c.articles.clone());
        for a in &articles {
            push_unique(&mut d.articles, a);
        }
        let cite = articles.first().map(|a| cite_article(kb, a, date));
        let reasons: Vec<&str> = c.reasons.iter().take(6).map(String::as_str).collect();
        let mut step = TraceStep::new(
            "decide",
            format!(
                "{} {}（{}）: {}",
                if k == 0 { "decided" } else { "also decided" },
                c.charge,
                articles
                    .iter()
                    .map(|a| format!("第{a}条"))
                    .collect::<Vec<_>>()
                    .join("、"),
                reasons.join("; ")
            ),
        )
        .value(conf);
        if let Some(cite) = cite {
            step = step.cite(cite);
        }
        d.trace.push(step);
        if conf < cfg.warn_below {
            d.warnings
                .push(format!("low confidence in {} ({conf:.2})", c.charge));
        }
        // A charge found by word overlap with its article alone: no cue, naming, established element or precedent
        // speaks for it. On the development facts such decisions were right about one time in ten (a review of a
        // death sentence that states no act, an appeal that only confirms the first instance), so the user is told.
        if c.signals.cue <= 0.0
            && c.signals.mention <= 0.0
            && c.signals.precedent <= 0.0
            && c.signals.element <= 0.3
        {
            d.warnings.push(format!(
                "{}: decided on word overlap with the article text alone; the fact describes no act of it that lexpro recognises",
                c.charge
            ));
        }
        d.charges.push(DecidedCharge {
            name: c.charge.clone(),
            articles,
            score: conf,
        });
    }
    for (to, a) in &extra_articles {
        if d.charges.iter().any(|c| &c.name == to) {
            push_unique(&mut d.articles, a);
        }
    }
    // A charge decided directly whose facts meet a conversion into it is decided under that conversion's
    // article too (盗窃罪 for a stolen card used at an ATM: 刑法第196条第3款; 抢劫罪 for violence against the
    // catcher: 第269条), as when the conversion itself ran above.
    for ch in &kb.charges {
        for conv in &ch.converts {
            if !d.charges.iter().any(|c| c.name == conv.to) {
                continue;
            }
            let Some(a) = conversion_article(kb, conv) else { continue };
            if d.articles.contains(&a) {
                continue;
            }
            // Only a condition that describes the converted conduct itself: one of its elements is defined by
            // the conversion's own article (violence_to_resist by 第269条). A generic result (重伤 for 聚众斗殴 →
            // 故意伤害) says nothing of the source charge's conduct.
            let mut els = BTreeSet::new();
            crate::retrieve::cond_elements(&conv.when, &mut els);
            let own = els.iter().any(|e| {
                kb.elements
                    .get(e)
                    .and_then(|x| x.source.as_ref())
                    .and_then(|src| article_in_cite(&src.cite))
                    .is_some_and(|x| x == a)
            });
            if !own {
                continue;
            }
            let mut used = Vec::new();
            if ex.facts.eval(&conv.when, kb, &mut used) {
                d.trace.push(
                    TraceStep::new("decide", format!("{}: the facts meet the conversion from {} (article {a} cited)", conv.to, ch.name))
                        .cite(conv.source.cite.clone()),
                );
                push_unique(&mut d.articles, &a);
            }
        }
    }
    // The strongest rejected alternative, so a reader sees what was weighed.
    if let Some(alt) = cands
        .iter()
        .find(|x| !chosen.iter().any(|c| c.charge == x.charge))
    {
        let anti = if alt.signals.anti > 0.0 {
            "; counter-cues matched"
        } else {
            ""
        };
        d.trace.push(
            TraceStep::new(
                "decide",
                format!(
                    "{} considered and not decided (score {:.2} vs {:.2}{anti})",
                    alt.charge, alt.score, top.score
                ),
            )
            .value(alt.score),
        );
    }

    // Circumstances with their articles: special-part ones (毒品再犯) join the articles, general ones the
    // general articles.
    let mut seen = BTreeSet::new();
    for circ in &kb.circumstances {
        let Some(a) = &circ.article else { continue };
        // A circumstance scoped to some charges (`charge "X"`) applies only when one of them is decided.
        if !circ.charges.is_empty() && !d.charges.iter().any(|c| circ.charges.contains(&c.name)) {
            continue;
        }
        let mut used = Vec::new();
        if !ex.facts.eval(&circ.when, kb, &mut used) || !seen.insert(a.clone()) {
            continue;
        }
        let special = kb.articles.get(a).is_some_and(|x| x.part == Part::Special);
        if special {
            push_unique(&mut d.articles, a);
        } else {
            push_unique(&mut d.general_articles, a);
        }
        d.trace.push(
            TraceStep::new(
                "decide",
                format!("circumstance {} holds: article {a} applies", circ.name),
            )
            .cite(cite_article(kb, a, date)),
        );
    }
    if d.charges.len() > 1 && kb.articles.contains_key("69") {
        push_unique(&mut d.general_articles, "69");
        d.trace.push(
            TraceStep::new(
                "decide",
                format!("{} offences: punished together (数罪并罚)", d.charges.len()),
            )
            .cite(cite_article(kb, "69", date)),
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::model::*;
    use crate::retrieve::tests::tiny_kb;
    use crate::retrieve::{Retriever, Signals};

    fn cand(name: &str, score: f64, s: Signals) -> Candidate {
        Candidate {
            charge: name.into(),
            score,
            reasons: vec!["test".into()],
            signals: s,
            articles: vec![],
            interpretations: vec![],
        }
    }

    /// tiny_kb plus 交通肇事罪, which requires a death (a flag here), and 危险驾驶罪 yielding to it.
    fn traffic_kb() -> KnowledgeBase {
        let mut kb = tiny_kb();
        let mut traffic = kb.charges[3].clone();
        traffic.name = "交通肇事罪".into();
        traffic.articles = vec!["133".into()];
        traffic.requires.push(ChargeRequirement {
            when: Cond::Flag("causes_death".into()),
            source: Source { cite: "刑法第133条".into(), calibrated: false },
        });
        kb.charges[3].yields.push(Yield {
            to: "交通肇事罪".into(),
            source: Source { cite: "刑法第133条之一第3款".into(), calibrated: false },
        });
        kb.charges.push(traffic);
        kb
    }

    fn with_cue(cue: f64) -> Signals {
        Signals { cue, cue_max: cue, ..Default::default() }
    }

    #[test]
    fn a_charge_whose_requirement_fails_is_not_decided() {
        let kb = traffic_kb();
        let cands = [cand("交通肇事罪", 2.0, with_cue(3.0)), cand("危险驾驶罪", 1.5, with_cue(3.0))];
        let d = decide(&kb, "醉酒驾驶，撞坏两车。", &Extraction::default(), &cands);
        assert_eq!(d.charges.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["危险驾驶罪"]);
        let step = d.trace.iter().find(|t| t.message.contains("requires")).expect("the dropped charge is traced");
        assert_eq!(step.cite.as_deref(), Some("刑法第133条"));
        let mut ex = Extraction::default();
        ex.facts.set_bool("causes_death", true);
        let d = decide(&kb, "醉酒驾驶，致一人死亡。", &ex, &cands);
        assert_eq!(d.charges[0].name, "交通肇事罪");
    }

    #[test]
    fn a_yielding_charge_gives_way_to_the_heavier_provision() {
        let kb = traffic_kb();
        let mut ex = Extraction::default();
        ex.facts.set_bool("causes_death", true);
        // The drunk-driving wording dominates, but the fatal crash is described: one act, the heavier provision.
        let cands = [cand("危险驾驶罪", 3.0, with_cue(6.0)), cand("交通肇事罪", 1.0, with_cue(2.0))];
        let d = decide(&kb, "醉酒驾驶，发生交通事故，致一人死亡。", &ex, &cands);
        assert_eq!(d.charges.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["交通肇事罪"]);
        assert!(d.trace.iter().any(|t| t.message.contains("gives way to 交通肇事罪")));
        // Without cues of its own, the other charge is not a reason to give way.
        let cands = [cand("危险驾驶罪", 3.0, with_cue(6.0)), cand("交通肇事罪", 1.0, with_cue(0.5))];
        let d = decide(&kb, "醉酒驾驶。", &ex, &cands);
        assert_eq!(d.charges[0].name, "危险驾驶罪");
    }

    #[test]
    fn charges_the_law_punishes_together_are_both_decided_from_one_sentence() {
        let fact = "被告人卖与某某毒品后容留某某吸食。公诉机关认为，被告人曾容留他人吸食。";
        // A candidate whose cue matches (span, weight) are given; its cue sum and heaviest cue follow from them.
        let with_spans = |name: &str, score: f64, spans: &[((usize, usize), f64)]| {
            let cue = spans.iter().map(|s| s.1).sum();
            let cue_max = spans.iter().map(|s| s.1).fold(0.0, f64::max);
            let signals = Signals {
                cue,
                cue_max,
                cue_spans: spans.iter().map(|s| s.0).collect(),
                weighted_spans: spans.to_vec(),
                ..Default::default()
            };
            cand(name, score, signals)
        };
        let lead = with_spans("盗窃罪", 3.0, &[((2, 10), 6.0)]);
        let other = with_spans("抢夺罪", 2.0, &[((8, 16), 3.0)]);
        let names = |d: &Decision| d.charges.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let mut kb = tiny_kb();
        let d = decide(&kb, fact, &Extraction::default(), &[lead.clone(), other.clone()]);
        assert_eq!(names(&d), ["盗窃罪"], "one sentence, overlapping cues: one act unless the law says otherwise");
        // Declared on either charge, the relation holds both ways.
        let source = Source { cite: "法释〔2016〕8号 第十二条第二款".into(), calibrated: false };
        kb.charges[2].cumulative.push(Cumulative { with: "盗窃罪".into(), when: None, source });
        let d = decide(&kb, fact, &Extraction::default(), &[lead.clone(), other.clone()]);
        assert_eq!(names(&d), ["盗窃罪", "抢夺罪"]);
        let step = d.trace.iter().find(|t| t.message.contains("punishes the two together")).expect("the reason is traced");
        assert_eq!(step.cite.as_deref(), Some("法释〔2016〕8号 第十二条第二款"));
        // The charge's own wording found only in the prosecution's assessment is no act of the facts, even with a
        // lighter cue of it in the facts.
        let start = fact.chars().position(|c| c == '公').expect("the fact has an assessment");
        let mut lead_told_again = lead.clone();
        lead_told_again.signals.cue_spans.push((start + 2, start + 8));
        let late = with_spans("抢夺罪", 2.0, &[((start + 9, start + 17), 3.0)]);
        let d = decide(&kb, fact, &Extraction::default(), &[lead_told_again.clone(), late]);
        assert_eq!(names(&d), ["盗窃罪"]);
        let split = with_spans("抢夺罪", 2.0, &[((8, 16), 2.0), ((start + 9, start + 17), 3.0)]);
        let d = decide(&kb, fact, &Extraction::default(), &[lead_told_again, split]);
        assert_eq!(names(&d), ["盗窃罪"], "the full-weight match must itself lie in the facts");
        // A declaration limited by `when` (e.g. to offences after the amendment that wrote it) holds only then.
        let mut limited = tiny_kb();
        let source = Source { cite: "刑法第358条第3款".into(), calibrated: false };
        let when = Some(Cond::Flag("after_amendment".into()));
        limited.charges[2].cumulative.push(Cumulative { with: "盗窃罪".into(), when, source });
        let d = decide(&limited, fact, &Extraction::default(), &[lead.clone(), other.clone()]);
        assert_eq!(names(&d), ["盗窃罪"]);
        let mut ex = Extraction::default();
        ex.facts.set_bool("after_amendment", true);
        let d = decide(&limited, fact, &ex, &[lead.clone(), other.clone()]);
        assert_eq!(names(&d), ["盗窃罪", "抢夺罪"]);
        // A weaker cue than the charge's own wording is not enough.
        let weak = with_spans("抢夺罪", 2.0, &[((8, 16), 2.0)]);
        let d = decide(&kb, fact, &Extraction::default(), &[lead, weak]);
        assert_eq!(names(&d), ["盗窃罪"]);
    }

    #[test]
    fn a_death_reprieve_under_review_is_no_charge_without_the_death_penalty() {
        let kb = tiny_kb();
        let cands = [cand("盗窃罪", 0.8, Signals { bm25: 1.0, ..Default::default() })];
        let mut ex = Extraction::default();
        let d = decide(&kb, "判处××，缓期二年执行。报送本院核准。", &ex, &cands);
        assert_eq!(d.charges.len(), 1, "without the element the overlap decides, as before");
        ex.facts.set_bool(DEATH_SENTENCE_UNDER_REVIEW, true);
        let d = decide(&kb, "判处××，缓期二年执行。报送本院核准。", &ex, &cands);
        assert!(d.charges.is_empty());
        assert!(d.warnings.iter().any(|w| w.contains("死刑缓期二年执行")), "{:?}", d.warnings);
        // A charge whose article provides death stays a candidate when the text has evidence of it (a cue), not
        // when only its words overlap with the review's procedural text.
        let mut with_death = tiny_kb();
        if let Some(b) = with_death.charges[0].bands.first_mut() {
            b.penalty.death = true;
        }
        let d = decide(&with_death, "判处××，缓期二年执行。报送本院核准。", &ex, &cands);
        assert!(d.charges.is_empty(), "word overlap alone: {:?}", d.charges);
        assert!(d.warnings.iter().any(|w| w.contains("beyond word overlap")), "{:?}", d.warnings);
        // Precedents (similar cases decided with the charge) are evidence too.
        let by_precedent = [cand("盗窃罪", 0.8, Signals { bm25: 1.0, precedent: 0.6, ..Default::default() })];
        let d = decide(&with_death, "判处××，缓期二年执行。报送本院核准。", &ex, &by_precedent);
        assert_eq!(d.charges.len(), 1);
        let cued = [cand("盗窃罪", 0.8, Signals { bm25: 1.0, cue: 2.0, cue_max: 2.0, ..Default::default() })];
        let d = decide(&with_death, "判处××，缓期二年执行。报送本院核准。", &ex, &cued);
        assert_eq!(d.charges.len(), 1);
    }

    #[test]
    fn decides_the_leading_charge_with_its_article_text() {
        let kb = tiny_kb();
        let r = Retriever::new(&kb).unwrap();
        let fact = "被告人张某趁被害人熟睡之机，窃取其手机一部，价值2000元。";
        let ex = Extraction::default();
        let d = decide(&kb, fact, &ex, &r.retrieve(fact, &ex, 10));
        assert_eq!(d.charges.len(), 1);
        assert_eq!(d.charges[0].name, "盗窃罪");
        assert_eq!(d.articles, vec!["264".to_string()]);
        let step = d
            .trace
            .iter()
            .find(|t| t.message.starts_with("decided"))
            .unwrap();
        assert!(
            step.cite.as_deref().unwrap().contains("盗窃公私财物"),
            "{step:?}"
        );
        assert!(d.charges[0].score > 0.0 && d.charges[0].score <= 1.0);
    }

    #[test]
    fn a_charge_found_by_article_text_overlap_alone_carries_a_warning() {
        let kb = tiny_kb();
        let ex = Extraction::default();
        let overlap = Signals { bm25: 1.0, ..Signals::default() };
        let d = decide(&kb, "某某", &ex, &[cand("盗窃罪", 0.8, overlap)]);
        assert_eq!(d.charges.len(), 1);
        assert!(d.warnings.iter().any(|w| w.contains("word overlap with the article text alone")), "{:?}", d.warnings);
        let cued = Signals { cue: 2.0, cue_max: 2.0, bm25: 1.0, ..Signals::default() };
        let d = decide(&kb, "某某", &ex, &[cand("盗窃罪", 0.8, cued)]);
        assert!(!d.warnings.iter().any(|w| w.contains("word overlap")), "{:?}", d.warnings);
    }

    #[test]
    fn conversion_turns_theft_into_robbery_and_cites_its_article() {
        let kb = tiny_kb();
        let r = Retriever::new(&kb).unwrap();
        let fact = "被告人窃取手机后被发现，为抗拒抓捕而殴打被害人。";
        let mut ex = Extraction::default();
        ex.facts.set_bool("violence_to_resist", true);
        let d = decide(&kb, fact, &ex, &r.retrieve(fact, &ex, 10));
        assert_eq!(d.charges[0].name, "抢劫罪");
        assert!(
            d.articles.contains(&"263".to_string()) && d.articles.contains(&"269".to_string()),
            "{:?}",
            d.articles
        );
        assert!(d.trace.iter().any(|t| t.message.contains("converts")));
    }

    #[test]
    fn a_theft_at_another_time_than_the_converted_one_stays_theft() {
        let kb = tiny_kb();
        let r = Retriever::new(&kb).unwrap();
        let evidence = |fact: &str| {
            let mut ex = Extraction::default();
            ex.facts.set_bool("violence_to_resist", true);
            let start = fact.chars().position(|c| c == '为').unwrap();
            ex.evidence.insert(
                "violence_to_resist".into(),
                vec![crate::contract::Span {
                    start,
                    end: start + 5,
                    text: "为抗拒抓捕".into(),
                }],
            );
            ex
        };
        let names = |d: &Decision| d.charges.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        // One act told over two sentences: one conversion, one charge.
        let one = "2016年3月2日凌晨，被告人窃取手机一部。被害人发现后追赶，被告人为抗拒抓捕而殴打被害人。";
        let ex = evidence(one);
        let d = decide(&kb, one, &ex, &r.retrieve(one, &ex, 10));
        assert_eq!(names(&d), ["抢劫罪"], "{:?}", d.trace);
        // A theft on another day stays theft: 数罪.
        let two = "2016年3月2日凌晨，被告人窃取手机后被发现，为抗拒抓捕而殴打被害人。2016年4月5日，被告人在商场窃取钱包一个。";
        let ex = evidence(two);
        let d = decide(&kb, two, &ex, &r.retrieve(two, &ex, 10));
        assert_eq!(names(&d), ["抢劫罪", "盗窃罪"], "{:?}", d.trace);
        assert!(d.articles.contains(&"264".to_string()) && d.articles.contains(&"269".to_string()));
        // The prosecution's assessment restates the act; it is not another one.
        let three = "2016年3月2日凌晨，被告人窃取手机后被发现，为抗拒抓捕而殴打被害人。公诉机关认为，被告人于2016年3月2日窃取他人财物。";
        let ex = evidence(three);
        let d = decide(&kb, three, &ex, &r.retrieve(three, &ex, 10));
        assert_eq!(names(&d), ["抢劫罪"], "{:?}", d.trace);
    }

    #[test]
    fn episodes_begin_at_time_expressions() {
        let ids = crate::retrieve::text::episode_ids("2014年3月2日，甲。次日，乙。");
        assert_eq!(ids[0], 1);
        assert_eq!(ids[9], 1, "年 and 月日 of one date are one expression");
        assert_eq!(*ids.last().unwrap(), 2);
    }

    #[test]
    fn the_charges_own_wording_in_a_sentence_of_its_own_is_a_further_offence() {
        let kb = tiny_kb();
        let ex = Extraction::default();
        let fact = "被告人窃取手机一部。被告人另夺走被害人挎包一个。";
        let theft = Signals { cue: 3.0, cue_max: 3.0, cue_spans: vec![(3, 5)], ..Default::default() };
        // Full-weight cue, alone in the second sentence: decided too.
        let grab = Signals { cue: 3.0, cue_max: 3.0, cue_spans: vec![(15, 17)], ..Default::default() };
        let d = decide(&kb, fact, &ex, &[cand("盗窃罪", 3.0, theft.clone()), cand("抢夺罪", 2.5, grab)]);
        assert_eq!(d.charges.len(), 2, "{:?}", d.trace);
        // Lighter cues summing to the same weight: circumstantial, not decided.
        let grab = Signals { cue: 3.0, cue_max: 1.5, cue_spans: vec![(15, 17)], ..Default::default() };
        let d = decide(&kb, fact, &ex, &[cand("盗窃罪", 3.0, theft.clone()), cand("抢夺罪", 2.5, grab)]);
        assert_eq!(d.charges.len(), 1, "{:?}", d.trace);
        // Full weight, but in the decided charge's sentence: one act.
        let grab = Signals { cue: 3.0, cue_max: 3.0, cue_spans: vec![(6, 8)], ..Default::default() };
        let d = decide(&kb, fact, &ex, &[cand("盗窃罪", 3.0, theft), cand("抢夺罪", 2.5, grab)]);
        assert_eq!(d.charges.len(), 1, "{:?}", d.trace);
    }

    #[test]
    fn the_stated_number_of_offences_is_read_from_the_fact() {
        assert_eq!(stated_offence_count("其行为已构成××罪、××罪，应数罪并罚。"), 2);
        assert_eq!(stated_offence_count("应当以××罪、××罪和××罪追究其刑事责任。"), 3);
        assert_eq!(stated_offence_count("应当以贩卖毒品罪、××罪追究其刑事责任。"), 2);
        // Open names alone are counted by their own naming, not here.
        assert_eq!(stated_offence_count("应当以贩卖毒品罪、容留他人吸毒罪追究其刑事责任。"), 0);
        assert_eq!(stated_offence_count("被告人一人犯数罪，应当数罪并罚。"), 2);
        assert_eq!(stated_offence_count("被告人犯三罪。"), 3);
        assert_eq!(stated_offence_count("指控：一、××事实 被告人窃取手机。二、××事实 被告人持刀劫取现金。"), 2);
        assert_eq!(stated_offence_count("指控：一、××事实 被告人窃取手机。"), 0);
        // 数罪并罚 alone also joins a new offence to an earlier sentence.
        assert_eq!(stated_offence_count("在缓刑考验期内犯新罪，应当撤销缓刑，数罪并罚。"), 0);
        assert_eq!(stated_offence_count("其行为已构成××罪。"), 0);
        assert_eq!(stated_offence_count("经鉴定，二被害人的损伤分别构成轻伤、轻微伤。"), 0);
    }

    #[test]
    fn a_stated_second_offence_is_the_best_remaining_candidate_with_cues() {
        let kb = tiny_kb();
        let ex = Extraction::default();
        // The theft and the snatching cues lie in one sentence: on evidence alone, one act.
        let fact = "被告人窃取手机一部并夺走挎包一个，其行为已构成××罪、××罪。";
        let theft = Signals { cue: 3.0, cue_max: 3.0, cue_spans: vec![(3, 5)], ..Default::default() };
        let grab = Signals { cue: 1.5, cue_max: 1.5, cue_spans: vec![(10, 12)], ..Default::default() };
        let d = decide(&kb, fact, &ex, &[cand("盗窃罪", 3.0, theft.clone()), cand("抢夺罪", 1.2, grab.clone())]);
        assert_eq!(d.charges.len(), 2, "{:?}", d.trace);
        assert!(d.trace.iter().any(|t| t.message.contains("states 2 offences")));
        // Without the statement the snatching is not a further offence.
        let one = "被告人窃取手机一部并夺走挎包一个，其行为已构成××罪。";
        let d = decide(&kb, one, &ex, &[cand("盗窃罪", 3.0, theft.clone()), cand("抢夺罪", 1.2, grab)]);
        assert_eq!(d.charges.len(), 1, "{:?}", d.trace);
        // A candidate found by word overlap alone is not taken, whatever the count.
        let overlap = Signals { bm25: 1.0, ..Default::default() };
        let d = decide(&kb, fact, &ex, &[cand("盗窃罪", 3.0, theft), cand("抢夺罪", 1.2, overlap)]);
        assert_eq!(d.charges.len(), 1, "{:?}", d.trace);
    }

    #[test]
    fn a_further_charge_needs_evidence_of_its_own() {
        let kb = tiny_kb();
        let ex = Extraction::default();
        let s1 = Signals {
            cue: 2.0,
            cue_spans: vec![(0, 2)],
            ..Default::default()
        };
        let s2 = Signals {
            cue: 4.0,
            cue_spans: vec![(1, 3)],
            ..Default::default()
        };
        let d = decide(
            &kb,
            "",
            &ex,
            &[cand("盗窃罪", 2.0, s1.clone()), cand("抢夺罪", 1.8, s2)],
        );
        assert_eq!(d.charges.len(), 1, "overlapping cue spans are one act");
        let s3 = Signals {
            cue: 4.0,
            cue_spans: vec![(10, 12)],
            ..Default::default()
        };
        let d = decide(
            &kb,
            "",
            &ex,
            &[cand("盗窃罪", 2.0, s1), cand("抢夺罪", 1.8, s3)],
        );
        assert_eq!(d.charges.len(), 2, "separate acts are 数罪");
    }

    #[test]
    fn numbered_counts_of_the_fact_are_found() {
        let f = "经审理查明：一、盗窃事实。被告人窃取手机。二、抢夺事实。被告人夺走挎包。";
        let st = sections(f);
        assert_eq!(st.len(), 2, "{st:?}");
        assert_eq!(section_of(&st, 0), 0);
        assert_eq!(section_of(&st, st[1]), 2);
        assert!(sections("被告人窃取手机一部，价值2000元。").is_empty());
    }

    #[test]
    fn a_count_of_its_own_is_a_further_offence() {
        let kb = tiny_kb();
        let ex = Extraction::default();
        let f = "经审理查明：一、被告人窃取手机。二、被告人夺走挎包。";
        let st = sections(f);
        let s1 = Signals {
            cue: 2.0,
            cue_spans: vec![(st[0] + 3, st[0] + 5)],
            ..Default::default()
        };
        let s2 = Signals {
            cue: 2.0,
            cue_spans: vec![(st[1] + 3, st[1] + 5)],
            ..Default::default()
        };
        let d = decide(
            &kb,
            f,
            &ex,
            &[
                cand("盗窃罪", 2.0, s1.clone()),
                cand("抢夺罪", 0.9, s2.clone()),
            ],
        );
        assert_eq!(
            d.charges.len(),
            2,
            "a separate count is 数罪: {:?}",
            d.trace
        );
        // The same candidate in a fact without counts needs the stronger evidence of separate acts.
        let d = decide(
            &kb,
            "被告人窃取手机，后夺走挎包。",
            &ex,
            &[cand("盗窃罪", 2.0, s1.clone()), cand("抢夺罪", 0.9, s2)],
        );
        assert_eq!(d.charges.len(), 1);
        // Cues in the leading charge's own count are the same offence.
        let s3 = Signals {
            cue: 2.0,
            cue_spans: vec![(st[0] + 6, st[0] + 8)],
            ..Default::default()
        };
        let d = decide(
            &kb,
            f,
            &ex,
            &[cand("盗窃罪", 2.0, s1), cand("抢夺罪", 0.9, s3)],
        );
        assert_eq!(d.charges.len(), 1);
    }

    #[test]
    fn special_and_general_forms_are_not_both_decided() {
        let kb = KnowledgeBase::default();
        let ex = Extraction::default();
        let s = Signals {
            precedent: 0.5,
            ..Default::default()
        };
        let d = decide(
            &kb,
            "",
            &ex,
            &[cand("合同诈骗罪", 2.0, s.clone()), cand("诈骗罪", 1.9, s)],
        );
        assert_eq!(d.charges.len(), 1);
        assert!(special_general("合同诈骗罪", "诈骗罪") && !special_general("抢劫罪", "抢夺罪"));
    }

    #[test]
    fn the_special_form_displaces_the_general_when_its_own_facts_are_described() {
        let kb = KnowledgeBase::default();
        let ex = Extraction::default();
        let general = Signals {
            cue: 5.0,
            ..Default::default()
        };
        let special = Signals {
            cue: 3.0,
            ..Default::default()
        };
        let d = decide(
            &kb,
            "",
            &ex,
            &[
                cand("诈骗罪", 2.0, general.clone()),
                cand("合同诈骗罪", 1.5, special),
            ],
        );
        assert_eq!(d.charges.len(), 1);
        assert_eq!(d.charges[0].name, "合同诈骗罪");
        assert!(d
            .trace
            .iter()
            .any(|t| t.message.contains("特别法优于普通法")));
        // Without distinguishing cues of its own the special form does not displace the general one.
        let weak = Signals {
            precedent: 0.3,
            ..Default::default()
        };
        let d = decide(
            &kb,
            "",
            &ex,
            &[cand("诈骗罪", 2.0, general), cand("合同诈骗罪", 1.5, weak)],
        );
        assert_eq!(d.charges[0].name, "诈骗罪");
    }

    #[test]
    fn the_prosecution_naming_the_general_form_does_not_bind_the_court() {
        let kb = KnowledgeBase::default();
        let ex = Extraction::default();
        let named = Signals {
            cue: 5.0,
            mention: 1.0,
            ..Default::default()
        };
        let special = Signals {
            cue: 3.0,
            ..Default::default()
        };
        // 4.5 = 1.5 from the text + 3.0 for being named; the special form's 1.5 beats 0.6 × 1.5.
        let d = decide(
            &kb,
            "",
            &ex,
            &[
                cand("诈骗罪", 4.5, named.clone()),
                cand("合同诈骗罪", 1.5, special),
            ],
        );
        assert_eq!(d.charges[0].name, "合同诈骗罪", "{:?}", d.trace);
        let faint = Signals {
            cue: 3.0,
            ..Default::default()
        };
        let d = decide(
            &kb,
            "",
            &ex,
            &[cand("诈骗罪", 4.5, named), cand("合同诈骗罪", 0.5, faint)],
        );
        assert_eq!(d.charges[0].name, "诈骗罪");
    }

    #[test]
    fn circumstances_give_general_and_special_articles() {
        let mut kb = tiny_kb();
        for (n, part) in [
            ("67", Part::General),
            ("356", Part::Special),
            ("69", Part::General),
        ] {
            kb.articles.insert(
                n.into(),
                Article {
                    number: n.into(),
                    part,
                    chapter: None,
                    text: format!("第{n}条的条文。"),
                    in_force: None,
                    versions: vec![],
                    amended_by: vec![],
                    notes: vec![],
                    loc: Loc::default(),
                },
            );
        }
        for (name, flag, art) in [
            ("自首", "surrender", "67"),
            ("毒品再犯", "drug_recidivist", "356"),
        ] {
            kb.circumstances.push(Circumstance {
                name: name.into(),
                when: Cond::Flag(flag.into()),
                article: Some(art.into()),
                effect: None,
                exempt_when: None,
                adjust: None,
                layer: Layer::Second,
                overrides: vec![],
                charges: vec![],
                source: Source::default(),
                loc: Loc::default(),
            });
        }
        let mut ex = Extraction::default();
        ex.facts.set_bool("surrender", true);
        ex.facts.set_bool("drug_recidivist", true);
        let s1 = Signals {
            mention: 1.0,
            ..Default::default()
        };
        let d = decide(
            &kb,
            "",
            &ex,
            &[cand("盗窃罪", 3.0, s1.clone()), cand("抢夺罪", 3.0, s1)],
        );
        assert_eq!(d.general_articles, vec!["67".to_string(), "69".to_string()]);
        assert!(d.articles.contains(&"356".to_string()));
        // Scoped to a charge not decided: its article stays out.
        for c in kb.circumstances.iter_mut() {
            if c.name == "毒品再犯" {
                c.charges = vec!["走私、贩卖、运输、制造毒品罪".into()];
            }
        }
        let s1 = Signals { mention: 1.0, ..Default::default() };
        let d = decide(&kb, "", &ex, &[cand("盗窃罪", 3.0, s1)]);
        assert!(!d.articles.contains(&"356".to_string()), "{:?}", d.articles);
    }

    #[test]
    fn no_candidates_means_no_charge_and_a_warning() {
        let d = decide(&KnowledgeBase::default(), "", &Extraction::default(), &[]);
        assert!(d.charges.is_empty());
        assert!(!d.warnings.is_empty());
    }

    #[test]
    fn article_numbers_are_read_from_citations() {
        assert_eq!(article_in_cite("刑法第269条").as_deref(), Some("269"));
        assert_eq!(
            article_in_cite("刑法第133条之一第1款").as_deref(),
            Some("133-1")
        );
        assert_eq!(article_in_cite("量刑指导意见"), None);
    }
}
