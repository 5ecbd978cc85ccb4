//! Bad inputs are rejected before any work, with an error that says what is wrong.

mod common;

use common::odd_mlp;
use tessera_kernels::error::{ModelError, SceneError};
use tessera_kernels::quant::QuantModel;
use tessera_kernels::{KernelError, KernelId, Workload};

fn scene_with(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut s: serde_json::Value =
        serde_json::from_str(include_str!("../scenes/cornell.json")).unwrap();
    edit(&mut s);
    serde_json::to_vec(&s).unwrap()
}

fn scene_err(edit: impl FnOnce(&mut serde_json::Value)) -> SceneError {
    match Workload::parse(KernelId::Render, &scene_with(edit)) {
        Err(KernelError::Scene(e)) => e,
        Ok(_) => panic!("expected a scene error, the scene was accepted"),
        Err(e) => panic!("expected a scene error, got {e}"),
    }
}

#[test]
fn test_scene_ok() {
    let job = Workload::parse(KernelId::Render, &scene_with(|_| {})).unwrap();
    assert_eq!(job.chunk_count(), 16);
    assert!(job.work_units() >= 128 * 128 * 32 * 8);
}

#[test]
fn test_scene_resolution_and_sampling_limits() {
    let e = scene_err(|s| s["width"] = 8193.into());
    assert!(
        matches!(e, SceneError::OutOfRange { ref field, .. } if field == "width"),
        "{e}"
    );
    let e = scene_err(|s| s["height"] = 0.into());
    assert!(e.to_string().contains("height is 0"), "{e}");
    let e = scene_err(|s| s["samples_per_pixel"] = 100_000.into());
    assert!(e.to_string().contains("samples_per_pixel"), "{e}");
    let e = scene_err(|s| s["max_bounces"] = 65.into());
    assert!(e.to_string().contains("max_bounces"), "{e}");
    let e = scene_err(|s| s["tile_size"] = 4.into());
    assert!(e.to_string().contains("tile_size"), "{e}");
    let e = scene_err(|s| {
        s["width"] = 8192.into();
        s["height"] = 8192.into();
        s["samples_per_pixel"] = 65536.into();
    });
    assert!(matches!(e, SceneError::TooMuchWork { .. }), "{e}");
}

#[test]
fn test_scene_bad_references_and_values() {
    let e = scene_err(|s| s["spheres"][0]["material"] = 99.into());
    assert!(
        e.to_string()
            .contains("spheres[0].material refers to material 99, but the scene has only 6"),
        "{e}"
    );
    let e = scene_err(|s| s["spheres"][0]["radius"] = (-1.0).into());
    assert!(e.to_string().contains("spheres[0].radius"), "{e}");
    let e = scene_err(|s| s["planes"][0]["normal"] = serde_json::json!([0, 0, 0]));
    assert!(e.to_string().contains("normal must not be zero"), "{e}");
    let e = scene_err(|s| s["camera"]["look_at"] = s["camera"]["look_from"].clone());
    assert!(e.to_string().contains("must differ"), "{e}");
    let e = scene_err(|s| s["camera"]["vup"] = serde_json::json!([0, 0, 1]));
    assert!(e.to_string().contains("parallel"), "{e}");
    let e = scene_err(|s| s["camera"]["vfov"] = 180.into());
    assert!(e.to_string().contains("camera.vfov"), "{e}");
    let e = scene_err(|s| s["materials"][0]["albedo"] = serde_json::json!([1.5, 0, 0]));
    assert!(e.to_string().contains("materials[0].albedo[0]"), "{e}");
    let e = scene_err(|s| s["materials"][4]["ior"] = 0.5.into());
    assert!(e.to_string().contains("materials[4].ior"), "{e}");
    let e = scene_err(|s| s["spheres"][0]["center"] = serde_json::json!([1e30, 0, 0]));
    assert!(matches!(e, SceneError::NotFinite { .. }), "{e}");
    let e = scene_err(|s| s["materials"] = serde_json::json!([]));
    assert!(e.to_string().contains("at least one material"), "{e}");
    let e = scene_err(|s| s["meshes"][0]["triangles"][0] = serde_json::json!([0, 1, 7]));
    assert!(
        e.to_string()
            .contains("meshes[0].triangles[0] refers to vertex 7"),
        "{e}"
    );
    let e = scene_err(|s| s["meshes"][1]["obj"] = "v 0 0 0\nf 1 2 3\n".into());
    assert!(e.to_string().starts_with("mesh 1, OBJ line 2"), "{e}");
    let e = scene_err(|s| s["meshes"][1]["scale"] = serde_json::json!([1e6, 1e6, 1e6]));
    assert!(e.to_string().contains("after scale and translate"), "{e}");
}

#[test]
fn test_scene_json_errors() {
    let e = scene_err(|s| s["colour"] = 1.into());
    assert!(
        matches!(e, SceneError::Json(ref m) if m.contains("unknown field `colour`")),
        "{e}"
    );
    let e = scene_err(|s| s["materials"][0]["type"] = "plastic".into());
    assert!(matches!(e, SceneError::Json(_)), "{e}");
    match Workload::parse(KernelId::Render, b"{") {
        Err(KernelError::Scene(SceneError::Json(_))) => {}
        Ok(_) => panic!("accepted"),
        Err(e) => panic!("unexpected error {e}"),
    }
    let big = vec![b' '; tessera_kernels::limits::MAX_SCENE_BYTES + 1];
    assert!(matches!(
        Workload::parse(KernelId::Render, &big),
        Err(KernelError::Scene(SceneError::TooLarge { .. }))
    ));
}

#[test]
fn test_scene_too_many_triangles() {
    // A grid of quads just over the triangle limit, given as OBJ.
    let n = 726usize; // (n-1)^2 * 2 = 1_051_250 > 2^20
    let mut obj = String::with_capacity(n * n * 16);
    for i in 0..n {
        for j in 0..n {
            obj.push_str(&format!("v {i} 0 {j}\n"));
        }
    }
    for i in 0..n - 1 {
        for j in 0..n - 1 {
            let a = i * n + j + 1;
            obj.push_str(&format!("f {} {} {} {}\n", a, a + 1, a + n + 1, a + n));
        }
    }
    let e = scene_err(|s| s["meshes"][1]["obj"] = obj.into());
    assert!(
        matches!(
            e,
            SceneError::TooMany {
                what: "triangles",
                ..
            }
        ),
        "{e}"
    );
}

fn model_err(bytes: &[u8]) -> ModelError {
    match Workload::parse(KernelId::MlpI8, bytes) {
        Err(KernelError::Model(e)) => e,
        Ok(_) => panic!("expected a model error, the model was accepted"),
        Err(e) => panic!("expected a model error, got {e}"),
    }
}

#[test]
fn test_model_ok() {
    let m = odd_mlp();
    let parsed = QuantModel::from_safetensors(&m.to_safetensors()).unwrap();
    assert_eq!(parsed, m);
    let job = Workload::parse(KernelId::MlpI8, &m.to_safetensors()).unwrap();
    assert_eq!(job.chunk_count(), 5); // 70 rows in blocks of 16
    assert_eq!(job.work_units(), (70 * (37 * 70 + 70 * 5) / 1024) as u64);
}

#[test]
fn test_model_errors() {
    assert!(matches!(
        model_err(b"not a model"),
        ModelError::SafeTensors(_)
    ));
    assert!(matches!(model_err(&[]), ModelError::SafeTensors(_)));

    let mut m = odd_mlp();
    m.layers[0].bias[3] = (1 << 30) + 1;
    let e = model_err(&m.to_safetensors());
    assert!(e.to_string().contains("layers.0.bias` element 3"), "{e}");

    let mut m = odd_mlp();
    m.layers[1].multiplier[0] = 12345;
    let e = model_err(&m.to_safetensors());
    assert!(e.to_string().contains("layers.1.multiplier"), "{e}");

    let mut m = odd_mlp();
    m.layers[1].shift[4] = 8;
    let e = model_err(&m.to_safetensors());
    assert!(e.to_string().contains("layers.1.shift"), "{e}");

    let mut m = odd_mlp();
    m.layers[0].output_zero_point = 200;
    let e = model_err(&m.to_safetensors());
    assert!(e.to_string().contains("layers.0.output_zero_point"), "{e}");

    // A layer whose input width does not match the previous output.
    let mut m = odd_mlp();
    m.layers[1].k = 69;
    let n = m.layers[1].n;
    m.layers[1].weight.truncate(n * 69);
    let e = model_err(&m.to_safetensors());
    assert!(
        matches!(e, ModelError::Shape { ref name, .. } if name == "layers.1.weight"),
        "{e}"
    );

    // gemm-i8 takes one layer only.
    match Workload::parse(KernelId::GemmI8, &odd_mlp().to_safetensors()) {
        Err(KernelError::Input { .. }) => {}
        Ok(_) => panic!("accepted"),
        Err(e) => panic!("unexpected error {e}"),
    }
    // The benchmark takes no input.
    match Workload::parse(KernelId::Benchmark, b"x") {
        Err(KernelError::Input { .. }) => {}
        Ok(_) => panic!("accepted"),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn test_model_limits() {
    use tessera_kernels::benchmark::synthetic_mlp;
    // Too wide a layer: K = 16385 features.
    let m = synthetic_mlp(1, 1, &[16_385, 1], 1);
    let e = model_err(&m.to_safetensors());
    assert!(
        matches!(
            e,
            ModelError::Limit {
                what: "input features",
                value: 16_385,
                ..
            }
        ),
        "{e}"
    );
    // Too many layers.
    let m = synthetic_mlp(1, 1, &[2; 18], 1);
    let e = model_err(&m.to_safetensors());
    assert!(e.to_string().contains("`layers`"), "{e}");
}

#[test]
fn counts_above_their_limits_are_named() {
    use tessera_kernels::limits;
    let too_many = |key: &'static str, max: usize| {
        let e = scene_err(|s| {
            let first = s[key][0].clone();
            s[key] = serde_json::Value::Array(vec![first; max + 1]);
        });
        match e {
            SceneError::TooMany {
                what,
                count,
                max: m,
            } => {
                assert_eq!((what, count, m), (key, max + 1, max), "{key}")
            }
            e => panic!("{key}: {e}"),
        }
    };
    too_many("spheres", limits::MAX_SPHERES);
    too_many("planes", limits::MAX_PLANES);
    too_many("materials", limits::MAX_MATERIALS);
    // At the limit itself a scene is accepted.
    let at_limit = scene_with(|s| {
        let first = s["planes"][0].clone();
        s["planes"] = serde_json::Value::Array(vec![first; limits::MAX_PLANES]);
    });
    assert!(Workload::parse(KernelId::Render, &at_limit).is_ok());
}
