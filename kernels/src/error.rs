//! Errors of the kernels crate. Every input is checked before any work starts, and each error
//! says what was wrong with it.

use crate::registry::KernelId;

/// Why a scene (JSON, OBJ mesh) was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SceneError {
    #[error("the scene is {bytes} bytes long, more than the limit of {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error("the scene is not valid JSON for the scene format: {0}")]
    Json(String),
    #[error("mesh {mesh}, OBJ line {line}: {reason}")]
    Obj {
        mesh: usize,
        line: usize,
        reason: String,
    },
    #[error("{field} is {value}, outside the allowed range {min}..={max}")]
    OutOfRange {
        field: String,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("{field} must be a finite number within ±{max_abs}")]
    NotFinite { field: String, max_abs: f64 },
    #[error("the scene has {count} {what}, more than the limit of {max}")]
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("{field} refers to {what} {index}, but the scene has only {count}")]
    BadIndex {
        field: String,
        what: &'static str,
        index: usize,
        count: usize,
    },
    #[error("{0}")]
    Degenerate(String),
    #[error("the scene would trace about {rays} rays, more than the limit of {max}")]
    TooMuchWork { rays: u128, max: u128 },
}

/// Why a quantized model (safetensors) was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("the model is {bytes} bytes long, more than the limit of {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error("the model is not a valid safetensors file: {0}")]
    SafeTensors(String),
    #[error("the model lacks the metadata entry `{0}`")]
    MissingMetadata(String),
    #[error("metadata entry `{key}` = {value:?} is invalid: {reason}")]
    BadMetadata {
        key: String,
        value: String,
        reason: String,
    },
    #[error("the model lacks the tensor `{0}`")]
    MissingTensor(String),
    #[error("tensor `{name}` has dtype {found}, expected {expected}")]
    Dtype {
        name: String,
        expected: &'static str,
        found: String,
    },
    #[error("tensor `{name}` has shape {found:?}, expected {expected}")]
    Shape {
        name: String,
        expected: String,
        found: Vec<usize>,
    },
    #[error("tensor `{name}` element {index} is {value}, outside {min}..={max}")]
    Value {
        name: String,
        index: usize,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("the model has {value} {what}, outside the allowed range {min}..={max}")]
    Limit {
        what: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
    #[error("the model has the unexpected tensor `{0}`")]
    UnexpectedTensor(String),
}

/// A failure of the CUDA backend.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// This build has no CUDA support (the `cuda` feature is off).
    #[error("built without CUDA (enable the `cuda` feature of tessera-kernels)")]
    NotCompiled,
    #[error("no CUDA device is usable: {0}")]
    Unavailable(String),
    #[cfg(feature = "cuda")]
    #[error("CUDA driver error: {0}")]
    Driver(#[from] cudarc::driver::DriverError),
    #[error("NVRTC could not compile {source_name}: {message}")]
    Compile {
        source_name: &'static str,
        message: String,
    },
    /// The installed NVRTC, driver and device do not fit together.
    #[error("the CUDA libraries do not fit the device: {0}")]
    Incompatible(String),
    /// NVRTC's PTX breaks a determinism rule ([`crate::cuda::vet_ptx`]); it is not loaded.
    #[error(
        "NVRTC's code for {source_name} ({target}) breaks the determinism rules in {} \
         instruction(s), first {}: not loaded",
        .violations.len(),
        .violations.first().map(ToString::to_string).unwrap_or_default()
    )]
    PtxRejected {
        source_name: &'static str,
        target: String,
        violations: Vec<crate::cuda::PtxViolation>,
    },
}

impl GpuError {
    /// Whether the device's context is unusable after this error: the driver reports a
    /// "sticky" error (a launch that timed out or faulted, an uncorrectable ECC error, …) to
    /// every later call in the process. The device must not be used again; the process has to
    /// be restarted to use it.
    pub fn is_device_lost(&self) -> bool {
        match self {
            #[cfg(feature = "cuda")]
            GpuError::Driver(e) => crate::cuda::is_sticky(e.0),
            _ => false,
        }
    }
}

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("invalid scene: {0}")]
    Scene(#[from] SceneError),
    #[error("invalid model: {0}")]
    Model(#[from] ModelError),
    #[error("chunk {index} does not exist: the job has {count} chunks")]
    ChunkOutOfRange { index: u32, count: u32 },
    #[error("kernel {kernel} takes {expected}")]
    Input {
        kernel: KernelId,
        expected: &'static str,
    },
    #[error("the image could not be assembled: {0}")]
    Image(String),
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(
        "self-test failed on {device}: {workload} gave the Merkle root {got}, expected {expected}"
    )]
    SelfTestMismatch {
        device: String,
        workload: &'static str,
        expected: String,
        got: String,
    },
}

impl KernelError {
    /// Whether this is a GPU error after which the device is unusable
    /// ([`GpuError::is_device_lost`]).
    pub fn is_device_lost(&self) -> bool {
        matches!(self, KernelError::Gpu(e) if e.is_device_lost())
    }
}
