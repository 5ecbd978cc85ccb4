#!/usr/bin/env python3
"""Times ONNX Runtime's MatMulInteger on one thread: C (M x N, int32) = A (M x K) . B (K x N).

B is a constant initializer (the weights, packed once when the session is built), A a graph
input. Usage: ort_matmul_integer.py M K N {u8s8|s8s8} [runs]. Checks C against numpy's exact
int64 product, then prints one JSON line: {"m", "k", "n", "types", "best_s", "median_s",
"gops", "ort"}. GOPS counts 2 x M x K x N operations.

Used by kernels/benches/int8.rs (through scripts/cpu-bench.sh, which installs onnxruntime).
"""

import json
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def main() -> None:
    m, k, n = (int(v) for v in sys.argv[1:4])
    types = sys.argv[4]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    rng = np.random.default_rng(7)
    if types == "u8s8":
        a = rng.integers(0, 256, (m, k), dtype=np.uint8)
        a_type = TensorProto.UINT8
    elif types == "s8s8":
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        a_type = TensorProto.INT8
    else:
        raise SystemExit(f"unknown types {types!r}: u8s8 or s8s8")
    b = rng.integers(-128, 128, (k, n), dtype=np.int8)

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "B"], ["C"])],
        "matmul_integer",
        [helper.make_tensor_value_info("A", a_type, [m, k])],
        [helper.make_tensor_value_info("C", TensorProto.INT32, [m, n])],
        initializer=[numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(
        model.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )

    out = sess.run(None, {"A": a})[0]
    want = a.astype(np.int64) @ b.astype(np.int64)
    if out.dtype != np.int32 or not np.array_equal(out.astype(np.int64), want):
        raise SystemExit("MatMulInteger disagrees with the exact product")

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, {"A": a})
        times.append(time.perf_counter() - t)
    times.sort()
    best = times[0]
    print(
        json.dumps(
            {
                "m": m,
                "k": k,
                "n": n,
                "types": types,
                "best_s": best,
                "median_s": times[len(times) // 2],
                "gops": 2.0 * m * k * n / best / 1e9,
                "ort": ort.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
