//! The guideline's method for one charge (《关于常见犯罪的量刑指导意见（试行）》(2021) 二):
//! 量刑起点 → 基准刑 (increments) → adjustment by circumstances (the first layer multiplicatively, the
//! others added and subtracted) → 宣告刑 inside the statutory range, Art. 63 for 减轻处罚, 免除处罚.
//!
//! Where the law gives a range (起点 "三年至四年", 自首 "减少基准刑的40%以下") a court chooses a point;
//! lexpro chooses a documented point ([`Params`]) and says which in the trace.

use super::band::{bounds, next_lower};
use crate::contract::{TermKind, TraceStep};
use crate::kb::eval::Facts;
use crate::kb::model::{Band, Charge, Circumstance, KnowledgeBase, Layer, Modality, MonthRange, Operand};

/// Where lexpro puts its points inside the ranges the law leaves open. Documented in
/// `docs/CALIBRATION.md#params`.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Position of the starting point inside the guideline's 量刑起点 range (0 = low end, 1 = high end).
    pub start_position: f64,
    /// Strength inside a circumstance's percentage range (0 = the weakest adjustment, 1 = the strongest).
    pub adjust_strength: f64,
    /// Position of the starting point inside the band for charges without a guideline starting point;
    /// None derives it from the guideline's own starting points (median relative position).
    pub default_position: Option<f64>,
    /// 无期徒刑 when the adjusted result exceeds the band's fixed-term maximum by this fraction.
    pub life_margin: f64,
    /// 死刑 when the adjusted result exceeds the band's fixed-term maximum by this fraction.
    pub death_margin: f64,
}

impl Default for Params {
    /// The calibrated points (docs/CALIBRATION.md#params): fitted on `../shared/data/cail2018/train.jsonl`
    /// by `lexpro eval terms --calibrate`.
    fn default() -> Self {
        Params { start_position: 0.5, adjust_strength: 0.4, default_position: Some(0.05), life_margin: 0.05, death_margin: 0.1 }
    }
}

impl Params {
    /// The uncalibrated reading: midpoints of every range, the derived default position.
    pub fn midpoints() -> Params {
        Params { start_position: 0.5, adjust_strength: 0.5, default_position: None, life_margin: 0.2, death_margin: 0.5 }
    }
}

/// The principal penalty computed for one charge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Penal {
    /// A term: 有期徒刑, 拘役 or 管制, in whole months.
    Months {
        /// Penalty kind.
        kind: TermKind,
        /// Months.
        months: f64,
    },
    /// 无期徒刑.
    Life,
    /// 死刑.
    Death,
    /// 免予刑事处罚 (Art. 37).
    Exempt,
    /// 单处罚金.
    FineOnly,
}

impl Penal {
    /// Months of custody for combining and scoring (life and death have none).
    pub fn months(&self) -> Option<f64> {
        match self {
            Penal::Months { months, .. } => Some(*months),
            Penal::Exempt | Penal::FineOnly => Some(0.0),
            Penal::Life | Penal::Death => None,
        }
    }

    /// The contract's kind.
    pub fn kind(&self) -> TermKind {
        match self {
            Penal::Months { kind, .. } => *kind,
            Penal::Life => TermKind::Life,
            Penal::Death => TermKind::Death,
            Penal::Exempt => TermKind::Exempt,
            Penal::FineOnly => TermKind::FineOnly,
        }
    }
}

/// The sentence computed for one charge, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeTerm {
    /// Official charge name.
    pub charge: String,
    /// Band used.
    pub band: u32,
    /// Statutory range of the band, months.
    pub range: MonthRange,
    /// The lowest term allowed after 减轻处罚 (Art. 63), when mitigation was applied.
    pub mitigated_floor: Option<f64>,
    /// The lowest term the law allows for this charge on these facts: the next lower band's minimum when a
    /// circumstance permits 减轻处罚 (刑法第63条第1款), else the band's own minimum.
    pub legal_floor: f64,
    /// The penalty.
    pub penal: Penal,
    /// 基准刑 in months (before circumstances).
    pub baseline: f64,
    /// Names of the circumstances applied.
    pub circumstances: Vec<String>,
    /// General-part articles applied.
    pub articles: Vec<String>,
    /// Steps.
    pub trace: Vec<TraceStep>,
    /// Caveats.
    pub warnings: Vec<String>,
}

/// A circumstance that holds, with the percentage chosen.
struct Applied<'a> {
    c: &'a Circumstance,
    pct: f64,
    default_pct: bool,
}

fn step(msg: String, cite: &str, v: f64) -> TraceStep {
    let t = TraceStep::new("sentence", msg).value(round2(v));
    if cite.is_empty() { t } else { t.cite(cite) }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Median relative position of the guideline's starting-point midpoints inside their bands: the
/// guideline's own habit, used for charges it does not cover.
pub fn derived_default_position(kb: &KnowledgeBase) -> f64 {
    let mut v: Vec<f64> = kb
        .charges
        .iter()
        .flat_map(|c| c.bands.iter())
        .filter_map(|b| {
            let (s, _) = b.start.as_ref()?;
            let r = bounds(b)?;
            (r.hi - r.lo > 1e-9).then(|| ((((s.lo + s.hi) / 2.0).clamp(r.lo, r.hi) - r.lo) / (r.hi - r.lo)).clamp(0.0, 1.0))
        })
        .collect();
    if v.is_empty() {
        // No guideline starting point in the knowledge base: the low quarter of the band.
        return 0.25;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Measures an increment's element: a fact value, or `drug(A, B)` for the total grams of those drugs.
pub fn measure(facts: &Facts, element: &str) -> Option<f64> {
    if let Some(list) = element.strip_prefix("drug(").and_then(|s| s.strip_suffix(')')) {
        let types: Vec<String> = list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let g = facts.drug_grams(&types);
        return (g > 0.0).then_some(g);
    }
    facts.number(element)
}

/// Resolves an `above` operand; thresholds resolve per province and report national fallbacks.
fn resolve_operand(kb: &KnowledgeBase, facts: &Facts, o: &Operand, warnings: &mut Vec<String>) -> Option<(f64, String)> {
    match o {
        Operand::Threshold(n) => {
            let t = kb.thresholds.get(n)?;
            let r = t.resolve(facts.province.as_deref());
            if r.national_fallback {
                warnings.push(format!("{n}: 省份{}无本地标准，适用全国标准 {} ({})", province_label(facts), r.value, r.source));
            }
            Some((r.value, format!("{n} = {} ({})", r.value, r.source)))
        }
        Operand::Quantity(q) => Some((q.value, format!("{}", q.value))),
        Operand::Number(x) => Some((*x, format!("{x}"))),
        Operand::Element(e) => facts.number(e).map(|v| (v, format!("{e} = {v}"))),
        Operand::Drug(ts) => Some((facts.drug_grams(ts), format!("drug({})", ts.join(", ")))),
        // An increment counts amounts above a base; a level or a date is no such base.
        Operand::Level(_) | Operand::Date(_) => None,
    }
}

fn province_label(facts: &Facts) -> String {
    facts.province.as_deref().map(|p| format!("「{p}」")).unwrap_or_else(|| "未知".to_string())
}

/// The percentage chosen inside a circumstance's range, and whether it is a lexpro default (the
/// circumstance has only a statutory effect, no guideline percentage).
fn choose_pct(c: &Circumstance, p: &Params) -> Option<(f64, bool)> {
    if let Some(((lo, hi), _)) = &c.adjust {
        let (lo, hi) = (lo.min(*hi), lo.max(*hi));
        // Reductions grow toward `lo` (more negative), increases toward `hi`.
        let v = if hi <= 0.0 { hi - (hi - lo) * p.adjust_strength } else { lo + (hi - lo) * p.adjust_strength };
        return Some((v, false));
    }
    let e = c.effect.as_ref()?;
    // Statute-only circumstances (预备, 中止, 防卫过当 …): the guideline states no percentage, so lexpro
    // uses a default by statutory effect (docs/CALIBRATION.md#defaults).
    let v = if e.heavier {
        10.0
    } else if e.modality == Modality::Shall && e.mitigate && !e.lighter {
        -50.0
    } else if e.mitigate {
        -30.0
    } else if e.lighter {
        -10.0
    } else {
        return None;
    };
    Some((v, true))
}

/// Computes the sentence of `charge` in band `band_no`.
pub fn compute(kb: &KnowledgeBase, facts: &Facts, charge: &Charge, band_no: u32, p: &Params) -> Option<ChargeTerm> {
    let b = charge.bands.iter().find(|b| b.number == band_no)?;
    // Elements the charge implies (e.g. `negligent_offence` for 交通肇事罪) hold for its circumstances.
    let implied;
    let facts = if charge.implies.iter().any(|e| !facts.flag(e)) {
        let mut f = facts.clone();
        for e in &charge.implies {
            f.set_bool(e, true);
        }
        implied = f;
        &implied
    } else {
        facts
    };
    let range = bounds(b)?;
    let mut trace = Vec::new();
    let mut warnings = Vec::new();
    let band_cite = if b.source.cite.is_empty() { format!("刑法第{}条", charge.articles.first().map(String::as_str).unwrap_or("?")) } else { b.source.cite.clone() };
    trace.push(step(
        format!("{} 第{}档：法定刑 {}–{} 个月{}{}", charge.name, b.number, range.lo, range.hi, if b.penalty.life { "，可处无期徒刑" } else { "" }, if b.penalty.death { "，可处死刑" } else { "" }),
        &band_cite,
        range.lo,
    ));

    // 1. 量刑起点.
    // A band's own calibrated position (`extend … { start_at … }`) overrides the global one: courts sit
    // at different places of different ranges (docs/CALIBRATION.md#start).
    let (start_pos, start_pos_src) = match &b.start_position {
        Some((x, src)) => (x.clamp(0.0, 1.0), format!("本档位置，{src}")),
        None => (p.start_position, "calibrated: docs/CALIBRATION.md#params".to_string()),
    };
    let start = match &b.start {
        Some((s, src)) => {
            let (lo, hi) = (s.lo.max(range.lo).min(range.hi), s.hi.max(range.lo).min(range.hi));
            let v = lo + (hi - lo) * start_pos;
            trace.push(step(format!("量刑起点：在 {}–{} 个月幅度内取 {:.0}% 位置（{start_pos_src}）= {:.1} 个月", s.lo, s.hi, start_pos * 100.0, v), &src.to_string(), v));
            v
        }
        None if death_first(b) => {
            // 第232条 lists its penalties from the heaviest ("处死刑、无期徒刑或者十年以上有期徒刑"), the
            // reverse of every other article: lexpro reads that order as the statute's starting point
            // and lets the circumstances step down from it (docs/CALIBRATION.md#death-first).
            let v = range.hi * (1.0 + p.death_margin);
            trace.push(step(
                format!("法定刑以死刑为首（倒序排列）：以死刑为起点，折合 {:.0} 个月（有期徒刑上限的 {:.0}%，docs/CALIBRATION.md#death-first）", v, (1.0 + p.death_margin) * 100.0),
                &band_cite,
                v,
            ));
            warnings.push(format!("{}：无量刑指导意见起点，按法定刑排列顺序以死刑为起点", charge.name));
            v
        }
        None => {
            let (pos, how) = match (&b.start_position, p.default_position) {
                (Some(_), _) => (start_pos, start_pos_src.clone()),
                (None, Some(x)) => (x, "calibrated: docs/CALIBRATION.md#default".to_string()),
                (None, None) => (derived_default_position(kb), "指导意见各罪量刑起点在其幅度内的中位位置，docs/CALIBRATION.md#default".to_string()),
            };
            let v = range.lo + (range.hi - range.lo) * pos;
            let why = if charge.guideline.is_none() { "该罪不在量刑指导意见范围内" } else { "该档无量刑起点" };
            trace.push(step(
                format!("{why}：以法定刑幅度的 {:.0}% 位置为起点（{how}）= {:.1} 个月", pos * 100.0, v),
                &format!("{band_cite}；量刑指导意见(2021) 五(一) 参照"),
                v,
            ));
            warnings.push(format!("{}：无量刑指导意见起点，按法定刑幅度的默认位置确定", charge.name));
            v
        }
    };

    // 2. 基准刑: increments for amount / quantity / harm.
    let mut baseline = start;
    for inc in &b.increments {
        let Some(x) = measure(facts, &inc.element) else { continue };
        let (above, above_txt) = match &inc.above {
            Some(o) => match resolve_operand(kb, facts, o, &mut warnings) {
                Some(v) => v,
                None => continue,
            },
            None => (0.0, "0".to_string()),
        };
        if inc.per.value <= 0.0 {
            continue;
        }
        let steps = ((x - above).max(0.0) / inc.per.value).floor();
        let add = steps * inc.months;
        baseline += add;
        trace.push(step(
            format!("增加刑罚量：{} = {} 超过 {} 的部分每 {} {} 增加 {} 个月，共 {} 步 = +{:.1} 个月", inc.element, round2(x), above_txt, inc.per.value, inc.per.unit.name(), inc.months, steps, add),
            &inc.source.to_string(),
            add,
        ));
    }
    if !b.increments.is_empty() || baseline != start {
        trace.push(step(format!("基准刑 {:.1} 个月", baseline), "量刑指导意见(2021) 二(一)2", baseline));
    }

    // 3. Circumstances.
    let mut used = Vec::new();
    // A circumstance limited to some charges (a guideline adjustment of one crime) applies only to them.
    let holding: Vec<&Circumstance> = kb
        .circumstances
        .iter()
        .filter(|c| c.charges.is_empty() || c.charges.iter().any(|n| n == &charge.name || charge.aliases.contains(n)))
        .filter(|c| facts.eval(&c.when, kb, &mut used))
        .collect();
    let displaced: Vec<&str> = holding.iter().flat_map(|c| c.overrides.iter().map(String::as_str)).collect();
    let mut applied = Vec::new();
    for c in &holding {
        if displaced.contains(&c.name.as_str()) {
            trace.push(TraceStep::new("sentence", format!("{}：被其他情节吸收，不重复评价", c.name)).cite(c.source.to_string()));
            continue;
        }
        if let Some((pct, default_pct)) = choose_pct(c, p) {
            applied.push(Applied { c, pct, default_pct });
        }
    }
    // Statutory effects and articles come from every circumstance that holds: a percentage absorbed by
    // another (不作重复评价) does not take away the power the statute gives (e.g. 第67条 减轻 for 自首).
    let mut articles = Vec::new();
    let mut any_mitigate = false;
    let mut shall_mitigate = false;
    let mut exempt_ok = false;
    for c in &holding {
        if let Some(art) = &c.article {
            if is_general_article(kb, art) && !articles.contains(art) {
                articles.push(art.clone());
            }
        }
        if let Some(e) = &c.effect {
            any_mitigate |= e.mitigate;
            shall_mitigate |= e.modality == Modality::Shall && e.mitigate && !e.lighter;
            exempt_ok |= e.exempt && c.exempt_when.as_ref().is_none_or(|w| facts.eval(w, kb, &mut used));
        }
    }
    let mut result = baseline;
    for layer in [Layer::First, Layer::Second] {
        let group: Vec<&Applied> = applied.iter().filter(|a| a.c.layer == layer).collect();
        if group.is_empty() {
            continue;
        }
        let before = result;
        let mut sum = 0.0;
        for a in &group {
            let cite = a.c.adjust.as_ref().map(|(_, s)| s.to_string()).unwrap_or_else(|| a.c.source.to_string());
            let how = if a.default_pct { "（指导意见无比例，按法定效果取默认值，docs/CALIBRATION.md#defaults）" } else { "" };
            let range_txt = a.c.adjust.as_ref().map(|((lo, hi), _)| format!("幅度 {lo}%..{hi}%，取 ")).unwrap_or_default();
            match layer {
                Layer::First => {
                    result *= 1.0 + a.pct / 100.0;
                    trace.push(step(format!("{}：{range_txt}{:+.0}%{how}，先行连乘调节 → {:.1} 个月", a.c.name, a.pct, result), &cite, result));
                }
                Layer::Second => {
                    sum += a.pct;
                    trace.push(step(format!("{}：{range_txt}{:+.0}%{how}", a.c.name, a.pct), &cite, a.pct));
                }
            }
        }
        if layer == Layer::Second {
            result = before * (1.0 + sum / 100.0).max(0.0);
            trace.push(step(format!("其他情节同向相加、逆向相减：{:+.0}% → {:.1} 个月", sum, result), "量刑指导意见(2021) 二(二)2", result));
            // 累犯 "应当增加基准刑的10%-40%，一般不少于3个月".
            if group.iter().any(|a| a.c.article.as_deref() == Some("65")) && result - before < 3.0 && sum > 0.0 {
                result = before + 3.0;
                trace.push(step("累犯增加的刑罚量一般不少于3个月".to_string(), "量刑指导意见(2021) 三(十五)", result));
            }
        }
    }

    // 4. 宣告刑 within the statutory limits.
    let mut mitigated_floor = None;
    let mut penal_special = None;
    // 免除处罚: an exempting circumstance applies and what is left is less than the lightest penalty.
    if exempt_ok && result < 1.0 {
        trace.push(step(format!("调节结果 {:.2} 个月不足最轻刑罚，犯罪情节轻微，具有免除处罚情节，免予刑事处罚", result), "刑法第37条", 0.0));
        articles.push("37".to_string());
        penal_special = Some(Penal::Exempt);
    }
    if penal_special.is_none() && result > range.hi + 1e-9 {
        let excess = result / range.hi.max(1.0) - 1.0;
        if b.penalty.death && excess >= p.death_margin - 1e-9 {
            penal_special = Some(Penal::Death);
            trace.push(step(format!("调节结果 {:.1} 个月超过有期徒刑上限 {:.0}%以上，本档可处死刑", result, p.death_margin * 100.0), &band_cite, result));
        } else if b.penalty.life && excess >= p.life_margin - 1e-9 {
            penal_special = Some(Penal::Life);
            trace.push(step(format!("调节结果 {:.1} 个月超过有期徒刑上限 {:.0}%以上，本档可处无期徒刑", result, p.life_margin * 100.0), &band_cite, result));
        } else {
            result = range.hi;
            trace.push(step(format!("调节结果在法定最高刑以上，以法定最高刑 {} 个月为宣告刑", range.hi), "量刑指导意见(2021) 二(三)3", result));
        }
    }
    let lower = next_lower(charge, b);
    let floor = lower.and_then(bounds).map(|r| r.lo).unwrap_or(if b.penalty.detention || b.penalty.imprisonment.is_none() { 1.0 } else { 6.0 });
    if penal_special.is_none() {
        if shall_mitigate && result >= range.lo && range.lo > floor {
            result = ((floor + range.lo) / 2.0).max(floor);
            trace.push(step(format!("具有应当减轻处罚情节，在法定最低刑以下确定 {:.1} 个月", result), "量刑指导意见(2021) 二(三)1；刑法第63条第1款", result));
        }
        if result < range.lo - 1e-9 {
            if any_mitigate {
                if result < floor {
                    result = floor;
                }
                mitigated_floor = Some(floor);
                if !articles.iter().any(|a| a == "63") {
                    articles.push("63".to_string());
                }
                trace.push(step(
                    format!("具有法定减轻处罚情节，在下一个量刑幅度内（不低于 {floor} 个月）确定 {:.1} 个月", result),
                    "量刑指导意见(2021) 二(三)2；刑法第63条第1款",
                    result,
                ));
            } else {
                result = range.lo;
                trace.push(step(format!("只有从轻处罚情节，以法定最低刑 {} 个月为宣告刑", range.lo), "量刑指导意见(2021) 二(三)2", result));
            }
        }
    }
    let penal = match penal_special {
        Some(x) => x,
        None => kind_for(b, lower, result, mitigated_floor.is_some()),
    };
    if let Penal::Months { kind, months } = penal {
        let name = match kind {
            TermKind::CriminalDetention => "拘役",
            TermKind::PublicSurveillance => "管制",
            _ => "有期徒刑",
        };
        trace.push(step(format!("宣告刑：{name} {months} 个月"), &band_cite, months));
    }
    Some(ChargeTerm {
        charge: charge.name.clone(),
        band: b.number,
        range,
        mitigated_floor,
        legal_floor: if any_mitigate { floor.min(range.lo) } else { range.lo },
        penal,
        baseline,
        circumstances: applied.iter().map(|a| a.c.name.clone()).collect(),
        articles,
        trace,
        warnings,
    })
}

/// True for an article of the general part (总则, Art. 1–101), by the knowledge base or by number.
fn is_general_article(kb: &KnowledgeBase, art: &str) -> bool {
    match kb.articles.get(art) {
        Some(a) => a.part == crate::kb::model::Part::General,
        None => art.split('-').next().and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n <= 101),
    }
}

/// True when the band's verbatim text names 死刑 before any term ("处死刑、无期徒刑或者十年以上有期徒刑").
fn death_first(b: &Band) -> bool {
    b.penalty.death && b.text.as_deref().is_some_and(|t| t.contains("处死刑、") || t.contains("处死刑或者"))
}

/// Chooses the penalty kind for `months`: 有期徒刑 from six months (Art. 45), 拘役 one to six months
/// (Art. 42), 管制 three months to two years (Art. 38), among what the band (or, after 减轻处罚, the band
/// below) allows.
fn kind_for(b: &Band, lower: Option<&Band>, months: f64, mitigated: bool) -> Penal {
    let pen = &b.penalty;
    let lower_pen = lower.map(|l| &l.penalty);
    let detention = pen.detention || (mitigated && lower_pen.is_none_or(|l| l.detention));
    let imprisonment = pen.imprisonment.is_some() || (mitigated && lower_pen.is_some_and(|l| l.imprisonment.is_some()));
    let m = months.round().max(1.0);
    if imprisonment && (m >= 6.0 || !detention && !pen.surveillance) {
        return Penal::Months { kind: TermKind::FixedTerm, months: m.max(6.0) };
    }
    if detention {
        return Penal::Months { kind: TermKind::CriminalDetention, months: m.clamp(1.0, 6.0) };
    }
    if pen.surveillance {
        return Penal::Months { kind: TermKind::PublicSurveillance, months: m.clamp(3.0, 24.0) };
    }
    if pen.fine_only {
        return Penal::FineOnly;
    }
    if pen.life {
        return Penal::Life;
    }
    Penal::Death
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentence::band::find_charge;
    use crate::sentence::testkb::{drug_kb, person_kb, theft_kb};

    fn run(kb: &KnowledgeBase, f: &Facts, name: &str, band: u32) -> ChargeTerm {
        let c = find_charge(kb, name).expect("charge");
        // The unit tests check the method on the midpoints of every range, where the arithmetic is plain.
        compute(kb, f, c, band, &Params::midpoints()).expect("term")
    }

    fn months(t: &ChargeTerm) -> f64 {
        t.penal.months().expect("months")
    }

    #[test]
    fn theft_band1_start_and_increment() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_number("amount_yuan", 1000.0);
        let t = run(&kb, &f, "盗窃罪", 1);
        // 起点 midpoint of 1..12 months (拘役 starts at one month), no increment at the threshold itself.
        assert_eq!(t.baseline, 6.5);
        assert_eq!(t.penal, Penal::Months { kind: TermKind::FixedTerm, months: 7.0 });
        f.set_number("amount_yuan", 9000.0);
        let t = run(&kb, &f, "盗窃罪", 1);
        // (9000 − 1000) / 2000 = 4 steps of 1 month.
        assert_eq!(t.baseline, 10.5);
        assert!(t.warnings.iter().any(|w| w.contains("全国标准")), "{:?}", t.warnings);
        assert!(t.trace.iter().any(|s| s.cite.as_deref() == Some("calibrated: docs/CALIBRATION.md#theft")));
    }

    #[test]
    fn theft_increment_uses_the_province_threshold() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_number("amount_yuan", 10_000.0);
        f.province = Some("北京".into());
        let t = run(&kb, &f, "盗窃罪", 1);
        assert_eq!(t.baseline, 6.5 + 4.0);
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn theft_band2_and_band3_starts() {
        let kb = theft_kb();
        let f = Facts::default();
        assert_eq!(months(&run(&kb, &f, "盗窃罪", 2)), 42.0);
        assert_eq!(months(&run(&kb, &f, "盗窃罪", 3)), 132.0);
    }

    #[test]
    fn surrender_reduces_by_the_midpoint() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_bool("surrender", true);
        f.set_bool("confession", true);
        let t = run(&kb, &f, "盗窃罪", 2);
        // 42 × (1 − 20%) = 33.6 < 36: 自首 may mitigate (Art. 67) → below the band, into band 1.
        assert_eq!(t.mitigated_floor, Some(1.0));
        assert_eq!(months(&t), 34.0);
        assert_eq!(t.circumstances, vec!["自首".to_string()], "坦白 is absorbed by 自首");
        assert!(t.articles.contains(&"67".to_string()) && t.articles.contains(&"63".to_string()));
    }

    #[test]
    fn confession_only_clamps_to_the_statutory_minimum() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_bool("confession", true);
        let t = run(&kb, &f, "盗窃罪", 2);
        // 42 × 0.9 = 37.8 stays inside; 坦白 cannot go below 36 (从轻 only).
        assert_eq!(months(&t), 38.0);
        f.set_bool("restitution", true);
        let t = run(&kb, &f, "盗窃罪", 2);
        // 42 × (1 − 10% − 15%) = 31.5 → only 从轻 circumstances → statutory minimum 36.
        assert_eq!(months(&t), 36.0);
        assert_eq!(t.mitigated_floor, None);
    }

    #[test]
    fn first_layer_multiplies_before_the_second_adds() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_bool("attempted", true);
        f.set_bool("accessory", true);
        f.set_bool("confession", true);
        let t = run(&kb, &f, "盗窃罪", 3);
        // 132 × 0.75 (未遂 −25%) × 0.65 (从犯 −35%) = 64.35; × (1 − 10%) = 57.9 → 58.
        assert_eq!(months(&t), 58.0);
        // Below 120 via 减轻 into the band below (36..120).
        assert_eq!(t.mitigated_floor, Some(36.0));
    }

    #[test]
    fn an_absorbed_circumstance_keeps_its_statutory_power() {
        let mut kb = theft_kb();
        let mut both = kb.circumstances.iter().find(|c| c.name == "认罪认罚").cloned().expect("认罪认罚");
        both.name = "认罪认罚.兼有自首".into();
        both.when = crate::kb::model::Cond::And(vec![
            crate::kb::model::Cond::Flag("guilty_plea".into()),
            crate::kb::model::Cond::Flag("surrender".into()),
        ]);
        both.adjust = both.adjust.map(|(_, s)| ((-60.0, 0.0), s));
        both.overrides = vec!["认罪认罚".into(), "自首".into(), "坦白".into()];
        kb.circumstances.push(both);
        let mut f = Facts::default();
        f.set_bool("guilty_plea", true);
        f.set_bool("surrender", true);
        let t = run(&kb, &f, "盗窃罪", 2);
        // 42 × (1 − 30%) = 29.4: below 36, allowed because 自首 (第67条 可以减轻) still holds.
        assert_eq!(t.circumstances, vec!["认罪认罚.兼有自首".to_string()]);
        assert_eq!(months(&t), 29.0);
        assert!(t.articles.contains(&"67".to_string()));
    }

    #[test]
    fn recidivism_adds_at_least_three_months() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_number("amount_yuan", 1000.0);
        f.set_bool("recidivist", true);
        let t = run(&kb, &f, "盗窃罪", 1);
        // 6.5 × 25% = 1.6 < 3 → +3 months = 9.5 → 10.
        assert_eq!(months(&t), 10.0);
        assert!(t.articles.contains(&"65".to_string()));
    }

    #[test]
    fn minors_by_age() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_number("defendant_age", 15.0);
        let t = run(&kb, &f, "盗窃罪", 2);
        // 42 × (1 − 45%) = 23.1 → 减轻 allowed (应当从轻或者减轻).
        assert_eq!(months(&t), 23.0);
        f.set_number("defendant_age", 17.0);
        let t = run(&kb, &f, "盗窃罪", 2);
        // 42 × (1 − 30%) = 29.4.
        assert_eq!(months(&t), 29.0);
        f.set_number("defendant_age", 18.0);
        assert_eq!(months(&run(&kb, &f, "盗窃罪", 2)), 42.0);
    }

    #[test]
    fn guilty_plea_absorbs_confession() {
        let kb = theft_kb();
        let mut f = Facts::default();
        f.set_bool("guilty_plea", true);
        f.set_bool("confession", true);
        let t = run(&kb, &f, "盗窃罪", 3);
        assert_eq!(t.circumstances, vec!["认罪认罚".to_string()]);
        // 132 × 0.85 = 112.2 < 120, 从轻 only → 120.
        assert_eq!(months(&t), 120.0);
    }

    #[test]
    fn short_terms_become_detention() {
        let kb = drug_kb();
        let mut f = Facts::default();
        f.drugs.push(("甲基苯丙胺".into(), 0.5));
        f.set_bool("accessory", true);
        f.set_bool("confession", true);
        let t = run(&kb, &f, "走私、贩卖、运输、制造毒品罪", 3);
        // 起点 midpoint of 1..36 = 18.5; × 0.65 × 0.9 = 10.8 → 有期徒刑 11 months.
        assert_eq!(t.penal, Penal::Months { kind: TermKind::FixedTerm, months: 11.0 });
        f.set_bool("attempted", true);
        let t = run(&kb, &f, "走私、贩卖、运输、制造毒品罪", 3);
        // × 0.75 more = 8.1 → still 有期徒刑 8.
        assert_eq!(months(&t), 8.0);
        f.set_number("defendant_age", 15.0);
        let t = run(&kb, &f, "走私、贩卖、运输、制造毒品罪", 3);
        // × 0.55 = 4.5 → 拘役 4 (round half to even is not used: 4.46 → 4).
        assert_eq!(t.penal, Penal::Months { kind: TermKind::CriminalDetention, months: 4.0 });
    }

    #[test]
    fn exemption_needs_an_exempting_circumstance_and_a_tiny_result() {
        let kb = person_kb();
        let mut f = Facts::default();
        f.set_bool("accessory", true);
        f.set_bool("minor_crime", true);
        let c = find_charge(&kb, "危险驾驶罪").expect("charge");
        let p = Params { default_position: Some(0.0), ..Params::midpoints() };
        let t = compute(&kb, &f, c, 1, &p).expect("term");
        // 1 month × 0.65 = 0.65 < 1, 从犯 may be exempted when the crime is minor.
        assert_eq!(t.penal, Penal::Exempt);
        f.set_bool("minor_crime", false);
        let t = compute(&kb, &f, c, 1, &p).expect("term");
        assert_eq!(t.penal, Penal::Months { kind: TermKind::CriminalDetention, months: 1.0 });
    }

    #[test]
    fn drug_band1_fixed_fifteen_years_and_life() {
        let kb = drug_kb();
        let f = Facts::default();
        assert_eq!(months(&run(&kb, &f, "走私、贩卖、运输、制造毒品罪", 1)), 180.0);
        let mut f = Facts::default();
        f.set_bool("recidivist", true);
        // 180 × 1.25 = 225 = +25% over the fixed-term maximum → life (margin 20%).
        assert_eq!(run(&kb, &f, "走私、贩卖、运输、制造毒品罪", 1).penal, Penal::Life);
    }

    #[test]
    fn drug_band2_mitigation_goes_to_the_band_below_by_severity() {
        let kb = drug_kb();
        let mut f = Facts::default();
        f.set_bool("accessory", true);
        f.set_bool("attempted", true);
        let t = run(&kb, &f, "走私、贩卖、运输、制造毒品罪", 2);
        // 90 × 0.75 × 0.65 = 43.9: below 84 → band 4 (36..84).
        assert_eq!(t.mitigated_floor, Some(36.0));
        assert_eq!(months(&t), 44.0);
    }

    #[test]
    fn charge_without_guideline_uses_the_derived_default_position() {
        let kb = person_kb();
        let pos = derived_default_position(&kb);
        // Injury starts: 0..24 in 1..36 → (12−1)/35 = 0.314; 36..60 in 36..120 → 12/84 = 0.143.
        assert!((pos - 0.3143).abs() < 1e-3, "{pos}");
        let t = run(&kb, &Facts::default(), "故意杀人罪", 1);
        assert_eq!(months(&t), (120.0 + 60.0 * pos).round());
        assert!(t.warnings.iter().any(|w| w.contains("无量刑指导意见起点")));
    }

    #[test]
    fn death_first_articles_start_from_death_and_step_down() {
        let mut kb = person_kb();
        if let Some(c) = kb.charges.iter_mut().find(|c| c.name == "故意杀人罪") {
            c.bands[0].text = Some("故意杀人的，处死刑、无期徒刑或者十年以上有期徒刑".into());
        }
        let mut f = Facts::default();
        assert_eq!(run(&kb, &f, "故意杀人罪", 1).penal, Penal::Death);
        // 自首 −20%: 270 × 0.8 = 216 = 120% of 180 → life.
        f.set_bool("surrender", true);
        assert_eq!(run(&kb, &f, "故意杀人罪", 1).penal, Penal::Life);
        // 未遂 −25% first, then 自首 −20%: 270 × 0.75 × 0.8 = 162 → a fixed term.
        f.set_bool("attempted", true);
        assert_eq!(months(&run(&kb, &f, "故意杀人罪", 1)), 162.0);
    }

    #[test]
    fn injury_band_boundaries() {
        let kb = person_kb();
        let f = Facts::default();
        let t = run(&kb, &f, "故意伤害罪", 1);
        // 起点 midpoint of 1..24 (the band's floor is 拘役 1 month) = 12.5 → 13 (round half away from zero).
        assert_eq!(months(&t), 13.0);
        assert_eq!(months(&run(&kb, &f, "故意伤害罪", 2)), 48.0);
    }

    #[test]
    fn drunk_driving_stays_detention() {
        let kb = person_kb();
        let mut f = Facts::default();
        f.set_bool("recidivist", true);
        let t = run(&kb, &f, "危险驾驶罪", 1);
        assert_eq!(t.penal.kind(), TermKind::CriminalDetention);
        assert!(months(&t) <= 6.0);
    }

    #[test]
    fn implied_elements_reach_the_circumstances() {
        let mut kb = theft_kb();
        kb.charges[0].implies = vec!["confession".into()];
        let t = run(&kb, &Facts::default(), "盗窃罪", 2);
        assert_eq!(t.circumstances, vec!["坦白".to_string()]);
    }

    #[test]
    fn crime_specific_circumstances_stay_with_their_crime() {
        let mut kb = theft_kb();
        if let Some(c) = kb.circumstances.iter_mut().find(|c| c.name == "坦白") {
            c.charges = vec!["诈骗罪".into()];
        }
        let mut f = Facts::default();
        f.set_bool("confession", true);
        assert!(run(&kb, &f, "盗窃罪", 2).circumstances.is_empty());
    }

    #[test]
    fn band_start_position_overrides_the_global_point() {
        let mut kb = theft_kb();
        let f = Facts::default();
        // Band 2: 起点 36..48 months; the global midpoint gives 42.
        assert_eq!(months(&run(&kb, &f, "盗窃罪", 2)), 42.0);
        let src = crate::kb::model::Source { cite: "docs/CALIBRATION.md#start".into(), calibrated: true };
        kb.charges[0].bands[1].start_position = Some((0.25, src));
        let t = run(&kb, &f, "盗窃罪", 2);
        // 36 + 0.25 × 12 = 39; the other bands keep the global point.
        assert_eq!(months(&t), 39.0);
        assert!(t.trace.iter().any(|s| s.message.contains("本档位置") && s.message.contains("calibrated: docs/CALIBRATION.md#start")), "{:?}", t.trace);
        assert_eq!(months(&run(&kb, &f, "盗窃罪", 3)), 132.0);
    }

    #[test]
    fn band_start_position_places_bands_without_a_guideline_start() {
        let mut kb = person_kb();
        let src = crate::kb::model::Source { cite: "docs/CALIBRATION.md#start".into(), calibrated: true };
        if let Some(c) = kb.charges.iter_mut().find(|c| c.name == "故意杀人罪") {
            c.bands[1].start_position = Some((0.5, src));
        }
        // 故意杀人罪 band 2 (3..10 years) has no guideline start: 36 + 0.5 × 84 = 78.
        let t = run(&kb, &Facts::default(), "故意杀人罪", 2);
        assert_eq!(months(&t), 78.0);
    }

    #[test]
    fn scoped_circumstance_applies_to_its_charge_only() {
        let mut kb = theft_kb();
        if let Some(c) = kb.circumstances.iter_mut().find(|c| c.name == "坦白") {
            c.charges = vec!["盗窃罪".into()];
        }
        let mut f = Facts::default();
        f.set_bool("confession", true);
        assert_eq!(run(&kb, &f, "盗窃罪", 2).circumstances, vec!["坦白".to_string()]);
    }

    #[test]
    fn drug_measure_sums_listed_types() {
        let mut f = Facts::default();
        f.drugs.push(("甲基苯丙胺".into(), 3.0));
        f.drugs.push(("海洛因".into(), 2.0));
        f.drugs.push(("氯胺酮".into(), 7.0));
        assert_eq!(measure(&f, "drug(甲基苯丙胺, 海洛因)"), Some(5.0));
        assert_eq!(measure(&f, "drug(大麻)"), None);
        assert_eq!(measure(&f, "amount_yuan"), None);
    }
}
