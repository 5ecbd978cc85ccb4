//! The CUDA backend: the `.cu` sources under `cuda/`, compiled by NVRTC at run time (once per
//! device and profile, then cached), launched through the driver API. Both libraries are loaded
//! dynamically, so the crate builds and runs where CUDA is not installed.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DeviceRepr, LaunchConfig,
    PushKernelArg,
};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx};

use crate::error::GpuError;
use crate::quant::QuantModel;
use crate::render::prepared::{
    GpuBvhNode, GpuMaterial, GpuPlane, GpuSphere, GpuTriangle, PreparedScene, RenderParams,
};

/// The NVRTC options of every kernel the worker runs: no contraction into FMA, IEEE division
/// and square root. NVRTC's default `--ftz=false` (denormals kept) is relied on as well;
/// `scripts/check-kernels.sh` checks the PTX for `.ftz`, `fma.`, `.approx` and `atom.`.
pub const NVRTC_OPTIONS: [&str; 3] = ["--fmad=false", "--prec-div=true", "--prec-sqrt=true"];

/// Compiler settings. Only [`NvrtcProfile::Deterministic`] gives results that match the CPU
/// reference; the others exist to measure what determinism costs and must never be used for
/// a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NvrtcProfile {
    /// [`NVRTC_OPTIONS`].
    Deterministic,
    /// The same with `--fmad=true` (multiply-adds may be fused).
    Fmad,
    /// `--use_fast_math` (FMA, approximate division and square root, flush to zero).
    FastMath,
}

impl NvrtcProfile {
    pub fn options(self) -> Vec<String> {
        let v: &[&str] = match self {
            NvrtcProfile::Deterministic => &NVRTC_OPTIONS,
            NvrtcProfile::Fmad => &["--fmad=true", "--prec-div=true", "--prec-sqrt=true"],
            NvrtcProfile::FastMath => &["--use_fast_math"],
        };
        v.iter().map(|s| s.to_string()).collect()
    }
}

/// A CUDA source file and the kernels it defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CudaSource {
    Render,
    Gemm,
}

impl CudaSource {
    pub const ALL: [CudaSource; 2] = [CudaSource::Render, CudaSource::Gemm];

    /// File name under `cuda/`.
    pub fn file_name(self) -> &'static str {
        match self {
            CudaSource::Render => "render.cu",
            CudaSource::Gemm => "gemm.cu",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            CudaSource::Render => include_str!("../cuda/render.cu"),
            CudaSource::Gemm => include_str!("../cuda/gemm.cu"),
        }
    }

    /// The `extern "C"` kernels of the file.
    pub fn kernels(self) -> &'static [&'static str] {
        match self {
            CudaSource::Render => &["render_rect"],
            CudaSource::Gemm => &["gemm_i8_requant"],
        }
    }
}

/// Whether the CUDA driver and NVRTC libraries can be loaded.
pub fn libraries_present() -> (bool, bool) {
    // SAFETY: these only try to dlopen the libraries by name; nothing is called.
    unsafe {
        (
            cudarc::driver::sys::is_culib_present(),
            cudarc::nvrtc::sys::is_culib_present(),
        )
    }
}

/// Compiles a source to PTX with NVRTC: the code path of the worker, also used by
/// `examples/compile_ptx.rs` and `scripts/check-kernels.sh`. `arch` is a virtual architecture
/// such as `compute_90`; `None` leaves NVRTC's default.
pub fn compile_ptx(
    source: CudaSource,
    profile: NvrtcProfile,
    arch: Option<&str>,
) -> Result<String, GpuError> {
    let (_, nvrtc) = libraries_present();
    if !nvrtc {
        return Err(GpuError::Unavailable(
            "the NVRTC library (libnvrtc) was not found on the library path".into(),
        ));
    }
    let mut options = profile.options();
    if let Some(a) = arch {
        options.push(format!("--gpu-architecture={a}"));
    }
    let opts = CompileOptions {
        options,
        name: Some(source.file_name().to_string()),
        ..Default::default()
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        compile_ptx_with_opts(source.source(), opts)
    }))
    .map_err(|_| GpuError::Unavailable("NVRTC failed to load".into()))?;
    result
        .map(|ptx| ptx.to_src())
        .map_err(|e| GpuError::Compile {
            source_name: source.file_name(),
            message: e.to_string(),
        })
}

// SAFETY: plain `#[repr(C)]` structs of u32/f32 fields with no padding and no pointers; their
// layouts are mirrored by the structs of `cuda/render.cu`.
unsafe impl DeviceRepr for RenderParams {}
unsafe impl DeviceRepr for GpuMaterial {}
unsafe impl DeviceRepr for GpuSphere {}
unsafe impl DeviceRepr for GpuPlane {}
unsafe impl DeviceRepr for GpuTriangle {}
unsafe impl DeviceRepr for GpuBvhNode {}

/// PTX already compiled in this process, by (source, profile, arch).
type PtxCache = Mutex<HashMap<(CudaSource, NvrtcProfile, String), String>>;

fn ptx_cache() -> &'static PtxCache {
    static CACHE: OnceLock<PtxCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// One CUDA device with its compiled modules.
pub struct CudaDevice {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    name: String,
    compute_capability: (i32, i32),
    profile: NvrtcProfile,
    modules: Mutex<HashMap<CudaSource, Arc<CudaModule>>>,
}

impl std::fmt::Debug for CudaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaDevice")
            .field("ordinal", &self.ctx.ordinal())
            .field("name", &self.name)
            .field("compute_capability", &self.compute_capability)
            .field("profile", &self.profile)
            .finish()
    }
}

/// Row bands of a render launch are cut so that one launch traces at most about this many rays.
const RAYS_PER_LAUNCH: u64 = 1 << 28;
/// Threads of a render block: 16 × 8.
pub const RENDER_BLOCK: (u32, u32) = (16, 8);
/// Tile sizes of `gemm.cu`.
pub const GEMM_BM: u32 = 64;
pub const GEMM_BN: u32 = 64;
pub const GEMM_THREADS: u32 = 256;

/// The launches that render the rectangle of `params`: (first row, rows, launch config).
pub fn render_launches(params: &RenderParams) -> Vec<(u32, u32, LaunchConfig)> {
    let per_row = params.rect_w as u64 * params.samples as u64 * params.max_bounces as u64;
    let band = (RAYS_PER_LAUNCH / per_row.max(1)).clamp(1, params.rect_h.max(1) as u64) as u32;
    let band = band.div_ceil(RENDER_BLOCK.1) * RENDER_BLOCK.1;
    let mut out = Vec::new();
    let mut row0 = 0;
    while row0 < params.rect_h {
        let rows = band.min(params.rect_h - row0);
        out.push((
            row0,
            rows,
            LaunchConfig {
                grid_dim: (
                    params.rect_w.div_ceil(RENDER_BLOCK.0),
                    rows.div_ceil(RENDER_BLOCK.1),
                    1,
                ),
                block_dim: (RENDER_BLOCK.0, RENDER_BLOCK.1, 1),
                shared_mem_bytes: 0,
            },
        ));
        row0 += rows;
    }
    out
}

/// The launch of one quantized layer of `rows × n` outputs.
pub fn gemm_launch(rows: u32, n: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (n.div_ceil(GEMM_BN), rows.div_ceil(GEMM_BM), 1),
        block_dim: (GEMM_THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// `v` with at least one element: the driver cannot allocate zero bytes.
fn non_empty<T: Copy + Default>(v: &[T]) -> Vec<T> {
    if v.is_empty() {
        vec![T::default()]
    } else {
        v.to_vec()
    }
}

/// Copies `rows × k` int8 into `rows × round_up(k, 4)`, zero-padded: the kernel reads each row
/// as 32-bit words of four features.
pub fn pad_i8_rows(v: &[i8], rows: usize, k: usize) -> Vec<i8> {
    let stride = k.div_ceil(4) * 4;
    let mut out = vec![0i8; rows * stride];
    for r in 0..rows {
        out[r * stride..r * stride + k].copy_from_slice(&v[r * k..(r + 1) * k]);
    }
    out
}

impl CudaDevice {
    /// Opens device `ordinal` with the deterministic profile.
    pub fn new(ordinal: usize) -> Result<CudaDevice, GpuError> {
        CudaDevice::with_profile(ordinal, NvrtcProfile::Deterministic)
    }

    /// Opens device `ordinal`, compiling kernels with `profile` (benchmarks only).
    pub fn with_profile(ordinal: usize, profile: NvrtcProfile) -> Result<CudaDevice, GpuError> {
        match libraries_present() {
            (false, _) => {
                return Err(GpuError::Unavailable(
                    "the CUDA driver library (libcuda) was not found".into(),
                ))
            }
            (_, false) => {
                return Err(GpuError::Unavailable(
                    "the NVRTC library (libnvrtc) was not found on the library path".into(),
                ))
            }
            _ => {}
        }
        let opened = catch_unwind(|| -> Result<_, GpuError> {
            let count = CudaContext::device_count()?;
            if ordinal as i64 >= count as i64 {
                return Err(GpuError::Unavailable(format!(
                    "device {ordinal} asked for, {count} present"
                )));
            }
            let ctx = CudaContext::new(ordinal)?;
            let name = ctx.name()?;
            let cc = ctx.compute_capability()?;
            Ok((ctx, name, cc))
        })
        .map_err(|_| GpuError::Unavailable("the CUDA driver failed to load".into()))?;
        let (ctx, name, compute_capability) = opened?;
        if compute_capability < (6, 1) {
            return Err(GpuError::Unavailable(format!(
                "{name} has compute capability {}.{}; 6.1 or later is needed",
                compute_capability.0, compute_capability.1
            )));
        }
        let stream = ctx.default_stream();
        Ok(CudaDevice {
            ctx,
            stream,
            name,
            compute_capability,
            profile,
            modules: Mutex::new(HashMap::new()),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn compute_capability(&self) -> (i32, i32) {
        self.compute_capability
    }

    pub fn profile(&self) -> NvrtcProfile {
        self.profile
    }

    fn module(&self, source: CudaSource) -> Result<Arc<CudaModule>, GpuError> {
        let mut modules = self.modules.lock().expect("module cache lock");
        if let Some(m) = modules.get(&source) {
            return Ok(m.clone());
        }
        let (major, minor) = self.compute_capability;
        let arch = format!("compute_{major}{minor}");
        let key = (source, self.profile, arch.clone());
        let cached = ptx_cache()
            .lock()
            .expect("ptx cache lock")
            .get(&key)
            .cloned();
        let ptx = match cached {
            Some(p) => p,
            None => {
                let p = match compile_ptx(source, self.profile, Some(&arch)) {
                    Ok(p) => p,
                    // An NVRTC older than the device does not know its architecture: PTX for
                    // sm_80 is JIT-compiled forward by the driver.
                    Err(GpuError::Compile { .. }) => {
                        compile_ptx(source, self.profile, Some("compute_80"))?
                    }
                    Err(e) => return Err(e),
                };
                ptx_cache()
                    .lock()
                    .expect("ptx cache lock")
                    .insert(key, p.clone());
                p
            }
        };
        tracing::debug!(source = source.file_name(), %arch, device = %self.name, "loading CUDA module");
        let m = self.ctx.load_module(Ptx::from_src(ptx))?;
        modules.insert(source, m.clone());
        Ok(m)
    }

    fn function(&self, source: CudaSource, name: &str) -> Result<CudaFunction, GpuError> {
        Ok(self.module(source)?.load_function(name)?)
    }

    /// Compiles and loads every kernel now (otherwise done on first use).
    pub fn warm_up(&self) -> Result<(), GpuError> {
        for s in CudaSource::ALL {
            for k in s.kernels() {
                self.function(s, k)?;
            }
        }
        Ok(())
    }

    /// Renders the rectangle (x, y, w, h): RGBA8, row-major.
    pub fn render_rect(
        &self,
        scene: &PreparedScene,
        x: u32,
        y: u32,
        w: u32,
        h: u32,
    ) -> Result<Vec<u8>, GpuError> {
        let f = self.function(CudaSource::Render, "render_rect")?;
        let params = scene.params_for_rect(x, y, w, h);
        let s = &self.stream;
        let materials = s.clone_htod(&non_empty(&scene.materials))?;
        let spheres = s.clone_htod(&non_empty(&scene.spheres))?;
        let planes = s.clone_htod(&non_empty(&scene.planes))?;
        let triangles = s.clone_htod(&non_empty(&scene.triangles))?;
        let nodes = s.clone_htod(&non_empty(&scene.nodes))?;
        let mut out = s.alloc_zeros::<u8>((w as usize) * (h as usize) * 4)?;
        for (row0, rows, cfg) in render_launches(&params) {
            let mut b = s.launch_builder(&f);
            b.arg(&params)
                .arg(&materials)
                .arg(&spheres)
                .arg(&planes)
                .arg(&triangles)
                .arg(&nodes)
                .arg(&mut out)
                .arg(&row0)
                .arg(&rows);
            // SAFETY: the arguments match `render_rect` in render.cu in number, order and
            // type; every array holds the count `params` gives (at least one element), and
            // `out` holds rect_w × rect_h × 4 bytes, the most the kernel writes.
            unsafe { b.launch(cfg) }?;
        }
        Ok(s.clone_dtoh(&out)?)
    }

    /// Uploads every layer's weights and quantization parameters.
    fn upload_layers(&self, model: &QuantModel) -> Result<Vec<DeviceLayer>, GpuError> {
        let s = &self.stream;
        model
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(DeviceLayer {
                    weight: s.clone_htod(&pad_i8_rows(&l.weight, l.n, l.k))?,
                    folded_bias: s.clone_htod(&model.folded_bias(i))?,
                    multiplier: s.clone_htod(&l.multiplier)?,
                    shift: s.clone_htod(&l.shift)?,
                    n: l.n,
                    kw: l.k.div_ceil(4),
                    zero_point: l.output_zero_point,
                    relu: l.relu,
                })
            })
            .collect()
    }

    /// Launches every layer on `rows` rows of `input` (rows padded to 4 bytes); returns the
    /// last layer's output, rows padded likewise.
    fn run_layers(
        &self,
        layers: &[DeviceLayer],
        input: &CudaSlice<i8>,
        rows: usize,
    ) -> Result<CudaSlice<i8>, GpuError> {
        let f = self.function(CudaSource::Gemm, "gemm_i8_requant")?;
        let s = &self.stream;
        let mut act: Option<CudaSlice<i8>> = None;
        for l in layers {
            let stride = l.n.div_ceil(4) * 4;
            let mut out = s.alloc_zeros::<i8>(rows * stride)?;
            let (rows_i, n_i, kw_i, stride_i) =
                (rows as i32, l.n as i32, l.kw as i32, stride as i32);
            let relu = l.relu as i32;
            let x = act.as_ref().unwrap_or(input);
            let mut b = s.launch_builder(&f);
            b.arg(x)
                .arg(&l.weight)
                .arg(&l.folded_bias)
                .arg(&l.multiplier)
                .arg(&l.shift)
                .arg(&mut out)
                .arg(&rows_i)
                .arg(&n_i)
                .arg(&kw_i)
                .arg(&stride_i)
                .arg(&l.zero_point)
                .arg(&relu);
            // SAFETY: the arguments match `gemm_i8_requant` in gemm.cu; `x` holds rows × kw
            // words and `weight` n × kw words (rows padded to 4 bytes, with zeros; device
            // allocations are 256-byte aligned, so the word reads are aligned), the
            // per-feature arrays hold n elements and `out` rows × stride bytes.
            unsafe { b.launch(gemm_launch(rows as u32, l.n as u32)) }?;
            act = Some(out);
        }
        Ok(act.expect("a model has at least one layer"))
    }

    /// Runs input rows `[start, end)` through every layer; returns their int8 outputs.
    pub fn mlp_rows(
        &self,
        model: &QuantModel,
        start: usize,
        end: usize,
    ) -> Result<Vec<i8>, GpuError> {
        let rows = end - start;
        let k0 = model.layers[0].k;
        let layers = self.upload_layers(model)?;
        let input =
            self.stream
                .clone_htod(&pad_i8_rows(&model.input[start * k0..end * k0], rows, k0))?;
        let out = self.run_layers(&layers, &input, rows)?;
        let n = model.output_features();
        let stride = n.div_ceil(4) * 4;
        let padded: Vec<i8> = self.stream.clone_dtoh(&out)?;
        let mut result = Vec::with_capacity(rows * n);
        for r in 0..rows {
            result.extend_from_slice(&padded[r * stride..r * stride + n]);
        }
        Ok(result)
    }

    /// Seconds per run of the layer kernels alone (data already on the device), averaged
    /// over `repeats` runs after a warm-up: for benchmarks.
    pub fn mlp_kernel_seconds(&self, model: &QuantModel, repeats: u32) -> Result<f64, GpuError> {
        let k0 = model.layers[0].k;
        let layers = self.upload_layers(model)?;
        let input = self
            .stream
            .clone_htod(&pad_i8_rows(&model.input, model.rows, k0))?;
        drop(self.run_layers(&layers, &input, model.rows)?);
        self.stream.synchronize()?;
        let t = std::time::Instant::now();
        for _ in 0..repeats {
            drop(self.run_layers(&layers, &input, model.rows)?);
        }
        self.stream.synchronize()?;
        Ok(t.elapsed().as_secs_f64() / repeats.max(1) as f64)
    }
}

/// One quantized layer on the device.
struct DeviceLayer {
    weight: CudaSlice<i8>,
    folded_bias: CudaSlice<i32>,
    multiplier: CudaSlice<i32>,
    shift: CudaSlice<i32>,
    n: usize,
    kw: usize,
    zero_point: i32,
    relu: bool,
}
