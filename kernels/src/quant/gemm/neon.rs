//! aarch64 NEON micro-kernels (see `mod.rs` for the layout and the contract of a
//! [`MicroKernel`]): 4 columns, groups of 16 k. `smull`/`smull2` give exact int16 products
//! of int8 pairs and `sadalp` adds neighbouring products into int32 lanes; the lanes are
//! summed at the end of the block.

use std::arch::aarch64::*;

use super::MicroKernel;

/// # Safety
/// As [`MicroKernel`]; NEON is part of every aarch64 target.
#[target_feature(enable = "neon")]
#[allow(clippy::needless_range_loop)]
unsafe fn neon<const R: usize>(
    groups: usize,
    a: *const u8,
    lda: usize,
    b: *const u8,
    c: *mut i32,
    ldc: usize,
    init: *const i32,
) {
    // SAFETY: the caller guarantees that `a` (R rows of `lda` bytes, 16 · groups read from
    // each), `b` (groups × 64 bytes), `init` (4 values, when not null) and `c` (R rows of 4
    // values at stride `ldc`) are in bounds.
    unsafe {
        let mut acc = [[vdupq_n_s32(0); 4]; R];
        for g in 0..groups {
            let bp = b.add(g * 64).cast::<i8>();
            let bv = [
                vld1q_s8(bp),
                vld1q_s8(bp.add(16)),
                vld1q_s8(bp.add(32)),
                vld1q_s8(bp.add(48)),
            ];
            for r in 0..R {
                let av = vld1q_s8(a.add(r * lda + 16 * g).cast::<i8>());
                for j in 0..4 {
                    let lo = vmull_s8(vget_low_s8(av), vget_low_s8(bv[j]));
                    let hi = vmull_high_s8(av, bv[j]);
                    acc[r][j] = vpadalq_s16(vpadalq_s16(acc[r][j], lo), hi);
                }
            }
        }
        for r in 0..R {
            for j in 0..4 {
                let base = if init.is_null() {
                    *c.add(r * ldc + j)
                } else {
                    *init.add(j)
                };
                // The lanes' sum wraps like every other sum of the kernels.
                let lanes = [
                    vgetq_lane_s32::<0>(acc[r][j]),
                    vgetq_lane_s32::<1>(acc[r][j]),
                    vgetq_lane_s32::<2>(acc[r][j]),
                    vgetq_lane_s32::<3>(acc[r][j]),
                ];
                *c.add(r * ldc + j) = lanes.iter().fold(base, |s, &v| s.wrapping_add(v));
            }
        }
    }
}

pub(super) static NEON: [MicroKernel; 4] = [neon::<1>, neon::<2>, neon::<3>, neon::<4>];
