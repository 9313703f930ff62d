//! Calibration runs on the development set (`../shared/data/cail2018/train.jsonl`). Slow, so ignored by
//! default: `cargo test --release --test sentence_calibration -- --ignored --nocapture` prints the tables
//! that `docs/CALIBRATION.md` records. Skips with a notice when `../shared` is absent.

#[path = "../src/bin/lexpro/eval_terms_cmd.rs"]
mod eval_terms_cmd;

use eval_terms_cmd::{run, EvalTermsArgs};
use std::path::PathBuf;

fn args() -> Option<EvalTermsArgs> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let gold = root.join("../shared/data/cail2018/train.jsonl");
    if !gold.is_file() {
        eprintln!("skipping: {} is absent", gold.display());
        return None;
    }
    let limit = std::env::var("LEXPRO_EVAL_LIMIT").ok().and_then(|v| v.parse().ok());
    Some(EvalTermsArgs { gold, knowledge: Some(root.join("knowledge")), limit, top: 15, gold_charges: false, calibrate: false, holdout: false })
}

#[test]
#[ignore = "slow: the whole development set"]
fn dev_term_score_whole_engine() {
    let Some(a) = args() else { return };
    run(a).expect("evaluation runs");
}

#[test]
#[ignore = "slow: the whole development set"]
fn dev_term_score_gold_charges() {
    let Some(a) = args() else { return };
    run(EvalTermsArgs { gold_charges: true, ..a }).expect("evaluation runs");
}

#[test]
#[ignore = "slow: the whole development set"]
fn dev_calibration_held_out() {
    let Some(a) = args() else { return };
    run(EvalTermsArgs { calibrate: true, holdout: true, ..a }).expect("calibration runs");
}

#[test]
#[ignore = "slow: the whole development set"]
fn dev_calibration_full() {
    let Some(a) = args() else { return };
    run(EvalTermsArgs { calibrate: true, ..a }).expect("calibration runs");
}
