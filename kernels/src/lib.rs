//! Tessera's deterministic compute kernels: the CPU reference and the CUDA implementation of
//! every kernel a job can run, bit-exact with each other (DESIGN §4, `docs/kernels.md`).
//!
//! ```text
//!  kernel id (u8) + input blob
//!        │ Workload::parse — validate, limits, work_units (nothing computed yet)
//!        ▼
//!      Workload ──run(&Backend)──► Output { chunks } ──► tessera_merkle root / proofs
//!        │                     ▲
//!        │         Backend::Cpu (rayon)  |  Backend::Cuda (feature `cuda`: cudarc, NVRTC + driver
//!        │                     │                        loaded at run time; a stand-in without it)
//!        │                     │                       cuda/render.cu, cuda/gemm.cu
//!        └──chunk(&Backend, i)─┘  one tile / one row block alone: what verifiers re-run
//! ```
//!
//! Kernels (ids in [`registry`]): `render` (path tracer, RGBA8 tiles), `gemm-i8` and `mlp-i8`
//! (int8 quantized layers, int8 row blocks), `benchmark` (fixed workload, known root).
//! [`selftest::self_test`] checks a backend against known roots before it is trusted.
//!
//! Determinism: integer arithmetic where possible; f32 with IEEE `+ - * / sqrt` in one fixed
//! order elsewhere (no FMA contraction, no approximate intrinsics, no atomics, own PCG random
//! numbers), so the same input gives the same bytes on every GPU and on the CPU.

pub mod backend;
pub mod benchmark;
pub mod cuda;
pub mod error;
pub mod limits;
pub mod quant;
pub mod registry;
pub mod render;
pub mod selftest;
pub mod workload;

pub use backend::Backend;
pub use error::{GpuError, KernelError, ModelError, SceneError};
pub use registry::KernelId;
pub use workload::{merkle_root, recompute_chunk, Output, Workload};

/// Runs the same check on every available backend: the test body gets a `&Backend` and a name.
/// The CPU always runs; the GPU runs where one is present and is skipped with a message
/// otherwise. Used by the CPU-vs-GPU tests.
#[macro_export]
macro_rules! for_each_backend {
    (|$backend:ident, $name:ident| $body:block) => {{
        let mut __backends = vec![("cpu", $crate::Backend::Cpu)];
        match $crate::Backend::cuda(0) {
            Ok(b) => __backends.push(("cuda", b)),
            Err(e) => eprintln!("GPU skipped: {e}"),
        }
        for ($name, $backend) in __backends.iter() {
            let $name: &str = $name;
            let $backend: &$crate::Backend = $backend;
            $body
        }
    }};
}

#[cfg(test)]
mod tests {
    /// A backend is shared between the worker's tasks.
    #[test]
    fn backend_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<crate::Backend>();
        check::<crate::Workload>();
    }
}
