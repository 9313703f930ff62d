//! The CPU sampler: the reference implementation, always built. The kernels must agree with it.

use rayon::prelude::*;

use super::spec::{gumbel, ordered_key, token_bits, weight, CANDIDATE_SPAN};
use super::{
    decode_results, mask_words, plan_batch, Batch, Logits, RowPlan, SampleError, Sampler, CODE_ALL_MASKED,
    CODE_INF, CODE_NAN, FLAG_GREEDY, FLAG_MIN_P, FLAG_TOP_K, FLAG_TOP_P,
};

/// The reference sampler (rows in parallel with rayon; each row is independent).
#[derive(Debug, Default, Clone)]
pub struct CpuSampler;

impl CpuSampler {
    /// A CPU sampler.
    pub fn new() -> Self {
        Self
    }
}

impl Sampler for CpuSampler {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn sample(&mut self, batch: &Batch<'_>) -> Result<Vec<u32>, SampleError> {
        let plans = plan_batch(batch)?;
        let v = batch.vocab;
        let w = mask_words(v);
        let codes: Vec<i32> = plans
            .par_iter()
            .enumerate()
            .map(|(r, plan)| {
                let mask = batch.mask.map(|m| &m[r * w..(r + 1) * w]);
                match batch.logits {
                    Logits::F32(x) => sample_row(&x[r * v..(r + 1) * v], mask, plan),
                    Logits::Bf16(x) => sample_row(&Bf16Row(&x[r * v..(r + 1) * v]), mask, plan),
                }
            })
            .collect();
        decode_results(&codes)
    }
}

/// Read access to one logits row as f32, whatever its storage.
pub(crate) trait Row: Sync {
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> f32;
}

impl Row for [f32] {
    fn len(&self) -> usize {
        <[f32]>::len(self)
    }
    fn get(&self, i: usize) -> f32 {
        self[i]
    }
}

struct Bf16Row<'a>(&'a [u16]);

impl Row for Bf16Row<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> f32 {
        super::spec::bf16_to_f32(self.0[i])
    }
}

fn allowed(mask: Option<&[u32]>, i: usize) -> bool {
    mask.is_none_or(|m| (m[i >> 5] >> (i & 31)) & 1 == 1)
}

/// The scaled logit: `x / T` as `x * (1/T)`, with `+ 0.0` turning `-0` into `+0` so that float
/// equality and key equality agree.
fn scaled(x: f32, inv_temp: f32) -> f32 {
    x * inv_temp + 0.0
}

/// Samples one row; returns the token or a negative result code (the kernels' convention).
///
/// This is the specification; the kernel reaches the same answer without sorting:
/// 1. over allowed tokens: NaN → error, `+inf` (raw or scaled) → error, `-inf` → excluded;
///    none left → error. Greedy: the largest raw logit, lowest id on ties.
/// 2. `z = x * (1/T)`, `M = max z`; candidates are the tokens with `z >= M - 24` (no other token can
///    win the draw or carry top-p weight, see [`CANDIDATE_SPAN`]).
/// 3. top-k: the `k` largest candidates by `(key desc, id asc)`.
/// 4. top-p: weights `w = floor(exp(z - M) * 2^32)` summed exactly; `t*` = the largest key whose
///    mass of survivors with key `>= t*` reaches `top_p * W` (f64); keep keys `>= t*` (ties kept).
/// 5. min-p: keep `z >= M + ln(min_p)`.
/// 6. draw: the survivor with the largest `z + gumbel(token)`, lowest id on ties.
pub(crate) fn sample_row<R: Row + ?Sized>(x: &R, mask: Option<&[u32]>, plan: &RowPlan) -> i32 {
    let v = x.len();
    let greedy = plan.flags & FLAG_GREEDY != 0;
    let (mut nan, mut inf) = (false, false);
    let mut best: Option<(f32, usize)> = None;
    for i in 0..v {
        if !allowed(mask, i) {
            continue;
        }
        let xi = x.get(i);
        if xi.is_nan() {
            nan = true;
            continue;
        }
        let val = if greedy { xi } else { scaled(xi, plan.inv_temp) };
        if val == f32::INFINITY {
            inf = true;
        }
        if val == f32::NEG_INFINITY {
            continue;
        }
        if best.is_none_or(|(b, _)| val > b) {
            best = Some((val, i));
        }
    }
    if nan {
        return CODE_NAN;
    }
    if inf {
        return CODE_INF;
    }
    let Some((m, arg)) = best else {
        return CODE_ALL_MASKED;
    };
    if greedy {
        return arg as i32;
    }

    let cut = m - CANDIDATE_SPAN;
    let mut cand: Vec<(u32, f32)> = (0..v)
        .filter(|&i| allowed(mask, i))
        .map(|i| (i as u32, scaled(x.get(i), plan.inv_temp)))
        .filter(|&(_, z)| z >= cut)
        .collect();

    if plan.flags & FLAG_TOP_K != 0 && (plan.top_k as usize) < cand.len() {
        let k = plan.top_k as usize;
        let order = |a: &(u32, f32), b: &(u32, f32)| ordered_key(b.1).cmp(&ordered_key(a.1)).then(a.0.cmp(&b.0));
        cand.select_nth_unstable_by(k - 1, order);
        cand.truncate(k);
    }
    if plan.flags & FLAG_TOP_P != 0 {
        let total: u64 = cand.iter().map(|&(_, z)| weight(z - m)).sum();
        let target = f64::from(plan.top_p) * total as f64;
        let mut by_key: Vec<(u32, u64)> = cand.iter().map(|&(_, z)| (ordered_key(z), weight(z - m))).collect();
        by_key.sort_unstable_by_key(|e| std::cmp::Reverse(e.0));
        let mut cum = 0u64;
        let mut threshold = 0u32;
        let mut j = 0;
        while j < by_key.len() {
            let key = by_key[j].0;
            while j < by_key.len() && by_key[j].0 == key {
                cum += by_key[j].1;
                j += 1;
            }
            if cum as f64 >= target {
                threshold = key;
                break;
            }
        }
        cand.retain(|&(_, z)| ordered_key(z) >= threshold);
    }
    if plan.flags & FLAG_MIN_P != 0 {
        let floor = m + plan.log_min_p;
        cand.retain(|&(_, z)| z >= floor);
    }

    let (seed, req) = (plan.seed(), plan.request_id());
    let mut win: Option<(f32, u32)> = None;
    for &(i, z) in &cand {
        let score = z + gumbel(token_bits(seed, req, plan.step, i));
        if win.is_none_or(|(s, j)| score > s || (score == s && i < j)) {
            win = Some((score, i));
        }
    }
    // The row maximum always survives every cut, so `win` is set; the arm only guards a logic error.
    win.map_or(CODE_ALL_MASKED, |(_, i)| i as i32)
}

#[cfg(test)]
mod tests {
    use super::super::{RowRequest, SamplingParams};
    use super::*;

    fn plan(params: SamplingParams, vocab: usize) -> RowPlan {
        RowPlan::new(0, &RowRequest { params, request_id: 1, step: 0 }, vocab).unwrap()
    }

    #[test]
    fn greedy_takes_the_lowest_id_on_ties() {
        let x = [1.0f32, 3.0, -2.0, 3.0];
        assert_eq!(sample_row(&x[..], None, &plan(SamplingParams::greedy(), 4)), 1);
        let mask = [0b1101u32];
        assert_eq!(sample_row(&x[..], Some(&mask), &plan(SamplingParams::greedy(), 4)), 3);
    }

    #[test]
    fn errors_for_masked_nan_and_inf_rows() {
        let p = plan(SamplingParams::default(), 3);
        assert_eq!(sample_row(&[1.0f32, 2.0, 3.0][..], Some(&[0u32]), &p), CODE_ALL_MASKED);
        assert_eq!(sample_row(&[f32::NEG_INFINITY; 3][..], None, &p), CODE_ALL_MASKED);
        assert_eq!(sample_row(&[1.0, f32::NAN, 3.0][..], None, &p), CODE_NAN);
        // A NaN under the mask is never looked at.
        assert_eq!(sample_row(&[1.0, f32::NAN, 3.0][..], Some(&[0b101]), &plan(SamplingParams::greedy(), 3)), 2);
        assert_eq!(sample_row(&[1.0, f32::INFINITY, 3.0][..], None, &p), CODE_INF);
        let hot = plan(SamplingParams { temperature: 1e-30, ..Default::default() }, 3);
        assert_eq!(sample_row(&[1.0, 1e20, 3.0][..], None, &hot), CODE_INF);
    }

    #[test]
    fn top_k_one_and_tiny_top_p_pick_the_maximum() {
        let x = [0.5f32, 2.0, 2.0, 1.9];
        for params in [
            SamplingParams { top_k: 1, seed: 9, ..Default::default() },
            SamplingParams { top_p: 1e-6, min_p: 0.0, seed: 9, ..Default::default() },
            SamplingParams { min_p: 1.0, top_k: 1, seed: 9, ..Default::default() },
        ] {
            for step in 0..20 {
                let mut p = plan(params, 4);
                p.step = step;
                let t = sample_row(&x[..], None, &p);
                if params.top_k == 1 {
                    assert_eq!(t, 1, "top-k ties go to the lowest id");
                } else {
                    assert!(t == 1 || t == 2, "top-p keeps both tied maxima");
                }
            }
        }
    }

    #[test]
    fn bf16_rows_read_as_f32() {
        let raw: Vec<u16> = [1.0f32, 4.0, 2.0].iter().map(|&v| super::super::spec::f32_to_bf16(v)).collect();
        assert_eq!(sample_row(&Bf16Row(&raw), None, &plan(SamplingParams::greedy(), 3)), 1);
    }
}
