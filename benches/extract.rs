//! Throughput of element extraction (`Extractor::extract`) on one core.
//!
//! Facts are those of `../shared/data/elements/dev.jsonl` when present, else a few built-in descriptions. Three
//! groups: all dev facts, the median-length facts (the middle half by length), and the longest tenth. Criterion
//! prints elements/s = facts per second. Run: `cargo bench --bench extract`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lexpro::extract::Extractor;
use std::hint::black_box;
use std::path::Path;

const BUILTIN: &[&str] = &[
    "经审理查明，2016年5月3日，被告人张某在某小区入户盗窃笔记本电脑一台，价值人民币3500元。被告人张某到案后如实供述。",
    "公诉机关指控，被告人李某醉酒后驾驶小型轿车在道路上行驶，经鉴定其血液中乙醇含量为156mg/100ml，具有自首情节。",
    "被告人王某因琐事与被害人发生争执，持刀将被害人刺伤，经鉴定被害人损伤程度为轻伤一级。案发后赔偿被害人经济损失并取得谅解。",
    "被告人赵某以虚构投资项目为由，骗取被害人钱款共计人民币12万元，案发后退赔全部损失。",
    "被告人向吸毒人员贩卖甲基苯丙胺2次，共计0.6克，后被公安机关抓获。",
];

fn facts() -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/elements/dev.jsonl");
    match std::fs::read_to_string(&p) {
        Ok(s) => s
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("fact").and_then(|f| f.as_str()).map(str::to_string))
            .collect(),
        Err(_) => {
            eprintln!("note: ../shared absent; benchmarking on {} built-in facts", BUILTIN.len());
            BUILTIN.iter().map(|s| s.to_string()).collect()
        }
    }
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let kb = match lexpro::kb::check_dir(&dir) {
        Ok(c) => c.kb,
        Err(e) => {
            eprintln!("cannot read {}: {e}", dir.display());
            return;
        }
    };
    let ex = match Extractor::new(&kb) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("cannot compile cues: {e}");
            return;
        }
    };
    let mut all = facts();
    all.sort_by_key(|f| f.chars().count());
    let n = all.len();
    let median: Vec<String> = all[n / 4..(3 * n / 4).max(n / 4 + 1).min(n)].to_vec();
    let longest: Vec<String> = all[(n - n / 10).min(n.saturating_sub(1))..].to_vec();
    let mut g = c.benchmark_group("extract");
    for (name, set) in [("dev_all", &all), ("dev_median_half", &median), ("dev_longest_tenth", &longest)] {
        g.throughput(Throughput::Elements(set.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                for f in set.iter() {
                    black_box(ex.extract(black_box(f), None));
                }
            })
        });
    }
    // The stages, on the median-length facts: preparing the text, and matching the knowledge base's cues.
    let cues = lexpro::extract::cues::CueSet::new(&kb);
    if let Ok(cues) = cues {
        g.throughput(Throughput::Elements(median.len() as u64));
        g.bench_function("stage_doc_new_median", |b| {
            b.iter(|| {
                for f in median.iter() {
                    black_box(lexpro::extract::spans::Doc::new(black_box(f)));
                }
            })
        });
        let docs: Vec<lexpro::extract::spans::Doc> =
            median.iter().map(|f| lexpro::extract::spans::Doc::new(f)).collect();
        g.bench_function("stage_cue_hits_median", |b| {
            b.iter(|| {
                for d in docs.iter() {
                    black_box(cues.hits(black_box(d)));
                }
            })
        });
    }
    g.finish();
    // Compiling the knowledge base's patterns is a one-time cost; measured for the record.
    c.bench_function("extractor_new", |b| b.iter(|| black_box(Extractor::new(&kb).map(|_| ()).is_ok())));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
