//! `lexpro eval terms`: the command module compiled here against the library (it is wired into the
//! binary by `src/bin/lexpro/main.rs`), run on a small CAIL-format file.

#[path = "../src/bin/lexpro/eval_terms_cmd.rs"]
mod eval_terms_cmd;

use eval_terms_cmd::{run, EvalTermsArgs};
use std::path::PathBuf;

fn args(gold: PathBuf) -> EvalTermsArgs {
    EvalTermsArgs {
        gold,
        knowledge: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("knowledge")),
        limit: None,
        top: 15,
        gold_charges: false,
        calibrate: false,
        holdout: false,
    }
}

#[test]
fn runs_in_every_mode_on_a_small_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gold = dir.path().join("gold.jsonl");
    let lines = [
        r#"{"fact": "北京市通州区人民检察院指控：被告人李某盗窃他人手机一部，价值人民币5000元。被告人到案后如实供述。", "meta": {"accusation": ["盗窃"], "term_of_imprisonment": {"death_penalty": false, "imprisonment": 8, "life_imprisonment": false}}}"#,
        r#"{"fact": "公诉机关指控：被告人王某醉酒驾驶机动车，经鉴定血液酒精含量为180mg/100ml。", "meta": {"accusation": ["危险驾驶"], "term_of_imprisonment": {"death_penalty": false, "imprisonment": 2, "life_imprisonment": false}}}"#,
    ];
    std::fs::write(&gold, lines.join("\n")).expect("write");
    let a = args(gold.clone());
    if !a.knowledge.as_ref().is_some_and(|k| k.is_dir()) {
        eprintln!("skipping: no knowledge directory");
        return;
    }
    run(a).expect("engine mode");
    run(EvalTermsArgs { gold_charges: true, ..args(gold.clone()) }).expect("gold-charge mode");
    run(EvalTermsArgs { calibrate: true, holdout: true, ..args(gold.clone()) }).expect("calibration mode");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{not json").expect("write");
    assert!(run(args(bad)).is_err());
}
