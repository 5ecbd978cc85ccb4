//! Renders a scene file to PNG and prints its Merkle root.
//!
//! `cargo run --release -p tessera-kernels --example render -- scenes/cornell.json out.png [cpu|gpu]`

use std::time::Instant;

use tessera_kernels::render::tiles_to_png;
use tessera_kernels::{Backend, KernelId, Workload};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(scene), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: render SCENE.json OUT.png [cpu|gpu]");
        std::process::exit(2);
    };
    let backend = match args.get(2).map(String::as_str) {
        Some("cpu") => Backend::Cpu,
        Some("gpu") => Backend::cuda(0)?,
        _ => Backend::cuda_if_available(),
    };
    let input = std::fs::read(scene)?;
    let job = Workload::parse(KernelId::Render, &input)?;
    let Workload::Render(r) = &job else {
        unreachable!()
    };
    let t = Instant::now();
    let output = job.run(&backend)?;
    let secs = t.elapsed().as_secs_f64();
    let s = &r.scene;
    std::fs::write(
        out,
        tiles_to_png(&output.chunks, s.width, s.height, s.tile_size)?,
    )?;
    println!(
        "{}: {}x{} {} spp, {} tiles on {} in {:.3}s; root {}",
        scene,
        s.width,
        s.height,
        s.samples_per_pixel,
        output.chunks.len(),
        backend.describe(),
        secs,
        hex(&output.root())
    );
    Ok(())
}
