//! The start-up self-test on every backend of this machine: the CPU reference and each CUDA
//! device (opened as the worker opens it: every kernel compiled, vetted and loaded). Prints
//! the CUDA library versions, what each device was compiled to, and each result; exits with
//! status 1 if any GPU fails (or, with `--require-gpu`, if there is none).
//!
//! `cargo run --release -p tessera-kernels --features cuda --example self-test [-- --require-gpu]`

use tessera_kernels::cuda::{choose_target, cuda_versions, device_count};
use tessera_kernels::selftest::self_test;
use tessera_kernels::Backend;

fn main() {
    let require_gpu = std::env::args().any(|a| a == "--require-gpu");
    let mut failed = 0;
    match self_test(&Backend::Cpu) {
        Ok(r) => println!(
            "self-test ok: {} in {:.3} s ({:?})",
            r.backend, r.seconds, r.workloads
        ),
        Err(e) => {
            println!("self-test FAILED on the CPU reference: {e}");
            failed += 1;
        }
    }
    let versions = cuda_versions();
    match &versions {
        Ok(v) => println!(
            "NVRTC {}.{} (architectures {:?}); the driver supports CUDA {}.{}",
            v.nvrtc.0,
            v.nvrtc.1,
            v.nvrtc_archs,
            v.driver / 1000,
            v.driver % 1000 / 10
        ),
        Err(e) => println!("CUDA libraries: {e}"),
    }
    let count = device_count().unwrap_or_else(|e| {
        println!("no CUDA device: {e}");
        0
    });
    for ordinal in 0..count {
        let backend = match Backend::cuda(ordinal) {
            Ok(b) => b,
            Err(e) => {
                println!(
                    "device {ordinal}: FAILED to open: {e} (device lost: {})",
                    e.is_device_lost()
                );
                failed += 1;
                continue;
            }
        };
        if let (Backend::Cuda(d), Ok(v)) = (&backend, &versions) {
            if let Ok(t) = choose_target(d.name(), d.compute_capability(), v) {
                println!("device {ordinal}: {} compiled as {t}", backend.describe());
            }
        }
        match self_test(&backend) {
            Ok(r) => println!(
                "self-test ok: {} in {:.3} s ({:?})",
                r.backend, r.seconds, r.workloads
            ),
            Err(e) => {
                println!(
                    "self-test FAILED on device {ordinal}: {e} (device lost: {})",
                    e.is_device_lost()
                );
                failed += 1;
            }
        }
    }
    if require_gpu && count == 0 {
        println!("--require-gpu: no CUDA device found");
        failed += 1;
    }
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
