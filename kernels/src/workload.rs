//! Workloads: a kernel id and an input blob in, chunks and their Merkle root out.
//!
//! A [`Workload`] is what a job's input means once parsed and validated; the on-chain account
//! that carries the job (escrow, slots, state) is `tessera::state::Job`.

use rayon::prelude::*;

use crate::backend::Backend;
use crate::benchmark::BenchmarkWorkload;
use crate::error::KernelError;
use crate::quant::{self, QuantModel, QuantWorkload};
use crate::registry::KernelId;
use crate::render::{tiles, RenderWorkload};

/// A job's input, parsed and validated for its kernel: ready to run, nothing computed yet.
#[derive(Clone, Debug)]
pub enum Workload {
    Render(RenderWorkload),
    GemmI8(QuantWorkload),
    MlpI8(QuantWorkload),
    Benchmark(BenchmarkWorkload),
}

/// The output of a job: its chunks, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub chunks: Vec<Vec<u8>>,
}

impl Output {
    /// Leaf hashes of the chunks (computed on all cores).
    pub fn leaves(&self) -> Vec<[u8; 32]> {
        self.chunks
            .par_iter()
            .map(|c| tessera_merkle::leaf_hash(c))
            .collect()
    }

    /// The Merkle root committed on chain.
    pub fn root(&self) -> [u8; 32] {
        tessera_merkle::root_from_leaves(&self.leaves())
    }

    /// The Merkle proof of chunk `index`.
    pub fn proof(&self, index: u32) -> Result<Vec<[u8; 32]>, KernelError> {
        let count = self.chunks.len() as u32;
        if index >= count {
            return Err(KernelError::ChunkOutOfRange { index, count });
        }
        Ok(tessera_merkle::proof(&self.leaves(), index as usize))
    }

    /// Total output size in bytes.
    pub fn total_bytes(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }
}

impl Workload {
    /// Parses and validates the input blob of a job running `kernel`. Nothing is computed:
    /// a worker calls this before claiming, so that a bad input is never claimed.
    pub fn parse(kernel: KernelId, input: &[u8]) -> Result<Workload, KernelError> {
        match kernel {
            KernelId::Render => Ok(Workload::Render(RenderWorkload::from_json(input)?)),
            KernelId::GemmI8 => {
                let model = QuantModel::from_safetensors(input)?;
                if model.layers.len() != 1 {
                    return Err(KernelError::Input {
                        kernel,
                        expected: "a model of exactly one layer (use mlp-i8 for more)",
                    });
                }
                Ok(Workload::GemmI8(QuantWorkload { model }))
            }
            KernelId::MlpI8 => Ok(Workload::MlpI8(QuantWorkload {
                model: QuantModel::from_safetensors(input)?,
            })),
            KernelId::Benchmark => {
                if !input.is_empty() {
                    return Err(KernelError::Input {
                        kernel,
                        expected: "an empty input (its workload is built in)",
                    });
                }
                Ok(Workload::Benchmark(BenchmarkWorkload::get().clone()))
            }
        }
    }

    pub fn kernel(&self) -> KernelId {
        match self {
            Workload::Render(_) => KernelId::Render,
            Workload::GemmI8(_) => KernelId::GemmI8,
            Workload::MlpI8(_) => KernelId::MlpI8,
            Workload::Benchmark(_) => KernelId::Benchmark,
        }
    }

    /// The job's `kernel_params` on chain: for the int8 kernels the model root
    /// ([`QuantModel::model_root`](crate::quant::QuantModel::model_root)), which a worker
    /// checks before it claims and the referee proves rows against; zeros for the others.
    pub fn kernel_params(&self) -> [u8; 32] {
        match self {
            Workload::GemmI8(q) | Workload::MlpI8(q) => q.model.model_root(),
            Workload::Render(_) | Workload::Benchmark(_) => [0; 32],
        }
    }

    /// Number of output chunks (the job's `chunk_count` on chain).
    pub fn chunk_count(&self) -> u32 {
        match self {
            Workload::Render(r) => r.chunk_count(),
            Workload::GemmI8(q) | Workload::MlpI8(q) => q.chunk_count(),
            Workload::Benchmark(b) => b.chunk_count(),
        }
    }

    /// An estimate of the work, for pricing: render ≈ rays weighted by scene complexity,
    /// quantized ≈ multiply-accumulates / 1024.
    pub fn work_units(&self) -> u64 {
        match self {
            Workload::Render(r) => r.work_units(),
            Workload::GemmI8(q) | Workload::MlpI8(q) => q.work_units(),
            Workload::Benchmark(b) => b.work_units(),
        }
    }

    /// Runs the whole job.
    pub fn run(&self, backend: &Backend) -> Result<Output, KernelError> {
        let chunks = match self {
            Workload::Render(r) => run_render(r, backend)?,
            Workload::GemmI8(q) | Workload::MlpI8(q) => run_quant(q, backend)?,
            Workload::Benchmark(b) => {
                // By reference: the MLP keeps its packed weights from one call to the next.
                let mut chunks = run_render(&b.render, backend)?;
                chunks.extend(run_quant(&b.mlp, backend)?);
                chunks
            }
        };
        debug_assert_eq!(chunks.len(), self.chunk_count() as usize);
        Ok(Output { chunks })
    }

    /// Computes chunk `index` alone (one tile, one row block): what a verifier re-runs.
    pub fn chunk(&self, backend: &Backend, index: u32) -> Result<Vec<u8>, KernelError> {
        let count = self.chunk_count();
        if index >= count {
            return Err(KernelError::ChunkOutOfRange { index, count });
        }
        match self {
            Workload::Render(r) => chunk_render(r, backend, index),
            Workload::GemmI8(q) | Workload::MlpI8(q) => chunk_quant(q, backend, index),
            Workload::Benchmark(b) => {
                let rc = b.render.chunk_count();
                if index < rc {
                    chunk_render(&b.render, backend, index)
                } else {
                    chunk_quant(&b.mlp, backend, index - rc)
                }
            }
        }
    }
}

fn run_render(r: &RenderWorkload, backend: &Backend) -> Result<Vec<Vec<u8>>, KernelError> {
    Ok(match backend {
        Backend::Cpu => r.render_cpu(),
        Backend::Cuda(dev) => {
            let s = &r.scene;
            let image = dev.render_rect(&r.prepared, 0, 0, s.width, s.height)?;
            tiles::split_into_tiles(&image, s.width, s.height, s.tile_size)
        }
    })
}

/// Tile `index` (in range).
fn chunk_render(r: &RenderWorkload, backend: &Backend, index: u32) -> Result<Vec<u8>, KernelError> {
    match backend {
        Backend::Cpu => r.render_tile_cpu(index),
        Backend::Cuda(dev) => {
            let (x, y, w, h) = r.tile_rect(index);
            Ok(dev.render_rect(&r.prepared, x, y, w, h)?)
        }
    }
}

fn run_quant(q: &QuantWorkload, backend: &Backend) -> Result<Vec<Vec<u8>>, KernelError> {
    Ok(match backend {
        Backend::Cpu => q.run_cpu(),
        Backend::Cuda(dev) => {
            let out = dev.mlp_rows(&q.model, 0, q.model.rows)?;
            quant::split_rows(&q.model, &out)
        }
    })
}

/// Row block `index` (in range).
fn chunk_quant(q: &QuantWorkload, backend: &Backend, index: u32) -> Result<Vec<u8>, KernelError> {
    match backend {
        Backend::Cpu => q.chunk_cpu(index),
        Backend::Cuda(dev) => {
            let (s, e) = q.model.chunk_rows(index);
            Ok(dev
                .mlp_rows(&q.model, s, e)?
                .into_iter()
                .map(|v| v as u8)
                .collect())
        }
    }
}

/// Computes chunk `index` of a job on the CPU reference, from the kernel id and input blob
/// alone: a verifier's entry point.
pub fn recompute_chunk(kernel: KernelId, input: &[u8], index: u32) -> Result<Vec<u8>, KernelError> {
    Workload::parse(kernel, input)?.chunk(&Backend::Cpu, index)
}

/// The Merkle root of any list of chunks.
pub fn merkle_root<C: AsRef<[u8]>>(chunks: &[C]) -> [u8; 32] {
    tessera_merkle::root_of_chunks(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::gemm::{PackedWeights, Path};

    fn send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn workloads_are_send_sync_and_clone() {
        send_sync_clone::<Workload>();
        send_sync_clone::<QuantWorkload>();
        send_sync_clone::<BenchmarkWorkload>();
    }

    #[test]
    fn a_chunk_recompute_keeps_the_packed_weights_of_the_job() {
        let model = crate::benchmark::synthetic_mlp(21, 40, &[33, 70, 9], 16);
        let input = model.to_safetensors();
        let job = Workload::parse(KernelId::MlpI8, &input).unwrap();
        let Workload::MlpI8(q) = &job else {
            unreachable!()
        };
        assert!(q.model.layers.iter().all(|l| l.packed.paths().is_empty()));
        let first = job.chunk(&Backend::Cpu, 1).unwrap();
        let path = Path::detected();
        let panels: Vec<&PackedWeights> = q.model.layers.iter().map(|l| l.packed(path)).collect();
        if path != Path::Scalar {
            for l in &q.model.layers {
                assert_eq!(l.packed.paths(), vec![path]);
            }
        }
        // Later chunks and the whole run use the same packing and give the same bytes.
        assert_eq!(job.chunk(&Backend::Cpu, 1).unwrap(), first);
        let whole = job.run(&Backend::Cpu).unwrap();
        assert_eq!(whole.chunks[1], first);
        assert_eq!(whole.chunks.len(), 3);
        for (l, p) in q.model.layers.iter().zip(panels) {
            assert!(std::ptr::eq(l.packed(path), p));
        }
        // A verifier starting from the input alone gets the same chunk.
        assert_eq!(recompute_chunk(KernelId::MlpI8, &input, 1).unwrap(), first);
    }

    #[test]
    fn the_benchmark_mlp_is_packed_once_across_calls() {
        let job = Workload::parse(KernelId::Benchmark, &[]).unwrap();
        let Workload::Benchmark(b) = &job else {
            unreachable!()
        };
        let rc = b.render.chunk_count();
        let first = job.chunk(&Backend::Cpu, rc).unwrap();
        let path = Path::detected();
        let panels: Vec<&PackedWeights> =
            b.mlp.model.layers.iter().map(|l| l.packed(path)).collect();
        assert_eq!(job.chunk(&Backend::Cpu, rc).unwrap(), first);
        for (l, p) in b.mlp.model.layers.iter().zip(panels) {
            assert!(std::ptr::eq(l.packed(path), p));
        }
        assert!(matches!(
            job.chunk(&Backend::Cpu, job.chunk_count()),
            Err(KernelError::ChunkOutOfRange { .. })
        ));
    }
}
