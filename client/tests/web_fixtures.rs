//! Fixtures for browser code, written to `client/fixtures/web.json`: Merkle leaves and roots
//! (`tessera-merkle`), a small render's real tiles with the image they assemble into, scene
//! files with the kernel's verdict on each (`Workload::parse`: accepted with its chunk count,
//! or refused), int8 model files with the verdicts of `gemm-i8` and `mlp-i8` (accepted with
//! their chunk count, work units and model root, the job's `kernel_params`, or refused), the
//! CPU reference's output of the accepted ones with the safetensors file `output::assemble`
//! makes of it, and events as the program encodes them. The TypeScript client's tests
//! (`client/ts/test/web.test.ts`, `model.test.ts`) check its Merkle hashing, tile assembly,
//! scene and model checks, model roots, output files and event decoding against them, so a
//! page verifies outputs, refuses inputs and reads events exactly as the worker and the CLI do.
//!
//! Fails if the committed file is stale; `TESSERA_BLESS=1 cargo test -p tessera-client --test
//! web_fixtures` rewrites it.
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Event;
use serde_json::{json, Value};
use tessera::events::{JobClaimed, JobCreated, JobSettled, Slash, SlashReason, StakeWithdrawn};
use tessera::state::JobState;
use tessera_client::output;
use tessera_kernels::benchmark::synthetic_mlp;
use tessera_kernels::quant::QuantModel;
use tessera_kernels::{KernelId, Workload};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Chunk `i` of a Merkle case: `i % 7` bytes (some empty), each `i * 37 + j`.
fn chunk(i: usize) -> Vec<u8> {
    (0..i % 7).map(|j| (i * 37 + j) as u8).collect()
}

fn merkle_cases() -> Value {
    let cases: Vec<Value> = [0usize, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33]
        .iter()
        .map(|&n| {
            let chunks: Vec<Vec<u8>> = (0..n).map(chunk).collect();
            let leaves: Vec<[u8; 32]> = chunks
                .iter()
                .map(|c| tessera_merkle::leaf_hash(c))
                .collect();
            json!({
                "chunks": chunks.iter().map(|c| hex(c)).collect::<Vec<_>>(),
                "leaves": leaves.iter().map(|l| hex(l)).collect::<Vec<_>>(),
                "root": hex(&tessera_merkle::root_from_leaves(&leaves)),
            })
        })
        .collect();
    Value::Array(cases)
}

const TINY: &str = r#"{
  "width": 20, "height": 12, "samples_per_pixel": 2, "max_bounces": 3, "seed": 7, "tile_size": 8,
  "camera": { "look_from": [0, 1, -4], "look_at": [0, 0.5, 0], "vfov": 50 },
  "materials": [
    { "type": "diffuse", "albedo": [0.7, 0.3, 0.2] },
    { "type": "metal", "albedo": [0.8, 0.8, 0.8], "fuzz": 0.1 }
  ],
  "spheres": [{ "center": [0, 0.5, 0], "radius": 0.5, "material": 1 }],
  "planes": [{ "point": [0, 0, 0], "normal": [0, 1, 0], "material": 0 }]
}"#;

/// A small render, rendered on the CPU reference: its tiles (20×12 in tiles of 8: 6 tiles,
/// the right and bottom ones smaller), their root, and the sha256 of the assembled RGBA image.
fn render_case() -> Value {
    let Workload::Render(r) = Workload::parse(KernelId::Render, TINY.as_bytes()).unwrap() else {
        unreachable!()
    };
    let tiles = r.render_cpu();
    let s = &r.scene;
    let image =
        tessera_kernels::render::tiles::assemble_tiles(&tiles, s.width, s.height, s.tile_size)
            .unwrap();
    json!({
        "scene": TINY,
        "width": s.width,
        "height": s.height,
        "tileSize": s.tile_size,
        "tiles": tiles.iter().map(|t| hex(t)).collect::<Vec<_>>(),
        "rects": (0..tiles.len() as u32).map(|i| {
            let (x, y, w, h) = r.tile_rect(i);
            json!([x, y, w, h])
        }).collect::<Vec<_>>(),
        "root": hex(&tessera_merkle::root_of_chunks(&tiles)),
        "imageSha256": hex(&tessera_merkle::sha256(&[&image])),
    })
}

/// `TINY` with `edit` applied to its JSON.
fn tiny_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(TINY).unwrap();
    edit(&mut v);
    v.to_string()
}

fn scene_cases() -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let gallery =
        |name: &str| std::fs::read_to_string(root.join("kernels/scenes").join(name)).unwrap();
    let cube = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n";
    let cases: Vec<(&str, String)> = vec![
        ("cornell.json", gallery("cornell.json")),
        ("benchmark.json", gallery("benchmark.json")),
        ("tiny", TINY.to_string()),
        ("not JSON", "{ \"width\": 8".to_string()),
        ("an array", "[1, 2]".to_string()),
        ("empty", String::new()),
        (
            "no camera",
            tiny_with(|v| {
                v.as_object_mut().unwrap().remove("camera");
            }),
        ),
        (
            "no samples",
            tiny_with(|v| {
                v.as_object_mut().unwrap().remove("samples_per_pixel");
            }),
        ),
        ("width 0", tiny_with(|v| v["width"] = json!(0))),
        ("width too large", tiny_with(|v| v["width"] = json!(8193))),
        ("width a string", tiny_with(|v| v["width"] = json!("20"))),
        ("width a fraction", tiny_with(|v| v["width"] = json!(20.5))),
        ("width negative", tiny_with(|v| v["width"] = json!(-20))),
        ("tile 4", tiny_with(|v| v["tile_size"] = json!(4))),
        ("tile 1024", tiny_with(|v| v["tile_size"] = json!(1024))),
        (
            "odd tiles",
            tiny_with(|v| {
                v["width"] = json!(33);
                v["height"] = json!(65);
                v["tile_size"] = json!(16);
            }),
        ),
        ("unknown field", tiny_with(|v| v["colour"] = json!(1))),
        (
            "unknown camera field",
            tiny_with(|v| v["camera"]["zoom"] = json!(1)),
        ),
        (
            "too much work",
            tiny_with(|v| {
                v["width"] = json!(8192);
                v["height"] = json!(8192);
                v["samples_per_pixel"] = json!(65536);
                v["max_bounces"] = json!(64);
            }),
        ),
        ("bounces 0", tiny_with(|v| v["max_bounces"] = json!(0))),
        ("bounces 65", tiny_with(|v| v["max_bounces"] = json!(65))),
        ("vfov 180", tiny_with(|v| v["camera"]["vfov"] = json!(180))),
        ("vfov 0.5", tiny_with(|v| v["camera"]["vfov"] = json!(0.5))),
        (
            "look at itself",
            tiny_with(|v| v["camera"]["look_at"] = json!([0, 1, -4])),
        ),
        (
            "vup along the view",
            tiny_with(|v| {
                v["camera"]["look_at"] = json!([0, 5, -4]);
            }),
        ),
        (
            "vup zero",
            tiny_with(|v| v["camera"]["vup"] = json!([0, 0, 0])),
        ),
        (
            "camera far away",
            tiny_with(|v| v["camera"]["look_from"] = json!([2e6, 0, 0])),
        ),
        (
            "vec of two",
            tiny_with(|v| v["camera"]["look_at"] = json!([0, 1])),
        ),
        (
            "sky too bright",
            tiny_with(|v| v["sky"] = json!({"top": [1e5, 0, 0], "bottom": [0, 0, 0]})),
        ),
        (
            "sky negative",
            tiny_with(|v| v["sky"] = json!({"top": [0, 0, 0], "bottom": [-0.1, 0, 0]})),
        ),
        (
            "no materials",
            tiny_with(|v| {
                v["materials"] = json!([]);
                v["spheres"] = json!([]);
                v["planes"] = json!([]);
            }),
        ),
        (
            "albedo above 1",
            tiny_with(|v| v["materials"][0]["albedo"] = json!([1.5, 0, 0])),
        ),
        (
            "fuzz 2",
            tiny_with(|v| v["materials"][1]["fuzz"] = json!(2)),
        ),
        (
            "metal without fuzz",
            tiny_with(|v| {
                v["materials"][1].as_object_mut().unwrap().remove("fuzz");
            }),
        ),
        (
            "glass",
            tiny_with(|v| {
                v["materials"][1] = json!({"type": "glass", "ior": 1.5, "tint": [1, 0.9, 0.9]})
            }),
        ),
        (
            "glass ior 5",
            tiny_with(|v| v["materials"][1] = json!({"type": "glass", "ior": 5})),
        ),
        (
            "glass without ior",
            tiny_with(|v| v["materials"][1] = json!({"type": "glass"})),
        ),
        (
            "emissive",
            tiny_with(|v| v["materials"][1] = json!({"type": "emissive", "emit": [4, 4, 4]})),
        ),
        (
            "emissive too bright",
            tiny_with(|v| v["materials"][1] = json!({"type": "emissive", "emit": [20000, 4, 4]})),
        ),
        (
            "diffuse with fuzz",
            tiny_with(|v| v["materials"][0]["fuzz"] = json!(0.5)),
        ),
        (
            "unknown material",
            tiny_with(|v| v["materials"][0]["type"] = json!("plastic")),
        ),
        (
            "material unknown field",
            tiny_with(|v| v["materials"][0]["shine"] = json!(1)),
        ),
        (
            "sphere material out of range",
            tiny_with(|v| v["spheres"][0]["material"] = json!(2)),
        ),
        (
            "sphere radius 0",
            tiny_with(|v| v["spheres"][0]["radius"] = json!(0)),
        ),
        (
            "sphere radius negative",
            tiny_with(|v| v["spheres"][0]["radius"] = json!(-1)),
        ),
        (
            "plane normal zero",
            tiny_with(|v| v["planes"][0]["normal"] = json!([0, 0, 0])),
        ),
        (
            "plane material out of range",
            tiny_with(|v| v["planes"][0]["material"] = json!(9)),
        ),
        (
            "mesh inline",
            tiny_with(
                |v| v["meshes"] = json!([{"vertices": [[0,0,0],[1,0,0],[0,1,0]], "triangles": [[0,1,2]], "material": 0}]),
            ),
        ),
        (
            "mesh bad triangle",
            tiny_with(
                |v| v["meshes"] = json!([{"vertices": [[0,0,0],[1,0,0],[0,1,0]], "triangles": [[0,1,3]], "material": 0}]),
            ),
        ),
        (
            "mesh obj",
            tiny_with(|v| {
                v["meshes"] = json!([{"obj": cube, "scale": [2, 2, 2], "translate": [0, 0, 1], "material": 0}])
            }),
        ),
        (
            "mesh obj and vertices",
            tiny_with(|v| {
                v["meshes"] = json!([{"obj": cube, "vertices": [[0,0,0]], "material": 0}])
            }),
        ),
        (
            "mesh obj bad index",
            tiny_with(|v| {
                v["meshes"] = json!([{"obj": "v 0 0 0\nv 1 0 0\nf 1 2 3\n", "material": 0}])
            }),
        ),
        (
            "mesh obj index 0",
            tiny_with(|v| {
                v["meshes"] =
                    json!([{"obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "material": 0}])
            }),
        ),
        (
            "mesh obj negative index",
            tiny_with(|v| {
                v["meshes"] =
                    json!([{"obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\n", "material": 0}])
            }),
        ),
        (
            "mesh obj corners",
            tiny_with(
                |v| v["meshes"] = json!([{"obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1/1 2//3 3/4/5\n# c\nvn 0 0 1\no x\n", "material": 0}]),
            ),
        ),
        (
            "mesh obj unsupported",
            tiny_with(|v| v["meshes"] = json!([{"obj": "v 0 0 0\ncurv 1 2\n", "material": 0}])),
        ),
        (
            "mesh obj pentagon",
            tiny_with(
                |v| v["meshes"] = json!([{"obj": "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 2 0\nf 1 2 3 4 5\n", "material": 0}]),
            ),
        ),
        (
            "mesh obj far",
            tiny_with(
                |v| v["meshes"] = json!([{"obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "scale": [2e6, 1, 1], "material": 0}]),
            ),
        ),
        (
            "mesh material out of range",
            tiny_with(
                |v| v["meshes"] = json!([{"vertices": [[0,0,0],[1,0,0],[0,1,0]], "triangles": [[0,1,2]], "material": 5}]),
            ),
        ),
        ("seed large", tiny_with(|v| v["seed"] = json!(u64::MAX))),
        ("seed negative", tiny_with(|v| v["seed"] = json!(-1))),
    ];
    Value::Array(
        cases
            .into_iter()
            .map(|(name, text)| match Workload::parse(KernelId::Render, text.as_bytes()) {
                Ok(w) => json!({"name": name, "text": text, "ok": true, "chunkCount": w.chunk_count()}),
                Err(e) => json!({"name": name, "text": text, "ok": false, "error": e.to_string()}),
            })
            .collect(),
    )
}

/// A tensor of a model file: name, dtype, shape, bytes.
type Tensor = (String, &'static str, Vec<usize>, Vec<u8>);

/// A safetensors file with its metadata and tensors (data in the given order), written here
/// with sorted keys so that the fixture is the same bytes on every run (the safetensors
/// crate writes metadata in a hash map's order).
fn safetensors_file(meta: &[(String, String)], tensors: &[Tensor]) -> Vec<u8> {
    raw_file(
        &Value::Object(safetensors_header(meta, tensors)).to_string(),
        tensors,
    )
}

/// The header of `safetensors_file`, as JSON.
fn safetensors_header(
    meta: &[(String, String)],
    tensors: &[Tensor],
) -> serde_json::Map<String, Value> {
    let mut header = serde_json::Map::new();
    if !meta.is_empty() {
        let m: serde_json::Map<String, Value> = meta
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        header.insert("__metadata__".into(), Value::Object(m));
    }
    let mut offset = 0;
    for (name, dtype, shape, data) in tensors {
        header.insert(
            name.clone(),
            json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + data.len()]}),
        );
        offset += data.len();
    }
    header
}

/// A safetensors file with this header text (padded with spaces to 8 bytes) and the tensors'
/// bytes after it.
fn raw_file(header: &str, tensors: &[Tensor]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    h.resize(h.len().next_multiple_of(8), b' ');
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    for t in tensors {
        out.extend(&t.3);
    }
    out
}

fn le(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A model's metadata and tensors, as `QuantModel::to_safetensors` writes them.
fn model_parts(m: &QuantModel) -> (Vec<(String, String)>, Vec<Tensor>) {
    let mut meta = vec![
        ("format".to_string(), "tessera.qmlp.v1".to_string()),
        ("layers".to_string(), m.layers.len().to_string()),
        (
            "input_zero_point".to_string(),
            m.input_zero_point.to_string(),
        ),
        ("rows_per_chunk".to_string(), m.rows_per_chunk.to_string()),
    ];
    let mut tensors: Vec<Tensor> = vec![(
        "input".into(),
        "I8",
        vec![m.rows, m.layers[0].k],
        m.input.iter().map(|&v| v as u8).collect(),
    )];
    for (i, l) in m.layers.iter().enumerate() {
        meta.push((
            format!("layers.{i}.output_zero_point"),
            l.output_zero_point.to_string(),
        ));
        meta.push((format!("layers.{i}.relu"), l.relu.to_string()));
        tensors.push((
            format!("layers.{i}.weight"),
            "I8",
            vec![l.n, l.k],
            l.weight.iter().map(|&v| v as u8).collect(),
        ));
        tensors.push((format!("layers.{i}.bias"), "I32", vec![l.n], le(&l.bias)));
        tensors.push((
            format!("layers.{i}.multiplier"),
            "I32",
            vec![l.n],
            le(&l.multiplier),
        ));
        tensors.push((format!("layers.{i}.shift"), "I32", vec![l.n], le(&l.shift)));
    }
    (meta, tensors)
}

/// The gemm-i8 model of most cases: 37 rows of 24 features to 10, in chunks of 8 rows (the
/// last one of 5).
fn gemm_model() -> QuantModel {
    synthetic_mlp(41, 37, &[24, 10], 8)
}

/// `gemm_model()`'s file with `edit` applied to its metadata and tensors.
fn gemm_with(edit: impl FnOnce(&mut Vec<(String, String)>, &mut Vec<Tensor>)) -> Vec<u8> {
    let (mut meta, mut tensors) = model_parts(&gemm_model());
    edit(&mut meta, &mut tensors);
    safetensors_file(&meta, &tensors)
}

fn set_meta(meta: &mut Vec<(String, String)>, key: &str, value: &str) {
    meta.retain(|(k, _)| k != key);
    meta.push((key.to_string(), value.to_string()));
}

fn tensor_mut<'a>(tensors: &'a mut [Tensor], name: &str) -> &'a mut Tensor {
    tensors.iter_mut().find(|t| t.0 == name).unwrap()
}

/// Model files with the verdicts of both int8 kernels; for a model one of them accepts, its
/// chunk count, work units, header, model root (`kernel_params`), the CPU reference's output
/// chunks and the safetensors file `output::assemble` makes of them.
fn model_cases() -> Value {
    let file = |m: &QuantModel| {
        let (meta, tensors) = model_parts(m);
        safetensors_file(&meta, &tensors)
    };
    // One layer with a multiplier and a shift of shape [1] (broadcast), the default rows per
    // chunk (no entry: 64, more than its 70 rows' half), the extreme zero points, and a bias
    // at the limit.
    let broadcast = {
        let mut m = synthetic_mlp(42, 70, &[33, 7], 64);
        m.input_zero_point = -128;
        m.layers[0].output_zero_point = 127;
        m.layers[0].bias[3] = -(1 << 30);
        let (mut meta, mut tensors) = model_parts(&m);
        meta.retain(|(k, _)| k != "rows_per_chunk");
        *tensor_mut(&mut tensors, "layers.0.multiplier") =
            ("layers.0.multiplier".into(), "I32", vec![1], le(&[1 << 30]));
        *tensor_mut(&mut tensors, "layers.0.shift") =
            ("layers.0.shift".into(), "I32", vec![1], le(&[-9]));
        safetensors_file(&meta, &tensors)
    };
    let mlp = synthetic_mlp(43, 20, &[16, 12, 9, 5], 6);
    let wide = synthetic_mlp(44, 1, &[16385, 1], 1);
    let gemm = gemm_model();
    let (gm, gt) = model_parts(&gemm);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("gemm one layer", file(&gemm)),
        ("mlp three layers", file(&mlp)),
        ("broadcast multiplier and shift", broadcast),
        ("one row per chunk", file(&synthetic_mlp(45, 3, &[4, 2], 1))),
        (
            "metadata with a plus sign and spaces",
            gemm_with(|m, _| set_meta(m, "input_zero_point", " +5 ")),
        ),
        (
            "multiplier 0",
            gemm_with(|_, t| tensor_mut(t, "layers.0.multiplier").3 = le(&[0; 10])),
        ),
        (
            "tensors in another order",
            safetensors_file(&gm, &gt.iter().rev().cloned().collect::<Vec<_>>()),
        ),
        ("a tensor described by a list", {
            // serde reads a struct from a JSON list of its fields, in order.
            let mut h = safetensors_header(&gm, &gt);
            let bias = h["layers.0.bias"].clone();
            h["layers.0.bias"] = json!([bias["dtype"], bias["shape"], bias["data_offsets"]]);
            raw_file(&Value::Object(h).to_string(), &gt)
        }),
        ("a tensor described by a short list", {
            let mut h = safetensors_header(&gm, &gt);
            let bias = h["layers.0.bias"].clone();
            h["layers.0.bias"] = json!([bias["dtype"], bias["shape"]]);
            raw_file(&Value::Object(h).to_string(), &gt)
        }),
        ("a shape that overflows on the way", {
            let mut h = safetensors_header(&gm, &gt);
            h.insert(
                "void".into(),
                json!({"dtype": "I8", "shape": [1u64 << 40, 1u64 << 40, 0], "data_offsets": [0, 0]}),
            );
            raw_file(&Value::Object(h).to_string(), &gt)
        }),
        ("an empty tensor besides", {
            let mut h = safetensors_header(&gm, &gt);
            h.insert(
                "void".into(),
                json!({"dtype": "I8", "shape": [0], "data_offsets": [0, 0]}),
            );
            raw_file(&Value::Object(h).to_string(), &gt)
        }),
        ("an offset written 0.0", {
            let mut h = Value::Object(safetensors_header(&gm, &gt)).to_string();
            h = h.replacen("\"data_offsets\":[0,", "\"data_offsets\":[0.0,", 1);
            raw_file(&h, &gt)
        }),
        ("empty file", Vec::new()),
        ("not safetensors", b"a model? no, a sentence".to_vec()),
        ("header length past the end", {
            let mut f = 4096u64.to_le_bytes().to_vec();
            f.extend(b"{}      ");
            f
        }),
        ("header not JSON", raw_file("{\"input\": ", &[])),
        ("header not UTF-8", {
            let mut f = 8u64.to_le_bytes().to_vec();
            f.extend([0xff, 0xfe, b' ', b' ', b' ', b' ', b' ', b' ']);
            f
        }),
        ("trailing bytes", {
            let mut f = file(&gemm);
            f.push(0);
            f
        }),
        ("truncated", {
            let f = file(&gemm);
            f[..f.len() - 1].to_vec()
        }),
        (
            "offsets with a gap",
            raw_file(
                r#"{"__metadata__":{"format":"tessera.qmlp.v1"},"a":{"dtype":"I8","shape":[2],"data_offsets":[1,3]}}"#,
                &[("a".into(), "I8", vec![3], vec![0, 0, 0])],
            ),
        ),
        (
            "size not the shape's",
            raw_file(
                r#"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,4]}}"#,
                &[("a".into(), "I32", vec![1], vec![0; 4])],
            ),
        ),
        (
            "unknown dtype",
            raw_file(
                r#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}"#,
                &[("a".into(), "I8", vec![2], vec![0; 2])],
            ),
        ),
        (
            "metadata value not a string",
            raw_file(r#"{"__metadata__":{"layers":1}}"#, &[]),
        ),
        ("no metadata", safetensors_file(&[], &gt)),
        (
            "another format",
            gemm_with(|m, _| set_meta(m, "format", "tessera.qmlp.v2")),
        ),
        ("layers 0", gemm_with(|m, _| set_meta(m, "layers", "0"))),
        ("layers 17", gemm_with(|m, _| set_meta(m, "layers", "17"))),
        ("layers one", gemm_with(|m, _| set_meta(m, "layers", "one"))),
        ("layers 1.0", gemm_with(|m, _| set_meta(m, "layers", "1.0"))),
        (
            "layers 2, one layer given",
            gemm_with(|m, _| set_meta(m, "layers", "2")),
        ),
        (
            "no input_zero_point",
            gemm_with(|m, _| m.retain(|(k, _)| k != "input_zero_point")),
        ),
        (
            "input_zero_point 128",
            gemm_with(|m, _| set_meta(m, "input_zero_point", "128")),
        ),
        (
            "rows_per_chunk 0",
            gemm_with(|m, _| set_meta(m, "rows_per_chunk", "0")),
        ),
        (
            "rows_per_chunk 2^20 + 1",
            gemm_with(|m, _| set_meta(m, "rows_per_chunk", "1048577")),
        ),
        (
            "rows_per_chunk 2^20",
            gemm_with(|m, _| set_meta(m, "rows_per_chunk", "1048576")),
        ),
        (
            "output_zero_point -129",
            gemm_with(|m, _| set_meta(m, "layers.0.output_zero_point", "-129")),
        ),
        (
            "relu yes",
            gemm_with(|m, _| set_meta(m, "layers.0.relu", "yes")),
        ),
        (
            "no relu",
            gemm_with(|m, _| m.retain(|(k, _)| k != "layers.0.relu")),
        ),
        ("no input", gemm_with(|_, t| t.retain(|x| x.0 != "input"))),
        (
            "input U8",
            gemm_with(|_, t| tensor_mut(t, "input").1 = "U8"),
        ),
        (
            "input of one dimension",
            gemm_with(|_, t| tensor_mut(t, "input").2 = vec![37 * 24]),
        ),
        (
            "input of 0 rows",
            gemm_with(|_, t| {
                let x = tensor_mut(t, "input");
                x.2 = vec![0, 24];
                x.3.clear();
            }),
        ),
        (
            "weight of another width",
            gemm_with(|_, t| tensor_mut(t, "layers.0.weight").2 = vec![20, 12]),
        ),
        (
            "weight I16",
            gemm_with(|_, t| {
                let w = tensor_mut(t, "layers.0.weight");
                w.1 = "I16";
                w.2 = vec![10, 12];
            }),
        ),
        (
            "bias broadcast",
            gemm_with(|_, t| {
                *tensor_mut(t, "layers.0.bias") = ("layers.0.bias".into(), "I32", vec![1], le(&[0]))
            }),
        ),
        (
            "bias above 2^30",
            gemm_with(|_, t| {
                tensor_mut(t, "layers.0.bias").3[12..16]
                    .copy_from_slice(&((1 << 30) + 1i32).to_le_bytes())
            }),
        ),
        (
            "bias I64",
            gemm_with(|_, t| {
                let b = tensor_mut(t, "layers.0.bias");
                b.1 = "I64";
                b.2 = vec![5];
            }),
        ),
        (
            "multiplier below 2^30",
            gemm_with(|_, t| {
                tensor_mut(t, "layers.0.multiplier").3[36..40]
                    .copy_from_slice(&((1 << 30) - 1i32).to_le_bytes())
            }),
        ),
        (
            "multiplier negative",
            gemm_with(|_, t| {
                tensor_mut(t, "layers.0.multiplier").3[0..4]
                    .copy_from_slice(&(-(1i32 << 30)).to_le_bytes())
            }),
        ),
        (
            "multiplier of 2",
            gemm_with(|_, t| {
                *tensor_mut(t, "layers.0.multiplier") = (
                    "layers.0.multiplier".into(),
                    "I32",
                    vec![2],
                    le(&[1 << 30, 1 << 30]),
                )
            }),
        ),
        (
            "shift 8",
            gemm_with(|_, t| {
                *tensor_mut(t, "layers.0.shift") =
                    ("layers.0.shift".into(), "I32", vec![1], le(&[8]))
            }),
        ),
        (
            "shift -32",
            gemm_with(|_, t| {
                tensor_mut(t, "layers.0.shift").3[4..8].copy_from_slice(&(-32i32).to_le_bytes())
            }),
        ),
        (
            "shift F32",
            gemm_with(|_, t| tensor_mut(t, "layers.0.shift").1 = "F32"),
        ),
        (
            "unexpected tensor",
            gemm_with(|_, t| t.push(("layers.0.scale".into(), "I32", vec![1], le(&[1])))),
        ),
        (
            "no shift",
            gemm_with(|_, t| t.retain(|x| x.0 != "layers.0.shift")),
        ),
        (
            "shift renamed",
            gemm_with(|_, t| tensor_mut(t, "layers.0.shift").0 = "layers.0.shifts".into()),
        ),
        ("16385 input features", file(&wide)),
        ("mlp second layer of another width", {
            let (meta, mut tensors) = model_parts(&mlp);
            tensor_mut(&mut tensors, "layers.1.weight").2 = vec![18, 6];
            safetensors_file(&meta, &tensors)
        }),
    ];
    Value::Array(
        cases
            .into_iter()
            .map(|(name, bytes)| {
                let verdict = |kernel: KernelId| match Workload::parse(kernel, &bytes) {
                    Ok(_) => json!({"ok": true}),
                    Err(e) => json!({"ok": false, "error": e.to_string()}),
                };
                let mut case = json!({
                    "name": name,
                    "file": hex(&bytes),
                    "gemm": verdict(KernelId::GemmI8),
                    "mlp": verdict(KernelId::MlpI8),
                });
                if let Ok(w) = Workload::parse(KernelId::MlpI8, &bytes) {
                    let Workload::MlpI8(q) = &w else {
                        unreachable!()
                    };
                    let kernel = if q.model.layers.len() == 1 {
                        KernelId::GemmI8
                    } else {
                        KernelId::MlpI8
                    };
                    let chunks = q.run_cpu();
                    let assembled = output::assemble(kernel, &bytes, &chunks).unwrap();
                    // The file is the safetensors crate's reading of the output.
                    let st = safetensors::SafeTensors::deserialize(assembled.bytes()).unwrap();
                    let t = st.tensor("output").unwrap();
                    assert_eq!(t.shape(), [q.model.rows, q.model.output_features()]);
                    assert_eq!(t.data(), chunks.concat());
                    let (_, meta) =
                        safetensors::SafeTensors::read_metadata(assembled.bytes()).unwrap();
                    assert_eq!(meta.metadata().as_ref().unwrap()["kernel"], kernel.name());
                    case["chunkCount"] = json!(w.chunk_count());
                    case["workUnits"] = json!(w.work_units());
                    case["header"] = json!(hex(&q.model.header().to_bytes()));
                    case["modelRoot"] = json!(hex(&w.kernel_params()));
                    case["kernel"] = json!(kernel.name());
                    case["output"] = json!({
                        "chunks": chunks.iter().map(|c| hex(c)).collect::<Vec<_>>(),
                        "root": hex(&tessera_merkle::root_of_chunks(&chunks)),
                        "safetensors": hex(assembled.bytes()),
                    });
                }
                case
            })
            .collect(),
    )
}

fn key(seed: u8) -> Pubkey {
    Pubkey::new_from_array([seed; 32])
}

/// Events as the program emits them (`Event::data`: the discriminator, then the borsh fields),
/// with their fields as a decoder should read them: 64-bit integers as decimal strings, keys in
/// base58, byte arrays in hex, enums by variant name.
fn event_cases() -> Value {
    let created = JobCreated {
        job: key(1),
        market: key(2),
        creator: key(3),
        job_id: 0x0102_0304_0506_0708,
        kernel: 1,
        replicas: 2,
        reward_per_replica: 1_000_000,
        escrowed: 2_000_000,
        claim_deadline: -5,
    };
    let claimed = JobClaimed {
        market: key(2),
        job: key(1),
        operator: key(4),
        slot: 1,
        bond: 500,
        state: JobState::Claimed,
    };
    let settled = JobSettled {
        market: key(2),
        job: key(1),
        root: [7; 32],
        paid: 1_950_000,
        fee: 25_000,
        burned: 25_000,
        refunded: 0,
        slashes: vec![Slash {
            operator: key(5),
            slot: 4,
            reason: SlashReason::Fraud,
            bond: 1_000,
            slashed: 500,
            to_creator: 100,
            to_honest: 300,
            burned: 100,
        }],
        audit_fee: 7,
    };
    let withdrawn = StakeWithdrawn {
        market: key(2),
        operator: key(4),
        amount: u64::MAX,
        earnings: 3,
        closed: true,
    };
    json!([
        {"name": "JobCreated", "bytes": hex(&created.data()), "data": {
            "job": key(1).to_string(), "market": key(2).to_string(), "creator": key(3).to_string(),
            "job_id": "72623859790382856", "kernel": 1, "replicas": 2,
            "reward_per_replica": "1000000", "escrowed": "2000000", "claim_deadline": "-5"}},
        {"name": "JobClaimed", "bytes": hex(&claimed.data()), "data": {
            "market": key(2).to_string(), "job": key(1).to_string(), "operator": key(4).to_string(),
            "slot": 1, "bond": "500", "state": "Claimed"}},
        {"name": "JobSettled", "bytes": hex(&settled.data()), "data": {
            "market": key(2).to_string(), "job": key(1).to_string(), "root": hex(&[7; 32]),
            "paid": "1950000", "fee": "25000", "burned": "25000", "refunded": "0",
            "slashes": [{"operator": key(5).to_string(), "slot": 4, "reason": "Fraud", "bond": "1000",
                "slashed": "500", "to_creator": "100", "to_honest": "300", "burned": "100"}],
            "audit_fee": "7"}},
        {"name": "StakeWithdrawn", "bytes": hex(&withdrawn.data()), "data": {
            "market": key(2).to_string(), "operator": key(4).to_string(),
            "amount": u64::MAX.to_string(), "earnings": "3", "closed": true}},
    ])
}

#[test]
fn web_fixtures_are_up_to_date() {
    let fixtures = json!({
        "comment": "Generated by client/tests/web_fixtures.rs (TESSERA_BLESS=1 cargo test -p tessera-client --test web_fixtures); do not edit.",
        "merkle": merkle_cases(),
        "render": render_case(),
        "scenes": scene_cases(),
        "models": model_cases(),
        "events": event_cases(),
    });
    let fresh = serde_json::to_string_pretty(&fixtures).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/web.json");
    if std::env::var_os("TESSERA_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale (or missing): run `TESSERA_BLESS=1 cargo test -p tessera-client --test \
         web_fixtures` and commit the result (then `cd client/ts && npm test`)",
        path.display()
    );
}
