//! Helpers shared by the integration tests.
#![allow(dead_code)]

use tessera_kernels::benchmark::synthetic_mlp;
use tessera_kernels::quant::QuantModel;

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The shipped Cornell box, made small enough for a debug build.
pub fn small_cornell() -> Vec<u8> {
    let mut s: serde_json::Value =
        serde_json::from_str(include_str!("../../scenes/cornell.json")).unwrap();
    s["width"] = 40.into();
    s["height"] = 28.into();
    s["samples_per_pixel"] = 4.into();
    s["tile_size"] = 16.into();
    serde_json::to_vec(&s).unwrap()
}

/// An MLP with awkward sizes (not multiples of 4 or of the GPU tiles), ReLU, a partial last
/// chunk, and per-channel scales.
pub fn odd_mlp() -> QuantModel {
    synthetic_mlp(99, 70, &[37, 70, 5], 16)
}

pub fn odd_gemm() -> QuantModel {
    synthetic_mlp(5, 130, &[67, 129], 32)
}
