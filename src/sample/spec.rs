//! The sampling specification: every numeric building block shared, operation for operation, by the
//! CPU reference and the CUDA kernels (`kernels/sampler.cu`).
//!
//! Bit-exact parity with the GPU rests on three choices: the random numbers come from a counter-based
//! generator (Philox4x32-10) keyed by `(seed, request_id, step, token)`, so nothing depends on batch
//! layout or thread order; `exp`/`log` are our own routines written with plain IEEE `+ - * /` (the
//! kernels are compiled with `--fmad=false` so nothing is contracted into an FMA); and every sum that
//! decides a cut is an integer sum, which is associative, so reduction order cannot change it.

/// Philox4x32 multiplier for lane 0 (Random123).
const PHILOX_M0: u32 = 0xD251_1F53;
/// Philox4x32 multiplier for lane 2 (Random123).
const PHILOX_M1: u32 = 0xCD9E_8D57;
/// Philox key schedule increment, lane 0 (golden ratio).
const PHILOX_W0: u32 = 0x9E37_79B9;
/// Philox key schedule increment, lane 1 (sqrt(3) - 1).
const PHILOX_W1: u32 = 0xBB67_AE85;

/// Scaled logits further than this below the row maximum never matter: their Gumbel score is at most
/// `z + 16.64 < max - 7.3`, below the score of the maximum (at least `max - 2.82`), and their top-p
/// weight is zero. Both paths restrict all work after the first pass to the candidates above it.
pub const CANDIDATE_SPAN: f32 = 24.0;

/// Fixed-point scale of top-p weights: `w = floor(exp(z - max) * 2^32)`; integer sums are exact.
pub const WEIGHT_SCALE: f32 = 4_294_967_296.0;

/// Philox4x32-10 (Salmon et al., SC'11): 10 rounds over a 128-bit counter with a 64-bit key.
pub fn philox4x32_10(mut ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W0);
            k[1] = k[1].wrapping_add(PHILOX_W1);
        }
        let p0 = u64::from(PHILOX_M0) * u64::from(ctr[0]);
        let p1 = u64::from(PHILOX_M1) * u64::from(ctr[2]);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        ctr = [hi1 ^ ctr[1] ^ k[0], lo1, hi0 ^ ctr[3] ^ k[1], lo0];
    }
    ctr
}

/// The 32 random bits of `token` for one decoding step. One Philox call serves four consecutive
/// tokens (counter word 0 is `token / 4`), which is what a vectorised kernel thread needs.
pub fn token_bits(seed: u64, request_id: u64, step: u32, token: u32) -> u32 {
    let out = philox4x32_10(
        [token >> 2, step, request_id as u32, (request_id >> 32) as u32],
        [seed as u32, (seed >> 32) as u32],
    );
    out[(token & 3) as usize]
}

/// Maps 32 random bits to `u = (2j + 1) * 2^-24` with `j` the top 23 bits: exact in f32, never 0 or 1.
pub fn uniform_open(bits: u32) -> f32 {
    ((bits >> 9) as f32) * (1.0 / 8_388_608.0) + (1.0 / 16_777_216.0)
}

/// `ln x` for finite `x > 0` (fdlibm `__ieee754_logf`, branch-free core). Plain IEEE operations only,
/// mirrored by `lp_log` in the kernels so both give the same bits.
// The constants are fdlibm's/musl's decimal literals, shared verbatim with the kernel: both parse to the
// same f32, which is all that parity needs.
#[allow(clippy::excessive_precision)]
pub fn log_f32(x: f32) -> f32 {
    const LN2_HI: f32 = 6.931_381_225_6e-1;
    const LN2_LO: f32 = 9.058_000_614_5e-6;
    const LG1: f32 = 0.666_666_626_93;
    const LG2: f32 = 0.400_009_721_52;
    const LG3: f32 = 0.284_987_866_88;
    const LG4: f32 = 0.242_790_788_41;
    let mut bits = x.to_bits();
    let mut k: i32 = 0;
    if bits < 0x0080_0000 {
        // Subnormal: scale into the normal range first.
        k -= 25;
        bits = (x * 33_554_432.0).to_bits();
    }
    // Put the mantissa in [sqrt(2)/2, sqrt(2)).
    bits = bits.wrapping_add(0x3f80_0000 - 0x3f35_04f3);
    k += (bits >> 23) as i32 - 127;
    bits = (bits & 0x007f_ffff) + 0x3f35_04f3;
    let f = f32::from_bits(bits) - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * LG4);
    let t2 = z * (LG1 + w * LG3);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let dk = k as f32;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// `e^d` for `d` in `[-CANDIDATE_SPAN, 0]` (musl `expf` reduction and polynomial); plain IEEE
/// operations only, mirrored by `lp_exp` in the kernels.
#[allow(clippy::excessive_precision)]
pub fn exp_f32(d: f32) -> f32 {
    const LN2_HI: f32 = 6.931_457_519_5e-1;
    const LN2_LO: f32 = 1.428_606_765_3e-6;
    const INV_LN2: f32 = 1.442_695_021_6;
    const P1: f32 = 1.666_662_544_0e-1;
    const P2: f32 = -2.766_733_290_6e-3;
    let kf = (d * INV_LN2).round_ties_even();
    let k = kf as i32;
    let hi = d - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let x = hi - lo;
    let xx = x * x;
    let c = x - xx * (P1 + xx * P2);
    let y = 1.0 + (x * c / (2.0 - c) - lo + hi);
    // 2^k by construction; k >= -35 here, far from the subnormal range.
    y * f32::from_bits(((k + 127) as u32) << 23)
}

/// Standard Gumbel noise `-ln(-ln u)` of a token; bounded in `[-2.82, 16.64]` because `u` is.
pub fn gumbel(bits: u32) -> f32 {
    -log_f32(-log_f32(uniform_open(bits)))
}

/// Order-preserving map from f32 to u32 (larger float, larger key; -0 sorts just below +0).
pub fn ordered_key(z: f32) -> u32 {
    let b = z.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// Fixed-point top-p weight of a candidate `d = z - max` (d <= 0); zero below the candidate span.
pub fn weight(d: f32) -> u64 {
    if d < -CANDIDATE_SPAN {
        return 0;
    }
    (exp_f32(d) * WEIGHT_SCALE) as u64
}

/// bf16 → f32 is a 16-bit shift: bf16 is the top half of an f32.
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// f32 → bf16, round to nearest even (NaN kept quiet); used to build bf16 test inputs.
pub fn f32_to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) as u16) | 0x0040;
    }
    let rounding = 0x7fff + ((b >> 16) & 1);
    (b.wrapping_add(rounding) >> 16) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_matches_random123_known_answer() {
        // Known-answer vectors from Random123's kat_vectors for philox4x32_10.
        assert_eq!(philox4x32_10([0, 0, 0, 0], [0, 0]), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]);
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0]),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn log_is_accurate_over_the_gumbel_domain() {
        let mut worst = 0.0f64;
        for i in 0..200_000u32 {
            let x = uniform_open(i.wrapping_mul(2_654_435_761));
            for v in [x, -(x.ln())] {
                let got = f64::from(log_f32(v));
                let want = f64::from(v).ln();
                worst = worst.max((got - want).abs() / want.abs().max(1e-30));
            }
        }
        assert!(worst < 1e-6, "relative error {worst}");
        assert_eq!(log_f32(1.0), 0.0);
        assert!((log_f32(1e-40) - (1e-40f64.ln() as f32)).abs() < 1e-4);
    }

    #[test]
    fn exp_is_accurate_and_monotone_on_the_candidate_span() {
        let mut prev = 0.0f32;
        let mut d = -CANDIDATE_SPAN;
        while d <= 0.0 {
            let got = exp_f32(d);
            let want = f64::from(d).exp();
            assert!(((f64::from(got) - want) / want).abs() < 2e-7, "exp({d})");
            assert!(got >= prev, "exp not monotone at {d}");
            prev = got;
            d += 1.0 / 1024.0;
        }
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(weight(0.0), 1u64 << 32);
        assert_eq!(weight(-24.5), 0);
    }

    #[test]
    fn gumbel_bounds_hold_at_the_extremes() {
        let lo = gumbel(0);
        let hi = gumbel(u32::MAX);
        assert!(lo > -2.83 && lo < -2.80, "{lo}");
        assert!(hi > 16.6 && hi < 16.65, "{hi}");
        assert!(hi - lo + 2.0 < CANDIDATE_SPAN);
    }

    #[test]
    fn ordered_key_preserves_order() {
        let xs = [f32::NEG_INFINITY, -3.5, -1e-30, -0.0, 0.0, 1e-30, 2.0, f32::INFINITY];
        for w in xs.windows(2) {
            assert!(ordered_key(w[0]) < ordered_key(w[1]), "{} {}", w[0], w[1]);
        }
    }

    #[test]
    fn bf16_round_trip() {
        for x in [0.0f32, 1.0, -2.5, 3.140625, -(2.0f32.powi(66))] {
            assert_eq!(bf16_to_f32(f32_to_bf16(x)), x);
        }
        assert_eq!(bf16_to_f32(f32_to_bf16(1.0 + 2.0f32.powi(-8))), 1.0); // tie to even
        assert!(bf16_to_f32(f32_to_bf16(f32::NAN)).is_nan());
    }
}
