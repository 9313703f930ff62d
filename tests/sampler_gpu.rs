//! GPU checks of the CUDA sampler against the CPU twin: parity (greedy identical, seeded draws
//! identical token for token), a chi-square test of the GPU's draws, batch-layout independence, the
//! error cases, and (ignored by default, run by `scripts/gpu_check.sh`) the benchmark table inputs.
//! Every test skips with a notice when no CUDA device is usable.
#![cfg(feature = "cuda")]

use lexpro::sample::spec::f32_to_bf16;
use lexpro::sample::{
    mask_words, Batch, CpuSampler, CudaSampler, Logits, RowRequest, SampleError, Sampler, SamplingParams,
};

fn gpu(test: &str) -> Option<CudaSampler> {
    match CudaSampler::new() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("skipping {test}: no CUDA sampler ({e})");
            None
        }
    }
}

/// xorshift64* stream for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        (-2.0 * self.unit().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
}

/// Input shapes of logits rows.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Language-model-like: N(0, 2.5) plus a head of ~20 tokens lifted by 8–12.
    Peaked,
    /// Nearly flat: N(0, 0.05); top-p keeps most of the vocabulary (exercises the no-compaction path).
    Flat,
    /// Few distinct values (many ties).
    Ties,
}

fn make_logits(rows: usize, v: usize, shape: Shape, seed: u64) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * v);
    for r in 0..rows {
        let mut rng = Rng(seed ^ (r as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let start = out.len();
        for _ in 0..v {
            let x = match shape {
                Shape::Peaked => 2.5 * rng.normal(),
                Shape::Flat => 0.05 * rng.normal(),
                Shape::Ties => (rng.next() % 6) as f64,
            };
            out.push(x as f32);
        }
        if let Shape::Peaked = shape {
            for _ in 0..20 {
                let i = (rng.next() % v as u64) as usize;
                out[start + i] += (8.0 + 4.0 * rng.unit()) as f32;
            }
        }
    }
    out
}

/// Random mask with about `density` of the tokens allowed (never a fully masked row).
fn make_mask(rows: usize, v: usize, density: f64, seed: u64) -> Vec<u32> {
    let w = mask_words(v);
    let mut rng = Rng(seed | 1);
    let mut m = vec![0u32; rows * w];
    for r in 0..rows {
        for i in 0..v {
            if rng.unit() < density {
                m[r * w + i / 32] |= 1 << (i % 32);
            }
        }
        m[r * w] |= 1;
    }
    m
}

fn param_sets() -> Vec<SamplingParams> {
    let d = SamplingParams::default();
    vec![
        SamplingParams::greedy(),
        SamplingParams { seed: 1, ..d },
        SamplingParams { seed: 2, temperature: 0.7, ..d },
        SamplingParams { seed: 3, top_k: 50, ..d },
        SamplingParams { seed: 4, top_p: 0.9, ..d },
        SamplingParams { seed: 5, top_k: 40, top_p: 0.8, temperature: 0.8, ..d },
        SamplingParams { seed: 6, min_p: 0.05, ..d },
        SamplingParams { seed: 7, top_k: 1000, top_p: 0.95, min_p: 0.02, temperature: 1.3 },
        SamplingParams { seed: 8, top_k: 1, ..d },
        SamplingParams { seed: 9, top_p: 0.5, temperature: 2.0, ..d },
    ]
}

/// One batch per (vocab, shape, dtype, mask); every row cycles through the parameter sets.
/// Returns (draws compared, draws equal, greedy draws compared, greedy equal).
fn parity_case(gpu: &mut CudaSampler, v: usize, rows: usize, shape: Shape, bf16: bool, density: Option<f64>) -> [usize; 4] {
    let logits = make_logits(rows, v, shape, v as u64 * 31 + rows as u64);
    let mask = density.map(|d| make_mask(rows, v, d, v as u64 + 7));
    let sets = param_sets();
    let reqs: Vec<RowRequest> = (0..rows)
        .map(|r| RowRequest { params: sets[r % sets.len()], request_id: r as u64 * 977, step: (r / sets.len()) as u32 })
        .collect();
    let half: Vec<u16>;
    let lg = if bf16 {
        half = logits.iter().map(|&x| f32_to_bf16(x)).collect();
        Logits::Bf16(&half)
    } else {
        Logits::F32(&logits)
    };
    let batch = Batch { logits: lg, vocab: v, mask: mask.as_deref(), rows: &reqs };
    let want = CpuSampler::new().sample(&batch).expect("cpu");
    let got = gpu.sample(&batch).expect("gpu");
    let mut c = [0usize; 4];
    for (r, (a, b)) in want.iter().zip(&got).enumerate() {
        let greedy = reqs[r].params.temperature == 0.0;
        let k = if greedy { 2 } else { 0 };
        c[k] += 1;
        if a == b {
            c[k + 1] += 1;
        } else {
            eprintln!("mismatch v={v} {shape:?} bf16={bf16} mask={density:?} row {r} {:?}: cpu {a} gpu {b}", reqs[r].params);
        }
    }
    c
}

#[test]
fn gpu_matches_cpu_token_for_token() {
    let Some(mut gpu) = gpu("gpu_matches_cpu_token_for_token") else { return };
    let mut total = [0usize; 4];
    let cases: &[(usize, usize, Shape, bool, Option<f64>)] = &[
        (151_936, 40, Shape::Peaked, false, None),
        (151_936, 40, Shape::Peaked, false, Some(0.75)),
        (151_936, 40, Shape::Peaked, true, Some(0.75)),
        (151_936, 20, Shape::Flat, false, None),
        (151_936, 20, Shape::Flat, true, Some(0.5)),
        (32_000, 60, Shape::Ties, true, Some(0.9)),
        (32_000, 60, Shape::Ties, false, None),
        (262_144, 10, Shape::Peaked, true, Some(0.3)),
        (1_003, 100, Shape::Peaked, false, Some(0.6)),
        (257, 100, Shape::Flat, true, None),
        (5, 30, Shape::Ties, false, Some(0.5)),
    ];
    for &(v, rows, shape, bf16, density) in cases {
        let c = parity_case(&mut gpu, v, rows, shape, bf16, density);
        for i in 0..4 {
            total[i] += c[i];
        }
    }
    let rate = total[1] as f64 / total[0] as f64;
    println!(
        "parity: sampled {}/{} identical ({:.4}%), greedy {}/{} identical",
        total[1],
        total[0],
        100.0 * rate,
        total[3],
        total[2]
    );
    assert_eq!(total[3], total[2], "greedy must be identical");
    assert!(rate >= 0.999, "sampled parity {rate}");
}

#[test]
fn gpu_draws_pass_a_chi_square_test() {
    let Some(mut gpu) = gpu("gpu_draws_pass_a_chi_square_test") else { return };
    let logits: [f32; 12] = [1.0, 2.5, -0.5, 0.3, 2.4, 1.7, -1.2, 0.9, 2.0, 0.0, 1.1, -2.0];
    let params = SamplingParams { seed: 77, top_k: 8, top_p: 0.9, temperature: 0.9, ..Default::default() };
    let n = 50_000usize;
    let reqs: Vec<RowRequest> = (0..n).map(|s| RowRequest { params, request_id: 3, step: s as u32 }).collect();
    let all: Vec<f32> = logits.repeat(n);
    let got = gpu.sample(&Batch { logits: Logits::F32(&all), vocab: 12, mask: None, rows: &reqs }).expect("gpu");
    // Expected distribution in f64: top-8 by value, then the smallest prefix reaching 0.9.
    let z: Vec<f64> = logits.iter().map(|&x| f64::from(x) / 0.9).collect();
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by(|&a, &b| z[b].partial_cmp(&z[a]).unwrap());
    order.truncate(8);
    let m = z[order[0]];
    let tot: f64 = order.iter().map(|&i| (z[i] - m).exp()).sum();
    let mut cum = 0.0;
    let mut keep = 0;
    for &i in &order {
        cum += (z[i] - m).exp() / tot;
        keep += 1;
        if cum >= 0.9 {
            break;
        }
    }
    order.truncate(keep);
    let mass: f64 = order.iter().map(|&i| (z[i] - m).exp()).sum();
    let mut counts = [0usize; 12];
    for t in got {
        counts[t as usize] += 1;
    }
    let mut stat = 0.0;
    for (i, &c) in counts.iter().enumerate() {
        if !order.contains(&i) {
            assert_eq!(c, 0, "token {i} is outside the kept set");
            continue;
        }
        let e = (z[i] - m).exp() / mass * n as f64;
        stat += (c as f64 - e).powi(2) / e;
    }
    let df = order.len() - 1;
    let critical = [10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12][df - 1];
    println!("chi-square: {stat:.2} with {df} df (0.1% critical value {critical}); counts {counts:?}");
    assert!(stat < critical);
}

#[test]
fn gpu_errors_and_layout_match_the_cpu() {
    let Some(mut gpu) = gpu("gpu_errors_and_layout_match_the_cpu") else { return };
    let v = 1000;
    let mut logits = make_logits(4, v, Shape::Peaked, 5);
    let p = SamplingParams { seed: 1, top_p: 0.9, ..Default::default() };
    let reqs: Vec<RowRequest> = (0..4).map(|r| RowRequest { params: p, request_id: r, step: 0 }).collect();
    logits[v + 17] = f32::NAN;
    let mut mask = vec![u32::MAX; 4 * mask_words(v)];
    for w in &mut mask[..mask_words(v)] {
        *w = 0;
    }
    let batch = Batch { logits: Logits::F32(&logits), vocab: v, mask: Some(&mask), rows: &reqs };
    assert_eq!(gpu.sample(&batch), Err(SampleError::AllMasked { row: 0 }));
    assert_eq!(CpuSampler::new().sample(&batch), Err(SampleError::AllMasked { row: 0 }));
    for w in &mut mask[..mask_words(v)] {
        *w = u32::MAX;
    }
    let batch = Batch { logits: Logits::F32(&logits), vocab: v, mask: Some(&mask), rows: &reqs };
    assert_eq!(gpu.sample(&batch), Err(SampleError::NanLogit { row: 1 }));
    logits[v + 17] = f32::INFINITY;
    let batch = Batch { logits: Logits::F32(&logits), vocab: v, mask: None, rows: &reqs };
    assert_eq!(gpu.sample(&batch), Err(SampleError::InfiniteLogit { row: 1 }));

    // Layout: rows reversed give the same tokens per request.
    logits[v + 17] = 0.0;
    let batch = Batch { logits: Logits::F32(&logits), vocab: v, mask: None, rows: &reqs };
    let fwd = gpu.sample(&batch).expect("gpu");
    let rev_logits: Vec<f32> = (0..4).rev().flat_map(|r| logits[r * v..(r + 1) * v].to_vec()).collect();
    let rev_reqs: Vec<RowRequest> = reqs.iter().rev().copied().collect();
    let rev = gpu
        .sample(&Batch { logits: Logits::F32(&rev_logits), vocab: v, mask: None, rows: &rev_reqs })
        .expect("gpu");
    let back: Vec<u32> = rev.into_iter().rev().collect();
    assert_eq!(fwd, back);
}

/// Times the kernels at V = 151,936 and writes the inputs and timings for `scripts/gpu_reference.py`,
/// which adds PyTorch's reference sampling on the same inputs and prints the table.
/// Run by `scripts/gpu_check.sh` (`--ignored`); needs `LEXPRO_BENCH_DIR`.
#[test]
#[ignore = "benchmark: run by scripts/gpu_check.sh on a GPU machine"]
fn gpu_benchmark() {
    let Some(gpu) = gpu("gpu_benchmark") else { return };
    let Ok(dir) = std::env::var("LEXPRO_BENCH_DIR") else {
        eprintln!("skipping gpu_benchmark: LEXPRO_BENCH_DIR not set");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let v = 151_936usize;
    let bw = gpu.copy_bandwidth(1 << 30).expect("bandwidth");
    let mut lines = vec![format!("{{\"device\": \"{}\", \"copy_bw\": {bw}}}", gpu.device_name())];
    let top_p = SamplingParams { seed: 11, top_p: 0.9, ..Default::default() };
    for &b in &[1usize, 8, 64, 512] {
        let logits = make_logits(b, v, Shape::Peaked, b as u64);
        let mask = make_mask(b, v, 0.75, b as u64 + 1);
        let bytes_f32: Vec<u8> = logits.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(dir.join(format!("logits_{b}.bin")), bytes_f32).expect("write logits");
        let bytes_m: Vec<u8> = mask.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(dir.join(format!("mask_{b}.bin")), bytes_m).expect("write mask");
        let half: Vec<u16> = logits.iter().map(|&x| f32_to_bf16(x)).collect();
        let mk = |p: SamplingParams| -> Vec<RowRequest> {
            (0..b).map(|r| RowRequest { params: p, request_id: r as u64, step: 0 }).collect()
        };
        for (label, params, bf16) in [
            ("top-p 0.9 f32", top_p, false),
            ("top-p 0.9 bf16", top_p, true),
            ("top-k 50 + top-p 0.9 f32", SamplingParams { top_k: 50, ..top_p }, false),
            ("plain f32", SamplingParams { seed: 11, ..Default::default() }, false),
            ("greedy f32", SamplingParams::greedy(), false),
        ] {
            let reqs = mk(params);
            let lg = if bf16 { Logits::Bf16(&half) } else { Logits::F32(&logits) };
            let batch = Batch { logits: lg, vocab: v, mask: Some(&mask), rows: &reqs };
            let mut db = gpu.upload(&batch).expect("upload");
            // Parity on the benchmark inputs too.
            gpu.launch(&mut db).expect("launch");
            let got = gpu.results(&db).expect("results");
            let want = CpuSampler::new().sample(&batch).expect("cpu");
            let same = got.iter().zip(&want).filter(|(a, c)| a == c).count();
            // Warm up for >= 150 ms so the clocks have left idle (an idle H200 runs its SMs at ~345 MHz).
            let t0 = std::time::Instant::now();
            while t0.elapsed() < std::time::Duration::from_millis(150) {
                for _ in 0..20 {
                    gpu.launch(&mut db).expect("launch");
                }
                gpu.synchronize().expect("sync");
            }
            let iters = if b >= 64 { 50 } else { 200 };
            let us = gpu.time_us(iters, || gpu.launch(&mut db)).expect("time");
            let graph_us = if b == 1 {
                let g = gpu.capture(&mut db).expect("capture");
                for _ in 0..3 {
                    g.replay().expect("replay");
                }
                gpu.time_us(iters, || g.replay()).expect("time graph")
            } else {
                f64::NAN
            };
            let bytes = (b * v * if bf16 { 2 } else { 4 } + mask.len() * 4) as f64;
            lines.push(format!(
                "{{\"b\": {b}, \"case\": \"{label}\", \"us\": {us:.3}, \"graph_us\": {}, \"floor_us\": {:.3}, \"parity\": \"{same}/{b}\"}}",
                if graph_us.is_nan() { "null".to_string() } else { format!("{graph_us:.3}") },
                bytes / bw * 1e6
            ));
        }
        let _ = gpu.synchronize();
    }
    std::fs::write(dir.join("lexpro.jsonl"), lines.join("\n") + "\n").expect("write results");
    println!("{}", lines.join("\n"));
}
