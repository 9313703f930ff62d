//! Parse + compile + validate the whole `knowledge/` (target: well under 100 ms), and open a built store.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;

fn bench_kb(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let files: Vec<(String, String)> = lexpro::kb::law_files(&dir)
        .expect("knowledge dir")
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("read")))
        .collect();
    let mut g = c.benchmark_group("knowledge");
    g.sample_size(20);
    g.bench_function("parse+compile+validate (in memory)", |b| {
        b.iter(|| {
            let checked = lexpro::kb::check_sources(&files);
            assert_eq!(checked.error_count(), 0);
            checked.kb.charges.len()
        })
    });
    g.bench_function("load_dir (read files too)", |b| b.iter(|| lexpro::kb::load_dir(&dir).expect("kb").charges.len()));
    let kb = lexpro::kb::load_dir(&dir).expect("kb");
    g.bench_function("rule graph build", |b| b.iter(|| lexpro::kb::graph::RuleGraph::build(&kb).size()));
    let tmp = tempfile::tempdir().expect("tmp");
    let store = tmp.path().join("kb.sled");
    lexpro::store::build(&store, &kb, files.len()).expect("build");
    g.bench_function("store open", |b| b.iter(|| lexpro::store::open(&store).expect("open").0.charges.len()));
    g.finish();
}

criterion_group!(benches, bench_kb);
criterion_main!(benches);
