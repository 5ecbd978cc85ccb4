//! A job's result: download the output chunks, check each against the Merkle root the job
//! committed to on chain, and assemble them (PNG for renders, safetensors for inference).
//!
//! Nothing read from the store is trusted: the leaves file must hash to the committed root,
//! and each chunk must hash to its leaf; a chunk that does not is named in the error.
use bytes::Bytes;
use tessera_kernels::{KernelId, Workload};

use crate::error::ClientError;
use crate::store::{chunk_uri, leaves_uri, Store};

/// An assembled output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assembled {
    /// A rendered image.
    Png(Vec<u8>),
    /// Inference output: one int8 tensor `output` of shape `[rows, features]`.
    Safetensors(Vec<u8>),
    /// Chunks one after the other (the benchmark kernel).
    Raw(Vec<u8>),
}

impl Assembled {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Assembled::Png(b) | Assembled::Safetensors(b) | Assembled::Raw(b) => b,
        }
    }

    /// The usual file extension.
    pub fn extension(&self) -> &'static str {
        match self {
            Assembled::Png(_) => "png",
            Assembled::Safetensors(_) => "safetensors",
            Assembled::Raw(_) => "bin",
        }
    }
}

/// Downloads the `chunk_count` chunks at `output_uri` and checks every one against `root`.
/// `progress(done, total)` counts chunks.
pub async fn download_verified(
    store: &Store,
    output_uri: &str,
    chunk_count: u32,
    root: &[u8; 32],
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Vec<Vec<u8>>, ClientError> {
    let total = chunk_count as u64;
    progress(0, total);
    let leaves = trusted_leaves(store, output_uri, chunk_count, root).await?;
    let mut chunks = Vec::with_capacity(chunk_count as usize);
    for i in 0..chunk_count {
        let uri = chunk_uri(output_uri, i);
        let chunk = store.get(&uri).await?;
        let leaf = tessera_merkle::leaf_hash(&chunk);
        match &leaves {
            Some(leaves) if leaf != leaves[i as usize] => {
                return Err(ClientError::ChunkMismatch { index: i, uri })
            }
            _ => {}
        }
        chunks.push(chunk.to_vec());
        progress(i as u64 + 1, total);
    }
    if leaves.is_none() && tessera_merkle::root_of_chunks(&chunks) != *root {
        return Err(ClientError::Output(format!(
            "the {chunk_count} chunks at {output_uri} do not hash to the job's committed root, and \
             no valid leaves file says which chunk is wrong; do not use this output"
        )));
    }
    Ok(chunks)
}

/// The leaves file, if present and consistent with `root`. Absent: `None` (the chunks are
/// then checked all together). Present but wrong: an error.
async fn trusted_leaves(
    store: &Store,
    output_uri: &str,
    chunk_count: u32,
    root: &[u8; 32],
) -> Result<Option<Vec<[u8; 32]>>, ClientError> {
    let uri = leaves_uri(output_uri);
    let bytes: Bytes = match store.get(&uri).await {
        Ok(b) => b,
        Err(ClientError::Store(msg)) if msg.ends_with("does not exist") => return Ok(None),
        Err(e) => return Err(e),
    };
    let leaves: Vec<[u8; 32]> = bytes.as_chunks::<32>().0.to_vec();
    if bytes.len() != chunk_count as usize * 32
        || tessera_merkle::root_from_leaves(&leaves) != *root
    {
        return Err(ClientError::Output(format!(
            "{uri} does not match the job's committed root; the stored output was altered or is \
             not this job's: do not use it"
        )));
    }
    Ok(Some(leaves))
}

/// Assembles verified chunks into the file a person wants: the kernel's input (already
/// checked against the job's input hash) says the image size or the tensor shape.
pub fn assemble(
    kernel: KernelId,
    input: &[u8],
    chunks: &[Vec<u8>],
) -> Result<Assembled, ClientError> {
    let job = Workload::parse(kernel, input)
        .map_err(|e| ClientError::Output(format!("the job's input does not parse: {e}")))?;
    if chunks.len() != job.chunk_count() as usize {
        return Err(ClientError::Output(format!(
            "{} chunks, the job has {}",
            chunks.len(),
            job.chunk_count()
        )));
    }
    match &job {
        Workload::Render(r) => {
            let s = &r.scene;
            tessera_kernels::render::tiles_to_png(chunks, s.width, s.height, s.tile_size)
                .map(Assembled::Png)
                .map_err(|e| ClientError::Output(e.to_string()))
        }
        Workload::GemmI8(q) | Workload::MlpI8(q) => {
            let m = &q.model;
            let features = m.output_features();
            for (i, c) in chunks.iter().enumerate() {
                let (s, e) = m.chunk_rows(i as u32);
                if c.len() != (e - s) * features {
                    return Err(ClientError::Output(format!(
                        "chunk {i} is {} bytes, expected {} ({} rows × {features})",
                        c.len(),
                        (e - s) * features,
                        e - s
                    )));
                }
            }
            Ok(Assembled::Safetensors(output_safetensors(
                kernel,
                m.rows,
                features,
                &chunks.concat(),
            )))
        }
        Workload::Benchmark(_) => Ok(Assembled::Raw(chunks.concat())),
    }
}

/// The safetensors file of an int8 output: one I8 tensor `output` of shape `[rows, features]`
/// (`data`, row-major) and the metadata `format` = `tessera.output.v1` and `kernel`.
///
/// Written here rather than by `safetensors::serialize`, which writes the metadata in a hash
/// map's order, different from one process to the next: the same output is always the same
/// bytes (the keys in this order, the header padded with spaces to a multiple of 8 bytes, as
/// the crate pads it), so a file can be compared with another client's (the web app's).
pub fn output_safetensors(kernel: KernelId, rows: usize, features: usize, data: &[u8]) -> Vec<u8> {
    assert_eq!(
        data.len(),
        rows * features,
        "an output is rows × features bytes"
    );
    let mut header = format!(
        r#"{{"__metadata__":{{"format":"tessera.output.v1","kernel":"{}"}},"output":{{"dtype":"I8","shape":[{rows},{features}],"data_offsets":[0,{}]}}}}"#,
        kernel.name(),
        data.len()
    )
    .into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + header.len() + data.len());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_safetensors_is_one_file_the_crate_reads_with_fixed_bytes() {
        let data: Vec<u8> = (0..15u8).map(|i| i.wrapping_mul(37)).collect();
        let file = output_safetensors(KernelId::MlpI8, 3, 5, &data);
        let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0, "the header is padded to a multiple of 8 bytes");
        assert_eq!(file.len(), 8 + n + data.len());
        assert_eq!(&file[8 + n..], &data[..]);
        let header = std::str::from_utf8(&file[8..8 + n]).unwrap();
        assert_eq!(
            header.trim_end_matches(' '),
            r#"{"__metadata__":{"format":"tessera.output.v1","kernel":"mlp-i8"},"output":{"dtype":"I8","shape":[3,5],"data_offsets":[0,15]}}"#
        );
        let st = safetensors::SafeTensors::deserialize(&file).unwrap();
        let t = st.tensor("output").unwrap();
        assert_eq!(t.dtype(), safetensors::Dtype::I8);
        assert_eq!(t.shape(), [3, 5]);
        assert_eq!(t.data(), &data[..]);
        let (_, meta) = safetensors::SafeTensors::read_metadata(&file).unwrap();
        let meta = meta.metadata().as_ref().unwrap();
        assert_eq!(meta["format"], "tessera.output.v1");
        assert_eq!(meta["kernel"], "mlp-i8");
        // The same output is the same bytes; another kernel's name is another header.
        assert_eq!(output_safetensors(KernelId::MlpI8, 3, 5, &data), file);
        assert_ne!(output_safetensors(KernelId::GemmI8, 3, 5, &data), file);
    }

    #[test]
    #[should_panic(expected = "rows × features")]
    fn output_safetensors_refuses_data_of_another_size() {
        output_safetensors(KernelId::GemmI8, 3, 5, &[0; 14]);
    }
}
