//! The arithmetic of Tessera's int8 kernels (`gemm-i8`, `mlp-i8`), defined once: the CPU
//! reference computes every output element with these functions, its SIMD paths and the CUDA
//! kernel are tested to give the same bytes, and the on-chain referee re-executes one element
//! with them. `no_std`, so the program can use it on SBPF.
//!
//! One output element of layer `i`, row `m`, feature `n` (see `docs/kernels.md`):
//!
//! ```text
//! acc = (bias[n] − zp_in · Σ_k w[n,k]) + Σ_k x[m,k] · w[n,k]          int32, exact within the limits
//! out = requantize(acc, multiplier[n], shift[n], zp_out, relu)         int8
//! ```
//!
//! [`model`] defines the commitment to a model (its input rows and weight rows as Merkle
//! trees, under one root) that a creator posts in a job's `kernel_params`.
#![no_std]

extern crate alloc;

pub mod model;

/// Smallest and largest allowed shift.
pub const MIN_SHIFT: i32 = -31;
pub const MAX_SHIFT: i32 = 7;
/// A non-zero multiplier lies in [2^30, 2^31): a Q0.31 number in [0.5, 1).
pub const MIN_MULTIPLIER: i32 = 1 << 30;

/// `a * b / 2^31` rounded to nearest with ties toward +∞ (the nudge of gemmlowp
/// `SaturatingRoundingDoublingHighMul`: +2^30 for a non-negative product, 1 - 2^30 for a
/// negative one, then a division that truncates toward zero), saturated: the only overflow,
/// `i32::MIN * i32::MIN`, gives `i32::MAX`.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division truncates toward zero, as in C.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero, for `exponent` in 0..=31.
/// (gemmlowp `RoundingDivideByPOT`.)
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    debug_assert!((0..=31).contains(&exponent));
    let mask: i64 = (1i64 << exponent) - 1;
    let remainder = (x as i64) & mask;
    let threshold = (mask >> 1) + if x < 0 { 1 } else { 0 };
    ((x >> exponent) as i64 + if remainder > threshold { 1 } else { 0 }) as i32
}

/// `x · multiplier / 2^31 · 2^shift`, rounded; a left shift saturates to the int32 range.
/// (TFLite `MultiplyByQuantizedMultiplier`.)
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    let shifted = ((x as i64) << left).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier),
        right,
    )
}

/// An accumulator to an int8 output: scale, add the zero point, clamp to
/// [`zero_point` if `relu` else -128, 127].
#[inline(always)]
pub fn requantize(acc: i32, multiplier: i32, shift: i32, zero_point: i32, relu: bool) -> i8 {
    let scaled = multiply_by_quantized_multiplier(acc, multiplier, shift);
    let v = scaled as i64 + zero_point as i64;
    let lo = if relu { zero_point as i64 } else { -128 };
    v.clamp(lo.max(-128), 127) as i8
}

/// `Σ a_k · b_k` in int32 (exact within the limits: no partial sum overflows; wrapping, so
/// it never panics outside them).
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as i16 * y as i16) as i32)
        .fold(0i32, |s, v| s.wrapping_add(v))
}

/// `Σ_k w_k`, the weight row's sum.
#[inline]
pub fn row_sum(w: &[i8]) -> i32 {
    w.iter().fold(0i32, |s, &v| s.wrapping_add(v as i32))
}

/// The bias with the input zero point folded in: `bias − zp_in · Σ_k w_k` (exact within the
/// limits).
#[inline]
pub fn folded_bias(bias: i32, input_zero_point: i32, weight_row_sum: i32) -> i32 {
    bias.wrapping_sub(input_zero_point.wrapping_mul(weight_row_sum))
}

/// The parameters of one output feature of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feature {
    pub bias: i32,
    pub multiplier: i32,
    pub shift: i32,
}

/// The zero points and activation of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantization {
    /// Zero point of the layer's input (the model's, or the previous layer's output's).
    pub input_zero_point: i32,
    /// Zero point of the layer's output.
    pub output_zero_point: i32,
    /// Clamp the output at its zero point.
    pub relu: bool,
}

/// `(Σ_k x_k · w_k, Σ_k w_k)` in one pass, eight at a time: the same sums as [`dot_i8`] and
/// [`row_sum`] (integer addition is exact and wrapping is associative, so any order gives the
/// same bits), in about a third of the on-chain instructions of two plain loops.
#[inline]
pub fn dot_and_row_sum(x: &[i8], w: &[i8]) -> (i32, i32) {
    let n = x.len().min(w.len());
    let (xs, x_rest) = x[..n].as_chunks::<8>();
    let (ws, w_rest) = w[..n].as_chunks::<8>();
    let (mut dot, mut sum) = (0i32, 0i32);
    for (a, b) in xs.iter().zip(ws) {
        // Eight products of at most 2^14 and eight weights: no overflow within the group.
        let mut d = 0i32;
        let mut s = 0i32;
        for i in 0..8 {
            d += a[i] as i32 * b[i] as i32;
            s += b[i] as i32;
        }
        dot = dot.wrapping_add(d);
        sum = sum.wrapping_add(s);
    }
    for (&a, &b) in x_rest.iter().zip(w_rest) {
        dot = dot.wrapping_add(a as i32 * b as i32);
        sum = sum.wrapping_add(b as i32);
    }
    (dot, sum)
}

/// One output element: input row `x` against weight row `w` (the same length) of a feature.
/// This is what the referee re-executes on chain, and what every CPU and GPU path must give.
#[inline]
pub fn element(x: &[i8], w: &[i8], feature: Feature, q: Quantization) -> i8 {
    let (dot, sum) = dot_and_row_sum(x, w);
    let acc = folded_bias(feature.bias, q.input_zero_point, sum).wrapping_add(dot);
    requantize(
        acc,
        feature.multiplier,
        feature.shift,
        q.output_zero_point,
        q.relu,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_rounds_saturates_and_clamps() {
        // 0.5 · ±3 = ±1.5: the high multiply rounds ties toward +∞.
        assert_eq!(requantize(3, 1 << 30, 0, 0, false), 2);
        assert_eq!(requantize(-3, 1 << 30, 0, 0, false), -1);
        // A right shift rounds ties away from zero: −6 / 4 = −1.5 → −2.
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(6, 2), 2);
        // Saturating left shift, then clamp.
        assert_eq!(requantize(i32::MAX, i32::MAX, 7, 0, false), 127);
        assert_eq!(requantize(i32::MIN, i32::MAX, 7, 0, false), -128);
        // ReLU clamps at the zero point.
        assert_eq!(requantize(-1000, 1 << 30, 0, 5, true), 5);
        assert_eq!(requantize(-1000, 1 << 30, 0, 5, false), -128);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
    }

    #[test]
    fn element_folds_the_zero_point() {
        let x = [1i8, -2, 3, 127];
        let w = [-128i8, 5, 0, 2];
        let f = Feature {
            bias: 100,
            multiplier: 1 << 30,
            shift: 0,
        };
        let q = Quantization {
            input_zero_point: 3,
            output_zero_point: -1,
            relu: false,
        };
        // acc = 100 − 3·(−121) + (−128 − 10 + 0 + 254) = 100 + 363 + 116 = 579; ·0.5 = 289.5
        // → 290 (ties toward +∞), −1 → 289, clamped to 127.
        assert_eq!(element(&x, &w, f, q), 127);
        let small = Feature {
            bias: -600,
            multiplier: 1 << 30,
            shift: -2,
        };
        // acc = −600 + 363 + 116 = −121; ·0.5 = −60.5 → −60 (ties toward +∞ in the high
        // multiply), /4 = −15 → −15, −1 → −16.
        assert_eq!(element(&x, &w, small, q), -16);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The one-pass sums are the plain loops' sums, at every length and value.
        #[test]
        fn one_pass_sums_equal_the_plain_loops(
            pairs in proptest::collection::vec((proptest::num::i8::ANY, proptest::num::i8::ANY), 0..300)
        ) {
            let (x, w): (alloc::vec::Vec<i8>, alloc::vec::Vec<i8>) = pairs.into_iter().unzip();
            proptest::prop_assert_eq!(dot_and_row_sum(&x, &w), (dot_i8(&x, &w), row_sum(&w)));
        }
    }
}
