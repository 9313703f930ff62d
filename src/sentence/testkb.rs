//! Small knowledge bases built in Rust for the unit tests of the sentencing stage. Their numbers are
//! the statute's and the 2021 guideline's (cited), so the tests read as legal checks.

use crate::kb::model::*;

fn src(s: &str) -> Source {
    Source { cite: s.to_string(), calibrated: false }
}

fn m(lo: f64, hi: f64) -> MonthRange {
    MonthRange { lo, hi }
}

fn el(name: &str) -> Operand {
    Operand::Element(name.to_string())
}

fn th(name: &str) -> Operand {
    Operand::Threshold(name.to_string())
}

fn ge(a: Operand, b: Operand) -> Cond {
    Cond::Cmp(a, CmpOp::Ge, b)
}

/// A band with the usual defaults.
pub fn band(number: u32, when: Option<Cond>, penalty: Penalty, start: Option<(f64, f64)>, cite: &str) -> Band {
    Band {
        number,
        text: None,
        when,
        unless: None,
        overrides: vec![],
        penalty,
        penalty_from: None,
        fine: Requirement::None,
        confiscation: Requirement::None,
        deprivation: Requirement::None,
        start: start.map(|(lo, hi)| (m(lo, hi), src(cite))),
        increments: vec![],
        start_position: None,
        source: src("刑法"),
        loc: Loc::default(),
    }
}

/// A charge with the usual defaults.
pub fn charge(name: &str, article: &str, guideline: Option<&str>, bands: Vec<Band>) -> Charge {
    Charge {
        name: name.to_string(),
        articles: vec![article.to_string()],
        aliases: vec![name.trim_end_matches('罪').to_string()],
        group: None,
        curated: true,
        cues: vec![],
        anti: vec![],
        interpretations: vec![],
        guideline: guideline.map(str::to_string),
        bands,
        converts: vec![],
        requires: vec![],
        yields: vec![],
        cumulative: vec![],
        implies: vec![],
        loc: Loc::default(),
    }
}

fn threshold(name: &str, lo: f64, hi: f64) -> Threshold {
    Threshold {
        name: name.to_string(),
        unit: Unit::Yuan,
        label: name.to_string(),
        national: (lo, hi),
        national_source: src("法释〔2013〕8号 第一条"),
        fallback: Fallback::Min,
        provinces: vec![],
        loc: Loc::default(),
    }
}

fn imprisonment(lo: f64, hi: f64) -> Penalty {
    Penalty { imprisonment: Some(m(lo, hi)), ..Penalty::default() }
}

fn effect(modality: Modality, lighter: bool, mitigate: bool, exempt: bool, heavier: bool) -> Option<Effect> {
    Some(Effect { modality, lighter, mitigate, exempt, heavier })
}

/// A circumstance of the 2021 guideline.
fn circ(name: &str, when: Cond, article: Option<&str>, eff: Option<Effect>, adjust: Option<(f64, f64)>, layer: Layer, clause: &str) -> Circumstance {
    Circumstance {
        name: name.to_string(),
        when,
        article: article.map(str::to_string),
        effect: eff,
        exempt_when: None,
        adjust: adjust.map(|r| (r, src(clause))),
        layer,
        overrides: vec![],
        charges: vec![],
        source: src(clause),
        loc: Loc::default(),
    }
}

/// General circumstances of the 2021 guideline §三, as `knowledge/general/circumstances.law` declares them.
pub fn circumstances() -> Vec<Circumstance> {
    use Layer::*;
    use Modality::*;
    let flag = |n: &str| Cond::Flag(n.to_string());
    let age_in = |lo: f64, hi: f64| {
        Cond::And(vec![ge(el("defendant_age"), Operand::Number(lo)), Cond::Cmp(el("defendant_age"), CmpOp::Lt, Operand::Number(hi))])
    };
    let mut zishou = circ("自首", flag("surrender"), Some("67"), effect(May, true, true, false, false), Some((-40.0, 0.0)), Second, "量刑指导意见(2021) 三(六)");
    zishou.overrides = vec!["坦白".into()];
    let mut renzui = circ("认罪认罚", flag("guilty_plea"), None, None, Some((-30.0, 0.0)), Second, "量刑指导意见(2021) 三(十四)");
    renzui.overrides = vec!["坦白".into()];
    let mut congfan = circ("从犯", flag("accessory"), Some("27"), effect(Shall, true, true, true, false), Some((-50.0, -20.0)), First, "量刑指导意见(2021) 三(五)");
    congfan.exempt_when = Some(flag("minor_crime"));
    vec![
        circ("未成年人(已满12不满16周岁)", age_in(12.0, 16.0), Some("17"), effect(Shall, true, true, false, false), Some((-60.0, -30.0)), First, "量刑指导意见(2021) 三(一)1"),
        circ("未成年人(已满16不满18周岁)", age_in(16.0, 18.0), Some("17"), effect(Shall, true, true, false, false), Some((-50.0, -10.0)), First, "量刑指导意见(2021) 三(一)2"),
        circ("未遂", flag("attempted"), Some("23"), effect(May, true, true, false, false), Some((-50.0, 0.0)), First, "量刑指导意见(2021) 三(四)"),
        congfan,
        circ("中止", flag("discontinuance"), Some("24"), effect(Shall, false, true, true, false), None, First, "刑法第24条第2款"),
        zishou,
        circ("坦白", flag("confession"), Some("67"), effect(May, true, false, false, false), Some((-20.0, 0.0)), Second, "量刑指导意见(2021) 三(七)1"),
        renzui,
        circ("退赃退赔", flag("restitution"), None, None, Some((-30.0, 0.0)), Second, "量刑指导意见(2021) 三(十)"),
        circ("累犯", flag("recidivist"), Some("65"), effect(Shall, false, false, false, true), Some((10.0, 40.0)), Second, "量刑指导意见(2021) 三(十五)"),
    ]
}

/// 盗窃罪 (Art. 264) with the national thresholds of 法释〔2013〕8号 and Beijing's value.
pub fn theft_kb() -> KnowledgeBase {
    let mut kb = KnowledgeBase::default();
    let mut t1 = threshold("盗窃.数额较大", 1000.0, 3000.0);
    t1.provinces.push(ProvinceValue { province: "北京".into(), value: 2000.0, source: src("京"), confidence: None, note: None });
    for t in [t1, threshold("盗窃.数额巨大", 30_000.0, 100_000.0), threshold("盗窃.数额特别巨大", 300_000.0, 500_000.0)] {
        kb.thresholds.insert(t.name.clone(), t);
    }
    let mut b1 = band(
        1,
        Some(Cond::Or(vec![ge(el("amount_yuan"), th("盗窃.数额较大")), Cond::Flag("burglary".into())])),
        Penalty { imprisonment: Some(m(6.0, 36.0)), detention: true, surveillance: true, ..Penalty::default() },
        Some((0.0, 12.0)),
        "量刑指导意见(2021) 四(十一)1(1)",
    );
    b1.fine = Requirement::Optional;
    b1.increments.push(Increment {
        months: 1.0,
        per: Quantity { value: 2000.0, unit: Unit::Yuan },
        element: "amount_yuan".into(),
        above: Some(th("盗窃.数额较大")),
        source: Source { cite: "docs/CALIBRATION.md#theft".into(), calibrated: true },
    });
    let mut b2 = band(2, Some(ge(el("amount_yuan"), th("盗窃.数额巨大"))), imprisonment(36.0, 120.0), Some((36.0, 48.0)), "量刑指导意见(2021) 四(十一)1(2)");
    b2.fine = Requirement::Required;
    let mut b3 = band(
        3,
        Some(ge(el("amount_yuan"), th("盗窃.数额特别巨大"))),
        Penalty { imprisonment: Some(m(120.0, 180.0)), life: true, ..Penalty::default() },
        Some((120.0, 144.0)),
        "量刑指导意见(2021) 四(十一)1(3)",
    );
    b3.fine = Requirement::Required;
    kb.charges.push(charge("盗窃罪", "264", Some("量刑指导意见(2021) 四(十一)"), vec![b1, b2, b3]));
    kb.circumstances = circumstances();
    kb
}

/// 走私、贩卖、运输、制造毒品罪 (Art. 347), numbered as the article lists its paragraphs (heaviest first).
pub fn drug_kb() -> KnowledgeBase {
    let mut kb = KnowledgeBase::default();
    let meth = || Operand::Drug(vec!["甲基苯丙胺".into(), "海洛因".into()]);
    let g = |v: f64| Operand::Quantity(Quantity { value: v, unit: Unit::Gram });
    let mut b1 = band(
        1,
        Some(ge(meth(), g(50.0))),
        Penalty { imprisonment: Some(m(180.0, 180.0)), life: true, death: true, ..Penalty::default() },
        Some((180.0, 180.0)),
        "量刑指导意见(2021) 四(二十)1(1)",
    );
    b1.overrides = vec![2, 3, 4];
    let mut b2 = band(2, Some(ge(meth(), g(10.0))), imprisonment(84.0, 180.0), Some((84.0, 96.0)), "量刑指导意见(2021) 四(二十)1(2)");
    b2.overrides = vec![3, 4];
    let b3 = band(
        3,
        None,
        Penalty { imprisonment: Some(m(6.0, 36.0)), detention: true, surveillance: true, ..Penalty::default() },
        Some((0.0, 36.0)),
        "量刑指导意见(2021) 四(二十)1(3)",
    );
    let mut b4 = band(4, Some(Cond::Flag("serious".into())), imprisonment(36.0, 84.0), Some((36.0, 48.0)), "量刑指导意见(2021) 四(二十)1(3)");
    b4.overrides = vec![3];
    let mut c = charge("走私、贩卖、运输、制造毒品罪", "347", Some("量刑指导意见(2021) 四(二十)"), vec![b1, b2, b3, b4]);
    c.aliases.push("[走私、贩卖、运输、制造]毒品".into());
    kb.charges.push(c);
    kb.circumstances = circumstances();
    kb
}

/// 故意伤害罪 (Art. 234) and 故意杀人罪 (Art. 232, no guideline), 危险驾驶罪 (Art. 133-1, detention only).
pub fn person_kb() -> KnowledgeBase {
    let mut kb = KnowledgeBase::default();
    let lvl = |l: &str| Operand::Level(l.to_string());
    kb.elements.insert(
        "injury_max".into(),
        Element {
            name: "injury_max".into(),
            kind: ElementKind::Grade(vec![("none".into(), 0), ("轻微伤".into(), 1), ("轻伤".into(), 2), ("轻伤二级".into(), 2), ("轻伤一级".into(), 3), ("重伤".into(), 4), ("重伤二级".into(), 4), ("重伤一级".into(), 5), ("死亡".into(), 6)]),
            label: "最重伤情".into(),
            cues: vec![],
            negates: vec![],
            personal: false,
            source: None,
            loc: Loc::default(),
        },
    );
    let b1 = band(
        1,
        Some(ge(el("injury_max"), lvl("轻伤二级"))),
        Penalty { imprisonment: Some(m(6.0, 36.0)), detention: true, surveillance: true, ..Penalty::default() },
        Some((0.0, 24.0)),
        "量刑指导意见(2021) 四(七)1(1)",
    );
    let b2 = band(2, Some(ge(el("injury_max"), lvl("重伤二级"))), imprisonment(36.0, 120.0), Some((36.0, 60.0)), "量刑指导意见(2021) 四(七)1(2)");
    let b3 = band(
        3,
        Some(ge(el("injury_max"), lvl("死亡"))),
        Penalty { imprisonment: Some(m(120.0, 180.0)), life: true, death: true, ..Penalty::default() },
        None,
        "",
    );
    kb.charges.push(charge("故意伤害罪", "234", Some("量刑指导意见(2021) 四(七)"), vec![b1, b2, b3]));
    let k1 = band(1, None, Penalty { imprisonment: Some(m(120.0, 180.0)), life: true, death: true, ..Penalty::default() }, None, "");
    let mut k2 = band(2, Some(Cond::Flag("minor_circumstances".into())), imprisonment(36.0, 120.0), None, "");
    k2.overrides = vec![1];
    kb.charges.push(charge("故意杀人罪", "232", None, vec![k1, k2]));
    let mut d1 = band(1, None, Penalty { detention: true, ..Penalty::default() }, None, "");
    d1.fine = Requirement::Required;
    kb.charges.push(charge("危险驾驶罪", "133-1", Some("量刑指导意见(2021) 四(二)"), vec![d1]));
    kb.circumstances = circumstances();
    kb
}
