//! The real CUDA device (feature `cuda`): opens a context, compiles every kernel with NVRTC
//! and loads it when the device is opened, and launches through the driver API.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, DeviceRepr, PushKernelArg};
use cudarc::nvrtc::Ptx;

use crate::cuda::{
    choose_target, gemm_launch, pad_i8_rows, render_plan, vet_ptx, CompileTarget, CudaSource,
    CudaVersions, LaunchConfig, NvrtcProfile, MAX_LAUNCH_COST,
};
use crate::error::GpuError;
use crate::quant::QuantModel;
use crate::render::prepared::{
    GpuBvhNode, GpuMaterial, GpuPlane, GpuSphere, GpuTriangle, PreparedScene,
};

impl From<LaunchConfig> for cudarc::driver::LaunchConfig {
    fn from(c: LaunchConfig) -> Self {
        cudarc::driver::LaunchConfig {
            grid_dim: c.grid_dim,
            block_dim: c.block_dim,
            shared_mem_bytes: c.shared_mem_bytes,
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

fn driver_library() -> Result<(), GpuError> {
    if libraries_present().0 {
        Ok(())
    } else {
        Err(GpuError::Unavailable(
            "the CUDA driver library (libcuda) was not found".into(),
        ))
    }
}

/// Number of CUDA devices the driver reports.
pub(super) fn device_count() -> Result<usize, GpuError> {
    driver_library()?;
    let count = catch_unwind(CudaContext::device_count)
        .map_err(|_| GpuError::Unavailable("the CUDA driver failed to load".into()))?;
    match count {
        Ok(n) => Ok(n.max(0) as usize),
        Err(e) if e.0 == cudarc::driver::sys::CUresult::CUDA_ERROR_NO_DEVICE => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// The versions of the NVRTC and driver libraries on this machine.
pub fn cuda_versions() -> Result<CudaVersions, GpuError> {
    use cudarc::driver::sys as cu;
    use cudarc::nvrtc::sys as nv;
    driver_library()?;
    nvrtc_library()?;
    catch_unwind(|| -> Result<CudaVersions, GpuError> {
        let nvrtc_err = |what: &str, r: nv::nvrtcResult| {
            GpuError::Unavailable(format!("NVRTC failed to report its {what}: {r:?}"))
        };
        let (mut major, mut minor, mut count, mut driver) = (0, 0, 0, 0);
        // SAFETY: each call writes the integers it is given and nothing else; the arch list
        // is sized by the count NVRTC reports.
        unsafe {
            nv::nvrtcVersion(&mut major, &mut minor)
                .result()
                .map_err(|e| nvrtc_err("version", e.0))?;
            nv::nvrtcGetNumSupportedArchs(&mut count)
                .result()
                .map_err(|e| nvrtc_err("architectures", e.0))?;
            let mut archs = vec![0; count.max(0) as usize];
            if count > 0 {
                nv::nvrtcGetSupportedArchs(archs.as_mut_ptr())
                    .result()
                    .map_err(|e| nvrtc_err("architectures", e.0))?;
            }
            cu::cuDriverGetVersion(&mut driver).result()?;
            Ok(CudaVersions {
                nvrtc: (major, minor),
                nvrtc_archs: archs.into_iter().map(|a| a.max(0) as u32).collect(),
                driver,
            })
        }
    })
    .map_err(|_| GpuError::Unavailable("the CUDA libraries failed to load".into()))?
}

fn nvrtc_library() -> Result<(), GpuError> {
    if libraries_present().1 {
        Ok(())
    } else {
        Err(GpuError::Unavailable(
            "the NVRTC library (libnvrtc) was not found on the library path".into(),
        ))
    }
}

/// What NVRTC made of one source for one target.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The PTX (for a CUBIN target, the PTX that NVRTC assembled into it).
    pub ptx: String,
    /// The machine code, for [`CompileTarget::Cubin`].
    pub cubin: Option<Vec<u8>>,
}

/// Compiles `source` with NVRTC for `target`: the code path of the worker, also used by
/// `examples/compile_ptx.rs` and `scripts/check-kernels.sh`. With the deterministic profile
/// the PTX is vetted ([`vet_ptx`]); code that breaks a rule is an error, never returned.
pub fn compile(
    source: CudaSource,
    profile: NvrtcProfile,
    target: CompileTarget,
) -> Result<Compiled, GpuError> {
    nvrtc_library()?;
    let mut options = profile.options();
    options.push(target.arch_option());
    let compiled = catch_unwind(AssertUnwindSafe(|| nvrtc_compile(source, &options, target)))
        .map_err(|_| GpuError::Unavailable("NVRTC failed to load".into()))??;
    if profile == NvrtcProfile::Deterministic {
        let violations = vet_ptx(&compiled.ptx);
        if !violations.is_empty() {
            return Err(GpuError::PtxRejected {
                source_name: source.file_name(),
                target: target.to_string(),
                violations,
            });
        }
    }
    Ok(compiled)
}

fn nvrtc_compile(
    source: CudaSource,
    options: &[String],
    target: CompileTarget,
) -> Result<Compiled, GpuError> {
    use cudarc::nvrtc::{result, sys};
    let failed = |what: &str, e: result::NvrtcError| GpuError::Compile {
        source_name: source.file_name(),
        message: format!("{what}: {e}"),
    };
    let src = std::ffi::CString::new(source.source()).expect("a source has no NUL byte");
    let name = std::ffi::CString::new(source.file_name()).expect("a file name has no NUL byte");
    let prog = result::create_program(&src, Some(&name)).map_err(|e| failed("create", e))?;
    // SAFETY: `prog` was created above and is destroyed once, at the end; `src` and `name`
    // outlive it.
    let out = unsafe {
        let compiled = match result::compile_program(prog, options) {
            Ok(()) => Ok(()),
            Err(e) => {
                let log = result::get_program_log(prog).unwrap_or_default();
                let log = std::ffi::CStr::from_ptr(log.as_ptr()).to_string_lossy();
                Err(GpuError::Compile {
                    source_name: source.file_name(),
                    message: format!("{e} with {}: {}", options.join(" "), log.trim()),
                })
            }
        };
        compiled.and_then(|()| {
            let ptx = result::get_ptx(prog).map_err(|e| failed("PTX", e))?;
            let ptx = std::ffi::CStr::from_ptr(ptx.as_ptr())
                .to_string_lossy()
                .into_owned();
            let cubin = match target {
                CompileTarget::Ptx { .. } => None,
                CompileTarget::Cubin { .. } => {
                    let mut size = 0usize;
                    sys::nvrtcGetCUBINSize(prog, &mut size)
                        .result()
                        .map_err(|e| failed("CUBIN size", e))?;
                    let mut cubin = vec![0u8; size];
                    sys::nvrtcGetCUBIN(prog, cubin.as_mut_ptr().cast())
                        .result()
                        .map_err(|e| failed("CUBIN", e))?;
                    Some(cubin)
                }
            };
            Ok(Compiled { ptx, cubin })
        })
    };
    // SAFETY: as above; nothing uses `prog` after this.
    unsafe { result::destroy_program(prog) }.map_err(|e| failed("destroy", e))?;
    out
}

// The kernels' parameter and scene structs are plain `#[repr(C)]` structs of u32/f32 fields
// with no padding and no pointers; their layouts are mirrored by the structs of
// `cuda/render.cu` (checked by the host emulation, which passes them to that code).
// SAFETY: as above.
unsafe impl DeviceRepr for crate::render::prepared::RenderParams {}
// SAFETY: as above.
unsafe impl DeviceRepr for GpuMaterial {}
// SAFETY: as above.
unsafe impl DeviceRepr for GpuSphere {}
// SAFETY: as above.
unsafe impl DeviceRepr for GpuPlane {}
// SAFETY: as above.
unsafe impl DeviceRepr for GpuTriangle {}
// SAFETY: as above.
unsafe impl DeviceRepr for GpuBvhNode {}

/// Code already compiled in this process, by (source, profile, target): devices of the same
/// architecture share it.
type CodeCache = Mutex<HashMap<(CudaSource, NvrtcProfile, CompileTarget), Arc<Compiled>>>;

fn code_cache() -> &'static CodeCache {
    static CACHE: OnceLock<CodeCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn compile_cached(
    source: CudaSource,
    profile: NvrtcProfile,
    target: CompileTarget,
) -> Result<Arc<Compiled>, GpuError> {
    let key = (source, profile, target);
    if let Some(c) = code_cache().lock().expect("code cache lock").get(&key) {
        return Ok(c.clone());
    }
    let c = Arc::new(compile(source, profile, target)?);
    code_cache()
        .lock()
        .expect("code cache lock")
        .insert(key, c.clone());
    Ok(c)
}

/// One CUDA device with every kernel compiled and loaded.
pub struct CudaDevice {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    name: String,
    compute_capability: (i32, i32),
    profile: NvrtcProfile,
    render: CudaFunction,
    gemm: CudaFunction,
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

/// `v` with at least one element: the driver cannot allocate zero bytes.
fn non_empty<T: Copy + Default>(v: &[T]) -> Vec<T> {
    if v.is_empty() {
        vec![T::default()]
    } else {
        v.to_vec()
    }
}

impl CudaDevice {
    /// Opens device `ordinal` with the deterministic profile, and compiles and loads every
    /// kernel: a device that opens is ready to run jobs.
    pub fn new(ordinal: usize) -> Result<CudaDevice, GpuError> {
        CudaDevice::with_profile(ordinal, NvrtcProfile::Deterministic)
    }

    /// Opens device `ordinal`, compiling kernels with `profile` (benchmarks only).
    pub fn with_profile(ordinal: usize, profile: NvrtcProfile) -> Result<CudaDevice, GpuError> {
        driver_library()?;
        nvrtc_library()?;
        let count = device_count()?;
        if ordinal >= count {
            return Err(GpuError::Unavailable(format!(
                "device {ordinal} asked for, {count} present"
            )));
        }
        let opened = catch_unwind(|| -> Result<_, GpuError> {
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
        let versions = cuda_versions()?;
        let target = choose_target(&name, compute_capability, &versions)?;
        tracing::info!(
            ordinal,
            device = %name,
            nvrtc = %format!("{}.{}", versions.nvrtc.0, versions.nvrtc.1),
            driver = %format!("{}.{}", versions.driver / 1000, versions.driver % 1000 / 10),
            %target,
            "compiling the CUDA kernels"
        );
        let load = |source: CudaSource| -> Result<CudaFunction, GpuError> {
            let code = compile_cached(source, profile, target)?;
            let image = match &code.cubin {
                Some(cubin) => Ptx::from_binary(cubin.clone()),
                None => Ptx::from_src(code.ptx.clone()),
            };
            Ok(ctx.load_module(image)?.load_function(source.kernel())?)
        };
        let render = load(CudaSource::Render)?;
        let gemm = load(CudaSource::Gemm)?;
        let stream = ctx.default_stream();
        Ok(CudaDevice {
            ctx,
            stream,
            name,
            compute_capability,
            profile,
            render,
            gemm,
        })
    }

    /// The device's ordinal (as given to [`CudaDevice::new`]).
    pub fn ordinal(&self) -> usize {
        self.ctx.ordinal()
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

    /// Renders the rectangle (x, y, w, h): RGBA8, row-major.
    pub fn render_rect(
        &self,
        scene: &PreparedScene,
        x: u32,
        y: u32,
        w: u32,
        h: u32,
    ) -> Result<Vec<u8>, GpuError> {
        let f = &self.render;
        let params = scene.params_for_rect(x, y, w, h);
        let s = &self.stream;
        let materials = s.clone_htod(&non_empty(&scene.materials))?;
        let spheres = s.clone_htod(&non_empty(&scene.spheres))?;
        let planes = s.clone_htod(&non_empty(&scene.planes))?;
        let triangles = s.clone_htod(&non_empty(&scene.triangles))?;
        let nodes = s.clone_htod(&non_empty(&scene.nodes))?;
        let mut out = s.alloc_zeros::<u8>((w as usize) * (h as usize) * 4)?;
        let plan = render_plan(&params, MAX_LAUNCH_COST);
        let mut acc = s.alloc_zeros::<f32>(plan.accumulator_floats.max(1))?;
        for l in &plan.launches {
            let s1 = l.sample0 + l.samples;
            let mut b = s.launch_builder(f);
            b.arg(&params)
                .arg(&materials)
                .arg(&spheres)
                .arg(&planes)
                .arg(&triangles)
                .arg(&nodes)
                .arg(&mut out)
                .arg(&l.row0)
                .arg(&l.rows)
                .arg(&l.sample0)
                .arg(&s1)
                .arg(&mut acc);
            // SAFETY: the arguments match `render_rect` in render.cu in number, order and
            // type; every array holds the count `params` gives (at least one element), `out`
            // holds rect_w × rect_h × 4 bytes, the most the kernel writes, and `acc` holds
            // 3 floats per pixel of the largest band whenever the plan splits samples (the
            // kernel touches it only then).
            unsafe { b.launch(l.config.into()) }?;
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
        let f = &self.gemm;
        let s = &self.stream;
        let mut act: Option<CudaSlice<i8>> = None;
        for l in layers {
            let stride = l.n.div_ceil(4) * 4;
            let mut out = s.alloc_zeros::<i8>(rows * stride)?;
            let (rows_i, n_i, kw_i, stride_i) =
                (rows as i32, l.n as i32, l.kw as i32, stride as i32);
            let relu = l.relu as i32;
            let x = act.as_ref().unwrap_or(input);
            let mut b = s.launch_builder(f);
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
            unsafe { b.launch(gemm_launch(rows as u32, l.n as u32).into()) }?;
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

/// Whether a driver result is one of the "sticky" errors that leave the context unusable:
/// every later call in the process fails the same way.
pub(crate) fn is_sticky(r: cudarc::driver::sys::CUresult) -> bool {
    use cudarc::driver::sys::CUresult as R;
    matches!(
        r,
        R::CUDA_ERROR_ECC_UNCORRECTABLE
            | R::CUDA_ERROR_NVLINK_UNCORRECTABLE
            | R::CUDA_ERROR_CONTAINED
            | R::CUDA_ERROR_ILLEGAL_ADDRESS
            | R::CUDA_ERROR_LAUNCH_TIMEOUT
            | R::CUDA_ERROR_CONTEXT_IS_DESTROYED
            | R::CUDA_ERROR_ASSERT
            | R::CUDA_ERROR_HARDWARE_STACK_ERROR
            | R::CUDA_ERROR_ILLEGAL_INSTRUCTION
            | R::CUDA_ERROR_MISALIGNED_ADDRESS
            | R::CUDA_ERROR_INVALID_ADDRESS_SPACE
            | R::CUDA_ERROR_INVALID_PC
            | R::CUDA_ERROR_LAUNCH_FAILED
            | R::CUDA_ERROR_DEVICE_UNAVAILABLE
    )
}

#[cfg(test)]
mod tests {
    use cudarc::driver::sys::CUresult as R;
    use cudarc::driver::DriverError;

    use super::*;
    use crate::error::KernelError;

    /// With NVRTC on the library path (`scripts/check-kernels.sh` puts it there): the
    /// deterministic build of every source passes the vetting, and what `--use_fast_math` and
    /// `--fmad=true` make of the render kernel is caught by it.
    #[test]
    fn vetting_passes_the_deterministic_build_and_catches_fast_math() {
        if !libraries_present().1 {
            eprintln!("skipped: NVRTC is not on the library path");
            return;
        }
        let target = CompileTarget::Cubin { sm: 90 };
        for source in CudaSource::ALL {
            let code = compile(source, NvrtcProfile::Deterministic, target).unwrap();
            assert!(code.cubin.as_ref().is_some_and(|c| !c.is_empty()));
            assert_eq!(vet_ptx(&code.ptx), vec![]);
        }
        let fast = compile(CudaSource::Render, NvrtcProfile::FastMath, target).unwrap();
        let rules: Vec<&str> = vet_ptx(&fast.ptx).iter().map(|v| v.rule).collect();
        assert!(rules.iter().any(|r| r.contains("fma")), "{rules:?}");
        assert!(
            rules
                .iter()
                .any(|r| r.contains(".approx") || r.contains(".ftz")),
            "{rules:?}"
        );
        let fmad = compile(CudaSource::Render, NvrtcProfile::Fmad, target).unwrap();
        assert!(vet_ptx(&fmad.ptx).iter().any(|v| v.rule.contains("fma")));
        let versions = cuda_versions();
        // Without a driver library the versions cannot be read; NVRTC alone still compiles.
        if let Ok(v) = versions {
            assert!(v.nvrtc_archs.contains(&90), "{v:?}");
        }
    }

    #[test]
    fn sticky_driver_errors_mean_the_device_is_lost() {
        for r in [
            R::CUDA_ERROR_LAUNCH_TIMEOUT,
            R::CUDA_ERROR_ILLEGAL_ADDRESS,
            R::CUDA_ERROR_LAUNCH_FAILED,
            R::CUDA_ERROR_ECC_UNCORRECTABLE,
            R::CUDA_ERROR_MISALIGNED_ADDRESS,
        ] {
            let e = GpuError::from(DriverError(r));
            assert!(e.is_device_lost(), "{r:?}");
            assert!(KernelError::from(e).is_device_lost(), "{r:?}");
        }
    }

    #[test]
    fn other_errors_leave_the_device_usable() {
        for r in [
            R::CUDA_ERROR_OUT_OF_MEMORY,
            R::CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES,
            R::CUDA_ERROR_INVALID_VALUE,
            R::CUDA_ERROR_NO_BINARY_FOR_GPU,
            R::CUDA_ERROR_UNSUPPORTED_PTX_VERSION,
        ] {
            assert!(!GpuError::from(DriverError(r)).is_device_lost(), "{r:?}");
        }
        assert!(!GpuError::Unavailable("none".into()).is_device_lost());
        assert!(!GpuError::Compile {
            source_name: "render.cu",
            message: "x".into()
        }
        .is_device_lost());
    }
}
