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

use super::{
    auto_wants_wide, decode_results, mask_words, plan_batch, Batch, KernelFamily, Logits, RowPlan, SampleError,
    Sampler, AUTO_WIDE_MAX_ROWS,
};

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
/// Wide kernels' scratch per row: a `WideState` (64 bytes = 8 u64), the global histogram (`NBINS`
/// counts and weights) and the candidate list (`CAP` ids and values), as in kernels/sampler.cu.
const WIDE_STATE_WORDS: usize = 8;
const NBINS: usize = 1024;
const CAP: usize = 4096;

// SAFETY: RowPlan is `repr(C)`, plain old data of 12 u32-sized fields, the layout of the kernel struct.
unsafe impl DeviceRepr for RowPlan {}
// SAFETY: all-zero bits are a valid RowPlan (plain integers and floats).
unsafe impl ValidAsZeroBits for RowPlan {}

fn dev<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> SampleError + '_ {
    move |e| SampleError::Device(format!("{what}: {e:?}"))
}

/// NVRTC options shared by the run-time build and the CI compile check: no FMA contraction (the CPU
/// twin does not contract), IEEE division, and the given virtual architecture (e.g. `compute_90`).
/// `LEXPRO_CUDA_LINEINFO` set adds source line information, for a profiler's per-line view.
pub fn nvrtc_options(arch: &str) -> CompileOptions {
    let mut options = vec![format!("--gpu-architecture={arch}"), "--std=c++17".into()];
    if std::env::var_os("LEXPRO_CUDA_LINEINFO").is_some() {
        options.push("--generate-line-info".into());
    }
    CompileOptions {
        fmad: Some(false),
        prec_div: Some(true),
        ftz: Some(false),
        options,
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

/// One kernel in its f32 and bf16 instantiations.
struct KernelPair {
    f32: CudaFunction,
    bf16: CudaFunction,
}

impl KernelPair {
    fn load(module: &Arc<cudarc::driver::CudaModule>, base: &str) -> Result<Self, SampleError> {
        let f32_name = format!("{base}_f32");
        let bf16_name = format!("{base}_bf16");
        Ok(Self {
            f32: module.load_function(&f32_name).map_err(dev(&f32_name))?,
            bf16: module.load_function(&bf16_name).map_err(dev(&bf16_name))?,
        })
    }

    fn for_logits(&self, logits: &DeviceLogits) -> &CudaFunction {
        match logits {
            DeviceLogits::F32(_) => &self.f32,
            DeviceLogits::Bf16(_) => &self.bf16,
        }
    }
}

/// The CUDA sampler (one context, one stream, all kernels loaded).
pub struct CudaSampler {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    original: KernelPair,
    split: KernelPair,
    wide_pass1: KernelPair,
    wide_hist: KernelPair,
    wide_draw: KernelPair,
    family: KernelFamily,
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
    /// Split and wide kernels: per-(row, piece) partial results (3 words each) and per-row tickets
    /// (kept zero between launches by the kernels themselves).
    part: CudaSlice<u64>,
    count: CudaSlice<u32>,
    /// Wide kernels' scratch, allocated by `upload` when the wide family is selected, or `Auto` for a
    /// batch of at most `AUTO_WIDE_MAX_ROWS` rows or one whose plans want the wide kernels.
    wide: Option<WideScratch>,
    /// `auto_wants_wide` of the rows' current plans: what `Auto` chooses by.
    auto_wide: bool,
    pieces: u32,
    vocab: u32,
    rows: usize,
}

/// Per-row scratch of the wide kernels (zeroed; the kernels leave it zeroed after each step).
struct WideScratch {
    state: CudaSlice<u64>,
    hist_cnt: CudaSlice<u32>,
    hist_wt: CudaSlice<u64>,
    list_ids: CudaSlice<u32>,
    list_zs: CudaSlice<f32>,
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
        let original = KernelPair::load(&module, "lexpro_sample")?;
        let split = KernelPair::load(&module, "lexpro_sample_split")?;
        let wide_pass1 = KernelPair::load(&module, "lexpro_wide_pass1")?;
        let wide_hist = KernelPair::load(&module, "lexpro_wide_hist")?;
        let wide_draw = KernelPair::load(&module, "lexpro_wide_draw")?;
        let stream = ctx.new_stream().map_err(dev("stream"))?;
        let device = ctx.name().unwrap_or_else(|_| "cuda device".into());
        let sms = ctx
            .attribute(cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .map_err(dev("multiprocessor count"))?;
        Ok(Self {
            ctx,
            stream,
            original,
            split,
            wide_pass1,
            wide_hist,
            wide_draw,
            family: KernelFamily::Auto,
            sms: usize::try_from(sms).unwrap_or(1).max(1),
            device,
        })
    }

    /// Chooses the kernels (default [`KernelFamily::Auto`]). All give the CPU twin's tokens. A batch
    /// uploaded before the change keeps working unless the change is to [`KernelFamily::Wide`], whose
    /// scratch `upload` allocates only while it (or `Auto`, for a batch it would launch them on) is
    /// selected: upload such a batch again.
    pub fn set_family(&mut self, family: KernelFamily) {
        self.family = family;
    }

    /// The kernels launched (see [`CudaSampler::set_family`]).
    pub fn family(&self) -> KernelFamily {
        self.family
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
        let auto_wide = auto_wants_wide(&plans);
        let wants_wide = match self.family {
            KernelFamily::Wide => true,
            KernelFamily::Auto => rows <= AUTO_WIDE_MAX_ROWS || auto_wide,
            KernelFamily::Original | KernelFamily::Split => false,
        };
        let wide = if wants_wide {
            let n = rows.max(1);
            Some(WideScratch {
                state: s.alloc_zeros::<u64>(WIDE_STATE_WORDS * n).map_err(dev("alloc wide state"))?,
                hist_cnt: s.alloc_zeros::<u32>(NBINS * n).map_err(dev("alloc wide histogram"))?,
                hist_wt: s.alloc_zeros::<u64>(NBINS * n).map_err(dev("alloc wide histogram"))?,
                list_ids: s.alloc_zeros::<u32>(CAP * n).map_err(dev("alloc wide list"))?,
                list_zs: s.alloc_zeros::<f32>(CAP * n).map_err(dev("alloc wide list"))?,
            })
        } else {
            None
        };
        Ok(DeviceBatch {
            logits,
            mask,
            plans: plans_d,
            out,
            part,
            count,
            wide,
            auto_wide,
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
        db.auto_wide = auto_wants_wide(&plans);
        self.stream.memcpy_htod(&plans, &mut db.plans).map_err(dev("upload plans"))
    }

    /// Enqueues one sampling step (asynchronous: no host synchronisation). The wide family enqueues
    /// its three kernels; a captured graph holds all of them.
    pub fn launch(&self, db: &mut DeviceBatch) -> Result<(), SampleError> {
        if db.rows == 0 {
            return Ok(());
        }
        let family = match self.family {
            KernelFamily::Auto if db.auto_wide && db.wide.is_some() => KernelFamily::Wide,
            KernelFamily::Auto => KernelFamily::Split,
            f => f,
        };
        let pieces = if family == KernelFamily::Original { 1 } else { db.pieces };
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
        let logits_ptr: u64 = match &db.logits {
            DeviceLogits::F32(x) => x.device_ptr(s).0,
            DeviceLogits::Bf16(x) => x.device_ptr(s).0,
        };
        match family {
            KernelFamily::Original => {
                let mut b = s.launch_builder(self.original.for_logits(&db.logits));
                b.arg(&logits_ptr).arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out);
                // SAFETY: argument list matches `lexpro_sample_{f32,bf16}` (the logits pointer is the
                // buffer of the kernel's element type); buffers are sized by `upload`.
                unsafe { b.launch(cfg) }.map(|_| ()).map_err(dev("launch original"))
            }
            KernelFamily::Split | KernelFamily::Auto => {
                let mut b = s.launch_builder(self.split.for_logits(&db.logits));
                b.arg(&logits_ptr).arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out);
                b.arg(&mut db.part).arg(&mut db.count);
                // SAFETY: argument list matches `lexpro_sample_split_*`; `upload` sized `part` for
                // rows * pieces * 3 words and `count` (zeroed) for one word per row.
                unsafe { b.launch(cfg) }.map(|_| ()).map_err(dev("launch split"))
            }
            KernelFamily::Wide => {
                let Some(w) = db.wide.as_mut() else {
                    return Err(SampleError::Shape(
                        "batch uploaded before the wide kernels were selected: upload it again".into(),
                    ));
                };
                let mut b = s.launch_builder(self.wide_pass1.for_logits(&db.logits));
                b.arg(&logits_ptr).arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out);
                b.arg(&mut db.part).arg(&mut db.count).arg(&mut w.state);
                // SAFETY: argument list matches `lexpro_wide_pass1_*`; `part` and `count` as for the
                // split kernels, `state` holds one zeroed 64-byte WideState per row.
                unsafe { b.launch(cfg) }.map_err(dev("launch wide pass 1"))?;
                let mut b = s.launch_builder(self.wide_hist.for_logits(&db.logits));
                b.arg(&logits_ptr).arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out);
                b.arg(&mut db.count).arg(&mut w.state).arg(&mut w.hist_cnt).arg(&mut w.hist_wt);
                // SAFETY: argument list matches `lexpro_wide_hist_*`; the histograms hold NBINS zeroed
                // words per row.
                unsafe { b.launch(cfg) }.map_err(dev("launch wide histogram"))?;
                let mut b = s.launch_builder(self.wide_draw.for_logits(&db.logits));
                b.arg(&logits_ptr).arg(&mask_ptr).arg(&db.plans).arg(&db.vocab).arg(&mut db.out);
                b.arg(&mut db.count).arg(&mut w.state).arg(&mut w.list_ids).arg(&mut w.list_zs);
                // SAFETY: argument list matches `lexpro_wide_draw_*`; the lists hold CAP words per row.
                unsafe { b.launch(cfg) }.map(|_| ()).map_err(dev("launch wide draw"))
            }
        }
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
