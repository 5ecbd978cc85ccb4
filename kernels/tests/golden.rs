//! Golden outputs: the Merkle roots of fixed small jobs. A change of any of them is a change
//! of the kernels' output, which breaks agreement with every operator still on the old code:
//! make it consciously and update the constants (and `benchmark::GOLDEN_ROOT`).

mod common;

use common::{hex, odd_gemm, odd_mlp, small_cornell};
use tessera_kernels::benchmark::{BenchmarkWorkload, GOLDEN_ROOT};
use tessera_kernels::{recompute_chunk, Backend, KernelId, Workload};

fn root(kernel: KernelId, input: &[u8]) -> String {
    let job = Workload::parse(kernel, input).unwrap();
    hex(&job.run(&Backend::Cpu).unwrap().root())
}

#[test]
fn golden_render_small_cornell() {
    assert_eq!(
        root(KernelId::Render, &small_cornell()),
        "066fc92248951753c4f990804fde1b8df33fb914b03a87446caf4489f95a9841"
    );
}

#[test]
fn golden_render_benchmark_scene() {
    let input = tessera_kernels::benchmark::SCENE_JSON.as_bytes();
    assert_eq!(
        root(KernelId::Render, input),
        "4184ec8b56ceb113bca0664dba60b971f8a01a53b23ac25f8930b2b1874f8559"
    );
}

#[test]
fn golden_mlp() {
    assert_eq!(
        root(KernelId::MlpI8, &odd_mlp().to_safetensors()),
        "a2423a3c97d14e66bf83a35cecfb7b2d34a0cd93756bfe7898130189e7f52b5e"
    );
}

#[test]
fn golden_gemm() {
    assert_eq!(
        root(KernelId::GemmI8, &odd_gemm().to_safetensors()),
        "0485f1db2a3e7469edabc0710d77d6dd30a36fdf8c7a28d2a128360bb2891808"
    );
}

#[test]
fn golden_benchmark() {
    let job = Workload::parse(KernelId::Benchmark, &[]).unwrap();
    let out = job.run(&Backend::Cpu).unwrap();
    assert_eq!(hex(&out.root()), hex(&GOLDEN_ROOT));
    assert_eq!(
        out.chunks.len() as u32,
        BenchmarkWorkload::get().chunk_count()
    );
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

#[test]
fn cpu_output_does_not_depend_on_thread_count() {
    let inputs = [
        (KernelId::Render, small_cornell()),
        (KernelId::MlpI8, odd_mlp().to_safetensors()),
        (KernelId::GemmI8, odd_gemm().to_safetensors()),
    ];
    for (kernel, input) in inputs {
        let job = Workload::parse(kernel, &input).unwrap();
        let one = pool(1).install(|| job.run(&Backend::Cpu).unwrap());
        let four = pool(4).install(|| job.run(&Backend::Cpu).unwrap());
        assert_eq!(one, four, "{kernel}");
    }
}

#[test]
fn recompute_chunk_equals_the_full_run() {
    let inputs = [
        (KernelId::Render, small_cornell()),
        (KernelId::MlpI8, odd_mlp().to_safetensors()),
        (KernelId::GemmI8, odd_gemm().to_safetensors()),
    ];
    for (kernel, input) in inputs {
        let job = Workload::parse(kernel, &input).unwrap();
        let full = job.run(&Backend::Cpu).unwrap();
        assert_eq!(full.chunks.len() as u32, job.chunk_count());
        for (i, chunk) in full.chunks.iter().enumerate() {
            let alone = recompute_chunk(kernel, &input, i as u32).unwrap();
            assert_eq!(&alone, chunk, "{kernel} chunk {i}");
            // And the chunk verifies against the root with its proof.
            let proof = full.proof(i as u32).unwrap();
            assert!(tessera_merkle::verify_proof(
                &full.root(),
                &tessera_merkle::leaf_hash(&alone),
                i as u32,
                full.chunks.len() as u32,
                &proof
            ));
        }
        let count = job.chunk_count();
        assert!(matches!(
            recompute_chunk(kernel, &input, count),
            Err(tessera_kernels::KernelError::ChunkOutOfRange { .. })
        ));
    }
}

#[test]
fn benchmark_chunks_recompute_alone() {
    let job = Workload::parse(KernelId::Benchmark, &[]).unwrap();
    let full = job.run(&Backend::Cpu).unwrap();
    let rc = BenchmarkWorkload::get().render.chunk_count();
    for i in [0, rc - 1, rc, job.chunk_count() - 1] {
        assert_eq!(
            recompute_chunk(KernelId::Benchmark, &[], i).unwrap(),
            full.chunks[i as usize]
        );
    }
}

/// The synthetic models exercise requantization: outputs spread over many values, few
/// saturate (otherwise a broken kernel could still match by luck).
#[test]
fn synthetic_models_have_spread_outputs() {
    for model in [
        odd_mlp(),
        odd_gemm(),
        BenchmarkWorkload::get().mlp.model.clone(),
    ] {
        let out = tessera_kernels::quant::run_rows_cpu(&model, 0, model.rows);
        let mut seen = [false; 256];
        let mut saturated = 0;
        for &v in &out {
            seen[v as u8 as usize] = true;
            if v == 127 || v == -128 {
                saturated += 1;
            }
        }
        let distinct = seen.iter().filter(|&&b| b).count();
        assert!(distinct >= 40, "{distinct} distinct values");
        assert!(
            saturated * 20 < out.len(),
            "{saturated} of {} saturated",
            out.len()
        );
    }
}

#[test]
fn shipped_scenes_parse() {
    for (name, json) in [
        ("cornell", include_str!("../scenes/cornell.json")),
        ("benchmark", include_str!("../scenes/benchmark.json")),
    ] {
        let job = Workload::parse(KernelId::Render, json.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(job.work_units() > 0);
    }
}

/// Scene numbers are the f32 nearest to their decimal text (D1): these three strings are read
/// one way by serde_json's default float parsing (three roundings) and another by a correctly
/// rounding parser, and must be read the correct way everywhere in a scene, the tagged
/// material enum included, whatever serde_json's features in the build.
#[test]
fn golden_scene_floats_are_correctly_rounded() {
    use tessera_kernels::render::{Material, Scene};
    let (a, b, c) = (
        "134.37290191650391",
        "847.43527221679688",
        "28.35719394683838",
    );
    let want = [0x4306_5f77u32, 0x4453_dbdc, 0x41e2_db89];
    let json = format!(
        r#"{{"width": 8, "height": 8, "samples_per_pixel": 1, "tile_size": 8,
            "camera": {{"look_from": [{a}, {b}, {c}], "look_at": [0, 0, 0], "vfov": {c}}},
            "materials": [{{"type": "emissive", "emit": [{a}, {b}, {c}]}},
                          {{"type": "metal", "albedo": [0.5, 0.5, 0.5], "fuzz": 0.1}}],
            "spheres": [{{"center": [{a}, {b}, {c}], "radius": {a}, "material": 0}}],
            "meshes": [{{"vertices": [[{a}, {b}, {c}], [0, 0, 1], [0, 1, 0]],
                         "triangles": [[0, 1, 2]], "material": 1}}]}}"#
    );
    let scene = Scene::from_json(json.as_bytes()).unwrap();
    let bits = |v: [f32; 3]| v.map(f32::to_bits);
    assert_eq!(bits(scene.camera.look_from), want);
    assert_eq!(scene.camera.vfov.to_bits(), want[2]);
    assert_eq!(scene.spheres[0].radius.to_bits(), want[0]);
    assert_eq!(bits(scene.spheres[0].center), want);
    assert_eq!(bits(scene.meshes[0].vertices[0]), want);
    let Material::Emissive { emit } = scene.materials[0] else {
        panic!("{:?}", scene.materials[0])
    };
    assert_eq!(bits(emit), want);
    assert_eq!(
        scene.materials[1],
        Material::Metal {
            albedo: [0.5; 3],
            fuzz: 0.1
        }
    );
}

/// A material is read by hand: its errors still name the field or type that is wrong.
#[test]
fn material_errors_name_what_is_wrong() {
    use tessera_kernels::render::Scene;
    for (material, says) in [
        (
            r#"{"type": "plastic", "albedo": [1, 1, 1]}"#,
            "unknown variant `plastic`",
        ),
        (r#"{"type": "diffuse"}"#, "missing field `albedo`"),
        (
            r#"{"type": "diffuse", "albedo": [1, 1, 1], "ior": 1.5}"#,
            "unknown field `ior`",
        ),
        (r#"{"type": "glass", "ior": "1.5"}"#, "expected a number"),
        (
            r#"{"type": "diffuse", "albedo": [1, 1]}"#,
            "an array of 3 numbers",
        ),
        (r#"{"albedo": [1, 1, 1]}"#, "missing field `type`"),
    ] {
        let json = format!(
            r#"{{"width": 8, "height": 8, "samples_per_pixel": 1,
                "camera": {{"look_from": [0, 0, 1], "look_at": [0, 0, 0], "vfov": 40}},
                "materials": [{material}]}}"#
        );
        let e = Scene::from_json(json.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(says), "{material}: {e}");
    }
}
