//! Extraction measured on the development data of `../shared` (skipped with a notice when it is absent):
//! the hand-labelled elements of `data/elements/dev.jsonl`, money / value spans of CAIL2021 and drug weights of
//! CAIL2022. The floors are the acceptance bars (issue 4 "Done when") and regression guards under the
//! measured development numbers; they are not fitted to single cases. Run with `--nocapture` for the report.

use lexpro::extract::eval::{evaluate_gold, span_f1_drug_weights, span_f1_money};
use lexpro::extract::Extractor;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared(rel: &str) -> Option<String> {
    let p = root().join("../shared").join(rel);
    match std::fs::read_to_string(&p) {
        Ok(t) => Some(t),
        Err(_) => {
            eprintln!("skipping: {} is absent", p.display());
            None
        }
    }
}

fn extractor() -> Extractor {
    let kb = lexpro::kb::load_dir(&root().join("knowledge")).expect("the shipped knowledge base compiles");
    Extractor::new(&kb).expect("cue patterns compile")
}

#[test]
fn dev_elements() {
    let Some(gold) = shared("data/elements/dev.jsonl") else { return };
    let ex = extractor();
    let rep = evaluate_gold(&ex, &gold).expect("gold file parses");
    eprintln!("{rep}");
    for m in &rep.mismatches {
        eprintln!("{}\t{}\tgold={}\tpredicted={}", m.id, m.key, m.gold, m.predicted);
    }
    assert_eq!(rep.cases, 98);
    assert!(rep.circumstance_micro_f1 >= 0.95, "circumstance micro-F1 {}", rep.circumstance_micro_f1);
    assert!(rep.amount_exact_all >= 0.90, "amount exact {}", rep.amount_exact_all);
    assert!(rep.injury_accuracy >= 0.95, "injury accuracy {}", rep.injury_accuracy);
    assert!(rep.deaths_accuracy >= 0.95, "deaths accuracy {}", rep.deaths_accuracy);
}

#[test]
fn cail2021_money_spans() {
    let Some(text) = shared("data/cail2021_xxcq/train.jsonl") else { return };
    let s = span_f1_money(&extractor(), &text).expect("file parses");
    eprintln!("{}", s.summary("money/value spans (NCSM+NCGV)"));
    assert!(s.overlap_f1() >= 0.85, "overlap F1 {}", s.overlap_f1());
}

#[test]
fn cail2022_drug_weight_spans() {
    let Some(text) = shared("data/cail2022_xxcq/train.jsonl") else { return };
    let s = span_f1_drug_weights(&text).expect("file parses");
    eprintln!("{}", s.summary("drug weight spans (NW)"));
    assert!(s.exact_f1() >= 0.85, "exact F1 {}", s.exact_f1());
}
