//! The quantized kernels: `gemm-i8` (one layer) and `mlp-i8` (a chain of layers). int8
//! weights and activations, int32 accumulation, fixed-point requantization between layers.
//! Output chunks are row blocks of the last layer's int8 output (`rows_per_chunk × features`
//! bytes, row-major; the last block may be shorter).

pub mod gemm;
pub mod model;
pub mod requant;

use rayon::prelude::*;

pub use model::{ModelCommitment, PackedPanels, QuantLayer, QuantModel};

use crate::error::KernelError;

/// Rows handed to one rayon task.
const ROWS_PER_TASK: usize = 8;

pub use tessera_int8::dot_i8;

/// One layer on the CPU: `rows × k` activations in, `rows × n` out, on the fastest path
/// this CPU has ([`gemm::Path::detected`]).
pub fn layer_cpu(model: &QuantModel, i: usize, x: &[i8], rows: usize) -> Vec<i8> {
    layer_cpu_with(gemm::Path::detected(), model, i, x, rows)
}

/// One layer on the CPU on a given path (every path gives the same bytes).
///
/// Panics if the CPU does not have the path's instructions.
pub fn layer_cpu_with(
    path: gemm::Path,
    model: &QuantModel,
    i: usize,
    x: &[i8],
    rows: usize,
) -> Vec<i8> {
    if path == gemm::Path::Scalar {
        return layer_scalar(model, i, x, rows);
    }
    let l = &model.layers[i];
    let folded = model.folded_bias(i);
    let (k, n) = (l.k, l.n);
    // Packed on the layer's first run on this path, then kept.
    let packed = l.packed(path);
    // Blocks of rows large enough for the weights to be read once per block from the cache,
    // small enough for every thread to get a few.
    let threads = rayon::current_num_threads().max(1);
    let block = rows
        .div_ceil(2 * threads)
        .next_multiple_of(12)
        .clamp(12, 96);
    let mut out = vec![0i8; rows * n];
    out.par_chunks_mut(n * block)
        .zip(x.par_chunks(k * block))
        .for_each(|(oblock, xblock)| {
            let r = oblock.len() / n;
            let mut acc = vec![0i32; r * n];
            gemm::gemm_i32(
                xblock,
                r,
                packed,
                &folded,
                &mut acc,
                &mut gemm::Scratch::default(),
            );
            for (orow, arow) in oblock.chunks_exact_mut(n).zip(acc.chunks_exact(n)) {
                requant::requantize_row(
                    arow,
                    &l.multiplier,
                    &l.shift,
                    l.output_zero_point,
                    l.relu,
                    orow,
                );
            }
        });
    out
}

/// One layer with one scalar dot product per output: the reference every SIMD path is
/// tested against.
pub fn layer_scalar(model: &QuantModel, i: usize, x: &[i8], rows: usize) -> Vec<i8> {
    let l = &model.layers[i];
    let folded = model.folded_bias(i);
    let (k, n) = (l.k, l.n);
    let mut out = vec![0i8; rows * n];
    out.par_chunks_mut(n * ROWS_PER_TASK)
        .enumerate()
        .for_each(|(bi, block)| {
            for (r, orow) in block.chunks_exact_mut(n).enumerate() {
                let row = bi * ROWS_PER_TASK + r;
                let xr = &x[row * k..(row + 1) * k];
                for (j, o) in orow.iter_mut().enumerate() {
                    let acc = folded[j].wrapping_add(dot_i8(xr, &l.weight[j * k..(j + 1) * k]));
                    *o = requant::requantize(
                        acc,
                        l.multiplier[j],
                        l.shift[j],
                        l.output_zero_point,
                        l.relu,
                    );
                }
            }
        });
    out
}

/// Runs input rows `[start, end)` through every layer on the CPU; returns their outputs.
pub fn run_rows_cpu(model: &QuantModel, start: usize, end: usize) -> Vec<i8> {
    run_rows_cpu_with(gemm::Path::detected(), model, start, end)
}

/// [`run_rows_cpu`] on a given path.
pub fn run_rows_cpu_with(
    path: gemm::Path,
    model: &QuantModel,
    start: usize,
    end: usize,
) -> Vec<i8> {
    let k0 = model.layers[0].k;
    let mut act = model.input[start * k0..end * k0].to_vec();
    for i in 0..model.layers.len() {
        act = layer_cpu_with(path, model, i, &act, end - start);
    }
    act
}

/// Splits the final output (`rows × features`) into chunks.
pub fn split_rows(model: &QuantModel, output: &[i8]) -> Vec<Vec<u8>> {
    let n = model.output_features();
    (0..model.chunk_count())
        .map(|c| {
            let (s, e) = model.chunk_rows(c);
            output[s * n..e * n].iter().map(|&v| v as u8).collect()
        })
        .collect()
}

/// A validated quantized job.
#[derive(Clone, Debug)]
pub struct QuantWorkload {
    pub model: QuantModel,
}

impl QuantWorkload {
    pub fn chunk_count(&self) -> u32 {
        self.model.chunk_count()
    }

    /// Work estimate: multiply-accumulates / 1024, at least 1.
    pub fn work_units(&self) -> u64 {
        (self.model.macs() / 1024).max(1)
    }

    /// The whole job on the CPU.
    pub fn run_cpu(&self) -> Vec<Vec<u8>> {
        let out = run_rows_cpu(&self.model, 0, self.model.rows);
        split_rows(&self.model, &out)
    }

    /// One chunk (row block) on the CPU: only its rows are computed.
    pub fn chunk_cpu(&self, index: u32) -> Result<Vec<u8>, KernelError> {
        let count = self.chunk_count();
        if index >= count {
            return Err(KernelError::ChunkOutOfRange { index, count });
        }
        let (s, e) = self.model.chunk_rows(index);
        Ok(run_rows_cpu(&self.model, s, e)
            .into_iter()
            .map(|v| v as u8)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::synthetic_mlp;

    #[test]
    fn every_path_runs_a_model_to_the_scalar_bytes() {
        // Odd widths and batch sizes: tails in every tile, panel and row block.
        for (seed, rows, widths) in [
            (11, 1, vec![3, 5]),
            (12, 37, vec![129, 67, 1, 250]),
            (13, 200, vec![1000, 333, 64]),
        ] {
            let model = synthetic_mlp(seed, rows, &widths, 16);
            let want = run_rows_cpu_with(gemm::Path::Scalar, &model, 0, rows);
            assert_eq!(want.len(), rows * widths.last().unwrap());
            for path in gemm::Path::supported() {
                assert!(
                    run_rows_cpu_with(path, &model, 0, rows) == want,
                    "{} differs on {widths:?}",
                    path.name()
                );
                if rows > 5 {
                    let part = run_rows_cpu_with(path, &model, 3, rows - 2);
                    let n = model.output_features();
                    assert!(part == want[3 * n..(rows - 2) * n], "{} rows", path.name());
                }
            }
        }
    }

    #[test]
    fn each_layer_is_packed_once_per_path_and_kept() {
        let model = synthetic_mlp(15, 30, &[50, 70, 20], 8);
        let want = run_rows_cpu_with(gemm::Path::Scalar, &model, 0, 30);
        let simd: Vec<gemm::Path> = gemm::Path::supported()
            .into_iter()
            .filter(|&p| p != gemm::Path::Scalar)
            .collect();
        for (i, &path) in simd.iter().enumerate() {
            assert!(run_rows_cpu_with(path, &model, 0, 30) == want);
            let held: Vec<&gemm::PackedWeights> =
                model.layers.iter().map(|l| l.packed(path)).collect();
            for l in &model.layers {
                assert_eq!(l.packed.paths(), simd[..=i].to_vec());
            }
            // A second run (and a chunk of rows) reuses the packing, to the same bytes.
            assert!(run_rows_cpu_with(path, &model, 0, 30) == want);
            assert!(run_rows_cpu_with(path, &model, 8, 16) == want[8 * 20..16 * 20]);
            for (l, p) in model.layers.iter().zip(held) {
                assert!(std::ptr::eq(l.packed(path), p));
            }
        }
        // The scalar reference reads the weights as they are: nothing packed for it.
        for l in &model.layers {
            assert!(!l.packed.paths().contains(&gemm::Path::Scalar));
        }
    }

    #[test]
    fn a_clone_starts_unpacked_and_may_change_its_weights() {
        let model = synthetic_mlp(16, 24, &[40, 36, 12], 8);
        let path = gemm::Path::detected();
        let before = run_rows_cpu(&model, 0, 24);
        let mut changed = model.clone();
        assert!(changed.layers.iter().all(|l| l.packed.paths().is_empty()));
        assert_eq!(changed, model, "the cache takes no part in equality");
        for w in &mut changed.layers[0].weight {
            *w = w.wrapping_neg();
        }
        changed.layers[1].weight[5] ^= 0x55;
        let after = run_rows_cpu_with(path, &changed, 0, 24);
        assert_ne!(after, before);
        assert_eq!(
            after,
            run_rows_cpu_with(gemm::Path::Scalar, &changed, 0, 24)
        );
        // The original kept its own packing and bytes.
        assert_eq!(run_rows_cpu(&model, 0, 24), before);
    }

    #[cfg(debug_assertions)]
    #[test]
    fn weights_changed_after_a_run_are_caught_in_debug_builds() {
        let mut model = synthetic_mlp(17, 12, &[20, 8], 4);
        let _ = run_rows_cpu(&model, 0, 12);
        model.layers[0].weight[3] ^= 1;
        let r = std::panic::catch_unwind(|| run_rows_cpu(&model, 0, 12));
        assert!(r.is_err(), "stale packed weights were used");
    }

    #[test]
    fn the_default_path_is_the_detected_one() {
        let model = synthetic_mlp(14, 20, &[40, 30], 8);
        assert_eq!(
            run_rows_cpu(&model, 0, 20),
            run_rows_cpu_with(gemm::Path::detected(), &model, 0, 20)
        );
    }
}
