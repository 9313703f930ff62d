//! Test inputs shared by the sampler's kernel checks (`tests/sampler_gpu.rs` on a device,
//! `tests/sampler_emu.rs` under the host emulator): logits rows of three shapes, random masks, and the
//! ten parameter sets every kernel family is checked on.
#![allow(dead_code)]

use lexpro::sample::spec::f32_to_bf16;
use lexpro::sample::{mask_words, Batch, Logits, RowRequest, SamplingParams};

/// xorshift64* stream for test inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
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

pub fn make_logits(rows: usize, v: usize, shape: Shape, seed: u64) -> Vec<f32> {
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
pub fn make_mask(rows: usize, v: usize, density: f64, seed: u64) -> Vec<u32> {
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

pub fn param_sets() -> Vec<SamplingParams> {
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

/// `rows` requests cycling through [`param_sets`] from set `first`, each with its own request id and step.
pub fn requests(rows: usize, first: usize) -> Vec<RowRequest> {
    let sets = param_sets();
    (0..rows)
        .map(|r| RowRequest {
            params: sets[(r + first) % sets.len()],
            request_id: r as u64 * 977 + first as u64,
            step: (r / sets.len()) as u32,
        })
        .collect()
}

/// The bf16 bits of f32 logits (the layout `Logits::Bf16` takes).
pub fn bf16_of(logits: &[f32]) -> Vec<u16> {
    logits.iter().map(|&x| f32_to_bf16(x)).collect()
}

/// The owned inputs of one kernel-check batch (logits, their bf16 copy, mask, requests); [`Case::batch`] lends them
/// out as a [`Batch`].
pub struct Case {
    pub vocab: usize,
    pub logits: Vec<f32>,
    pub half: Option<Vec<u16>>,
    pub mask: Option<Vec<u32>>,
    pub reqs: Vec<RowRequest>,
}

impl Case {
    /// `rows` rows of `shape` logits from `seed` (in bf16 when `bf16`), a mask of about `density` when given, and
    /// requests cycling through [`param_sets`] from set `first`.
    pub fn new(v: usize, rows: usize, shape: Shape, bf16: bool, density: Option<f64>, seed: u64, first: usize) -> Case {
        let logits = make_logits(rows, v, shape, seed);
        let half = bf16.then(|| bf16_of(&logits));
        let mask = density.map(|d| make_mask(rows, v, d, v as u64 + 7));
        Case { vocab: v, logits, half, mask, reqs: requests(rows, first) }
    }

    pub fn batch(&self) -> Batch<'_> {
        let logits = match &self.half {
            Some(h) => Logits::Bf16(h),
            None => Logits::F32(&self.logits),
        };
        Batch { logits, vocab: self.vocab, mask: self.mask.as_deref(), rows: &self.reqs }
    }
}
