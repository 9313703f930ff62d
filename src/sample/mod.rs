//! Stage 8 — token sampling: the CPU reference and the CUDA kernels (issue 7).
//!
//! One decoding step takes a batch of logits rows (f32 or bf16) with a packed per-row token mask
//! (bit `i` of the row's words = token `i` allowed, e.g. by the grammar) and draws one token per row:
//! mask → temperature → top-k → top-p (over the top-k survivors) → min-p → draw. The draw is
//! Gumbel-max with Philox4x32-10 noise keyed by `(seed, request_id, step, token)`, so a row's token
//! depends only on its own data, never on batch layout. [`CpuSampler`] is the specification;
//! [`CudaSampler`] runs the fused kernels of `kernels/sampler.cu` and matches it token for token.
//! See `docs/SAMPLER.md` for the algorithm and the edge cases.

mod cpu;
#[cfg(feature = "cuda")]
#[path = "cuda/enabled.rs"]
mod cuda;
#[cfg(not(feature = "cuda"))]
#[path = "cuda/disabled.rs"]
mod cuda;
pub mod spec;

pub use cpu::CpuSampler;
pub use cuda::CudaSampler;
#[cfg(feature = "cuda")]
pub use cuda::{compile_kernels, nvrtc_options, DeviceBatch, StepGraph, KERNEL_SOURCE};

/// Largest vocabulary the kernels are sized and tested for.
pub const MAX_VOCAB: usize = 262_144;

/// Mask words per row: the mask is as wide as the logits.
pub fn mask_words(vocab: usize) -> usize {
    vocab.div_ceil(32)
}

/// Sampling settings of one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingParams {
    /// Softmax temperature; `0` means greedy (argmax, ties to the lowest token id).
    pub temperature: f32,
    /// Keep the `top_k` most likely tokens; `0` (or `>= vocab`) disables the cut.
    pub top_k: u32,
    /// Keep the smallest most-likely set whose probability reaches `top_p`, in `(0, 1]`; `1` disables.
    pub top_p: f32,
    /// Drop tokens less likely than `min_p` times the most likely one, in `[0, 1]`; `0` disables.
    pub min_p: f32,
    /// Seed of the request's random stream.
    pub seed: u64,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self { temperature: 1.0, top_k: 0, top_p: 1.0, min_p: 0.0, seed: 0 }
    }
}

impl SamplingParams {
    /// Greedy decoding.
    pub fn greedy() -> Self {
        Self { temperature: 0.0, ..Self::default() }
    }
}

/// One row of a batch: whose request it is and which step, which key the random stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowRequest {
    /// Sampling settings.
    pub params: SamplingParams,
    /// Request id (part of the random-stream key).
    pub request_id: u64,
    /// Decoding step within the request (part of the random-stream key).
    pub step: u32,
}

/// A batch of logits rows, row-major.
#[derive(Debug, Clone, Copy)]
pub enum Logits<'a> {
    /// 32-bit floats.
    F32(&'a [f32]),
    /// bfloat16 as raw bits (the upper half of an f32).
    Bf16(&'a [u16]),
}

impl Logits<'_> {
    fn len(&self) -> usize {
        match self {
            Logits::F32(x) => x.len(),
            Logits::Bf16(x) => x.len(),
        }
    }
}

/// Everything one sampling step needs.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// `rows.len() * vocab` logits.
    pub logits: Logits<'a>,
    /// Row width.
    pub vocab: usize,
    /// `rows.len() * mask_words(vocab)` words, or `None` when every token is allowed.
    pub mask: Option<&'a [u32]>,
    /// One request per row.
    pub rows: &'a [RowRequest],
}

/// Why a step could not be sampled. Row errors name the lowest failing row; both samplers agree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// The mask (or `-inf` logits) leaves no token.
    #[error("row {row}: every token is masked out")]
    AllMasked {
        /// Row index in the batch.
        row: usize,
    },
    /// An allowed token's logit is NaN.
    #[error("row {row}: NaN logit")]
    NanLogit {
        /// Row index in the batch.
        row: usize,
    },
    /// An allowed token's logit, or its temperature-scaled value, is `+inf`.
    #[error("row {row}: infinite logit (or overflow after temperature scaling)")]
    InfiniteLogit {
        /// Row index in the batch.
        row: usize,
    },
    /// A sampling parameter is out of range.
    #[error("row {row}: invalid sampling parameter: {reason}")]
    InvalidParams {
        /// Row index in the batch.
        row: usize,
        /// Which parameter and why.
        reason: &'static str,
    },
    /// Buffer lengths do not match the batch shape.
    #[error("batch shape: {0}")]
    Shape(String),
    /// The CUDA driver, NVRTC or a launch failed.
    #[error("cuda: {0}")]
    Device(String),
}

/// A sampler: one token per row, or the lowest row's error.
pub trait Sampler: Send {
    /// Short name for logs and benchmark tables.
    fn name(&self) -> &'static str;
    /// Samples one token per row of `batch`.
    fn sample(&mut self, batch: &Batch<'_>) -> Result<Vec<u32>, SampleError>;
}

/// Picks the CUDA sampler when the feature is built in and a device answers; otherwise the CPU one,
/// with one log line on stderr saying why.
pub fn best_available() -> Box<dyn Sampler> {
    match CudaSampler::new() {
        Ok(s) => Box::new(s),
        Err(e) => {
            eprintln!("lexpro sampler: using the CPU sampler ({e})");
            Box::new(CpuSampler::new())
        }
    }
}

/// Which kernels [`CudaSampler`] launches. All three give the CPU twin's tokens bit for bit; they
/// differ in how a row's work is spread over the GPU (see docs/SAMPLER.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelFamily {
    /// One block per row, one launch per step.
    Original,
    /// One launch per step; a row's first pass is spread over several blocks (small batches), the rest
    /// of a row with cuts runs in one block.
    Split,
    /// Three launches per step; every pass of a row with cuts (max, histogram, cut and draw) is spread
    /// over several blocks. For small batches with top-k / top-p / min-p.
    Wide,
    /// The default: [`KernelFamily::Wide`] for a batch of at most [`AUTO_WIDE_MAX_ROWS`] rows of which
    /// one has a cut (top-k, top-p or min-p), or a larger batch whose rows with cuts all use top-p
    /// without top-k or min-p; [`KernelFamily::Split`] otherwise. Chosen per launch from the rows'
    /// current plans (a large batch uploaded without such rows stays on the split kernels); the choice
    /// follows the H200 measurements in docs/SAMPLER.md.
    Auto,
}

/// Largest batch for which [`KernelFamily::Auto`] launches the wide kernels on rows with any cut: on an
/// H200 they beat the split kernels on rows with cuts at B = 1, 8 and 64. At B = 512 they win on top-p
/// rows and lose by a few percent on top-k + top-p rows, so larger batches take them for top-p rows only.
pub const AUTO_WIDE_MAX_ROWS: usize = 64;

/// Per-row plan shared by both paths (and laid out for the kernels, see `RowPlan` in sampler.cu).
/// Host-side floats (`1/T`, `ln min_p`) are computed once here so both paths use the same bits.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RowPlan {
    pub inv_temp: f32,
    pub top_p: f32,
    pub log_min_p: f32,
    pub top_k: u32,
    pub flags: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub req_lo: u32,
    pub req_hi: u32,
    pub step: u32,
    pub pad: [u32; 2],
}

pub(crate) const FLAG_GREEDY: u32 = 1;
pub(crate) const FLAG_TOP_K: u32 = 2;
pub(crate) const FLAG_TOP_P: u32 = 4;
pub(crate) const FLAG_MIN_P: u32 = 8;

/// Kernel result codes below zero (the token id otherwise).
pub(crate) const CODE_ALL_MASKED: i32 = -1;
pub(crate) const CODE_NAN: i32 = -2;
pub(crate) const CODE_INF: i32 = -3;

impl RowPlan {
    fn new(row: usize, req: &RowRequest, vocab: usize) -> Result<Self, SampleError> {
        let p = &req.params;
        let bad = |reason| SampleError::InvalidParams { row, reason };
        if !(p.temperature.is_finite() && p.temperature >= 0.0) {
            return Err(bad("temperature must be finite and >= 0"));
        }
        if !(p.top_p > 0.0 && p.top_p <= 1.0) {
            return Err(bad("top_p must be in (0, 1]"));
        }
        if !(p.min_p >= 0.0 && p.min_p <= 1.0) {
            return Err(bad("min_p must be in [0, 1]"));
        }
        let mut flags = 0;
        let mut inv_temp = 0.0;
        if p.temperature == 0.0 {
            flags |= FLAG_GREEDY;
        } else {
            inv_temp = 1.0 / p.temperature;
            if !inv_temp.is_finite() {
                return Err(bad("temperature too small (1/T overflows); use 0 for greedy"));
            }
        }
        if p.top_k > 0 && (p.top_k as usize) < vocab {
            flags |= FLAG_TOP_K;
        }
        if p.top_p < 1.0 {
            flags |= FLAG_TOP_P;
        }
        let log_min_p = if p.min_p > 0.0 {
            flags |= FLAG_MIN_P;
            p.min_p.ln()
        } else {
            f32::NEG_INFINITY
        };
        Ok(Self {
            inv_temp,
            top_p: p.top_p,
            log_min_p,
            top_k: p.top_k,
            flags,
            seed_lo: p.seed as u32,
            seed_hi: (p.seed >> 32) as u32,
            req_lo: req.request_id as u32,
            req_hi: (req.request_id >> 32) as u32,
            step: req.step,
            pad: [0; 2],
        })
    }

    /// The plan as the kernel's 48-byte struct, word by word.
    fn words(&self) -> [u32; 12] {
        [
            self.inv_temp.to_bits(),
            self.top_p.to_bits(),
            self.log_min_p.to_bits(),
            self.top_k,
            self.flags,
            self.seed_lo,
            self.seed_hi,
            self.req_lo,
            self.req_hi,
            self.step,
            self.pad[0],
            self.pad[1],
        ]
    }

    pub(crate) fn seed(&self) -> u64 {
        u64::from(self.seed_lo) | (u64::from(self.seed_hi) << 32)
    }

    pub(crate) fn request_id(&self) -> u64 {
        u64::from(self.req_lo) | (u64::from(self.req_hi) << 32)
    }
}

/// The per-row plans exactly as the kernels read them (`RowPlan` in `kernels/sampler.cu`: twelve
/// 32-bit words, floats as their bits), after the same checks as [`Sampler::sample`]. For kernel
/// harnesses such as the host emulation test (`tests/sampler_emu.rs`); samplers never need it.
pub fn kernel_row_plans(batch: &Batch<'_>) -> Result<Vec<[u32; 12]>, SampleError> {
    Ok(plan_batch(batch)?.iter().map(RowPlan::words).collect())
}

/// Kernel result codes (the token id, or a negative error code) as tokens or the lowest row's error,
/// as [`Sampler::sample`] reports them. For kernel harnesses, like [`kernel_row_plans`].
pub fn decode_kernel_results(codes: &[i32]) -> Result<Vec<u32>, SampleError> {
    decode_results(codes)
}

/// Whether [`KernelFamily::Auto`] launches the wide kernels for these plans: some row samples with a
/// cut (greedy rows never do) and either the batch is small or every row with a cut is a top-p row
/// without top-k or min-p, the case measured. At B = 512 on an H200 the wide kernels took 3.5–5.9% less
/// time than the split kernels on such rows (they read a row three times, the split kernels four) and
/// 4% more on top-k + top-p rows (docs/SAMPLER.md, stop 16); rows with min-p were not measured there.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))] // the CUDA sampler's choice; tested here without CUDA
pub(crate) fn auto_wants_wide(plans: &[RowPlan]) -> bool {
    let mut cut_rows = plans
        .iter()
        .filter(|p| p.flags & FLAG_GREEDY == 0 && p.flags & (FLAG_TOP_K | FLAG_TOP_P | FLAG_MIN_P) != 0)
        .peekable();
    if cut_rows.peek().is_none() {
        return false;
    }
    plans.len() <= AUTO_WIDE_MAX_ROWS
        || cut_rows.all(|p| p.flags & FLAG_TOP_P != 0 && p.flags & (FLAG_TOP_K | FLAG_MIN_P) == 0)
}

/// Checks the batch shape and builds the row plans (shared by both samplers).
pub(crate) fn plan_batch(batch: &Batch<'_>) -> Result<Vec<RowPlan>, SampleError> {
    let rows = batch.rows.len();
    if batch.vocab == 0 || batch.vocab > MAX_VOCAB {
        return Err(SampleError::Shape(format!("vocab {} not in 1..={MAX_VOCAB}", batch.vocab)));
    }
    if batch.logits.len() != rows * batch.vocab {
        return Err(SampleError::Shape(format!(
            "{} logits for {rows} rows of {}",
            batch.logits.len(),
            batch.vocab
        )));
    }
    if let Some(mask) = batch.mask {
        let want = rows * mask_words(batch.vocab);
        if mask.len() != want {
            return Err(SampleError::Shape(format!("{} mask words, want {want}", mask.len())));
        }
    }
    batch.rows.iter().enumerate().map(|(i, r)| RowPlan::new(i, r, batch.vocab)).collect()
}

/// Turns kernel-style result codes into tokens or the lowest row's error.
pub(crate) fn decode_results(codes: &[i32]) -> Result<Vec<u32>, SampleError> {
    codes
        .iter()
        .enumerate()
        .map(|(row, &c)| match c {
            c if c >= 0 => Ok(c as u32),
            CODE_ALL_MASKED => Err(SampleError::AllMasked { row }),
            CODE_NAN => Err(SampleError::NanLogit { row }),
            CODE_INF => Err(SampleError::InfiniteLogit { row }),
            other => Err(SampleError::Device(format!("row {row}: unknown result code {other}"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(params: SamplingParams) -> RowRequest {
        RowRequest { params, request_id: 7, step: 3 }
    }

    #[test]
    fn auto_takes_the_wide_kernels_for_small_batches_with_cuts_and_large_top_p_batches() {
        let plans = |n: usize, params: &[SamplingParams]| -> Vec<RowPlan> {
            (0..n).map(|i| RowPlan::new(0, &req(params[i % params.len()]), 1000).unwrap()).collect()
        };
        let d = SamplingParams::default();
        let top_p = SamplingParams { top_p: 0.9, ..d };
        let top_k = SamplingParams { top_k: 50, ..top_p };
        let min_p = SamplingParams { min_p: 0.05, ..d };
        let greedy = SamplingParams::greedy();
        // No row with a cut: never.
        assert!(!auto_wants_wide(&plans(1, &[d])));
        assert!(!auto_wants_wide(&plans(8, &[greedy, d])));
        assert!(!auto_wants_wide(&plans(512, &[greedy])));
        // Small batches: any cut.
        for p in [top_p, top_k, min_p] {
            assert!(auto_wants_wide(&plans(AUTO_WIDE_MAX_ROWS, &[greedy, p])), "{p:?}");
        }
        // Large batches: only when every row with a cut is a top-p row without top-k or min-p.
        let big = AUTO_WIDE_MAX_ROWS + 1;
        assert!(auto_wants_wide(&plans(big, &[top_p])));
        assert!(auto_wants_wide(&plans(big, &[top_p, greedy, d])));
        assert!(!auto_wants_wide(&plans(big, &[top_k])));
        assert!(!auto_wants_wide(&plans(big, &[top_p, top_k])));
        assert!(!auto_wants_wide(&plans(big, &[top_p, min_p])));
        assert!(!auto_wants_wide(&plans(big, &[SamplingParams { min_p: 0.05, ..top_p }])));
    }

    #[test]
    fn plan_flags_follow_the_disabling_rules() {
        let p = RowPlan::new(0, &req(SamplingParams::greedy()), 10).unwrap();
        assert_eq!(p.flags, FLAG_GREEDY);
        let p = RowPlan::new(0, &req(SamplingParams { top_k: 10, ..Default::default() }), 10).unwrap();
        assert_eq!(p.flags, 0, "top-k with k >= V is no cut");
        let p = RowPlan::new(
            0,
            &req(SamplingParams { top_k: 3, top_p: 0.5, min_p: 0.1, seed: 1 << 40, ..Default::default() }),
            10,
        )
        .unwrap();
        assert_eq!(p.flags, FLAG_TOP_K | FLAG_TOP_P | FLAG_MIN_P);
        assert_eq!(p.seed(), 1 << 40);
        assert_eq!(p.request_id(), 7);
    }

    #[test]
    fn invalid_params_are_rejected() {
        for params in [
            SamplingParams { temperature: -1.0, ..Default::default() },
            SamplingParams { temperature: f32::NAN, ..Default::default() },
            SamplingParams { temperature: 1e-45, ..Default::default() },
            SamplingParams { top_p: 0.0, ..Default::default() },
            SamplingParams { top_p: 1.5, ..Default::default() },
            SamplingParams { min_p: -0.1, ..Default::default() },
            SamplingParams { min_p: f32::NAN, ..Default::default() },
        ] {
            assert!(matches!(RowPlan::new(2, &req(params), 10), Err(SampleError::InvalidParams { row: 2, .. })));
        }
    }

    #[test]
    fn shape_errors_are_reported() {
        let rows = [req(SamplingParams::default())];
        let logits = [0.0f32; 5];
        let b = Batch { logits: Logits::F32(&logits), vocab: 4, mask: None, rows: &rows };
        assert!(matches!(plan_batch(&b), Err(SampleError::Shape(_))));
        let mask = [0u32; 2];
        let b = Batch { logits: Logits::F32(&logits[..4]), vocab: 4, mask: Some(&mask), rows: &rows };
        assert!(matches!(plan_batch(&b), Err(SampleError::Shape(_))));
        let b = Batch { logits: Logits::F32(&[]), vocab: 0, mask: None, rows: &[] };
        assert!(matches!(plan_batch(&b), Err(SampleError::Shape(_))));
    }

    #[test]
    fn result_codes_decode_to_the_lowest_row_error() {
        assert_eq!(decode_results(&[3, 0]), Ok(vec![3, 0]));
        assert_eq!(decode_results(&[3, CODE_NAN, CODE_ALL_MASKED]), Err(SampleError::NanLogit { row: 1 }));
        assert_eq!(decode_results(&[CODE_INF]), Err(SampleError::InfiniteLogit { row: 0 }));
    }

    #[test]
    fn row_plan_is_48_bytes_like_the_kernel_struct() {
        assert_eq!(std::mem::size_of::<RowPlan>(), 48);
    }
}
