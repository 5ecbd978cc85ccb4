//! The start-up self-test: before an operator stakes on a backend, the backend computes
//! workloads whose Merkle roots are known in advance and must reproduce them byte for byte.
//!
//! It covers the benchmark workload ([`BenchmarkWorkload`]: every material, spheres, a plane,
//! a BVH mesh, an MLP with ReLU and non-ReLU layers; root [`GOLDEN_ROOT`]) and a small MLP whose
//! requantization scales are above 1, so the left-shift path is exercised too
//! ([`left_shift_mlp`], root [`LEFT_SHIFT_ROOT`]). Each workload is run whole, and a few chunks
//! are also computed alone (a verifier's path: a tile at an offset, a row block at an offset).
//! On a GPU this takes milliseconds; on the CPU about a second in a release build.

use std::time::Instant;

use crate::backend::Backend;
use crate::benchmark::{hex32, BenchmarkWorkload, GOLDEN_ROOT};
use crate::error::KernelError;
use crate::quant::{QuantLayer, QuantModel, QuantWorkload};
use crate::render::trace::pcg_hash;
use crate::workload::Workload;

/// The Merkle root of [`left_shift_mlp`] run as an `mlp-i8` job, on any backend.
pub const LEFT_SHIFT_ROOT: [u8; 32] =
    hex32("df7cd5aef6062eab58432e20efe340ac3deb008cc63a471884ac66f148e1e122");

/// What a passed self-test found.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfTestReport {
    /// The backend tested ([`Backend::describe`]).
    pub backend: String,
    /// The workloads checked, in order.
    pub workloads: Vec<&'static str>,
    /// Wall time of the whole test, in seconds.
    pub seconds: f64,
}

/// Runs the self-test on `backend`. A root or chunk that differs from the known one gives
/// [`KernelError::SelfTestMismatch`] (naming the device, the expected and the computed root); a
/// failure to compute gives the backend's own error (see [`KernelError::is_device_lost`]).
pub fn self_test(backend: &Backend) -> Result<SelfTestReport, KernelError> {
    let started = Instant::now();
    let bench = BenchmarkWorkload::get();
    let render_chunks = bench.render.chunk_count();
    let cases = [
        (
            "benchmark",
            Workload::Benchmark(bench.clone()),
            GOLDEN_ROOT,
            // The last tile (at an offset in both axes) and the last MLP row block.
            vec![render_chunks - 1, bench.chunk_count() - 1],
        ),
        (
            "mlp-i8 with left-shift requantization",
            Workload::MlpI8(QuantWorkload {
                model: left_shift_mlp(),
            }),
            LEFT_SHIFT_ROOT,
            vec![1],
        ),
    ];
    let mut workloads = Vec::new();
    for (name, workload, expected, chunks) in cases {
        check(backend, name, &workload, &expected, &chunks)?;
        workloads.push(name);
    }
    let report = SelfTestReport {
        backend: backend.describe(),
        workloads,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        backend = %report.backend,
        seconds = report.seconds,
        "self-test passed: the backend reproduces the known roots"
    );
    Ok(report)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check(
    backend: &Backend,
    name: &'static str,
    workload: &Workload,
    expected: &[u8; 32],
    chunks: &[u32],
) -> Result<(), KernelError> {
    let out = workload.run(backend)?;
    let got = out.root();
    if &got != expected {
        return Err(KernelError::SelfTestMismatch {
            device: backend.describe(),
            workload: name,
            expected: hex(expected),
            got: hex(&got),
        });
    }
    for &i in chunks {
        let alone = workload.chunk(backend, i)?;
        if alone != out.chunks[i as usize] {
            return Err(KernelError::SelfTestMismatch {
                device: backend.describe(),
                workload: name,
                expected: hex(&tessera_merkle::leaf_hash(&out.chunks[i as usize])),
                got: hex(&tessera_merkle::leaf_hash(&alone)),
            });
        }
    }
    Ok(())
}

/// A small two-layer MLP (48 rows, 24 → 40 → 12, 16 rows per chunk) with small weights and
/// requantization scales between 1.5 and 6, so every shift is positive (a left shift before
/// the rounding multiply), with ReLU on the first layer and a plain clamp on the second.
pub fn left_shift_mlp() -> QuantModel {
    let mut counter = 0u32;
    let mut next = move || {
        counter = counter.wrapping_add(1);
        pcg_hash(pcg_hash(0x51f7_0a11) ^ counter)
    };
    let rows = 48;
    let widths = [24usize, 40, 12];
    // Inputs in -16..=15, weights in -4..=3: accumulators of a few hundred at most.
    let input: Vec<i8> = (0..rows * widths[0])
        .map(|_| (next() % 32) as i8 - 16)
        .collect();
    let mut layers = Vec::new();
    for (i, pair) in widths.windows(2).enumerate() {
        let (k, n) = (pair[0], pair[1]);
        let weight: Vec<i8> = (0..n * k).map(|_| (next() % 8) as i8 - 4).collect();
        let bias: Vec<i32> = (0..n).map(|_| (next() % 61) as i32 - 30).collect();
        let (multiplier, shift): (Vec<i32>, Vec<i32>) = (0..n)
            .map(|j| {
                crate::quant::requant::quantize_multiplier(1.5 + (j % 10) as f64 * 0.5)
                    .expect("the scale is in range")
            })
            .unzip();
        let last = i + 2 == widths.len();
        layers.push(QuantLayer {
            k,
            n,
            weight,
            bias,
            multiplier,
            shift,
            output_zero_point: if last { 3 } else { -20 },
            relu: !last,
            packed: Default::default(),
        });
    }
    QuantModel {
        input,
        rows,
        input_zero_point: 2,
        layers,
        rows_per_chunk: 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::KernelId;

    #[test]
    fn left_shift_mlp_is_a_valid_job_with_positive_shifts() {
        let model = left_shift_mlp();
        for l in &model.layers {
            assert!(l.shift.iter().all(|&s| s > 0), "{:?}", l.shift);
        }
        let parsed = Workload::parse(KernelId::MlpI8, &model.to_safetensors()).unwrap();
        let Workload::MlpI8(q) = parsed else {
            panic!("parsed as another kernel")
        };
        assert_eq!(q.model, model);
        // Not all saturated: the outputs cover a range of values.
        let out = Workload::MlpI8(q).run(&Backend::Cpu).unwrap();
        let mut values: Vec<u8> = out.chunks.concat();
        values.sort_unstable();
        values.dedup();
        assert!(values.len() > 20, "{} distinct outputs", values.len());
    }

    #[test]
    fn self_test_passes_on_the_cpu_reference() {
        let report = self_test(&Backend::Cpu).unwrap();
        assert!(report.backend.starts_with("CPU"), "{}", report.backend);
        assert_eq!(report.workloads.len(), 2);
        assert!(report.seconds > 0.0);
    }

    #[test]
    fn a_wrong_root_is_reported_with_both_roots_and_the_device() {
        let workload = Workload::MlpI8(QuantWorkload {
            model: left_shift_mlp(),
        });
        let wrong = [7u8; 32];
        let e = check(&Backend::Cpu, "probe", &workload, &wrong, &[]).unwrap_err();
        let KernelError::SelfTestMismatch {
            device,
            workload: name,
            expected,
            got,
        } = &e
        else {
            panic!("{e}")
        };
        assert!(device.starts_with("CPU"));
        assert_eq!(*name, "probe");
        assert_eq!(expected, &"07".repeat(32));
        assert_eq!(got, &hex(&LEFT_SHIFT_ROOT));
        let text = e.to_string();
        assert!(text.contains(expected) && text.contains(got) && text.contains("CPU"));
        assert!(!e.is_device_lost());
    }
}
