//! Helpers shared by the integration tests.
#![allow(dead_code)]

use tessera_kernels::benchmark::synthetic_mlp;
use tessera_kernels::quant::QuantModel;

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The shipped Cornell box, made small enough for a debug build.
pub fn small_cornell() -> Vec<u8> {
    let mut s: serde_json::Value =
        serde_json::from_str(include_str!("../../scenes/cornell.json")).unwrap();
    s["width"] = 40.into();
    s["height"] = 28.into();
    s["samples_per_pixel"] = 4.into();
    s["tile_size"] = 16.into();
    serde_json::to_vec(&s).unwrap()
}

/// An MLP with awkward sizes (not multiples of 4 or of the GPU tiles), ReLU, a partial last
/// chunk, and per-channel scales.
pub fn odd_mlp() -> QuantModel {
    synthetic_mlp(99, 70, &[37, 70, 5], 16)
}

pub fn odd_gemm() -> QuantModel {
    synthetic_mlp(5, 130, &[67, 129], 32)
}

/// A small deterministic generator (SplitMix64) for fuzzed models.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[self.below(options.len() as u64) as usize]
    }

    pub fn i8(&mut self) -> i8 {
        self.next() as i8
    }
}

/// A random model within the format's limits, leaning on the edges of the arithmetic: weights
/// and inputs at -128 and 127, biases near ±2^30, multipliers of 0, 2^30 (ties) and
/// 2^31 - 1, shifts of -31 and 7, extreme zero points, ReLU on and off, odd widths.
pub fn fuzzed_model(rng: &mut Rng, layers: usize) -> QuantModel {
    use tessera_kernels::quant::requant::{MAX_SHIFT, MIN_MULTIPLIER, MIN_SHIFT};
    use tessera_kernels::quant::{PackedPanels, QuantLayer};
    let rows = 1 + rng.below(9) as usize;
    let mut widths = vec![1 + rng.below(70) as usize];
    for _ in 0..layers {
        widths.push(1 + rng.below(40) as usize);
    }
    let edgy = |rng: &mut Rng| match rng.below(4) {
        0 => -128,
        1 => 127,
        _ => rng.i8(),
    };
    let zero_point = |rng: &mut Rng| {
        let any = rng.i8() as i32;
        rng.pick(&[-128, 127, 0, any])
    };
    let input_zero_point = zero_point(rng);
    let input = (0..rows * widths[0]).map(|_| edgy(rng)).collect();
    let layers = widths
        .windows(2)
        .map(|w| {
            let (k, n) = (w[0], w[1]);
            QuantLayer {
                k,
                n,
                weight: (0..n * k).map(|_| edgy(rng)).collect(),
                bias: (0..n)
                    .map(|_| match rng.below(4) {
                        0 => (1 << 30) - rng.below(1000) as i32,
                        1 => -(1 << 30) + rng.below(1000) as i32,
                        _ => rng.next() as i32 >> rng.below(32),
                    })
                    .collect(),
                multiplier: (0..n)
                    .map(|_| match rng.below(4) {
                        0 => 0,
                        1 => MIN_MULTIPLIER,
                        2 => i32::MAX,
                        _ => MIN_MULTIPLIER + rng.below(MIN_MULTIPLIER as u64) as i32,
                    })
                    .collect(),
                shift: (0..n)
                    .map(|_| match rng.below(4) {
                        0 => MIN_SHIFT,
                        1 => MAX_SHIFT,
                        _ => MIN_SHIFT + rng.below((MAX_SHIFT - MIN_SHIFT + 1) as u64) as i32,
                    })
                    .collect(),
                output_zero_point: zero_point(rng),
                relu: rng.below(2) == 1,
                packed: PackedPanels::default(),
            }
        })
        .collect();
    QuantModel {
        input,
        rows,
        input_zero_point,
        layers,
        rows_per_chunk: 1,
    }
}

/// The model's output computed one element at a time with `tessera_int8::element`, the
/// function the on-chain referee runs; also returns how many elements it computed.
pub fn by_elements(model: &QuantModel) -> (Vec<i8>, usize) {
    let mut act = model.input.clone();
    let mut count = 0;
    for (i, l) in model.layers.iter().enumerate() {
        let q = tessera_int8::Quantization {
            input_zero_point: model.layer_input_zero_point(i),
            output_zero_point: l.output_zero_point,
            relu: l.relu,
        };
        let mut out = Vec::with_capacity(model.rows * l.n);
        for x in act.chunks_exact(l.k) {
            for n in 0..l.n {
                let f = tessera_int8::Feature {
                    bias: l.bias[n],
                    multiplier: l.multiplier[n],
                    shift: l.shift[n],
                };
                out.push(tessera_int8::element(
                    x,
                    &l.weight[n * l.k..(n + 1) * l.k],
                    f,
                    q,
                ));
                count += 1;
            }
        }
        act = out;
    }
    (act, count)
}
