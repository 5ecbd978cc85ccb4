//! int8 × int8 → int32 matrix products on the CPU, with a SIMD path chosen at run time.
//!
//! `C[m, n] = init[n] + Σ_k A[m, k] · W[n, k]`, every sum in wrapping int32 arithmetic. Integer
//! sums modulo 2^32 do not depend on their order, so every path gives the same bytes as the
//! scalar reference ([`Path::Scalar`], the plain loop of [`super::dot_i8`]); the tests in this
//! module check it on every path the machine has.
//!
//! The paths:
//! - AVX-512 VNNI and AVX-VNNI (`vpdpbusd`): unsigned × signed bytes. The activations enter as
//!   `a + 128` (an exact `xor 0x80`) and the extra `128 · Σ_k W[n, k]` is taken off through the
//!   initial value of each accumulator (precomputed when the weights are packed).
//! - AVX2 (`vpmaddwd`): both operands sign-extended to int16, pairs summed exactly into int32
//!   (never `vpmaddubsw`, whose int16 sums saturate).
//! - NEON on aarch64 (`smull` + `sadalp`): int8 products widened to int16, pairs added into
//!   int32 lanes.
//!
//! Weights are packed once ([`PackedWeights`]; a model's layer keeps its packing, see
//! [`super::QuantLayer::packed`]) into panels of `NR` output columns, `G`
//! consecutive k per column in each group (the operand layout of the instruction); the
//! driver walks blocks of k that keep a weight panel in L1, and micro-kernels keep an
//! `MR × NR` tile of accumulators in registers.

use std::sync::OnceLock;

#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
mod x86;

/// A way of computing the product; [`Path::detected`] is the fastest this CPU runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// The portable reference: one dot product per output, in plain Rust.
    Scalar,
    /// 256-bit `vpmaddwd` on sign-extended int16.
    Avx2,
    /// 256-bit `vpdpbusd` (VEX-encoded AVX-VNNI).
    AvxVnni,
    /// The same 256-bit kernel as [`Path::AvxVnni`], with the EVEX-encoded `vpdpbusd` of
    /// AVX-512 VNNI + VL: it lets a machine with AVX-512 test the 256-bit kernel. Never
    /// chosen by [`Path::detected`].
    Avx512VnniYmm,
    /// 512-bit `vpdpbusd` (AVX-512 VNNI).
    Avx512Vnni,
    /// 128-bit NEON `smull` / `sadalp` (aarch64).
    Neon,
}

/// Shape of one micro-kernel: the register tile and the packed operand layout.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    /// Rows of the accumulator tile.
    mr: usize,
    /// Columns of a weight panel (and of the accumulator tile).
    nr: usize,
    /// Consecutive k of one column in a packed group.
    g: usize,
    /// Bytes per packed element (1 for int8 / shifted uint8, 2 for int16).
    elem: usize,
    /// k-groups per cache block: one panel block of `nr × g × kc` elements stays in L1.
    kc: usize,
}

impl Path {
    /// Every path, in order of preference.
    pub const ALL: [Path; 6] = [
        Path::Avx512Vnni,
        Path::AvxVnni,
        Path::Avx512VnniYmm,
        Path::Avx2,
        Path::Neon,
        Path::Scalar,
    ];

    /// The fastest path this CPU runs, detected once per process.
    pub fn detected() -> Path {
        static DETECTED: OnceLock<Path> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Path::ALL
                .into_iter()
                .find(|p| *p != Path::Avx512VnniYmm && p.is_supported())
                .unwrap_or(Path::Scalar)
        })
    }

    /// Whether this CPU has the instructions of the path.
    pub fn is_supported(self) -> bool {
        match self {
            Path::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Path::AvxVnni => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("avxvnni")
            }
            #[cfg(target_arch = "x86_64")]
            Path::Avx512VnniYmm => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(target_arch = "x86_64")]
            Path::Avx512Vnni => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(target_arch = "aarch64")]
            Path::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every path this CPU runs.
    pub fn supported() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The position of the path in [`Path::ALL`].
    pub(crate) fn slot(self) -> usize {
        match self {
            Path::Avx512Vnni => 0,
            Path::AvxVnni => 1,
            Path::Avx512VnniYmm => 2,
            Path::Avx2 => 3,
            Path::Neon => 4,
            Path::Scalar => 5,
        }
    }

    /// A short name, for logs and benchmark tables.
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2 => "avx2",
            Path::AvxVnni => "avx-vnni",
            Path::Avx512VnniYmm => "avx512-vnni-256",
            Path::Avx512Vnni => "avx512-vnni",
            Path::Neon => "neon",
        }
    }

    fn geometry(self) -> Option<Geometry> {
        let g = match self {
            Path::Scalar => return None,
            Path::Avx512Vnni => Geometry {
                mr: 6,
                nr: 64,
                g: 4,
                elem: 1,
                kc: 64,
            },
            Path::AvxVnni | Path::Avx512VnniYmm => Geometry {
                mr: 6,
                nr: 16,
                g: 4,
                elem: 1,
                kc: 256,
            },
            Path::Avx2 => Geometry {
                mr: 6,
                nr: 16,
                g: 2,
                elem: 2,
                kc: 256,
            },
            Path::Neon => Geometry {
                mr: 4,
                nr: 4,
                g: 16,
                elem: 1,
                kc: 128,
            },
        };
        Some(g)
    }

    /// Activations enter as `a + 128` (unsigned bytes).
    fn shifts_activations(self) -> bool {
        matches!(self, Path::Avx512Vnni | Path::AvxVnni | Path::Avx512VnniYmm)
    }
}

/// A micro-kernel: `R` rows (its index + 1) × `nr` columns over `kgroups` groups of k.
///
/// `a` points at row 0 of the tile at the block's first k (row stride `lda` bytes), `b` at
/// the panel's first group of the block, `c` at the tile (row stride `ldc` int32). With a
/// non-null `init` (`nr` values) the tile starts from `init`, else from what `c` holds.
///
/// # Safety
/// The CPU has the path's instructions; every pointer covers what the kernel reads or writes.
type MicroKernel = unsafe fn(usize, *const u8, usize, *const u8, *mut i32, usize, *const i32);

fn micro_kernels(path: Path) -> &'static [MicroKernel] {
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Avx512Vnni => &x86::AVX512_VNNI,
        #[cfg(target_arch = "x86_64")]
        Path::AvxVnni => &x86::AVX_VNNI,
        #[cfg(target_arch = "x86_64")]
        Path::Avx512VnniYmm => &x86::AVX512_VNNI_YMM,
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => &x86::AVX2,
        #[cfg(target_arch = "aarch64")]
        Path::Neon => &neon::NEON,
        _ => &[],
    }
}

/// The weights of one layer (`n × k`, row-major, one row per output column), packed for a
/// path, with the per-column correction that path needs.
#[derive(Clone, Debug)]
pub struct PackedWeights {
    path: Path,
    k: usize,
    n: usize,
    /// k rounded up to whole groups.
    kp: usize,
    /// n rounded up to whole panels.
    np: usize,
    /// Packed panels (`[panel][group][nr][g]` elements of `elem` bytes); empty on the
    /// scalar path.
    data: Vec<u8>,
    /// The weights as given (scalar path only).
    plain: Vec<i8>,
    /// Added to each column's sum before any product: `-128 · Σ_k W[n, k]` where the
    /// activations are shifted, else 0 (`np` values).
    correction: Vec<i32>,
}

impl PackedWeights {
    /// Packs `weight` (`n × k`, row-major) for `path`.
    ///
    /// Panics if `weight.len() != n * k`, or if `path` is not supported by this CPU.
    pub fn new(path: Path, weight: &[i8], k: usize, n: usize) -> PackedWeights {
        assert_eq!(weight.len(), n * k, "weights are n × k");
        assert!(path.is_supported(), "{} is not supported here", path.name());
        let Some(geo) = path.geometry() else {
            return PackedWeights {
                path,
                k,
                n,
                kp: k,
                np: n,
                data: Vec::new(),
                plain: weight.to_vec(),
                correction: vec![0; n],
            };
        };
        let kp = k.div_ceil(geo.g) * geo.g;
        let np = n.div_ceil(geo.nr) * geo.nr;
        let mut data = vec![0u8; np * kp * geo.elem];
        match (geo.g, geo.elem) {
            (4, 1) => pack::<4, 1>(weight, k, n, geo.nr, &mut data),
            (2, 2) => pack::<2, 2>(weight, k, n, geo.nr, &mut data),
            (16, 1) => pack::<16, 1>(weight, k, n, geo.nr, &mut data),
            other => unreachable!("no packing for groups of {other:?}"),
        }
        let mut correction = vec![0i32; np];
        if path.shifts_activations() {
            for (col, c) in correction.iter_mut().enumerate().take(n) {
                let sum: i32 = weight[col * k..(col + 1) * k]
                    .iter()
                    .fold(0i32, |s, &w| s.wrapping_add(w as i32));
                *c = sum.wrapping_mul(-128);
            }
        }
        PackedWeights {
            path,
            k,
            n,
            kp,
            np,
            data,
            plain: Vec::new(),
            correction,
        }
    }

    /// The path the weights were packed for.
    pub fn path(&self) -> Path {
        self.path
    }

    /// Input features.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Output features.
    pub fn n(&self) -> usize {
        self.n
    }
}

/// Packs `weight` (`n × k`) into panels of `nr` columns: `[panel][group][nr][G]` elements of
/// `E` bytes (int8, or int16 when `E` is 2), zero beyond `k` and `n`.
fn pack<const G: usize, const E: usize>(
    weight: &[i8],
    k: usize,
    n: usize,
    nr: usize,
    data: &mut [u8],
) {
    let groups = k.div_ceil(G);
    let panel_len = groups * nr * G * E;
    let full = k / G;
    for (col, row) in weight.chunks_exact(k).enumerate().take(n) {
        let (panel, j) = (col / nr, col % nr);
        let dst = &mut data[panel * panel_len..(panel + 1) * panel_len];
        let (whole, tail) = row.as_chunks::<G>();
        for (group, src) in whole.iter().enumerate() {
            let at = (group * nr + j) * G * E;
            let d = &mut dst[at..at + G * E];
            if E == 2 {
                for (d, &w) in d.as_chunks_mut::<2>().0.iter_mut().zip(src) {
                    *d = (w as i16).to_ne_bytes();
                }
            } else {
                for (d, &w) in d.iter_mut().zip(src) {
                    *d = w as u8;
                }
            }
        }
        if !tail.is_empty() {
            let at = (full * nr + j) * G * E;
            for (i, &w) in tail.iter().enumerate() {
                let d = &mut dst[at + i * E..at + (i + 1) * E];
                if E == 2 {
                    d.copy_from_slice(&(w as i16).to_ne_bytes());
                } else {
                    d[0] = w as u8;
                }
            }
        }
    }
}

/// Rows per block: a block's activations stay in L2 while every panel passes over them.
const MC: usize = 96;

/// Reusable buffers of one caller (one thread): converted activations and accumulators.
#[derive(Default)]
pub struct Scratch {
    a: Vec<u8>,
    c: Vec<i32>,
    init: Vec<i32>,
}

/// `out[m, n] = init[n] + Σ_k a[m, k] · W[n, k]` (wrapping int32) for `m` rows of `a`
/// (`m × k`, row-major) on one thread, with the path the weights were packed for. `init`
/// is `n` values or empty (zeros); `out` is `m × n`, row-major.
pub fn gemm_i32(
    a: &[i8],
    m: usize,
    w: &PackedWeights,
    init: &[i32],
    out: &mut [i32],
    scratch: &mut Scratch,
) {
    let (k, n) = (w.k, w.n);
    assert_eq!(a.len(), m * k, "activations are m × k");
    assert_eq!(out.len(), m * n, "output is m × n");
    assert!(
        init.is_empty() || init.len() == n,
        "init is n values or none"
    );
    let init_at = |j: usize| init.get(j).copied().unwrap_or(0);
    let Some(geo) = w.path.geometry() else {
        let weight = &w.plain;
        for (row, orow) in out.chunks_exact_mut(n.max(1)).enumerate().take(m) {
            let xr = &a[row * k..(row + 1) * k];
            for (j, o) in orow.iter_mut().enumerate() {
                *o = init_at(j).wrapping_add(super::dot_i8(xr, &weight[j * k..(j + 1) * k]));
            }
        }
        return;
    };
    if m == 0 || n == 0 {
        return;
    }
    let kernels = micro_kernels(w.path);
    assert!(
        kernels.len() == geo.mr && w.path.is_supported(),
        "{} is not supported here",
        w.path.name()
    );

    // Activations in the path's element type, each row padded to whole groups (the padded
    // weights are 0, so the padding's value does not matter).
    let lda = w.kp * geo.elem;
    scratch.a.clear();
    scratch.a.resize(m * lda, 0);
    for (src, dst) in a
        .chunks_exact(k.max(1))
        .zip(scratch.a.chunks_exact_mut(lda))
    {
        match (geo.elem, w.path.shifts_activations()) {
            (2, _) => {
                for (d, &x) in dst.as_chunks_mut::<2>().0.iter_mut().zip(src) {
                    d.copy_from_slice(&(x as i16).to_ne_bytes());
                }
            }
            (_, true) => {
                for (d, &x) in dst.iter_mut().zip(src) {
                    *d = (x as u8) ^ 0x80;
                }
            }
            (_, false) => {
                for (d, &x) in dst.iter_mut().zip(src) {
                    *d = x as u8;
                }
            }
        }
    }
    scratch.init.clear();
    scratch
        .init
        .extend((0..w.np).map(|j| init_at(j).wrapping_add(w.correction[j])));
    // Accumulators of whole panels: `out` itself when n fills them, else a buffer copied
    // out at the end. Every accumulator is written (from `init`) before it is read.
    let ldc = w.np;
    let direct = ldc == n;
    if !direct {
        scratch.c.clear();
        scratch.c.resize(m * ldc, 0);
    }
    let c_all: &mut [i32] = if direct { out } else { &mut scratch.c };

    let groups = w.kp / geo.g;
    let panel_bytes = groups * geo.nr * geo.g * geo.elem;
    let group_bytes = geo.nr * geo.g * geo.elem;
    // Blocks of MC rows; in each, panel by panel, the panel's k-blocks (L1) run over the
    // block's tiles, whose accumulators stay in L1/L2 between k-blocks.
    for m0 in (0..m).step_by(MC) {
        let m1 = (m0 + MC).min(m);
        for panel in 0..w.np / geo.nr {
            let mut g0 = 0;
            while g0 < groups {
                let gs = geo.kc.min(groups - g0);
                let b = &w.data[panel * panel_bytes + g0 * group_bytes..][..gs * group_bytes];
                let init = if g0 == 0 {
                    scratch.init[panel * geo.nr..(panel + 1) * geo.nr].as_ptr()
                } else {
                    std::ptr::null()
                };
                let mut r0 = m0;
                while r0 < m1 {
                    let rows = geo.mr.min(m1 - r0);
                    let a_tile = &scratch.a[r0 * lda + g0 * geo.g * geo.elem..];
                    let c_tile = &mut c_all[r0 * ldc + panel * geo.nr..];
                    assert!(a_tile.len() >= (rows - 1) * lda + gs * geo.g * geo.elem);
                    assert!(c_tile.len() >= (rows - 1) * ldc + geo.nr);
                    // SAFETY: `kernels` belong to `w.path`, checked supported above; the
                    // tile reads `rows` rows of `lda` bytes from `a_tile` (`gs` groups each),
                    // `gs` groups of the panel from `b` (sliced to them), `nr` values of
                    // `init` (sliced to them), and reads and writes `rows` rows of `nr`
                    // accumulators in `c_tile`; the asserts above bound `a_tile` and `c_tile`.
                    unsafe {
                        kernels[rows - 1](
                            gs,
                            a_tile.as_ptr(),
                            lda,
                            b.as_ptr(),
                            c_tile.as_mut_ptr(),
                            ldc,
                            init,
                        );
                    }
                    r0 += rows;
                }
                g0 += gs;
            }
        }
    }
    if direct {
        return;
    }
    for (src, dst) in scratch.c.chunks_exact(ldc).zip(out.chunks_exact_mut(n)) {
        dst.copy_from_slice(&src[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(a: &[i8], m: usize, w: &[i8], k: usize, n: usize, init: &[i32]) -> Vec<i32> {
        let mut out = vec![0i32; m * n];
        for r in 0..m {
            for j in 0..n {
                let mut s = init.get(j).copied().unwrap_or(0);
                for kk in 0..k {
                    s = s.wrapping_add(a[r * k + kk] as i32 * w[j * k + kk] as i32);
                }
                out[r * n + j] = s;
            }
        }
        out
    }

    fn check_all(a: &[i8], m: usize, w: &[i8], k: usize, n: usize, init: &[i32]) {
        let want = reference(a, m, w, k, n, init);
        for path in Path::supported() {
            let packed = PackedWeights::new(path, w, k, n);
            let mut out = vec![0x5a5a5a5a; m * n];
            gemm_i32(a, m, &packed, init, &mut out, &mut Scratch::default());
            assert!(out == want, "{} differs at m={m} k={k} n={n}", path.name());
        }
    }

    #[test]
    fn detected_path_is_supported_and_listed() {
        let p = Path::detected();
        assert!(p.is_supported());
        assert_ne!(p, Path::Avx512VnniYmm);
        assert!(Path::supported().contains(&p));
        assert!(Path::supported().contains(&Path::Scalar));
        eprintln!(
            "int8 GEMM paths on this CPU: {:?} (chosen: {})",
            Path::supported()
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>(),
            p.name()
        );
    }

    #[test]
    fn extremes_match_the_reference() {
        // All -128 × -128 and 127 × -128 over long k: the largest partial sums, on shapes
        // that fill no tile or panel.
        for &(m, k, n) in &[(1, 1, 1), (7, 1023, 17), (13, 4099, 65), (6, 16384, 3)] {
            for (av, wv) in [(-128i8, -128i8), (127, -128), (-128, 127), (127, 127)] {
                let a = vec![av; m * k];
                let w = vec![wv; n * k];
                let init: Vec<i32> = (0..n as i32).map(|j| j * 1_000_003 - 7).collect();
                check_all(&a, m, &w, k, n, &init);
            }
        }
    }

    #[test]
    fn sums_wrap_like_the_reference() {
        // Beyond the kernels' limits the sums wrap, identically on every path.
        let (m, k, n) = (3, 64, 5);
        let a = vec![-128i8; m * k];
        let w = vec![-128i8; n * k];
        let init = vec![i32::MAX - 1000; n];
        check_all(&a, m, &w, k, n, &init);
        assert!(reference(&a, m, &w, k, n, &init)[0] < 0);
    }

    #[test]
    fn blocked_k_and_many_panels_match() {
        // m spans several row blocks, k several cache blocks on every path, n several panels
        // plus a tail.
        let (m, k, n) = (2 * MC + 13, 2 * 2048 + 37, 130);
        let mut s = 0x9e37_79b9u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as i8
        };
        let a: Vec<i8> = (0..m * k).map(|_| next()).collect();
        let w: Vec<i8> = (0..n * k).map(|_| next()).collect();
        check_all(&a, m, &w, k, n, &[]);
    }

    #[test]
    fn slots_follow_the_order_of_all() {
        for (i, p) in Path::ALL.into_iter().enumerate() {
            assert_eq!(p.slot(), i, "{}", p.name());
        }
    }

    #[test]
    fn an_unsupported_path_is_refused() {
        if let Some(p) = Path::ALL.into_iter().find(|p| !p.is_supported()) {
            let r = std::panic::catch_unwind(|| PackedWeights::new(p, &[1, 2], 2, 1));
            assert!(r.is_err(), "{} packed on a CPU without it", p.name());
        }
    }

    fn extreme_byte() -> impl Strategy<Value = i8> {
        prop_oneof![
            Just(-128i8),
            Just(127i8),
            Just(-1i8),
            Just(0i8),
            any::<i8>()
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_path_matches_the_reference(
            (m, k, n, a, w, init) in (1usize..40, 1usize..300, 1usize..150).prop_flat_map(
                |(m, k, n)| (
                    Just(m),
                    Just(k),
                    Just(n),
                    proptest::collection::vec(extreme_byte(), m * k),
                    proptest::collection::vec(extreme_byte(), n * k),
                    proptest::collection::vec(any::<i32>(), n),
                ),
            )
        ) {
            check_all(&a, m, &w, k, n, &init);
        }
    }
}
