//! Throughput of `Engine::analyze` on the rules path (no model): extract → retrieve → decide → sentence.
//!
//! Facts come from `../shared/data/cail2018/train.jsonl` (first 200 cases) when present, else from a few
//! built-in descriptions. Run: `cargo bench --bench analyze`; the per-case time is the reported time
//! divided by the element count (criterion prints elements/s).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lexpro::contract::CaseInput;
use lexpro::engine::Engine;
use std::hint::black_box;
use std::path::Path;

const BUILTIN: &[&str] = &[
    "经审理查明，2016年5月3日，被告人张某在某小区入户盗窃笔记本电脑一台，价值人民币3500元。",
    "公诉机关指控，被告人李某醉酒后驾驶小型轿车在道路上行驶，经鉴定其血液中乙醇含量为156mg/100ml。",
    "被告人王某因琐事与被害人发生争执，持刀将被害人刺伤，经鉴定被害人损伤程度为轻伤一级。",
    "被告人赵某以虚构投资项目为由，骗取被害人钱款共计人民币12万元，案发后退赔全部损失。",
    "被告人向吸毒人员贩卖甲基苯丙胺2次，共计0.6克，后被公安机关抓获。",
];

fn facts() -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cail2018/train.jsonl");
    match std::fs::read_to_string(&p) {
        Ok(s) => s
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("fact").and_then(|f| f.as_str()).map(str::to_string))
            .take(200)
            .collect(),
        Err(_) => {
            eprintln!("note: ../shared absent; benchmarking on {} built-in facts", BUILTIN.len());
            BUILTIN.iter().map(|s| s.to_string()).collect()
        }
    }
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let checked = match lexpro::kb::check_dir(&dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("note: cannot read {}: {e}; benchmark skipped", dir.display());
            return;
        }
    };
    if checked.error_count() > 0 {
        eprintln!("note: {} knowledge error(s); benchmarking what compiled", checked.error_count());
    }
    let engine = match Engine::from_kb(checked.kb) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("note: engine did not build: {e}; benchmark skipped");
            return;
        }
    };
    let cases: Vec<CaseInput> =
        facts().into_iter().enumerate().map(|(i, fact)| CaseInput { id: i.to_string(), fact, ..Default::default() }).collect();
    let mut g = c.benchmark_group("analyze");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.sample_size(10);
    g.bench_function("rules_path_one_core", |b| {
        b.iter(|| {
            for case in &cases {
                let _ = black_box(engine.analyze(black_box(case)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
