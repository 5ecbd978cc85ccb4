//! x86-64 micro-kernels (see `mod.rs` for the layout and the contract of a [`MicroKernel`]).
//!
//! Each kernel holds an `R × NR` tile of int32 accumulators in registers; per group of k it
//! loads the panel's `NR` columns once and broadcasts each row's group of activations.

use std::arch::x86_64::*;

use super::MicroKernel;

/// 512-bit `vpdpbusd`: 64 columns (4 registers of 16), groups of 4 k, activations `a + 128`.
///
/// # Safety
/// As [`MicroKernel`]; the CPU has AVX-512 F, BW and VNNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[allow(clippy::needless_range_loop)]
unsafe fn avx512_vnni<const R: usize>(
    groups: usize,
    a: *const u8,
    lda: usize,
    b: *const u8,
    c: *mut i32,
    ldc: usize,
    init: *const i32,
) {
    // SAFETY: the caller guarantees the CPU features and that `a` (R rows of `lda` bytes,
    // 4 · groups read from each), `b` (groups × 256 bytes), `init` (64 values, when not
    // null) and `c` (R rows of 64 values at stride `ldc`) are in bounds.
    unsafe {
        let mut acc = [[_mm512_setzero_si512(); 4]; R];
        for r in 0..R {
            for v in 0..4 {
                acc[r][v] = if init.is_null() {
                    _mm512_loadu_si512(c.add(r * ldc + 16 * v).cast())
                } else {
                    _mm512_loadu_si512(init.add(16 * v).cast())
                };
            }
        }
        let mut rows = [a; R];
        for r in 0..R {
            rows[r] = a.add(r * lda);
        }
        let mut bp = b;
        for _ in 0..groups {
            let bv = [
                _mm512_loadu_si512(bp.cast()),
                _mm512_loadu_si512(bp.add(64).cast()),
                _mm512_loadu_si512(bp.add(128).cast()),
                _mm512_loadu_si512(bp.add(192).cast()),
            ];
            for r in 0..R {
                let av = _mm512_set1_epi32(rows[r].cast::<i32>().read_unaligned());
                rows[r] = rows[r].add(4);
                for v in 0..4 {
                    acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, bv[v]);
                }
            }
            bp = bp.add(256);
        }
        for r in 0..R {
            for v in 0..4 {
                _mm512_storeu_si512(c.add(r * ldc + 16 * v).cast(), acc[r][v]);
            }
        }
    }
}

/// A 256-bit kernel over 16 columns (2 registers of 8), groups of `4 / elem` k of `elem`
/// bytes: `$dot(acc, a, b)` adds the products of one group to the accumulators.
macro_rules! ymm_kernel {
    ($(#[$doc:meta])* $name:ident, $features:literal, $dot:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// As [`MicroKernel`]; the CPU has the features named in `target_feature`.
        #[target_feature(enable = $features)]
        #[allow(clippy::needless_range_loop)]
        unsafe fn $name<const R: usize>(
            groups: usize,
            a: *const u8,
            lda: usize,
            b: *const u8,
            c: *mut i32,
            ldc: usize,
            init: *const i32,
        ) {
            // SAFETY: the caller guarantees the CPU features and that `a` (R rows of `lda`
            // bytes, 4 · groups read from each), `b` (groups × 64 bytes), `init` (16 values,
            // when not null) and `c` (R rows of 16 values at stride `ldc`) are in bounds.
            unsafe {
                let mut acc = [[_mm256_setzero_si256(); 2]; R];
                for r in 0..R {
                    for v in 0..2 {
                        acc[r][v] = if init.is_null() {
                            _mm256_loadu_si256(c.add(r * ldc + 8 * v).cast())
                        } else {
                            _mm256_loadu_si256(init.add(8 * v).cast())
                        };
                    }
                }
                let mut rows = [a; R];
                for r in 0..R {
                    rows[r] = a.add(r * lda);
                }
                let mut bp = b;
                for _ in 0..groups {
                    let bv = [
                        _mm256_loadu_si256(bp.cast()),
                        _mm256_loadu_si256(bp.add(32).cast()),
                    ];
                    for r in 0..R {
                        let av = _mm256_set1_epi32(rows[r].cast::<i32>().read_unaligned());
                        rows[r] = rows[r].add(4);
                        for v in 0..2 {
                            acc[r][v] = $dot(acc[r][v], av, bv[v]);
                        }
                    }
                    bp = bp.add(64);
                }
                for r in 0..R {
                    for v in 0..2 {
                        _mm256_storeu_si256(c.add(r * ldc + 8 * v).cast(), acc[r][v]);
                    }
                }
            }
        }
    };
}

ymm_kernel!(
    /// 256-bit VEX `vpdpbusd` (AVX-VNNI): activations `a + 128`, groups of 4 k.
    avx_vnni,
    "avx2,avxvnni",
    |acc, a, b| _mm256_dpbusd_avx_epi32(acc, a, b)
);

ymm_kernel!(
    /// 256-bit EVEX `vpdpbusd` (AVX-512 VNNI + VL): the AVX-VNNI kernel, for machines that
    /// have the 512-bit extension instead.
    avx512_vnni_ymm,
    "avx2,avx512f,avx512vl,avx512vnni",
    |acc, a, b| _mm256_dpbusd_epi32(acc, a, b)
);

ymm_kernel!(
    /// AVX2 `vpmaddwd` on int16 (sign-extended) activations and weights, groups of 2 k:
    /// each product pair is summed exactly into int32.
    avx2,
    "avx2",
    |acc, a, b| _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
);

pub(super) static AVX512_VNNI: [MicroKernel; 6] = [
    avx512_vnni::<1>,
    avx512_vnni::<2>,
    avx512_vnni::<3>,
    avx512_vnni::<4>,
    avx512_vnni::<5>,
    avx512_vnni::<6>,
];

pub(super) static AVX_VNNI: [MicroKernel; 6] = [
    avx_vnni::<1>,
    avx_vnni::<2>,
    avx_vnni::<3>,
    avx_vnni::<4>,
    avx_vnni::<5>,
    avx_vnni::<6>,
];

pub(super) static AVX512_VNNI_YMM: [MicroKernel; 6] = [
    avx512_vnni_ymm::<1>,
    avx512_vnni_ymm::<2>,
    avx512_vnni_ymm::<3>,
    avx512_vnni_ymm::<4>,
    avx512_vnni_ymm::<5>,
    avx512_vnni_ymm::<6>,
];

pub(super) static AVX2: [MicroKernel; 6] = [
    avx2::<1>, avx2::<2>, avx2::<3>, avx2::<4>, avx2::<5>, avx2::<6>,
];
