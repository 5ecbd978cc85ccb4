//! CPU vs GPU, byte for byte: every kernel runs on every available backend and must give the
//! bytes of the CPU reference (the GPU part is skipped, with a message, where no GPU is found).
//! Set `TESSERA_REQUIRE_GPU=1` to fail instead of skipping (`scripts/gpu-bench.sh` does).

mod common;

use common::{odd_gemm, odd_mlp, small_cornell};
use tessera_kernels::benchmark::GOLDEN_ROOT;
use tessera_kernels::{for_each_backend, Backend, KernelId, Workload};

fn require_gpu_if_asked() {
    if std::env::var("TESSERA_REQUIRE_GPU").is_ok_and(|v| v == "1") {
        if let Err(e) = Backend::cuda(0) {
            panic!("TESSERA_REQUIRE_GPU=1 but no GPU is usable: {e}");
        }
    }
}

/// Runs `kernel` on `input` on every backend: full output and a few chunks alone must equal
/// the CPU reference.
fn same_bytes_everywhere(kernel: KernelId, input: &[u8]) {
    require_gpu_if_asked();
    let job = Workload::parse(kernel, input).unwrap();
    let reference = job.run(&Backend::Cpu).unwrap();
    let count = job.chunk_count();
    for_each_backend!(|backend, name| {
        let out = job.run(backend).unwrap();
        assert_eq!(
            out.chunks.len(),
            reference.chunks.len(),
            "{kernel} on {name}"
        );
        for (i, (a, b)) in out.chunks.iter().zip(&reference.chunks).enumerate() {
            let diff = a.iter().zip(b).filter(|(x, y)| x != y).count();
            assert!(
                a.len() == b.len() && diff == 0,
                "{kernel} on {name}: chunk {i} differs in {diff} of {} bytes",
                b.len()
            );
        }
        assert_eq!(out.root(), reference.root(), "{kernel} on {name}");
        for i in [0, count / 2, count - 1] {
            assert!(
                job.chunk(backend, i).unwrap() == reference.chunks[i as usize],
                "{kernel} on {name}: chunk {i} computed alone differs"
            );
        }
    });
}

#[test]
fn render_is_bit_exact_on_every_backend() {
    same_bytes_everywhere(KernelId::Render, &small_cornell());
    same_bytes_everywhere(
        KernelId::Render,
        tessera_kernels::benchmark::SCENE_JSON.as_bytes(),
    );
}

#[test]
fn gemm_is_bit_exact_on_every_backend() {
    same_bytes_everywhere(KernelId::GemmI8, &odd_gemm().to_safetensors());
}

#[test]
fn mlp_is_bit_exact_on_every_backend() {
    same_bytes_everywhere(KernelId::MlpI8, &odd_mlp().to_safetensors());
}

#[test]
fn benchmark_gives_the_golden_root_on_every_backend() {
    require_gpu_if_asked();
    let job = Workload::parse(KernelId::Benchmark, &[]).unwrap();
    for_each_backend!(|backend, name| {
        assert_eq!(job.run(backend).unwrap().root(), GOLDEN_ROOT, "{name}");
    });
}

/// A larger render on the GPU only (the CPU reference in a debug build would be slow): the
/// shipped Cornell box at full size, where more bytes make any divergence more visible.
#[test]
fn full_cornell_is_bit_exact_on_gpu() {
    require_gpu_if_asked();
    let Ok(gpu) = Backend::cuda(0) else {
        eprintln!("GPU skipped: no usable GPU");
        return;
    };
    let input = include_bytes!("../scenes/cornell.json");
    let job = Workload::parse(KernelId::Render, input).unwrap();
    let g = job.run(&gpu).unwrap();
    let c = job.run(&Backend::Cpu).unwrap();
    assert!(g == c, "the Cornell box differs between GPU and CPU");
}
