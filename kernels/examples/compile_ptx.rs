//! Compiles every CUDA source with NVRTC — the same function and options the worker uses — and
//! writes the PTX, one file per source and architecture.
//!
//! `cargo run -p tessera-kernels --example compile-ptx -- OUT_DIR [compute_80 compute_90 …]`
//! (NVRTC must be on the library path, e.g. `LD_LIBRARY_PATH=…/nvidia/cuda_nvrtc/lib`.)

use tessera_kernels::cuda::{compile_ptx, CudaSource, NvrtcProfile, NVRTC_OPTIONS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out_dir = args.next().unwrap_or_else(|| "ptx".to_string());
    let mut archs: Vec<String> = args.collect();
    if archs.is_empty() {
        archs = vec!["compute_80".into(), "compute_90".into()];
    }
    std::fs::create_dir_all(&out_dir)?;
    println!("NVRTC options: {}", NVRTC_OPTIONS.join(" "));
    for source in CudaSource::ALL {
        for arch in &archs {
            let ptx = compile_ptx(source, NvrtcProfile::Deterministic, Some(arch))?;
            let stem = source.file_name().trim_end_matches(".cu");
            let path = format!("{out_dir}/{stem}.{arch}.ptx");
            std::fs::write(&path, ptx)?;
            println!("{path}");
        }
    }
    Ok(())
}
