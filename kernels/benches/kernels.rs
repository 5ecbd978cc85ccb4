//! Throughput of the CPU reference: render (rays/s), int8 GEMM (GOPS), Merkle hashing (MB/s).
//!
//! `cargo bench -p tessera-kernels --bench kernels` (all cores; `RAYON_NUM_THREADS=1` for one).
//! Each figure is the median of a few timed runs after a warm-up. With a GPU present the same
//! workloads also run on it (GPU columns; see `scripts/gpu-bench.sh`).

use std::time::{Duration, Instant};

use tessera_kernels::benchmark::{synthetic_mlp, BenchmarkWorkload, SCENE_JSON};
use tessera_kernels::cuda::{CudaDevice, NvrtcProfile};
use tessera_kernels::render::trace::count_rays;
use tessera_kernels::{Backend, KernelId, Output, Workload};

/// Median wall time of `runs` calls of `f`, after one warm-up call.
fn median_time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    std::hint::black_box(f());
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn scene(width: u32, spp: u32, json: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["width"] = width.into();
    v["height"] = width.into();
    v["samples_per_pixel"] = spp.into();
    serde_json::to_vec(&v).unwrap()
}

/// Dense int8 tensor-core peak of known cards, in TOPS (vendor figures, without sparsity).
fn int8_peak_tops(name: &str) -> Option<f64> {
    let n = name.to_ascii_uppercase();
    [
        ("H200", 1979.0),
        ("H100 PCIE", 1513.0),
        ("H100", 1979.0),
        ("A100", 624.0),
        ("L40S", 733.0),
        ("L4", 242.0),
        ("A10", 250.0),
        ("RTX 4090", 661.0),
        ("RTX 3090", 284.0),
    ]
    .iter()
    .find(|(k, _)| n.contains(k))
    .map(|(_, v)| *v)
}

/// GPU figures: larger workloads, speed-up over the CPU reference on this machine, int8 TOPS
/// against the card's peak, and what determinism costs (`--fmad=false` against `--fmad=true`
/// and `--use_fast_math`; those two builds are for measuring only). Needs a GPU.
fn gpu_section(runs: usize) {
    let gpu = match CudaDevice::new(0) {
        Ok(d) => std::sync::Arc::new(d),
        Err(e) => {
            eprintln!("--gpu: no usable GPU: {e}");
            std::process::exit(1);
        }
    };
    let name = gpu.name().to_string();
    let det = Backend::Cuda(gpu);
    let open = |p| Backend::Cuda(std::sync::Arc::new(CudaDevice::with_profile(0, p).unwrap()));
    let fmad = open(NvrtcProfile::Fmad);
    let fast = open(NvrtcProfile::FastMath);
    println!();
    println!(
        "# GPU: {name}; CPU: {} threads",
        rayon::current_num_threads()
    );
    println!("| workload | CPU | GPU (deterministic) | speed-up | GPU --fmad=true | GPU --use_fast_math | cost of determinism |");
    println!("|---|---|---|---|---|---|---|");
    for (label, input) in [
        (
            "render benchmark scene 512² 32 spp",
            scene(512, 32, SCENE_JSON),
        ),
        (
            "render cornell 512² 32 spp",
            scene(512, 32, include_str!("../scenes/cornell.json")),
        ),
    ] {
        let job = Workload::parse(KernelId::Render, &input).unwrap();
        let Workload::Render(r) = &job else {
            unreachable!()
        };
        let p = &r.prepared.params;
        let rays = count_rays(&r.prepared, 0, 0, p.width, p.height) as f64;
        let cpu = median_time(runs, || job.run(&Backend::Cpu).unwrap()).as_secs_f64();
        let g = median_time(runs, || job.run(&det).unwrap()).as_secs_f64();
        let gf = median_time(runs, || job.run(&fmad).unwrap()).as_secs_f64();
        let gx = median_time(runs, || job.run(&fast).unwrap()).as_secs_f64();
        let same = job.run(&det).unwrap() == job.run(&Backend::Cpu).unwrap();
        println!(
            "| {label} | {:.1} M rays/s | {:.1} M rays/s{} | {:.1}× | {:.1} M rays/s | {:.1} M rays/s | {:+.1} % vs fmad |",
            rays / cpu / 1e6,
            rays / g / 1e6,
            if same { "" } else { " (DIFFERS FROM CPU)" },
            cpu / g,
            rays / gf / 1e6,
            rays / gx / 1e6,
            (g / gf - 1.0) * 100.0
        );
    }
    let peak = int8_peak_tops(&name);
    println!();
    println!("| int8 workload | CPU | GPU end to end | speed-up | GPU kernels alone | of int8 tensor peak |");
    println!("|---|---|---|---|---|---|");
    for (label, model, with_cpu) in [
        (
            "gemm-i8 2048³",
            synthetic_mlp(3, 2048, &[2048, 2048], 256),
            true,
        ),
        (
            "gemm-i8 8192³ (GPU only)",
            synthetic_mlp(4, 8192, &[8192, 8192], 1024),
            false,
        ),
        (
            "mlp-i8 4096×(4096→4096→4096→1024) (GPU only)",
            synthetic_mlp(5, 4096, &[4096, 4096, 4096, 1024], 512),
            false,
        ),
    ] {
        let kernel = if model.layers.len() == 1 {
            KernelId::GemmI8
        } else {
            KernelId::MlpI8
        };
        let job = Workload::parse(kernel, &model.to_safetensors()).unwrap();
        let ops = 2.0 * model.macs() as f64;
        let g = median_time(runs, || job.run(&det).unwrap()).as_secs_f64();
        let Backend::Cuda(dev) = &det else {
            unreachable!()
        };
        let kernel_s = dev.mlp_kernel_seconds(&model, 10).unwrap();
        let (cpu_col, speedup) = if with_cpu {
            let c = median_time(runs, || job.run(&Backend::Cpu).unwrap()).as_secs_f64();
            assert!(
                job.run(&det).unwrap() == job.run(&Backend::Cpu).unwrap(),
                "{label} differs"
            );
            (
                format!("{:.1} GOPS", ops / c / 1e9),
                format!("{:.1}×", c / g),
            )
        } else {
            ("–".to_string(), "–".to_string())
        };
        let tops = ops / kernel_s / 1e12;
        println!(
            "| {label} | {cpu_col} | {:.1} GOPS | {speedup} | {tops:.2} TOPS | {} |",
            ops / g / 1e9,
            peak.map(|p| format!("{:.1} % of {p:.0} TOPS", tops / p * 100.0))
                .unwrap_or_else(|| "unknown card".into())
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--gpu") {
        gpu_section(3);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 1 } else { 3 };
    let threads = rayon::current_num_threads();
    let gpu = Backend::cuda(0).ok();
    println!(
        "# tessera-kernels CPU reference, {threads} threads{}",
        gpu.as_ref()
            .map(|g| format!("; GPU: {}", g.describe()))
            .unwrap_or_default()
    );
    println!("| workload | backend | time | throughput |");
    println!("|---|---|---|---|");

    // Render: rays per second (every ray segment traced counts as one ray).
    let renders = [
        ("benchmark scene 128² 16 spp", scene(128, 16, SCENE_JSON)),
        (
            "cornell 128² 16 spp",
            scene(128, 16, include_str!("../scenes/cornell.json")),
        ),
    ];
    for (name, input) in &renders {
        let job = Workload::parse(KernelId::Render, input).unwrap();
        let Workload::Render(r) = &job else {
            unreachable!()
        };
        let p = &r.prepared.params;
        let rays = count_rays(&r.prepared, 0, 0, p.width, p.height) as f64;
        let row = |backend: &Backend, label: &str| {
            let t = median_time(runs, || job.run(backend).unwrap());
            println!(
                "| render {name} ({:.2} M rays) | {label} | {:.3} s | {:.2} M rays/s |",
                rays / 1e6,
                t.as_secs_f64(),
                rays / t.as_secs_f64() / 1e6
            );
        };
        row(&Backend::Cpu, "cpu");
        if let Some(g) = &gpu {
            row(g, "gpu");
        }
    }

    // int8 GEMM / MLP: 2 × multiply-accumulates per second.
    let gemms = [
        (
            "gemm-i8 512×1024×1024",
            KernelId::GemmI8,
            synthetic_mlp(1, 512, &[1024, 1024], 64),
        ),
        (
            "mlp-i8 256×(512→1024→1024→256)",
            KernelId::MlpI8,
            synthetic_mlp(2, 256, &[512, 1024, 1024, 256], 64),
        ),
    ];
    for (name, kernel, model) in &gemms {
        let input = model.to_safetensors();
        let job = Workload::parse(*kernel, &input).unwrap();
        let ops = 2.0 * model.macs() as f64;
        let row = |backend: &Backend, label: &str| {
            let t = median_time(runs, || job.run(backend).unwrap());
            println!(
                "| {name} ({:.2} G int8 ops) | {label} | {:.3} s | {:.2} GOPS |",
                ops / 1e9,
                t.as_secs_f64(),
                ops / t.as_secs_f64() / 1e9
            );
        };
        row(&Backend::Cpu, "cpu");
        if let Some(g) = &gpu {
            row(g, "gpu");
        }
    }

    // The benchmark kernel as operators run it.
    let job = Workload::parse(KernelId::Benchmark, &[]).unwrap();
    let units = BenchmarkWorkload::get().work_units() as f64;
    let t = median_time(runs, || job.run(&Backend::Cpu).unwrap());
    println!(
        "| benchmark kernel ({:.0} work units) | cpu | {:.3} s | {:.2} M units/s |",
        units,
        t.as_secs_f64(),
        units / t.as_secs_f64() / 1e6
    );

    // Merkle: leaf + tree hashing of 64 MiB in 16 KiB chunks (4096 chunks).
    let chunk = 16 << 10;
    let out = Output {
        chunks: (0..4096u32).map(|i| vec![(i % 251) as u8; chunk]).collect(),
    };
    let mb = out.total_bytes() as f64 / 1e6;
    let t = median_time(runs, || out.root());
    println!(
        "| Merkle root, 64 MiB in 4096 chunks (leaves on all threads) | cpu | {:.3} s | {:.0} MB/s |",
        t.as_secs_f64(),
        mb / t.as_secs_f64()
    );
    let t = median_time(runs, || tessera_merkle::root_of_chunks(&out.chunks));
    println!(
        "| Merkle root, same, one thread | cpu | {:.3} s | {:.0} MB/s |",
        t.as_secs_f64(),
        mb / t.as_secs_f64()
    );
}
