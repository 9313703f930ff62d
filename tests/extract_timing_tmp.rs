use lexpro::extract::spans::Doc;
use std::time::Instant;
#[test]
fn timing() {
    let kb = lexpro::kb::load_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"))).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/elements/dev.jsonl")).unwrap();
    let mut facts: Vec<String> = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["fact"].as_str().unwrap().to_string()).collect();
    facts.sort_by_key(|f| f.chars().count());
    let n = facts.len();
    let facts = facts[n/4..3*n/4].to_vec();
    let docs: Vec<Doc> = facts.iter().map(|f| Doc::new(f)).collect();
    let mut per: Vec<(f64, String)> = Vec::new();
    for (name, el) in &kb.elements {
        for c in &el.cues {
            let re = regex::Regex::new(&c.pattern).unwrap();
            for d in &docs { let _ = re.find_iter(&d.norm).count(); }
            let t = Instant::now();
            for _ in 0..5 { for d in &docs { let _ = re.find_iter(&d.norm).count(); } }
            per.push((t.elapsed().as_secs_f64() / 5.0, format!("cue {name} {}", c.pattern)));
        }
        for c in &el.negates {
            let re = regex::Regex::new(c).unwrap();
            for d in &docs { let _ = re.find_iter(&d.norm).count(); }
            let t = Instant::now();
            for _ in 0..5 { for d in &docs { let _ = re.find_iter(&d.norm).count(); } }
            per.push((t.elapsed().as_secs_f64() / 5.0, format!("neg {name} {}", c)));
        }
    }
    eprintln!("sum {:.5} for {} docs", per.iter().map(|p| p.0).sum::<f64>(), docs.len());
    per.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for p in per.iter().take(25) { eprintln!("{:.6} {}", p.0, p.1.chars().take(150).collect::<String>()); }
}
