//! Property tests: the parsers never panic on arbitrary input, and whatever they accept runs
//! without panicking. Case counts are fixed here so that reports can quote them.

mod common;

use proptest::prelude::*;
use tessera_kernels::benchmark::synthetic_mlp;
use tessera_kernels::quant::requant::{multiply_by_quantized_multiplier, MIN_MULTIPLIER};
use tessera_kernels::quant::{run_rows_cpu, QuantModel};
use tessera_kernels::render::obj::parse_obj;
use tessera_kernels::{Backend, KernelId, Workload};

const CORNELL: &str = include_str!("../scenes/cornell.json");

fn obj_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "v( -?[0-9]{1,3}(\\.[0-9]{0,3})?){0,5}",
        "f( -?[0-9]{1,2}(/[0-9]{0,2}){0,2}){0,6}",
        "(vn|vt|o|g|s|usemtl|#)[ a-z0-9]{0,10}",
        "[a-z]{1,4}[ -~]{0,12}",
        ".{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn scene_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Workload::parse(KernelId::Render, &bytes);
    }

    #[test]
    fn model_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Workload::parse(KernelId::MlpI8, &bytes);
        let _ = Workload::parse(KernelId::GemmI8, &bytes);
    }

    #[test]
    fn obj_parser_never_panics(text in ".{0,400}") {
        let _ = parse_obj(&text, 0);
    }

    #[test]
    fn obj_parser_never_panics_on_obj_like_text(lines in proptest::collection::vec(obj_line(), 0..40)) {
        let text = lines.join("\n");
        if let Ok(m) = parse_obj(&text, 0) {
            for t in &m.triangles {
                for &i in t {
                    prop_assert!((i as usize) < m.vertices.len());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// The shipped scene with one byte changed: parsing never panics, and a scene that still
    /// validates renders one tile (made tiny) without panicking.
    #[test]
    fn mutated_scene_never_panics(pos in 0..CORNELL.len(), byte in any::<u8>()) {
        let mut bytes = CORNELL.as_bytes().to_vec();
        bytes[pos] = byte;
        if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if v.get("width").is_some() {
                v["width"] = 8.into();
                v["height"] = 8.into();
                v["samples_per_pixel"] = 1.into();
                v["tile_size"] = 8.into();
            }
            let small = serde_json::to_vec(&v).unwrap();
            if let Ok(job) = Workload::parse(KernelId::Render, &small) {
                let _ = job.chunk(&Backend::Cpu, 0).unwrap();
            }
        }
        let _ = Workload::parse(KernelId::Render, &bytes);
    }

    /// A valid model with one byte of the file changed: never a panic; if still accepted, it
    /// runs (its values may now sit anywhere in their allowed ranges).
    #[test]
    fn mutated_model_never_panics(seed in any::<u32>(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let model = synthetic_mlp(seed, 9, &[7, 5, 3], 4);
        let mut bytes = model.to_safetensors();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(job) = Workload::parse(KernelId::MlpI8, &bytes) {
            let out = job.run(&Backend::Cpu).unwrap();
            prop_assert_eq!(out.chunks.len() as u32, job.chunk_count());
        }
    }

    /// Any parameters inside the allowed ranges run without overflow or panic.
    #[test]
    fn extreme_quantization_parameters_run(
        seed in any::<u32>(),
        zp_in in -128i32..=127,
        zp_out in -128i32..=127,
        bias in -(1i32 << 30)..=(1 << 30),
        mult in prop_oneof![Just(0i32), MIN_MULTIPLIER..=i32::MAX],
        shift in -31i32..=7,
        relu in any::<bool>(),
    ) {
        let mut m: QuantModel = synthetic_mlp(seed, 5, &[33, 6], 2);
        m.input_zero_point = zp_in;
        let l = &mut m.layers[0];
        l.output_zero_point = zp_out;
        l.bias = vec![bias; l.n];
        l.multiplier = vec![mult; l.n];
        l.shift = vec![shift; l.n];
        l.relu = relu;
        let parsed = QuantModel::from_safetensors(&m.to_safetensors()).unwrap();
        let out = run_rows_cpu(&parsed, 0, parsed.rows);
        prop_assert_eq!(out.len(), 5 * 6);
        if relu {
            prop_assert!(out.iter().all(|&v| v as i32 >= zp_out));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    /// Requantization is within one unit of the exact product `x · m / 2^31 · 2^shift`
    /// (two roundings, as in gemmlowp), when the left shift does not saturate.
    #[test]
    fn requantization_is_within_one_of_exact(
        (shift, x) in (-31i32..=7).prop_flat_map(|s| {
            let k = s.max(0);
            (Just(s), (i32::MIN >> k)..=(i32::MAX >> k))
        }),
        m in MIN_MULTIPLIER..=i32::MAX,
    ) {
        let got = multiply_by_quantized_multiplier(x, m, shift) as f64;
        let exact = (x as f64) * (m as f64) / 2f64.powi(31) * 2f64.powi(shift);
        prop_assert!((got - exact).abs() <= 1.0, "x={x} m={m} shift={shift}: {got} vs {exact}");
    }
}
