//! The compiled knowledge base: plain data produced by `kb::compile` from the checked AST.
//!
//! Every stage after compilation (extract, retrieve, decide, sentence) reads only these types,
//! never the AST, so the statute language can evolve without touching the legal stages.
//! All quantities are stored in base units (see [`Unit::base`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A calendar date (proleptic Gregorian), ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    /// Year, e.g. 2021.
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–31.
    pub day: u32,
}

impl Date {
    /// Builds a date after checking month and day ranges (including leap years).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let dim = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if leap => 29,
            _ => 28,
        };
        (day <= dim).then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.split('-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Date::new(y, m, d)
    }

    /// Full years elapsed from `self` (a birth date) to `on`.
    pub fn years_until(&self, on: Date) -> i32 {
        let mut y = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            y -= 1;
        }
        y
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Where a definition sits in the knowledge files, for explanations and diagnostics after compilation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loc {
    /// Path relative to the knowledge root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// The provenance of a number or rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Citation text: article, interpretation clause, guideline clause, or calibration document.
    pub cite: String,
    /// True when the value was calibrated on development data rather than taken from a legal source.
    pub calibrated: bool,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.calibrated {
            write!(f, "calibrated: {}", self.cite)
        } else {
            f.write_str(&self.cite)
        }
    }
}

/// Units of quantities. Values are stored in the base unit of their dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// 元 (base of money; 万元 is converted).
    Yuan,
    /// Gram (base of weight; kg and mg are converted).
    Gram,
    /// Blood alcohol, mg per 100 ml.
    MgPer100ml,
    /// Month (base of time; years ×12, days ÷30).
    Month,
    /// 次.
    Times,
    /// 人.
    Persons,
    /// 件 / 个 / 部 …
    Items,
    /// Percent.
    Percent,
}

impl Unit {
    /// The name used in `.law` files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Yuan => "yuan",
            Unit::Gram => "g",
            Unit::MgPer100ml => "mg/100ml",
            Unit::Month => "m",
            Unit::Times => "times",
            Unit::Persons => "persons",
            Unit::Items => "items",
            Unit::Percent => "pct",
        }
    }
}

/// A number with its unit, in base units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// Value in the base unit.
    pub value: f64,
    /// Base unit.
    pub unit: Unit,
}

/// A closed range of months.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonthRange {
    /// Lower bound (months).
    pub lo: f64,
    /// Upper bound (months).
    pub hi: f64,
}

/// Which part of the Criminal Law an article belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part {
    /// 总则.
    General,
    /// 分则.
    Special,
}

/// A text of an article that was in force during a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleVersion {
    /// First day in force.
    pub from: Date,
    /// Last day in force (None: until replaced by the next version / the current text).
    pub to: Option<Date>,
    /// Verbatim text.
    pub text: String,
    /// Where the text comes from.
    pub source: String,
}

/// An article of the Criminal Law.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Canonical number: `264`, `133-1` (= 第一百三十三条之一).
    pub number: String,
    /// General or special part.
    pub part: Part,
    /// Chapter / section heading.
    pub chapter: Option<String>,
    /// Current verbatim text.
    pub text: String,
    /// Date the current text took effect (None: since 1997-10-01 or unknown).
    pub in_force: Option<Date>,
    /// Earlier texts, oldest first.
    pub versions: Vec<ArticleVersion>,
    /// Amendments that changed it.
    pub amended_by: Vec<String>,
    /// Editorial notes from the knowledge file (e.g. why a special-part article defines no charge).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Definition site.
    pub loc: Loc,
}

impl Article {
    /// The text in force on `date`: the earlier version covering it, else the current text.
    pub fn text_on(&self, date: Date) -> &str {
        if let Some(f) = self.in_force {
            if date >= f {
                return &self.text;
            }
        }
        for v in &self.versions {
            if date >= v.from && v.to.is_none_or(|t| date <= t) {
                return &v.text;
            }
        }
        &self.text
    }
}

/// Types of element values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ElementKind {
    /// True / false circumstance.
    Bool,
    /// Money in yuan.
    Money,
    /// A measured quantity in the given unit.
    Quantity(Unit),
    /// Ordered levels: (name, rank); several names may share a rank.
    Grade(Vec<(String, i32)>),
    /// A non-negative count.
    Count,
    /// A calendar date.
    Date,
    /// An age in years.
    Age,
}

impl ElementKind {
    /// The unit numeric values of this kind carry, if numeric.
    pub fn unit(&self) -> Option<Unit> {
        match self {
            ElementKind::Money => Some(Unit::Yuan),
            ElementKind::Quantity(u) => Some(*u),
            _ => None,
        }
    }
}

/// A cue: a regex over the fact text, with a weight for ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    /// Rust `regex` syntax. For numeric elements a named group `n` holds the number's text.
    pub pattern: String,
    /// Relative weight (default 1).
    pub weight: f64,
}

/// An element of the vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// Identifier used in conditions and in the output contract.
    pub name: String,
    /// Value type.
    pub kind: ElementKind,
    /// Chinese label.
    pub label: String,
    /// Wording that signals the element.
    pub cues: Vec<Cue>,
    /// Wording that cancels a cue in the same clause.
    pub negates: Vec<String>,
    /// Personal circumstance (自首, 坦白, 立功, 累犯 …): a co-defendant's is not the defendant's.
    #[serde(default)]
    pub personal: bool,
    /// Legal source, if any.
    pub source: Option<Source>,
    /// Definition site.
    pub loc: Loc,
}

/// Which national value a threshold falls back to when the province is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fallback {
    /// Lower end of the national range.
    Min,
    /// Upper end.
    Max,
    /// Midpoint.
    Mid,
}

/// A province's value of a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvinceValue {
    /// Province short name: 北京, 广东, 内蒙古 …
    pub province: String,
    /// Value in base units.
    pub value: f64,
    /// Provenance.
    pub source: Source,
    /// Confidence note from the source table (high / medium / low).
    pub confidence: Option<String>,
    /// Free note (sub-regions etc.).
    pub note: Option<String>,
}

/// A dated parameter: a national rule and per-province values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Identifier, e.g. `盗窃.数额较大`.
    pub name: String,
    /// Unit of its values.
    pub unit: Unit,
    /// Chinese label.
    pub label: String,
    /// National range (lo == hi for a single value), base units.
    pub national: (f64, f64),
    /// Source of the national rule.
    pub national_source: Source,
    /// Value used when the province has no value of its own.
    pub fallback: Fallback,
    /// Province values.
    pub provinces: Vec<ProvinceValue>,
    /// Definition site.
    pub loc: Loc,
}

/// How a threshold value was obtained for a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedThreshold {
    /// The value used.
    pub value: f64,
    /// Its provenance.
    pub source: Source,
    /// True when the national fallback was used because the province had no value (or none was known).
    pub national_fallback: bool,
}

impl Threshold {
    /// The value for `province` (short name), or the national fallback.
    pub fn resolve(&self, province: Option<&str>) -> ResolvedThreshold {
        if let Some(p) = province {
            if let Some(v) = self.provinces.iter().find(|v| v.province == p) {
                return ResolvedThreshold { value: v.value, source: v.source.clone(), national_fallback: false };
            }
        }
        let (lo, hi) = self.national;
        let value = match self.fallback {
            Fallback::Min => lo,
            Fallback::Max => hi,
            Fallback::Mid => (lo + hi) / 2.0,
        };
        ResolvedThreshold { value, source: self.national_source.clone(), national_fallback: lo != hi }
    }
}

/// Comparison operators in conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// An operand of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// An element's value.
    Element(String),
    /// A threshold's value (resolved per province).
    Threshold(String),
    /// A literal quantity (base units).
    Quantity(Quantity),
    /// A plain number (counts, ages).
    Number(f64),
    /// A grade level name; compared by rank against a grade element.
    Level(String),
    /// Total grams of the listed drug types (official names).
    Drug(Vec<String>),
    /// A date, compared with a date element (the law in force on the offence date, 刑法第12条).
    Date(Date),
}

/// A condition over elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cond {
    /// A boolean element holds.
    Flag(String),
    /// A comparison.
    Cmp(Operand, CmpOp, Operand),
    /// All hold.
    And(Vec<Cond>),
    /// Any holds.
    Or(Vec<Cond>),
    /// Does not hold.
    Not(Box<Cond>),
}

/// Whether an accessory penalty is prescribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Requirement {
    /// Not prescribed.
    #[default]
    None,
    /// 可以并处 / 并处或者单处.
    Optional,
    /// 并处.
    Required,
}

/// The principal penalties a band allows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Penalty {
    /// 有期徒刑 range in months.
    pub imprisonment: Option<MonthRange>,
    /// 拘役 allowed (1–6 months, Art. 42).
    pub detention: bool,
    /// 管制 allowed (3 months – 2 years, Art. 38).
    pub surveillance: bool,
    /// 无期徒刑 allowed.
    pub life: bool,
    /// 死刑 allowed.
    pub death: bool,
    /// 单处罚金 allowed as the only penalty.
    pub fine_only: bool,
}

impl Penalty {
    /// The lowest and highest term in months this band allows (life / death count as above 180).
    pub fn month_bounds(&self) -> Option<MonthRange> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        if let Some(r) = self.imprisonment {
            lo = lo.min(r.lo);
            hi = hi.max(r.hi);
        }
        if self.detention {
            lo = lo.min(1.0);
            hi = hi.max(6.0);
        }
        if self.surveillance {
            lo = lo.min(3.0);
            hi = hi.max(24.0);
        }
        if self.fine_only {
            lo = lo.min(0.0);
        }
        (lo.is_finite() && hi.is_finite()).then_some(MonthRange { lo, hi })
    }
}

/// The guideline's increment from 量刑起点 to 基准刑.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Increment {
    /// Months added per step.
    pub months: f64,
    /// Step size (base units of the element).
    pub per: Quantity,
    /// The element that is measured.
    pub element: String,
    /// Counted above this operand (threshold or quantity); None: from zero.
    pub above: Option<Operand>,
    /// Provenance (often calibrated: the national guideline leaves it to provinces).
    pub source: Source,
}

/// A sentencing band (量刑档次) of a charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// 1 = lightest.
    pub number: u32,
    /// Verbatim statute wording of the band, if given.
    pub text: Option<String>,
    /// Condition (None: base band).
    pub when: Option<Cond>,
    /// Exception: the band does not apply when this holds.
    pub unless: Option<Cond>,
    /// Bands this one wins over when both apply.
    pub overrides: Vec<u32>,
    /// Principal penalties (cross-references already resolved by the compiler).
    pub penalty: Penalty,
    /// `like "charge" band N` when the penalty was borrowed.
    pub penalty_from: Option<(String, u32)>,
    /// 罚金.
    pub fine: Requirement,
    /// 没收财产.
    pub confiscation: Requirement,
    /// 剥夺政治权利.
    pub deprivation: Requirement,
    /// Guideline starting point (量刑起点) and its source.
    pub start: Option<(MonthRange, Source)>,
    /// Guideline increments.
    pub increments: Vec<Increment>,
    /// Where inside the starting-point range to start (0 = low end, 1 = high end), when calibrated per band.
    #[serde(default)]
    pub start_position: Option<(f64, Source)>,
    /// Source of the band itself (the article).
    pub source: Source,
    /// Definition site.
    pub loc: Loc,
}

/// A conversion: facts that make the case be decided as another charge (转化犯).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// Target charge name.
    pub to: String,
    /// When it applies.
    pub when: Cond,
    /// Provenance.
    pub source: Source,
}

/// What must be in the fact for a charge to be decided at all: the constitutive result of a result crime
/// (交通肇事: 致人重伤、死亡或者使公私财产遭受重大损失). A fact without it cannot make the charge, whatever words match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeRequirement {
    /// The condition on the facts.
    pub when: Cond,
    /// Provenance (the article or interpretation that makes it constitutive).
    pub source: Source,
}

/// A charge another one gives way to when both are decided for one case: the statute says to punish by the
/// heavier provision (刑法第133条之一第3款 "同时构成其他犯罪的，依照处罚较重的规定定罪处罚").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Yield {
    /// The charge given way to.
    pub to: String,
    /// Provenance.
    pub source: Source,
}

/// A charge punished together with another (数罪并罚) when the acts of both are described, even in one sentence,
/// because a provision says so (法释〔2016〕8号 第十二条第二款: 贩卖毒品 and 容留他人吸毒).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cumulative {
    /// The other charge.
    pub with: String,
    /// When the provision applies (absent: always).
    #[serde(default)]
    pub when: Option<Cond>,
    /// Provenance.
    pub source: Source,
}

/// A charge (罪名).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    /// Official name, ending in 罪.
    pub name: String,
    /// Defining articles (canonical numbers), first is primary.
    pub articles: Vec<String>,
    /// Other names: CAIL names, pre-amendment names.
    pub aliases: Vec<String>,
    /// Chapter / group.
    pub group: Option<String>,
    /// True when cues were curated by hand, false when derived from the article text.
    pub curated: bool,
    /// Retrieval cues.
    pub cues: Vec<Cue>,
    /// Counter-cues.
    pub anti: Vec<Cue>,
    /// Interpretation ids that apply.
    pub interpretations: Vec<String>,
    /// Guideline section covering this charge.
    pub guideline: Option<String>,
    /// Bands, ordered by number.
    pub bands: Vec<Band>,
    /// Conversions to other charges.
    pub converts: Vec<Conversion>,
    /// Constitutive requirements: the charge is not decided when one does not hold on the facts.
    #[serde(default)]
    pub requires: Vec<ChargeRequirement>,
    /// Charges this one gives way to when both are decided.
    #[serde(default)]
    pub yields: Vec<Yield>,
    /// Charges punished together with this one when both acts are described (数罪并罚 by statute).
    #[serde(default)]
    pub cumulative: Vec<Cumulative>,
    /// Bool elements that hold whenever this charge is decided (e.g. `negligent_offence`).
    #[serde(default)]
    pub implies: Vec<String>,
    /// Definition site.
    pub loc: Loc,
}

/// Statutory modality: 可以 or 应当.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Modality {
    /// 可以.
    May,
    /// 应当.
    Shall,
}

/// Statutory effect of a circumstance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// 可以 / 应当.
    pub modality: Modality,
    /// 从轻.
    pub lighter: bool,
    /// 减轻.
    pub mitigate: bool,
    /// 免除.
    pub exempt: bool,
    /// 从重 (aggravating, e.g. 累犯).
    pub heavier: bool,
}

/// Which layer of the guideline's adjustment a circumstance belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layer {
    /// Applied first, multiplicatively (guideline 二(二)2).
    First,
    /// Added and subtracted afterwards.
    Second,
}

/// A general sentencing circumstance (量刑情节).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Circumstance {
    /// Name, e.g. 自首.
    pub name: String,
    /// When it holds.
    pub when: Cond,
    /// Statute article (canonical number), if statutory.
    pub article: Option<String>,
    /// Statutory effect.
    pub effect: Option<Effect>,
    /// Condition under which exemption is allowed.
    pub exempt_when: Option<Cond>,
    /// Guideline adjustment range in percent of the 基准刑 (negative = reduce), and its source.
    pub adjust: Option<((f64, f64), Source)>,
    /// Guideline layer.
    pub layer: Layer,
    /// Circumstances this one displaces when both hold.
    pub overrides: Vec<String>,
    /// Charges it is limited to (a guideline adjustment of one crime); empty: every charge.
    #[serde(default)]
    pub charges: Vec<String>,
    /// Provenance.
    pub source: Source,
    /// Definition site.
    pub loc: Loc,
}

/// A judicial interpretation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    /// Identifier, e.g. 法释2013_8.
    pub id: String,
    /// Full title.
    pub title: String,
    /// Document number (法释〔2013〕8号).
    pub number: Option<String>,
    /// Date issued.
    pub issued: Option<Date>,
    /// Date in force.
    pub in_force: Option<Date>,
    /// File under ../shared/law/ (for reference).
    pub file: Option<String>,
}

/// A value given to an element in a test or computed by extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// Boolean.
    Bool(bool),
    /// Number in the element's base unit (money, quantity, count, age).
    Number(f64),
    /// A grade level name.
    Level(String),
    /// A date.
    Date(Date),
}

/// What an embedded test expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expect {
    /// This charge is decided.
    Charge(String),
    /// This charge is not decided.
    NotCharge(String),
    /// The judgment cites this article (special or general part).
    Article(String),
    /// The judgment does not cite this article.
    NotArticle(String),
    /// This band is selected.
    Band(u32),
    /// The computed term lies in this range (months).
    Term(MonthRange),
}

/// An embedded statute test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbTest {
    /// Test name.
    pub name: String,
    /// Charge exercised (defaults to the enclosing charge).
    pub charge: Option<String>,
    /// Fact text to run the whole pipeline on.
    pub fact: Option<String>,
    /// Elements set directly.
    pub given: Vec<(String, Value)>,
    /// Drugs given directly: (official type, grams).
    pub given_drugs: Vec<(String, f64)>,
    /// Province of the case.
    pub province: Option<String>,
    /// Expectations.
    pub expects: Vec<Expect>,
    /// Definition site.
    pub loc: Loc,
}

/// The whole compiled knowledge base.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeBase {
    /// Articles by canonical number.
    pub articles: BTreeMap<String, Article>,
    /// Charges, in a stable order (by name).
    pub charges: Vec<Charge>,
    /// Elements by name.
    pub elements: BTreeMap<String, Element>,
    /// Thresholds by name.
    pub thresholds: BTreeMap<String, Threshold>,
    /// Circumstances, in file order.
    pub circumstances: Vec<Circumstance>,
    /// Interpretations by id.
    pub interpretations: BTreeMap<String, Interpretation>,
    /// Embedded tests.
    pub tests: Vec<KbTest>,
}
