#!/usr/bin/env python3
"""PyTorch reference sampling on the benchmark inputs written by the `gpu_benchmark` test, and the
combined table (lexpro kernels vs PyTorch vs the memory floor).

Reference = what a plain PyTorch decoder does: unpack the mask, mask the logits, temperature, softmax,
sort, cumsum for top-p (top-k by the same sort), renormalise, multinomial. Greedy = masked argmax.

Usage: gpu_reference.py WORK_DIR   (WORK_DIR holds lexpro.jsonl, logits_B.bin, mask_B.bin)
"""
import json
import sys

import numpy as np
import torch

V = 151_936


def unpack(mask_words: torch.Tensor, v: int) -> torch.Tensor:
    shifts = torch.arange(32, device=mask_words.device, dtype=torch.int32)
    bits = (mask_words.unsqueeze(-1) >> shifts) & 1
    return bits.reshape(mask_words.shape[0], -1)[:, :v].bool()


def sample_ref(logits, mask_words, top_k=0, top_p=1.0, temperature=1.0):
    allowed = unpack(mask_words, logits.shape[1])
    x = logits.float().masked_fill(~allowed, float("-inf")) / temperature
    probs = torch.softmax(x, dim=-1)
    sp, si = probs.sort(dim=-1, descending=True)
    if top_k > 0:
        sp[:, top_k:] = 0.0
    if top_p < 1.0:
        cum = sp.cumsum(dim=-1)
        sp = sp.masked_fill(cum - sp > top_p * sp.sum(dim=-1, keepdim=True), 0.0)
    tok = torch.multinomial(sp / sp.sum(dim=-1, keepdim=True), 1)
    return si.gather(-1, tok)


def greedy_ref(logits, mask_words):
    allowed = unpack(mask_words, logits.shape[1])
    return logits.masked_fill(~allowed, float("-inf")).argmax(dim=-1)


def time_us(fn, iters):
    # Warm up for >= 150 ms, as the Rust side does, so both are timed at working clocks.
    import time
    t0 = time.time()
    while time.time() - t0 < 0.15:
        fn()
        torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) * 1000.0 / iters


def main(work: str) -> int:
    with open(f"{work}/lexpro.jsonl") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    head, rows = rows[0], rows[1:]
    ref_cache = {}
    out = []
    for r in rows:
        b, case = r["b"], r["case"]
        bf16 = "bf16" in case
        key = (b, case.split(" f32")[0].split(" bf16")[0], bf16)
        if key not in ref_cache:
            logits = torch.from_numpy(np.fromfile(f"{work}/logits_{b}.bin", dtype=np.float32).reshape(b, V)).cuda()
            if bf16:
                logits = logits.to(torch.bfloat16)
            mask = torch.from_numpy(np.fromfile(f"{work}/mask_{b}.bin", dtype=np.int32).reshape(b, -1)).cuda()
            iters = 50 if b >= 64 else 200
            if case.startswith("greedy"):
                fn = lambda: greedy_ref(logits, mask)
            elif case.startswith("plain"):
                fn = lambda: sample_ref(logits, mask)
            elif case.startswith("top-k"):
                fn = lambda: sample_ref(logits, mask, top_k=50, top_p=0.9)
            else:
                fn = lambda: sample_ref(logits, mask, top_p=0.9)
            ref_cache[key] = time_us(fn, iters)
            del logits, mask
        out.append((r, ref_cache[key]))

    print(f"\ndevice: {head['device']}; measured D2D copy bandwidth {head['copy_bw'] / 1e12:.2f} TB/s (read + write)")
    print("V = 151,936; mask ~75% allowed; times per step (device time, CUDA events, inputs resident)")
    print("default = KernelFamily::Auto (wide kernels for B <= 64 with a cut, and for larger batches of")
    print("top-p rows without top-k or min-p; split kernels otherwise);")
    print("split = split kernels; orig = original one-block-per-row kernels; wide = wide kernels (three")
    print("launches, every pass of a row spread over blocks); graph = the same step replayed from a CUDA graph;")
    print("same inputs, same run; x floor and vs torch are for the default\n")
    hdr = (f"| {'B':>3} | {'case':<24} | {'default us':>10} | {'graph us':>8} | {'split us':>8} | "
           f"{'split graph':>11} | {'orig us':>8} | {'wide us':>8} | {'wide graph':>10} | {'floor us':>8} | "
           f"{'x floor':>7} | {'torch us':>9} | {'vs torch':>8} | {'parity default/split/orig/wide':>30} |")
    print(hdr)
    print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    opt = lambda v, w: "" if v is None else f"{v:>{w}.1f}"
    ratio = lambda v, f: "" if v is None else f"{v / f:.2f}"
    for r, ref in out:
        parity = " / ".join(r.get(k, "-") for k in ("parity", "split_parity", "legacy_parity", "wide_parity"))
        vs_torch = "" if r.get("us") is None else f"{ref / r['us']:.1f}x"
        print(
            f"| {r['b']:>3} | {r['case']:<24} | {opt(r.get('us'), 10):>10} | {opt(r.get('graph_us'), 8):>8} | "
            f"{opt(r.get('split_us'), 8):>8} | {opt(r.get('split_graph_us'), 11):>11} | "
            f"{opt(r.get('legacy_us'), 8):>8} | {opt(r.get('wide_us'), 8):>8} | {opt(r.get('wide_graph_us'), 10):>10} | "
            f"{r['floor_us']:>8.1f} | {ratio(r.get('us'), r['floor_us']):>7} | {ref:>9.1f} | "
            f"{vs_torch:>8} | {parity:>30} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
