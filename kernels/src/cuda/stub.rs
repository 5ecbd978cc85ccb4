//! The stand-in device of a build without the `cuda` feature: it has the API of the real one,
//! but no value of it can exist, so every constructor returns [`GpuError::NotCompiled`] and
//! the methods are never reached.

use std::convert::Infallible;

use crate::cuda::NvrtcProfile;
use crate::error::GpuError;
use crate::quant::QuantModel;
use crate::render::prepared::PreparedScene;

/// A CUDA device; in this build (no `cuda` feature) none can be opened.
#[derive(Debug)]
pub struct CudaDevice {
    never: Infallible,
}

impl CudaDevice {
    /// Always [`GpuError::NotCompiled`].
    pub fn new(ordinal: usize) -> Result<CudaDevice, GpuError> {
        CudaDevice::with_profile(ordinal, NvrtcProfile::Deterministic)
    }

    /// Always [`GpuError::NotCompiled`].
    pub fn with_profile(_ordinal: usize, _profile: NvrtcProfile) -> Result<CudaDevice, GpuError> {
        Err(GpuError::NotCompiled)
    }

    pub fn ordinal(&self) -> usize {
        match self.never {}
    }

    pub fn name(&self) -> &str {
        match self.never {}
    }

    pub fn compute_capability(&self) -> (i32, i32) {
        match self.never {}
    }

    pub fn profile(&self) -> NvrtcProfile {
        match self.never {}
    }

    pub fn render_rect(
        &self,
        _scene: &PreparedScene,
        _x: u32,
        _y: u32,
        _w: u32,
        _h: u32,
    ) -> Result<Vec<u8>, GpuError> {
        match self.never {}
    }

    pub fn mlp_rows(
        &self,
        _model: &QuantModel,
        _start: usize,
        _end: usize,
    ) -> Result<Vec<i8>, GpuError> {
        match self.never {}
    }

    pub fn mlp_kernel_seconds(&self, _model: &QuantModel, _repeats: u32) -> Result<f64, GpuError> {
        match self.never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constructor_says_built_without_cuda() {
        for e in [
            CudaDevice::new(0).unwrap_err(),
            CudaDevice::with_profile(3, NvrtcProfile::FastMath).unwrap_err(),
            crate::cuda::device_count().unwrap_err(),
        ] {
            assert!(matches!(e, GpuError::NotCompiled));
            assert!(
                e.to_string()
                    .contains("built without CUDA (enable the `cuda` feature of tessera-kernels)"),
                "{e}"
            );
            assert!(!e.is_device_lost());
        }
    }
}
