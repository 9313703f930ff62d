#!/usr/bin/env bash
# Runs on the GPU machine (no Rust, no network) from the bundle built by scripts/gpu_build.sh:
#   bash scripts/gpu_check.sh .gpu-bundle
# 1. parity tests (greedy identical to the CPU twin, seeded draws identical, chi-square, errors);
# 2. the benchmark at V = 151,936, B in {1, 8, 64, 512}, then PyTorch's reference sampling on the
#    same inputs; prints one table. Needs libcuda + libnvrtc on the loader path and python3 + torch.
set -uo pipefail
DIR=$(cd "${1:-$(dirname "$0")}" && pwd)
WORK=$(mktemp -d /tmp/lexpro-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
status=0
echo "== parity tests"
timeout 240 "$DIR/sampler_gpu" --test-threads=1 --nocapture || status=1
echo "== benchmark"
LEXPRO_BENCH_DIR="$WORK" timeout 180 "$DIR/sampler_gpu" --ignored --exact gpu_benchmark --nocapture >"$WORK/bench.log" 2>&1 \
  || { status=1; cat "$WORK/bench.log"; }
cat "$WORK/lexpro.jsonl" 2>/dev/null || true
timeout 120 python3 "$DIR/gpu_reference.py" "$WORK" || status=1
exit $status
