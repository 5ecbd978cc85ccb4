//! The commitment to an int8 model, posted by its creator in a job's `kernel_params`: what
//! lets the on-chain referee check one input row and one weight row of a model it cannot
//! read (a model file is up to 512 MiB).
//!
//! ```text
//! model root  = sha256(0x02 ‖ header ‖ input_root ‖ layer_root_0 ‖ … ‖ layer_root_{L−1})
//! header      = "tessera.qmlp.v1" ‖ rows u32 ‖ rows_per_chunk u32 ‖ L u8 ‖ input_zp i8
//!               ‖ per layer: k u32 ‖ n u32 ‖ output_zp i8 ‖ relu u8          (little-endian)
//! input_root  = Merkle root (tessera-merkle) over input rows:   leaf = sha256(0x00 ‖ x[m, 0..k0))
//! layer_root  = Merkle root over the layer's features:          leaf = sha256(0x00 ‖ w[n, 0..k)
//!               ‖ bias[n] ‖ multiplier[n] ‖ shift[n])                          (i32 LE)
//! ```
//!
//! A worker refuses a job whose model does not hash to its `kernel_params`, so a creator who
//! posts another root only has its job expire back to it.
use alloc::vec::Vec;
use tessera_merkle::{leaf_hash, sha256, Hash};

use crate::Feature;

/// Domain-separation prefix of a model root (after the Merkle tree's 0x00 leaf and 0x01 node).
pub const MODEL_PREFIX: u8 = 0x02;
/// The header's leading tag: the version of this layout.
pub const HEADER_TAG: &[u8; 15] = b"tessera.qmlp.v1";
/// Bytes of a layer in the header.
pub const LAYER_HEADER_BYTES: usize = 10;
/// Most layers a model has.
pub const MAX_LAYERS: usize = 16;
/// Bytes of the header before the layers.
pub const HEADER_FIXED_BYTES: usize = HEADER_TAG.len() + 4 + 4 + 1 + 1;

/// A layer's shape and output quantization, as the header records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerShape {
    pub k: u32,
    pub n: u32,
    pub output_zero_point: i8,
    pub relu: bool,
}

/// The model's header: its shape, without any weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub rows: u32,
    pub rows_per_chunk: u32,
    pub input_zero_point: i8,
    pub layers: Vec<LayerShape>,
}

impl Header {
    /// The header's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(HEADER_FIXED_BYTES + LAYER_HEADER_BYTES * self.layers.len());
        out.extend_from_slice(HEADER_TAG);
        out.extend_from_slice(&self.rows.to_le_bytes());
        out.extend_from_slice(&self.rows_per_chunk.to_le_bytes());
        out.push(self.layers.len() as u8);
        out.push(self.input_zero_point as u8);
        for l in &self.layers {
            out.extend_from_slice(&l.k.to_le_bytes());
            out.extend_from_slice(&l.n.to_le_bytes());
            out.push(l.output_zero_point as u8);
            out.push(l.relu as u8);
        }
        out
    }

    /// Reads a header; `None` if the bytes are not one (wrong tag or length, a relu byte
    /// other than 0 or 1).
    pub fn from_bytes(bytes: &[u8]) -> Option<Header> {
        let rest = bytes.strip_prefix(HEADER_TAG.as_slice())?;
        if rest.len() < 10 {
            return None;
        }
        let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let count = rest[8] as usize;
        let layers_bytes = &rest[10..];
        if layers_bytes.len() != count * LAYER_HEADER_BYTES {
            return None;
        }
        let mut layers = Vec::with_capacity(count);
        for l in layers_bytes.as_chunks::<LAYER_HEADER_BYTES>().0 {
            if l[9] > 1 {
                return None;
            }
            layers.push(LayerShape {
                k: u32_at(l, 0),
                n: u32_at(l, 4),
                output_zero_point: l[8] as i8,
                relu: l[9] == 1,
            });
        }
        Some(Header {
            rows: u32_at(rest, 0),
            rows_per_chunk: u32_at(rest, 4),
            input_zero_point: rest[9] as i8,
            layers,
        })
    }

    /// The zero point of layer `i`'s input.
    pub fn layer_input_zero_point(&self, i: usize) -> i32 {
        match i {
            0 => self.input_zero_point as i32,
            _ => self.layers[i - 1].output_zero_point as i32,
        }
    }
}

/// The leaf of one input row.
pub fn input_row_leaf(row: &[i8]) -> Hash {
    leaf_hash(as_bytes(row))
}

/// The leaf of one output feature of a layer: its weight row and its parameters.
pub fn feature_leaf(weights: &[i8], feature: Feature) -> Hash {
    sha256(&[
        &[tessera_merkle::LEAF_PREFIX],
        as_bytes(weights),
        &feature.bias.to_le_bytes(),
        &feature.multiplier.to_le_bytes(),
        &feature.shift.to_le_bytes(),
    ])
}

/// The model root over the header's bytes, the input rows' root and each layer's root.
pub fn model_root(header: &[u8], input_root: &Hash, layer_roots: &[Hash]) -> Hash {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(3 + layer_roots.len());
    parts.push(&[MODEL_PREFIX]);
    parts.push(header);
    parts.push(input_root);
    for r in layer_roots {
        parts.push(r);
    }
    sha256(&parts)
}

/// `i8`s as the bytes they are.
pub fn as_bytes(v: &[i8]) -> &[u8] {
    // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is valid.
    unsafe { core::slice::from_raw_parts(v.as_ptr().cast(), v.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn header() -> Header {
        Header {
            rows: 4096,
            rows_per_chunk: 1,
            input_zero_point: -3,
            layers: vec![
                LayerShape {
                    k: 256,
                    n: 128,
                    output_zero_point: 5,
                    relu: true,
                },
                LayerShape {
                    k: 128,
                    n: 10,
                    output_zero_point: -128,
                    relu: false,
                },
            ],
        }
    }

    #[test]
    fn header_round_trips_and_refuses_what_it_is_not() {
        let h = header();
        let bytes = h.to_bytes();
        assert_eq!(bytes.len(), HEADER_FIXED_BYTES + 2 * LAYER_HEADER_BYTES);
        assert_eq!(Header::from_bytes(&bytes), Some(h.clone()));
        assert_eq!(h.layer_input_zero_point(0), -3);
        assert_eq!(h.layer_input_zero_point(1), 5);
        assert_eq!(Header::from_bytes(&bytes[..bytes.len() - 1]), None);
        let mut bad_tag = bytes.clone();
        bad_tag[0] ^= 1;
        assert_eq!(Header::from_bytes(&bad_tag), None);
        let mut bad_relu = bytes.clone();
        *bad_relu.last_mut().unwrap() = 2;
        assert_eq!(Header::from_bytes(&bad_relu), None);
        // The largest header (16 layers) fits in a transaction with room to spare.
        let mut big = h;
        big.layers = vec![big.layers[0]; 16];
        assert_eq!(big.to_bytes().len(), 185);
    }

    #[test]
    fn every_part_changes_the_root() {
        let h = header().to_bytes();
        let input = [1u8; 32];
        let layers = [[2u8; 32], [3u8; 32]];
        let root = model_root(&h, &input, &layers);
        let mut other = h.clone();
        other[HEADER_TAG.len()] ^= 1;
        assert_ne!(model_root(&other, &input, &layers), root);
        assert_ne!(model_root(&h, &[9; 32], &layers), root);
        assert_ne!(model_root(&h, &input, &[[2; 32], [4; 32]]), root);
        assert_ne!(model_root(&h, &input, &layers[..1]), root);
        let f = Feature {
            bias: 1,
            multiplier: 1 << 30,
            shift: -1,
        };
        let leaf = feature_leaf(&[1, -1], f);
        assert_ne!(feature_leaf(&[1, -1], Feature { bias: 2, ..f }), leaf);
        assert_ne!(feature_leaf(&[1, -1], Feature { shift: 0, ..f }), leaf);
        assert_ne!(feature_leaf(&[1, 1], f), leaf);
        assert_eq!(input_row_leaf(&[1, -1]), leaf_hash(&[1, 0xff]));
    }
}
