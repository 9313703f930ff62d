use lexpro::extract::cues::CueSet;
use lexpro::extract::spans::Doc;
use std::time::Instant;
#[test]
fn timing() {
    let kb = lexpro::kb::load_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"))).unwrap();
    let cues = CueSet::new(&kb).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/elements/dev.jsonl")).unwrap();
    let facts: Vec<String> = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["fact"].as_str().unwrap().to_string()).collect();
    let t = Instant::now();
    let docs: Vec<Doc> = facts.iter().map(|f| Doc::new(f)).collect();
    eprintln!("doc {:?}", t.elapsed());
    let t = Instant::now();
    for d in &docs { let _ = cues.hits(d); }
    eprintln!("hits {:?}", t.elapsed());
    // per element timing of captures
    let mut per: Vec<(f64, String)> = Vec::new();
    for el in &cues.elements {
        let t = Instant::now();
        for d in &docs { for (re, _, _) in &el.cues { for _ in re.captures_iter(&d.norm) {} } }
        let c = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for d in &docs { for re in &el.negates { for _ in re.find_iter(&d.norm) {} } }
        per.push((c + t.elapsed().as_secs_f64(), el.name.clone()));
    }
    eprintln!("sum per-element {:.3}", per.iter().map(|p| p.0).sum::<f64>());
    let t = Instant::now();
    for el in &cues.elements { for d in &docs { for (re, _, _) in &el.cues { for _ in re.find_iter(&d.norm) {} } } }
    eprintln!("find only {:?}", t.elapsed());
    let mut raw = 0usize; let mut withn = 0usize;
    let t = Instant::now();
    for el in &cues.elements { for d in &docs { for (re, _, hn) in &el.cues { for m in re.find_iter(&d.norm) { raw += 1; if *hn { withn += 1; let _ = re.captures_at(&d.norm[..m.end()], m.start()); } } } } }
    eprintln!("find+caps {:?} raw {raw} withn {withn}", t.elapsed());
    let t = Instant::now();
    for el in &cues.elements { for d in &docs { for m in el.cues.iter().flat_map(|c| c.0.find_iter(&d.norm)) { let _ = cues.survives(d, el, m.start(), m.end()); } } }
    eprintln!("survives {:?}", t.elapsed());
    per.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for p in per.iter().take(15) { eprintln!("{:.4} {}", p.0, p.1); }
    for round in 0..2 {
    let t = Instant::now();
    for d in &docs { let _ = cues.hits(d); }
    eprintln!("r{round} hits {:?}", t.elapsed());
    let t = Instant::now();
    for d in &docs { let _ = lexpro::extract::numbers::find_money(&d.norm); }
    eprintln!("r{round} money {:?}", t.elapsed());
    let t = Instant::now();
    for d in &docs { let _ = lexpro::extract::dates::find_dates(&d.norm); }
    eprintln!("r{round} dates {:?}", t.elapsed());
    let t = Instant::now();
    for d in &docs { let _ = lexpro::extract::dates::find_ages(&d.norm, None); }
    eprintln!("r{round} ages {:?}", t.elapsed());
    let t = Instant::now();
    for d in &docs { let _ = lexpro::extract::drugs::find_drugs(d); }
    eprintln!("r{round} drugs {:?}", t.elapsed());
    let t = Instant::now();
    for d in &docs { let _ = lexpro::extract::province::detect_province(d); }
    eprintln!("r{round} province {:?}", t.elapsed());
    let g = lexpro::extract::injury::Grades::new(&cues, cues.position("injury_max").unwrap());
    let t = Instant::now();
    for d in &docs { let _ = g.find(d, &cues); }
    eprintln!("r{round} grades {:?}", t.elapsed());
    }
    let ex = lexpro::extract::Extractor::new(&kb).unwrap();
    let t = Instant::now();
    for f in &facts { let _ = ex.extract(f, None); }
    eprintln!("full {:?}", t.elapsed());
}
