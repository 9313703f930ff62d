//! Stage 8 — token sampling: the CPU reference and the CUDA kernels (issue 7).
