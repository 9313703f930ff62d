#!/usr/bin/env bash
# The whole test suite (the README's test command): unit + integration tests, the knowledge base's own
# check and embedded tests, and the CUDA kernels' NVRTC compile check (skips without NVRTC).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin lexpro
./target/release/lexpro kb check knowledge
./target/release/lexpro kb test
cargo test --release --locked
cargo test --release --locked --features cuda --test sampler_nvrtc --test sampler_gpu
