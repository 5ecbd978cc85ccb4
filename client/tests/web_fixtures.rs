//! Fixtures for browser code, written to `client/fixtures/web.json`: Merkle leaves and roots
//! (`tessera-merkle`), a small render's real tiles with the image they assemble into, scene
//! files with the kernel's verdict on each (`Workload::parse`: accepted with its chunk count,
//! or refused), and events as the program encodes them. The TypeScript client's tests
//! (`client/ts/test/web.test.ts`) check its Merkle hashing, tile assembly, scene checks and
//! event decoding against them, so a page verifies outputs, refuses inputs and reads events
//! exactly as the worker and the CLI do.
//!
//! Fails if the committed file is stale; `TESSERA_BLESS=1 cargo test -p tessera-client --test
//! web_fixtures` rewrites it.
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Event;
use serde_json::{json, Value};
use tessera::events::{JobClaimed, JobCreated, JobSettled, Slash, SlashReason, StakeWithdrawn};
use tessera::state::JobState;
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
                "slashed": "500", "to_creator": "100", "to_honest": "300", "burned": "100"}]}},
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
