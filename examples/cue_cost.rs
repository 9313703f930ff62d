//! Which cue patterns cost the most time: every charge cue, counter-cue and element cue of the knowledge base,
//! run alone over a file of facts, slowest first. A knowledge author's tool for keeping `analyze` fast.
//!
//! `cargo run --release --example cue_cost -- [KNOWLEDGE_DIR] [FACTS.jsonl] [TOP]`
//! (defaults: `knowledge`, `../shared/data/cail2018/train.jsonl`, 20).

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map(String::as_str).unwrap_or("knowledge");
    let facts_path = args.get(2).map(String::as_str).unwrap_or("../shared/data/cail2018/train.jsonl");
    let top: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(20);
    let checked = match lexpro::kb::check_dir(dir.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot read {dir}: {e}");
            std::process::exit(1);
        }
    };
    let facts: Vec<String> = match std::fs::read_to_string(facts_path) {
        Ok(s) => s
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("fact").and_then(|f| f.as_str()).map(str::to_string))
            .collect(),
        Err(e) => {
            eprintln!("cannot read {facts_path}: {e}");
            std::process::exit(1);
        }
    };
    let kb = &checked.kb;
    let mut patterns: Vec<(String, &str)> = Vec::new();
    for c in &kb.charges {
        for cue in &c.cues {
            patterns.push((format!("{} cue", c.name), &cue.pattern));
        }
        for cue in &c.anti {
            patterns.push((format!("{} anti", c.name), &cue.pattern));
        }
    }
    for e in kb.elements.values() {
        for cue in &e.cues {
            patterns.push((format!("element {} cue", e.name), &cue.pattern));
        }
        for n in &e.negates {
            patterns.push((format!("element {} negate", e.name), n));
        }
    }
    let mut costs: Vec<(f64, usize, String, &str)> = Vec::new();
    let mut total = 0.0;
    for (owner, p) in &patterns {
        let Ok(re) = regex::Regex::new(p) else { continue };
        let t = Instant::now();
        let mut hits = 0;
        for f in &facts {
            hits += re.find_iter(f).count();
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / facts.len().max(1) as f64;
        total += us;
        costs.push((us, hits, owner.clone(), p));
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("{} patterns over {} facts: {:.0} µs per fact if every pattern ran on every fact", patterns.len(), facts.len(), total);
    println!("(retrieval runs a pattern only when its required literals occur, so real costs are lower)");
    for (us, hits, owner, p) in costs.iter().take(top) {
        println!("{us:8.2} µs/fact  {hits:6} hits  {owner}: {p}");
    }
}
