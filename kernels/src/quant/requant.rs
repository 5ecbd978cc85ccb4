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

/// Requantizes one row: `out[j] = requantize(acc[j], multiplier[j], shift[j], zero_point,
/// relu)`, with AVX-512 where the CPU has it (the same bytes: the vector code is the same
/// integer arithmetic, lane by lane).
pub fn requantize_row(
    acc: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    zero_point: i32,
    relu: bool,
    out: &mut [i8],
) {
    requantize_row_with(
        vector_supported(),
        acc,
        multiplier,
        shift,
        zero_point,
        relu,
        out,
    );
}

/// Whether [`requantize_row`] runs vector code on this CPU (AVX-512 F).
pub fn vector_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX512: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVX512.get_or_init(|| std::arch::is_x86_feature_detected!("avx512f"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`requantize_row`], with the vector code (`vector`, where supported) or element by element.
///
/// Panics if the slices' lengths differ.
pub fn requantize_row_with(
    vector: bool,
    acc: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    zero_point: i32,
    relu: bool,
    out: &mut [i8],
) {
    let n = acc.len();
    assert!(multiplier.len() == n && shift.len() == n && out.len() == n);
    #[cfg(target_arch = "x86_64")]
    let done = if vector && vector_supported() {
        // SAFETY: AVX-512 F is present (checked above); the slices are `n` long (asserted).
        unsafe { x86::requantize_avx512(acc, multiplier, shift, zero_point, relu, out) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = {
        let _ = vector;
        0
    };
    for j in done..n {
        out[j] = requantize(acc[j], multiplier[j], shift[j], zero_point, relu);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// [`super::requantize`] on 8 elements at a time in int64 lanes; returns how many
    /// elements it wrote (a multiple of 8; the caller finishes the rest).
    ///
    /// # Safety
    /// The CPU has AVX-512 F; `multiplier`, `shift` and `out` are at least `acc.len()` long.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn requantize_avx512(
        acc: &[i32],
        multiplier: &[i32],
        shift: &[i32],
        zero_point: i32,
        relu: bool,
        out: &mut [i8],
    ) -> usize {
        let lo = if relu { zero_point.max(-128) } else { -128 };
        let one = _mm512_set1_epi64(1);
        let zero = _mm512_setzero_si512();
        let i32_min = _mm512_set1_epi64(i32::MIN as i64);
        let i32_max = _mm512_set1_epi64(i32::MAX as i64);
        let nudge_pos = _mm512_set1_epi64(1 << 30);
        let nudge_neg = _mm512_set1_epi64(1 - (1 << 30));
        let round_up = _mm512_set1_epi64((1 << 31) - 1);
        // clamp(v + zp, lo, 127) = clamp(v, lo - zp, 127 - zp) + zp, with no overflow.
        let v_lo = _mm512_set1_epi64((lo - zero_point) as i64);
        let v_hi = _mm512_set1_epi64((127 - zero_point) as i64);
        let v_zp = _mm512_set1_epi64(zero_point as i64);
        let whole = acc.len() / 8 * 8;
        let mut j = 0;
        while j < whole {
            // SAFETY: `j + 8 <= acc.len()`, and the other slices are at least as long.
            let (x, m, s) = unsafe {
                (
                    _mm512_cvtepi32_epi64(_mm256_loadu_si256(acc.as_ptr().add(j).cast())),
                    _mm512_cvtepi32_epi64(_mm256_loadu_si256(multiplier.as_ptr().add(j).cast())),
                    _mm512_cvtepi32_epi64(_mm256_loadu_si256(shift.as_ptr().add(j).cast())),
                )
            };
            // multiply_by_quantized_multiplier: a saturated left shift, ...
            let left = _mm512_max_epi64(s, zero);
            let right = _mm512_max_epi64(_mm512_sub_epi64(zero, s), zero);
            let shifted = _mm512_min_epi64(
                _mm512_max_epi64(_mm512_sllv_epi64(x, left), i32_min),
                i32_max,
            );
            // ... saturating_rounding_doubling_high_mul (int32 values, exact int64 product),
            let both_min =
                _mm512_cmpeq_epi64_mask(shifted, i32_min) & _mm512_cmpeq_epi64_mask(m, i32_min);
            let ab = _mm512_mul_epi32(shifted, m);
            let t = _mm512_add_epi64(
                ab,
                _mm512_mask_blend_epi64(_mm512_cmplt_epi64_mask(ab, zero), nudge_pos, nudge_neg),
            );
            // division by 2^31 truncating toward zero,
            let t = _mm512_mask_add_epi64(t, _mm512_cmplt_epi64_mask(t, zero), t, round_up);
            let high = _mm512_mask_blend_epi64(both_min, _mm512_srai_epi64::<31>(t), i32_max);
            // ... then rounding_divide_by_pot.
            let mask = _mm512_sub_epi64(_mm512_sllv_epi64(one, right), one);
            let remainder = _mm512_and_si512(high, mask);
            let half = _mm512_srai_epi64::<1>(mask);
            let threshold =
                _mm512_mask_add_epi64(half, _mm512_cmplt_epi64_mask(high, zero), half, one);
            let q = _mm512_srav_epi64(high, right);
            let q = _mm512_mask_add_epi64(q, _mm512_cmpgt_epi64_mask(remainder, threshold), q, one);
            // requantize: zero point and clamp.
            let v = _mm512_add_epi64(_mm512_min_epi64(_mm512_max_epi64(q, v_lo), v_hi), v_zp);
            // SAFETY: `j + 8 <= out.len()`; the store writes 8 bytes.
            unsafe {
                _mm_storel_epi64(out.as_mut_ptr().add(j).cast(), _mm512_cvtepi64_epi8(v));
            }
            j += 8;
        }
        whole
    }
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
    use proptest::prelude::*;

    fn check_row(acc: &[i32], multiplier: &[i32], shift: &[i32], zp: i32, relu: bool) {
        let n = acc.len();
        let want: Vec<i8> = (0..n)
            .map(|j| requantize(acc[j], multiplier[j], shift[j], zp, relu))
            .collect();
        for vector in [false, true] {
            let mut out = vec![0x55u8 as i8; n];
            requantize_row_with(vector, acc, multiplier, shift, zp, relu, &mut out);
            assert_eq!(out, want, "vector = {vector}");
        }
    }

    #[test]
    fn row_requantization_matches_element_by_element_at_the_extremes() {
        let accs = [
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30),
            -3,
            -1,
            0,
            1,
            3,
            1 << 30,
            i32::MAX - 1,
            i32::MAX,
        ];
        let mults = [
            0,
            MIN_MULTIPLIER,
            MIN_MULTIPLIER + 1,
            i32::MAX - 1,
            i32::MAX,
            i32::MIN,
        ];
        let mut acc = Vec::new();
        let mut mult = Vec::new();
        let mut shift = Vec::new();
        for &a in &accs {
            for &m in &mults {
                for s in MIN_SHIFT..=MAX_SHIFT {
                    acc.push(a);
                    mult.push(m);
                    shift.push(s);
                }
            }
        }
        assert!(acc.len() % 8 != 0 || acc.len() > 8);
        for zp in [-128, -100, -1, 0, 1, 127] {
            for relu in [false, true] {
                check_row(&acc, &mult, &shift, zp, relu);
            }
        }
        if vector_supported() {
            eprintln!("requantization: AVX-512 checked against the element-by-element code");
        }
    }

    proptest! {
        #[test]
        fn row_requantization_matches_element_by_element(
            rows in proptest::collection::vec(
                (
                    // Small sums too: they meet the rounding ties.
                    prop_oneof![any::<i32>(), -4096i32..4096],
                    prop_oneof![Just(0), MIN_MULTIPLIER..=i32::MAX],
                    MIN_SHIFT..=MAX_SHIFT,
                ),
                0..70,
            ),
            zp in -128i32..=127,
            relu in any::<bool>(),
        ) {
            let acc: Vec<i32> = rows.iter().map(|r| r.0).collect();
            let mult: Vec<i32> = rows.iter().map(|r| r.1).collect();
            let shift: Vec<i32> = rows.iter().map(|r| r.2).collect();
            check_row(&acc, &mult, &shift, zp, relu);
        }
    }

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
