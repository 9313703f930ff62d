//! No sentence ever leaves the law's bounds: over the whole development set, every charge's computed
//! term lies in the statutory range of its selected band (below it only after 减轻处罚, and then within
//! the next band down per Art. 63), 拘役 / 管制 / 有期徒刑 keep their general limits (Art. 38, 42, 45),
//! life and death only where the band allows them, and 数罪并罚 stays within Art. 69.
//!
//! Needs `../shared`; skips with a notice when it is absent.

use lexpro::contract::TermKind;
use lexpro::extract::Extractor;
use lexpro::kb::model::KnowledgeBase;
use lexpro::sentence::band::{band, bounds, find_charge, next_lower};
use lexpro::sentence::eval::parse_cail;
use lexpro::sentence::guideline::{compute, Params, Penal};
use lexpro::sentence::{province, select_band, sentence};
use std::path::Path;

mod common;

fn load() -> Option<(KnowledgeBase, String)> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cail2018/train.jsonl");
    let Ok(text) = std::fs::read_to_string(&data) else {
        eprintln!("skipping: {} is absent", data.display());
        return None;
    };
    Some((common::shipped_kb(), text))
}

/// Checks one charge's penalty against its band; returns a description of the violation.
fn violation(kb: &KnowledgeBase, charge: &str, band_no: u32, p: &Penal) -> Option<String> {
    let c = find_charge(kb, charge)?;
    let b = band(c, band_no)?;
    let r = bounds(b)?;
    let floor = next_lower(c, b).and_then(bounds).map(|x| x.lo).unwrap_or(1.0);
    match *p {
        Penal::Life if !b.penalty.life => Some("life not allowed".into()),
        Penal::Death if !b.penalty.death => Some("death not allowed".into()),
        Penal::Months { kind, months } => {
            let general = match kind {
                TermKind::CriminalDetention => (1.0..=6.0).contains(&months),
                TermKind::PublicSurveillance => (3.0..=24.0).contains(&months),
                TermKind::FixedTerm => (6.0..=300.0).contains(&months),
                _ => false,
            };
            if !general {
                return Some(format!("{kind:?} {months} outside its general limits"));
            }
            if months > r.hi + 0.5 || months < floor.min(r.lo) - 0.5 {
                return Some(format!("{months} months outside band {}–{} (floor after Art. 63: {floor})", r.lo, r.hi));
            }
            None
        }
        _ => None,
    }
}

#[test]
fn every_dev_case_stays_within_the_statutory_band() {
    let Some((kb, text)) = load() else { return };
    let cases = parse_cail(&text).expect("CAIL data parses");
    let ex = Extractor::new(&kb).expect("extractor builds");
    let params = Params::default();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut facts = ex.extract(&case.fact, None).facts;
        if facts.province.is_none() {
            facts.province = province::detect(&case.fact).map(|(p, _)| p.to_string());
        }
        let charges: Vec<String> = case.meta.accusation.iter().filter(|a| find_charge(&kb, a).is_some()).cloned().collect();
        if charges.is_empty() {
            continue;
        }
        let s = sentence(&kb, &facts, &charges);
        let Some(term) = &s.term else { continue };
        checked += 1;
        // Each charge on its own.
        let mut parts = Vec::new();
        for ch in &s.bands {
            let Some(c) = find_charge(&kb, &ch.charge) else { continue };
            let Some(t) = compute(&kb, &facts, c, ch.band, &params) else { continue };
            if let Some(v) = violation(&kb, &ch.charge, ch.band, &t.penal) {
                problems.push(format!("case {i} {}: {v}", ch.charge));
            }
            parts.push(t.penal);
        }
        // The executed term: Art. 69 between the heaviest and the capped sum.
        if parts.len() > 1 {
            if let Some(m) = term.months {
                let ms: Vec<f64> = parts.iter().filter_map(|p| p.months()).collect();
                let max = ms.iter().copied().fold(0.0, f64::max);
                let sum: f64 = ms.iter().sum();
                if term.kind == TermKind::FixedTerm && (m > sum.min(300.0) + 0.5 || m + 0.5 < max.min(m + 1.0)) {
                    problems.push(format!("case {i}: combined {m} outside Art. 69 ({max}..{sum})"));
                }
            }
        } else if let Some(ch) = s.bands.first() {
            // The single charge's band is the one the knowledge base selects (or the lightest).
            if let Some(sel) = select_band(&kb, &ch.charge, &facts) {
                assert_eq!(sel.band, ch.band, "case {i}");
            }
        }
        if let Some(f) = s.fine_yuan {
            if f < 500.0 {
                problems.push(format!("case {i}: fine {f} below the 500 yuan floor"));
            }
        }
    }
    eprintln!("checked {checked} dev cases with a term");
    assert!(problems.is_empty(), "{} violation(s):\n{}", problems.len(), problems.iter().take(30).cloned().collect::<Vec<_>>().join("\n"));
}

/// The same bound on the charges the engine decides (slow in debug builds: the whole pipeline on 3,562
/// cases): `cargo test --release --test sentence_bounds -- --ignored`.
#[test]
#[ignore = "slow: the whole pipeline on the development set"]
fn engine_sentences_stay_within_the_decided_charges_bands() {
    let Some((kb, text)) = load() else { return };
    let cases = parse_cail(&text).expect("CAIL data parses");
    let engine = lexpro::Engine::from_kb(kb).expect("engine builds");
    let mut problems = Vec::new();
    let mut checked = 0;
    for (i, case) in cases.iter().enumerate() {
        let input = lexpro::contract::CaseInput { id: format!("c{i}"), fact: case.fact.clone(), province: None, date: None };
        let Ok(a) = engine.analyze_detailed(&input) else { continue };
        if a.sentence.term.is_none() {
            continue;
        }
        checked += 1;
        for ch in &a.sentence.bands {
            let Some(c) = find_charge(engine.kb(), &ch.charge) else { continue };
            let Some(t) = compute(engine.kb(), &a.extraction.facts, c, ch.band, &Params::default()) else { continue };
            if let Some(v) = violation(engine.kb(), &ch.charge, ch.band, &t.penal) {
                problems.push(format!("case {i} {}: {v}", ch.charge));
            }
        }
    }
    eprintln!("checked {checked} dev cases with a term");
    assert!(problems.is_empty(), "{} violation(s):\n{}", problems.len(), problems.iter().take(30).cloned().collect::<Vec<_>>().join("\n"));
}
