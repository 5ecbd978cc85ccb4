//! Where kernels run: the CPU reference (all cores, rayon) or a CUDA device.

use std::sync::Arc;

use crate::cuda::CudaDevice;
use crate::error::GpuError;

/// A compute backend. Both give the same bytes for every kernel.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The CPU reference, on the current rayon thread pool.
    Cpu,
    /// A CUDA device.
    Cuda(Arc<CudaDevice>),
}

impl Backend {
    /// The first CUDA device when one is usable, else the CPU; logs which at `info`.
    pub fn cuda_if_available() -> Backend {
        match CudaDevice::new(0) {
            Ok(dev) => {
                let (major, minor) = dev.compute_capability();
                tracing::info!(
                    device = dev.name(),
                    compute_capability = %format!("{major}.{minor}"),
                    "kernels run on the GPU (CUDA)"
                );
                Backend::Cuda(Arc::new(dev))
            }
            Err(e) => {
                tracing::info!(
                    reason = %e,
                    threads = rayon::current_num_threads(),
                    "no usable GPU: kernels run on the CPU reference"
                );
                Backend::Cpu
            }
        }
    }

    /// CUDA device `ordinal`, or an error saying why not.
    pub fn cuda(ordinal: usize) -> Result<Backend, GpuError> {
        Ok(Backend::Cuda(Arc::new(CudaDevice::new(ordinal)?)))
    }

    pub fn is_gpu(&self) -> bool {
        matches!(self, Backend::Cuda(_))
    }

    /// A short description for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            Backend::Cpu => format!("CPU ({} threads)", rayon::current_num_threads()),
            Backend::Cuda(d) => {
                let (major, minor) = d.compute_capability();
                format!("CUDA {} (sm_{major}{minor})", d.name())
            }
        }
    }
}
