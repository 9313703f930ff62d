//! The CPU sampler (the specification): distribution tests after masking / top-k / top-p / min-p,
//! seeded reproducibility, batch-layout independence and the defined edge cases.

use lexpro::sample::spec::f32_to_bf16;
use lexpro::sample::{
    best_available, mask_words, Batch, CpuSampler, Logits, RowRequest, SampleError, Sampler, SamplingParams,
};
use proptest::prelude::*;

/// Draws `n` tokens from one row, one per step (each step is a fresh, independent draw).
fn draws(logits: &[f32], mask: Option<&[u32]>, params: SamplingParams, n: u32) -> Vec<usize> {
    let v = logits.len();
    let mut counts = vec![0usize; v];
    let rows: Vec<RowRequest> = (0..n).map(|step| RowRequest { params, request_id: 11, step }).collect();
    let all_logits: Vec<f32> = (0..n).flat_map(|_| logits.iter().copied()).collect();
    let all_mask: Option<Vec<u32>> = mask.map(|m| (0..n).flat_map(|_| m.iter().copied()).collect());
    let batch = Batch { logits: Logits::F32(&all_logits), vocab: v, mask: all_mask.as_deref(), rows: &rows };
    for t in CpuSampler::new().sample(&batch).expect("sampling succeeds") {
        counts[t as usize] += 1;
    }
    counts
}

/// The distribution the cuts define, computed independently in f64 with a sort.
fn expected(logits: &[f32], allowed: &[bool], p: SamplingParams) -> Vec<f64> {
    let z: Vec<f64> = logits.iter().map(|&x| f64::from(x) / f64::from(p.temperature)).collect();
    let mut order: Vec<usize> = (0..z.len()).filter(|&i| allowed[i]).collect();
    order.sort_by(|&a, &b| z[b].partial_cmp(&z[a]).unwrap().then(a.cmp(&b)));
    if p.top_k > 0 {
        order.truncate(p.top_k as usize);
    }
    let m = z[order[0]];
    let total: f64 = order.iter().map(|&i| (z[i] - m).exp()).sum();
    if p.top_p < 1.0 {
        let mut cum = 0.0;
        let mut keep = 0;
        for (j, &i) in order.iter().enumerate() {
            cum += (z[i] - m).exp() / total;
            keep = j + 1;
            if cum >= f64::from(p.top_p) {
                break;
            }
        }
        order.truncate(keep);
    }
    if p.min_p > 0.0 {
        order.retain(|&i| (z[i] - m).exp() >= f64::from(p.min_p));
    }
    let mass: f64 = order.iter().map(|&i| (z[i] - m).exp()).sum();
    let mut probs = vec![0.0; z.len()];
    for &i in &order {
        probs[i] = (z[i] - m).exp() / mass;
    }
    probs
}

/// Pearson chi-square of `counts` against `probs` (cells with zero probability must be empty).
fn chi_square(counts: &[usize], probs: &[f64]) -> (f64, usize) {
    let n: usize = counts.iter().sum();
    let mut stat = 0.0;
    let mut cells = 0;
    for (&c, &p) in counts.iter().zip(probs) {
        if p == 0.0 {
            assert_eq!(c, 0, "a token outside the kept set was drawn");
            continue;
        }
        let e = p * n as f64;
        stat += (c as f64 - e).powi(2) / e;
        cells += 1;
    }
    (stat, cells - 1)
}

/// Upper 0.1% points of chi-square for small degrees of freedom.
fn critical(df: usize) -> f64 {
    [10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88, 29.59, 31.26, 32.91][df - 1]
}

const LOGITS: [f32; 12] = [1.0, 2.5, -0.5, 0.3, 2.4, 1.7, -1.2, 0.9, 2.0, 0.0, 1.1, -2.0];

fn check(mask: Option<&[u32]>, params: SamplingParams) {
    let allowed: Vec<bool> =
        (0..LOGITS.len()).map(|i| mask.is_none_or(|m| (m[i / 32] >> (i % 32)) & 1 == 1)).collect();
    let counts = draws(&LOGITS, mask, params, 40_000);
    let probs = expected(&LOGITS, &allowed, params);
    let (stat, df) = chi_square(&counts, &probs);
    if df == 0 {
        return;
    }
    assert!(stat < critical(df), "chi-square {stat:.2} with {df} df for {params:?}; counts {counts:?}");
}

#[test]
fn plain_sampling_follows_the_softmax() {
    check(None, SamplingParams { seed: 1, ..Default::default() });
    check(None, SamplingParams { temperature: 0.7, seed: 2, ..Default::default() });
    check(None, SamplingParams { temperature: 2.0, seed: 3, ..Default::default() });
}

#[test]
fn masked_sampling_renormalises_over_allowed_tokens() {
    check(Some(&[0b1010_0110_1101]), SamplingParams { seed: 4, ..Default::default() });
}

#[test]
fn top_k_keeps_the_k_most_likely() {
    check(None, SamplingParams { top_k: 4, seed: 5, ..Default::default() });
    check(Some(&[0b1111_0000_1111]), SamplingParams { top_k: 3, temperature: 0.8, seed: 6, ..Default::default() });
}

#[test]
fn top_p_keeps_the_smallest_covering_set() {
    check(None, SamplingParams { top_p: 0.6, seed: 7, ..Default::default() });
    check(None, SamplingParams { top_p: 0.9, top_k: 6, seed: 8, ..Default::default() });
}

#[test]
fn min_p_drops_tokens_below_the_ratio() {
    check(None, SamplingParams { min_p: 0.3, seed: 9, ..Default::default() });
    check(None, SamplingParams { min_p: 0.1, top_p: 0.95, seed: 10, ..Default::default() });
}

fn one(logits: &[f32], mask: Option<&[u32]>, params: SamplingParams, step: u32) -> Result<Vec<u32>, SampleError> {
    let rows = [RowRequest { params, request_id: 5, step }];
    CpuSampler::new().sample(&Batch { logits: Logits::F32(logits), vocab: logits.len(), mask, rows: &rows })
}

#[test]
fn seeded_sampling_is_reproducible_and_seed_dependent() {
    let p = SamplingParams { seed: 42, top_p: 0.95, ..Default::default() };
    let a: Vec<u32> = (0..200).map(|s| one(&LOGITS, None, p, s).unwrap()[0]).collect();
    let b: Vec<u32> = (0..200).map(|s| one(&LOGITS, None, p, s).unwrap()[0]).collect();
    assert_eq!(a, b);
    let c: Vec<u32> = (0..200).map(|s| one(&LOGITS, None, SamplingParams { seed: 43, ..p }, s).unwrap()[0]).collect();
    assert_ne!(a, c);
}

#[test]
fn a_rows_token_does_not_depend_on_batch_layout() {
    let v = 300;
    let row = |r: usize| -> Vec<f32> { (0..v).map(|i| ((i * 37 + r * 101) % 97) as f32 * 0.05).collect() };
    let req = |r: usize| RowRequest {
        params: SamplingParams { seed: 99, top_k: 50, top_p: 0.9, ..Default::default() },
        request_id: r as u64,
        step: 7,
    };
    let order = [3usize, 0, 2, 1];
    let mut logits = Vec::new();
    let mut rows = Vec::new();
    for &r in &order {
        logits.extend(row(r));
        rows.push(req(r));
    }
    let batch = Batch { logits: Logits::F32(&logits), vocab: v, mask: None, rows: &rows };
    let together = CpuSampler::new().sample(&batch).unwrap();
    for (pos, &r) in order.iter().enumerate() {
        let alone_rows = [req(r)];
        let l = row(r);
        let alone = CpuSampler::new()
            .sample(&Batch { logits: Logits::F32(&l), vocab: v, mask: None, rows: &alone_rows })
            .unwrap();
        assert_eq!(alone[0], together[pos]);
    }
}

#[test]
fn disabled_cuts_change_nothing() {
    let base = SamplingParams { seed: 3, ..Default::default() };
    for step in 0..100 {
        let t = one(&LOGITS, None, base, step).unwrap();
        assert_eq!(t, one(&LOGITS, None, SamplingParams { top_p: 1.0, ..base }, step).unwrap());
        assert_eq!(t, one(&LOGITS, None, SamplingParams { top_k: 12, ..base }, step).unwrap());
        assert_eq!(t, one(&LOGITS, None, SamplingParams { top_k: 1000, ..base }, step).unwrap());
    }
}

#[test]
fn temperature_zero_is_greedy_with_lowest_id_ties() {
    let x = [0.5f32, 3.0, 3.0, -1.0];
    for step in 0..10 {
        assert_eq!(one(&x, None, SamplingParams::greedy(), step).unwrap(), vec![1]);
    }
    assert_eq!(one(&x, Some(&[0b1101]), SamplingParams::greedy(), 0).unwrap(), vec![2]);
}

#[test]
fn edge_cases_are_errors_naming_the_lowest_row() {
    let p = SamplingParams::default();
    assert_eq!(one(&LOGITS, Some(&[0]), p, 0), Err(SampleError::AllMasked { row: 0 }));
    let mut bad = LOGITS;
    bad[3] = f32::NAN;
    assert_eq!(one(&bad, None, p, 0), Err(SampleError::NanLogit { row: 0 }));
    let rows = [
        RowRequest { params: p, request_id: 0, step: 0 },
        RowRequest { params: p, request_id: 1, step: 0 },
        RowRequest { params: p, request_id: 2, step: 0 },
    ];
    let mut logits = LOGITS.repeat(3);
    logits[12 + 4] = f32::INFINITY;
    let mask = [u32::MAX, u32::MAX, 0];
    let batch = Batch { logits: Logits::F32(&logits), vocab: 12, mask: Some(&mask), rows: &rows };
    assert_eq!(CpuSampler::new().sample(&batch), Err(SampleError::InfiniteLogit { row: 1 }));
}

#[test]
fn bf16_and_f32_agree_on_representable_values() {
    let v = 1000;
    // k/8 with k < 256 has at most 8 significant bits: exact in bf16.
    let f: Vec<f32> = (0..v).map(|i| ((i * 7919) % 200) as f32 / 8.0 - 12.0).collect();
    assert!(f.iter().all(|&x| lexpro::sample::spec::bf16_to_f32(f32_to_bf16(x)) == x));
    let h: Vec<u16> = f.iter().map(|&x| f32_to_bf16(x)).collect();
    let mask: Vec<u32> = (0..mask_words(v)).map(|w| 0xF0F0_F0F0u32.rotate_left(w as u32)).collect();
    let rows: Vec<RowRequest> = (0..16)
        .map(|s| RowRequest {
            params: SamplingParams { seed: 5, top_k: 40, top_p: 0.8, min_p: 0.01, ..Default::default() },
            request_id: 1,
            step: s,
        })
        .collect();
    let fl: Vec<f32> = f.repeat(16);
    let hl: Vec<u16> = h.repeat(16);
    let ml: Vec<u32> = mask.repeat(16);
    let mut s = CpuSampler::new();
    let a = s.sample(&Batch { logits: Logits::F32(&fl), vocab: v, mask: Some(&ml), rows: &rows }).unwrap();
    let b = s.sample(&Batch { logits: Logits::Bf16(&hl), vocab: v, mask: Some(&ml), rows: &rows }).unwrap();
    assert_eq!(a, b);
}

#[test]
fn best_available_gives_a_working_sampler_that_agrees_with_the_cpu() {
    // CUDA when built in and present, else the CPU sampler (after one stderr line); both must agree.
    let mut s = best_available();
    let rows: Vec<RowRequest> = (0..8)
        .map(|step| RowRequest { params: SamplingParams { seed: 2, top_p: 0.8, ..Default::default() }, request_id: 1, step })
        .collect();
    let logits = LOGITS.repeat(8);
    let batch = Batch { logits: Logits::F32(&logits), vocab: 12, mask: None, rows: &rows };
    assert_eq!(s.sample(&batch).unwrap(), CpuSampler::new().sample(&batch).unwrap(), "sampler {}", s.name());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_row_gives_an_allowed_token_or_a_defined_error(
        logits in prop::collection::vec(prop_oneof![
            8 => -50.0f32..50.0,
            1 => Just(f32::NEG_INFINITY),
            1 => Just(0.0f32),
        ], 1..200),
        mask_seed in any::<u32>(),
        temperature in prop_oneof![Just(0.0f32), 0.05f32..4.0],
        top_k in 0u32..20,
        top_p in 0.01f32..=1.0,
        min_p in prop_oneof![Just(0.0f32), 0.0f32..1.0],
        seed in any::<u64>(),
    ) {
        let v = logits.len();
        let mask: Vec<u32> = (0..mask_words(v)).map(|w| mask_seed.rotate_left(w as u32) | 1 << (w % 32)).collect();
        let params = SamplingParams { temperature, top_k, top_p, min_p, seed };
        match one(&logits, Some(&mask), params, 0) {
            Ok(t) => {
                let t = t[0] as usize;
                prop_assert!(t < v);
                prop_assert!((mask[t / 32] >> (t % 32)) & 1 == 1);
                prop_assert!(logits[t] > f32::NEG_INFINITY);
            }
            Err(SampleError::AllMasked { row: 0 }) => {
                prop_assert!((0..v).all(|i| (mask[i / 32] >> (i % 32)) & 1 == 0 || logits[i] == f32::NEG_INFINITY));
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
