//! Runs a job from a kernel name and an input file; prints chunk count, work units, root.
//!
//! `cargo run --release -p tessera-kernels --example run-job -- mlp-i8 model.safetensors [cpu|gpu]`

use tessera_kernels::{Backend, KernelId, Workload};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kernel), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: run-job KERNEL INPUT [cpu|gpu]   (KERNEL: render, gemm-i8, mlp-i8, benchmark; INPUT '-' for none)");
        std::process::exit(2);
    };
    let kernel = KernelId::from_name(kernel).ok_or("unknown kernel")?;
    let input = if path == "-" {
        Vec::new()
    } else {
        std::fs::read(path)?
    };
    let backend = match args.get(2).map(String::as_str) {
        Some("cpu") => Backend::Cpu,
        Some("gpu") => Backend::cuda(0)?,
        _ => Backend::cuda_if_available(),
    };
    let job = Workload::parse(kernel, &input)?;
    let t = std::time::Instant::now();
    let out = job.run(&backend)?;
    let root: String = out.root().iter().map(|b| format!("{b:02x}")).collect();
    println!(
        "{kernel} on {}: {} chunks, {} bytes, {} work units, {:.3}s, root {root}",
        backend.describe(),
        out.chunks.len(),
        out.total_bytes(),
        job.work_units(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
