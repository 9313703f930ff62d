//! Stage 2 — check and compile: AST → `KnowledgeBase`, with every semantic error reported at once.
//!
//! Resolution is two-pass: first every declaration is collected (so order across files never matters), then
//! every reference, unit, range, band chain and override graph is checked while lowering.

use super::model::*;
use super::provinces::PROVINCES;
use crate::dsl::ast::*;
use crate::dsl::diagnostic::{Diagnostic, SourceMap};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Compiles parsed files. Returns the knowledge base (possibly partial) and the diagnostics; the caller
/// treats any error-severity diagnostic as failure.
pub fn compile(files: &[FileAst], sources: &SourceMap) -> (KnowledgeBase, Vec<Diagnostic>) {
    let mut cx = Compiler { diags: Vec::new(), sources, kb: KnowledgeBase::default() };
    cx.run(files);
    let Compiler { diags, kb, .. } = cx;
    (kb, diags)
}

struct Compiler<'a> {
    diags: Vec<Diagnostic>,
    sources: &'a SourceMap,
    kb: KnowledgeBase,
}

/// Levenshtein distance over characters, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn suggest<'n>(name: &str, candidates: impl Iterator<Item = &'n String>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, (*c).clone()))
        .map(|(_, c)| c.clone())
}

/// Unit category used for compatibility: counts are interchangeable among themselves.
fn unit_family(u: Unit) -> u8 {
    match u {
        Unit::Yuan => 0,
        Unit::Gram => 1,
        Unit::MgPer100ml => 2,
        Unit::Month => 3,
        Unit::Times | Unit::Persons | Unit::Items => 4,
        Unit::Percent => 5,
    }
}

/// What a resolved operand measures, for unit checks.
#[derive(Clone, Copy, PartialEq)]
enum Dim {
    Date,
    Unit(Unit),
    Count,
    Age,
    Bare,
    Grade,
    Other,
}

impl Compiler<'_> {
    fn err(&mut self, code: &'static str, msg: impl Into<String>, span: Span) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(code, msg, span.file, span.start, span.end));
        let n = self.diags.len() - 1;
        &mut self.diags[n]
    }

    fn loc(&self, span: Span) -> Loc {
        let (line, col) = self.sources.line_col(span.file, span.start);
        Loc { file: self.sources.path(span.file).to_string(), line, col }
    }

    fn run(&mut self, files: &[FileAst]) {
        // Pass 1: declarations.
        let mut articles: Vec<&ArticleAst> = Vec::new();
        let mut elements: Vec<&ElementAst> = Vec::new();
        let mut thresholds: Vec<&ThresholdAst> = Vec::new();
        let mut charges: Vec<&ChargeAst> = Vec::new();
        let mut extends: Vec<&ExtendAst> = Vec::new();
        let mut circs: Vec<&CircumstanceAst> = Vec::new();
        let mut interps: Vec<&InterpretationAst> = Vec::new();
        let mut tests: Vec<(&TestAst, Option<&ChargeAst>)> = Vec::new();
        for f in files {
            for it in &f.items {
                match it {
                    Item::Article(a) => articles.push(a),
                    Item::Element(e) => elements.push(e),
                    Item::Threshold(t) => thresholds.push(t),
                    Item::Charge(c) => {
                        charges.push(c);
                        tests.extend(c.tests.iter().map(|t| (t, Some(c))));
                    }
                    Item::Extend(e) => extends.push(e),
                    Item::Circumstance(c) => circs.push(c),
                    Item::Interpretation(i) => interps.push(i),
                    Item::Test(t) => tests.push((t, None)),
                }
            }
        }

        let mut seen: HashMap<String, Span> = HashMap::new();
        for a in &articles {
            if let Some(prev) = seen.insert(a.number.node.clone(), a.number.span) {
                let at = self.where_(prev);
                self.err("E0201", format!("duplicate article `{}`", a.number.node), a.number.span)
                    .notes
                    .push(format!("first defined at {at}"));
                continue;
            }
            let art = self.article(a);
            self.kb.articles.insert(art.number.clone(), art);
        }
        let mut seen: HashMap<String, Span> = HashMap::new();
        for e in &elements {
            if let Some(prev) = seen.insert(e.name.node.clone(), e.name.span) {
                let at = self.where_(prev);
                self.err("E0203", format!("duplicate element `{}`", e.name.node), e.name.span).notes.push(format!("first defined at {at}"));
                continue;
            }
            let el = self.element(e);
            self.kb.elements.insert(el.name.clone(), el);
        }
        let mut seen: HashMap<String, Span> = HashMap::new();
        for i in &interps {
            if let Some(prev) = seen.insert(i.id.node.clone(), i.id.span) {
                let at = self.where_(prev);
                self.err("E0207", format!("duplicate interpretation `{}`", i.id.node), i.id.span).notes.push(format!("first defined at {at}"));
                continue;
            }
            self.kb.interpretations.insert(
                i.id.node.clone(),
                Interpretation {
                    id: i.id.node.clone(),
                    title: i.title.clone().unwrap_or_default(),
                    number: i.number.clone(),
                    issued: i.issued.as_ref().map(|d| d.node),
                    in_force: i.in_force.as_ref().map(|d| d.node),
                    file: i.file.clone(),
                },
            );
        }
        let mut seen: HashMap<String, Span> = HashMap::new();
        for t in &thresholds {
            if let Some(prev) = seen.insert(t.name.node.clone(), t.name.span) {
                let at = self.where_(prev);
                self.err("E0204", format!("duplicate threshold `{}`", t.name.node), t.name.span).notes.push(format!("first defined at {at}"));
                continue;
            }
            if let Some(th) = self.threshold(t) {
                self.kb.thresholds.insert(th.name.clone(), th);
            }
        }
        // Charge names and aliases must resolve uniquely.
        let mut charge_names: HashMap<String, Span> = HashMap::new();
        let mut unique_charges: Vec<&ChargeAst> = Vec::new();
        for c in &charges {
            if let Some(prev) = charge_names.insert(c.name.node.clone(), c.name.span) {
                let at = self.where_(prev);
                self.err("E0202", format!("duplicate charge `{}`", c.name.node), c.name.span).notes.push(format!("first defined at {at}"));
                continue;
            }
            unique_charges.push(c);
        }
        for c in &unique_charges {
            for a in &c.aliases {
                if a.node != c.name.node && charge_names.contains_key(&a.node) {
                    self.err("E0208", format!("alias `{}` is the name of another charge", a.node), a.span);
                }
            }
        }
        let band_sets: HashMap<String, Vec<u32>> =
            unique_charges.iter().map(|c| (c.name.node.clone(), c.bands.iter().map(|b| b.number.node).collect())).collect();

        // Pass 2: lower charges.
        let mut lowered: Vec<Charge> = Vec::new();
        for c in &unique_charges {
            lowered.push(self.charge(c, &charge_names, &band_sets));
        }
        lowered.sort_by(|a, b| a.name.cmp(&b.name));
        self.kb.charges = lowered;
        self.resolve_like(&unique_charges);
        for e in &extends {
            self.extend(e);
        }
        self.chain_bands(&unique_charges);

        // Circumstances.
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut ok_circs: Vec<&CircumstanceAst> = Vec::new();
        for c in &circs {
            if let Some(prev) = seen.insert(c.name.node.clone(), c.name.span) {
                let at = self.where_(prev);
                self.err("E0205", format!("duplicate circumstance `{}`", c.name.node), c.name.span).notes.push(format!("first defined at {at}"));
                continue;
            }
            ok_circs.push(c);
        }
        for c in &ok_circs {
            if let Some(ci) = self.circumstance(c, &seen) {
                self.kb.circumstances.push(ci);
            }
        }
        self.override_cycles(&ok_circs);

        for (t, owner) in tests {
            if let Some(kt) = self.test(t, owner, &charge_names) {
                self.kb.tests.push(kt);
            }
        }
    }

    fn where_(&self, span: Span) -> String {
        let l = self.loc(span);
        format!("{}:{}", l.file, l.line)
    }

    fn article(&mut self, a: &ArticleAst) -> Article {
        let part = match a.part.as_ref().map(|p| p.node.as_str()) {
            Some("general") => Part::General,
            Some(_) => Part::Special,
            None => {
                // Articles 1–101 form the general part (总则).
                let n: u32 = a.number.node.split('-').next().and_then(|x| x.parse().ok()).unwrap_or(0);
                if n <= 101 { Part::General } else { Part::Special }
            }
        };
        if a.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            self.err("E0601", format!("article `{}` has no text", a.number.node), a.number.span);
        }
        let mut versions = Vec::new();
        for v in &a.versions {
            let Some(from) = v.from.as_ref() else {
                self.err("E0404", "version without `from DATE`", v.span);
                continue;
            };
            if let Some(to) = &v.to {
                if to.node < from.node {
                    self.err("E0404", format!("version ends ({}) before it starts ({})", to.node, from.node), to.span);
                }
            }
            if v.source.is_none() {
                self.err("E0601", "version without `source`", v.span);
            }
            versions.push(ArticleVersion {
                from: from.node,
                to: v.to.as_ref().map(|d| d.node),
                text: v.text.clone().unwrap_or_default(),
                source: v.source.clone().unwrap_or_default(),
            });
        }
        versions.sort_by_key(|v| v.from);
        if let (Some(last), Some(f)) = (versions.last(), a.in_force.as_ref()) {
            if last.from > f.node {
                self.err("E0404", format!("an earlier version starts ({}) after the current text took effect ({})", last.from, f.node), f.span);
            }
        }
        Article {
            number: a.number.node.clone(),
            part,
            chapter: a.chapter.clone(),
            text: a.text.clone().unwrap_or_default(),
            in_force: a.in_force.as_ref().map(|d| d.node),
            versions,
            amended_by: a.amended_by.clone(),
            notes: a.notes.clone(),
            loc: self.loc(a.number.span),
        }
    }

    fn regex_ok(&mut self, pattern: &Spanned<String>) {
        // Parsing (not compiling) is enough to validate and keeps `kb check` fast; the stages that match
        // compile the patterns once, with size limits, when the engine opens.
        if let Err(e) = regex_syntax::ast::parse::Parser::new().parse(&pattern.node) {
            let msg = e.to_string();
            let last = msg.lines().last().unwrap_or("").trim().to_string();
            self.err("E0602", format!("invalid regex: {last}"), pattern.span);
        }
    }

    fn element(&mut self, e: &ElementAst) -> Element {
        let kind = match &e.ty.node {
            TypeAst::Quantity(u) => ElementKind::Quantity(*u),
            TypeAst::Simple(s) => match s.as_str() {
                "bool" => ElementKind::Bool,
                "money" => ElementKind::Money,
                "count" => ElementKind::Count,
                "date" => ElementKind::Date,
                "age" => ElementKind::Age,
                _ => {
                    if e.levels.is_empty() {
                        self.err("E0703", format!("grade element `{}` declares no `levels`", e.name.node), e.ty.span);
                    }
                    ElementKind::Grade(e.levels.iter().map(|(n, r)| (n.node.clone(), *r)).collect())
                }
            },
        };
        for c in &e.cues {
            self.regex_ok(&c.pattern);
        }
        for n in &e.negates {
            self.regex_ok(n);
        }
        Element {
            name: e.name.node.clone(),
            kind,
            label: e.label.clone().unwrap_or_else(|| e.name.node.clone()),
            cues: e.cues.iter().map(|c| Cue { pattern: c.pattern.node.clone(), weight: c.weight }).collect(),
            negates: e.negates.iter().map(|n| n.node.clone()).collect(),
            personal: e.personal,
            source: e.source.clone().map(|s| Source { cite: s, calibrated: false }),
            loc: self.loc(e.name.span),
        }
    }

    fn type_unit(&self, ty: &TypeAst) -> Option<Unit> {
        match ty {
            TypeAst::Quantity(u) => Some(*u),
            TypeAst::Simple(s) if s == "money" => Some(Unit::Yuan),
            TypeAst::Simple(s) if s == "count" => Some(Unit::Times),
            _ => None,
        }
    }

    fn check_qty_unit(&mut self, q: &QtyAst, want: Option<Unit>, what: &str) {
        match (q.unit, want) {
            (Some(u), Some(w)) if unit_family(u) != unit_family(w) => {
                self.err("E0402", format!("unit mismatch: {what} is in `{}`, found `{}`", w.name(), u.name()), q.span);
            }
            (Some(u), None) => {
                self.err("E0402", format!("unit mismatch: {what} takes a plain number, found `{}`", u.name()), q.span);
            }
            _ => {}
        }
    }

    fn source(s: &SourceAst) -> Source {
        Source { cite: s.cite.clone(), calibrated: s.calibrated }
    }

    fn threshold(&mut self, t: &ThresholdAst) -> Option<Threshold> {
        let unit = self.type_unit(&t.ty.node);
        let Some((lo, hi, src)) = &t.national else {
            self.err("E0601", format!("threshold `{}` has no `national` value with a source", t.name.node), t.name.span);
            return None;
        };
        self.check_qty_unit(lo, unit, &format!("threshold `{}`", t.name.node));
        self.check_qty_unit(hi, unit, &format!("threshold `{}`", t.name.node));
        if lo.value > hi.value {
            self.err("E0403", format!("national range is reversed ({} > {})", lo.value, hi.value), hi.span);
        }
        if src.cite.trim().is_empty() {
            self.err("E0601", "empty source", src.span);
        }
        let fallback = match t.fallback.as_deref() {
            Some("max") => Fallback::Max,
            Some("mid") => Fallback::Mid,
            _ => Fallback::Min,
        };
        let mut provinces = Vec::new();
        let mut seen = HashSet::new();
        for p in &t.provinces {
            if !PROVINCES.contains(&p.province.node.as_str()) {
                let sug = suggest(&p.province.node, PROVINCES.iter().map(|s| s.to_string()).collect::<Vec<_>>().iter());
                let d = self.err("E0701", format!("unknown province `{}`", p.province.node), p.province.span);
                if let Some(s) = sug {
                    d.label = Some(format!("did you mean `{s}`?"));
                }
                continue;
            }
            if !seen.insert(p.province.node.clone()) {
                self.err("E0204", format!("province `{}` given twice", p.province.node), p.province.span);
            }
            self.check_qty_unit(&p.value, unit, &format!("threshold `{}`", t.name.node));
            let eps = 1e-9 * hi.value.abs().max(1.0);
            if p.value.value < lo.value - eps || p.value.value > hi.value + eps {
                self.err(
                    "E0401",
                    format!("{} value {} is outside the national range {}..{}", p.province.node, p.value.value, lo.value, hi.value),
                    p.value.span,
                );
            }
            provinces.push(ProvinceValue {
                province: p.province.node.clone(),
                value: p.value.value,
                source: Self::source(&p.source),
                confidence: p.confidence.clone(),
                note: p.note.clone(),
            });
        }
        Some(Threshold {
            name: t.name.node.clone(),
            unit: unit.unwrap_or(Unit::Items),
            label: t.label.clone().unwrap_or_else(|| t.name.node.clone()),
            national: (lo.value, hi.value),
            national_source: Self::source(src),
            fallback,
            provinces,
            loc: self.loc(t.name.span),
        })
    }

    fn elem_dim(&self, name: &str) -> Option<Dim> {
        let e = self.kb.elements.get(name)?;
        Some(match &e.kind {
            ElementKind::Money => Dim::Unit(Unit::Yuan),
            ElementKind::Quantity(u) => Dim::Unit(*u),
            ElementKind::Count => Dim::Count,
            ElementKind::Age => Dim::Age,
            ElementKind::Grade(_) => Dim::Grade,
            ElementKind::Date => Dim::Date,
            _ => Dim::Other,
        })
    }

    fn unknown_name(&mut self, n: &Spanned<String>, what: &str) {
        let mut cands: Vec<String> = self.kb.elements.keys().cloned().collect();
        cands.extend(self.kb.thresholds.keys().cloned());
        let sug = suggest(&n.node, cands.iter());
        let d = self.err("E0101", format!("unknown {what} `{}`", n.node), n.span);
        if let Some(s) = sug {
            d.label = Some(format!("did you mean `{s}`?"));
        }
    }

    fn operand(&mut self, o: &OperandAst, other_grade: Option<&str>) -> Option<(Operand, Dim)> {
        match o {
            OperandAst::Qty(q) => Some(match q.unit {
                Some(u) => (Operand::Quantity(Quantity { value: q.value, unit: u }), Dim::Unit(u)),
                None => (Operand::Number(q.value), Dim::Bare),
            }),
            OperandAst::Date(d) => Some((Operand::Date(d.node), Dim::Date)),
            OperandAst::Drug(names, _) => {
                Some((Operand::Drug(names.iter().map(|n| n.node.clone()).collect()), Dim::Unit(Unit::Gram)))
            }
            OperandAst::Name(n) => {
                if let Some(d) = self.elem_dim(&n.node) {
                    return Some((Operand::Element(n.node.clone()), d));
                }
                if let Some(t) = self.kb.thresholds.get(&n.node) {
                    let d = match t.unit {
                        Unit::Times | Unit::Persons | Unit::Items => Dim::Count,
                        u => Dim::Unit(u),
                    };
                    return Some((Operand::Threshold(n.node.clone()), d));
                }
                if let Some(g) = other_grade {
                    if let Some(ElementKind::Grade(levels)) = self.kb.elements.get(g).map(|e| &e.kind) {
                        if levels.iter().any(|(l, _)| l == &n.node) {
                            return Some((Operand::Level(n.node.clone()), Dim::Grade));
                        }
                        let names: Vec<String> = levels.iter().map(|(l, _)| l.clone()).collect();
                        let sug = suggest(&n.node, names.iter());
                        let d = self.err("E0703", format!("`{}` is not a level of grade element `{g}`", n.node), n.span);
                        d.label = Some(match sug {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("levels: {}", names.join(", ")),
                        });
                        return None;
                    }
                }
                self.unknown_name(n, "element or threshold");
                None
            }
        }
    }

    fn cond(&mut self, c: &CondAst) -> Option<Cond> {
        match c {
            CondAst::Flag(n) => match self.kb.elements.get(&n.node).map(|e| e.kind.clone()) {
                Some(ElementKind::Bool) => Some(Cond::Flag(n.node.clone())),
                Some(k) => {
                    self.err("E0704", format!("`{}` is not a bool element ({k:?}); compare it with a value", n.node), n.span);
                    None
                }
                None => {
                    self.unknown_name(n, "element");
                    None
                }
            },
            CondAst::And(cs) => {
                let v: Vec<Option<Cond>> = cs.iter().map(|c| self.cond(c)).collect();
                v.into_iter().collect::<Option<Vec<_>>>().map(Cond::And)
            }
            CondAst::Or(cs) => {
                let v: Vec<Option<Cond>> = cs.iter().map(|c| self.cond(c)).collect();
                v.into_iter().collect::<Option<Vec<_>>>().map(Cond::Or)
            }
            CondAst::Not(c) => self.cond(c).map(|c| Cond::Not(Box::new(c))),
            CondAst::Cmp(a, op, b) => {
                let grade_of = |o: &OperandAst, kb: &KnowledgeBase| match o {
                    OperandAst::Name(n) if matches!(kb.elements.get(&n.node).map(|e| &e.kind), Some(ElementKind::Grade(_))) => {
                        Some(n.node.clone())
                    }
                    _ => None,
                };
                let ga = grade_of(a, &self.kb);
                let gb = grade_of(b, &self.kb);
                let ra = self.operand(a, gb.as_deref());
                let rb = self.operand(b, ga.as_deref());
                let ((oa, da), (ob, db)) = (ra?, rb?);
                if !dims_compatible(da, db) {
                    self.err("E0402", format!("unit mismatch: cannot compare {} with {}", dim_name(da), dim_name(db)), op.span);
                    return None;
                }
                Some(Cond::Cmp(oa, op.node, ob))
            }
        }
    }

    fn penalty_items(&mut self, items: &[PenaltyItemAst]) -> Penalty {
        let mut p = Penalty::default();
        for it in items {
            match it {
                PenaltyItemAst::Imprisonment(lo, hi) => {
                    self.check_qty_unit(lo, Some(Unit::Month), "imprisonment");
                    self.check_qty_unit(hi, Some(Unit::Month), "imprisonment");
                    if lo.value > hi.value {
                        self.err("E0403", format!("imprisonment range is reversed ({}m > {}m)", lo.value, hi.value), lo.span);
                    }
                    // Art. 45: 有期徒刑 is six months to fifteen years (twenty / twenty-five when combined, Art. 69).
                    if lo.value < 6.0 - 1e-9 || hi.value > 300.0 + 1e-9 {
                        self.err("E0403", "imprisonment outside 6 months – 25 years (刑法第45条、第69条)", lo.span);
                    }
                    p.imprisonment = Some(MonthRange { lo: lo.value, hi: hi.value });
                }
                PenaltyItemAst::Word(w) => match w.node.as_str() {
                    "detention" => p.detention = true,
                    "surveillance" => p.surveillance = true,
                    "life" => p.life = true,
                    "death" => p.death = true,
                    _ => p.fine_only = true,
                },
            }
        }
        p
    }

    fn requirement(s: Option<&str>) -> Requirement {
        match s {
            Some("required") => Requirement::Required,
            Some("optional") => Requirement::Optional,
            _ => Requirement::None,
        }
    }

    fn increment(&mut self, i: &IncrementAst) -> Option<Increment> {
        self.check_qty_unit(&i.amount, Some(Unit::Month), "an increment");
        let dim = if !i.drugs.is_empty() {
            Dim::Unit(Unit::Gram)
        } else if let Some(d) = self.elem_dim(&i.element.node) {
            d
        } else {
            self.unknown_name(&i.element, "element");
            return None;
        };
        let per_dim = match i.per.unit {
            Some(u) => Dim::Unit(u),
            None => Dim::Bare,
        };
        if !dims_compatible(dim, per_dim) {
            self.err("E0402", format!("unit mismatch: `{}` is {}, the step is {}", i.element.node, dim_name(dim), dim_name(per_dim)), i.per.span);
        }
        if i.per.value <= 0.0 {
            self.err("E0403", "the step of an increment must be positive", i.per.span);
        }
        let above = match &i.above {
            Some(o) => {
                let (op, d) = self.operand(o, None)?;
                if !dims_compatible(dim, d) {
                    self.err("E0402", format!("unit mismatch: `above` is {}, `{}` is {}", dim_name(d), i.element.node, dim_name(dim)), i.element.span);
                }
                Some(op)
            }
            None => None,
        };
        if i.source.cite.trim().is_empty() {
            self.err("E0601", "empty source", i.source.span);
        }
        Some(Increment {
            months: i.amount.value,
            per: Quantity { value: i.per.value, unit: i.per.unit.unwrap_or(Unit::Items) },
            element: i.element.node.clone(),
            above,
            source: Self::source(&i.source),
        })
    }

    fn start(&mut self, s: &(QtyAst, QtyAst, SourceAst)) -> (MonthRange, Source) {
        let (lo, hi, src) = s;
        self.check_qty_unit(lo, Some(Unit::Month), "a starting point");
        self.check_qty_unit(hi, Some(Unit::Month), "a starting point");
        if lo.value > hi.value {
            self.err("E0403", "starting-point range is reversed", lo.span);
        }
        (MonthRange { lo: lo.value, hi: hi.value }, Self::source(src))
    }

    fn charge(&mut self, c: &ChargeAst, names: &HashMap<String, Span>, bands: &HashMap<String, Vec<u32>>) -> Charge {
        if c.articles.is_empty() {
            self.err("E0104", format!("charge `{}` names no defining article", c.name.node), c.name.span);
        }
        for a in &c.articles {
            if !self.kb.articles.contains_key(&a.node) {
                self.err("E0104", format!("dangling reference: article `{}` is not defined", a.node), a.span);
            }
        }
        for i in &c.interpretations {
            if !self.kb.interpretations.contains_key(&i.node) {
                let cands: Vec<String> = self.kb.interpretations.keys().cloned().collect();
                let sug = suggest(&i.node, cands.iter());
                let d = self.err("E0105", format!("unknown interpretation `{}`", i.node), i.span);
                if let Some(s) = sug {
                    d.label = Some(format!("did you mean `{s}`?"));
                }
            }
        }
        for cue in c.cues.iter().chain(&c.anti) {
            self.regex_ok(&cue.pattern);
        }
        let mut out_bands: Vec<Band> = Vec::new();
        let mut seen = HashSet::new();
        for b in &c.bands {
            if !seen.insert(b.number.node) {
                self.err("E0206", format!("band {} of `{}` is defined twice", b.number.node, c.name.node), b.number.span);
                continue;
            }
            let when = b.when.as_ref().and_then(|w| self.cond(w));
            let unless = b.unless.as_ref().and_then(|w| self.cond(w));
            for o in &b.overrides {
                if !bands.get(&c.name.node).is_some_and(|v| v.contains(&o.node)) {
                    self.err("E0502", format!("`overrides {}`: `{}` has no band {}", o.node, c.name.node, o.node), o.span);
                }
            }
            let (penalty, penalty_from) = match &b.penalty {
                Some(PenaltyAst::Items(items)) => (self.penalty_items(items), None),
                Some(PenaltyAst::Like(ch, n)) => {
                    if !names.contains_key(&ch.node) {
                        self.unknown_charge(ch, names);
                    } else if !bands.get(&ch.node).is_some_and(|v| v.contains(&n.node)) {
                        self.err("E0104", format!("dangling reference: `{}` has no band {}", ch.node, n.node), n.span);
                    }
                    (Penalty::default(), Some((ch.node.clone(), n.node)))
                }
                None => {
                    self.err("E0303", format!("band {} of `{}` has no `penalty`", b.number.node, c.name.node), b.span);
                    (Penalty::default(), None)
                }
            };
            if b.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
                self.err("E0601", format!("band {} of `{}` has no `source`", b.number.node, c.name.node), b.span);
            }
            let start = b.start.as_ref().map(|s| self.start(s));
            let increments = b.increments.iter().filter_map(|i| self.increment(i)).collect();
            out_bands.push(Band {
                number: b.number.node,
                text: b.text.clone(),
                when,
                unless,
                overrides: b.overrides.iter().map(|o| o.node).collect(),
                penalty,
                penalty_from,
                fine: Self::requirement(b.fine.as_deref()),
                confiscation: Self::requirement(b.confiscation.as_deref()),
                deprivation: Self::requirement(b.deprivation.as_deref()),
                start,
                increments,
                start_position: None,
                source: Source { cite: b.source.clone().unwrap_or_default(), calibrated: false },
                loc: self.loc(b.span),
            });
        }
        out_bands.sort_by_key(|b| b.number);
        if out_bands.is_empty() {
            self.err("E0303", format!("charge `{}` has no bands", c.name.node), c.name.span);
        }
        // Band override cycles (exceptions must form a tree).
        let edges: Vec<(u32, u32)> = out_bands.iter().flat_map(|b| b.overrides.iter().map(move |o| (b.number, *o))).collect();
        if let Some(cycle) = find_cycle(&edges) {
            let cyc: Vec<String> = cycle.iter().map(|n| format!("band {n}")).collect();
            self.err("E0501", format!("exception cycle in `{}`: {}", c.name.node, cyc.join(" → ")), c.name.span);
        }
        for i in &c.implies {
            match self.kb.elements.get(&i.node).map(|e| &e.kind) {
                Some(ElementKind::Bool) => {}
                Some(_) => {
                    self.err("E0704", format!("`implies {}`: not a bool element", i.node), i.span);
                }
                None => self.unknown_name(i, "element"),
            }
        }
        let mut converts = Vec::new();
        for cv in &c.converts {
            if !names.contains_key(&cv.to.node) {
                self.unknown_charge(&cv.to, names);
            }
            if let Some(w) = self.cond(&cv.when) {
                converts.push(Conversion { to: cv.to.node.clone(), when: w, source: Self::source(&cv.source) });
            }
        }
        let mut yields = Vec::new();
        for y in &c.yields {
            if !names.contains_key(&y.to.node) {
                self.unknown_charge(&y.to, names);
            } else {
                yields.push(Yield { to: y.to.node.clone(), source: Self::source(&y.source) });
            }
        }
        let mut cumulative = Vec::new();
        for k in &c.cumulative {
            // The condition is checked before the charge name, so that both errors are reported at once.
            let when = k.when.as_ref().map(|w| self.cond(w));
            if !names.contains_key(&k.with.node) {
                self.unknown_charge(&k.with, names);
                continue;
            }
            let when = match when {
                Some(None) => continue,
                w => w.flatten(),
            };
            cumulative.push(Cumulative { with: k.with.node.clone(), when, source: Self::source(&k.source) });
        }
        let mut requires = Vec::new();
        for r in &c.requires {
            if let Some(w) = self.cond(&r.when) {
                requires.push(ChargeRequirement { when: w, source: Self::source(&r.source) });
            }
        }
        Charge {
            name: c.name.node.clone(),
            articles: c.articles.iter().map(|a| a.node.clone()).collect(),
            aliases: c.aliases.iter().map(|a| a.node.clone()).collect(),
            group: c.group.clone(),
            curated: c.curated,
            cues: c.cues.iter().map(|x| Cue { pattern: x.pattern.node.clone(), weight: x.weight }).collect(),
            anti: c.anti.iter().map(|x| Cue { pattern: x.pattern.node.clone(), weight: x.weight }).collect(),
            interpretations: c.interpretations.iter().map(|i| i.node.clone()).collect(),
            guideline: c.guideline.clone(),
            bands: out_bands,
            converts,
            requires,
            yields,
            cumulative,
            implies: c.implies.iter().map(|i| i.node.clone()).collect(),
            loc: self.loc(c.name.span),
        }
    }

    fn unknown_charge(&mut self, n: &Spanned<String>, names: &HashMap<String, Span>) {
        let cands: Vec<String> = names.keys().cloned().collect();
        let sug = suggest(&n.node, cands.iter());
        let d = self.err("E0103", format!("unknown charge `{}`", n.node), n.span);
        if let Some(s) = sug {
            d.label = Some(format!("did you mean `{s}`?"));
        }
    }

    /// Copies borrowed penalties (`penalty like "X" band N`), following chains, refusing cycles.
    fn resolve_like(&mut self, asts: &[&ChargeAst]) {
        let spans: HashMap<(String, u32), Span> =
            asts.iter().flat_map(|c| c.bands.iter().map(move |b| ((c.name.node.clone(), b.number.node), b.span))).collect();
        let lookup: HashMap<(String, u32), (Penalty, Option<(String, u32)>)> = self
            .kb
            .charges
            .iter()
            .flat_map(|c| c.bands.iter().map(move |b| ((c.name.clone(), b.number), (b.penalty.clone(), b.penalty_from.clone()))))
            .collect();
        let mut errors = Vec::new();
        for c in &mut self.kb.charges {
            for b in &mut c.bands {
                let Some(mut target) = b.penalty_from.clone() else { continue };
                let mut hops = 0;
                loop {
                    match lookup.get(&target) {
                        Some((p, None)) => {
                            b.penalty = p.clone();
                            break;
                        }
                        Some((_, Some(next))) if hops < 16 => {
                            target = next.clone();
                            hops += 1;
                        }
                        Some(_) => {
                            errors.push(((c.name.clone(), b.number), "cycle of `penalty like` references".to_string()));
                            break;
                        }
                        None => break, // already reported as a dangling reference
                    }
                }
            }
        }
        for (key, msg) in errors {
            let span = spans.get(&key).copied().unwrap_or_default();
            self.err("E0501", format!("`{}` band {}: {msg}", key.0, key.1), span);
        }
    }

    fn extend(&mut self, e: &ExtendAst) {
        let Some(ci) = self.kb.charges.iter().position(|c| c.name == e.charge.node) else {
            let names: HashMap<String, Span> = self.kb.charges.iter().map(|c| (c.name.clone(), Span::default())).collect();
            self.unknown_charge(&e.charge, &names);
            return;
        };
        let Some(bi) = self.kb.charges[ci].bands.iter().position(|b| b.number == e.band.node) else {
            self.err("E0104", format!("dangling reference: `{}` has no band {}", e.charge.node, e.band.node), e.band.span);
            return;
        };
        let start = e.start.as_ref().map(|s| self.start(s));
        let incs: Vec<Increment> = e.increments.iter().filter_map(|i| self.increment(i)).collect();
        let start_at = e.start_at.as_ref().map(|(q, s)| {
            if q.unit.is_some() || !(0.0..=1.0).contains(&q.value) {
                self.err("E0403", "`start_at` is a position between 0 and 1 inside the starting-point range", q.span);
            }
            (q.value.clamp(0.0, 1.0), Self::source(s))
        });
        let band = &mut self.kb.charges[ci].bands[bi];
        if start_at.is_some() {
            if band.start_position.is_some() {
                let sp = e.band.span;
                self.diags.push(Diagnostic::error("E0209", format!("`{}` band {} already has a `start_at`", e.charge.node, e.band.node), sp.file, sp.start, sp.end));
            } else {
                band.start_position = start_at;
            }
        }
        let band = &mut self.kb.charges[ci].bands[bi];
        if let Some(s) = start {
            if band.start.is_some() {
                self.diags.push(
                    Diagnostic::error("E0209", format!("`{}` band {} already has a starting point", e.charge.node, e.band.node), e.band.span.file, e.band.span.start, e.band.span.end),
                );
            } else {
                band.start = Some(s);
            }
        }
        band.increments.extend(incs);
    }

    /// Successive bands must chain: the next band starts where the previous one ends (gap / overlap).
    fn chain_bands(&mut self, asts: &[&ChargeAst]) {
        let mut problems = Vec::new();
        for c in &self.kb.charges {
            let Some(ast) = asts.iter().find(|a| a.name.node == c.name) else { continue };
            for w in c.bands.windows(2) {
                let (a, b) = (&w[0], &w[1]);
                let unchained = |n: u32| ast.bands.iter().any(|x| x.number.node == n && x.unchained.is_some());
                if unchained(a.number) || unchained(b.number) {
                    continue;
                }
                let (Some(ra), Some(rb)) = (a.penalty.month_bounds(), b.penalty.month_bounds()) else { continue };
                // Life / death above fifteen years chain with a band ending at 180 months.
                let a_hi = if a.penalty.life || a.penalty.death { f64::INFINITY } else { ra.hi };
                let span = ast.bands.iter().find(|x| x.number.node == b.number).map(|x| x.span).unwrap_or_default();
                if rb.lo > a_hi + 1e-9 {
                    problems.push(("E0301", format!("band gap in `{}`: band {} ends at {} months, band {} starts at {} months", c.name, a.number, ra.hi, b.number, rb.lo), span));
                } else if rb.lo + 1e-9 < ra.hi && !(a_hi.is_infinite() && rb.lo >= ra.hi) {
                    problems.push(("E0302", format!("band overlap in `{}`: band {} ends at {} months, band {} starts at {} months", c.name, a.number, ra.hi, b.number, rb.lo), span));
                }
            }
        }
        for (code, msg, span) in problems {
            self.err(code, msg, span).notes.push("if the statute really is so, say why with `unchained \"…\"`".to_string());
        }
    }

    fn circumstance(&mut self, c: &CircumstanceAst, names: &HashMap<String, Span>) -> Option<Circumstance> {
        for ch in &c.charges {
            if !self.kb.charges.iter().any(|x| x.name == ch.node) {
                let known: HashMap<String, Span> = self.kb.charges.iter().map(|x| (x.name.clone(), Span::default())).collect();
                self.unknown_charge(ch, &known);
            }
        }
        let when = match &c.when {
            Some(w) => self.cond(w),
            None => {
                self.err("E0601", format!("circumstance `{}` has no `when`", c.name.node), c.name.span);
                None
            }
        };
        for a in &c.articles {
            if !self.kb.articles.contains_key(&a.node) {
                self.err("E0104", format!("dangling reference: article `{}` is not defined", a.node), a.span);
            }
        }
        for o in &c.overrides {
            if !names.contains_key(&o.node) {
                let cands: Vec<String> = names.keys().cloned().collect();
                let sug = suggest(&o.node, cands.iter());
                let d = self.err("E0502", format!("`overrides`: unknown circumstance `{}`", o.node), o.span);
                if let Some(s) = sug {
                    d.label = Some(format!("did you mean `{s}`?"));
                }
            }
        }
        if c.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
            self.err("E0601", format!("circumstance `{}` has no `source`", c.name.node), c.name.span);
        }
        let adjust = c.adjust.as_ref().map(|(lo, hi, src)| {
            self.check_qty_unit(lo, Some(Unit::Percent), "an adjustment");
            self.check_qty_unit(hi, Some(Unit::Percent), "an adjustment");
            if lo.value > hi.value {
                self.err("E0403", "adjustment range is reversed", lo.span);
            }
            ((lo.value, hi.value), Self::source(src))
        });
        let effect = c.effect.as_ref().map(|(m, words)| Effect {
            modality: if m.node == "shall" { Modality::Shall } else { Modality::May },
            lighter: words.iter().any(|w| w == "lighter"),
            mitigate: words.iter().any(|w| w == "mitigate"),
            exempt: words.iter().any(|w| w == "exempt"),
            heavier: words.iter().any(|w| w == "heavier"),
        });
        let exempt_when = c.exempt_when.as_ref().and_then(|w| self.cond(w));
        Some(Circumstance {
            name: c.name.node.clone(),
            when: when?,
            article: c.articles.first().map(|a| a.node.clone()),
            effect,
            exempt_when,
            adjust,
            layer: if c.layer.as_deref() == Some("first") { Layer::First } else { Layer::Second },
            overrides: c.overrides.iter().map(|o| o.node.clone()).collect(),
            charges: c.charges.iter().map(|x| x.node.clone()).collect(),
            source: Source { cite: c.source.clone().unwrap_or_default(), calibrated: false },
            loc: self.loc(c.name.span),
        })
    }

    fn override_cycles(&mut self, circs: &[&CircumstanceAst]) {
        let idx: HashMap<&str, u32> = circs.iter().enumerate().map(|(i, c)| (c.name.node.as_str(), i as u32)).collect();
        let edges: Vec<(u32, u32)> = circs
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.overrides.iter().filter_map(|o| idx.get(o.node.as_str()).map(|j| (i as u32, *j))).collect::<Vec<_>>())
            .collect();
        if let Some(cycle) = find_cycle(&edges) {
            let names: Vec<String> = cycle.iter().map(|i| circs[*i as usize].name.node.clone()).collect();
            let span = circs[cycle[0] as usize].name.span;
            self.err("E0501", format!("exception cycle: {}", names.join(" → ")), span);
        }
    }

    fn test(&mut self, t: &TestAst, owner: Option<&ChargeAst>, names: &HashMap<String, Span>) -> Option<KbTest> {
        if t.expects.is_empty() {
            self.err("E0702", format!("test `{}` expects nothing", t.name.node), t.name.span);
        }
        if t.fact.is_none() && t.given.is_empty() && t.given_drugs.is_empty() {
            self.err("E0702", format!("test `{}` has neither `fact` nor `given`", t.name.node), t.name.span);
        }
        let charge = t.charge.as_ref().map(|c| c.node.clone()).or_else(|| owner.map(|o| o.name.node.clone()));
        if let Some(c) = &t.charge {
            if !names.contains_key(&c.node) {
                self.unknown_charge(c, names);
            }
        }
        let has_band_expect = t.expects.iter().any(|e| matches!(e, ExpectAst::Band(_) | ExpectAst::Term(..)));
        if has_band_expect && charge.is_none() {
            self.err("E0702", format!("test `{}` expects a band or term but names no `charge`", t.name.node), t.name.span);
        }
        let mut given = Vec::new();
        for (n, v, span) in &t.given {
            let Some(el) = self.kb.elements.get(&n.node).cloned() else {
                self.unknown_name(n, "element");
                continue;
            };
            let value = match (v, &el.kind) {
                (ValueAst::Bool(b), ElementKind::Bool) => Value::Bool(*b),
                (ValueAst::Date(d), ElementKind::Date) => Value::Date(*d),
                (ValueAst::Name(l), ElementKind::Grade(levels)) => {
                    if !levels.iter().any(|(x, _)| x == l) {
                        self.err("E0703", format!("`{l}` is not a level of `{}`", n.node), *span);
                        continue;
                    }
                    Value::Level(l.clone())
                }
                (ValueAst::Qty(q), k @ (ElementKind::Money | ElementKind::Quantity(_) | ElementKind::Count | ElementKind::Age)) => {
                    let want = match k {
                        ElementKind::Money => Some(Unit::Yuan),
                        ElementKind::Quantity(u) => Some(*u),
                        ElementKind::Count => q.unit.filter(|u| unit_family(*u) == 4).or(None),
                        _ => None,
                    };
                    if !matches!(k, ElementKind::Count) || q.unit.is_some_and(|u| unit_family(u) != 4) {
                        self.check_qty_unit(q, want, &format!("`{}`", n.node));
                    }
                    Value::Number(q.value)
                }
                _ => {
                    self.err("E0704", format!("value does not fit element `{}` ({:?})", n.node, el.kind), *span);
                    continue;
                }
            };
            given.push((n.node.clone(), value));
        }
        let given_drugs = t
            .given_drugs
            .iter()
            .map(|(n, q)| {
                self.check_qty_unit(q, Some(Unit::Gram), "a drug quantity");
                (n.node.clone(), q.value)
            })
            .collect();
        let province = t.province.as_ref().map(|p| {
            if !PROVINCES.contains(&p.node.as_str()) {
                self.err("E0701", format!("unknown province `{}`", p.node), p.span);
            }
            p.node.clone()
        });
        let mut expects = Vec::new();
        for e in &t.expects {
            expects.push(match e {
                ExpectAst::Charge(c) | ExpectAst::NotCharge(c) => {
                    if !names.contains_key(&c.node) {
                        self.unknown_charge(c, names);
                    }
                    if matches!(e, ExpectAst::Charge(_)) { Expect::Charge(c.node.clone()) } else { Expect::NotCharge(c.node.clone()) }
                }
                ExpectAst::Article(a) | ExpectAst::NotArticle(a) => {
                    if !self.kb.articles.contains_key(&a.node) {
                        self.err("E0104", format!("dangling reference: article `{}` is not defined", a.node), a.span);
                    }
                    if t.fact.is_none() {
                        self.err("E0702", format!("test `{}` expects an article but gives no `fact`", t.name.node), a.span);
                    }
                    if matches!(e, ExpectAst::Article(_)) { Expect::Article(a.node.clone()) } else { Expect::NotArticle(a.node.clone()) }
                }
                ExpectAst::Band(n) => Expect::Band(n.node),
                ExpectAst::Term(lo, hi) => {
                    self.check_qty_unit(lo, Some(Unit::Month), "a term");
                    self.check_qty_unit(hi, Some(Unit::Month), "a term");
                    Expect::Term(MonthRange { lo: lo.value, hi: hi.value })
                }
            });
        }
        Some(KbTest {
            name: t.name.node.clone(),
            charge,
            fact: t.fact.clone(),
            given,
            given_drugs,
            province,
            expects,
            loc: self.loc(t.name.span),
        })
    }
}

fn dims_compatible(a: Dim, b: Dim) -> bool {
    match (a, b) {
        (Dim::Unit(x), Dim::Unit(y)) => unit_family(x) == unit_family(y),
        (Dim::Count, Dim::Unit(u)) | (Dim::Unit(u), Dim::Count) => unit_family(u) == 4,
        (Dim::Count, Dim::Bare) | (Dim::Bare, Dim::Count) | (Dim::Count, Dim::Count) => true,
        (Dim::Age, Dim::Bare) | (Dim::Bare, Dim::Age) | (Dim::Age, Dim::Age) => true,
        (Dim::Grade, Dim::Grade) => true,
        (Dim::Date, Dim::Date) => true,
        (Dim::Bare, Dim::Bare) => true,
        // A bare number against money/quantity is ambiguous: require the unit.
        _ => false,
    }
}

fn dim_name(d: Dim) -> String {
    match d {
        Dim::Unit(u) => format!("`{}`", u.name()),
        Dim::Count => "a count".into(),
        Dim::Age => "an age in years".into(),
        Dim::Bare => "a plain number".into(),
        Dim::Grade => "a grade".into(),
        Dim::Date => "a date".into(),
        Dim::Other => "a non-numeric element".into(),
    }
}

/// Finds a directed cycle in an edge list (nodes are small integers), returned as the nodes in order.
fn find_cycle(edges: &[(u32, u32)]) -> Option<Vec<u32>> {
    let mut adj: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (a, b) in edges {
        adj.entry(*a).or_default().push(*b);
    }
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state: HashMap<u32, u8> = HashMap::new();
    fn dfs(n: u32, adj: &BTreeMap<u32, Vec<u32>>, state: &mut HashMap<u32, u8>, stack: &mut Vec<u32>) -> Option<Vec<u32>> {
        state.insert(n, 1);
        stack.push(n);
        for &m in adj.get(&n).map(|v| v.as_slice()).unwrap_or(&[]) {
            match state.get(&m).copied().unwrap_or(0) {
                1 => {
                    let pos = stack.iter().position(|x| *x == m).unwrap_or(0);
                    let mut cyc = stack[pos..].to_vec();
                    cyc.push(m);
                    return Some(cyc);
                }
                0 => {
                    if let Some(c) = dfs(m, adj, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    let nodes: Vec<u32> = adj.keys().copied().collect();
    for n in nodes {
        if state.get(&n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = dfs(n, &adj, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

