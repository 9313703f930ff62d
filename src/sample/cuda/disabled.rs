//! `CudaSampler` when the crate is built without the `cuda` feature: same interface, never available.

use super::{Batch, KernelFamily, SampleError, Sampler};

/// The CUDA sampler; this build has no CUDA support, so [`CudaSampler::new`] always fails.
#[derive(Debug)]
pub struct CudaSampler {
    // Uninhabited: no value of this type can exist in a build without CUDA.
    never: std::convert::Infallible,
}

impl CudaSampler {
    /// Always an error: rebuild with `--features cuda`.
    pub fn new() -> Result<Self, SampleError> {
        Err(SampleError::Device("built without the `cuda` feature".into()))
    }

    /// Kernel family choice of the CUDA build; nothing to choose here.
    pub fn set_family(&mut self, _family: KernelFamily) {
        match self.never {}
    }

    /// Kernel family choice of the CUDA build; no value of this type exists.
    pub fn family(&self) -> KernelFamily {
        match self.never {}
    }
}

impl Sampler for CudaSampler {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn sample(&mut self, _batch: &Batch<'_>) -> Result<Vec<u32>, SampleError> {
        match self.never {}
    }
}
