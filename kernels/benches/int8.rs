//! int8 GEMM on one core: every SIMD path this CPU has and the scalar reference, side by side
//! with ONNX Runtime's `MatMulInteger` on the same shapes; then the int8 jobs and the renderer
//! end to end on one thread.
//!
//! `scripts/cpu-bench.sh` (installs onnxruntime into `.tools/ort-venv`, then runs this), or
//! `cargo bench -p tessera-kernels --bench int8 [-- --quick]`; without onnxruntime the ORT
//! columns say so. `ORT_PYTHON` names another Python with onnxruntime and onnx.
//!
//! Figures are the best of several timed runs after a warm-up (the machine may be shared):
//! GOPS = 2 · M · K · N / seconds. Ours is `C = A · Wᵀ` (int8 × int8 → int32) with the weights
//! packed once beforehand, as ONNX Runtime packs a constant weight initializer when the session
//! is built (as a job's layers keep theirs); the "with packing" column packs them in every run.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use tessera_kernels::benchmark::{synthetic_mlp, SCENE_JSON};
use tessera_kernels::quant::gemm::{gemm_i32, PackedWeights, Path, Scratch};
use tessera_kernels::quant::run_rows_cpu_with;
use tessera_kernels::render::trace::count_rays;
use tessera_kernels::{Backend, KernelId, Workload};

/// Best wall time in seconds of `runs` calls of `f`, after one warm-up call.
fn best_time<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    std::hint::black_box(f());
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Best wall time of `runs` calls of `f` on a fresh value from `make` each (made untimed),
/// after one warm-up call.
fn best_time_fresh<S, T>(
    runs: usize,
    mut make: impl FnMut() -> S,
    mut f: impl FnMut(&S) -> T,
) -> f64 {
    std::hint::black_box(f(&make()));
    (0..runs)
        .map(|_| {
            let s = make();
            let t = Instant::now();
            std::hint::black_box(f(&s));
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn pseudo_random(seed: u32, len: usize) -> Vec<i8> {
    let mut s = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 24) as u8 as i8
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

/// The Python that has onnxruntime: `ORT_PYTHON`, else `.tools/ort-venv`.
fn ort_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = root().join(".tools/ort-venv/bin/python");
    p.exists().then_some(p)
}

/// ONNX Runtime `MatMulInteger` on one thread: (GOPS, version) or why not.
fn ort_gops(
    python: &Option<PathBuf>,
    m: usize,
    k: usize,
    n: usize,
    types: &str,
    runs: usize,
) -> Result<(f64, String), String> {
    let Some(python) = python else {
        return Err("no onnxruntime (scripts/cpu-bench.sh installs it)".into());
    };
    let out = Command::new(python)
        .arg(root().join("scripts/ort_matmul_integer.py"))
        .args([
            m.to_string(),
            k.to_string(),
            n.to_string(),
            types.to_string(),
            runs.to_string(),
        ])
        .env("OMP_NUM_THREADS", "1")
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("ORT output: {e}"))?;
    Ok((
        v["gops"].as_f64().ok_or("no gops")?,
        v["ort"].as_str().unwrap_or("?").to_string(),
    ))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 15 };
    let python = ort_python();
    let paths = Path::supported();
    // Everything below runs on one thread: GOPS and rays/s per core.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    println!(
        "# int8 GEMM, one thread; CPU: {}; paths: {} (chosen: {})",
        cpu_model(),
        paths
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
        Path::detected().name()
    );
    println!();
    println!("| M × K × N | ours: path | GOPS | with packing | ORT u8×s8 | ours / ORT u8×s8 | ORT s8×s8 | ours / ORT s8×s8 |");
    println!("|---|---|---|---|---|---|---|---|");
    let shapes: &[(usize, usize, usize)] = if quick {
        &[(512, 1024, 1024)]
    } else {
        &[
            (512, 1024, 1024),
            (64, 1024, 1024),
            (256, 4096, 1024),
            (1024, 2048, 2048),
        ]
    };
    for &(m, k, n) in shapes {
        let a = pseudo_random(1, m * k);
        let w = pseudo_random(2, n * k);
        let ops = 2.0 * (m * k * n) as f64;
        let ort_runs = if quick { 5 } else { 30 };
        let ort_u8 = ort_gops(&python, m, k, n, "u8s8", ort_runs);
        let ort_s8 = ort_gops(&python, m, k, n, "s8s8", ort_runs);
        let cell = |r: &Result<(f64, String), String>| match r {
            Ok((g, _)) => format!("{g:.1} GOPS"),
            Err(e) => format!("– ({e})"),
        };
        let ratio = |ours: f64, r: &Result<(f64, String), String>| match r {
            Ok((g, _)) => format!("{:.2}×", ours / g),
            Err(_) => "–".into(),
        };
        let mut reference: Option<Vec<i32>> = None;
        for &path in &paths {
            let packed = PackedWeights::new(path, &w, k, n);
            let mut out = vec![0i32; m * n];
            let mut scratch = Scratch::default();
            let path_runs = if path == Path::Scalar {
                runs.min(3)
            } else {
                runs
            };
            let t = best_time(path_runs, || {
                gemm_i32(&a, m, &packed, &[], &mut out, &mut scratch);
            });
            let tp = best_time(path_runs.min(5), || {
                let p = PackedWeights::new(path, &w, k, n);
                gemm_i32(&a, m, &p, &[], &mut out, &mut scratch);
            });
            match &reference {
                None => reference = Some(out.clone()),
                Some(r) => assert!(
                    *r == out,
                    "{} differs from {}",
                    path.name(),
                    paths[0].name()
                ),
            }
            let gops = ops / t / 1e9;
            println!(
                "| {m} × {k} × {n} | {} | {gops:.1} | {:.1} | {} | {} | {} | {} |",
                path.name(),
                ops / tp / 1e9,
                cell(&ort_u8),
                ratio(gops, &ort_u8),
                cell(&ort_s8),
                ratio(gops, &ort_s8),
            );
        }
    }
    if let Ok((_, version)) = ort_gops(&python, 8, 8, 8, "u8s8", 1) {
        println!();
        println!("ONNX Runtime {version}, CPUExecutionProvider, intra_op_num_threads = 1; weights a constant initializer.");
    }

    // The jobs end to end on one thread, parse excluded. A job's layers pack their weights on
    // the first run and keep them: "first run" starts from a fresh copy of the model each time
    // (packing, GEMM, requantization), "packed" runs the same model again (GEMM and
    // requantization).
    println!();
    println!("| job, one thread | path | first run (packs) | packed |");
    println!("|---|---|---|---|");
    let jobs = [
        (
            "gemm-i8 512×1024×1024",
            synthetic_mlp(1, 512, &[1024, 1024], 64),
        ),
        (
            "mlp-i8 256×(512→1024→1024→256)",
            synthetic_mlp(2, 256, &[512, 1024, 1024, 256], 64),
        ),
    ];
    pool.install(|| {
        for (name, model) in &jobs {
            let ops = 2.0 * model.macs() as f64;
            for &path in &paths {
                let path_runs = if path == Path::Scalar {
                    runs.min(3)
                } else {
                    runs
                };
                let first = best_time_fresh(
                    path_runs.min(5),
                    || model.clone(),
                    |m| run_rows_cpu_with(path, m, 0, m.rows),
                );
                let t = best_time(path_runs, || run_rows_cpu_with(path, model, 0, model.rows));
                println!(
                    "| {name} | {} | {:.2} ms, {:.1} GOPS | {:.2} ms, {:.1} GOPS |",
                    path.name(),
                    first * 1e3,
                    ops / first / 1e9,
                    t * 1e3,
                    ops / t / 1e9
                );
            }
        }
        // What a verifier recomputes: one chunk of 64 rows through every layer, from the
        // parsed job (`Workload::chunk`), on the detected path.
        println!();
        println!("| one chunk of 64 rows, one thread ({}) | first chunk (packs) | later chunks (packed) |", Path::detected().name());
        println!("|---|---|---|");
        for (name, model) in &jobs {
            let job = Workload::parse(KernelId::MlpI8, &model.to_safetensors()).unwrap();
            let Workload::MlpI8(q) = &job else {
                unreachable!()
            };
            let (s, e) = q.model.chunk_rows(0);
            let ops = 2.0 * q.model.macs() as f64 * (e - s) as f64 / q.model.rows as f64;
            let first = best_time_fresh(runs, || job.clone(), |j| j.chunk(&Backend::Cpu, 0).unwrap());
            let t = best_time(runs, || job.chunk(&Backend::Cpu, 0).unwrap());
            println!(
                "| {name}, rows 0..64 | {:.3} ms, {:.1} GOPS | {:.3} ms, {:.1} GOPS |",
                first * 1e3,
                ops / first / 1e9,
                t * 1e3,
                ops / t / 1e9
            );
        }
        println!();
        println!("| render, one thread | time | throughput |");
        println!("|---|---|---|");
        for (name, json) in [
            ("benchmark scene 128² 16 spp", SCENE_JSON),
            (
                "cornell 128² 16 spp",
                include_str!("../scenes/cornell.json"),
            ),
        ] {
            let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
            v["width"] = 128.into();
            v["height"] = 128.into();
            v["samples_per_pixel"] = 16.into();
            let input = serde_json::to_vec(&v).unwrap();
            let job = Workload::parse(KernelId::Render, &input).unwrap();
            let Workload::Render(r) = &job else {
                unreachable!()
            };
            let p = &r.prepared.params;
            let rays = count_rays(&r.prepared, 0, 0, p.width, p.height) as f64;
            let t = best_time(runs.min(5), || job.run(&Backend::Cpu).unwrap());
            println!(
                "| {name} ({:.2} M rays) | {:.1} ms | {:.2} M rays/s |",
                rays / 1e6,
                t * 1e3,
                rays / t / 1e6
            );
        }
    });
}
