//! The CUDA backend: the `.cu` sources under `cuda/`, compiled by NVRTC at run time (once per
//! device, when the device is opened), launched through the driver API. Both libraries are
//! loaded dynamically, so the crate builds and runs where CUDA is not installed.
//!
//! The driver bindings (cudarc) are behind the `cuda` cargo feature, off by default: the SDK,
//! the CLI and verifiers build without them. Without the feature [`CudaDevice`] is a stand-in
//! whose constructors say so ([`GpuError::NotCompiled`]), and [`crate::Backend`] always picks
//! the CPU reference. What does not need a driver (launch geometry, NVRTC options, the PTX
//! rules) is compiled either way, so the host emulation and its tests run in every build.

use crate::error::GpuError;
use crate::render::prepared::RenderParams;

mod ptx;
pub use ptx::{vet_ptx, PtxViolation};

#[cfg(feature = "cuda")]
mod device;
#[cfg(feature = "cuda")]
pub(crate) use device::is_sticky;
#[cfg(feature = "cuda")]
pub use device::{compile, cuda_versions, libraries_present, Compiled, CudaDevice};

#[cfg(not(feature = "cuda"))]
mod stub;
#[cfg(not(feature = "cuda"))]
pub use stub::CudaDevice;

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
            CudaSource::Render => include_str!("../../cuda/render.cu"),
            CudaSource::Gemm => include_str!("../../cuda/gemm.cu"),
        }
    }

    /// The `extern "C"` kernel of the file.
    pub fn kernel(self) -> &'static str {
        match self {
            CudaSource::Render => "render_rect",
            CudaSource::Gemm => "gemm_i8_requant",
        }
    }
}

/// What NVRTC is asked to produce for a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompileTarget {
    /// Machine code for the device's own architecture (`--gpu-architecture=sm_XY`), loaded as
    /// it is: no JIT by the driver, and any driver of NVRTC's major version loads it.
    Cubin { sm: u32 },
    /// PTX for a lower virtual architecture (`compute_XY`), compiled for the device by the
    /// driver's JIT: for a device NVRTC does not know; needs a driver at least as new as NVRTC.
    Ptx { compute: u32 },
}

impl CompileTarget {
    /// The NVRTC option that selects the target.
    pub fn arch_option(self) -> String {
        match self {
            CompileTarget::Cubin { sm } => format!("--gpu-architecture=sm_{sm}"),
            CompileTarget::Ptx { compute } => format!("--gpu-architecture=compute_{compute}"),
        }
    }
}

impl std::fmt::Display for CompileTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileTarget::Cubin { sm } => write!(f, "CUBIN for sm_{sm}"),
            CompileTarget::Ptx { compute } => write!(f, "PTX for compute_{compute}"),
        }
    }
}

/// The virtual architecture of the PTX fallback: what NVRTC emits for a device of compute
/// capability 8.0 or later that it does not know (the driver compiles it forward).
pub const PTX_FALLBACK_ARCH: u32 = 80;

/// The versions of the CUDA libraries found at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CudaVersions {
    /// `nvrtcVersion`: (major, minor).
    pub nvrtc: (i32, i32),
    /// `nvrtcGetSupportedArchs`: the real architectures NVRTC can compile for (90 = sm_90).
    pub nvrtc_archs: Vec<u32>,
    /// `cuDriverGetVersion`: the CUDA version the driver supports, 1000 × major + 10 × minor.
    pub driver: i32,
}

impl CudaVersions {
    fn nvrtc_text(&self) -> String {
        format!("NVRTC {}.{}", self.nvrtc.0, self.nvrtc.1)
    }

    fn driver_text(&self) -> String {
        format!(
            "the driver supports CUDA {}.{}",
            self.driver / 1000,
            self.driver % 1000 / 10
        )
    }
}

/// How to compile for device `device` of compute capability `cc` with the libraries of
/// `versions`:
/// - CUBIN for the device's own `sm_XY` when NVRTC knows it, if the driver's CUDA major version
///   is at least NVRTC's (a CUBIN of a newer major version does not load);
/// - otherwise, for a device of compute capability 8.0 or later, PTX for `compute_80`, if the
///   driver is at least as new as NVRTC (the PTX ISA version follows NVRTC's);
/// - otherwise an error naming NVRTC, the driver and the device.
pub fn choose_target(
    device: &str,
    cc: (i32, i32),
    versions: &CudaVersions,
) -> Result<CompileTarget, GpuError> {
    let sm = (cc.0 * 10 + cc.1).max(0) as u32;
    let what = format!("{device} (compute capability {}.{})", cc.0, cc.1);
    if versions.nvrtc_archs.contains(&sm) {
        if versions.driver / 1000 < versions.nvrtc.0 {
            return Err(GpuError::Incompatible(format!(
                "{} is older than {}, whose CUBIN for {what} it cannot load: \
                 update the driver, or put an NVRTC {}.x first on the library path",
                versions.driver_text(),
                versions.nvrtc_text(),
                versions.driver / 1000
            )));
        }
        return Ok(CompileTarget::Cubin { sm });
    }
    let known = versions
        .nvrtc_archs
        .iter()
        .map(|a| format!("sm_{a}"))
        .collect::<Vec<_>>()
        .join(" ");
    if cc < (8, 0) || !versions.nvrtc_archs.contains(&PTX_FALLBACK_ARCH) {
        return Err(GpuError::Incompatible(format!(
            "{} cannot compile for {what}: it knows {known}; use an NVRTC that supports the \
             device (CUDA 12.x for compute capability below 7.5)",
            versions.nvrtc_text()
        )));
    }
    let needed = versions.nvrtc.0 * 1000 + versions.nvrtc.1 * 10;
    if versions.driver < needed {
        return Err(GpuError::Incompatible(format!(
            "{} does not know {what}, and its PTX (for the driver to compile) needs a driver \
             for CUDA {}.{} or later, but {}: update the driver, or use an NVRTC that knows \
             the device",
            versions.nvrtc_text(),
            versions.nvrtc.0,
            versions.nvrtc.1,
            versions.driver_text()
        )));
    }
    Ok(CompileTarget::Ptx {
        compute: PTX_FALLBACK_ARCH,
    })
}

/// Number of CUDA devices the driver reports (0 when the driver finds none).
#[cfg(feature = "cuda")]
pub fn device_count() -> Result<usize, GpuError> {
    device::device_count()
}

/// Number of CUDA devices: always an error in a build without the `cuda` feature.
#[cfg(not(feature = "cuda"))]
pub fn device_count() -> Result<usize, GpuError> {
    Err(GpuError::NotCompiled)
}

/// The grid and block of one kernel launch (the driver's launch configuration, without the
/// driver: the host emulation replays the same geometry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchConfig {
    pub grid_dim: (u32, u32, u32),
    pub block_dim: (u32, u32, u32),
    pub shared_mem_bytes: u32,
}

/// The most work one render launch may hold, in primitive tests (ray segments × the estimated
/// primitives each one tests, [`segment_cost`]). About 2·10⁹ tests: a fraction of a second on
/// a small GPU, far below a display watchdog's 2 s, so no legal job becomes one long launch.
pub const MAX_LAUNCH_COST: u64 = 1 << 31;
/// Fewest pixels a launch that splits samples aims for, so the device stays busy.
const MIN_LAUNCH_PIXELS: u64 = 1 << 16;
/// Threads of a render block: 16 × 8.
pub const RENDER_BLOCK: (u32, u32) = (16, 8);
/// Tile sizes of `gemm.cu`.
pub const GEMM_BM: u32 = 64;
pub const GEMM_BN: u32 = 64;
pub const GEMM_THREADS: u32 = 256;

/// Estimated primitive tests per ray segment: every sphere and plane, and a BVH descent of
/// about 8 · log2(triangles + 1) node and triangle tests.
pub fn segment_cost(params: &RenderParams) -> u64 {
    let log_tris = (32 - params.n_triangles.leading_zeros()) as u64;
    1 + params.n_spheres as u64 + params.n_planes as u64 + 8 * log_tris
}

/// One launch of `render_rect`: rows `[row0, row0 + rows)` of the rectangle, samples
/// `[sample0, sample0 + samples)` of each of their pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderLaunch {
    pub row0: u32,
    pub rows: u32,
    pub sample0: u32,
    pub samples: u32,
    pub config: LaunchConfig,
}

/// The launches that render a rectangle, and the f32 accumulator they need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderPlan {
    pub launches: Vec<RenderLaunch>,
    /// Floats of the accumulator (3 per pixel of a band) that carries a pixel's running sum
    /// from one launch to the next when its samples are split; 0 when they are not.
    pub accumulator_floats: usize,
}

impl RenderPlan {
    /// The estimated cost of a launch, in primitive tests.
    pub fn launch_cost(params: &RenderParams, launch: &RenderLaunch) -> u64 {
        launch.rows as u64
            * params.rect_w as u64
            * launch.samples as u64
            * params.max_bounces.max(1) as u64
            * segment_cost(params)
    }
}

/// The launches that render the rectangle of `params`, each at most `max_cost` primitive
/// tests where the job allows (the least unit, one sample of one row, is never split).
///
/// Rows are cut into bands. When one row with all its samples costs more than `max_cost`,
/// a pixel's samples are split over several launches too: the kernel then keeps the running
/// f32 sum of each pixel in an accumulator between launches, adding the samples in the same
/// order as one launch would, so the bytes do not change.
pub fn render_plan(params: &RenderParams, max_cost: u64) -> RenderPlan {
    let (w, h) = (params.rect_w as u64, params.rect_h as u64);
    let max_cost = max_cost.max(1);
    let row_sample = (w * params.max_bounces.max(1) as u64 * segment_cost(params)).max(1);
    let samples = params.samples.max(1) as u64;
    let (band, per_launch) = if row_sample * samples <= max_cost {
        (
            (max_cost / (row_sample * samples)).clamp(1, h.max(1)),
            samples,
        )
    } else {
        let fit = (max_cost / row_sample).max(1);
        let rows = MIN_LAUNCH_PIXELS
            .div_ceil(w.max(1))
            .clamp(1, fit.min(h.max(1)));
        (rows, (max_cost / (rows * row_sample)).clamp(1, samples))
    };
    let (band, per_launch) = (band as u32, per_launch as u32);
    let mut launches = Vec::new();
    let mut row0 = 0;
    while row0 < params.rect_h {
        let rows = band.min(params.rect_h - row0);
        let config = LaunchConfig {
            grid_dim: (
                params.rect_w.div_ceil(RENDER_BLOCK.0),
                rows.div_ceil(RENDER_BLOCK.1),
                1,
            ),
            block_dim: (RENDER_BLOCK.0, RENDER_BLOCK.1, 1),
            shared_mem_bytes: 0,
        };
        let mut sample0 = 0;
        while sample0 < params.samples {
            let n = per_launch.min(params.samples - sample0);
            launches.push(RenderLaunch {
                row0,
                rows,
                sample0,
                samples: n,
                config,
            });
            sample0 += n;
        }
        row0 += rows;
    }
    let split = (per_launch as u64) < samples;
    RenderPlan {
        launches,
        accumulator_floats: if split {
            band as usize * params.rect_w as usize * 3
        } else {
            0
        },
    }
}

/// The launch of one quantized layer of `rows × n` outputs.
pub fn gemm_launch(rows: u32, n: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (n.div_ceil(GEMM_BN), rows.div_ceil(GEMM_BM), 1),
        block_dim: (GEMM_THREADS, 1, 1),
        shared_mem_bytes: 0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits;

    /// NVRTC 12.9's architectures (as the PyPI wheel reports them).
    fn nvrtc_12_9(driver: i32) -> CudaVersions {
        CudaVersions {
            nvrtc: (12, 9),
            nvrtc_archs: vec![
                50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90, 100, 101, 103, 120, 121,
            ],
            driver,
        }
    }

    #[test]
    fn a_known_device_gets_a_cubin_on_any_driver_of_the_same_major_version() {
        for driver in [12000, 12040, 12090, 13000] {
            assert_eq!(
                choose_target("H100", (9, 0), &nvrtc_12_9(driver)).unwrap(),
                CompileTarget::Cubin { sm: 90 }
            );
        }
        assert_eq!(
            CompileTarget::Cubin { sm: 86 }.arch_option(),
            "--gpu-architecture=sm_86"
        );
    }

    #[test]
    fn a_cubin_of_a_newer_major_version_is_refused_with_both_versions() {
        let mut v = nvrtc_12_9(11080);
        v.nvrtc = (12, 9);
        let e = choose_target("A100", (8, 0), &v).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, GpuError::Incompatible(_)));
        assert!(
            text.contains("CUDA 11.8") && text.contains("NVRTC 12.9"),
            "{text}"
        );
        assert!(text.contains("A100"), "{text}");
    }

    #[test]
    fn an_unknown_new_device_gets_ptx_only_from_a_new_enough_driver() {
        // A device newer than NVRTC (compute capability 13.0).
        let v = nvrtc_12_9(13000);
        let t = choose_target("future", (13, 0), &v).unwrap();
        assert_eq!(t, CompileTarget::Ptx { compute: 80 });
        assert_eq!(t.arch_option(), "--gpu-architecture=compute_80");
        // A driver older than NVRTC refuses NVRTC's PTX: say so before loading.
        let e = choose_target("future", (13, 0), &nvrtc_12_9(12040)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("CUDA 12.9 or later") && text.contains("CUDA 12.4"),
            "{text}"
        );
        assert!(text.contains("future (compute capability 13.0)"), "{text}");
    }

    #[test]
    fn an_unknown_old_device_is_an_error_naming_nvrtc_and_the_device() {
        // CUDA 13's NVRTC dropped architectures below 7.5: a V100 (7.0) cannot use it, and
        // compute_80 PTX would not load there.
        let v = CudaVersions {
            nvrtc: (13, 0),
            nvrtc_archs: vec![75, 80, 86, 87, 89, 90, 100, 103, 110, 120, 121],
            driver: 13000,
        };
        let e = choose_target("Tesla V100", (7, 0), &v).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("NVRTC 13.0"), "{text}");
        assert!(
            text.contains("Tesla V100 (compute capability 7.0)"),
            "{text}"
        );
        assert!(text.contains("sm_75"), "{text}");
        assert_eq!(
            choose_target("RTX 2080", (7, 5), &v).unwrap(),
            CompileTarget::Cubin { sm: 75 }
        );
    }

    fn params(w: u32, h: u32, samples: u32, bounces: u32, spheres: u32) -> RenderParams {
        RenderParams {
            width: w,
            height: h,
            samples,
            max_bounces: bounces,
            n_spheres: spheres,
            n_planes: 64,
            n_triangles: 1 << 20,
            rect_w: w,
            rect_h: h,
            ..Default::default()
        }
    }

    /// Every (row, sample) of the rectangle is in exactly one launch, bands in row order and
    /// each band's samples in order from 0: the order the kernel's sums need.
    fn assert_covers(p: &RenderParams, plan: &RenderPlan) {
        let mut next_row = 0;
        let mut i = 0;
        while i < plan.launches.len() {
            let band = plan.launches[i];
            assert_eq!(band.row0, next_row);
            assert!(band.rows >= 1);
            let mut next_sample = 0;
            while i < plan.launches.len() && plan.launches[i].row0 == band.row0 {
                let l = plan.launches[i];
                assert_eq!((l.rows, l.sample0), (band.rows, next_sample));
                assert!(l.samples >= 1);
                assert!(l.config.grid_dim.0 * l.config.block_dim.0 >= p.rect_w);
                assert!(l.config.grid_dim.1 * l.config.block_dim.1 >= l.rows);
                next_sample += l.samples;
                i += 1;
            }
            assert_eq!(next_sample, p.samples);
            next_row += band.rows;
        }
        assert_eq!(next_row, p.rect_h);
    }

    #[test]
    fn a_huge_legal_job_is_split_into_bounded_launches() {
        // 8192 × 32 pixels × 65 536 samples × 64 bounces = 2^40 rays, the most a job may
        // trace, each ray testing 1024 spheres, 64 planes and a BVH of 2^20 triangles.
        let p = params(
            limits::MAX_IMAGE_SIDE,
            32,
            limits::MAX_SAMPLES,
            limits::MAX_BOUNCES,
            limits::MAX_SPHERES as u32,
        );
        let rays = p.width as u128 * p.height as u128 * p.samples as u128 * 64;
        assert_eq!(rays, limits::MAX_RENDER_RAYS);
        let plan = render_plan(&p, MAX_LAUNCH_COST);
        let total: u128 = plan
            .launches
            .iter()
            .map(|l| RenderPlan::launch_cost(&p, l) as u128)
            .sum();
        assert!(plan.launches.len() as u128 >= total / MAX_LAUNCH_COST as u128);
        assert!(plan.launches.len() > 100_000, "{}", plan.launches.len());
        for l in &plan.launches {
            assert!(RenderPlan::launch_cost(&p, l) <= MAX_LAUNCH_COST, "{l:?}");
        }
        assert!(plan.accumulator_floats >= plan.launches[0].rows as usize * 8192 * 3);
        assert_covers(&p, &plan);
    }

    #[test]
    fn a_small_job_is_one_launch_without_accumulator() {
        let p = params(64, 48, 16, 8, 10);
        let plan = render_plan(&p, MAX_LAUNCH_COST);
        assert_eq!(plan.launches.len(), 1);
        assert_eq!(plan.accumulator_floats, 0);
        let l = plan.launches[0];
        assert_eq!((l.row0, l.rows, l.sample0, l.samples), (0, 48, 0, 16));
        assert_eq!(l.config.grid_dim, (4, 6, 1));
        assert_covers(&p, &plan);
    }

    #[test]
    fn bands_are_cut_by_cost_down_to_one_row() {
        let p = params(100, 37, 4, 5, 3);
        let row = RenderPlan::launch_cost(
            &p,
            &RenderLaunch {
                row0: 0,
                rows: 1,
                sample0: 0,
                samples: 4,
                config: gemm_launch(1, 1),
            },
        );
        // Three rows fit: bands of 3, not rounded up to a block's 8 rows.
        let plan = render_plan(&p, 3 * row + 1);
        assert_eq!(plan.accumulator_floats, 0);
        assert_eq!(plan.launches.len(), 13);
        assert!(plan.launches[..12].iter().all(|l| l.rows == 3));
        assert_eq!(plan.launches[12].rows, 1);
        // One row fits: one band per row.
        let plan = render_plan(&p, row);
        assert_eq!(plan.launches.len(), 37);
        for (plan, cost) in [(render_plan(&p, 3 * row + 1), 3 * row + 1), (plan, row)] {
            assert_covers(&p, &plan);
            assert!(plan
                .launches
                .iter()
                .all(|l| RenderPlan::launch_cost(&p, l) <= cost));
        }
    }

    #[test]
    fn samples_are_split_when_one_row_is_too_much() {
        let p = params(100, 10, 9, 5, 3);
        let one = RenderPlan::launch_cost(&p, &render_plan(&p, 1).launches[0]);
        // Two samples of a row fit: bands of two rows (more pixels at once rather than more
        // samples), one sample per launch, the running sums of 2 × 100 pixels kept.
        let plan = render_plan(&p, 2 * one);
        assert!(plan.launches.iter().all(|l| l.rows == 2 && l.samples == 1));
        assert_eq!(plan.launches.len(), 5 * 9);
        assert_eq!(plan.accumulator_floats, 2 * 100 * 3);
        assert_covers(&p, &plan);
        // A wide rectangle keeps one row and takes several samples per launch.
        let wide = params(1 << 16, 3, 9, 5, 3);
        let one = RenderPlan::launch_cost(&wide, &render_plan(&wide, 1).launches[0]);
        let plan = render_plan(&wide, 4 * one);
        assert!(plan.launches.iter().all(|l| l.rows == 1 && l.samples <= 4));
        assert_eq!(plan.launches.len(), 3 * 3);
        assert_covers(&wide, &plan);
        // Below the least unit, it is still one sample of one row per launch.
        let plan = render_plan(&p, 1);
        assert_eq!(plan.launches.len(), 10 * 9);
        assert_covers(&p, &plan);
    }
}
