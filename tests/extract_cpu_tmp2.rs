use std::time::Instant;
#[test]
fn stages() {
    let kb = lexpro::kb::load_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"))).unwrap();
    let cues = lexpro::extract::cues::CueSet::new(&kb).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/elements/dev.jsonl")).unwrap();
    let mut facts: Vec<String> = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["fact"].as_str().unwrap().to_string()).collect();
    facts.sort_by_key(|f| f.chars().count());
    let n = facts.len();
    let facts = facts[n/4..3*n/4].to_vec();
    let docs: Vec<lexpro::extract::spans::Doc> = facts.iter().map(|f| lexpro::extract::spans::Doc::new(f)).collect();
    use lexpro::extract::*;
    macro_rules! t { ($name:expr, $e:expr) => {{ for _ in 0..3 { $e; } let s = Instant::now(); for _ in 0..50 { $e; } eprintln!("{:<12} {:>8.1} us/doc", $name, s.elapsed().as_secs_f64() / 50.0 / docs.len() as f64 * 1e6); }} }
    t!("doc_new", for f in &facts { std::hint::black_box(spans::Doc::new(f)); });
    t!("hits", for d in &docs { std::hint::black_box(cues.hits(d)); });
    t!("money", for d in &docs { std::hint::black_box(numbers::find_money(&d.norm)); });
    t!("weights", for d in &docs { std::hint::black_box(numbers::find_weights(&d.norm)); });
    t!("bac", for d in &docs { std::hint::black_box(numbers::find_bac(&d.norm)); });
    t!("dates", for d in &docs { std::hint::black_box(dates::find_dates(&d.norm)); });
    t!("ages", for d in &docs { std::hint::black_box(dates::find_ages(&d.norm, None)); });
    t!("drugs", for d in &docs { std::hint::black_box(drugs::find_drugs(d)); });
    t!("province", for d in &docs { std::hint::black_box(province::detect_province(d)); });
    let ex = Extractor::new(&kb).unwrap();
    t!("full", for f in &facts { std::hint::black_box(ex.extract(f, None)); });
}
