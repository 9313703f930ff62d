//! Retrieval and decision over the shipped knowledge base: breadth (every charge reachable by name) and
//! leakage-free similar-case retrieval on the development data.

use lexpro::decide::decide;
use lexpro::extract::Extractor;
use lexpro::kb::model::KnowledgeBase;
use lexpro::retrieve::cases::{parse_case, CaseIndex, SearchOpts};
use lexpro::retrieve::Retriever;
use std::path::Path;

mod common;

fn kb() -> Option<KnowledgeBase> {
    Some(common::shipped_kb())
}

/// A fact that names the charge (as many real facts do) must decide exactly that charge, for every charge
/// of the knowledge base — breadth is the point, not the 52 charges of the development set.
#[test]
fn every_charge_is_decided_when_the_fact_names_it() {
    let Some(kb) = kb() else { return };
    let ex = Extractor::new(&kb).expect("extractor");
    let r = Retriever::new(&kb).expect("retriever");
    let mut failures = Vec::new();
    for c in &kb.charges {
        let fact = format!("公诉机关认为，被告人某某的行为已构成{}，提请依法判处。", c.name);
        let e = ex.extract(&fact, None);
        let d = decide(&kb, &fact, &e, &r.retrieve(&fact, &e, 10));
        let got: Vec<&str> = d.charges.iter().map(|x| x.name.as_str()).collect();
        if got.first() != Some(&c.name.as_str()) {
            failures.push(format!("{} → {:?}", c.name, got));
        }
    }
    eprintln!("{} charges, {} not decided by name", kb.charges.len(), failures.len());
    assert!(failures.is_empty(), "charges not decided when named:\n{}", failures.join("\n"));
}

/// A prior conviction named in the fact is not the current charge.
#[test]
fn a_prior_conviction_is_not_the_charge() {
    let Some(kb) = kb() else { return };
    let r = Retriever::new(&kb).expect("retriever");
    let ex = Extractor::new(&kb).expect("extractor");
    let fact = "被告人曾因抢劫罪被判处有期徒刑三年，2015年刑满释放。";
    let e = ex.extract(fact, None);
    let c = r.retrieve(fact, &e, 10);
    assert!(c.iter().all(|c| c.signals.mention == 0.0), "{c:?}");
}

/// Leave-one-out on the development set: a case never retrieves itself (nor its identical duplicates).
#[test]
fn similar_cases_never_retrieve_themselves() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cail2018/train.jsonl");
    let Ok(text) = std::fs::read_to_string(&p) else {
        eprintln!("note: ../shared absent; similar-case test skipped");
        return;
    };
    let cases: Vec<_> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| parse_case(l, i + 1).ok().flatten())
        .take(300)
        .collect();
    let idx = CaseIndex::temporary().expect("index");
    idx.add(&cases).expect("add");
    let opts = SearchOpts { exclude_same_fact: true, ..Default::default() };
    let mut agree = 0;
    for c in &cases {
        let hits = idx.search(&c.fact, 5, &opts).expect("search");
        let own = lexpro::retrieve::cases::fact_hash(&c.fact);
        assert!(hits.iter().all(|h| h.record.fact_hash != own), "case {} retrieved itself", c.id);
        if hits.first().is_some_and(|h| h.record.charges == c.charges) {
            agree += 1;
        }
    }
    eprintln!("nearest neighbour has the same charges in {agree} of {} cases", cases.len());
    assert!(agree * 2 > cases.len(), "nearest neighbours agree in only {agree} of {}", cases.len());
}
