// A small CUDA emulator for the host: it runs kernels/sampler.cu, unchanged, on the CPU so that the
// kernels' logic is checked against the CPU twin on machines with no GPU (tests/sampler_emu.rs).
//
// Every CUDA thread of a block is a ucontext fiber on one OS thread, scheduled cooperatively: a fiber
// runs until it reaches __syncthreads() (all live threads of the block), a warp-wide intrinsic (all live
// lanes of its warp; __shfl_*_sync and __ballot_sync exchange values between two warp barriers) or its
// end. A barrier that can never complete (divergent __syncthreads, a warp intrinsic some lanes never
// reach) is reported as a deadlock instead of hanging. Blocks of a grid run one after another in an
// order shuffled by a seed, so "the last block of a row" logic is exercised under many orders; a block
// never waits for another one, which is also what the kernels promise on hardware. Shared memory is
// refilled with 0xA5 bytes before every block so a read of an unwritten value shows up as a mismatch.
//
// What this does not check: timing, memory-model races between concurrently running blocks, and the
// device's own libm (the prune table's double exp): those need the GPU check (scripts/gpu_check.sh).
#pragma once

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <array>
#include <cmath>
#include <functional>
#include <vector>

#define LEXPRO_EMU 1
#define __device__
#define __global__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(n)

struct float4 {
    float x, y, z, w;
};
struct uint2 {
    unsigned int x, y;
};
struct EmuDim3 {
    unsigned int x, y, z;
};

namespace emu {

enum class St { Run, AtBlock, AtWarp, Done };

struct Fiber {
    ucontext_t ctx;
    EmuDim3 tid;
    St st;
    unsigned long long slot;  // the value this lane offers to a warp exchange
};

struct State {
    EmuDim3 grid{1, 1, 1}, block{1, 1, 1}, bidx{0, 0, 0};
    std::vector<Fiber> fibers;
    std::vector<std::vector<unsigned char>> stacks;
    ucontext_t sched;
    Fiber* cur = nullptr;
    std::function<void()> body;
    std::vector<unsigned long long> shared;  // static __shared__ storage (8-byte aligned)
    std::vector<unsigned long long> dyn;     // extern __shared__ storage
    unsigned long long switches = 0;
};

inline State& S() {
    static State s;
    return s;
}

[[noreturn]] inline void fail(const char* why) {
    State& s = S();
    fprintf(stderr, "cuda_emu: %s (block %u,%u thread %u)\n", why, s.bidx.x, s.bidx.y, s.cur ? s.cur->tid.x : 0u);
    exit(3);
}

inline void wait_as(St st) {
    Fiber* f = S().cur;
    f->st = st;
    ++S().switches;
    swapcontext(&f->ctx, &S().sched);
}

inline void fiber_entry() {
    S().body();
    S().cur->st = St::Done;  // returning resumes uc_link, the scheduler
}

constexpr size_t STACK_BYTES = 256 * 1024;

// Runs one block to completion (all fibers done), or exits the process on a deadlock.
inline void run_block(unsigned nthreads) {
    State& s = S();
    s.fibers.assign(nthreads, Fiber{});
    while (s.stacks.size() < nthreads) s.stacks.emplace_back(STACK_BYTES);
    for (unsigned i = 0; i < nthreads; ++i) {
        Fiber& f = s.fibers[i];
        f.tid = EmuDim3{i, 0, 0};
        f.st = St::Run;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = s.stacks[i].data();
        f.ctx.uc_stack.ss_size = STACK_BYTES;
        f.ctx.uc_link = &s.sched;
        makecontext(&f.ctx, fiber_entry, 0);
    }
    memset(s.shared.data(), 0xA5, s.shared.size() * 8);
    memset(s.dyn.data(), 0xA5, s.dyn.size() * 8);
    for (;;) {
        for (Fiber& f : s.fibers) {
            if (f.st != St::Run) continue;
            s.cur = &f;
            swapcontext(&s.sched, &f.ctx);
        }
        s.cur = nullptr;
        unsigned live = 0, at_block = 0;
        for (const Fiber& f : s.fibers) {
            if (f.st != St::Done) ++live;
            if (f.st == St::AtBlock) ++at_block;
        }
        if (live == 0) return;
        bool released = false;
        for (unsigned w = 0; w * 32 < nthreads; ++w) {
            unsigned alive = 0, at_warp = 0;
            for (unsigned l = w * 32; l < nthreads && l < w * 32 + 32; ++l) {
                if (s.fibers[l].st != St::Done) ++alive;
                if (s.fibers[l].st == St::AtWarp) ++at_warp;
            }
            if (alive != 0 && at_warp == alive) {
                for (unsigned l = w * 32; l < nthreads && l < w * 32 + 32; ++l)
                    if (s.fibers[l].st == St::AtWarp) s.fibers[l].st = St::Run;
                released = true;
            }
        }
        if (!released && at_block == live) {
            for (Fiber& f : s.fibers)
                if (f.st == St::AtBlock) f.st = St::Run;
            released = true;
        }
        if (!released) fail("deadlock: a barrier some live threads never reach");
    }
}

// Launches `call` (which calls the kernel) on a grid of blocks, one block at a time, in an order
// shuffled by `order_seed` (0: in order).
inline void launch(EmuDim3 grid, EmuDim3 block, size_t dyn_bytes, unsigned long long order_seed,
                   std::function<void()> call) {
    State& s = S();
    if (block.y != 1 || block.z != 1 || grid.z != 1) fail("only 1-D blocks and 2-D grids are emulated");
    s.grid = grid;
    s.block = block;
    s.body = std::move(call);
    if (s.shared.size() < 8192) s.shared.assign(8192, 0ull);  // 64 KiB of static shared memory
    s.dyn.assign((dyn_bytes + 7) / 8, 0ull);
    std::vector<EmuDim3> order;
    for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) order.push_back(EmuDim3{x, y, 0});
    unsigned long long r = order_seed;
    for (size_t i = order.size(); order_seed != 0 && i > 1; --i) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        const size_t j = (size_t)(r % i);
        const EmuDim3 t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (const EmuDim3& b : order) {
        s.bidx = b;
        run_block(block.x);
    }
}

// All 32 lanes' values of the calling lane's warp (two warp barriers: offer, then read).
inline std::array<unsigned long long, 32> warp_exchange(unsigned mask, unsigned long long v) {
    if (mask != 0xffffffffu) fail("only full-warp masks are emulated");
    State& s = S();
    Fiber* f = s.cur;
    f->slot = v;
    wait_as(St::AtWarp);
    std::array<unsigned long long, 32> all{};
    const unsigned base = s.cur->tid.x & ~31u;
    for (unsigned l = 0; l < 32; ++l) {
        const unsigned i = base + l;
        if (i < s.fibers.size()) all[l] = s.fibers[i].slot;
    }
    wait_as(St::AtWarp);
    return all;
}

template <class T>
inline unsigned long long to_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp exchange of more than 8 bytes");
    unsigned long long b = 0;
    memcpy(&b, &v, sizeof(T));
    return b;
}

template <class T>
inline T from_bits(unsigned long long b) {
    T v;
    memcpy(&v, &b, sizeof(T));
    return v;
}

}  // namespace emu

#define threadIdx (::emu::S().cur->tid)
#define blockIdx (::emu::S().bidx)
#define gridDim (::emu::S().grid)
#define blockDim (::emu::S().block)

template <class T>
inline T* emu_shared() {
    if (sizeof(T) > ::emu::S().shared.size() * 8) ::emu::fail("static shared memory too small");
    return reinterpret_cast<T*>(::emu::S().shared.data());
}

inline unsigned int* emu_dynamic_shared() { return reinterpret_cast<unsigned int*>(::emu::S().dyn.data()); }

inline void __syncthreads() { ::emu::wait_as(::emu::St::AtBlock); }
inline void __threadfence() {}

template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int o) {
    const auto all = ::emu::warp_exchange(mask, ::emu::to_bits(v));
    return ::emu::from_bits<T>(all[(threadIdx.x & 31u) ^ (unsigned)o]);
}

template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned d) {
    const auto all = ::emu::warp_exchange(mask, ::emu::to_bits(v));
    const unsigned lane = threadIdx.x & 31u;
    return lane >= d ? ::emu::from_bits<T>(all[lane - d]) : v;
}

template <class T>
inline T __shfl_sync(unsigned mask, T v, int src) {
    const auto all = ::emu::warp_exchange(mask, ::emu::to_bits(v));
    return ::emu::from_bits<T>(all[(unsigned)src & 31u]);
}

inline unsigned __ballot_sync(unsigned mask, int pred) {
    const auto all = ::emu::warp_exchange(mask, pred ? 1ull : 0ull);
    unsigned b = 0;
    for (unsigned l = 0; l < 32; ++l)
        if (all[l]) b |= 1u << l;
    return b;
}

inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }

// One OS thread and cooperative scheduling: a read-modify-write is never interleaved.
inline unsigned atomicAdd(unsigned* a, unsigned v) {
    const unsigned o = *a;
    *a = o + v;
    return o;
}
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
    const unsigned long long o = *a;
    *a = o + v;
    return o;
}
inline unsigned long long atomicMax(unsigned long long* a, unsigned long long v) {
    const unsigned long long o = *a;
    if (v > o) *a = v;
    return o;
}
inline unsigned atomicMax(unsigned* a, unsigned v) {
    const unsigned o = *a;
    if (v > o) *a = v;
    return o;
}
inline unsigned atomicOr(unsigned* a, unsigned v) {
    const unsigned o = *a;
    *a = o | v;
    return o;
}

template <class T>
inline T __ldg(const T* p) {
    return *p;
}
template <class T>
inline T __ldcg(const T* p) {
    return *p;
}

// Explicitly rounded IEEE operations: on x86-64 (SSE, compiled with -ffp-contract=off) the plain
// operators are exactly these.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __uint2float_rn(unsigned x) { return (float)x; }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline unsigned __float_as_uint(float x) {
    unsigned u;
    memcpy(&u, &x, 4);
    return u;
}
inline float __uint_as_float(unsigned u) {
    float x;
    memcpy(&x, &u, 4);
    return x;
}
// CUDA's saturating conversions: NaN and negatives give 0, too large gives the maximum.
inline unsigned __float2uint_rz(float x) {
    if (!(x > 0.0f)) return 0u;
    if (x >= 4294967296.0f) return 0xffffffffu;
    return (unsigned)x;
}
inline unsigned long long __float2ull_rz(float x) {
    if (!(x > 0.0f)) return 0ull;
    if (x >= 18446744073709551616.0f) return ~0ull;
    return (unsigned long long)x;
}

using std::isnan;
