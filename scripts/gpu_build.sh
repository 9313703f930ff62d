#!/usr/bin/env bash
# Builds the GPU check bundle on the development machine (x86-64, no GPU needed): the release test
# binary of tests/sampler_gpu.rs with `--features cuda` (it carries the parity tests and the
# benchmark; the kernels are embedded and compiled by NVRTC on the GPU machine), plus the two scripts
# that run there. Usage: scripts/gpu_build.sh [OUT_DIR]   (default .gpu-bundle, < 64 MiB)
# LEXPRO_MANIFEST may point at another Cargo.toml holding the same src/sample (for a scratch build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/.gpu-bundle}
MANIFEST=${LEXPRO_MANIFEST:-$ROOT/Cargo.toml}
mkdir -p "$OUT"
exe=$(cargo test --release --features cuda --manifest-path "$MANIFEST" --test sampler_gpu --no-run \
        --message-format=json-render-diagnostics \
      | python3 -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "sampler_gpu":
        print(m["executable"])')
[ -n "$exe" ] || { echo "gpu_build: no sampler_gpu test binary was built" >&2; exit 1; }
cp "$exe" "$OUT/sampler_gpu"
strip "$OUT/sampler_gpu" 2>/dev/null || true
cp "$ROOT/scripts/gpu_check.sh" "$ROOT/scripts/gpu_reference.py" "$OUT/"
chmod +x "$OUT/sampler_gpu" "$OUT/gpu_check.sh"
du -sh "$OUT"
