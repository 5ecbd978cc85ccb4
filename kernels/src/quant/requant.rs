//! Fixed-point requantization, as in gemmlowp and TensorFlow Lite: an int32 accumulator is
//! scaled by a real multiplier given as a Q0.31 integer `multiplier` and a power-of-two `shift`
//! (positive = left), rounded, offset by the output zero point and clamped to int8.
//!
//! `cuda/gemm.cu` has the same functions; all of it is integer arithmetic, exact on any device.

// The scalar functions are defined once, in `tessera-int8`, which the on-chain referee also
// runs: every path below must give their bytes.
pub use tessera_int8::{
    multiply_by_quantized_multiplier, requantize, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul, MAX_SHIFT, MIN_MULTIPLIER, MIN_SHIFT,
};

/// A way of requantizing a row; every one gives the bytes of [`requantize`], element by
/// element (the vector code runs the same integer steps, lane by lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowPath {
    /// [`requantize`] on each element.
    Scalar,
    /// 8 elements at a time: int32 lanes, the products and their rounding in int64 halves.
    Avx2,
    /// 8 elements at a time in AVX-512 int64 lanes.
    Avx512,
}

impl RowPath {
    /// Every path, in order of preference.
    pub const ALL: [RowPath; 3] = [RowPath::Avx512, RowPath::Avx2, RowPath::Scalar];

    /// The fastest path this CPU runs, detected once per process.
    pub fn detected() -> RowPath {
        static DETECTED: std::sync::OnceLock<RowPath> = std::sync::OnceLock::new();
        *DETECTED.get_or_init(|| {
            RowPath::ALL
                .into_iter()
                .find(|p| p.is_supported())
                .unwrap_or(RowPath::Scalar)
        })
    }

    /// Whether this CPU has the instructions of the path.
    pub fn is_supported(self) -> bool {
        match self {
            RowPath::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            RowPath::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            RowPath::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every path this CPU runs.
    pub fn supported() -> Vec<RowPath> {
        RowPath::ALL
            .into_iter()
            .filter(|p| p.is_supported())
            .collect()
    }

    /// A short name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            RowPath::Scalar => "scalar",
            RowPath::Avx2 => "avx2",
            RowPath::Avx512 => "avx512",
        }
    }
}

/// Requantizes one row: `out[j] = requantize(acc[j], multiplier[j], shift[j], zero_point,
/// relu)`, on the fastest [`RowPath`] this CPU has (the same bytes on every one).
pub fn requantize_row(
    acc: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    zero_point: i32,
    relu: bool,
    out: &mut [i8],
) {
    requantize_row_with(
        RowPath::detected(),
        acc,
        multiplier,
        shift,
        zero_point,
        relu,
        out,
    );
}

/// [`requantize_row`] on a given path.
///
/// Panics if the slices' lengths differ, or if the CPU does not have the path's instructions.
pub fn requantize_row_with(
    path: RowPath,
    acc: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    zero_point: i32,
    relu: bool,
    out: &mut [i8],
) {
    let n = acc.len();
    assert!(multiplier.len() == n && shift.len() == n && out.len() == n);
    assert!(path.is_supported(), "{} is not supported here", path.name());
    let done = match path {
        RowPath::Scalar => 0,
        // SAFETY: AVX-512 F is present (asserted above); the slices are `n` long (asserted).
        #[cfg(target_arch = "x86_64")]
        RowPath::Avx512 => unsafe {
            x86::requantize_avx512(acc, multiplier, shift, zero_point, relu, out)
        },
        // SAFETY: AVX2 is present (asserted above); the slices are `n` long (asserted).
        #[cfg(target_arch = "x86_64")]
        RowPath::Avx2 => unsafe {
            x86::requantize_avx2(acc, multiplier, shift, zero_point, relu, out)
        },
        #[allow(unreachable_patterns)]
        _ => 0,
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

    /// [`super::saturating_rounding_doubling_high_mul`] of the int32 values in the even
    /// 32-bit lanes of `a` and `b` (`i32::MIN · i32::MIN` excepted: the caller takes it),
    /// into the low half of each 64-bit lane (the high half is left undefined). Callable
    /// where AVX2 is enabled.
    #[target_feature(enable = "avx2")]
    fn high_mul_even(a: __m256i, b: __m256i) -> __m256i {
        let zero = _mm256_setzero_si256();
        // The exact int64 product, then the nudge (+2^30, or 1 - 2^30 below 0) ...
        let ab = _mm256_mul_epi32(a, b);
        let nudge = _mm256_blendv_epi8(
            _mm256_set1_epi64x(1 << 30),
            _mm256_set1_epi64x(1 - (1 << 30)),
            _mm256_cmpgt_epi64(zero, ab),
        );
        let t = _mm256_add_epi64(ab, nudge);
        // ... and a division by 2^31 truncating toward zero: add 2^31 - 1 below 0, then keep
        // bits 31..62 (the quotient fits in int32, so a logical shift gives its low half).
        let t = _mm256_add_epi64(
            t,
            _mm256_and_si256(
                _mm256_cmpgt_epi64(zero, t),
                _mm256_set1_epi64x((1 << 31) - 1),
            ),
        );
        _mm256_srli_epi64::<31>(t)
    }

    /// [`super::requantize`] on 8 elements at a time in int32 lanes (the rounding multiply
    /// in int64, even and odd lanes apart); returns how many elements it wrote (a multiple
    /// of 8; the caller finishes the rest).
    ///
    /// # Safety
    /// The CPU has AVX2; `multiplier`, `shift` and `out` are at least `acc.len()` long.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn requantize_avx2(
        acc: &[i32],
        multiplier: &[i32],
        shift: &[i32],
        zero_point: i32,
        relu: bool,
        out: &mut [i8],
    ) -> usize {
        let lo = if relu { zero_point.max(-128) } else { -128 };
        let zero = _mm256_setzero_si256();
        let one = _mm256_set1_epi32(1);
        let i32_min = _mm256_set1_epi32(i32::MIN);
        let i32_max = _mm256_set1_epi32(i32::MAX);
        // clamp(v + zp, lo, 127) = clamp(v, lo - zp, 127 - zp) + zp, with no overflow.
        let v_lo = _mm256_set1_epi32(lo - zero_point);
        let v_hi = _mm256_set1_epi32(127 - zero_point);
        let v_zp = _mm256_set1_epi32(zero_point);
        let whole = acc.len() / 8 * 8;
        let mut j = 0;
        while j < whole {
            // SAFETY: `j + 8 <= acc.len()`, and the other slices are at least as long.
            let (x, m, s) = unsafe {
                (
                    _mm256_loadu_si256(acc.as_ptr().add(j).cast()),
                    _mm256_loadu_si256(multiplier.as_ptr().add(j).cast()),
                    _mm256_loadu_si256(shift.as_ptr().add(j).cast()),
                )
            };
            // multiply_by_quantized_multiplier: a left shift (0..=7), saturated where shifting
            // back does not give x (to i32::MIN below 0, i32::MAX from 0 up), ...
            let left = _mm256_max_epi32(s, zero);
            let right = _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero);
            let up = _mm256_sllv_epi32(x, left);
            let overflow = _mm256_xor_si256(
                _mm256_cmpeq_epi32(_mm256_srav_epi32(up, left), x),
                _mm256_set1_epi32(-1),
            );
            let saturated = _mm256_xor_si256(i32_max, _mm256_srai_epi32::<31>(x));
            let shifted = _mm256_blendv_epi8(up, saturated, overflow);
            // ... saturating_rounding_doubling_high_mul, even lanes and odd lanes, ...
            let even = high_mul_even(shifted, m);
            let odd = high_mul_even(_mm256_srli_epi64::<32>(shifted), _mm256_srli_epi64::<32>(m));
            let high = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
            let both_min = _mm256_and_si256(
                _mm256_cmpeq_epi32(shifted, i32_min),
                _mm256_cmpeq_epi32(m, i32_min),
            );
            let high = _mm256_blendv_epi8(high, i32_max, both_min);
            // ... then rounding_divide_by_pot (0..=31): every value below fits in int32.
            let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
            let remainder = _mm256_and_si256(high, mask);
            let threshold =
                _mm256_sub_epi32(_mm256_srai_epi32::<1>(mask), _mm256_cmpgt_epi32(zero, high));
            let q = _mm256_sub_epi32(
                _mm256_srav_epi32(high, right),
                _mm256_cmpgt_epi32(remainder, threshold),
            );
            // requantize: zero point and clamp, then the low byte of each lane.
            let v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, v_lo), v_hi), v_zp);
            let bytes = _mm256_packs_epi16(_mm256_packs_epi32(v, v), zero);
            let row = _mm_unpacklo_epi32(
                _mm256_castsi256_si128(bytes),
                _mm256_extracti128_si256::<1>(bytes),
            );
            // SAFETY: `j + 8 <= out.len()`; the store writes 8 bytes.
            unsafe {
                _mm_storel_epi64(out.as_mut_ptr().add(j).cast(), row);
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
        for path in RowPath::supported() {
            let mut out = vec![0x55u8 as i8; n];
            requantize_row_with(path, acc, multiplier, shift, zp, relu, &mut out);
            assert_eq!(out, want, "{}", path.name());
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
        eprintln!(
            "requantization: {:?} checked against the element-by-element code",
            RowPath::supported()
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn row_requantization_matches_element_by_element_on_random_rows() {
        // Rows of every length up to 3 vectors and a tail, values drawn from the whole range
        // and from near the rounding boundaries, per-element multipliers and shifts.
        let mut s = 0x2545_f491u32;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        for len in 0..=27 {
            for round in 0..40 {
                let acc: Vec<i32> = (0..len)
                    .map(|_| match next() % 4 {
                        0 => next() as i32,
                        1 => (next() % 8192) as i32 - 4096,
                        2 => (1 << (next() % 31)) * if next() % 2 == 0 { 1 } else { -1 },
                        _ => [i32::MIN, i32::MAX, 0, -1, 1][(next() % 5) as usize],
                    })
                    .collect();
                let mult: Vec<i32> = (0..len)
                    .map(|_| match next() % 5 {
                        0 => 0,
                        1 => i32::MAX,
                        2 => MIN_MULTIPLIER,
                        _ => MIN_MULTIPLIER + (next() % (1 << 30)) as i32,
                    })
                    .collect();
                let shift: Vec<i32> = (0..len)
                    .map(|_| MIN_SHIFT + (next() % (MAX_SHIFT - MIN_SHIFT + 1) as u32) as i32)
                    .collect();
                let zp = (next() % 256) as i32 - 128;
                check_row(&acc, &mult, &shift, zp, round % 2 == 0);
            }
        }
    }

    #[test]
    fn row_paths_are_detected_once_and_listed() {
        let p = RowPath::detected();
        assert!(p.is_supported());
        assert_eq!(RowPath::supported().first(), Some(&p));
        assert!(RowPath::supported().contains(&RowPath::Scalar));
        if let Some(p) = RowPath::ALL.into_iter().find(|p| !p.is_supported()) {
            let r = std::panic::catch_unwind(|| {
                requantize_row_with(p, &[1], &[MIN_MULTIPLIER], &[0], 0, false, &mut [0])
            });
            assert!(r.is_err(), "{} ran on a CPU without it", p.name());
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
