//! CPU reference sampler at V = 151,936 (one step, B = 1 and 8): masked top-p and greedy.
//! The GPU numbers come from `scripts/gpu_check.sh` (the CUDA path cannot run under criterion in CI).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lexpro::sample::{mask_words, Batch, CpuSampler, Logits, RowRequest, Sampler, SamplingParams};

const V: usize = 151_936;

/// Language-model-like rows: a smooth bulk plus a few lifted tokens (deterministic, no RNG crate).
fn logits(rows: usize) -> Vec<f32> {
    (0..rows * V)
        .map(|i| {
            let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            let bulk = (h % 2000) as f32 / 400.0 - 2.5;
            if h.is_multiple_of(7919) { bulk + 10.0 } else { bulk }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("cpu_sampler_v151936");
    group.sample_size(10);
    for &b in &[1usize, 8] {
        let x = logits(b);
        let mask: Vec<u32> = (0..b * mask_words(V)).map(|w| 0xEFFF_FF7Fu32.rotate_left(w as u32)).collect();
        for (name, params) in [
            ("top_p_0.9", SamplingParams { top_p: 0.9, seed: 1, ..Default::default() }),
            ("greedy", SamplingParams::greedy()),
        ] {
            let rows: Vec<RowRequest> = (0..b).map(|r| RowRequest { params, request_id: r as u64, step: 0 }).collect();
            let batch = Batch { logits: Logits::F32(&x), vocab: V, mask: Some(&mask), rows: &rows };
            let mut s = CpuSampler::new();
            group.bench_with_input(BenchmarkId::new(name, b), &batch, |bench, batch| {
                bench.iter(|| s.sample(batch).expect("sample"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
