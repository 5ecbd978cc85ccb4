//! The quantized model format: one safetensors file holding the input activations, the layers
//! and their quantization parameters (`docs/kernels.md`, "MLP safetensors layout").

use std::collections::HashMap;
use std::sync::OnceLock;

use safetensors::{Dtype, SafeTensors};

use super::gemm::{PackedWeights, Path};
use super::requant::{MAX_SHIFT, MIN_MULTIPLIER, MIN_SHIFT};
use crate::error::ModelError;
use crate::limits;

/// The value of the `format` metadata entry.
pub const FORMAT: &str = "tessera.qmlp.v1";
/// Rows per output chunk when the file does not say.
pub const DEFAULT_ROWS_PER_CHUNK: u32 = 64;

/// One quantized fully connected layer: `y = requant(bias + Σ_k (x_k - zp_in) · w[n, k])`.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantLayer {
    /// Input features.
    pub k: usize,
    /// Output features.
    pub n: usize,
    /// Weights, `n × k`, row-major (one row per output feature), symmetric (no zero point).
    pub weight: Vec<i8>,
    /// Bias per output feature, in the accumulator's scale.
    pub bias: Vec<i32>,
    /// Q0.31 multiplier per output feature (0 or in [2^30, 2^31)).
    pub multiplier: Vec<i32>,
    /// Power-of-two exponent per output feature (positive = left shift), in -31..=7.
    pub shift: Vec<i32>,
    /// Zero point of this layer's output.
    pub output_zero_point: i32,
    /// Clamp the output at the zero point (ReLU).
    pub relu: bool,
    /// What the CPU derives from `weight` the first time the layer runs, kept for every later
    /// run: `PackedPanels::default()` when building a layer.
    pub packed: PackedPanels,
}

/// What a layer derives from its weights when it first runs on the CPU, built once and kept:
/// the sum of each weight row (for the zero-point fold and the unsigned-activation
/// correction) and the weights packed into panels for each SIMD path the layer runs on.
///
/// A cache, not data: layers with equal fields are equal whatever their caches hold, and a
/// clone of a layer starts with an empty cache, so a clone may have its weights changed. The
/// weights of a layer must not change once it has run (debug builds check it on every run);
/// share a layer that has run through an `Arc` rather than a clone to keep its packing.
#[derive(Default)]
pub struct PackedPanels {
    row_sums: OnceLock<Vec<i32>>,
    /// One slot per path, in the order of [`Path::ALL`].
    panels: [OnceLock<PackedWeights>; Path::ALL.len()],
    /// A hash of the weights the cache was built from.
    #[cfg(debug_assertions)]
    fingerprint: OnceLock<u64>,
}

impl PackedPanels {
    /// The paths whose packing is held.
    pub fn paths(&self) -> Vec<Path> {
        Path::ALL
            .into_iter()
            .zip(&self.panels)
            .filter(|(_, p)| p.get().is_some())
            .map(|(path, _)| path)
            .collect()
    }
}

impl Clone for PackedPanels {
    /// An empty cache: the clone's weights may be changed before it runs.
    fn clone(&self) -> PackedPanels {
        PackedPanels::default()
    }
}

impl PartialEq for PackedPanels {
    /// Always equal: a cache says nothing the layer's other fields do not.
    fn eq(&self, _: &PackedPanels) -> bool {
        true
    }
}

impl std::fmt::Debug for PackedPanels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedPanels")
            .field("row_sums", &self.row_sums.get().is_some())
            .field("paths", &self.paths())
            .finish()
    }
}

impl QuantLayer {
    /// Output feature `n`'s bias and requantisation parameters.
    pub fn feature(&self, n: usize) -> tessera_int8::Feature {
        tessera_int8::Feature {
            bias: self.bias[n],
            multiplier: self.multiplier[n],
            shift: self.shift[n],
        }
    }

    /// `Σ_k w[n, k]` for each output feature n (exact: |Σ| ≤ 128 · 16384), computed once.
    pub fn row_sums(&self) -> &[i32] {
        self.check_unchanged();
        self.packed.row_sums.get_or_init(|| {
            (0..self.n)
                .map(|n| {
                    self.weight[n * self.k..(n + 1) * self.k]
                        .iter()
                        .map(|&w| w as i32)
                        .sum()
                })
                .collect()
        })
    }

    /// The weights packed for `path`, packed on the first call for that path.
    ///
    /// Panics if the CPU does not have the path's instructions.
    pub fn packed(&self, path: Path) -> &PackedWeights {
        self.check_unchanged();
        self.packed.panels[path.slot()]
            .get_or_init(|| PackedWeights::new(path, &self.weight, self.k, self.n))
    }

    /// In debug builds, panics if the weights changed since the cache was first filled.
    fn check_unchanged(&self) {
        #[cfg(debug_assertions)]
        {
            // FNV-1a over the weight bytes and the shape.
            let hash = |w: &[i8]| {
                let shape = [self.k as u64, self.n as u64];
                w.iter()
                    .map(|&b| b as u8 as u64)
                    .chain(shape)
                    .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                        (h ^ b).wrapping_mul(0x0100_0000_01b3)
                    })
            };
            let now = hash(&self.weight);
            let then = *self.packed.fingerprint.get_or_init(|| now);
            assert!(
                now == then,
                "the weights of a layer changed after the layer ran (its packing is kept)"
            );
        }
    }
}

/// A model's commitment (`tessera_int8::model`) with its leaves: the header's bytes, one leaf
/// per input row and one per output feature of each layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelCommitment {
    pub header: Vec<u8>,
    pub input_leaves: Vec<tessera_merkle::Hash>,
    pub layer_leaves: Vec<Vec<tessera_merkle::Hash>>,
}

impl ModelCommitment {
    pub fn input_root(&self) -> tessera_merkle::Hash {
        tessera_merkle::root_from_leaves(&self.input_leaves)
    }

    pub fn layer_roots(&self) -> Vec<tessera_merkle::Hash> {
        self.layer_leaves
            .iter()
            .map(|l| tessera_merkle::root_from_leaves(l))
            .collect()
    }

    /// The model root, the job's `kernel_params`.
    pub fn root(&self) -> [u8; 32] {
        tessera_int8::model::model_root(&self.header, &self.input_root(), &self.layer_roots())
    }
}

/// A quantized MLP with its input batch.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantModel {
    /// Input rows (the batch), `rows × layers[0].k`, row-major.
    pub input: Vec<i8>,
    pub rows: usize,
    /// Zero point of the input activations.
    pub input_zero_point: i32,
    pub layers: Vec<QuantLayer>,
    /// Output rows per chunk.
    pub rows_per_chunk: u32,
}

fn tensor<'a>(
    st: &SafeTensors<'a>,
    name: &str,
) -> Result<safetensors::tensor::TensorView<'a>, ModelError> {
    st.tensor(name)
        .map_err(|_| ModelError::MissingTensor(name.to_string()))
}

fn expect_dtype(
    name: &str,
    t: &safetensors::tensor::TensorView<'_>,
    dtype: Dtype,
    expected: &'static str,
) -> Result<(), ModelError> {
    if t.dtype() != dtype {
        return Err(ModelError::Dtype {
            name: name.to_string(),
            expected,
            found: format!("{:?}", t.dtype()),
        });
    }
    Ok(())
}

fn read_i8(st: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<i8>, ModelError> {
    let t = tensor(st, name)?;
    expect_dtype(name, &t, Dtype::I8, "I8")?;
    if t.shape() != shape {
        return Err(ModelError::Shape {
            name: name.to_string(),
            expected: format!("{shape:?}"),
            found: t.shape().to_vec(),
        });
    }
    Ok(t.data().iter().map(|&b| b as i8).collect())
}

/// An I32 vector of `n` elements; shape `[n]`, or `[1]` broadcast to `n` when `broadcast`.
fn read_i32_vec(
    st: &SafeTensors<'_>,
    name: &str,
    n: usize,
    broadcast: bool,
) -> Result<Vec<i32>, ModelError> {
    let t = tensor(st, name)?;
    expect_dtype(name, &t, Dtype::I32, "I32")?;
    let shape = t.shape();
    let ok = shape == [n] || (broadcast && shape == [1]);
    if !ok {
        return Err(ModelError::Shape {
            name: name.to_string(),
            expected: if broadcast {
                format!("[{n}] or [1]")
            } else {
                format!("[{n}]")
            },
            found: shape.to_vec(),
        });
    }
    let v: Vec<i32> = t
        .data()
        .as_chunks::<4>()
        .0
        .iter()
        .map(|c| i32::from_le_bytes(*c))
        .collect();
    Ok(if v.len() == n { v } else { vec![v[0]; n] })
}

fn meta<'m>(m: &'m HashMap<String, String>, key: &str) -> Result<&'m str, ModelError> {
    m.get(key)
        .map(String::as_str)
        .ok_or_else(|| ModelError::MissingMetadata(key.to_string()))
}

fn meta_int(m: &HashMap<String, String>, key: &str, min: i64, max: i64) -> Result<i64, ModelError> {
    let s = meta(m, key)?;
    let v: i64 = s.trim().parse().map_err(|_| ModelError::BadMetadata {
        key: key.to_string(),
        value: s.to_string(),
        reason: "not an integer".into(),
    })?;
    if v < min || v > max {
        return Err(ModelError::BadMetadata {
            key: key.to_string(),
            value: s.to_string(),
            reason: format!("outside {min}..={max}"),
        });
    }
    Ok(v)
}

fn meta_bool(m: &HashMap<String, String>, key: &str) -> Result<bool, ModelError> {
    match meta(m, key)? {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ModelError::BadMetadata {
            key: key.to_string(),
            value: other.to_string(),
            reason: "expected `true` or `false`".into(),
        }),
    }
}

fn limit(what: &'static str, value: u64, min: u64, max: u64) -> Result<(), ModelError> {
    if value < min || value > max {
        return Err(ModelError::Limit {
            what,
            value,
            min,
            max,
        });
    }
    Ok(())
}

fn check_values(
    name: &str,
    v: &[i32],
    ok: impl Fn(i32) -> bool,
    min: i64,
    max: i64,
) -> Result<(), ModelError> {
    if let Some((index, &value)) = v.iter().enumerate().find(|(_, &x)| !ok(x)) {
        return Err(ModelError::Value {
            name: name.to_string(),
            index,
            value: value as i64,
            min,
            max,
        });
    }
    Ok(())
}

impl QuantModel {
    /// Parses and validates a model from safetensors bytes.
    pub fn from_safetensors(bytes: &[u8]) -> Result<QuantModel, ModelError> {
        if bytes.len() > limits::MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge {
                bytes: bytes.len(),
                max: limits::MAX_MODEL_BYTES,
            });
        }
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| ModelError::SafeTensors(e.to_string()))?;
        let empty = HashMap::new();
        let m = header.metadata().as_ref().unwrap_or(&empty);
        let st =
            SafeTensors::deserialize(bytes).map_err(|e| ModelError::SafeTensors(e.to_string()))?;

        let format = meta(m, "format")?;
        if format != FORMAT {
            return Err(ModelError::BadMetadata {
                key: "format".into(),
                value: format.to_string(),
                reason: format!("expected `{FORMAT}`"),
            });
        }
        let n_layers = meta_int(m, "layers", 1, limits::MAX_LAYERS as i64)? as usize;
        let input_zero_point = meta_int(m, "input_zero_point", -128, 127)? as i32;
        let rows_per_chunk = if m.contains_key("rows_per_chunk") {
            meta_int(m, "rows_per_chunk", 1, limits::MAX_ROWS as i64)? as u32
        } else {
            DEFAULT_ROWS_PER_CHUNK
        };

        // Shapes first, so that no tensor is copied before all sizes are known to be in range.
        let input_view = tensor(&st, "input")?;
        expect_dtype("input", &input_view, Dtype::I8, "I8")?;
        let shape = input_view.shape();
        if shape.len() != 2 {
            return Err(ModelError::Shape {
                name: "input".into(),
                expected: "[rows, features]".into(),
                found: shape.to_vec(),
            });
        }
        let (rows, k0) = (shape[0], shape[1]);
        limit("input rows", rows as u64, 1, limits::MAX_ROWS)?;
        let mut k = k0;
        let mut dims = Vec::with_capacity(n_layers);
        for i in 0..n_layers {
            let name = format!("layers.{i}.weight");
            let w = tensor(&st, &name)?;
            expect_dtype(&name, &w, Dtype::I8, "I8")?;
            let s = w.shape();
            if s.len() != 2 || s[1] != k {
                return Err(ModelError::Shape {
                    name,
                    expected: format!("[out_features, {k}]"),
                    found: s.to_vec(),
                });
            }
            let n = s[0];
            limit("input features", k as u64, 1, limits::MAX_FEATURES)?;
            limit("output features", n as u64, 1, limits::MAX_FEATURES)?;
            limit(
                "weights in one layer",
                (n * k) as u64,
                1,
                limits::MAX_WEIGHTS,
            )?;
            limit(
                "activations in one layer",
                (rows as u64) * (k.max(n) as u64),
                1,
                limits::MAX_ACTIVATIONS,
            )?;
            dims.push((k, n));
            k = n;
        }
        let macs: u128 = dims
            .iter()
            .map(|&(k, n)| rows as u128 * k as u128 * n as u128)
            .sum();
        if macs > limits::MAX_MACS {
            return Err(ModelError::Limit {
                what: "multiply-accumulates",
                value: macs.min(u64::MAX as u128) as u64,
                min: 1,
                max: limits::MAX_MACS as u64,
            });
        }
        let expected_tensors = 1 + 4 * n_layers;
        if st.len() != expected_tensors {
            let known: Vec<String> = std::iter::once("input".to_string())
                .chain((0..n_layers).flat_map(|i| {
                    ["weight", "bias", "multiplier", "shift"].map(|t| format!("layers.{i}.{t}"))
                }))
                .collect();
            if let Some(extra) = st
                .names()
                .into_iter()
                .find(|n| !known.iter().any(|k| k == n))
            {
                return Err(ModelError::UnexpectedTensor(extra.to_string()));
            }
        }

        let input = read_i8(&st, "input", &[rows, k0])?;
        let mut layers = Vec::with_capacity(n_layers);
        for (i, &(k, n)) in dims.iter().enumerate() {
            let weight = read_i8(&st, &format!("layers.{i}.weight"), &[n, k])?;
            let bias_name = format!("layers.{i}.bias");
            let bias = read_i32_vec(&st, &bias_name, n, false)?;
            let max_bias = limits::MAX_ABS_BIAS;
            check_values(
                &bias_name,
                &bias,
                |b| (b as i64).abs() <= max_bias,
                -max_bias,
                max_bias,
            )?;
            let mul_name = format!("layers.{i}.multiplier");
            let multiplier = read_i32_vec(&st, &mul_name, n, true)?;
            check_values(
                &mul_name,
                &multiplier,
                |m| m == 0 || m >= MIN_MULTIPLIER,
                MIN_MULTIPLIER as i64,
                i32::MAX as i64,
            )?;
            let shift_name = format!("layers.{i}.shift");
            let shift = read_i32_vec(&st, &shift_name, n, true)?;
            check_values(
                &shift_name,
                &shift,
                |s| (MIN_SHIFT..=MAX_SHIFT).contains(&s),
                MIN_SHIFT as i64,
                MAX_SHIFT as i64,
            )?;
            let output_zero_point =
                meta_int(m, &format!("layers.{i}.output_zero_point"), -128, 127)? as i32;
            let relu = meta_bool(m, &format!("layers.{i}.relu"))?;
            layers.push(QuantLayer {
                k,
                n,
                weight,
                bias,
                multiplier,
                shift,
                output_zero_point,
                relu,
                packed: PackedPanels::default(),
            });
        }
        Ok(QuantModel {
            input,
            rows,
            input_zero_point,
            layers,
            rows_per_chunk,
        })
    }

    /// Serializes the model to safetensors bytes (the format `from_safetensors` reads).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), FORMAT.to_string());
        meta.insert("layers".to_string(), self.layers.len().to_string());
        meta.insert(
            "input_zero_point".to_string(),
            self.input_zero_point.to_string(),
        );
        meta.insert(
            "rows_per_chunk".to_string(),
            self.rows_per_chunk.to_string(),
        );
        let as_u8 = |v: &[i8]| v.iter().map(|&x| x as u8).collect::<Vec<u8>>();
        let as_le = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = vec![(
            "input".into(),
            Dtype::I8,
            vec![self.rows, self.layers.first().map_or(0, |l| l.k)],
            as_u8(&self.input),
        )];
        for (i, l) in self.layers.iter().enumerate() {
            meta.insert(
                format!("layers.{i}.output_zero_point"),
                l.output_zero_point.to_string(),
            );
            meta.insert(format!("layers.{i}.relu"), l.relu.to_string());
            owned.push((
                format!("layers.{i}.weight"),
                Dtype::I8,
                vec![l.n, l.k],
                as_u8(&l.weight),
            ));
            owned.push((
                format!("layers.{i}.bias"),
                Dtype::I32,
                vec![l.n],
                as_le(&l.bias),
            ));
            owned.push((
                format!("layers.{i}.multiplier"),
                Dtype::I32,
                vec![l.n],
                as_le(&l.multiplier),
            ));
            owned.push((
                format!("layers.{i}.shift"),
                Dtype::I32,
                vec![l.n],
                as_le(&l.shift),
            ));
        }
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
            .iter()
            .map(|(name, dtype, shape, data)| {
                (
                    name.clone(),
                    safetensors::tensor::TensorView::new(*dtype, shape.clone(), data)
                        .expect("shape and data agree"),
                )
            })
            .collect();
        safetensors::serialize(views, Some(meta)).expect("a model always serializes")
    }

    /// Output features of the last layer.
    pub fn output_features(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n)
    }

    /// Number of output chunks (row blocks).
    pub fn chunk_count(&self) -> u32 {
        (self.rows as u32).div_ceil(self.rows_per_chunk)
    }

    /// Rows `[start, end)` of chunk `index`.
    pub fn chunk_rows(&self, index: u32) -> (usize, usize) {
        let start = index as usize * self.rows_per_chunk as usize;
        (start, (start + self.rows_per_chunk as usize).min(self.rows))
    }

    /// Multiply-accumulates of the whole job.
    pub fn macs(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| (self.rows * l.k * l.n) as u64)
            .sum()
    }

    /// Zero point of the input of layer `i`.
    pub fn layer_input_zero_point(&self, i: usize) -> i32 {
        if i == 0 {
            self.input_zero_point
        } else {
            self.layers[i - 1].output_zero_point
        }
    }

    /// The model's header in the commitment (`tessera_int8::model`): its shape, no weights.
    pub fn header(&self) -> tessera_int8::model::Header {
        tessera_int8::model::Header {
            rows: self.rows as u32,
            rows_per_chunk: self.rows_per_chunk,
            input_zero_point: self.input_zero_point as i8,
            layers: self
                .layers
                .iter()
                .map(|l| tessera_int8::model::LayerShape {
                    k: l.k as u32,
                    n: l.n as u32,
                    output_zero_point: l.output_zero_point as i8,
                    relu: l.relu,
                })
                .collect(),
        }
    }

    /// The commitment to this model that a creator posts in the job's `kernel_params`: its
    /// header, input rows and weight rows under one root (`tessera_int8::model`). Hashes the
    /// whole model once (about 1 GB/s on one core).
    pub fn model_root(&self) -> [u8; 32] {
        self.commitment().root()
    }

    /// The model's commitment with every leaf, from which the referee's Merkle proofs are
    /// drawn.
    pub fn commitment(&self) -> ModelCommitment {
        use tessera_int8::model::{feature_leaf, input_row_leaf};
        let k0 = self.layers[0].k;
        let input_leaves = self.input.chunks_exact(k0).map(input_row_leaf).collect();
        let layer_leaves = self
            .layers
            .iter()
            .map(|l| {
                (0..l.n)
                    .map(|n| feature_leaf(&l.weight[n * l.k..(n + 1) * l.k], l.feature(n)))
                    .collect()
            })
            .collect();
        ModelCommitment {
            header: self.header().to_bytes(),
            input_leaves,
            layer_leaves,
        }
    }

    /// Bias with the input zero point folded in: `bias[n] - zp_in · Σ_k w[n, k]`, exact in
    /// int32 within the limits. Both backends accumulate `Σ x·w` and add this. The row sums
    /// are computed once per layer ([`QuantLayer::row_sums`]).
    pub fn folded_bias(&self, i: usize) -> Vec<i32> {
        let l = &self.layers[i];
        let zp = self.layer_input_zero_point(i);
        l.bias
            .iter()
            .zip(l.row_sums())
            .map(|(&b, &wsum)| b - zp * wsum)
            .collect()
    }
}
