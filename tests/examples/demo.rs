//! A whole Tessera job, end to end, on the real program (the SBPF `.so` in LiteSVM):
//! a market and two staked operators; a creator stores a scene (content-addressed) and posts a
//! 2-replica render job; each operator fetches the input, checks its sha256 and validates it
//! before claiming, renders it (GPU when present, else the CPU reference), stores its tiles,
//! commits, then reveals; after the challenge window anyone finalizes; the creator downloads
//! the tiles, checks each against the revealed Merkle root and writes the PNG.
//!
//! `scripts/demo.sh` (or: `scripts/build-program.sh && cargo run --release -p tessera-tests --example demo`)
use std::path::{Path, PathBuf};
use std::time::Instant;
use tessera_kernels::{render::tiles_to_png, Backend, Job, KernelId};
use tessera_tests::*;

const REWARD: u64 = 5_000_000; // 5 tokens (6 decimals)
const STAKE: u64 = 50_000_000;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn tokens(amount: u64) -> String {
    format!("{}.{:06}", amount / 1_000_000, amount % 1_000_000)
}

/// A content-addressed blob store on disk: `<dir>/<sha256>`.
struct Blobs(PathBuf);

impl Blobs {
    fn put(&self, bytes: &[u8]) -> String {
        let name = hex(&tessera_merkle::sha256(&[bytes]));
        std::fs::write(self.0.join(&name), bytes).unwrap();
        format!("file://{}", self.0.join(name).display())
    }

    fn get(&self, uri: &str) -> Vec<u8> {
        std::fs::read(uri.strip_prefix("file://").expect("file:// uri")).unwrap()
    }
}

fn main() {
    let root_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = root_dir.join("target/demo");
    let blobs = Blobs(out_dir.join("blobs"));
    std::fs::create_dir_all(&blobs.0).unwrap();
    let scene_path = root_dir.join("worker/kernels/scenes/cornell.json");
    let backend = Backend::cuda_if_available();
    println!("compute backend: {}", backend.describe());

    let mut env = Env::new();
    let mut cu: Vec<(String, u64)> = vec![];
    let mut secs: Vec<(&str, f64)> = vec![];
    let ops = [env.operator(STAKE), env.operator(STAKE)];
    let creator = env.user(10 * REWARD);
    println!("market {} over mint {}", env.keys.market, env.keys.mint);

    // Creator: store the input, post the job.
    let t = Instant::now();
    let scene = std::fs::read(&scene_path).unwrap();
    let parsed = Job::parse(KernelId::Render, &scene).expect("the shipped scene is valid");
    let mut args = env.job_args(1, 2, REWARD);
    args.kernel = KernelId::Render as u8;
    args.input_uri = blobs.put(&scene);
    args.input_hash = tessera_merkle::sha256(&[&scene]);
    args.chunk_count = parsed.chunk_count();
    let meta = env.create_job_with(&creator, args).unwrap();
    cu.push(("create_job".into(), meta.compute_units_consumed));
    let job_key = env.keys.job(&creator.pubkey(), 1);
    secs.push(("submit", t.elapsed().as_secs_f64()));
    println!(
        "job {job_key}: {} tiles, 2 replicas, {} tokens each",
        parsed.chunk_count(),
        tokens(REWARD)
    );

    // Operators: check the input before claiming, then compute.
    let t = Instant::now();
    let mut results = vec![];
    for (i, op) in ops.iter().enumerate() {
        let job = env.job(&job_key);
        let input = blobs.get(&job.input_uri);
        assert_eq!(
            tessera_merkle::sha256(&[&input]),
            job.input_hash,
            "input hash"
        );
        let work = Job::parse(KernelId::try_from(job.kernel).unwrap(), &input).unwrap();
        let m = env.claim(op, job_key).unwrap();
        cu.push((
            format!("claim_job (operator {i})"),
            m.compute_units_consumed,
        ));
        let c = Instant::now();
        let output = work.run(&backend).unwrap();
        println!(
            "operator {i}: rendered in {:.2}s, root {}",
            c.elapsed().as_secs_f64(),
            hex(&output.root())
        );
        let uris: Vec<String> = output.chunks.iter().map(|ch| blobs.put(ch)).collect();
        let manifest = blobs.put(uris.join("\n").as_bytes());
        let salt = tessera_merkle::sha256(&[b"salt", &[i as u8]]);
        let m = env.commit(op, job_key, output.root(), salt).unwrap();
        cu.push((
            format!("commit_result (operator {i})"),
            m.compute_units_consumed,
        ));
        results.push((output.root(), salt, manifest));
    }
    secs.push(("claim + compute + commit", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    for (i, (op, (root, salt, manifest))) in ops.iter().zip(&results).enumerate() {
        let ix = env
            .keys
            .reveal_result(op.pubkey(), job_key, *root, *salt, manifest.clone());
        let m = env.send(&[ix], &[&op.key]).unwrap();
        cu.push((
            format!("reveal_result (operator {i})"),
            m.compute_units_consumed,
        ));
    }
    let job = env.job(&job_key);
    println!(
        "revealed: state {:?}, agreed root {}",
        job.state,
        hex(&job.agreed_root)
    );
    secs.push(("reveal", t.elapsed().as_secs_f64()));

    // Anyone finalizes after the challenge window.
    let t = Instant::now();
    env.warp(env.params.challenge_window + 1);
    let supply = env.supply();
    let m = env.finalize(job_key, &creator).unwrap();
    cu.push(("finalize_job".into(), m.compute_units_consumed));
    // Each operator takes its earnings out of the stake vault.
    for (i, op) in ops.iter().enumerate() {
        let ix = env.keys.withdraw_stake(op.pubkey(), op.token);
        let m = env.send(&[ix], &[&op.key]).unwrap();
        cu.push((
            format!("withdraw_stake (operator {i})"),
            m.compute_units_consumed,
        ));
    }
    secs.push(("settle", t.elapsed().as_secs_f64()));

    // Creator: download, verify every tile against the root, assemble.
    let t = Instant::now();
    let job = env.job(&job_key);
    let manifest = String::from_utf8(blobs.get(&job.assignments[0].output_uri)).unwrap();
    let chunks: Vec<Vec<u8>> = manifest.lines().map(|u| blobs.get(u)).collect();
    let leaves: Vec<[u8; 32]> = chunks
        .iter()
        .map(|c| tessera_merkle::leaf_hash(c))
        .collect();
    for (i, leaf) in leaves.iter().enumerate() {
        let proof = tessera_merkle::proof(&leaves, i);
        assert!(tessera_merkle::verify_proof(
            &job.agreed_root,
            leaf,
            i as u32,
            job.chunk_count,
            &proof
        ));
    }
    let Job::Render(r) = &parsed else {
        unreachable!()
    };
    let png = tiles_to_png(&chunks, r.scene.width, r.scene.height, r.scene.tile_size).unwrap();
    let png_path = out_dir.join("cornell.png");
    std::fs::write(&png_path, png).unwrap();
    secs.push(("download + verify", t.elapsed().as_secs_f64()));

    println!("\nsettlement");
    for (i, op) in ops.iter().enumerate() {
        println!("  operator {i} paid   {}", tokens(env.balance(&op.token)));
    }
    println!(
        "  protocol fee     {}",
        tokens(env.balance(&env.keys.treasury))
    );
    println!("  burned           {}", tokens(supply - env.supply()));
    println!(
        "  creator refunded {}",
        tokens(env.balance(&creator.token) - 8 * REWARD)
    );
    // Nothing created or lost: what left the supply is exactly the burn of the two rewards.
    assert_eq!(
        env.minted - env.supply(),
        2 * REWARD * env.params.burn_bps as u64 / 10_000
    );
    println!("\ncompute units");
    for (name, units) in &cu {
        println!("  {name:<28} {units:>7}");
    }
    println!("\nseconds per phase");
    for (name, s) in &secs {
        println!("  {name:<28} {s:>7.3}");
    }
    println!("\nimage: {}", png_path.display());
}
