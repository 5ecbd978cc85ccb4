//! The benchmark kernel: a fixed workload (the scene `scenes/benchmark.json` and an MLP built
//! from a fixed seed) whose Merkle root is known in advance. Operators run it to be scored: a
//! run is valid only if its root equals [`GOLDEN_ROOT`], and the score is its work units per
//! second. Chunks: the render's tiles, then the MLP's row blocks.

use std::sync::OnceLock;

use crate::quant::requant::quantize_multiplier;
use crate::quant::{QuantLayer, QuantModel, QuantWorkload};
use crate::render::trace::pcg_hash;
use crate::render::RenderWorkload;

/// The scene of the benchmark.
pub const SCENE_JSON: &str = include_str!("../scenes/benchmark.json");

/// The Merkle root of the benchmark's output on any backend.
pub const GOLDEN_ROOT: [u8; 32] =
    hex32("1386a8a4fe3ee5962b830d8bd62c30d21e9ec260fe03e1a74aa73589240e7284");

pub(crate) const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    assert!(b.len() == 64);
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// Input rows of the benchmark MLP.
pub const MLP_ROWS: usize = 256;
/// Layer widths of the benchmark MLP: input, hidden…, output.
pub const MLP_WIDTHS: [usize; 4] = [256, 256, 256, 128];

/// The benchmark workload.
#[derive(Clone, Debug)]
pub struct BenchmarkWorkload {
    pub render: RenderWorkload,
    pub mlp: QuantWorkload,
}

impl BenchmarkWorkload {
    /// The workload (built once per process).
    pub fn get() -> &'static BenchmarkWorkload {
        static JOB: OnceLock<BenchmarkWorkload> = OnceLock::new();
        JOB.get_or_init(|| BenchmarkWorkload {
            render: RenderWorkload::from_json(SCENE_JSON.as_bytes())
                .expect("the benchmark scene is valid"),
            mlp: QuantWorkload {
                model: synthetic_mlp(0x7e55_e4a0, MLP_ROWS, &MLP_WIDTHS, 32),
            },
        })
    }

    pub fn chunk_count(&self) -> u32 {
        self.render.chunk_count() + self.mlp.chunk_count()
    }

    pub fn work_units(&self) -> u64 {
        self.render.work_units() + self.mlp.work_units()
    }
}

/// A deterministic quantized MLP with pseudo-random weights and inputs (PCG hash of `seed`),
/// ReLU between layers and requantization scales that keep activations in range. Used by the
/// benchmark, tests and benches.
pub fn synthetic_mlp(seed: u32, rows: usize, widths: &[usize], rows_per_chunk: u32) -> QuantModel {
    assert!(
        widths.len() >= 2,
        "an MLP needs an input and an output width"
    );
    let mut counter = 0u32;
    let mut next = move || {
        counter = counter.wrapping_add(1);
        pcg_hash(pcg_hash(seed) ^ counter)
    };
    let input: Vec<i8> = (0..rows * widths[0])
        .map(|_| (next() >> 24) as u8 as i8)
        .collect();
    let input_zero_point = -3;
    let mut layers = Vec::new();
    for (i, pair) in widths.windows(2).enumerate() {
        let (k, n) = (pair[0], pair[1]);
        let weight: Vec<i8> = (0..n * k).map(|_| (next() >> 24) as u8 as i8).collect();
        let bias: Vec<i32> = (0..n).map(|_| (next() % 20_001) as i32 - 10_000).collect();
        // |acc| is about 74 · 74 · √k; map a few standard deviations onto the int8 range.
        let base = 40.0 / (74.0 * 74.0 * (k as f64).sqrt());
        let (multiplier, shift): (Vec<i32>, Vec<i32>) = (0..n)
            .map(|j| {
                quantize_multiplier(base * (1.0 + (j % 7) as f64 / 8.0))
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
            output_zero_point: if last { 0 } else { -100 },
            relu: !last,
            packed: Default::default(),
        });
    }
    QuantModel {
        input,
        rows,
        input_zero_point,
        layers,
        rows_per_chunk,
    }
}
