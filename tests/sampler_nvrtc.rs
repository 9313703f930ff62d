//! CI hook: every `kernels/*.cu` compiles to PTX with NVRTC (no GPU needed), so a syntax error in a
//! kernel can never land. Skips with a notice when the NVRTC library is not on the loader path
//! (`pip install nvidia-cuda-nvrtc`, then add its `nvidia/cu13/lib` to `LD_LIBRARY_PATH`).
#![cfg(feature = "cuda")]

use lexpro::sample::{compile_kernels, nvrtc_options};

fn nvrtc_present() -> bool {
    // SAFETY: only probes whether the shared library can be opened.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

#[test]
fn sampler_kernels_compile_to_ptx() {
    if !nvrtc_present() {
        eprintln!("skipping sampler_kernels_compile_to_ptx: libnvrtc not found (pip install nvidia-cuda-nvrtc)");
        return;
    }
    // Hopper (the GPU check machines) and the oldest architecture the kernels claim (u64 shared atomics).
    for arch in ["compute_90", "compute_80"] {
        let ptx = compile_kernels(arch).unwrap_or_else(|e| panic!("{arch}: {e}"));
        for name in [
            "lexpro_sample_f32",
            "lexpro_sample_bf16",
            "lexpro_sample_split_f32",
            "lexpro_sample_split_bf16",
            "lexpro_wide_pass1_f32",
            "lexpro_wide_pass1_bf16",
            "lexpro_wide_hist_f32",
            "lexpro_wide_hist_bf16",
            "lexpro_wide_draw_f32",
            "lexpro_wide_draw_bf16",
        ] {
            assert!(ptx.contains(&format!(".entry {name}")), "{arch}: no entry {name}");
        }
        // No contraction: the CPU twin's arithmetic has no fused multiply-adds on floats.
        assert!(!ptx.contains("fma.rn.f32"), "{arch}: f32 FMA in PTX breaks CPU parity");
    }
}

#[test]
fn every_kernel_file_compiles() {
    if !nvrtc_present() {
        eprintln!("skipping every_kernel_file_compiles: libnvrtc not found (pip install nvidia-cuda-nvrtc)");
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("kernels/ exists") {
        let path = entry.expect("readable dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("cu") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("readable kernel source");
        if let Err(e) = cudarc::nvrtc::compile_ptx_with_opts(src, nvrtc_options("compute_90")) {
            panic!("{}: {e:?}", path.display());
        }
        n += 1;
    }
    assert!(n >= 1, "no kernels found in {}", dir.display());
}
