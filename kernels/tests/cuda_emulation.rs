//! The CUDA sources, compiled as C++ for the host (`cuda/emu/host_emu.cpp`) and run thread by
//! thread with the launch geometry of the CUDA backend, must give the bytes of the CPU
//! reference. This checks the kernels' indexing, tiling, barriers and arithmetic where no GPU
//! is present. Skipped (with a message) when no C++20 compiler is found; set
//! `TESSERA_CUDA_EMU_LIB` to use a library built elsewhere.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{odd_gemm, odd_mlp, small_cornell};
use libloading::Library;
use tessera_kernels::benchmark::BenchmarkWorkload;
use tessera_kernels::cuda::{
    gemm_launch, pad_i8_rows, render_plan, RenderPlan, GEMM_THREADS, MAX_LAUNCH_COST,
};
use tessera_kernels::quant::{run_rows_cpu, QuantModel};
use tessera_kernels::render::prepared::{
    GpuBvhNode, GpuMaterial, GpuPlane, GpuSphere, GpuTriangle, RenderParams,
};
use tessera_kernels::render::{tile_rect, PreparedScene, RenderWorkload};

type RenderFn = unsafe extern "C" fn(
    RenderParams,
    *const GpuMaterial,
    *const GpuSphere,
    *const GpuPlane,
    *const GpuTriangle,
    *const GpuBvhNode,
    *mut u8,
    u32,
    u32,
    u32,
    u32,
    *mut f32,
    u32,
    u32,
    u32,
    u32,
);

type GemmFn = unsafe extern "C" fn(
    *const i8,
    *const i8,
    *const i32,
    *const i32,
    *const i32,
    *mut i8,
    i32,
    i32,
    i32,
    i32,
    i32,
    i32,
    u32,
    u32,
    u32,
);

/// The emulation library, built once per test process: the tests run in parallel, and two of
/// them writing the same file while another loads it read a truncated library.
fn emulator() -> Option<Library> {
    static BUILT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let path = BUILT.get_or_init(build_emulator).as_ref()?;
    // SAFETY: the library is host_emu.cpp, whose initialisers only set plain globals.
    Some(unsafe { Library::new(path) }.expect("load the emulation library"))
}

fn build_emulator() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TESSERA_CUDA_EMU_LIB") {
        return Some(PathBuf::from(p));
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("libtessera_cuda_emu.so");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/cuda/emu/host_emu.cpp");
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    let status = Command::new(&cxx)
        .args([
            "-std=c++20",
            "-O2",
            "-ffp-contract=off",
            "-fno-fast-math",
            "-fPIC",
            "-shared",
            "-pthread",
            "-o",
        ])
        .arg(&out)
        .arg(src)
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        other => {
            eprintln!("CUDA host emulation skipped: {cxx} could not build it ({other:?})");
            None
        }
    }
}

fn non_empty<T: Copy + Default>(v: &[T]) -> Vec<T> {
    if v.is_empty() {
        vec![T::default()]
    } else {
        v.to_vec()
    }
}

/// What `CudaDevice::render_rect` does, with the kernel run by the emulator: the launches of
/// `render_plan(…, max_cost)`.
fn emu_render(
    lib: &Library,
    s: &PreparedScene,
    (x, y, w, h): (u32, u32, u32, u32),
    max_cost: u64,
) -> Vec<u8> {
    // SAFETY: the symbol has the signature of `RenderFn` (host_emu.cpp).
    let f = unsafe { lib.get::<RenderFn>(b"emu_render_rect") }.unwrap();
    let p = s.params_for_rect(x, y, w, h);
    let (m, sp, pl, t, n) = (
        non_empty(&s.materials),
        non_empty(&s.spheres),
        non_empty(&s.planes),
        non_empty(&s.triangles),
        non_empty(&s.nodes),
    );
    let mut out = vec![0u8; (w * h * 4) as usize];
    let plan = render_plan(&p, max_cost);
    let mut acc = vec![0f32; plan.accumulator_floats.max(1)];
    for l in &plan.launches {
        let cfg = l.config;
        // SAFETY: as for the device launch: every array holds what `p` says, and `acc` what
        // the plan asks for.
        unsafe {
            f(
                p,
                m.as_ptr(),
                sp.as_ptr(),
                pl.as_ptr(),
                t.as_ptr(),
                n.as_ptr(),
                out.as_mut_ptr(),
                l.row0,
                l.rows,
                l.sample0,
                l.sample0 + l.samples,
                acc.as_mut_ptr(),
                cfg.grid_dim.0,
                cfg.grid_dim.1,
                cfg.block_dim.0,
                cfg.block_dim.1,
            )
        };
    }
    out
}

/// What `CudaDevice::mlp_rows` does, with the kernel run by the emulator.
fn emu_mlp(lib: &Library, model: &QuantModel, start: usize, end: usize) -> Vec<i8> {
    // SAFETY: the symbol has the signature of `GemmFn` (host_emu.cpp).
    let f = unsafe { lib.get::<GemmFn>(b"emu_gemm_i8_requant") }.unwrap();
    let rows = end - start;
    let k0 = model.layers[0].k;
    let mut act = pad_i8_rows(&model.input[start * k0..end * k0], rows, k0);
    for (i, l) in model.layers.iter().enumerate() {
        let w = pad_i8_rows(&l.weight, l.n, l.k);
        let bias = model.folded_bias(i);
        let stride = l.n.div_ceil(4) * 4;
        let mut out = vec![0i8; rows * stride];
        let cfg = gemm_launch(rows as u32, l.n as u32);
        assert_eq!(cfg.block_dim.0, GEMM_THREADS);
        // Word reads need 4-byte alignment, as device allocations give.
        let words = |v: &[i8]| -> Vec<i32> {
            v.as_chunks::<4>()
                .0
                .iter()
                .map(|c| i32::from_le_bytes(c.map(|b| b as u8)))
                .collect()
        };
        let (act_words, w_words) = (words(&act), words(&w));
        // SAFETY: sizes as in `CudaDevice::mlp_rows`.
        unsafe {
            f(
                act_words.as_ptr() as *const i8,
                w_words.as_ptr() as *const i8,
                bias.as_ptr(),
                l.multiplier.as_ptr(),
                l.shift.as_ptr(),
                out.as_mut_ptr(),
                rows as i32,
                l.n as i32,
                l.k.div_ceil(4) as i32,
                stride as i32,
                l.output_zero_point,
                l.relu as i32,
                cfg.grid_dim.0,
                cfg.grid_dim.1,
                cfg.block_dim.0,
            )
        };
        act = out;
    }
    let n = model.output_features();
    let stride = n.div_ceil(4) * 4;
    (0..rows)
        .flat_map(|r| act[r * stride..r * stride + n].to_vec())
        .collect()
}

#[test]
fn emulated_render_matches_cpu_reference() {
    let Some(lib) = emulator() else { return };
    let jobs = [
        RenderWorkload::from_json(&small_cornell()).unwrap(),
        BenchmarkWorkload::get().render.clone(),
    ];
    for job in jobs {
        let (w, h) = (job.scene.width, job.scene.height);
        let emu = emu_render(&lib, &job.prepared, (0, 0, w, h), MAX_LAUNCH_COST);
        let cpu = tessera_kernels::render::tiles::assemble_tiles(
            &job.render_cpu(),
            w,
            h,
            job.scene.tile_size,
        )
        .unwrap();
        let diff = emu.iter().zip(&cpu).filter(|(a, b)| a != b).count();
        assert_eq!(diff, 0, "{diff} of {} bytes differ", cpu.len());
        // One tile alone (the verifier's path).
        let last = job.chunk_count() - 1;
        let (x, y, tw, th) = tile_rect(w, h, job.scene.tile_size, last);
        assert!(
            emu_render(&lib, &job.prepared, (x, y, tw, th), MAX_LAUNCH_COST)
                == job.render_tile_cpu(last).unwrap()
        );
    }
}

/// Launches bounded far below one row's cost: bands of a few rows, each pixel's samples split
/// over several launches with the running sums carried in the accumulator. The bytes must be
/// those of the CPU reference all the same.
#[test]
fn emulated_split_launches_match_cpu_reference() {
    let Some(lib) = emulator() else { return };
    let mut scene: serde_json::Value =
        serde_json::from_slice(&small_cornell()).expect("the scene is JSON");
    scene["samples_per_pixel"] = 7.into();
    let job = RenderWorkload::from_json(&serde_json::to_vec(&scene).unwrap()).unwrap();
    let (w, h) = (job.scene.width, job.scene.height);
    let cpu = tessera_kernels::render::tiles::assemble_tiles(
        &job.render_cpu(),
        w,
        h,
        job.scene.tile_size,
    )
    .unwrap();
    let params = job.prepared.params_for_rect(0, 0, w, h);
    let one_row_sample = RenderPlan::launch_cost(&params, &render_plan(&params, 1).launches[0]);
    // 3 samples of a row per launch at most: the 7 samples go in launches of 3, 3 and 1.
    for max_cost in [one_row_sample, 3 * one_row_sample, 7 * one_row_sample * 5] {
        let plan = render_plan(&params, max_cost);
        assert!(
            plan.launches.len() > 1,
            "{max_cost}: {} launches",
            plan.launches.len()
        );
        let emu = emu_render(&lib, &job.prepared, (0, 0, w, h), max_cost);
        let diff = emu.iter().zip(&cpu).filter(|(a, b)| a != b).count();
        assert_eq!(
            diff,
            0,
            "max cost {max_cost}: {diff} of {} bytes differ",
            cpu.len()
        );
    }
    let split = render_plan(&params, 3 * one_row_sample);
    assert!(split.accumulator_floats > 0);
    assert!(split.launches.iter().any(|l| l.sample0 > 0));
}

#[test]
fn emulated_gemm_matches_cpu_reference() {
    let Some(lib) = emulator() else { return };
    for model in [
        odd_gemm(),
        odd_mlp(),
        BenchmarkWorkload::get().mlp.model.clone(),
        // Positive shifts: the left-shift requantization path.
        tessera_kernels::selftest::left_shift_mlp(),
    ] {
        let cpu = run_rows_cpu(&model, 0, model.rows);
        let emu = emu_mlp(&lib, &model, 0, model.rows);
        assert_eq!(emu.len(), cpu.len());
        let diff = emu.iter().zip(&cpu).filter(|(a, b)| a != b).count();
        assert_eq!(diff, 0, "{diff} of {} outputs differ", cpu.len());
        let (s, e) = model.chunk_rows(model.chunk_count() - 1);
        assert!(emu_mlp(&lib, &model, s, e) == run_rows_cpu(&model, s, e));
    }
}

/// The CUDA kernel (emulated on the host) gives the bytes of the referee's element function
/// on fuzzed models at the edges of the arithmetic.
#[test]
fn emulated_gemm_matches_the_referee_element() {
    let Some(lib) = emulator() else { return };
    let mut rng = common::Rng(0xc0da);
    let mut compared = 0;
    for case in 0..150 {
        let model = common::fuzzed_model(&mut rng, 1 + case % 3);
        let (want, count) = common::by_elements(&model);
        assert_eq!(emu_mlp(&lib, &model, 0, model.rows), want, "case {case}");
        compared += count;
    }
    assert!(compared >= 3_000, "{compared}");
}
