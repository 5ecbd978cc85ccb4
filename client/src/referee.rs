//! The referee's proofs, built off chain. For `gemm-i8` jobs a fraud proof: find an element of
//! a delivered chunk that the model does not give, and gather what `prove_fraud` checks it with
//! (the staged bytes, in the program's layout, and the arguments; the program's
//! `instructions/dispute/referee.rs`). For `mlp-i8` jobs whose replicas disagree, each move of
//! the game (`instructions/dispute/game.rs`): the row chain a defender posts, the layer an
//! accuser picks, the rows the defender reveals and the accuser's proof of one element.
use tessera::instructions::{Accuser, FraudArgs, FraudTarget, OpenGameArgs, StepArgs};
use tessera_kernels::quant::{layer_cpu, run_rows_cpu, ModelCommitment, QuantModel};

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
    let commitment = model.commitment();
    let (input_leaves, layer_leaves) = (&commitment.input_leaves, &commitment.layer_leaves[0]);
    let header = commitment.header.clone();
    let mut args = FraudArgs {
        target,
        row: 0,
        feature: 0,
        chunk_len: delivered.len() as u32,
        header,
        input_root: commitment.input_root(),
        layer_root: commitment.layer_roots()[0],
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
    let input_proof = tessera_merkle::proof(input_leaves, start + row);
    let weight_proof = tessera_merkle::proof(layer_leaves, feature);
    let f = layer.feature(feature);
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

// ---- The game for `mlp-i8` jobs whose replicas disagree (`instructions/dispute/game.rs`) ----

/// `open_game`'s arguments: `accuser` accuses slot `defender`'s output row `row` of the model
/// `commitment` is of.
pub fn open_game_args(
    commitment: &ModelCommitment,
    defender: u8,
    accuser: Accuser,
    row: u32,
) -> OpenGameArgs {
    OpenGameArgs {
        defender_slot: defender,
        accuser,
        row,
        header: commitment.header.clone(),
        input_root: commitment.input_root(),
        layer_roots: commitment.layer_roots(),
    }
}

/// Batch row `m` after every layer of `model`, as the CPU reference computes it: index 0 is the
/// input row, index L the output row.
pub fn row_chain(model: &QuantModel, m: usize) -> Vec<Vec<i8>> {
    let k0 = model.layers[0].k;
    let mut rows = vec![model.input[m * k0..(m + 1) * k0].to_vec()];
    for i in 0..model.layers.len() {
        let next = layer_cpu(model, i, rows.last().expect("a row"), 1);
        rows.push(next);
    }
    rows
}

/// What a defender posts with `post_chain`: the hashes of its rows after layers 1 .. L−1.
pub fn chain_hashes(rows: &[Vec<i8>]) -> Vec<[u8; 32]> {
    rows[1..rows.len() - 1]
        .iter()
        .map(|r| tessera_merkle::leaf_hash(as_bytes(r)))
        .collect()
}

/// The layer an accuser picks, knowing the true rows `own` (from [`row_chain`]) and the
/// defender's posted chain: the first layer whose output the defender hashes differently, or
/// the last layer when every posted hash is right (its delivered output row is then the wrong
/// link).
pub fn pick(own: &[Vec<i8>], chain: &[[u8; 32]]) -> u8 {
    chain_hashes(own)
        .iter()
        .zip(chain)
        .position(|(a, b)| a != b)
        .map_or(own.len() - 1, |i| i + 1) as u8
}

/// What a defender stages for `reveal_rows` at layer `layer` of its rows `rows`: the layer's
/// input row (layer > 1), its output row (below the last layer), and for the last layer the
/// delivered chunk holding the row and that chunk's leaf proof under the defender's root.
pub fn revealed_rows(
    rows: &[Vec<i8>],
    layer: u8,
    chunk: &[u8],
    leaf_proof: &[tessera_merkle::Hash],
) -> Vec<u8> {
    let (j, last) = (layer as usize, rows.len() - 1);
    let mut out = Vec::new();
    if j > 1 {
        out.extend_from_slice(as_bytes(&rows[j - 1]));
    }
    if j < last {
        out.extend_from_slice(as_bytes(&rows[j]));
    } else {
        out.extend_from_slice(chunk);
        out.extend(leaf_proof.iter().flatten());
    }
    out
}

/// The accuser's last move: the bytes to stage and `prove_step`'s arguments that prove
/// layer `layer` of the model wrong for batch row `row`, given the defender's revealed input
/// row `x` of that layer (for layer 1 the input row, which the proof stages itself) and its
/// output row `y`; `None` when every element of `y` is what the model gives for `x`.
pub fn step_proof(
    model: &QuantModel,
    commitment: &ModelCommitment,
    row: usize,
    layer: u8,
    x: &[i8],
    y: &[i8],
) -> Option<(Vec<u8>, StepArgs)> {
    let i = layer as usize - 1;
    let l = &model.layers[i];
    let q = tessera_int8::Quantization {
        input_zero_point: model.layer_input_zero_point(i),
        output_zero_point: l.output_zero_point,
        relu: l.relu,
    };
    let weights = |n: usize| &l.weight[n * l.k..(n + 1) * l.k];
    let feature = (0..l.n).find(|&n| {
        y.get(n)
            .is_none_or(|&v| v != tessera_int8::element(x, weights(n), l.feature(n), q))
    })?;
    let mut staged = Vec::new();
    let mut input_proof = Vec::new();
    if i == 0 {
        staged.extend_from_slice(as_bytes(x));
        input_proof = tessera_merkle::proof(&commitment.input_leaves, row);
    }
    staged.extend_from_slice(as_bytes(weights(feature)));
    let weight_proof = tessera_merkle::proof(&commitment.layer_leaves[i], feature);
    staged.extend(input_proof.iter().flatten());
    staged.extend(weight_proof.iter().flatten());
    let f = l.feature(feature);
    Some((
        staged,
        StepArgs {
            feature: feature as u32,
            bias: f.bias,
            multiplier: f.multiplier,
            shift: f.shift,
            input_proof_len: input_proof.len() as u8,
            weight_proof_len: weight_proof.len() as u8,
        },
    ))
}

/// The defender's revealed rows of `game`, read from its locked buffer's data (`data`, the
/// whole account): the layer's input row (`None` for layer 1: the model's input row) and its
/// output row (for the last layer, the accused row of the revealed chunk).
pub fn read_revealed(
    game: &tessera::state::Game,
    data: &[u8],
) -> Result<(Option<Vec<i8>>, Vec<i8>), ClientError> {
    let header = tessera_int8::model::Header::from_bytes(game.header_bytes())
        .ok_or_else(|| ClientError::bad_input("the game's header is not a model's", ""))?;
    let i = game.layer as usize - 1;
    let (k, n) = (header.layers[i].k as usize, header.layers[i].n as usize);
    let rest = data
        .get(tessera::state::BUFFER_DATA_OFFSET..)
        .unwrap_or_default();
    let short = || ClientError::bad_input("the revealed rows buffer is too short", "");
    let mut at = 0;
    let x = if i > 0 {
        at = k;
        Some(rest.get(..k).ok_or_else(short)?.to_vec())
    } else {
        None
    };
    let y = if game.layer < game.layer_count {
        rest.get(at..at + n).ok_or_else(short)?
    } else {
        let row_in_chunk = (game.row % header.rows_per_chunk) as usize;
        rest.get(at + row_in_chunk * n..at + (row_in_chunk + 1) * n)
            .ok_or_else(short)?
    };
    let cast = |b: &[u8]| b.iter().map(|&v| v as i8).collect::<Vec<_>>();
    Ok((x.map(|x| cast(&x)), cast(y)))
}

fn as_bytes(v: &[i8]) -> &[u8] {
    tessera_int8::model::as_bytes(v)
}
