//! `CudaSampler`: the fused kernels of `kernels/sampler.cu`, compiled by NVRTC at run time and launched
//! through cudarc (dynamic loading: the crate builds and runs its CPU path without any CUDA install).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use cudarc::driver::sys::{CUevent_flags, CUgraphInstantiate_flags, CUstreamCaptureMode};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaGraph, CudaSlice, CudaStream, DevicePtr, DeviceRepr, LaunchConfig, ValidAsZeroBits,
    PushKernelArg,
};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions};

use super::{decode_results, mask_words, plan_batch, Batch, Logits, RowPlan, SampleError, Sampler};

/// The kernel source, embedded so the binary needs no file at run time.
pub const KERNEL_SOURCE: &str = include_str!("../../../kernels/sampler.cu");

/// Threads per block (`THREADS` in the kernel).
const THREADS: u32 = 512;
/// Dynamic shared memory: the compacted candidate list, `CAP` ids + `CAP` values.
const LIST_BYTES: u32 = 4096 * 8;
/// Most blocks one row is split over (split kernels).
const MAX_PIECES: usize = 256;
/// Fewest 4-token groups per block of a split row: below that the per-block overhead dominates.
const MIN_GROUPS_PER_PIECE: usize = 256;

// SAFETY: RowPlan is `repr(C)`, plain old data of 12 u32-sized fields, the layout of the kernel struct.
unsafe impl DeviceRepr for RowPlan {}
// SAFETY: all-zero bits are a valid RowPlan (plain integers and floats).
unsafe impl ValidAsZeroBits for RowPlan {}

fn dev<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> SampleError + '_ {
    move |e| SampleError::Device(format!("{what}: {e:?}"))
}

/// NVRTC options shared by the run-time build and the CI compile check: no FMA contraction (the CPU
/// twin does not contract), IEEE division, and the given virtual architecture (e.g. `compute_90`).
pub fn nvrtc_options(arch: &str) -> CompileOptions {
    CompileOptions {
        fmad: Some(false),
        prec_div: Some(true),
        ftz: Some(false),
        options: vec![format!("--gpu-architecture={arch}"), "--std=c++17".into()],
        name: Some("sampler.cu".into()),
        ..Default::default()
    }
}

/// Compiles the kernels to PTX; `Err` with the NVRTC log on a compile error or a missing library.
pub fn compile_kernels(arch: &str) -> Result<String, SampleError> {
    // SAFETY: only probes whether the shared library can be opened.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(SampleError::Device("NVRTC library (libnvrtc) not found".into()));
    }
    let opts = nvrtc_options(arch);
    let ptx = catch_unwind(AssertUnwindSafe(|| compile_ptx_with_opts(KERNEL_SOURCE, opts)))
        .map_err(|_| SampleError::Device("NVRTC panicked".into()))?
        .map_err(|e| match e {
            cudarc::nvrtc::CompileError::CompileError { log, .. } => {
                SampleError::Device(format!("NVRTC: {}", log.to_string_lossy()))
            }
            other => SampleError::Device(format!("NVRTC: {other:?}")),
        })?;
    Ok(ptx.to_src())
}

/// The CUDA sampler (one context, one stream, all kernels loaded).
pub struct CudaSampler {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    f32_fn: CudaFunction,
    bf16_fn: CudaFunction,
    split_f32_fn: CudaFunction,
    split_bf16_fn: CudaFunction,
    /// Launch the split kernels (rows over several blocks, noise pruning) instead of the original ones.
    split: bool,
    sms: usize,
    device: String,
}

impl std::fmt::Debug for CudaSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaSampler").field("device", &self.device).finish()
    }
}

/// A batch resident on the device: the step's inputs and the result buffer.
pub struct DeviceBatch {
    logits: DeviceLogits,
    mask: Option<CudaSlice<u32>>,
    plans: CudaSlice<RowPlan>,
    out: CudaSlice<i32>,
    /// Split kernels: per-(row, piece) partial results (3 words each) and per-row tickets (kept zero
    /// between launches by the kernel itself).
    part: CudaSlice<u64>,
    count: CudaSlice<u32>,
    pieces: u32,
    vocab: u32,
    rows: usize,
}

enum DeviceLogits {
    F32(CudaSlice<f32>),
    Bf16(CudaSlice<u16>),
}

impl DeviceBatch {
    /// Rows in the batch.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// A captured sampling step (CUDA graph) replayable with one call.
pub struct StepGraph {
    graph: CudaGraph,
}

impl StepGraph {
    /// Replays the captured launch on its stream (asynchronous).
    pub fn replay(&self) -> Result<(), SampleError> {
        self.graph.launch().map_err(dev("graph launch"))
    }
}

impl CudaSampler {
    /// Opens device 0 and builds the kernels; `Err` (never a panic) without a driver, device or NVRTC.
    pub fn new() -> Result<Self, SampleError> {
        // SAFETY: only probes whether the shared library can be opened.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err(SampleError::Device("no CUDA driver (libcuda) found".into()));
        }
        let ctx = catch_unwind(|| CudaContext::new(0))
            .map_err(|_| SampleError::Device("CUDA initialisation panicked".into()))?
            .map_err(dev("no usable CUDA device"))?;
        // One stream, in order: cudarc's cross-stream event tracking is not needed and would put
        // event records into captured graphs.
        // SAFETY: every buffer of this sampler is used on `stream` only.
        unsafe { ctx.disable_event_tracking() };
        let (major, minor) = ctx.compute_capability().map_err(dev("compute capability"))?;
        let ptx = compile_kernels(&format!("compute_{major}{minor}"))?;
        let module = ctx
            .load_module(cudarc::nvrtc::Ptx::from_src(ptx))
            .map_err(dev("load PTX"))?;
        let f32_fn = module.load_function("lexpro_sample_f32").map_err(dev("kernel f32"))?;
        let bf16_fn = module.load_function("lexpro_sample_bf16").map_err(dev("kernel bf16"))?;
        let split_f32_fn = module.load_function("lexpro_sample_split_f32").map_err(dev("kernel split f32"))?;
        let split_bf16_fn = module.load_function("lexpro_sample_split_bf16").map_err(dev("kernel split bf16"))?;
        let stream = ctx.new_stream().map_err(dev("stream"))?;
        let device = ctx.name().unwrap_or_else(|_| "cuda device".into());
        let sms = ctx
            .attribute(cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .map_err(dev("multiprocessor count"))?;
        Ok(Self {
            ctx,
            stream,
            f32_fn,
            bf16_fn,
            split_f32_fn,
            split_bf16_fn,
            split: true,
            sms: usize::try_from(sms).unwrap_or(1).max(1),
            device,
        })
    }

    /// Chooses the kernels: `true` (the default) launches the split kernels (a row spread over several
    /// blocks when the batch is small, and noise pruning in the draw), `false` the original one block
    /// per row. Both give the CPU twin's tokens; the original stays for comparison and as a fallback.
    pub fn set_split(&mut self, on: bool) {
        self.split = on;
    }

    /// Whether the split kernels are used (see [`CudaSampler::set_split`]).
    pub fn split(&self) -> bool {
        self.split
    }

    /// Blocks per row of the split kernels: enough blocks for about two per SM over the batch, at
    /// least `MIN_GROUPS_PER_PIECE` groups each, at most `MAX_PIECES`.
    fn pieces_for(&self, rows: usize, vocab: usize) -> usize {
        let groups = vocab.div_ceil(4);
        let want = (2 * self.sms).div_ceil(rows.max(1));
        want.min(groups.div_ceil(MIN_GROUPS_PER_PIECE)).clamp(1, MAX_PIECES)
    }

    /// The device's name.
    pub fn device_name(&self) -> &str {
        &self.device
    }

    /// Copies a batch to the device (checks its shape and parameters first).
    pub fn upload(&self, batch: &Batch<'_>) -> Result<DeviceBatch, SampleError> {
        let plans = plan_batch(batch)?;
        let s = &self.stream;
        let logits = match batch.logits {
            Logits::F32(x) => DeviceLogits::F32(s.clone_htod(x).map_err(dev("upload logits"))?),
            Logits::Bf16(x) => DeviceLogits::Bf16(s.clone_htod(x).map_err(dev("upload logits"))?),
        };
        let mask = match batch.mask {
            Some(m) => Some(s.clone_htod(m).map_err(dev("upload mask"))?),
            None => None,
        };
        let rows = batch.rows.len();
        // Zero-length device buffers are not allowed: an empty batch keeps one unused slot.
        let plans_d = if plans.is_empty() {
            s.alloc_zeros::<RowPlan>(1).map_err(dev("alloc plans"))?
        } else {
            s.clone_htod(&plans).map_err(dev("upload plans"))?
        };
        let out = s.alloc_zeros::<i32>(rows.max(1)).map_err(dev("alloc out"))?;
        let pieces = self.pieces_for(rows, batch.vocab);
        let part = s.alloc_zeros::<u64>(3 * rows.max(1) * pieces).map_err(dev("alloc partials"))?;
        let count = s.alloc_zeros::<u32>(rows.max(1)).map_err(dev("alloc tickets"))?;
        Ok(DeviceBatch {
            logits,
            mask,
            plans: plans_d,
            out,
            part,
            count,
            pieces: pieces as u32,
            vocab: batch.vocab as u32,
            rows,
        })
    }

    /// Rewrites the per-row plans (e.g. the next step) in place, keeping captured graphs valid.
    pub fn update_rows(&self, db: &mut DeviceBatch, batch: &Batch<'_>) -> Result<(), SampleError> {
        let plans = plan_batch(batch)?;
        if plans.len() != db.rows || batch.vocab as u32 != db.vocab {
            return Err(SampleError::Shape("update_rows: batch shape differs from the uploaded one".into()));
        }
        if plans.is_empty() {
            return Ok(());
        }
        self.stream.memcpy_htod(&plans, &mut db.plans).map_err(dev("upload plans"))
    }

    /// Enqueues one sampling step (asynchronous: no host synchronisation).
    pub fn launch(&self, db: &mut DeviceBatch) -> Result<(), SampleError> {
        if db.rows == 0 {
            return Ok(());
        }
        let pieces = if self.split { db.pieces } else { 1 };
        let cfg = LaunchConfig {
            grid_dim: (db.rows as u32, pieces, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: LIST_BYTES,
        };
        let s = &self.stream;
        let mask_ptr: u64 = match &db.mask {
            Some(m) => m.device_ptr(s).0,
            None => 0,
        };
        if self.split {
            let (func, mut b) = match &db.logits {
                DeviceLogits::F32(x) => {
                    let mut b = s.launch_builder(&self.split_f32_fn);
                    b.arg(x);
                    ("split f32", b)
                }
                DeviceLogits::Bf16(x) => {
                    let mut b = s.launch_builder(&self.split_bf16_fn);
                    b.arg(x);
                    ("split bf16", b)
                }
            };
            b.arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out).arg(&mut db.part).arg(&mut db.count);
            // SAFETY: argument list matches `lexpro_sample_split_*`; `upload` sized `part` for
            // rows * pieces * 3 words and `count` (zeroed) for one word per row.
            return unsafe { b.launch(cfg) }.map(|_| ()).map_err(dev(func));
        }
        let res = match &db.logits {
            DeviceLogits::F32(x) => {
                let mut b = s.launch_builder(&self.f32_fn);
                b.arg(x).arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out);
                // SAFETY: argument list matches `lexpro_sample_f32`; buffers are sized by `upload`.
                unsafe { b.launch(cfg) }
            }
            DeviceLogits::Bf16(x) => {
                let mut b = s.launch_builder(&self.bf16_fn);
                b.arg(x).arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out);
                // SAFETY: argument list matches `lexpro_sample_bf16`; buffers are sized by `upload`.
                unsafe { b.launch(cfg) }
            }
        };
        res.map(|_| ()).map_err(dev("launch"))
    }

    /// Waits for the step and returns the tokens (or the lowest row's error).
    pub fn results(&self, db: &DeviceBatch) -> Result<Vec<u32>, SampleError> {
        if db.rows == 0 {
            return Ok(Vec::new());
        }
        let codes = self.stream.clone_dtoh(&db.out).map_err(dev("download"))?;
        decode_results(&codes)
    }

    /// Captures one launch into a CUDA graph.
    pub fn capture(&self, db: &mut DeviceBatch) -> Result<StepGraph, SampleError> {
        self.stream
            .begin_capture(CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
            .map_err(dev("begin capture"))?;
        let launched = self.launch(db);
        let graph = self.stream.end_capture(CUgraphInstantiate_flags(0)).map_err(dev("end capture"))?;
        launched?;
        let graph = graph.ok_or_else(|| SampleError::Device("empty graph".into()))?;
        graph.upload().map_err(dev("graph upload"))?;
        Ok(StepGraph { graph })
    }

    /// Waits for all queued work.
    pub fn synchronize(&self) -> Result<(), SampleError> {
        self.stream.synchronize().map_err(dev("synchronize"))
    }

    /// Mean device time in microseconds of `iters` runs of `step`, timed with CUDA events.
    pub fn time_us(&self, iters: u32, mut step: impl FnMut() -> Result<(), SampleError>) -> Result<f64, SampleError> {
        let flags = Some(CUevent_flags::CU_EVENT_DEFAULT);
        let start = self.ctx.new_event(flags).map_err(dev("event"))?;
        let end = self.ctx.new_event(flags).map_err(dev("event"))?;
        start.record(&self.stream).map_err(dev("event"))?;
        for _ in 0..iters {
            step()?;
        }
        end.record(&self.stream).map_err(dev("event"))?;
        end.synchronize().map_err(dev("event"))?;
        let ms = start.elapsed_ms(&end).map_err(dev("event"))?;
        Ok(f64::from(ms) * 1000.0 / f64::from(iters.max(1)))
    }

    /// Device-to-device copy bandwidth in bytes/s counting read + write (the memory-floor yardstick).
    pub fn copy_bandwidth(&self, bytes: usize) -> Result<f64, SampleError> {
        let n = bytes / 4;
        let src = self.stream.alloc_zeros::<u32>(n).map_err(dev("alloc"))?;
        let mut dst = self.stream.alloc_zeros::<u32>(n).map_err(dev("alloc"))?;
        for _ in 0..3 {
            self.stream.memcpy_dtod(&src, &mut dst).map_err(dev("copy"))?;
        }
        let us = self.time_us(20, || self.stream.memcpy_dtod(&src, &mut dst).map_err(dev("copy")))?;
        Ok((2 * n * 4) as f64 / (us * 1e-6))
    }

    /// Mask words a row needs (re-exported for callers that build device masks).
    pub fn mask_words(vocab: usize) -> usize {
        mask_words(vocab)
    }
}

impl Sampler for CudaSampler {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn sample(&mut self, batch: &Batch<'_>) -> Result<Vec<u32>, SampleError> {
        let mut db = self.upload(batch)?;
        self.launch(&mut db)?;
        self.results(&db)
    }
}
