//! Where kernels run: the CPU reference (all cores, rayon) or a CUDA device.

use std::sync::Arc;

use crate::cuda::CudaDevice;
use crate::error::GpuError;

/// A compute backend. Both give the same bytes for every kernel.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The CPU reference, on the current rayon thread pool.
    Cpu,
    /// A CUDA device, opened with every kernel compiled and loaded.
    Cuda(Arc<CudaDevice>),
}

impl Backend {
    /// The first CUDA device when one is usable (opened, every kernel compiled and loaded),
    /// else the CPU; logs which at `info`, and why not the GPU. A build without the `cuda`
    /// feature always gives the CPU.
    pub fn cuda_if_available() -> Backend {
        match Backend::cuda(0) {
            Ok(b) => b,
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

    /// CUDA device `ordinal`, opened, with every kernel compiled and loaded (nothing is left
    /// for the first job to compile), or an error saying why not.
    pub fn cuda(ordinal: usize) -> Result<Backend, GpuError> {
        let dev = CudaDevice::new(ordinal)?;
        let (major, minor) = dev.compute_capability();
        tracing::info!(
            ordinal,
            device = dev.name(),
            compute_capability = %format!("{major}.{minor}"),
            "CUDA device opened, kernels loaded"
        );
        Ok(Backend::Cuda(Arc::new(dev)))
    }

    /// A short description for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            Backend::Cpu => format!("CPU ({} threads)", rayon::current_num_threads()),
            Backend::Cuda(d) => {
                let (major, minor) = d.compute_capability();
                format!("CUDA {} {} (sm_{major}{minor})", d.ordinal(), d.name())
            }
        }
    }
}

#[cfg(all(test, not(feature = "cuda")))]
mod tests {
    use super::*;

    #[test]
    fn without_cuda_the_backend_is_the_cpu() {
        assert!(matches!(Backend::cuda_if_available(), Backend::Cpu));
        let e = Backend::cuda(0).unwrap_err();
        assert!(matches!(e, GpuError::NotCompiled), "{e}");
    }
}
