#!/usr/bin/env bash
# The CPU reference on one core: int8 GEMM on every SIMD path this CPU has and the scalar
# reference, side by side with ONNX Runtime's MatMulInteger (uint8 × int8, its VNNI path, and
# int8 × int8) on the same shapes, one thread each; then the int8 jobs end to end and the
# renderer (rays/s) on one thread. Prints the CPU (lscpu) and the load, then the tables
# (Markdown), RUNS times (default 3): the machine may be shared, so take the best of the runs.
#
#   scripts/cpu-bench.sh               install onnxruntime (first run), build, run 3 times
#   RUNS=1 scripts/cpu-bench.sh        once
#   QUICK=1 scripts/cpu-bench.sh       one shape, fewer timed runs
#
# onnxruntime and onnx come from PyPI into .tools/ort-venv (git-ignored); the tests never
# need them. ORT_VERSION pins another onnxruntime release.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.tools/ort-venv"
ORT_VERSION="${ORT_VERSION:-1.32.0}"
if ! "$VENV/bin/python" -c "import onnxruntime, onnx, numpy; assert onnxruntime.__version__ == '$ORT_VERSION'" 2>/dev/null; then
    echo "cpu-bench: installing onnxruntime $ORT_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "onnxruntime==$ORT_VERSION" onnx numpy
fi
export ORT_PYTHON="$VENV/bin/python"

echo "# $(date -u +%Y-%m-%dT%H:%MZ)"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|L1d|L2|L3|Flags)' | sed 's/^Flags:.*/Flags (int8): '"$(grep -o -w 'avx2\|avx_vnni\|avx512_vnni\|avx512bw\|asimd\|asimddp\|i8mm' /proc/cpuinfo | sort -u | tr '\n' ' ')"'/'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

cargo bench -p tessera-kernels --bench int8 --no-run 2>&1 | tail -1
args=()
[[ -n "${QUICK:-}" ]] && args+=(--quick)
for i in $(seq 1 "${RUNS:-3}"); do
    echo
    echo "## run $i (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    cargo bench -q -p tessera-kernels --bench int8 -- "${args[@]}"
done
