//! Extraction measured on the development data of `../shared` (skipped with a notice when it is absent):
//! the hand-labelled elements of `data/elements/dev.jsonl`, money / value spans of CAIL2021 and drug weights of
//! CAIL2022. The floors are regression guards a little under the measured development numbers, not targets
//! fitted to single cases. Run with `--nocapture` to see the full report.

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
    assert!(rep.circumstance_micro_f1 >= 0.85, "circumstance micro-F1 {}", rep.circumstance_micro_f1);
    assert!(rep.amount_exact_all >= 0.80, "amount exact {}", rep.amount_exact_all);
    assert!(rep.injury_accuracy >= 0.85, "injury accuracy {}", rep.injury_accuracy);
    assert!(rep.deaths_accuracy >= 0.90, "deaths accuracy {}", rep.deaths_accuracy);
}

#[test]
fn cail2021_money_spans() {
    let Some(text) = shared("data/cail2021_xxcq/train.jsonl") else { return };
    let s = span_f1_money(&extractor(), &text).expect("file parses");
    eprintln!("{}", s.summary("money/value spans (NCSM+NCGV)"));
    assert!(s.overlap_f1() >= 0.5, "overlap F1 {}", s.overlap_f1());
}

#[test]
fn cail2022_drug_weight_spans() {
    let Some(text) = shared("data/cail2022_xxcq/train.jsonl") else { return };
    let s = span_f1_drug_weights(&text).expect("file parses");
    eprintln!("{}", s.summary("drug weight spans (NW)"));
    assert!(s.exact_f1() >= 0.5, "exact F1 {}", s.exact_f1());
}

/// With `LEXPRO_SHOW_SPANS=1`, prints the CAIL2021 sentences whose money spans disagree (error analysis).
#[test]
fn show_money_span_errors() {
    if std::env::var_os("LEXPRO_SHOW_SPANS").is_none() {
        return;
    }
    let Some(text) = shared("data/cail2021_xxcq/train.jsonl") else { return };
    let ex = extractor();
    for line in text.lines().take(4000) {
        let g: serde_json::Value = serde_json::from_str(line).expect("json");
        let ctx = g["context"].as_str().unwrap_or("");
        let chars: Vec<char> = ctx.chars().collect();
        let mut gold = Vec::new();
        for e in g["entities"].as_array().into_iter().flatten() {
            let l = e["label"].as_str().unwrap_or("");
            if l == "NCSM" || l == "NCGV" {
                for s in e["span"].as_array().into_iter().flatten() {
                    let (a, b) = s.as_str().unwrap_or("0;0").split_once(';').unwrap_or(("0", "0"));
                    let (a, b): (usize, usize) = (a.parse().unwrap_or(0), b.parse().unwrap_or(0));
                    gold.push(chars[a.min(chars.len())..b.min(chars.len())].iter().collect::<String>());
                }
            }
        }
        let pred: Vec<String> = ex.amount_mentions(ctx).into_iter().map(|s| s.text).collect();
        let mut g2 = gold.clone();
        g2.sort();
        let mut p2 = pred.clone();
        p2.sort();
        if g2 != p2 {
            eprintln!("{ctx}\n  gold {gold:?}\n  pred {pred:?}");
        }
    }
}
