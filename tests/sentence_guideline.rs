//! The guideline's method over the shipped knowledge base: for every band of every charge, the
//! sentence without circumstances starts inside the guideline's 量刑起点 range (or the band) and stays in
//! the band; for every circumstance with a guideline percentage, applied alone, it moves the term in
//! its direction by the chosen point of its range, and never out of the law's bounds.

use lexpro::contract::TermKind;
use lexpro::kb::eval::Facts;
use lexpro::kb::model::{CmpOp, Cond, KnowledgeBase, Operand, Value};
use lexpro::sentence::band::{bounds, next_lower};
use lexpro::sentence::guideline::{compute, Params, Penal};

mod common;

fn kb() -> Option<KnowledgeBase> {
    Some(common::shipped_kb())
}

/// Sets facts so that `c` holds where that is simple (flags, numeric comparisons with literals).
fn satisfy(c: &Cond, f: &mut Facts) {
    match c {
        Cond::Flag(n) => f.set_bool(n, true),
        Cond::And(cs) => cs.iter().for_each(|x| satisfy(x, f)),
        Cond::Or(cs) => {
            if let Some(x) = cs.first() {
                satisfy(x, f)
            }
        }
        Cond::Not(_) => {}
        Cond::Cmp(Operand::Element(e), op, Operand::Number(v)) => {
            let x = match op {
                CmpOp::Ge | CmpOp::Eq => *v,
                CmpOp::Gt => v + 1.0,
                CmpOp::Lt => v - 1.0,
                CmpOp::Le => *v,
                CmpOp::Ne => v + 1.0,
            };
            // Keep an existing value when it already satisfies a second bound (ranges like 16 ≤ age < 18).
            if f.number(e).is_none() {
                f.values.insert(e.clone(), Value::Number(x));
            }
        }
        Cond::Cmp(..) => {}
    }
}

fn months(p: &Penal) -> Option<f64> {
    match p {
        Penal::Months { months, .. } => Some(*months),
        _ => None,
    }
}

#[test]
fn every_band_starts_inside_its_range() {
    let Some(kb) = kb() else { return };
    let p = Params::default();
    let mut n = 0;
    for c in &kb.charges {
        for b in &c.bands {
            let Some(r) = bounds(b) else { continue };
            let Some(t) = compute(&kb, &Facts::default(), c, b.number, &p) else { continue };
            n += 1;
            match t.penal {
                Penal::Months { kind, months } => {
                    assert!(months >= r.lo.max(1.0) - 0.5 && months <= r.hi + 0.5, "{} band {}: {months} outside {}..{}", c.name, b.number, r.lo, r.hi);
                    if let Some((s, _)) = &b.start {
                        let (lo, hi) = (s.lo.max(r.lo), s.hi.min(r.hi));
                        assert!(t.baseline >= lo - 1e-6 && t.baseline <= hi + 1e-6, "{} band {}: start {} outside {}..{}", c.name, b.number, t.baseline, lo, hi);
                    }
                    if kind == TermKind::CriminalDetention {
                        assert!(b.penalty.detention, "{} band {}: 拘役 not allowed", c.name, b.number);
                    }
                }
                Penal::Life => assert!(b.penalty.life, "{} band {}", c.name, b.number),
                Penal::Death => assert!(b.penalty.death, "{} band {}", c.name, b.number),
                Penal::Exempt => panic!("{} band {}: exempt without any circumstance", c.name, b.number),
                Penal::FineOnly => assert!(b.penalty.fine_only, "{} band {}", c.name, b.number),
            }
        }
    }
    eprintln!("checked {n} bands");
}

#[test]
fn every_circumstance_moves_the_term_its_way() {
    let Some(kb) = kb() else { return };
    let p = Params::default();
    // A guideline band with a fixed-term range: 诈骗罪 band 2 (3–10 years), else the first such band.
    let Some((c, b)) = kb
        .charges
        .iter()
        .flat_map(|c| c.bands.iter().map(move |b| (c, b)))
        .find(|(c, b)| c.name == "诈骗罪" && b.number == 2)
        .or_else(|| kb.charges.iter().flat_map(|c| c.bands.iter().map(move |b| (c, b))).find(|(_, b)| b.start.is_some() && b.penalty.imprisonment.is_some()))
    else {
        eprintln!("skipping: no guideline band in the knowledge base");
        return;
    };
    let base = compute(&kb, &Facts::default(), c, b.number, &p).expect("base term");
    let base_m = months(&base.penal).expect("base months");
    let r = bounds(b).expect("bounds");
    let floor = next_lower(c, b).and_then(bounds).map(|x| x.lo).unwrap_or(1.0);
    let mut n = 0;
    for circ in &kb.circumstances {
        let Some(((lo, hi), _)) = &circ.adjust else { continue };
        let mut f = Facts::default();
        satisfy(&circ.when, &mut f);
        let mut used = Vec::new();
        if !f.eval(&circ.when, &kb, &mut used) {
            continue;
        }
        let t = compute(&kb, &f, c, b.number, &p).expect("term");
        n += 1;
        let Some(m) = months(&t.penal) else {
            assert!(*hi > 0.0, "{}: only an increase can reach life / death", circ.name);
            continue;
        };
        let m = m.max(0.0);
        if *hi <= 0.0 {
            assert!(m <= base_m + 0.5, "{} reduces: {m} > {base_m}", circ.name);
        }
        if *lo >= 0.0 {
            assert!(m >= base_m - 0.5, "{} increases: {m} < {base_m}", circ.name);
        }
        assert!(m <= r.hi + 0.5 && (m >= floor - 0.5 || t.penal == Penal::Exempt), "{}: {m} outside {floor}..{}", circ.name, r.hi);
        assert!(t.trace.iter().any(|s| s.message.contains(circ.name.as_str())) || !t.circumstances.contains(&circ.name), "{}: no trace step", circ.name);
    }
    eprintln!("checked {n} circumstances on {} band {}", c.name, b.number);
    assert!(n > 0 || kb.circumstances.is_empty());
}

/// Sentences `name` in band `band` of the shipped knowledge base with the calibrated defaults.
fn term(kb: &KnowledgeBase, f: &Facts, name: &str, band: u32) -> Option<lexpro::sentence::guideline::ChargeTerm> {
    let c = kb.charges.iter().find(|c| c.name == name)?;
    compute(kb, f, c, band, &Params::default())
}

#[test]
fn drug_quantity_raises_the_baseline_inside_the_band() {
    let Some(kb) = kb() else { return };
    let at = |g: f64, band: u32| {
        let mut f = Facts::default();
        f.drugs.push(("甲基苯丙胺".into(), g));
        term(&kb, &f, "走私、贩卖、运输、制造毒品罪", band).map(|t| (t.baseline, t.penal, t.range))
    };
    let (Some(small), Some(more)) = (at(1.0, 1), at(8.0, 1)) else {
        eprintln!("skipping: 走私、贩卖、运输、制造毒品罪 band 1 not in the knowledge base");
        return;
    };
    assert!(more.0 > small.0, "8 g must weigh more than 1 g: {} vs {}", more.0, small.0);
    for (g, band) in [(10.0, 3), (30.0, 3), (49.0, 3), (5.0, 1), (9.9, 1)] {
        if let Some((_, Penal::Months { months, .. }, r)) = at(g, band) {
            assert!(months >= r.lo.max(1.0) - 0.5 && months <= r.hi + 0.5, "{g} g band {band}: {months} outside {}..{}", r.lo, r.hi);
        }
    }
    if let (Some(a), Some(b)) = (at(10.0, 3), at(40.0, 3)) {
        assert!(b.0 > a.0, "40 g must weigh more than 10 g in band 3");
    }
}

#[test]
fn charge_scoped_adjustments_stay_with_their_charge() {
    let Some(kb) = kb() else { return };
    let Some(circ) = kb.circumstances.iter().find(|c| c.charges.iter().any(|n| n == "非法吸收公众存款罪")) else {
        eprintln!("skipping: no circumstance scoped to 非法吸收公众存款罪");
        return;
    };
    let mut f = Facts::default();
    f.set_bool("restitution", true);
    let t = term(&kb, &f, "非法吸收公众存款罪", 2).expect("非法吸收公众存款罪 band 2");
    assert!(t.circumstances.contains(&circ.name), "{:?}", t.circumstances);
    assert!(!t.circumstances.iter().any(|n| n == "退赃退赔"), "counted twice: {:?}", t.circumstances);
    let base = term(&kb, &Facts::default(), "非法吸收公众存款罪", 2).expect("非法吸收公众存款罪 band 2");
    assert!(t.penal.months() < base.penal.months(), "{:?} vs {:?}", t.penal, base.penal);
    let t = term(&kb, &f, "诈骗罪", 2).expect("诈骗罪 band 2");
    assert!(!t.circumstances.contains(&circ.name), "{:?}", t.circumstances);
    assert!(t.circumstances.iter().any(|n| n == "退赃退赔"), "{:?}", t.circumstances);
}

#[test]
fn calibrated_band_positions_are_traced_with_their_source() {
    let Some(kb) = kb() else { return };
    let Some((c, b)) = kb.charges.iter().flat_map(|c| c.bands.iter().map(move |b| (c, b))).find(|(_, b)| b.start.is_some() && b.start_position.is_some()) else {
        eprintln!("skipping: no band with its own calibrated start position");
        return;
    };
    let t = compute(&kb, &Facts::default(), c, b.number, &Params::default()).expect("term");
    let src = b.start_position.as_ref().map(|(_, s)| s.to_string()).unwrap_or_default();
    assert!(t.trace.iter().any(|s| s.message.contains("本档位置") && s.message.contains(&src)), "{} band {}: {:?}", c.name, b.number, t.trace);
}
