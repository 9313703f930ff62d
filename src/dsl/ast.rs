//! The typed AST of `.law` files. Every name and reference keeps its span, so the checker can point at it.
//! Quantities are already converted to base units (the unit conversion is lexical: 3y = 36 months).

use crate::kb::model::{CmpOp, Date, Unit};

/// A byte span in a registered source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// File id in the `SourceMap`.
    pub file: usize,
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
}

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where.
    pub span: Span,
}

/// A quantity literal in base units; `unit` is None for a bare number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QtyAst {
    /// Value in base units.
    pub value: f64,
    /// Base unit, if written.
    pub unit: Option<Unit>,
    /// Where.
    pub span: Span,
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileAst {
    /// Its id in the `SourceMap`.
    pub file_id: usize,
    /// Items in file order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `article`.
    Article(ArticleAst),
    /// `element`.
    Element(ElementAst),
    /// `threshold`.
    Threshold(ThresholdAst),
    /// `charge`.
    Charge(ChargeAst),
    /// `extend`.
    Extend(ExtendAst),
    /// `circumstance`.
    Circumstance(CircumstanceAst),
    /// `interpretation`.
    Interpretation(InterpretationAst),
    /// top-level `test`.
    Test(TestAst),
}

/// `source "…"` / `calibrated "…"`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceAst {
    /// Citation.
    pub cite: String,
    /// Calibrated rather than legal.
    pub calibrated: bool,
    /// Where.
    pub span: Span,
}

/// An earlier article text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VersionAst {
    /// First day.
    pub from: Option<Spanned<Date>>,
    /// Last day.
    pub to: Option<Spanned<Date>>,
    /// Source citation.
    pub source: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// Where the block is.
    pub span: Span,
}

/// `article N { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleAst {
    /// Canonical number.
    pub number: Spanned<String>,
    /// `general` / `special`.
    pub part: Option<Spanned<String>>,
    /// Chapter heading.
    pub chapter: Option<String>,
    /// Date the current text took effect.
    pub in_force: Option<Spanned<Date>>,
    /// Current text.
    pub text: Option<String>,
    /// Earlier texts.
    pub versions: Vec<VersionAst>,
    /// Amendments.
    pub amended_by: Vec<String>,
    /// Editorial notes (e.g. why the article defines no charge).
    pub notes: Vec<String>,
}

/// A cue or anti-cue.
#[derive(Debug, Clone, PartialEq)]
pub struct CueAst {
    /// Regex.
    pub pattern: Spanned<String>,
    /// Weight (default 1).
    pub weight: f64,
}

/// Element type as written.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeAst {
    /// bool, money, grade, count, date, age.
    Simple(String),
    /// quantity UNIT.
    Quantity(Unit),
}

/// `element NAME TYPE { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementAst {
    /// Name.
    pub name: Spanned<String>,
    /// Type.
    pub ty: Spanned<TypeAst>,
    /// Label.
    pub label: Option<String>,
    /// Cues.
    pub cues: Vec<CueAst>,
    /// Negation patterns.
    pub negates: Vec<Spanned<String>>,
    /// Source.
    pub source: Option<String>,
    /// Grade levels.
    pub levels: Vec<(Spanned<String>, i32)>,
    /// A personal circumstance: a co-defendant's cannot be lent to the defendant.
    pub personal: bool,
}

/// A province value of a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvinceAst {
    /// Province short name.
    pub province: Spanned<String>,
    /// Value.
    pub value: QtyAst,
    /// Source.
    pub source: SourceAst,
    /// Confidence.
    pub confidence: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// `threshold NAME TYPE { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdAst {
    /// Name.
    pub name: Spanned<String>,
    /// Type.
    pub ty: Spanned<TypeAst>,
    /// Label.
    pub label: Option<String>,
    /// National range.
    pub national: Option<(QtyAst, QtyAst, SourceAst)>,
    /// Fallback (`min` default).
    pub fallback: Option<String>,
    /// Province values.
    pub provinces: Vec<ProvinceAst>,
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum CondAst {
    /// A name used as a boolean.
    Flag(Spanned<String>),
    /// A comparison.
    Cmp(OperandAst, Spanned<CmpOp>, OperandAst),
    /// Conjunction.
    And(Vec<CondAst>),
    /// Disjunction.
    Or(Vec<CondAst>),
    /// Negation.
    Not(Box<CondAst>),
}

/// An operand as written; a bare name is resolved by the checker (element, threshold or grade level).
#[derive(Debug, Clone, PartialEq)]
pub enum OperandAst {
    /// A name.
    Name(Spanned<String>),
    /// A quantity or number.
    Qty(QtyAst),
    /// `drug(…)`.
    Drug(Vec<Spanned<String>>, Span),
    /// A date literal (`2021-03-01`), compared with a date element.
    Date(Spanned<crate::kb::model::Date>),
}

/// `increment … per … of … [above …] source|calibrated …`.
#[derive(Debug, Clone, PartialEq)]
pub struct IncrementAst {
    /// Months added.
    pub amount: QtyAst,
    /// Step.
    pub per: QtyAst,
    /// Element measured, or `drug(A, B)` for the total grams of those drugs.
    pub element: Spanned<String>,
    /// Drug types when the increment measures drugs.
    pub drugs: Vec<String>,
    /// Counted above.
    pub above: Option<OperandAst>,
    /// Provenance.
    pub source: SourceAst,
}

/// A penalty item.
#[derive(Debug, Clone, PartialEq)]
pub enum PenaltyItemAst {
    /// imprisonment LO..HI.
    Imprisonment(QtyAst, QtyAst),
    /// detention / surveillance / life / death / fine_only.
    Word(Spanned<String>),
}

/// `penalty …`.
#[derive(Debug, Clone, PartialEq)]
pub enum PenaltyAst {
    /// Listed items.
    Items(Vec<PenaltyItemAst>),
    /// `like "charge" band N`.
    Like(Spanned<String>, Spanned<u32>),
}

/// `band N { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct BandAst {
    /// Number.
    pub number: Spanned<u32>,
    /// Statute wording.
    pub text: Option<String>,
    /// Condition.
    pub when: Option<CondAst>,
    /// Exception.
    pub unless: Option<CondAst>,
    /// Overridden bands.
    pub overrides: Vec<Spanned<u32>>,
    /// Penalty.
    pub penalty: Option<PenaltyAst>,
    /// 罚金.
    pub fine: Option<String>,
    /// 没收财产.
    pub confiscation: Option<String>,
    /// 剥夺政治权利.
    pub deprivation: Option<String>,
    /// 量刑起点.
    pub start: Option<(QtyAst, QtyAst, SourceAst)>,
    /// Increments.
    pub increments: Vec<IncrementAst>,
    /// Source of the band.
    pub source: Option<String>,
    /// Reason the band does not chain with its neighbours.
    pub unchained: Option<String>,
    /// Span of the `band` keyword line.
    pub span: Span,
}

/// `convert "charge" when … source …`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertAst {
    /// Target charge.
    pub to: Spanned<String>,
    /// Condition.
    pub when: CondAst,
    /// Provenance.
    pub source: SourceAst,
}

/// `requires … source …`: what must be in the fact for the charge to be decided at all.
#[derive(Debug, Clone, PartialEq)]
pub struct RequireAst {
    /// Condition.
    pub when: CondAst,
    /// Provenance.
    pub source: SourceAst,
}

/// `yields "charge" source …`: when both are decided for the case, this charge gives way to that one.
#[derive(Debug, Clone, PartialEq)]
pub struct YieldAst {
    /// The charge this one gives way to.
    pub to: Spanned<String>,
    /// Provenance.
    pub source: SourceAst,
}

/// `cumulative "charge" source …`: an act of this charge described together with an act of that one (even in one
/// sentence) is a further offence, punished together (数罪并罚), because the law says so.
#[derive(Debug, Clone, PartialEq)]
pub struct CumulativeAst {
    /// The other charge.
    pub with: Spanned<String>,
    /// When the provision applies (e.g. the offence date of the amendment that wrote it), if limited.
    pub when: Option<CondAst>,
    /// Provenance.
    pub source: SourceAst,
}

/// `charge "NAME" { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeAst {
    /// Official name.
    pub name: Spanned<String>,
    /// Articles.
    pub articles: Vec<Spanned<String>>,
    /// Aliases.
    pub aliases: Vec<Spanned<String>>,
    /// Group.
    pub group: Option<String>,
    /// Curated cues.
    pub curated: bool,
    /// Cues.
    pub cues: Vec<CueAst>,
    /// Anti-cues.
    pub anti: Vec<CueAst>,
    /// Interpretation ids.
    pub interpretations: Vec<Spanned<String>>,
    /// Guideline section.
    pub guideline: Option<String>,
    /// Bands.
    pub bands: Vec<BandAst>,
    /// Conversions.
    pub converts: Vec<ConvertAst>,
    /// Constitutive requirements (all must hold).
    pub requires: Vec<RequireAst>,
    /// Charges this one gives way to when both are decided.
    pub yields: Vec<YieldAst>,
    /// Charges punished together with this one when both acts are described (数罪并罚 by statute).
    pub cumulative: Vec<CumulativeAst>,
    /// Embedded tests.
    pub tests: Vec<TestAst>,
    /// Bool elements that hold whenever this charge is decided.
    pub implies: Vec<Spanned<String>>,
}

/// `extend "charge" band N { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendAst {
    /// Charge.
    pub charge: Spanned<String>,
    /// Band number.
    pub band: Spanned<u32>,
    /// Starting point.
    pub start: Option<(QtyAst, QtyAst, SourceAst)>,
    /// Position inside the starting-point range (0 = low end, 1 = high end), calibrated.
    pub start_at: Option<(QtyAst, SourceAst)>,
    /// Increments.
    pub increments: Vec<IncrementAst>,
}

/// `circumstance NAME { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct CircumstanceAst {
    /// Name.
    pub name: Spanned<String>,
    /// Condition.
    pub when: Option<CondAst>,
    /// Articles.
    pub articles: Vec<Spanned<String>>,
    /// Effect: modality and words.
    pub effect: Option<(Spanned<String>, Vec<String>)>,
    /// Exemption condition.
    pub exempt_when: Option<CondAst>,
    /// Adjustment percent range.
    pub adjust: Option<(QtyAst, QtyAst, SourceAst)>,
    /// Layer.
    pub layer: Option<String>,
    /// Overridden circumstances.
    pub overrides: Vec<Spanned<String>>,
    /// Source.
    pub source: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Charges it is limited to (empty: every charge).
    pub charges: Vec<Spanned<String>>,
}

/// `interpretation ID { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct InterpretationAst {
    /// Id.
    pub id: Spanned<String>,
    /// Title.
    pub title: Option<String>,
    /// Document number.
    pub number: Option<String>,
    /// Issued.
    pub issued: Option<Spanned<Date>>,
    /// In force.
    pub in_force: Option<Spanned<Date>>,
    /// File.
    pub file: Option<String>,
}

/// A test value.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueAst {
    /// true / false.
    Bool(bool),
    /// A date.
    Date(Date),
    /// A quantity or number.
    Qty(QtyAst),
    /// A grade level name.
    Name(String),
}

/// An expectation.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectAst {
    /// expect charge.
    Charge(Spanned<String>),
    /// expect not charge.
    NotCharge(Spanned<String>),
    /// expect article: the judgment cites it.
    Article(Spanned<String>),
    /// expect not article.
    NotArticle(Spanned<String>),
    /// expect band.
    Band(Spanned<u32>),
    /// expect term.
    Term(QtyAst, QtyAst),
}

/// `test "NAME" { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestAst {
    /// Name.
    pub name: Spanned<String>,
    /// Charge exercised.
    pub charge: Option<Spanned<String>>,
    /// Fact.
    pub fact: Option<String>,
    /// Given elements.
    pub given: Vec<(Spanned<String>, ValueAst, Span)>,
    /// Given drugs.
    pub given_drugs: Vec<(Spanned<String>, QtyAst)>,
    /// Province.
    pub province: Option<Spanned<String>>,
    /// Expectations.
    pub expects: Vec<ExpectAst>,
}
