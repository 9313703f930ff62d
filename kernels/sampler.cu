// lexpro fused sampling kernels (issue 7). Compiled at run time by NVRTC (cudarc); no host headers.
//
// Two kernel families from one template: the original (one block per row) and the split kernels (a
// row's first pass spread over several blocks, the last one to finish completing the row; noise
// pruning in the draw), see sample_row and docs/SAMPLER.md. One launch per step for the whole batch;
// every result goes to a device buffer (no host sync inside, so the launch can be captured in a CUDA
// graph). The CPU twin in
// src/sample/cpu.rs is the specification: this file must reach the same token bit for bit.
// Exactness rests on: Philox4x32-10 noise keyed by (seed, request, step, token); our own exp/log
// written with explicitly rounded IEEE ops (__fadd_rn & co. are never contracted into FMAs);
// integer (fixed-point) sums for every top-p decision; ties broken by the lowest token id.
//
// Per row:
//  pass 1 (global): NaN / +inf / all-masked checks, M = max z (z = x * (1/T) + 0), greedy argmax,
//          and, when no cut is active, the Gumbel-max draw itself (pruned: a token with
//          z + 16.75 < the thread's best score cannot win).
//  pass 2 (global, only with top-k / top-p / min-p): a 1024-bin histogram over d = M - z of the
//          candidates (z >= M - 24) with exact counts and fixed-point weights. It locates the bin
//          holding each cut, hence the shortest prefix L (in value order) that holds every survivor.
//  pass 3 (global): L is compacted into shared memory when it fits (else later steps rescan the row
//          restricted to L: slower, same answer).
//  then on L: top-k by radix select (8-bit digits; ties by a second select on token ids), top-p by
//          weighted radix select, min-p by a float compare, and the Gumbel-max draw.

typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned short u16;

#define THREADS 512
#define WARPS (THREADS / 32)
#define NBINS 1024
#define CAP 4096
#define UNROLL 4
#define CANDIDATE_SPAN 24.0f
#define BIN_SCALE 42.6666679f   /* NBINS / CANDIDATE_SPAN, rounded to f32 */
#define GUMBEL_MAX 16.75f       /* > max of the noise (16.64) */
#define NQ 272                  /* prune table entries: d = bound - z quantised by 1/16, d < 17 */
#define PRUNE_MARGIN 0.01       /* prune table slack in noise units, >> the float error of G (~2e-5) */
#define WEIGHT_SCALE 4294967296.0f

#define FLAG_GREEDY 1u
#define FLAG_TOP_K 2u
#define FLAG_TOP_P 4u
#define FLAG_MIN_P 8u

// After the histogram: L fits in shared memory / top-p binds and only its boundary bin is refined in
// shared memory / no top-p or top-k decision is left (min-p only) / anything else, rescanning the row.
#define MODE_LIST 0u
#define MODE_REFINE 1u
#define MODE_DIRECT 2u
#define MODE_GENERIC 3u

#define CODE_ALL_MASKED (-1)
#define CODE_NAN (-2)
#define CODE_INF (-3)

// Must match RowPlan in src/sample/mod.rs (48 bytes, repr(C)).
struct RowPlan {
    float inv_temp;
    float top_p;
    float log_min_p;
    u32 top_k;
    u32 flags;
    u32 seed_lo, seed_hi;
    u32 req_lo, req_hi;
    u32 step;
    u32 pad0, pad1;
};
static_assert(sizeof(RowPlan) == 48, "RowPlan must match src/sample/mod.rs");

// ---------------------------------------------------------------- numerics (mirror src/sample/spec.rs)

__device__ __forceinline__ void philox4x32_10(u32 c[4], u32 k0, u32 k1) {
#pragma unroll
    for (int r = 0; r < 10; ++r) {
        if (r > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const u32 lo0 = 0xD2511F53u * c[0], hi0 = __umulhi(0xD2511F53u, c[0]);
        const u32 lo1 = 0xCD9E8D57u * c[2], hi1 = __umulhi(0xCD9E8D57u, c[2]);
        const u32 n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
    }
}

// Random bits of the four tokens 4g..4g+3 (counter word 0 = g, as token_bits in spec.rs).
// Out of line, like gumbel() and weight_of(): inlined into the unrolled row loops they blow the
// instruction cache (measured: ~50 us for one greedy row of 151,936 tokens).
__device__ __noinline__ void group_bits(const RowPlan& p, u32 g, u32 out[4]) {
    out[0] = g;
    out[1] = p.step;
    out[2] = p.req_lo;
    out[3] = p.req_hi;
    philox4x32_10(out, p.seed_lo, p.seed_hi);
}

__device__ __forceinline__ float uniform_open(u32 bits) {
    return __fadd_rn(__fmul_rn(__uint2float_rn(bits >> 9), 1.0f / 8388608.0f), 1.0f / 16777216.0f);
}

// fdlibm logf core, as log_f32 in spec.rs.
__device__ __forceinline__ float lp_log(float x) {
    const float LN2_HI = 6.9313812256e-01f, LN2_LO = 9.0580006145e-06f;
    const float LG1 = 0.66666662693f, LG2 = 0.40000972152f, LG3 = 0.28498786688f, LG4 = 0.24279078841f;
    u32 bits = __float_as_uint(x);
    int k = 0;
    if (bits < 0x00800000u) {
        k -= 25;
        bits = __float_as_uint(__fmul_rn(x, 33554432.0f));
    }
    bits += 0x3f800000u - 0x3f3504f3u;
    k += (int)(bits >> 23) - 127;
    bits = (bits & 0x007fffffu) + 0x3f3504f3u;
    const float f = __fsub_rn(__uint_as_float(bits), 1.0f);
    const float s = __fdiv_rn(f, __fadd_rn(2.0f, f));
    const float z = __fmul_rn(s, s);
    const float w = __fmul_rn(z, z);
    const float t1 = __fmul_rn(w, __fadd_rn(LG2, __fmul_rn(w, LG4)));
    const float t2 = __fmul_rn(z, __fadd_rn(LG1, __fmul_rn(w, LG3)));
    const float r = __fadd_rn(t2, t1);
    const float hfsq = __fmul_rn(__fmul_rn(0.5f, f), f);
    const float dk = (float)k;
    // s*(hfsq+r) + dk*LN2_LO - hfsq + f + dk*LN2_HI, left to right.
    float acc = __fmul_rn(s, __fadd_rn(hfsq, r));
    acc = __fadd_rn(acc, __fmul_rn(dk, LN2_LO));
    acc = __fsub_rn(acc, hfsq);
    acc = __fadd_rn(acc, f);
    return __fadd_rn(acc, __fmul_rn(dk, LN2_HI));
}

// musl expf core for d in [-24, 0], as exp_f32 in spec.rs.
__device__ __forceinline__ float lp_exp(float d) {
    const float LN2_HI = 6.9314575195e-01f, LN2_LO = 1.4286067653e-06f, INV_LN2 = 1.4426950216e+00f;
    const float P1 = 1.6666625440e-1f, P2 = -2.7667332906e-3f;
    const float kf = rintf(__fmul_rn(d, INV_LN2));
    const int k = (int)kf;
    const float hi = __fsub_rn(d, __fmul_rn(kf, LN2_HI));
    const float lo = __fmul_rn(kf, LN2_LO);
    const float x = __fsub_rn(hi, lo);
    const float xx = __fmul_rn(x, x);
    const float c = __fsub_rn(x, __fmul_rn(xx, __fadd_rn(P1, __fmul_rn(xx, P2))));
    // 1 + (x*c/(2-c) - lo + hi)
    float t = __fdiv_rn(__fmul_rn(x, c), __fsub_rn(2.0f, c));
    t = __fsub_rn(t, lo);
    t = __fadd_rn(t, hi);
    const float y = __fadd_rn(1.0f, t);
    return __fmul_rn(y, __uint_as_float((u32)(k + 127) << 23));
}

__device__ __noinline__ float gumbel(u32 bits) {
    return -lp_log(-lp_log(uniform_open(bits)));
}

__device__ __noinline__ u64 weight_of(float d) {
    if (d < -CANDIDATE_SPAN) return 0ull;
    return __float2ull_rz(__fmul_rn(lp_exp(d), WEIGHT_SCALE));
}

__device__ __forceinline__ u32 okey(float z) {
    const u32 b = __float_as_uint(z);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ float from_okey(u32 k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// (value, id) packed so that the u64 maximum is the largest value, then the lowest id.
// `+ 0` makes -0 and +0 the same key, as float equality in the CPU twin.
__device__ __forceinline__ u64 pack_best(float v, u32 id) {
    return ((u64)okey(__fadd_rn(v, 0.0f)) << 32) | (u64)(~id);
}

__device__ __forceinline__ float scaled(float x, float inv_t) {
    return __fadd_rn(__fmul_rn(x, inv_t), 0.0f);
}

__device__ __forceinline__ u32 bin_of(float M, float z) {
    const float t = __fmul_rn(__fsub_rn(M, z), BIN_SCALE);
    const u32 b = __float2uint_rz(t);
    return b < NBINS - 1 ? b : NBINS - 1;
}

// ---------------------------------------------------------------- loads

__device__ __forceinline__ float ld1(const float* p, u32 i) { return p[i]; }
__device__ __forceinline__ float ld1(const u16* p, u32 i) { return __uint_as_float((u32)p[i] << 16); }

// The four values of group g (tokens 4g..4g+3); lanes past V are left at 0 and masked out by the caller.
__device__ __forceinline__ void ld4(const float* row, u32 g, u32 V, bool vec, float x[4]) {
    if (vec) {
        const float4 v = reinterpret_cast<const float4*>(row)[g];
        x[0] = v.x; x[1] = v.y; x[2] = v.z; x[3] = v.w;
    } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) x[j] = (4 * g + j < V) ? row[4 * g + j] : 0.0f;
    }
}

__device__ __forceinline__ void ld4(const u16* row, u32 g, u32 V, bool vec, float x[4]) {
    if (vec) {
        const uint2 v = reinterpret_cast<const uint2*>(row)[g];
        x[0] = __uint_as_float(v.x << 16);
        x[1] = __uint_as_float(v.x & 0xffff0000u);
        x[2] = __uint_as_float(v.y << 16);
        x[3] = __uint_as_float(v.y & 0xffff0000u);
    } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) x[j] = (4 * g + j < V) ? ld1(row, 4 * g + j) : 0.0f;
    }
}

// Allowed-bits of group g: 4 mask bits, cut at V.
__device__ __forceinline__ u32 group_allowed(const u32* mask, u32 g, u32 V) {
    u32 bits = mask ? (__ldg(mask + (g >> 3)) >> ((g & 7u) * 4u)) & 0xFu : 0xFu;
    const u32 base = 4u * g;
    if (base + 4u > V) bits &= (1u << (V - base)) - 1u;
    return bits;
}

// Loads the groups g0, g0 + THREADS, … (UNROLL of them, those below `groups`) with every load issued before the
// first use: with one load in flight per thread the passes are latency-bound, not bandwidth-bound. al[u] = 0 for
// a group past the end.
template <class T>
__device__ __forceinline__ void load_groups(const T* row, const u32* mask, u32 V, bool vec, u32 g0, u32 groups,
                                            float x[UNROLL][4], u32 al[UNROLL]) {
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) {
        const u32 g = g0 + (u32)u * THREADS;
        al[u] = 0u;
        if (g < groups) {
            al[u] = group_allowed(mask, g, V);
            ld4(row, g, V, vec, x[u]);
        }
    }
}

// Visits the row's groups of 4 tokens [gb, groups), UNROLL groups per thread per step (the split kernels give
// each block of a row one slice).
template <class T, class F>
__device__ __forceinline__ void for_groups_in(const T* row, const u32* mask, u32 V, bool vec, u32 gb, u32 groups,
                                              F f) {
    for (u32 g0 = gb + threadIdx.x; g0 < groups; g0 += THREADS * UNROLL) {
        float x[UNROLL][4];
        u32 al[UNROLL];
        load_groups(row, mask, V, vec, g0, groups, x, al);
#pragma unroll
        for (int u = 0; u < UNROLL; ++u)
            if (al[u]) f(g0 + (u32)u * THREADS, al[u], x[u]);
    }
}

template <class T, class F>
__device__ __forceinline__ void for_groups(const T* row, const u32* mask, u32 V, bool vec, F f) {
    for_groups_in(row, mask, V, vec, 0u, (V + 3u) / 4u, f);
}

// ---------------------------------------------------------------- block helpers

// The block's shared state and its dynamic shared memory (the candidate list). Under the host emulator
// (tests/emu/cuda_emu.h) they come from the emulator's per-block storage instead.
#ifndef LEXPRO_EMU
#define LEXPRO_BLOCK_SHARED(s, dyn) \
    __shared__ Shared s;            \
    extern __shared__ u32 dyn[]
#else
#define LEXPRO_BLOCK_SHARED(s, dyn)   \
    Shared& s = *emu_shared<Shared>(); \
    u32* dyn = emu_dynamic_shared()
#endif

// An invariant the host emulator checks (the emulated run fails with `why`); nothing on the device.
#ifndef LEXPRO_EMU
#define LEXPRO_EMU_INVARIANT(cond, why) ((void)0)
#else
#define LEXPRO_EMU_INVARIANT(cond, why) \
    do {                                \
        if (!(cond)) emu::fail(why);    \
    } while (0)
#endif

struct Shared {
    u64 best;
    u32 flags;
    u32 n_list;
    u32 sel_digit;
    u32 sel_above;      // count above the selected digit (count select)
    u64 sel_above_w;    // weight above the selected digit (weighted select)
    u32 sel_found;
    u32 eq_count;
    u32 mode;           // how the cut stage runs, see MODE_*
    u32 n_bnd;          // tokens in the boundary bin (MODE_REFINE)
    u64 acc_bnd;        // weight of the bins above it (MODE_REFINE)
    u32 last;           // split kernels: this block is the last of its row to finish pass 1
    u32 loc_bk;         // locate_cuts: the top-k bin (NBINS: none)
    u32 loc_bp;         // locate_cuts: the top-p bin (NBINS: none found)
    u32 loc_len;        // locate_cuts: |L|
    u64 loc_acc;        // locate_cuts: the weight above the top-p bin
    u32 scan_c[WARPS];  // locate_cuts: per-warp candidate counts
    u64 scan_w[WARPS];  // locate_cuts: per-warp weights
    u32 cnt[NBINS];
    u64 wt[NBINS];
    u32 jmin[NQ];       // split kernels: noise prune table, see init_prune_table
};

// Prune table (split kernels only). jmin[q] is a 23-bit noise index below which G(j) < q/16 - 0.01 for
// certain (computed in f64 from the inverse G^-1(g) = exp(-exp(-g)), u_j = (2j+1) 2^-24, with one
// more index of slack). The float G of a token differs from the true one by ~2e-5, far below the margin.
__device__ void init_prune_table(Shared& s) {
    for (u32 q = threadIdx.x; q < NQ; q += THREADS) {
        const double g = (double)q * 0.0625 - PRUNE_MARGIN;
        const double u = exp(-exp(-g));
        const double jr = (u * 16777216.0 - 1.0) * 0.5;
        s.jmin[q] = jr < 2.0 ? 0u : (u32)(floor(jr) - 1.0);
    }
}

// True when the score z + G(bits) is certainly below `bound` (a real score of a surviving token), so
// the token cannot win and its noise need not be computed. Only the 23 noise bits are looked at, not
// the two logarithms. Why it is safe: skip => G_true(u_j) < q/16 - 0.01 <= (bound - z) - 0.0098
// (d = bound - z is rounded by at most 2^-13 when |bound| < 2048, z >= bound - 16.75), so
// z + G_float < bound - 0.0097 in exact arithmetic and its f32 rounding (half ulp <= 2^-13) stays
// strictly below bound: no tie is ever skipped.
__device__ __forceinline__ bool noise_cannot_reach(const Shared& s, float bound, float z, u32 bits) {
    if (!(fabsf(bound) < 2048.0f)) return false;
    const float d = __fsub_rn(bound, z);
    if (!(d >= 0.0f)) return false;
    u32 q = __float2uint_rz(__fmul_rn(d, 16.0f));
    q = q < NQ - 1 ? q : NQ - 1;
    return (bits >> 9) < s.jmin[q];
}

__device__ __forceinline__ u64 warp_max_u64(u64 v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const u64 w = __shfl_xor_sync(0xffffffffu, v, o);
        v = w > v ? w : v;
    }
    return v;
}

// Block-wide max of a packed (value, id); every thread gets the result.
__device__ u64 block_max_u64(Shared& s, u64 v) {
    __syncthreads();
    if (threadIdx.x == 0) s.best = 0ull;
    __syncthreads();
    v = warp_max_u64(v);
    if ((threadIdx.x & 31) == 0 && v != 0ull) atomicMax(&s.best, v);
    __syncthreads();
    return s.best;
}

// Scans bins from the top (highest digit first) in warp 0 and finds the first digit where the running
// total reaches the goal. Count form: goal is a rank k. Result in s.sel_digit / s.sel_above; found flag.
__device__ void find_digit_count(Shared& s, u32 nbins_digit, u32 k) {
    if (threadIdx.x < 32) {
        const u32 lane = threadIdx.x;
        const u32 per = nbins_digit / 32;
        const u32 hi = nbins_digit - lane * per;  // this lane owns digits [hi - per, hi)
        u32 sum = 0;
        for (u32 b = hi - per; b < hi; ++b) sum += s.cnt[b];
        u32 incl = sum;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const u32 t = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= (u32)o) incl += t;
        }
        const unsigned ballot = __ballot_sync(0xffffffffu, incl >= k);
        if (lane == 0 && ballot == 0u) s.sel_found = 0;
        if (ballot != 0u && lane == (u32)(__ffs(ballot) - 1)) {
            u32 above = incl - sum;
            for (u32 b = hi; b-- > hi - per;) {
                if (above + s.cnt[b] >= k) {
                    s.sel_digit = b;
                    s.sel_above = above;
                    s.eq_count = s.cnt[b];
                    s.sel_found = 1;
                    break;
                }
                above += s.cnt[b];
            }
        }
    }
    __syncthreads();
}

// Weighted form: first digit from the top where acc + (weight of digits >= it) >= target.
__device__ void find_digit_weight(Shared& s, u32 nbins_digit, u64 acc, double target) {
    if (threadIdx.x < 32) {
        const u32 lane = threadIdx.x;
        const u32 per = nbins_digit / 32;
        const u32 hi = nbins_digit - lane * per;
        u64 sum = 0;
        for (u32 b = hi - per; b < hi; ++b) sum += s.wt[b];
        u64 incl = sum;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const u64 t = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= (u32)o) incl += t;
        }
        const unsigned ballot = __ballot_sync(0xffffffffu, (double)(acc + incl) >= target);
        if (lane == 0 && ballot == 0u) s.sel_found = 0;
        if (ballot != 0u && lane == (u32)(__ffs(ballot) - 1)) {
            u64 above = acc + incl - sum;
            for (u32 b = hi; b-- > hi - per;) {
                if ((double)(above + s.wt[b]) >= target) {
                    s.sel_digit = b;
                    s.sel_above_w = above;
                    s.sel_found = 1;
                    break;
                }
                above += s.wt[b];
            }
        }
    }
    __syncthreads();
}

// ---------------------------------------------------------------- element sources for the cut stage

// The compacted list L in shared memory.
struct ListSrc {
    const u32* ids;
    const float* zs;
    u32 n;
    template <class F>
    __device__ __forceinline__ void each(F f) const {
        for (u32 j = threadIdx.x; j < n; j += THREADS) f(ids[j], zs[j]);
    }
    // Warp-uniform visit for the radix selects: every lane of a warp calls f(in, id, z) the same
    // number of times (in = false past the end), so f may use warp intrinsics (warp_add).
    template <class F>
    __device__ __forceinline__ void each_warp(F f) const {
        const u32 lane = threadIdx.x & 31u;
        for (u32 j0 = threadIdx.x - lane; j0 < n; j0 += THREADS) {
            const u32 j = j0 + lane;
            const bool in = j < n;
            f(in, in ? ids[j] : 0u, in ? zs[j] : 0.0f);
        }
    }
};

// L read straight from the row (when it does not fit in shared memory), or from a slice of it.
template <class T>
struct RowSrc {
    const T* row;
    const u32* mask;
    u32 V;
    bool vec;
    float inv_t, cut, M;
    u32 bmax;
    u32 gb, ge;  // the groups visited: the whole row, or one block's slice (wide kernels)
    template <class F>
    __device__ __forceinline__ void each(F f) const {
        for_groups_in(row, mask, V, vec, gb, ge, [&](u32 g, u32 allowed, const float* x) {
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                if (!((allowed >> j) & 1u)) continue;
                const float z = scaled(x[j], inv_t);
                if (z >= cut && bin_of(M, z) <= bmax) f(4u * g + (u32)j, z);
            }
        });
    }
    // Warp-uniform visit (see ListSrc::each_warp): the loop bounds depend on the warp, not the lane.
    template <class F>
    __device__ __forceinline__ void each_warp(F f) const {
        const u32 lane = threadIdx.x & 31u;
        for (u32 w0 = gb + threadIdx.x - lane; w0 < ge; w0 += THREADS * UNROLL) {
            float x[UNROLL][4];
            u32 al[UNROLL];
            load_groups(row, mask, V, vec, w0 + lane, ge, x, al);
#pragma unroll
            for (int u = 0; u < UNROLL; ++u) {
                if (!__ballot_sync(0xffffffffu, al[u] != 0u)) continue;  // warp-uniform skip
                const u32 g = w0 + (u32)u * THREADS + lane;
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const bool a = (al[u] >> j) & 1u;
                    const float z = a ? scaled(x[u][j], inv_t) : 0.0f;
                    f(a && z >= cut && bin_of(M, z) <= bmax, 4u * g + (u32)j, z);
                }
            }
        }
    }
};

// The wide draw of MODE_REFINE: a RowSrc whose bmax is the top-p boundary bin, visited once. Tokens in
// that bin are appended to the block's shared list (s.n_list) instead of being passed on; the tokens of
// the bins above it are passed to f. Only `each` (the draw's visit) is provided.
template <class T>
struct RefineSrc {
    RowSrc<T> row;
    Shared* s;
    u32* ids;
    float* zs;
    template <class F>
    __device__ __forceinline__ void each(F f) const {
        row.each([&](u32 id, float z) {
            if (bin_of(row.M, z) == row.bmax) {
                const u32 slot = atomicAdd(&s->n_list, 1u);
                ids[slot] = id;
                zs[slot] = z;
            } else {
                f(id, z);
            }
        });
    }
};

// Adds v to bins[d] for every lane with `live` set; called by all 32 lanes of a warp together. The
// lanes that share the first live lane's digit (then those sharing the next one's) are summed in
// registers and added by one atomic: at the high radix levels nearly every element of a select has the
// same digit, and one shared atomic per element would queue them all on one address (measured on an
// H200: 95k cycles of a single block for 1,286 elements). The rest add directly. Integer sums: exact,
// so the order cannot change a result.
template <class V>
__device__ __forceinline__ void warp_add(V* bins, u32 d, V v, bool live) {
    const u32 lane = threadIdx.x & 31u;
    unsigned todo = __ballot_sync(0xffffffffu, live);
    for (int round = 0; round < 2 && todo; ++round) {
        const u32 leader = (u32)(__ffs((int)todo) - 1);
        const u32 dl = __shfl_sync(0xffffffffu, d, (int)leader);
        const bool mine = ((todo >> lane) & 1u) && d == dl;
        V sum = mine ? v : (V)0;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
        if (lane == leader && sum) atomicAdd(bins + dl, sum);
        todo &= ~__ballot_sync(0xffffffffu, mine);
    }
    if ((todo >> lane) & 1u) atomicAdd(bins + d, v);
}

// k-th largest key (k >= 1) among the elements `keyf` accepts; 8-bit radix, 4 levels.
// Returns the key; *rank_in_ties = how many elements equal to it belong to the top k; *eq = how many
// elements equal it. Requires at least k accepted elements.
template <class Src, class KeyF>
__device__ u32 select_kth(Shared& s, const Src& src, KeyF keyf, u32 k, u32* rank_in_ties, u32* eq) {
    u32 prefix = 0, pmask = 0;
    for (int level = 0; level < 4; ++level) {
        const u32 shift = 24u - 8u * (u32)level;
        for (u32 b = threadIdx.x; b < 256; b += THREADS) s.cnt[b] = 0;
        __syncthreads();
        src.each_warp([&](bool in, u32 id, float z) {
            u32 key = 0u;
            const bool live = in && keyf(id, z, key) && (key & pmask) == prefix;
            warp_add(s.cnt, (key >> shift) & 255u, 1u, live);
        });
        __syncthreads();
        find_digit_count(s, 256, k);
        // The caller guarantees k accepted elements, so a digit is always found.
        const u32 d = s.sel_digit;
        k -= s.sel_above;
        prefix |= d << shift;
        pmask |= 255u << shift;
        *eq = s.eq_count;
        __syncthreads();
    }
    *rank_in_ties = k;
    return prefix;
}

// Largest key t such that the weight of accepted elements with key >= t reaches `target`; 0 (keep
// everything) when their total weight stays below it.
template <class Src, class KeyF>
__device__ u32 select_weighted(Shared& s, const Src& src, KeyF keyf, double target, u64 acc0) {
    u32 prefix = 0, pmask = 0;
    u64 acc = acc0;
    for (int level = 0; level < 4; ++level) {
        const u32 shift = 24u - 8u * (u32)level;
        for (u32 b = threadIdx.x; b < 256; b += THREADS) s.wt[b] = 0;
        __syncthreads();
        src.each_warp([&](bool in, u32 id, float z) {
            u32 key = 0u;
            u64 w = 0ull;
            const bool live = in && keyf(id, z, key, w) && (key & pmask) == prefix && w != 0ull;
            warp_add(s.wt, (key >> shift) & 255u, w, live);
        });
        __syncthreads();
        find_digit_weight(s, 256, acc, target);
        if (!s.sel_found) return 0u;
        const u32 d = s.sel_digit;
        acc = s.sel_above_w;
        prefix |= d << shift;
        pmask |= 255u << shift;
        __syncthreads();
    }
    return prefix;
}

// Lists of at most SMALL_LIST elements take the direct selects below: one element per thread, its
// position or its weight from the top counted by one loop over the list. Same results as the radix
// selects, with two barriers instead of about sixteen: the short lists of the finishing block (a top-p
// boundary bin, L after a top-k cut) are latency-bound, not work-bound (Nsight, stop 12).
#define SMALL_LIST 256

// The top-k cut of a short list: the element at position k - 1 (0-based) in the order (key desc, id
// asc) gives vk (its key) and idcut (its id), so "key > vk or (key == vk and id <= idcut)" keeps exactly
// positions 0..k-1, as the radix select's (vk, idcut) do. Requires 1 <= k <= n and distinct ids.
__device__ void topk_cut_small(Shared& s, const ListSrc& src, u32 k, u32* vk, u32* idcut) {
    const u32 j = threadIdx.x;
    const u32 n = src.n;
    __syncthreads();  // s.cnt may still be read by the caller's previous step
    if (j < n) s.cnt[j] = okey(src.zs[j]);
    __syncthreads();
    if (j < n) {
        const u32 kj = s.cnt[j];
        const u32 idj = src.ids[j];
        u32 pos = 0u;
        for (u32 i = 0; i < n; ++i) {
            const u32 ki = s.cnt[i];
            pos += (ki > kj || (ki == kj && src.ids[i] < idj)) ? 1u : 0u;
        }
        if (pos == k - 1u) {
            s.sel_digit = kj;
            s.sel_above = idj;
        }
    }
    __syncthreads();
    *vk = s.sel_digit;
    *idcut = s.sel_above;
    __syncthreads();
}

// select_weighted on a short list: the largest accepted key k with acc0 + (weight of accepted keys
// >= k) >= target, 0 when there is none. The radix select's answer is always such a key (a larger
// threshold that is no element's key keeps the same elements), so the two agree. Integer sums of the
// same terms, compared in double as there.
template <class KeyF>
__device__ u32 select_weighted_small(Shared& s, const ListSrc& src, KeyF keyf, double target, u64 acc0) {
    const u32 j = threadIdx.x;
    const u32 n = src.n;
    u32 kj = 0u;
    u64 wj = 0ull;
    if (j < n && !keyf(src.ids[j], src.zs[j], kj, wj)) {
        kj = 0u;
        wj = 0ull;
    }
    __syncthreads();  // s.cnt / s.wt may still be read by the caller's previous step
    if (j < n) {
        s.cnt[j] = kj;
        s.wt[j] = wj;
    }
    if (j == 0u) s.sel_digit = 0u;
    __syncthreads();
    if (j < n && wj != 0ull) {
        u64 sum = acc0;
        for (u32 i = 0; i < n; ++i) sum += s.cnt[i] >= kj ? s.wt[i] : 0ull;
        if ((double)sum >= target) atomicMax(&s.sel_digit, kj);
    }
    __syncthreads();
    const u32 t = s.sel_digit;
    __syncthreads();
    return t;
}

// The top-k cut (vk, idcut) over any source: two radix selects (the second on ids for ties at vk).
template <class Src>
__device__ void topk_cut(Shared& s, const Src& src, u32 k, u32* vk, u32* idcut) {
    u32 rank, eq;
    *vk = select_kth(s, src, [](u32, float z, u32& key) { key = okey(z); return true; }, k, &rank, &eq);
    *idcut = 0xffffffffu;
    if (eq > rank) {
        u32 r2, e2;
        const u32 v = *vk;
        const u32 inv = select_kth(
            s, src,
            [v](u32 id, float z, u32& key) {
                key = ~id;
                return okey(z) == v;
            },
            rank, &r2, &e2);
        *idcut = ~inv;
    }
}

// A short list takes the direct form.
__device__ void topk_cut(Shared& s, const ListSrc& src, u32 k, u32* vk, u32* idcut) {
    if (src.n <= SMALL_LIST) {
        topk_cut_small(s, src, k, vk, idcut);
        return;
    }
    topk_cut<ListSrc>(s, src, k, vk, idcut);
}

// The top-p threshold t* over any source (select_weighted), or the direct form on a short list.
template <class Src, class KeyF>
__device__ u32 top_p_threshold(Shared& s, const Src& src, KeyF keyf, double target, u64 acc0) {
    return select_weighted(s, src, keyf, target, acc0);
}

template <class KeyF>
__device__ u32 top_p_threshold(Shared& s, const ListSrc& src, KeyF keyf, double target, u64 acc0) {
    if (src.n <= SMALL_LIST) return select_weighted_small(s, src, keyf, target, acc0);
    return select_weighted(s, src, keyf, target, acc0);
}

// Gumbel-max draw over the survivors: key > vk or (key == vk and id <= idcut) [top-k], key >= tstar
// [top-p], z >= floor_z [min-p]. A token with z + 16.75 < M - 2.83 is skipped without computing its
// noise: its score is below that of the row maximum, which always survives and scores >= M - 2.82.
//
// PRUNE (split kernels): every thread starts from the score of `arg`, the row's argmax token (lowest
// id), which survives every cut; the bound then rises with the thread's best score. A token whose
// noise bits show that it cannot reach the bound skips the two logarithms (noise_cannot_reach), and
// the Philox call is shared by the four tokens of a group when they come in order (row sources).
// Returns the block's best packed (score, id), 0 when no survivor was seen (never with PRUNE, which
// starts from `arg`).
template <bool PRUNE, class Src>
__device__ u64 draw_best(Shared& s, const Src& src, const RowPlan& p, float M, u32 vk, u32 idcut, u32 tstar,
                         float floor_z, u32 arg) {
    const float hopeless = __fsub_rn(M, 2.83f);
    u64 best = 0ull;
    float bound = hopeless;
    u32 cg = 0xffffffffu;
    u32 cb[4];
    if (PRUNE) {
        group_bits(p, arg >> 2, cb);
        cg = arg >> 2;
        bound = __fadd_rn(M, gumbel(cb[arg & 3u]));
        best = pack_best(bound, arg);
    }
    src.each([&](u32 id, float z) {
        const u32 key = okey(z);
        if (!(key > vk || (key == vk && id <= idcut)) || key < tstar || !(z >= floor_z)) return;
        if (__fadd_rn(z, GUMBEL_MAX) < bound) return;
        if (PRUNE) {
            if ((id >> 2) != cg) {
                cg = id >> 2;
                group_bits(p, cg, cb);
            }
            const u32 bits = cb[id & 3u];
            if (noise_cannot_reach(s, bound, z, bits)) return;
            const float score = __fadd_rn(z, gumbel(bits));
            const u64 pk = pack_best(score, id);
            if (pk > best) {
                best = pk;
                bound = score;
            }
            return;
        }
        u32 c[4];
        group_bits(p, id >> 2, c);
        const float score = __fadd_rn(z, gumbel(c[id & 3u]));
        const u64 pk = pack_best(score, id);
        best = pk > best ? pk : best;
    });
    return block_max_u64(s, best);
}

// The drawn token, as a result code.
template <bool PRUNE, class Src>
__device__ int draw(Shared& s, const Src& src, const RowPlan& p, float M, u32 vk, u32 idcut, u32 tstar,
                    float floor_z, u32 arg) {
    const u64 best = draw_best<PRUNE>(s, src, p, M, vk, idcut, tstar, floor_z, arg);
    return best ? (int)(~(u32)best) : CODE_ALL_MASKED;
}

// top-k → top-p → min-p → Gumbel draw over L. `n_list` = |L|; `w_all` = weight of all candidates.
template <bool PRUNE, class Src>
__device__ int cut_and_draw(Shared& s, const Src& src, const RowPlan& p, float M, u32 n_list, bool topk_live,
                            u64 w_all, u32 arg) {
    // top-k
    const bool topk = topk_live && p.top_k < n_list;
    u32 vk = 0, idcut = 0xffffffffu;
    if (topk) topk_cut(s, src, p.top_k, &vk, &idcut);
    auto in_k = [vk, idcut](u32 id, u32 key) { return key > vk || (key == vk && id <= idcut); };

    // top-p
    u32 tstar = 0;
    if (p.flags & FLAG_TOP_P) {
        u64 W = w_all;
        if (topk_live) {
            u64 mine = 0;
            src.each([&](u32 id, float z) {
                if (in_k(id, okey(z))) mine += weight_of(__fsub_rn(z, M));
            });
            // Integer sum: the order of the reduction cannot change it.
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) mine += __shfl_xor_sync(0xffffffffu, mine, o);
            __syncthreads();
            if (threadIdx.x == 0) s.sel_above_w = 0;
            __syncthreads();
            if ((threadIdx.x & 31) == 0) atomicAdd(&s.sel_above_w, mine);
            __syncthreads();
            W = s.sel_above_w;
            __syncthreads();
        }
        const double target = (double)p.top_p * (double)W;
        tstar = top_p_threshold(
            s, src,
            [&](u32 id, float z, u32& key, u64& w) {
                key = okey(z);
                if (!in_k(id, key)) return false;
                w = weight_of(__fsub_rn(z, M));
                return true;
            },
            target, 0ull);
    }

    // min-p
    const float floor_z = (p.flags & FLAG_MIN_P) ? __fadd_rn(M, p.log_min_p) : __uint_as_float(0xff800000u);

    return draw<PRUNE>(s, src, p, M, vk, idcut, tstar, floor_z, arg);
}

// Pass 2 over the groups [gb, ge): a 1024-bin histogram over d = M - z of the candidates (z >= cut) with
// exact counts and fixed-point weights, in s.cnt / s.wt (zeroed first).
template <class T>
__device__ __forceinline__ void candidate_histogram(Shared& s, const T* row, const u32* mask, u32 V, bool vec, u32 gb,
                                                    u32 ge, const RowPlan& p, float M, float cut) {
    for (u32 b = threadIdx.x; b < NBINS; b += THREADS) {
        s.cnt[b] = 0;
        s.wt[b] = 0;
    }
    __syncthreads();
    for_groups_in(row, mask, V, vec, gb, ge, [&](u32 g, u32 allowed, const float* x) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            if (!((allowed >> j) & 1u)) continue;
            const float z = scaled(x[j], p.inv_temp);
            if (!(z >= cut)) continue;
            const u32 b = bin_of(M, z);
            atomicAdd(&s.cnt[b], 1u);
            const u64 w = weight_of(__fsub_rn(z, M));
            if (w) atomicAdd(&s.wt[b], w);
        }
    });
    __syncthreads();
}

// Appends to the block's shared list (s.n_list, counted from its current value) the candidates of groups
// [gb, ge) in bins <= bmax (`whole`, L of MODE_LIST) or in bin bmax only (the top-p boundary bin of
// MODE_REFINE). The order of the list is irrelevant: everything after it is order-free.
template <class T>
__device__ __forceinline__ void compact_bins(Shared& s, u32* list_ids, float* list_zs, const T* row, const u32* mask,
                                             u32 V, bool vec, u32 gb, u32 ge, const RowPlan& p, float M, float cut,
                                             u32 bmax, bool whole) {
    for_groups_in(row, mask, V, vec, gb, ge, [&](u32 g, u32 allowed, const float* x) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            if (!((allowed >> j) & 1u)) continue;
            const float z = scaled(x[j], p.inv_temp);
            if (!(z >= cut)) continue;
            const u32 b = bin_of(M, z);
            if (whole ? b > bmax : b != bmax) continue;
            const u32 slot = atomicAdd(&s.n_list, 1u);
            list_ids[slot] = 4u * g + (u32)j;
            list_zs[slot] = z;
        }
    });
    __syncthreads();
}

// From the histogram in s.cnt / s.wt, locates the bins of the cuts and chooses how the cut stage runs. Every
// thread takes two adjacent bins; one block-wide scan of counts and weights (integers: exact, order-free)
// gives each bin its cumulative count and weight from the top, and the bin where a cumulative sum first
// reaches its goal is found by the one thread that owns it (five barriers; this was a serial scan of the
// 1,024 bins by warp 0, on the critical path of every row with cuts). Leaves in shared memory: sel_digit =
// bmax (last bin of L), sel_found = top-k live, sel_above_w = weight of all candidates, eq_count = |L|,
// mode, n_bnd / acc_bnd (the top-p boundary bin's size and the weight above it); n_list = 0.
//
// The mode: LIST when L fits in shared memory, else REFINE or DIRECT when they apply, else GENERIC. `wide`
// (the wide kernels, whose draw launch spreads the row over blocks) prefers DIRECT, then REFINE, to LIST:
// there the blocks draw over the tokens that survive whatever the cuts decide, and the one finishing
// block is left the boundary bin (REFINE) or nothing (DIRECT) instead of all of L.
__device__ __forceinline__ void locate_cuts(Shared& s, const RowPlan& p, float M, float cut, bool wide) {
    static_assert(NBINS == 2 * THREADS, "locate_cuts gives each thread two bins");
    const u32 t = threadIdx.x;
    const u32 lane = t & 31u;
    const u32 warp = t >> 5;
    const u32 b0 = 2u * t;
    const u32 c0 = s.cnt[b0], c1 = s.cnt[b0 + 1u];
    const u64 w0 = s.wt[b0], w1 = s.wt[b0 + 1u];
    u32 ci = c0 + c1;
    u64 wi = w0 + w1;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const u32 tc = __shfl_up_sync(0xffffffffu, ci, o);
        const u64 tw = __shfl_up_sync(0xffffffffu, wi, o);
        if (lane >= (u32)o) {
            ci += tc;
            wi += tw;
        }
    }
    if (lane == 31u) {
        s.scan_c[warp] = ci;
        s.scan_w[warp] = wi;
    }
    if (t == 0u) {
        s.loc_bk = NBINS;
        s.loc_bp = NBINS;
        s.loc_acc = 0ull;
        s.loc_len = 0u;
    }
    __syncthreads();
    u32 n_cand = 0u, c_before = 0u;
    u64 w_all = 0ull, w_before = 0ull;
    for (u32 k = 0; k < WARPS; ++k) {
        if (k < warp) {
            c_before += s.scan_c[k];
            w_before += s.scan_w[k];
        }
        n_cand += s.scan_c[k];
        w_all += s.scan_w[k];
    }
    const u32 c_incl = c_before + ci;     // candidates in bins <= b0 + 1
    const u32 c_excl = c_incl - c0 - c1;  // candidates in bins < b0
    const u64 w_incl = w_before + wi;
    const u64 w_excl = w_incl - w0 - w1;

    // top-k bin: the first bin where the count from the top reaches k.
    if ((p.flags & FLAG_TOP_K) && p.top_k >= 1u && p.top_k <= n_cand && c_excl < p.top_k && p.top_k <= c_incl)
        s.loc_bk = c_excl + c0 >= p.top_k ? b0 : b0 + 1u;
    __syncthreads();
    const u32 bk = s.loc_bk;
    const bool topk_live = bk < NBINS;
    const bool top_p = (p.flags & FLAG_TOP_P) && !topk_live;

    // top-p bin: the first bin where the weight from the top reaches the target (compared in double, as
    // the selects do; the cumulative weight only grows, so exactly one bin is first).
    if (top_p) {
        const double target = (double)p.top_p * (double)w_all;
        const bool by0 = (double)(w_excl + w0) >= target;
        const bool by1 = (double)w_incl >= target;
        if (by0 && !((double)w_excl >= target)) {
            s.loc_bp = b0;
            s.loc_acc = w_excl;
        } else if (by1 && !by0) {
            s.loc_bp = b0 + 1u;
            s.loc_acc = w_excl + w0;
        }
    }
    __syncthreads();
    u32 bmax = topk_live ? bk : NBINS - 1u;
    u32 bp = NBINS;      // top-p boundary bin (when top-k is not live)
    u64 acc_bp = 0ull;   // weight of the bins above bp
    u32 bm = NBINS - 1u; // min-p boundary bin
    if (top_p) {
        // Never unreached (the target is at most the total); the last bin if it were.
        bp = s.loc_bp < NBINS ? s.loc_bp : NBINS - 1u;
        acc_bp = s.loc_bp < NBINS ? s.loc_acc : 0ull;
        bmax = bp < bmax ? bp : bmax;
    }
    if ((p.flags & FLAG_MIN_P) && !((p.flags & FLAG_TOP_P) && topk_live)) {
        const float floor_z = __fadd_rn(M, p.log_min_p);
        bm = floor_z >= cut ? bin_of(M, floor_z) : NBINS - 1u;
        bmax = bm < bmax ? bm : bmax;
    }
    // |L| = candidates in bins <= bmax, from the thread that owns bmax.
    if (b0 == bmax) s.loc_len = c_excl + c0;
    else if (b0 + 1u == bmax) s.loc_len = c_incl;
    __syncthreads();
    const u32 mine = s.loc_len;
    // REFINE: top-p binds in bin bp and min-p does not cut above it. DIRECT: no top-k or top-p
    // decision is left (no top-p, or min-p cuts above its boundary bin, so every min-p survivor lies
    // in a bin above bp and keeps a key above t*).
    const bool refine_ok = !topk_live && bp < NBINS && bp <= bm && s.cnt[bp] <= CAP;
    const bool direct_ok = !topk_live && (bp == NBINS || bm < bp);
    u32 mode = MODE_GENERIC;
    if (wide && direct_ok) mode = MODE_DIRECT;
    else if (wide && refine_ok) mode = MODE_REFINE;
    else if (mine <= CAP) mode = MODE_LIST;
    else if (refine_ok) mode = MODE_REFINE;
    else if (direct_ok) mode = MODE_DIRECT;
    if (t == 0u) {
        s.sel_digit = bmax;
        s.sel_found = topk_live ? 1u : 0u;
        s.sel_above_w = w_all;
        s.eq_count = mine;
        s.n_list = 0;
        s.mode = mode;
        s.n_bnd = bp < NBINS ? s.cnt[bp] : 0u;
        s.acc_bnd = acc_bp;
    }
    __syncthreads();
}

// The groups [gb, ge) of piece `piece` when a row's `groups` are split over `nsplit` blocks.
__device__ __forceinline__ void slice_of(u32 groups, u32 nsplit, u32 piece, u32& gb, u32& ge) {
    const u32 per = (groups + nsplit - 1u) / nsplit;
    gb = piece * per < groups ? piece * per : groups;
    ge = gb + per < groups ? gb + per : groups;
}

// Wide kernels: what one launch leaves for the next about a row (64 bytes; WideState in
// src/sample/cuda/enabled.rs allocates rows of it, zeroed).
struct WideState {
    float M;        // max z (wide_pass1)
    u32 arg;        // its token, lowest id on ties (wide_pass1)
    u32 pending;    // 1 while the row still needs wide_hist / wide_draw
    u32 mode;       // MODE_* (wide_hist)
    u32 bmax;       // last bin of L (wide_hist)
    u32 topk_live;
    u32 n_list;     // |L|
    u32 n_bnd;      // tokens in the top-p boundary bin (MODE_REFINE)
    u64 w_all;      // weight of all candidates
    u64 acc_bnd;    // weight of the bins above the boundary bin
    u64 best;       // wide_draw: max of the blocks' packed draws
    u32 n_app;      // wide_draw: tokens appended to the row's list
    u32 pad;
};
// The host allocates 8 u64 words per row for it (WIDE_STATE_WORDS in src/sample/cuda/enabled.rs).
static_assert(sizeof(WideState) == 64, "WideState must stay 64 bytes");

// The end of a row's slice work: every thread fences its global writes, thread 0 takes the row's
// ticket, and the block that takes the last one gets true (the caller then finishes the row and
// resets count[r] to 0). No block ever waits for another.
__device__ __forceinline__ bool finish_ticket(Shared& s, u32* count, u32 r, u32 nsplit) {
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) s.last = atomicAdd(count + r, 1u) == nsplit - 1u ? 1u : 0u;
    __syncthreads();
    if (!s.last) return false;
    __threadfence();
    return true;
}

// ---------------------------------------------------------------- the kernel

// SPLIT = false: the original kernels (one block per row). SPLIT = true: grid (rows, pieces); each of
// a row's gridDim.y blocks runs pass 1 over its slice and publishes (max, plain draw, error flags) in
// `part`; the last block to finish (atomic ticket in `count`, which it resets to 0 for the next launch)
// combines them and runs the rest of the row alone. Both also use the noise pruning of draw<true>.
// WIDE (with SPLIT): the first of the wide kernels' three launches. The last block finishes greedy,
// plain and failing rows as SPLIT does; for a row with cuts it leaves (M, argmax) in `ws` for
// wide_hist_row and returns.
template <class T, bool SPLIT, bool WIDE = false>
__device__ void sample_row(const T* __restrict__ logits, const u32* __restrict__ masks, const RowPlan* __restrict__ plans,
                           u32 V, int* __restrict__ out, u64* __restrict__ part, u32* __restrict__ count,
                           WideState* __restrict__ ws = nullptr) {
    LEXPRO_BLOCK_SHARED(s, dyn);
    u32* list_ids = dyn;
    float* list_zs = reinterpret_cast<float*>(dyn + CAP);

    const u32 r = blockIdx.x;
    const u32 nsplit = SPLIT ? gridDim.y : 1u;
    const u32 piece = SPLIT ? blockIdx.y : 0u;
    const u32 groups = (V + 3u) / 4u;
    u32 gb, ge;
    slice_of(groups, nsplit, piece, gb, ge);
    const RowPlan p = plans[r];
    const T* row = logits + (u64)r * V;
    const u32* mask = masks ? masks + (u64)r * ((V + 31u) / 32u) : nullptr;
    const bool vec = (V & 3u) == 0u;
    const bool greedy = (p.flags & FLAG_GREEDY) != 0u;
    const bool plain = !greedy && (p.flags & (FLAG_TOP_K | FLAG_TOP_P | FLAG_MIN_P)) == 0u;

    if (threadIdx.x == 0) s.flags = 0;
    if (SPLIT && !greedy) init_prune_table(s);
    __syncthreads();

    // pass 1
    u32 bad = 0;          // bit 0: NaN, bit 1: +inf
    u64 best_val = 0ull;  // packed (max value, lowest id): raw x when greedy, z otherwise
    u64 best_draw = 0ull; // packed (max score, lowest id) for the plain draw
    float best_score = __uint_as_float(0xff800000u);
    if (!plain) {
        // Max (and greedy argmax) only: a small loop body.
        for_groups_in(row, mask, V, vec, gb, ge, [&](u32 g, u32 allowed, const float* x) {
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                if (!((allowed >> j) & 1u)) continue;
                if (isnan(x[j])) {
                    bad |= 1u;
                    continue;
                }
                const float v = greedy ? x[j] : scaled(x[j], p.inv_temp);
                if (v == __uint_as_float(0x7f800000u)) bad |= 2u;
                if (v == __uint_as_float(0xff800000u)) continue;
                const u64 pk = pack_best(v, 4u * g + (u32)j);
                best_val = pk > best_val ? pk : best_val;
            }
        });
    } else {
        for_groups_in(row, mask, V, vec, gb, ge, [&](u32 g, u32 allowed, const float* x) {
            float z[4];
            bool need_noise = false;
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                z[j] = __uint_as_float(0xff800000u);
                if (!((allowed >> j) & 1u)) continue;
                if (isnan(x[j])) {
                    bad |= 1u;
                    continue;
                }
                const float v = scaled(x[j], p.inv_temp);
                if (v == __uint_as_float(0x7f800000u)) bad |= 2u;
                if (v == __uint_as_float(0xff800000u)) continue;
                const u64 pk = pack_best(v, 4u * g + (u32)j);
                best_val = pk > best_val ? pk : best_val;
                z[j] = v;
                if (!(__fadd_rn(v, GUMBEL_MAX) < best_score)) need_noise = true;
            }
            if (need_noise) {
                u32 c[4];
                group_bits(p, g, c);
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    if (z[j] == __uint_as_float(0xff800000u)) continue;
                    if (SPLIT && noise_cannot_reach(s, best_score, z[j], c[j])) continue;
                    const float score = __fadd_rn(z[j], gumbel(c[j]));
                    const u64 pk = pack_best(score, 4u * g + (u32)j);
                    if (pk > best_draw) {
                        best_draw = pk;
                        best_score = score;
                    }
                }
            }
        });
    }
    if (bad) atomicOr(&s.flags, bad);
    best_val = block_max_u64(s, best_val);
    if (SPLIT && plain) best_draw = block_max_u64(s, best_draw);
    if (SPLIT && nsplit > 1u) {
        // Publish this slice's partial result; the last block of the row combines all of them.
        u64* mine = part + 3ull * ((u64)r * nsplit + piece);
        if (threadIdx.x == 0) {
            mine[0] = best_val;
            mine[1] = best_draw;
            mine[2] = (u64)s.flags;
            __threadfence();
            const u32 ticket = atomicAdd(count + r, 1u);
            s.last = ticket == nsplit - 1u ? 1u : 0u;
        }
        __syncthreads();
        if (!s.last) return;
        __threadfence();
        u64 bv = 0ull, bd = 0ull;
        u32 fl = 0u;
        for (u32 i = threadIdx.x; i < nsplit; i += THREADS) {
            const u64* q = part + 3ull * ((u64)r * nsplit + i);
            const u64 a = __ldcg(q), b = __ldcg(q + 1), c = __ldcg(q + 2);
            bv = a > bv ? a : bv;
            bd = b > bd ? b : bd;
            fl |= (u32)c;
        }
        if (fl) atomicOr(&s.flags, fl);
        best_val = block_max_u64(s, bv);
        if (plain) best_draw = block_max_u64(s, bd);
        if (threadIdx.x == 0) count[r] = 0u;
    }
    if (WIDE && threadIdx.x == 0) ws[r].pending = 0u;
    const u32 flags = s.flags;
    if (flags & 1u) {
        if (threadIdx.x == 0) out[r] = CODE_NAN;
        return;
    }
    if (flags & 2u) {
        if (threadIdx.x == 0) out[r] = CODE_INF;
        return;
    }
    if (best_val == 0ull) {
        if (threadIdx.x == 0) out[r] = CODE_ALL_MASKED;
        return;
    }
    if (greedy) {
        if (threadIdx.x == 0) out[r] = (int)(~(u32)best_val);
        return;
    }
    if (plain) {
        if (!SPLIT) best_draw = block_max_u64(s, best_draw);
        if (threadIdx.x == 0) out[r] = (int)(~(u32)best_draw);
        return;
    }

    const float M = from_okey((u32)(best_val >> 32));
    const u32 arg = ~(u32)best_val;  // the argmax of z (lowest id): it survives every cut
    const float cut = __fsub_rn(M, CANDIDATE_SPAN);
    if (WIDE) {
        if (threadIdx.x == 0) {
            ws[r].M = M;
            ws[r].arg = arg;
            ws[r].pending = 1u;
        }
        return;
    }

    // pass 2: histogram over d = M - z of the candidates, then the bins of the cuts
    candidate_histogram(s, row, mask, V, vec, 0u, groups, p, M, cut);
    locate_cuts(s, p, M, cut, false);
    const u32 bmax = s.sel_digit;
    const bool topk_live = s.sel_found != 0u;
    const u64 w_all = s.sel_above_w;
    const u32 n_list = s.eq_count;
    const u32 mode = s.mode;
    const u32 n_bnd = s.n_bnd;
    const u64 acc_bnd = s.acc_bnd;
    __syncthreads();

    // pass 3 (MODE_LIST: all of L; MODE_REFINE: the boundary bin only) into shared memory. The order
    // of the list is irrelevant: everything after it is order-free.
    if (mode == MODE_LIST || mode == MODE_REFINE) {
        compact_bins(s, list_ids, list_zs, row, mask, V, vec, 0u, (V + 3u) / 4u, p, M, cut, bmax, mode == MODE_LIST);
        LEXPRO_EMU_INVARIANT(s.n_list == (mode == MODE_LIST ? n_list : n_bnd),
                             "the compacted list differs from the size the histogram gave it");
    }
    const float floor_z = (p.flags & FLAG_MIN_P) ? __fadd_rn(M, p.log_min_p) : __uint_as_float(0xff800000u);
    const RowSrc<T> rsrc{row, mask, V, vec, p.inv_temp, cut, M, bmax, 0u, (V + 3u) / 4u};
    int result;
    if (mode == MODE_LIST) {
        const ListSrc src{list_ids, list_zs, n_list};
        result = cut_and_draw<SPLIT>(s, src, p, M, n_list, topk_live, w_all, arg);
    } else if (mode == MODE_REFINE) {
        // Bins above the boundary carry acc_bnd < target; the threshold key lies inside the boundary bin.
        const ListSrc src{list_ids, list_zs, n_bnd};
        const double target = (double)p.top_p * (double)w_all;
        const u32 tstar = top_p_threshold(
            s, src,
            [&](u32, float z, u32& key, u64& w) {
                key = okey(z);
                w = weight_of(__fsub_rn(z, M));
                return true;
            },
            target, acc_bnd);
        result = draw<SPLIT>(s, rsrc, p, M, 0u, 0xffffffffu, tstar, floor_z, arg);
    } else if (mode == MODE_DIRECT) {
        result = draw<SPLIT>(s, rsrc, p, M, 0u, 0xffffffffu, 0u, floor_z, arg);
    } else {
        result = cut_and_draw<SPLIT>(s, rsrc, p, M, n_list, topk_live, w_all, arg);
    }
    if (threadIdx.x == 0) out[r] = result;
}

// ---------------------------------------------------------------- wide kernels

// The wide kernels spread every pass of a row with cuts over the row's gridDim.y blocks, in three
// launches (all over grid (rows, pieces), none waiting for another block; each pass ends with the
// ticket of finish_ticket, and the last block of the row does the row's serial part):
//  wide_pass1  (sample_row<T, true, true>): pass 1; greedy, plain and failing rows end here.
//  wide_hist:  every block histograms its slice and adds its non-empty bins to the row's global
//              histogram; the last block reads it back (zeroing it for the next step), locates the
//              cuts (locate_cuts) and picks the mode. MODE_GENERIC rows are finished there, by the
//              last block rescanning the row (rare: a very large k, or a boundary bin over CAP).
//  wide_draw:  MODE_LIST: every block appends its part of L to the row's global list; the last block
//              loads the list into shared memory and runs cut_and_draw on it, as the original kernel.
//              MODE_REFINE: every block draws over its tokens in the bins above the top-p boundary
//              bin (they survive whatever t* is) and appends the boundary bin's tokens to the list;
//              the last block finds t* in the list, draws over the list's survivors and keeps the
//              larger of that and the blocks' draws. MODE_DIRECT: every block draws over its slice.
// The drawn token is the one the original kernels draw: the same survivors, the same scores, and a
// maximum does not depend on how the survivors are split.

template <class T>
__device__ void wide_hist_row(const T* __restrict__ logits, const u32* __restrict__ masks,
                              const RowPlan* __restrict__ plans, u32 V, int* __restrict__ out, u32* __restrict__ count,
                              WideState* __restrict__ ws, u32* __restrict__ hist_cnt, u64* __restrict__ hist_wt) {
    LEXPRO_BLOCK_SHARED(s, dyn);
    (void)dyn;
    const u32 r = blockIdx.x;
    WideState* w = ws + r;
    if (!w->pending) return;
    const u32 nsplit = gridDim.y;
    const u32 groups = (V + 3u) / 4u;
    u32 gb, ge;
    slice_of(groups, nsplit, blockIdx.y, gb, ge);
    const RowPlan p = plans[r];
    const T* row = logits + (u64)r * V;
    const u32* mask = masks ? masks + (u64)r * ((V + 31u) / 32u) : nullptr;
    const bool vec = (V & 3u) == 0u;
    const float M = w->M;
    const u32 arg = w->arg;
    const float cut = __fsub_rn(M, CANDIDATE_SPAN);

    candidate_histogram(s, row, mask, V, vec, gb, ge, p, M, cut);
    u32* gc = hist_cnt + (u64)r * NBINS;
    u64* gw = hist_wt + (u64)r * NBINS;
    for (u32 b = threadIdx.x; b < NBINS; b += THREADS) {
        if (s.cnt[b]) atomicAdd(gc + b, s.cnt[b]);
        if (s.wt[b]) atomicAdd(gw + b, s.wt[b]);
    }
    if (!finish_ticket(s, count, r, nsplit)) return;
    for (u32 b = threadIdx.x; b < NBINS; b += THREADS) {
        s.cnt[b] = __ldcg(gc + b);
        s.wt[b] = __ldcg(gw + b);
        gc[b] = 0u;
        gw[b] = 0ull;
    }
    if (threadIdx.x == 0) count[r] = 0u;
    __syncthreads();
    locate_cuts(s, p, M, cut, true);
    const u32 bmax = s.sel_digit;
    const bool topk_live = s.sel_found != 0u;
    const u64 w_all = s.sel_above_w;
    const u32 n_list = s.eq_count;
    const u32 mode = s.mode;
    const u32 n_bnd = s.n_bnd;
    const u64 acc_bnd = s.acc_bnd;
    __syncthreads();
    if (mode == MODE_GENERIC) {
        init_prune_table(s);
        __syncthreads();
        const RowSrc<T> rsrc{row, mask, V, vec, p.inv_temp, cut, M, bmax, 0u, groups};
        const int result = cut_and_draw<true>(s, rsrc, p, M, n_list, topk_live, w_all, arg);
        if (threadIdx.x == 0) {
            out[r] = result;
            w->pending = 0u;
        }
        return;
    }
    if (threadIdx.x == 0) {
        w->mode = mode;
        w->bmax = bmax;
        w->topk_live = topk_live ? 1u : 0u;
        w->n_list = n_list;
        w->n_bnd = n_bnd;
        w->w_all = w_all;
        w->acc_bnd = acc_bnd;
        w->best = 0ull;
        w->n_app = 0u;
    }
}

template <class T>
__device__ void wide_draw_row(const T* __restrict__ logits, const u32* __restrict__ masks,
                              const RowPlan* __restrict__ plans, u32 V, int* __restrict__ out, u32* __restrict__ count,
                              WideState* __restrict__ ws, u32* __restrict__ gids, float* __restrict__ gzs) {
    LEXPRO_BLOCK_SHARED(s, dyn);
    u32* list_ids = dyn;
    float* list_zs = reinterpret_cast<float*>(dyn + CAP);
    const u32 r = blockIdx.x;
    WideState* w = ws + r;
    if (!w->pending) return;
    const u32 nsplit = gridDim.y;
    const u32 groups = (V + 3u) / 4u;
    u32 gb, ge;
    slice_of(groups, nsplit, blockIdx.y, gb, ge);
    const RowPlan p = plans[r];
    const T* row = logits + (u64)r * V;
    const u32* mask = masks ? masks + (u64)r * ((V + 31u) / 32u) : nullptr;
    const bool vec = (V & 3u) == 0u;
    const float M = w->M;
    const u32 arg = w->arg;
    const u32 mode = w->mode;
    const u32 bmax = w->bmax;
    const float cut = __fsub_rn(M, CANDIDATE_SPAN);
    const float floor_z = (p.flags & FLAG_MIN_P) ? __fadd_rn(M, p.log_min_p) : __uint_as_float(0xff800000u);
    u32* row_ids = gids + (u64)r * CAP;
    float* row_zs = gzs + (u64)r * CAP;

    init_prune_table(s);
    if (threadIdx.x == 0) s.n_list = 0u;
    __syncthreads();
    if (mode == MODE_DIRECT) {
        // Every candidate of L survives whatever is left to decide: the blocks draw, the maximum wins.
        const RowSrc<T> src{row, mask, V, vec, p.inv_temp, cut, M, bmax, gb, ge};
        const u64 b = draw_best<true>(s, src, p, M, 0u, 0xffffffffu, 0u, floor_z, arg);
        if (threadIdx.x == 0) atomicMax(&w->best, b);
    } else if (mode == MODE_REFINE) {
        // One visit of the slice: the boundary bin's tokens go to the shared list, the draw runs over the
        // bins above it (keys above every key of the boundary bin: they survive whatever t* is). The
        // draw's closing barrier makes s.n_list final.
        const RefineSrc<T> src{{row, mask, V, vec, p.inv_temp, cut, M, bmax, gb, ge}, &s, list_ids, list_zs};
        const u64 b = draw_best<true>(s, src, p, M, 0u, 0xffffffffu, 0u, floor_z, arg);
        if (threadIdx.x == 0) atomicMax(&w->best, b);
    } else {
        compact_bins(s, list_ids, list_zs, row, mask, V, vec, gb, ge, p, M, cut, bmax, true);
    }
    if (mode == MODE_LIST || mode == MODE_REFINE) {
        // This slice's part of the list, compacted in shared memory: one global reservation.
        const u32 n = s.n_list;
        if (threadIdx.x == 0) s.sel_found = n ? atomicAdd(&w->n_app, n) : 0u;
        __syncthreads();
        const u32 base = s.sel_found;
        for (u32 j = threadIdx.x; j < n; j += THREADS) {
            row_ids[base + j] = list_ids[j];
            row_zs[base + j] = list_zs[j];
        }
    }
    if (!finish_ticket(s, count, r, nsplit)) return;

    u64 best = __ldcg(&w->best);
    int result;
    if (mode == MODE_DIRECT) {
        result = (int)(~(u32)best);
    } else {
        const u32 n = __ldcg(&w->n_app);
        for (u32 j = threadIdx.x; j < n; j += THREADS) {
            list_ids[j] = __ldcg(row_ids + j);
            list_zs[j] = __ldcg(row_zs + j);
        }
        __syncthreads();
        LEXPRO_EMU_INVARIANT(n == (mode == MODE_LIST ? __ldcg(&w->n_list) : __ldcg(&w->n_bnd)),
                             "the appended list differs from the size the histogram gave it");
        const ListSrc src{list_ids, list_zs, n};
        if (mode == MODE_LIST) {
            result = cut_and_draw<true>(s, src, p, M, n, __ldcg(&w->topk_live) != 0u, __ldcg(&w->w_all), arg);
        } else {
            const double target = (double)p.top_p * (double)__ldcg(&w->w_all);
            const u32 tstar = top_p_threshold(
                s, src,
                [&](u32, float z, u32& key, u64& wt) {
                    key = okey(z);
                    wt = weight_of(__fsub_rn(z, M));
                    return true;
                },
                target, __ldcg(&w->acc_bnd));
            const u64 b = draw_best<true>(s, src, p, M, 0u, 0xffffffffu, tstar, floor_z, arg);
            best = b > best ? b : best;
            result = (int)(~(u32)best);
        }
    }
    if (threadIdx.x == 0) {
        out[r] = result;
        w->pending = 0u;
        w->best = 0ull;
        w->n_app = 0u;
        count[r] = 0u;
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_sample_f32(const float* logits, const u32* masks, const RowPlan* plans, u32 V, int* out) {
    sample_row<float, false>(logits, masks, plans, V, out, nullptr, nullptr);
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_sample_bf16(const u16* logits, const u32* masks, const RowPlan* plans, u32 V, int* out) {
    sample_row<u16, false>(logits, masks, plans, V, out, nullptr, nullptr);
}

// Split kernels: grid (rows, pieces); `part` holds rows * pieces * 3 words, `count` one zeroed word per
// row (left zeroed after each launch).
extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_sample_split_f32(const float* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u64* part,
                        u32* count) {
    sample_row<float, true>(logits, masks, plans, V, out, part, count);
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_sample_split_bf16(const u16* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u64* part,
                         u32* count) {
    sample_row<u16, true>(logits, masks, plans, V, out, part, count);
}

// Wide kernels, launched in this order on one stream: grid (rows, pieces) each. `part` as the split
// kernels; `count` one zeroed word per row; `ws` rows zeroed WideStates; `hist_cnt` / `hist_wt`
// rows * NBINS zeroed words; `list_ids` / `list_zs` rows * CAP words. Every scratch word the kernels
// change is back to zero after the third launch.
extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_wide_pass1_f32(const float* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u64* part,
                      u32* count, WideState* ws) {
    sample_row<float, true, true>(logits, masks, plans, V, out, part, count, ws);
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_wide_pass1_bf16(const u16* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u64* part,
                       u32* count, WideState* ws) {
    sample_row<u16, true, true>(logits, masks, plans, V, out, part, count, ws);
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_wide_hist_f32(const float* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u32* count,
                     WideState* ws, u32* hist_cnt, u64* hist_wt) {
    wide_hist_row<float>(logits, masks, plans, V, out, count, ws, hist_cnt, hist_wt);
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_wide_hist_bf16(const u16* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u32* count,
                      WideState* ws, u32* hist_cnt, u64* hist_wt) {
    wide_hist_row<u16>(logits, masks, plans, V, out, count, ws, hist_cnt, hist_wt);
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_wide_draw_f32(const float* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u32* count,
                     WideState* ws, u32* list_ids, float* list_zs) {
    wide_draw_row<float>(logits, masks, plans, V, out, count, ws, list_ids, list_zs);
}

extern "C" __global__ void __launch_bounds__(THREADS)
lexpro_wide_draw_bf16(const u16* logits, const u32* masks, const RowPlan* plans, u32 V, int* out, u32* count,
                      WideState* ws, u32* list_ids, float* list_zs) {
    wide_draw_row<u16>(logits, masks, plans, V, out, count, ws, list_ids, list_zs);
}
