//! GPU checks of the CUDA sampler against the CPU twin: parity (greedy identical, seeded draws
//! identical token for token), a chi-square test of the GPU's draws, batch-layout independence, the
//! error cases, and (ignored by default, run by `scripts/gpu_check.sh`) the benchmark table inputs.
//! Parity and errors are checked for all three kernel families (original one block per row, split, wide).
//! Every test skips with a notice when no CUDA device is usable; the prune-table check runs anywhere.
#![cfg(feature = "cuda")]

use lexpro::sample::{
    mask_words, Batch, CpuSampler, CudaSampler, KernelFamily, Logits, RowRequest, SampleError, Sampler,
    SamplingParams,
};

const FAMILIES: [KernelFamily; 4] = [KernelFamily::Original, KernelFamily::Split, KernelFamily::Wide, KernelFamily::Auto];

fn gpu(test: &str) -> Option<CudaSampler> {
    match CudaSampler::new() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("skipping {test}: no CUDA sampler ({e})");
            None
        }
    }
}

#[path = "common/sampler_cases.rs"]
mod sampler_cases;
use sampler_cases::{bf16_of, make_logits, make_mask, Case, Shape};

/// One batch per (vocab, shape, dtype, mask); row `r` uses parameter set `(r + first) % 10`.
/// Returns (draws compared, draws equal, greedy draws compared, greedy equal).
#[allow(clippy::too_many_arguments)]
fn parity_case(
    gpu: &mut CudaSampler,
    v: usize,
    rows: usize,
    shape: Shape,
    bf16: bool,
    density: Option<f64>,
    first: usize,
) -> [usize; 4] {
    let case = Case::new(v, rows, shape, bf16, density, v as u64 * 31 + rows as u64 + first as u64, first);
    let batch = case.batch();
    let reqs = &case.reqs;
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
            eprintln!(
                "mismatch {:?} v={v} {shape:?} bf16={bf16} mask={density:?} row {r} {:?}: cpu {a} gpu {b}",
                gpu.family(),
                reqs[r].params
            );
        }
    }
    c
}

#[test]
fn gpu_matches_cpu_token_for_token() {
    let Some(mut gpu) = gpu("gpu_matches_cpu_token_for_token") else { return };
    let mut failed = Vec::new();
    for family in FAMILIES {
        gpu.set_family(family);
        if let Err(e) = parity_all(&mut gpu) {
            failed.push(format!("{family:?}: {e}"));
        }
    }
    assert!(failed.is_empty(), "{failed:?}");
}

/// Every parity case on the current kernel family; Err says what differed.
fn parity_all(gpu: &mut CudaSampler) -> Result<(), String> {
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
    let mut add = |c: [usize; 4]| {
        for i in 0..4 {
            total[i] += c[i];
        }
    };
    for &(v, rows, shape, bf16, density) in cases {
        add(parity_case(gpu, v, rows, shape, bf16, density, 0));
    }
    // Single rows (the most blocks per row for the split kernels), every parameter set.
    for first in 0..10 {
        add(parity_case(gpu, 151_936, 1, Shape::Peaked, first % 2 == 1, Some(0.75), first));
        add(parity_case(gpu, 151_936, 1, Shape::Flat, false, None, first));
    }
    let rate = total[1] as f64 / total[0] as f64;
    println!(
        "parity ({:?} kernels): sampled {}/{} identical ({:.4}%), greedy {}/{} identical",
        gpu.family(),
        total[1],
        total[0],
        100.0 * rate,
        total[3],
        total[2]
    );
    if total[3] != total[2] || total[1] != total[0] {
        return Err(format!("sampled {}/{}, greedy {}/{}", total[1], total[0], total[3], total[2]));
    }
    Ok(())
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
    for family in FAMILIES {
        gpu.set_family(family);
        errors_and_layout(&mut gpu, 1000);
        // Long rows: the split kernels spread each row over many blocks, so an error seen by one
        // block must reach the row's result.
        errors_and_layout(&mut gpu, 151_936);
    }
}

fn errors_and_layout(gpu: &mut CudaSampler, v: usize) {
    let bad = v - 17;
    let mut logits = make_logits(4, v, Shape::Peaked, 5);
    let p = SamplingParams { seed: 1, top_p: 0.9, ..Default::default() };
    let reqs: Vec<RowRequest> = (0..4).map(|r| RowRequest { params: p, request_id: r, step: 0 }).collect();
    logits[v + bad] = f32::NAN;
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
    logits[v + bad] = f32::INFINITY;
    let batch = Batch { logits: Logits::F32(&logits), vocab: v, mask: None, rows: &reqs };
    assert_eq!(gpu.sample(&batch), Err(SampleError::InfiniteLogit { row: 1 }));

    // Layout: rows reversed give the same tokens per request.
    logits[v + bad] = 0.0;
    let batch = Batch { logits: Logits::F32(&logits), vocab: v, mask: None, rows: &reqs };
    let fwd = gpu.sample(&batch).expect("gpu");
    assert_eq!(fwd, CpuSampler::new().sample(&batch).expect("cpu"));
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
    let Some(mut gpu) = gpu("gpu_benchmark") else { return };
    let Ok(dir) = std::env::var("LEXPRO_BENCH_DIR") else {
        eprintln!("skipping gpu_benchmark: LEXPRO_BENCH_DIR not set");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let v = 151_936usize;
    let bw = gpu.copy_bandwidth(1 << 30).expect("bandwidth");
    let mut lines = vec![format!("{{\"device\": \"{}\", \"copy_bw\": {bw}}}", gpu.device_name())];
    // Every finished row is written at once, so a run cut short by the check's timeout keeps its table so far.
    let results = dir.join("lexpro.jsonl");
    let save = |lines: &[String]| std::fs::write(&results, lines.join("\n") + "\n").expect("write results");
    save(&lines);
    let top_p = SamplingParams { seed: 11, top_p: 0.9, ..Default::default() };
    // LEXPRO_BENCH_BATCHES (e.g. "1,8") narrows the batch sizes, for a profiler run of one case.
    let batches: Vec<usize> = match std::env::var("LEXPRO_BENCH_BATCHES") {
        Ok(list) => list.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => vec![1, 8, 64, 512],
    };
    for &b in &batches {
        let logits = make_logits(b, v, Shape::Peaked, b as u64);
        let mask = make_mask(b, v, 0.75, b as u64 + 1);
        let bytes_f32: Vec<u8> = logits.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(dir.join(format!("logits_{b}.bin")), bytes_f32).expect("write logits");
        let bytes_m: Vec<u8> = mask.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(dir.join(format!("mask_{b}.bin")), bytes_m).expect("write mask");
        let half: Vec<u16> = bf16_of(&logits);
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
            // LEXPRO_BENCH_CASE (a substring of the label, e.g. "top-k") narrows the cases likewise.
            if std::env::var("LEXPRO_BENCH_CASE").is_ok_and(|c| !label.contains(c.as_str())) {
                continue;
            }
            let reqs = mk(params);
            let lg = if bf16 { Logits::Bf16(&half) } else { Logits::F32(&logits) };
            let batch = Batch { logits: lg, vocab: v, mask: Some(&mask), rows: &reqs };
            // Uploaded with the wide family selected, so the batch carries the wide kernels' scratch.
            gpu.set_family(KernelFamily::Wide);
            let mut db_wide = Some(gpu.upload(&batch).expect("upload"));
            let want = CpuSampler::new().sample(&batch).expect("cpu");
            let fmt = |x: f64| if x.is_nan() { "null".to_string() } else { format!("{x:.3}") };
            // Original kernels first, then the split, the wide and the default (auto) choice, on the same
            // resident inputs.
            let mut fields = Vec::new();
            for (family, tag) in [
                (KernelFamily::Original, "legacy_"),
                (KernelFamily::Split, "split_"),
                (KernelFamily::Wide, "wide_"),
                (KernelFamily::Auto, ""),
            ] {
                gpu.set_family(family);
                // The default chooses by what its own upload allocated (wide scratch for small
                // batches only), so it is timed on a batch uploaded under it.
                let mut own = None;
                if family == KernelFamily::Auto {
                    drop(db_wide.take());
                    own = Some(gpu.upload(&batch).expect("upload"));
                }
                let Some(db) = own.as_mut().or(db_wide.as_mut()) else { continue };
                // An error in one family (e.g. the wide kernels, new on this device) is reported in
                // its cells and the table goes on.
                match time_family(&mut gpu, db, &want, b) {
                    Ok((us, graph_us, same)) => fields.push(format!(
                        "\"{tag}us\": {us:.3}, \"{tag}graph_us\": {}, \"{tag}parity\": \"{same}/{b}\"",
                        fmt(graph_us)
                    )),
                    Err(e) => {
                        eprintln!("{family:?} kernels failed at B = {b}, {label}: {e}");
                        fields.push(format!(
                            "\"{tag}us\": null, \"{tag}graph_us\": null, \"{tag}parity\": \"error\""
                        ));
                    }
                }
            }
            let bytes = (b * v * if bf16 { 2 } else { 4 } + mask.len() * 4) as f64;
            lines.push(format!(
                "{{\"b\": {b}, \"case\": \"{label}\", {}, \"floor_us\": {:.3}}}",
                fields.join(", "),
                bytes / bw * 1e6
            ));
            save(&lines);
        }
        let _ = gpu.synchronize();
    }
    save(&lines);
    println!("{}", lines.join("\n"));
}

/// Times the selected family on a resident batch: (µs per step, µs per graph replay at B = 1 else
/// NaN, rows identical to the CPU twin, 0 when a repeated launch or a replay changed a token).
fn time_family(
    gpu: &mut CudaSampler,
    db: &mut lexpro::sample::DeviceBatch,
    want: &[u32],
    b: usize,
) -> Result<(f64, f64, usize), SampleError> {
    // Parity on the benchmark inputs too (a graph replay must give the same tokens again).
    gpu.launch(db)?;
    let got = gpu.results(db)?;
    let mut same = got.iter().zip(want).filter(|(a, c)| a == c).count();
    // Warm up for >= 150 ms so the clocks have left idle (an idle H200 runs its SMs at ~345 MHz).
    let t0 = std::time::Instant::now();
    while t0.elapsed() < std::time::Duration::from_millis(150) {
        for _ in 0..20 {
            gpu.launch(db)?;
        }
        gpu.synchronize()?;
    }
    let iters = if b >= 64 { 50 } else { 200 };
    let us = gpu.time_us(iters, || gpu.launch(db))?;
    if gpu.results(db)? != got {
        same = 0;
    }
    let graph_us = if b == 1 {
        let g = gpu.capture(db)?;
        for _ in 0..3 {
            g.replay()?;
        }
        let t = gpu.time_us(iters, || g.replay())?;
        if gpu.results(db)? != got {
            same = 0;
        }
        t
    } else {
        f64::NAN
    };
    Ok((us, graph_us, same))
}

/// The split kernels skip a token's two logarithms when its 23 noise bits `j` are below
/// `jmin[q]` (`init_prune_table` in kernels/sampler.cu, q = floor(16 (bound - z))). That is only
/// exact if every such `j` has a noise value clearly below `q/16`: checked here for all 2^23 values
/// of `j` with the specification's own `gumbel`, the table built by the kernel's formula. Needs no GPU.
#[test]
fn prune_table_never_skips_a_token_that_could_win() {
    use lexpro::sample::spec::gumbel;
    const NQ: usize = 272;
    let jmin: Vec<u32> = (0..NQ)
        .map(|q| {
            let g = q as f64 * 0.0625 - 0.01;
            let u = (-(-g).exp()).exp();
            let jr = (u * 16_777_216.0 - 1.0) * 0.5;
            if jr < 2.0 {
                0
            } else {
                (jr.floor() - 1.0) as u32
            }
        })
        .collect();
    // Running maximum of the float noise over j = 0..: max_below[j] = max G(i) for i < j.
    let mut q = 0;
    let mut run = f32::NEG_INFINITY;
    let mut worst = f64::NEG_INFINITY;
    let mut order: Vec<(u32, usize)> = jmin.iter().copied().zip(0..).collect();
    order.sort_unstable();
    for j in 0..(1u32 << 23) {
        while q < order.len() && order[q].0 == j {
            // Every j below jmin[q] has been seen: their noise must stay below q/16 - 0.005.
            let limit = order[q].1 as f64 * 0.0625;
            worst = worst.max(f64::from(run) - limit);
            q += 1;
        }
        run = run.max(gumbel(j << 9));
    }
    assert!(worst < -0.005, "prune table too tight: margin {worst}");
    // And it prunes: at q/16 = 3 the table skips most noise values (G < 3 has probability 0.95).
    assert!(jmin[48] > (0.9 * 8_388_608.0) as u32, "jmin[48] = {}", jmin[48]);
    println!("prune table: worst noise - q/16 over skipped indices {worst:.4}");
}
