//! The literal prefilter of cue patterns must never hide a match: on every cue and counter-cue of the
//! shipped knowledge base and real fact descriptions, a pattern that matches always passes the prefilter.

use lexpro::retrieve::prefilter::{max_match_chars, required_atom_sets, required_atoms, Atom, AtomIndex, TextGrams};

mod common;

/// The shipped knowledge base, and real facts (every 40th dev fact when ../shared is present) plus the
/// knowledge base's own test facts.
fn kb_and_facts() -> (lexpro::kb::model::KnowledgeBase, Vec<String>) {
    let kb = common::shipped_kb();
    let facts = common::cail_facts(40).into_iter().chain(kb.tests.iter().filter_map(|t| t.fact.clone())).collect();
    (kb, facts)
}

#[test]
fn prefilter_never_hides_a_cue_match() {
    let (kb, facts) = kb_and_facts();
    let mut checked = 0usize;
    for c in &kb.charges {
        for cue in c.cues.iter().chain(c.anti.iter()) {
            let Ok(re) = regex::Regex::new(&cue.pattern) else { continue };
            let Some(atoms) = required_atoms(&cue.pattern) else { continue };
            let atoms: Vec<Atom> = atoms.iter().map(|a| Atom::new(a)).collect();
            for f in &facts {
                if re.is_match(f) {
                    let g = TextGrams::new(f);
                    assert!(
                        atoms.iter().any(|a| g.may_contain_atom(a) && f.contains(a.text.as_str())),
                        "prefilter hides a match of `{}` ({}) in 「{f}」",
                        cue.pattern,
                        c.name
                    );
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} cue matches checked against the prefilter");
}

/// The retriever runs a cue only when every required literal set has a member in the fact, and on long
/// facts only in windows of the match-length bound around a literal: on real facts, every match of every
/// cue contains a member of each set, the atom index reports those members present, and no match is longer
/// than the bound.
#[test]
fn literal_sets_and_length_bounds_hold_on_every_match() {
    let (kb, facts) = kb_and_facts();
    let mut index = AtomIndex::default();
    let mut cues = Vec::new();
    for c in &kb.charges {
        for cue in c.cues.iter().chain(c.anti.iter()) {
            let Ok(re) = regex::Regex::new(&cue.pattern) else { continue };
            let sets = required_atom_sets(&cue.pattern);
            let ids: Vec<Vec<u32>> = sets.iter().map(|s| s.iter().filter_map(|a| index.add(a)).collect()).collect();
            cues.push((re, sets, ids, max_match_chars(&cue.pattern)));
        }
    }
    let mut checked = 0usize;
    for f in &facts {
        let present = index.present(f);
        for (re, sets, ids, bound) in &cues {
            for m in re.find_iter(f) {
                for (set, ids) in sets.iter().zip(ids) {
                    assert!(set.iter().any(|a| m.as_str().contains(a.as_str())), "`{}` matched 「{}」 without any of {set:?}", re.as_str(), m.as_str());
                    assert!(ids.iter().any(|&i| present[i as usize]), "atom index misses {set:?} in 「{f}」");
                }
                if let Some(l) = bound {
                    assert!(m.as_str().chars().count() <= *l, "`{}` matched {} chars > bound {l}", re.as_str(), m.as_str().chars().count());
                }
                checked += 1;
            }
        }
    }
    eprintln!("{checked} cue matches checked against literal sets and length bounds");
}
