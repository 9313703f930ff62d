//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use lexpro::kb::model::KnowledgeBase;
use std::path::PathBuf;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped knowledge base. It lives in the repository, so failing to compile it is a test failure,
/// never a reason to skip.
pub fn shipped_kb() -> KnowledgeBase {
    lexpro::kb::load_dir(&root().join("knowledge")).unwrap_or_else(|e| panic!("the shipped knowledge base must compile: {e}"))
}

/// A file under `../shared`, or None with a printed notice when `../shared` is absent.
pub fn shared_text(rel: &str) -> Option<String> {
    let p = root().join("../shared").join(rel);
    match std::fs::read_to_string(&p) {
        Ok(t) => Some(t),
        Err(_) => {
            eprintln!("note: {} is absent; the part of this test that needs ../shared is skipped", p.display());
            None
        }
    }
}

/// Every `step`-th fact of the CAIL2018 development file (empty when `../shared` is absent).
pub fn cail_facts(step: usize) -> Vec<String> {
    shared_text("data/cail2018/train.jsonl")
        .map(|s| {
            s.lines()
                .step_by(step.max(1))
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["fact"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
