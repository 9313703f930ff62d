//! AST builder: pest pairs → typed AST. Semantic checks live in `kb::compile`; here only lexical ones
//! (dates that do not exist, numbers that do not parse).

use super::ast::*;
use super::diagnostic::Diagnostic;
use super::parser::{Pair, Rule};
use crate::kb::model::{CmpOp, Date, Unit};

struct Ctx<'d> {
    file: usize,
    offset: usize,
    diags: &'d mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn span(&self, p: &Pair) -> Span {
        let s = p.as_span();
        Span { file: self.file, start: self.offset + s.start(), end: self.offset + s.end() }
    }

    fn spanned<T>(&self, p: &Pair, node: T) -> Spanned<T> {
        Spanned { node, span: self.span(p) }
    }

    fn error(&mut self, code: &'static str, msg: impl Into<String>, span: Span) {
        self.diags.push(Diagnostic::error(code, msg, span.file, span.start, span.end));
    }

    fn date(&mut self, p: &Pair) -> Option<Spanned<Date>> {
        match Date::parse(p.as_str()) {
            Some(d) => Some(self.spanned(p, d)),
            None => {
                let sp = self.span(p);
                self.error("E0404", format!("`{}` is not a valid date", p.as_str()), sp);
                None
            }
        }
    }

    fn number(&mut self, p: &Pair) -> f64 {
        match p.as_str().parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                let sp = self.span(p);
                self.error("E0001", format!("`{}` is not a number", p.as_str()), sp);
                0.0
            }
        }
    }

    fn int(&mut self, p: &Pair) -> Spanned<u32> {
        match p.as_str().parse::<u32>() {
            Ok(v) => self.spanned(p, v),
            Err(_) => {
                let sp = self.span(p);
                self.error("E0001", format!("`{}` is not a small whole number", p.as_str()), sp);
                Spanned { node: 0, span: sp }
            }
        }
    }

    /// `quantity` or `number` pair → base-unit quantity.
    fn qty(&mut self, p: Pair) -> QtyAst {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::quantity => {
                let mut it = p.into_inner();
                let (Some(n), Some(u)) = (it.next(), it.next()) else {
                    return QtyAst { value: 0.0, unit: None, span };
                };
                let v = self.number(&n);
                let (unit, factor) = unit_of(u.as_str());
                QtyAst { value: v * factor, unit: Some(unit), span }
            }
            _ => {
                let v = self.number(&p);
                QtyAst { value: v, unit: None, span }
            }
        }
    }

    fn source(&mut self, p: Pair) -> SourceAst {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let calibrated = it.next().is_some_and(|k| k.as_str() == "calibrated");
        let cite = it.next().map(text_of).unwrap_or_default();
        SourceAst { cite, calibrated, span }
    }
}

/// Converts a written unit into its base unit and the factor to base.
pub fn unit_of(s: &str) -> (Unit, f64) {
    match s {
        "yuan" => (Unit::Yuan, 1.0),
        "wan" => (Unit::Yuan, 10_000.0),
        "kg" => (Unit::Gram, 1000.0),
        "g" => (Unit::Gram, 1.0),
        "mg" => (Unit::Gram, 0.001),
        "mg/100ml" => (Unit::MgPer100ml, 1.0),
        "times" => (Unit::Times, 1.0),
        "persons" => (Unit::Persons, 1.0),
        "items" => (Unit::Items, 1.0),
        "pct" => (Unit::Percent, 1.0),
        "y" => (Unit::Month, 12.0),
        "d" => (Unit::Month, 1.0 / 30.0),
        _ => (Unit::Month, 1.0), // "m": the grammar admits no other unit
    }
}

/// The text of a `string` / `raw_string` pair (or of a rule wrapping one).
fn text_of(p: Pair) -> String {
    match p.as_rule() {
        Rule::string => unescape(p.into_inner().next().map_or("", |i| i.as_str())),
        Rule::raw_string => p.into_inner().next().map_or(String::new(), |i| i.as_str().to_string()),
        _ => match p.clone().into_inner().next() {
            Some(inner) if matches!(inner.as_rule(), Rule::string | Rule::raw_string) => text_of(inner),
            _ => p.as_str().to_string(),
        },
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Builds the items of a parsed chunk.
pub(crate) fn build_items(
    pairs: pest::iterators::Pairs<'_, Rule>,
    file: usize,
    offset: usize,
    items: &mut Vec<Item>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut cx = Ctx { file, offset, diags };
    for file_pair in pairs {
        for p in file_pair.into_inner() {
            let item = match p.as_rule() {
                Rule::article => Item::Article(article(&mut cx, p)),
                Rule::element => Item::Element(element(&mut cx, p)),
                Rule::threshold => Item::Threshold(threshold(&mut cx, p)),
                Rule::charge => Item::Charge(charge(&mut cx, p)),
                Rule::extend => Item::Extend(extend(&mut cx, p)),
                Rule::circumstance => Item::Circumstance(circumstance(&mut cx, p)),
                Rule::interpretation => Item::Interpretation(interpretation(&mut cx, p)),
                Rule::test => Item::Test(test(&mut cx, p)),
                _ => continue, // EOI
            };
            items.push(item);
        }
    }
}

fn first(p: Pair) -> Option<Pair> {
    p.into_inner().next()
}

fn article(cx: &mut Ctx, p: Pair) -> ArticleAst {
    let mut it = p.into_inner();
    let num = it.next().map(|n| cx.spanned(&n, n.as_str().to_string())).unwrap_or(Spanned { node: String::new(), span: Span::default() });
    let mut a = ArticleAst { number: num, part: None, chapter: None, in_force: None, text: None, versions: vec![], amended_by: vec![], notes: vec![] };
    for f in it {
        match f.as_rule() {
            Rule::part_f => a.part = first(f).map(|k| cx.spanned(&k, k.as_str().to_string())),
            Rule::chapter_f => a.chapter = first(f).map(text_of),
            Rule::in_force_f => a.in_force = first(f).and_then(|d| cx.date(&d)),
            Rule::text_f => a.text = first(f).map(text_of),
            Rule::amended_f => a.amended_by.extend(first(f).map(text_of)),
            Rule::note_f => a.notes.extend(first(f).map(text_of)),
            Rule::version_b => {
                let mut v = VersionAst { span: cx.span(&f), ..Default::default() };
                for vf in f.into_inner() {
                    match vf.as_rule() {
                        Rule::from_to => {
                            let mut ds = vf.into_inner();
                            v.from = ds.next().and_then(|d| cx.date(&d));
                            v.to = ds.next().and_then(|d| cx.date(&d));
                        }
                        Rule::vsource_f => v.source = first(vf).map(text_of),
                        Rule::text_f => v.text = first(vf).map(text_of),
                        _ => {}
                    }
                }
                a.versions.push(v);
            }
            _ => {}
        }
    }
    a
}

fn elem_type(cx: &mut Ctx, p: Pair) -> Spanned<TypeAst> {
    let span = cx.span(&p);
    let node = match first(p) {
        Some(t) if t.as_rule() == Rule::t_quantity => {
            let u = first(t).map(|u| unit_of(u.as_str()).0).unwrap_or(Unit::Items);
            TypeAst::Quantity(u)
        }
        Some(t) => TypeAst::Simple(t.as_str().to_string()),
        None => TypeAst::Simple(String::new()),
    };
    Spanned { node, span }
}

fn cue(cx: &mut Ctx, p: Pair) -> CueAst {
    let mut it = p.into_inner();
    let pat = it.next();
    let pattern = match pat {
        Some(s) => {
            let sp = cx.span(&s);
            Spanned { node: text_of(s), span: sp }
        }
        None => Spanned { node: String::new(), span: Span::default() },
    };
    let weight = it.next().map(|w| cx.number(&w)).unwrap_or(1.0);
    CueAst { pattern, weight }
}

fn element(cx: &mut Ctx, p: Pair) -> ElementAst {
    let mut it = p.into_inner();
    let name = it.next().map(|n| cx.spanned(&n, n.as_str().to_string())).unwrap_or(Spanned { node: String::new(), span: Span::default() });
    let ty = it.next().map(|t| elem_type(cx, t)).unwrap_or(Spanned { node: TypeAst::Simple(String::new()), span: Span::default() });
    let mut e = ElementAst { name, ty, label: None, cues: vec![], negates: vec![], source: None, levels: vec![], personal: false };
    for f in it {
        match f.as_rule() {
            Rule::label_f => e.label = first(f).map(text_of),
            Rule::cue_f => e.cues.push(cue(cx, f)),
            Rule::negate_f => {
                if let Some(s) = first(f) {
                    let sp = cx.span(&s);
                    e.negates.push(Spanned { node: text_of(s), span: sp });
                }
            }
            Rule::esource_f => e.source = first(f).map(text_of),
            Rule::personal_f => e.personal = true,
            Rule::levels_f => {
                for l in f.into_inner() {
                    let mut li = l.into_inner();
                    if let (Some(n), Some(r)) = (li.next(), li.next()) {
                        let rank = cx.number(&r) as i32;
                        e.levels.push((cx.spanned(&n, n.as_str().to_string()), rank));
                    }
                }
            }
            _ => {}
        }
    }
    e
}

fn threshold(cx: &mut Ctx, p: Pair) -> ThresholdAst {
    let mut it = p.into_inner();
    let name = it.next().map(|n| cx.spanned(&n, n.as_str().to_string())).unwrap_or(Spanned { node: String::new(), span: Span::default() });
    let ty = it.next().map(|t| elem_type(cx, t)).unwrap_or(Spanned { node: TypeAst::Simple(String::new()), span: Span::default() });
    let mut t = ThresholdAst { name, ty, label: None, national: None, fallback: None, provinces: vec![] };
    for f in it {
        match f.as_rule() {
            Rule::label_f => t.label = first(f).map(text_of),
            Rule::fallback_f => t.fallback = first(f).map(|k| k.as_str().to_string()),
            Rule::national_f => {
                let parts: Vec<Pair> = f.into_inner().collect();
                let mut qs = Vec::new();
                let mut src = None;
                for q in parts {
                    if q.as_rule() == Rule::source_clause {
                        src = Some(cx.source(q));
                    } else {
                        qs.push(cx.qty(q));
                    }
                }
                if let (Some(lo), Some(src)) = (qs.first().copied(), src) {
                    let hi = qs.get(1).copied().unwrap_or(lo);
                    t.national = Some((lo, hi, src));
                }
            }
            Rule::province_f => {
                let mut pi = f.into_inner();
                let (Some(pn), Some(q), Some(s)) = (pi.next(), pi.next(), pi.next()) else { continue };
                let province = cx.spanned(&pn, pn.as_str().to_string());
                let value = cx.qty(q);
                let source = cx.source(s);
                let mut confidence = None;
                let mut note = None;
                for rest in pi {
                    match rest.as_rule() {
                        Rule::ident => confidence = Some(rest.as_str().to_string()),
                        _ => note = Some(text_of(rest)),
                    }
                }
                t.provinces.push(ProvinceAst { province, value, source, confidence, note });
            }
            _ => {}
        }
    }
    t
}

fn cond(cx: &mut Ctx, p: Pair) -> CondAst {
    match p.as_rule() {
        Rule::cond => {
            let mut parts: Vec<CondAst> = p.into_inner().map(|c| cond(cx, c)).collect();
            if parts.len() == 1 { parts.remove(0) } else { CondAst::Or(parts) }
        }
        Rule::conj => {
            let mut parts: Vec<CondAst> = p.into_inner().map(|c| cond(cx, c)).collect();
            if parts.len() == 1 { parts.remove(0) } else { CondAst::And(parts) }
        }
        Rule::unary => {
            let mut nots = 0;
            let mut inner = None;
            for c in p.into_inner() {
                if c.as_rule() == Rule::not_op {
                    nots += 1;
                } else {
                    inner = Some(cond(cx, c));
                }
            }
            let mut c = inner.unwrap_or(CondAst::And(vec![]));
            for _ in 0..nots {
                c = CondAst::Not(Box::new(c));
            }
            c
        }
        Rule::flag => {
            let sp = cx.span(&p);
            CondAst::Flag(Spanned { node: p.as_str().trim().to_string(), span: sp })
        }
        Rule::comparison => {
            let mut it = p.into_inner();
            let (Some(a), Some(op), Some(b)) = (it.next(), it.next(), it.next()) else {
                return CondAst::And(vec![]);
            };
            let a = operand(cx, a);
            let opv = match op.as_str() {
                ">=" => CmpOp::Ge,
                ">" => CmpOp::Gt,
                "<=" => CmpOp::Le,
                "<" => CmpOp::Lt,
                "==" => CmpOp::Eq,
                _ => CmpOp::Ne,
            };
            let op = cx.spanned(&op, opv);
            let b = operand(cx, b);
            CondAst::Cmp(a, op, b)
        }
        _ => CondAst::And(vec![]),
    }
}

fn operand(cx: &mut Ctx, p: Pair) -> OperandAst {
    let span = cx.span(&p);
    let Some(inner) = first(p) else { return OperandAst::Qty(QtyAst { value: 0.0, unit: None, span }) };
    match inner.as_rule() {
        Rule::drug_call => {
            let names = inner
                .into_inner()
                .map(|d| {
                    let sp = cx.span(&d);
                    Spanned { node: text_of(d), span: sp }
                })
                .collect();
            OperandAst::Drug(names, span)
        }
        Rule::ident => OperandAst::Name(cx.spanned(&inner, inner.as_str().to_string())),
        Rule::date => match cx.date(&inner) {
            Some(d) => OperandAst::Date(d),
            // Already reported (E0404); a placeholder date keeps the rest of the file checkable without a
            // second, derived error about comparing a date.
            None => OperandAst::Date(Spanned { node: crate::kb::model::Date { year: 1970, month: 1, day: 1 }, span }),
        },
        _ => OperandAst::Qty(cx.qty(inner)),
    }
}

fn increment(cx: &mut Ctx, p: Pair) -> Option<IncrementAst> {
    let mut it = p.into_inner();
    let amount = cx.qty(it.next()?);
    let per = cx.qty(it.next()?);
    let e = it.next()?;
    let (element, drugs) = if e.as_rule() == Rule::drug_call {
        let names: Vec<String> = e.clone().into_inner().map(text_of).collect();
        (cx.spanned(&e, format!("drug({})", names.join(", "))), names)
    } else {
        (cx.spanned(&e, e.as_str().to_string()), Vec::new())
    };
    let mut above = None;
    let mut source = None;
    for rest in it {
        match rest.as_rule() {
            Rule::operand => above = Some(operand(cx, rest)),
            Rule::source_clause => source = Some(cx.source(rest)),
            _ => {}
        }
    }
    Some(IncrementAst { amount, per, element, drugs, above, source: source? })
}

fn range_with_source(cx: &mut Ctx, p: Pair) -> Option<(QtyAst, QtyAst, SourceAst)> {
    let mut it = p.into_inner();
    let lo = cx.qty(it.next()?);
    let hi = cx.qty(it.next()?);
    let src = cx.source(it.next()?);
    Some((lo, hi, src))
}

fn band(cx: &mut Ctx, p: Pair) -> BandAst {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let number = it.next().map(|n| cx.int(&n)).unwrap_or(Spanned { node: 0, span });
    let mut b = BandAst {
        number,
        text: None,
        when: None,
        unless: None,
        overrides: vec![],
        penalty: None,
        fine: None,
        confiscation: None,
        deprivation: None,
        start: None,
        increments: vec![],
        source: None,
        unchained: None,
        span: Span { file: span.file, start: span.start, end: span.start + 4 },
    };
    for f in it {
        match f.as_rule() {
            Rule::text_f => b.text = first(f).map(text_of),
            Rule::when_f => b.when = first(f).map(|c| cond(cx, c)),
            Rule::unless_f => b.unless = first(f).map(|c| cond(cx, c)),
            Rule::band_overrides_f => b.overrides = f.into_inner().map(|n| cx.int(&n)).collect(),
            Rule::penalty_f => {
                let mut items = Vec::new();
                let mut like = None;
                for pi in f.into_inner() {
                    match pi.as_rule() {
                        Rule::penalty_like => {
                            let mut li = pi.into_inner();
                            if let (Some(c), Some(n)) = (li.next(), li.next()) {
                                let sp = cx.span(&c);
                                let name = Spanned { node: text_of(c), span: sp };
                                like = Some(PenaltyAst::Like(name, cx.int(&n)));
                            }
                        }
                        Rule::penalty_item => {
                            if let Some(x) = first(pi) {
                                if x.as_rule() == Rule::p_imprisonment {
                                    let mut qi = x.into_inner();
                                    if let (Some(lo), Some(hi)) = (qi.next(), qi.next()) {
                                        let lo = cx.qty(lo);
                                        let hi = cx.qty(hi);
                                        items.push(PenaltyItemAst::Imprisonment(lo, hi));
                                    }
                                } else {
                                    items.push(PenaltyItemAst::Word(cx.spanned(&x, x.as_str().to_string())));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                b.penalty = Some(like.unwrap_or(PenaltyAst::Items(items)));
            }
            Rule::fine_f => b.fine = first(f).map(|r| r.as_str().to_string()),
            Rule::confiscation_f => b.confiscation = first(f).map(|r| r.as_str().to_string()),
            Rule::deprivation_f => b.deprivation = first(f).map(|r| r.as_str().to_string()),
            Rule::start_f => b.start = range_with_source(cx, f),
            Rule::increment_f => b.increments.extend(increment(cx, f)),
            Rule::bsource_f => b.source = first(f).map(text_of),
            Rule::unchained_f => b.unchained = first(f).map(text_of),
            _ => {}
        }
    }
    b
}

fn charge(cx: &mut Ctx, p: Pair) -> ChargeAst {
    let mut it = p.into_inner();
    let name = match it.next() {
        Some(n) => {
            let sp = cx.span(&n);
            Spanned { node: text_of(n), span: sp }
        }
        None => Spanned { node: String::new(), span: Span::default() },
    };
    let mut c = ChargeAst {
        name,
        articles: vec![],
        aliases: vec![],
        group: None,
        curated: false,
        cues: vec![],
        anti: vec![],
        interpretations: vec![],
        guideline: None,
        bands: vec![],
        converts: vec![],
        requires: vec![],
        yields: vec![],
        cumulative: vec![],
        tests: vec![],
        implies: vec![],
    };
    for f in it {
        match f.as_rule() {
            Rule::articles_f => c.articles.extend(f.into_inner().map(|n| cx.spanned(&n, n.as_str().to_string()))),
            Rule::alias_f => {
                if let Some(s) = first(f) {
                    let sp = cx.span(&s);
                    c.aliases.push(Spanned { node: text_of(s), span: sp });
                }
            }
            Rule::group_f => c.group = first(f).map(text_of),
            Rule::curated_f => c.curated = true,
            Rule::cue_f => c.cues.push(cue(cx, f)),
            Rule::anti_f => c.anti.push(cue(cx, f)),
            Rule::interp_f => c.interpretations.extend(first(f).map(|i| cx.spanned(&i, i.as_str().to_string()))),
            Rule::guideline_f => c.guideline = first(f).map(text_of),
            Rule::implies_f => c.implies.extend(f.into_inner().map(|n| cx.spanned(&n, n.as_str().to_string()))),
            Rule::band => c.bands.push(band(cx, f)),
            Rule::convert_f => {
                let mut ci = f.into_inner();
                if let (Some(to), Some(w), Some(s)) = (ci.next(), ci.next(), ci.next()) {
                    let sp = cx.span(&to);
                    let to = Spanned { node: text_of(to), span: sp };
                    let when = cond(cx, w);
                    let source = cx.source(s);
                    c.converts.push(ConvertAst { to, when, source });
                }
            }
            Rule::requires_f => {
                let mut ri = f.into_inner();
                if let (Some(w), Some(s)) = (ri.next(), ri.next()) {
                    let when = cond(cx, w);
                    let source = cx.source(s);
                    c.requires.push(RequireAst { when, source });
                }
            }
            Rule::yields_f => {
                let mut yi = f.into_inner();
                if let (Some(to), Some(s)) = (yi.next(), yi.next()) {
                    let sp = cx.span(&to);
                    let to = Spanned { node: text_of(to), span: sp };
                    let source = cx.source(s);
                    c.yields.push(YieldAst { to, source });
                }
            }
            Rule::cumulative_f => {
                let mut ci = f.into_inner();
                if let Some(with) = ci.next() {
                    let sp = cx.span(&with);
                    let with = Spanned { node: text_of(with), span: sp };
                    let (mut when, mut source) = (None, None);
                    for q in ci {
                        match q.as_rule() {
                            Rule::cond => when = Some(cond(cx, q)),
                            Rule::source_clause => source = Some(cx.source(q)),
                            _ => {}
                        }
                    }
                    if let Some(source) = source {
                        c.cumulative.push(CumulativeAst { with, when, source });
                    }
                }
            }
            Rule::test => c.tests.push(test(cx, f)),
            _ => {}
        }
    }
    c
}

fn extend(cx: &mut Ctx, p: Pair) -> ExtendAst {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let charge = match it.next() {
        Some(n) => {
            let sp = cx.span(&n);
            Spanned { node: text_of(n), span: sp }
        }
        None => Spanned { node: String::new(), span },
    };
    let band = it.next().map(|n| cx.int(&n)).unwrap_or(Spanned { node: 0, span });
    let mut e = ExtendAst { charge, band, start: None, start_at: None, increments: vec![] };
    for f in it {
        match f.as_rule() {
            Rule::start_f => e.start = range_with_source(cx, f),
            Rule::start_at_f => {
                let mut si = f.into_inner();
                if let (Some(n), Some(s)) = (si.next(), si.next()) {
                    let q = cx.qty(n);
                    let src = cx.source(s);
                    e.start_at = Some((q, src));
                }
            }
            Rule::increment_f => e.increments.extend(increment(cx, f)),
            _ => {}
        }
    }
    e
}

fn name_of(cx: &mut Ctx, p: Pair) -> Spanned<String> {
    let sp = cx.span(&p);
    Spanned { node: text_of(p), span: sp }
}

fn circumstance(cx: &mut Ctx, p: Pair) -> CircumstanceAst {
    let mut it = p.into_inner();
    let name = match it.next() {
        Some(n) => name_of(cx, n),
        None => Spanned { node: String::new(), span: Span::default() },
    };
    let mut c = CircumstanceAst {
        name,
        when: None,
        articles: vec![],
        effect: None,
        exempt_when: None,
        adjust: None,
        layer: None,
        overrides: vec![],
        source: None,
        label: None,
        charges: vec![],
    };
    for f in it {
        match f.as_rule() {
            Rule::when_f => c.when = first(f).map(|x| cond(cx, x)),
            Rule::circ_charge_f => {
                if let Some(n) = first(f) {
                    c.charges.push(name_of(cx, n));
                }
            }
            Rule::articles_f => c.articles.extend(f.into_inner().map(|n| cx.spanned(&n, n.as_str().to_string()))),
            Rule::effect_f => {
                let mut ei = f.into_inner();
                if let Some(m) = ei.next() {
                    let m = cx.spanned(&m, m.as_str().to_string());
                    c.effect = Some((m, ei.map(|w| w.as_str().to_string()).collect()));
                }
            }
            Rule::exempt_when_f => c.exempt_when = first(f).map(|x| cond(cx, x)),
            Rule::adjust_f => c.adjust = range_with_source(cx, f),
            Rule::layer_f => c.layer = first(f).map(|l| l.as_str().to_string()),
            Rule::circ_overrides_f => {
                for n in f.into_inner() {
                    let n = first(n.clone()).unwrap_or(n);
                    c.overrides.push(name_of(cx, n));
                }
            }
            Rule::csource_f => c.source = first(f).map(text_of),
            Rule::label_f => c.label = first(f).map(text_of),
            _ => {}
        }
    }
    c
}

fn interpretation(cx: &mut Ctx, p: Pair) -> InterpretationAst {
    let mut it = p.into_inner();
    let id = it.next().map(|n| cx.spanned(&n, n.as_str().to_string())).unwrap_or(Spanned { node: String::new(), span: Span::default() });
    let mut i = InterpretationAst { id, title: None, number: None, issued: None, in_force: None, file: None };
    for f in it {
        match f.as_rule() {
            Rule::title_f => i.title = first(f).map(text_of),
            Rule::docno_f => i.number = first(f).map(text_of),
            Rule::issued_f => i.issued = first(f).and_then(|d| cx.date(&d)),
            Rule::in_force_f => i.in_force = first(f).and_then(|d| cx.date(&d)),
            Rule::file_f => i.file = first(f).map(text_of),
            _ => {}
        }
    }
    i
}

fn test(cx: &mut Ctx, p: Pair) -> TestAst {
    let mut it = p.into_inner();
    let name = match it.next() {
        Some(n) => name_of(cx, n),
        None => Spanned { node: String::new(), span: Span::default() },
    };
    let mut t = TestAst { name, charge: None, fact: None, given: vec![], given_drugs: vec![], province: None, expects: vec![] };
    for f in it {
        match f.as_rule() {
            Rule::test_charge_f => t.charge = first(f).map(|n| name_of(cx, n)),
            Rule::fact_f => t.fact = first(f).map(text_of),
            Rule::test_province_f => t.province = first(f).map(|n| cx.spanned(&n, n.as_str().to_string())),
            Rule::given_f => {
                for a in f.into_inner() {
                    let Some(a) = first(a) else { continue };
                    let aspan = cx.span(&a);
                    match a.as_rule() {
                        Rule::given_drug => {
                            let mut gi = a.into_inner();
                            if let (Some(d), Some(q)) = (gi.next(), gi.next()) {
                                let d = first(d.clone()).unwrap_or(d);
                                let name = name_of(cx, d);
                                let q = cx.qty(q);
                                t.given_drugs.push((name, q));
                            }
                        }
                        _ => {
                            let mut gi = a.into_inner();
                            if let (Some(n), Some(v)) = (gi.next(), gi.next()) {
                                let name = cx.spanned(&n, n.as_str().to_string());
                                let value = match first(v) {
                                    Some(x) => match x.as_rule() {
                                        Rule::bool_lit => ValueAst::Bool(x.as_str() == "true"),
                                        Rule::date => match cx.date(&x) {
                                            Some(d) => ValueAst::Date(d.node),
                                            None => continue,
                                        },
                                        Rule::ident => ValueAst::Name(x.as_str().to_string()),
                                        _ => ValueAst::Qty(cx.qty(x)),
                                    },
                                    None => continue,
                                };
                                t.given.push((name, value, aspan));
                            }
                        }
                    }
                }
            }
            Rule::expect_f => {
                let Some(e) = first(f) else { continue };
                match e.as_rule() {
                    Rule::expect_charge => {
                        if let Some(n) = first(e) {
                            t.expects.push(ExpectAst::Charge(name_of(cx, n)));
                        }
                    }
                    Rule::expect_not_charge => {
                        if let Some(n) = first(e) {
                            t.expects.push(ExpectAst::NotCharge(name_of(cx, n)));
                        }
                    }
                    Rule::expect_article => {
                        if let Some(n) = first(e) {
                            t.expects.push(ExpectAst::Article(cx.spanned(&n, n.as_str().to_string())));
                        }
                    }
                    Rule::expect_not_article => {
                        if let Some(n) = first(e) {
                            t.expects.push(ExpectAst::NotArticle(cx.spanned(&n, n.as_str().to_string())));
                        }
                    }
                    Rule::expect_band => {
                        if let Some(n) = first(e) {
                            t.expects.push(ExpectAst::Band(cx.int(&n)));
                        }
                    }
                    Rule::expect_term => {
                        let mut qi = e.into_inner();
                        if let (Some(lo), Some(hi)) = (qi.next(), qi.next()) {
                            let lo = cx.qty(lo);
                            let hi = cx.qty(hi);
                            t.expects.push(ExpectAst::Term(lo, hi));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    t
}
