//! Fixed-point requantization, as in gemmlowp and TensorFlow Lite: an int32 accumulator is
//! scaled by a real multiplier given as a Q0.31 integer `multiplier` and a power-of-two `shift`
//! (positive = left), rounded, offset by the output zero point and clamped to int8.
//!
//! `cuda/gemm.cu` has the same functions; all of it is integer arithmetic, exact on any device.

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

/// Splits a positive real multiplier into (Q0.31 multiplier, shift) such that
/// `real ≈ multiplier / 2^31 · 2^shift`; 0 gives (0, 0). Host-side tooling for building models
/// (only exact f64 operations: scaling by 2 and rounding). `None` when the real is negative,
/// not finite, or out of the shift range.
pub fn quantize_multiplier(real: f64) -> Option<(i32, i32)> {
    if !real.is_finite() || real < 0.0 {
        return None;
    }
    if real == 0.0 {
        return Some((0, 0));
    }
    let mut frac = real;
    let mut shift = 0i32;
    while frac >= 1.0 {
        frac /= 2.0;
        shift += 1;
    }
    while frac < 0.5 {
        frac *= 2.0;
        shift -= 1;
        if shift < MIN_SHIFT - 1 {
            return None;
        }
    }
    let mut q = (frac * (1u64 << 31) as f64).round() as i64;
    if q == 1i64 << 31 {
        q /= 2;
        shift += 1;
    }
    if !(MIN_SHIFT..=MAX_SHIFT).contains(&shift) {
        return None;
    }
    Some((q as i32, shift))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_mul_saturates_and_rounds() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX),
            -i32::MAX
        );
        // Ties go toward +∞: 0.5 → 1, -0.5 → 0, 1.5 → 2, -1.5 → -1.
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        // Not a tie: -0.75 → -1, -0.25 → 0.
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 29), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 29), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(1000, 0), 0);
    }

    #[test]
    fn divide_by_pot_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3); // 2.5 → 3
        assert_eq!(rounding_divide_by_pot(-5, 1), -3); // -2.5 → -3
        assert_eq!(rounding_divide_by_pot(-4, 1), -2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2); // -1.75 → -2
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5 → -2
        assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25 → -1
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(-(1 << 30), 31), -1); // -0.5 → -1
        assert_eq!(rounding_divide_by_pot((1 << 30) - 1, 31), 0);
    }

    #[test]
    fn requantize_saturates_and_applies_relu() {
        let (m, s) = quantize_multiplier(0.5).unwrap();
        assert_eq!((m, s), (1 << 30, 0));
        assert_eq!(requantize(3, m, s, 0, false), 2); // 1.5 → 2
        assert_eq!(requantize(-3, m, s, 0, false), -1); // -1.5 → -1 (tie toward +∞)
        assert_eq!(requantize(-5, m, s, 0, false), -2); // -2.5 → -2
                                                        // With a right shift the second rounding is half away from zero: -6 · 0.5 / 4 = -0.75.
        assert_eq!(requantize(-6, m, -2, 0, false), -1);
        assert_eq!(requantize(-4, m, -2, 0, false), -1); // -0.5 → -1 (away from zero)
        assert_eq!(requantize(4, m, -2, 0, false), 1); // 0.5 → 1
        assert_eq!(requantize(1_000_000, m, s, 0, false), 127);
        assert_eq!(requantize(-1_000_000, m, s, 0, false), -128);
        assert_eq!(requantize(-10, m, s, 3, true), 3);
        assert_eq!(requantize(-10, m, s, 3, false), -2); // -5 + 3
        assert_eq!(requantize(i32::MAX, i32::MAX, 7, 0, false), 127);
        assert_eq!(requantize(i32::MIN, i32::MAX, 7, -128, true), -128);
        assert_eq!(requantize(i32::MIN, i32::MAX, 7, 127, false), -128);
        // multiplier 0 yields the zero point.
        assert_eq!(requantize(12345, 0, 0, -7, false), -7);
        // Left shift: 3 * 0.75 * 4 = 9.
        let (m, s) = quantize_multiplier(3.0).unwrap();
        assert_eq!(s, 2);
        assert_eq!(requantize(3, m, s, 0, false), 9);
        // A saturated left shift.
        // A saturated left shift: 2^30 · 2^7 saturates to i32::MAX, times 0.5 rounds to 2^30.
        assert_eq!(
            multiply_by_quantized_multiplier(1 << 30, 1 << 30, 7),
            1 << 30
        );
    }

    #[test]
    fn quantize_multiplier_ranges() {
        assert_eq!(quantize_multiplier(1.0), Some((1 << 30, 1)));
        assert_eq!(quantize_multiplier(0.0), Some((0, 0)));
        assert_eq!(quantize_multiplier(-1.0), None);
        assert_eq!(quantize_multiplier(f64::NAN), None);
        assert_eq!(quantize_multiplier(1e-12), None);
        assert_eq!(quantize_multiplier(1000.0), None);
        let (m, s) = quantize_multiplier(0.003).unwrap();
        assert!(m >= MIN_MULTIPLIER);
        let back = m as f64 / (1u64 << 31) as f64 * 2f64.powi(s);
        assert!((back - 0.003).abs() < 1e-11);
    }
}
