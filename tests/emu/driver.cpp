// Host driver for the emulated kernels (see cuda_emu.h and tests/sampler_emu.rs). It mirrors the
// launches of CudaSampler::launch in src/sample/cuda/enabled.rs: the same kernels, grid, block size,
// dynamic shared memory and scratch buffers.
//
//   sampler_emu INPUT OUTPUT
//
// INPUT (little endian): u32 magic 0x4D45584C, u32 family (0 original, 1 split, 2 wide), u32 dtype
// (0 f32, 1 bf16), u32 V, u32 rows, u32 pieces, u32 has_mask, u32 launches, u64 order seed; then
// rows * 48 bytes of RowPlan, the logits, and rows * ceil(V / 32) mask words when has_mask.
// OUTPUT: launches * rows i32 result codes (token id, or -1 all masked, -2 NaN, -3 +inf).
// The launches run on the same buffers, each with another block order, so a kernel that leaves its
// scratch (tickets, histograms, row states) dirty for the next step is caught; after the last one the
// scratch is checked to be clean. Exit status 3: emulation error, 4: dirty scratch, 2: bad input.
#include "cuda_emu.h"

#include "../../kernels/sampler.cu"

#include <vector>

namespace {

struct Reader {
    FILE* f;
    template <class T>
    void read(T* dst, size_t n) {
        if (n && fread(dst, sizeof(T), n, f) != n) {
            fprintf(stderr, "sampler_emu: truncated input\n");
            exit(2);
        }
    }
    template <class T>
    T one() {
        T v;
        read(&v, 1);
        return v;
    }
};

// The kernels of one element type (the extern "C" entry points of kernels/sampler.cu).
template <class T>
struct Kernels {
    void (*original)(const T*, const u32*, const RowPlan*, u32, int*);
    void (*split)(const T*, const u32*, const RowPlan*, u32, int*, u64*, u32*);
    void (*pass1)(const T*, const u32*, const RowPlan*, u32, int*, u64*, u32*, WideState*);
    void (*hist)(const T*, const u32*, const RowPlan*, u32, int*, u32*, WideState*, u32*, u64*);
    void (*draw)(const T*, const u32*, const RowPlan*, u32, int*, u32*, WideState*, u32*, float*);
};

const Kernels<float> f32_kernels{lexpro_sample_f32, lexpro_sample_split_f32, lexpro_wide_pass1_f32,
                                 lexpro_wide_hist_f32, lexpro_wide_draw_f32};
const Kernels<u16> bf16_kernels{lexpro_sample_bf16, lexpro_sample_split_bf16, lexpro_wide_pass1_bf16,
                                lexpro_wide_hist_bf16, lexpro_wide_draw_bf16};

template <class T>
bool all_zero(const std::vector<T>& v) {
    for (const T& x : v)
        if (x != T(0)) return false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: sampler_emu INPUT OUTPUT\n");
        return 2;
    }
    FILE* in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    Reader rd{in};
    if (rd.one<u32>() != 0x4D45584Cu) {
        fprintf(stderr, "sampler_emu: bad magic\n");
        return 2;
    }
    const u32 family = rd.one<u32>(), dtype = rd.one<u32>(), V = rd.one<u32>(), rows = rd.one<u32>();
    const u32 pieces_in = rd.one<u32>(), has_mask = rd.one<u32>(), launches = rd.one<u32>();
    const u64 order_seed = rd.one<u64>();
    // The shapes the Rust side allows (MAX_VOCAB, batch 1..1024, MAX_PIECES): anything else is a bad file.
    if (family > 2 || dtype > 1 || V == 0 || V > 262144u || rows == 0 || rows > 1024u || pieces_in == 0 ||
        pieces_in > 256u || launches == 0 || launches > 16u) {
        fprintf(stderr, "sampler_emu: bad header\n");
        return 2;
    }
    std::vector<RowPlan> plans(rows);
    rd.read(plans.data(), rows);
    std::vector<float> lf;
    std::vector<u16> lh;
    if (dtype == 0) {
        lf.resize((size_t)rows * V);
        rd.read(lf.data(), lf.size());
    } else {
        lh.resize((size_t)rows * V);
        rd.read(lh.data(), lh.size());
    }
    std::vector<u32> mask;
    if (has_mask) {
        mask.resize((size_t)rows * ((V + 31u) / 32u));
        rd.read(mask.data(), mask.size());
    }
    fclose(in);

    const u32* m = has_mask ? mask.data() : nullptr;
    const u32 pieces = family == 0 ? 1u : pieces_in;
    std::vector<int> out(rows, 0x7fffffff), all;
    std::vector<u64> part(3ull * rows * pieces, 0ull);
    std::vector<u32> count(rows, 0u);
    std::vector<WideState> ws(rows);
    memset(ws.data(), 0, ws.size() * sizeof(WideState));
    std::vector<u32> hist_cnt((size_t)rows * NBINS, 0u);
    std::vector<u64> hist_wt((size_t)rows * NBINS, 0ull);
    std::vector<u32> list_ids((size_t)rows * CAP, 0u);
    std::vector<float> list_zs((size_t)rows * CAP, 0.0f);

    // Which cut-stage mode each wide row took (printed, so a test can see the paths it covered).
    std::vector<u32> pending_after_pass1(rows, 0u);
    unsigned modes[4] = {0, 0, 0, 0};
    auto note_pending = [&] {
        for (u32 r = 0; r < rows; ++r) pending_after_pass1[r] = ws[r].pending;
    };
    auto tally_modes = [&] {
        for (u32 r = 0; r < rows; ++r)
            if (pending_after_pass1[r]) ++modes[ws[r].pending ? (ws[r].mode & 3u) : MODE_GENERIC];
    };
    const EmuDim3 block{THREADS, 1, 1};
    const EmuDim3 grid{rows, pieces, 1};
    const size_t dyn = (size_t)CAP * 8;
    for (u32 l = 0; l < launches; ++l) {
        std::fill(out.begin(), out.end(), 0x7fffffff);
        const u64 seed = order_seed == 0 ? 0 : order_seed + 0x9E3779B97F4A7C15ull * l;
        auto run = [&](std::function<void()> k) { emu::launch(grid, block, dyn, seed, std::move(k)); };
        // One step of the selected family, as CudaSampler::launch enqueues it.
        auto step = [&](const auto& k, const auto* lg) {
            if (family == 0) {
                run([&] { k.original(lg, m, plans.data(), V, out.data()); });
            } else if (family == 1) {
                run([&] { k.split(lg, m, plans.data(), V, out.data(), part.data(), count.data()); });
            } else {
                run([&] { k.pass1(lg, m, plans.data(), V, out.data(), part.data(), count.data(), ws.data()); });
                note_pending();
                run([&] {
                    k.hist(lg, m, plans.data(), V, out.data(), count.data(), ws.data(), hist_cnt.data(), hist_wt.data());
                });
                tally_modes();
                run([&] {
                    k.draw(lg, m, plans.data(), V, out.data(), count.data(), ws.data(), list_ids.data(), list_zs.data());
                });
            }
        };
        if (dtype == 0) step(f32_kernels, lf.data());
        else step(bf16_kernels, lh.data());
        all.insert(all.end(), out.begin(), out.end());
    }
    bool clean = all_zero(count) && all_zero(hist_cnt) && all_zero(hist_wt);
    for (const WideState& w : ws) clean = clean && w.pending == 0u;
    if (!clean) {
        fprintf(stderr, "sampler_emu: scratch left dirty after the last launch\n");
        return 4;
    }
    FILE* o = fopen(argv[2], "wb");
    if (!o || fwrite(all.data(), sizeof(int), all.size(), o) != all.size() || fclose(o) != 0) {
        perror(argv[2]);
        return 2;
    }
    fprintf(stderr, "sampler_emu: %u launches, %llu fiber switches", launches, emu::S().switches);
    if (family == 2)
        fprintf(stderr, "; wide modes: list %u refine %u direct %u generic %u", modes[MODE_LIST], modes[MODE_REFINE],
                modes[MODE_DIRECT], modes[MODE_GENERIC]);
    fprintf(stderr, "\n");
    return 0;
}
