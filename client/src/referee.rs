//! The referee's fraud proofs for `gemm-i8` jobs, built off chain: find an element of a
//! delivered chunk that the model does not give, and gather what `prove_fraud` checks it with
//! (the staged bytes, in the program's layout, and the arguments). See the program's
//! `instructions/dispute/referee.rs`.
use tessera::instructions::{FraudArgs, FraudTarget};
use tessera_int8::model::{feature_leaf, input_row_leaf};
use tessera_kernels::quant::{run_rows_cpu, QuantModel};

use crate::error::ClientError;

/// A fraud proof: the bytes to stage in a buffer, and `prove_fraud`'s arguments.
#[derive(Clone, Debug)]
pub struct FraudProof {
    pub staged: Vec<u8>,
    pub args: FraudArgs,
}

/// The proof that `delivered` (chunk `chunk` of a `gemm-i8` job's output, accused by
/// `target`) is not what `model` gives; `None` when it is. A chunk of the wrong size is proven
/// wrong by its size; otherwise the proof names the first wrong element. `leaf_proof` proves the
/// chunk's leaf under the accused slot's root (a slot target; empty for a challenge, whose leaf
/// the program already holds).
pub fn gemm_fraud_proof(
    model: &QuantModel,
    target: FraudTarget,
    chunk: u32,
    delivered: &[u8],
    leaf_proof: &[tessera_merkle::Hash],
) -> Result<Option<FraudProof>, ClientError> {
    if let FraudTarget::Slot { chunk: c, .. } = target {
        assert_eq!(c, chunk, "a slot target names the chunk");
    }
    if model.layers.len() != 1 {
        return Err(ClientError::bad_input(
            "the referee proves gemm-i8 results: the model has more than one layer",
            "disputes over mlp-i8 jobs go to the arbiter",
        ));
    }
    if chunk >= model.chunk_count() {
        return Err(ClientError::bad_input(
            format!("chunk {chunk} is out of range"),
            "name a chunk of the job's output",
        ));
    }
    let layer = &model.layers[0];
    let (k, n) = (layer.k, layer.n);
    let (start, end) = model.chunk_rows(chunk);
    let header = model.header().to_bytes();
    let input_leaves: Vec<_> = model.input.chunks_exact(k).map(input_row_leaf).collect();
    let feature_of = |f: usize| tessera_int8::Feature {
        bias: layer.bias[f],
        multiplier: layer.multiplier[f],
        shift: layer.shift[f],
    };
    let layer_leaves: Vec<_> = (0..n)
        .map(|f| feature_leaf(&layer.weight[f * k..(f + 1) * k], feature_of(f)))
        .collect();
    let mut args = FraudArgs {
        target,
        row: 0,
        feature: 0,
        chunk_len: delivered.len() as u32,
        header,
        input_root: tessera_merkle::root_from_leaves(&input_leaves),
        layer_root: tessera_merkle::root_from_leaves(&layer_leaves),
        bias: 0,
        multiplier: 0,
        shift: 0,
        input_proof_len: 0,
        weight_proof_len: 0,
        leaf_proof_len: leaf_proof.len() as u8,
    };
    let mut staged = delivered.to_vec();
    if delivered.len() != (end - start) * n {
        staged.extend(leaf_proof.iter().flatten());
        return Ok(Some(FraudProof { staged, args }));
    }
    let computed = run_rows_cpu(model, start, end);
    let Some(wrong) = computed
        .iter()
        .zip(delivered)
        .position(|(&c, &d)| c as u8 != d)
    else {
        return Ok(None);
    };
    let (row, feature) = (wrong / n, wrong % n);
    let input_proof = tessera_merkle::proof(&input_leaves, start + row);
    let weight_proof = tessera_merkle::proof(&layer_leaves, feature);
    let f = feature_of(feature);
    args.row = row as u32;
    args.feature = feature as u32;
    args.bias = f.bias;
    args.multiplier = f.multiplier;
    args.shift = f.shift;
    args.input_proof_len = input_proof.len() as u8;
    args.weight_proof_len = weight_proof.len() as u8;
    let x = &model.input[(start + row) * k..(start + row + 1) * k];
    staged.extend_from_slice(tessera_int8::model::as_bytes(x));
    staged.extend_from_slice(tessera_int8::model::as_bytes(
        &layer.weight[feature * k..(feature + 1) * k],
    ));
    staged.extend(input_proof.iter().flatten());
    staged.extend(weight_proof.iter().flatten());
    staged.extend(leaf_proof.iter().flatten());
    Ok(Some(FraudProof { staged, args }))
}
