//! Compiles every CUDA source with NVRTC — the function, options and PTX vetting the worker
//! uses — for each given architecture, as the worker does for a device NVRTC knows (CUBIN for
//! `sm_XY`, whose PTX is vetted), and once for the PTX fallback (`compute_80`). Writes
//! `<source>.sm_XY.ptx`, `<source>.sm_XY.cubin` and `<source>.compute_80.ptx`; prints every
//! instruction that breaks a determinism rule and exits with status 1 if there is one.
//!
//! `cargo run -p tessera-kernels --features cuda --example compile-ptx -- OUT_DIR [80 90 …]`
//! (NVRTC must be on the library path, e.g. `LD_LIBRARY_PATH=…/nvidia/cuda_nvrtc/lib`.)

use tessera_kernels::cuda::{
    compile, vet_ptx, CompileTarget, CudaSource, NvrtcProfile, NVRTC_OPTIONS, PTX_FALLBACK_ARCH,
};
use tessera_kernels::GpuError;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out_dir = args.next().unwrap_or_else(|| "ptx".to_string());
    let mut archs: Vec<u32> = args
        .map(|a| {
            let digits = a.trim_start_matches("compute_").trim_start_matches("sm_");
            digits
                .parse()
                .map_err(|_| format!("`{a}` is not an architecture such as 90 or sm_90"))
        })
        .collect::<Result<_, _>>()?;
    if archs.is_empty() {
        archs = vec![80, 90];
    }
    std::fs::create_dir_all(&out_dir)?;
    println!("NVRTC options: {}", NVRTC_OPTIONS.join(" "));
    let mut targets: Vec<CompileTarget> = archs
        .iter()
        .map(|&sm| CompileTarget::Cubin { sm })
        .collect();
    targets.push(CompileTarget::Ptx {
        compute: PTX_FALLBACK_ARCH,
    });
    let mut rejected = 0;
    for source in CudaSource::ALL {
        let stem = source.file_name().trim_end_matches(".cu");
        for &target in &targets {
            let arch = match target {
                CompileTarget::Cubin { sm } => format!("sm_{sm}"),
                CompileTarget::Ptx { compute } => format!("compute_{compute}"),
            };
            let code = match compile(source, NvrtcProfile::Deterministic, target) {
                Ok(code) => code,
                Err(GpuError::PtxRejected { violations, .. }) => {
                    eprintln!("{stem} {arch}: REJECTED");
                    for v in &violations {
                        eprintln!("    {v}");
                    }
                    rejected += violations.len();
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            // The runtime vetted it already; the count is printed for the log.
            let path = format!("{out_dir}/{stem}.{arch}.ptx");
            std::fs::write(&path, &code.ptx)?;
            println!("{path}: {} rule violation(s)", vet_ptx(&code.ptx).len());
            if let Some(cubin) = &code.cubin {
                let path = format!("{out_dir}/{stem}.{arch}.cubin");
                std::fs::write(&path, cubin)?;
                println!("{path}: {} bytes", cubin.len());
            }
        }
    }
    if rejected > 0 {
        return Err(format!("{rejected} instruction(s) break the determinism rules").into());
    }
    Ok(())
}
