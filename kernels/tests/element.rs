//! The element function the on-chain referee re-executes (`tessera_int8::element`) gives the
//! bytes of every CPU path of the int8 kernels, layer by layer and through whole models, on
//! fuzzed models at the edges of the arithmetic (ties, saturation, extreme shifts and zero
//! points, ReLU). `cuda_emulation.rs` checks the CUDA kernel against it the same way.

mod common;

use common::{by_elements, fuzzed_model, Rng};
use tessera_kernels::quant::{gemm, run_rows_cpu_with};

#[test]
fn the_referee_element_equals_every_cpu_path() {
    let mut rng = Rng(0x7e55_e7a1);
    let paths = gemm::Path::supported();
    let mut compared = 0;
    for case in 0..400 {
        let model = fuzzed_model(&mut rng, 1 + case % 3);
        let (want, count) = by_elements(&model);
        for &path in &paths {
            let got = run_rows_cpu_with(path, &model, 0, model.rows);
            assert_eq!(got, want, "case {case}, path {path:?}, model {model:?}");
        }
        compared += count;
    }
    println!("{compared} elements on {paths:?}");
    assert!(compared >= 10_000, "{compared}");
}

#[test]
fn the_model_root_commits_to_every_weight_and_parameter() {
    let mut rng = Rng(42);
    let model = fuzzed_model(&mut rng, 2);
    let root = model.model_root();
    assert_eq!(model.clone().model_root(), root);
    let changed = |f: &dyn Fn(&mut tessera_kernels::quant::QuantModel)| {
        let mut m = model.clone();
        f(&mut m);
        m.model_root()
    };
    assert_ne!(changed(&|m| m.input[0] ^= 1), root);
    assert_ne!(changed(&|m| m.layers[1].weight[0] ^= 1), root);
    assert_ne!(changed(&|m| m.layers[0].bias[0] ^= 1), root);
    assert_ne!(changed(&|m| m.layers[0].multiplier[0] ^= 1), root);
    assert_ne!(changed(&|m| m.layers[1].shift[0] ^= 1), root);
    assert_ne!(changed(&|m| m.layers[1].relu ^= true), root);
    assert_ne!(changed(&|m| m.layers[0].output_zero_point ^= 1), root);
    assert_ne!(changed(&|m| m.input_zero_point ^= 1), root);
    assert_ne!(changed(&|m| m.rows_per_chunk += 1), root);
}
