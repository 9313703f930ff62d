use std::time::Instant;
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    let ut: f64 = f[11].parse().unwrap(); let st: f64 = f[12].parse().unwrap();
    (ut + st) / 100.0
}
#[test]
fn cpu_throughput() {
    let kb = lexpro::kb::load_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"))).unwrap();
    let ex = lexpro::extract::Extractor::new(&kb).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/elements/dev.jsonl")).unwrap();
    let mut facts: Vec<String> = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["fact"].as_str().unwrap().to_string()).collect();
    facts.sort_by_key(|f| f.chars().count());
    let n = facts.len();
    for (name, set) in [("all", facts.clone()), ("median_half", facts[n/4..3*n/4].to_vec())] {
        for f in &set { let _ = ex.extract(f, None); }
        let reps = 40;
        let (c0, w0) = (cpu(), Instant::now());
        for _ in 0..reps { for f in &set { let _ = ex.extract(f, None); } }
        let (c, w) = (cpu() - c0, w0.elapsed().as_secs_f64());
        let k = (reps * set.len()) as f64;
        eprintln!("{name}: {} facts, cpu {:.3}s wall {:.3}s => {:.0} facts/cpu-s, {:.0} facts/wall-s", k, c, w, k / c, k / w);
    }
}
