#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: runs the worker's start-up self-test on every device (the
# kernels compiled to CUBIN, vetted and loaded as the worker does, then the benchmark and the
# left-shift MLP against their known roots), then the CPU-vs-GPU bit-exactness tests (a missing
# GPU is a failure here, not a skip), then the GPU benchmarks: render rays/s, int8 TOPS against the
# card's peak, GPU-vs-CPU speed-up, and the cost of determinism (the same kernels built with
# --fmad=true and with --use_fast_math). With compute-sanitizer on the PATH, the kernels also
# run under memcheck and racecheck.
#
# Everything it prints is also written to target/gpu-bench/<UTC time>.log (override with
# GPU_BENCH_LOG): the record of what a device did.
#
#   scripts/gpu-bench.sh                 build with cargo (feature `cuda`), then run
#   BIN_DIR=dir scripts/gpu-bench.sh     run prebuilt binaries (for a GPU machine without
#                                        network): build them elsewhere with
#     cargo build --release -p tessera-kernels --features cuda --example self-test
#     cargo test  --release -p tessera-kernels --features cuda --test backends --no-run
#     cargo bench -p tessera-kernels --features cuda --bench kernels --no-run
#   and copy target/release/examples/self-test and target/release/deps/{backends,kernels}-<hash>
#   into dir.
#
# NVRTC is loaded at run time: from the CUDA toolkit (CUDA_HOME, default /usr/local/cuda), or
# from .tools/cuda-venv (scripts/check-kernels.sh installs it there).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LOG="${GPU_BENCH_LOG:-${CARGO_TARGET_DIR:-$ROOT/target}/gpu-bench/$(date -u +%Y%m%dT%H%M%SZ).log}"
mkdir -p "$(dirname "$LOG")"
exec > >(tee -a "$LOG") 2>&1
echo "gpu-bench: $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), log $LOG"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu-bench: no NVIDIA GPU found (nvidia-smi)" >&2
    exit 1
fi
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader

# The worker's NVRTC is found by library name on the search path. cudarc looks for
# libnvrtc.so, libnvrtc.so.12 (and other names); a CUDA 13 toolkit ships libnvrtc.so.13 and,
# with its development files, libnvrtc.so. Put a libnvrtc.so link first on the path in any case.
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
LINKS="$(mktemp -d)"
trap 'rm -rf "$LINKS"' EXIT
nvrtc=""
for dir in "$CUDA_HOME/lib64" "$CUDA_HOME/targets/x86_64-linux/lib" \
    "$ROOT"/.tools/cuda-venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib /usr/lib/x86_64-linux-gnu; do
    for f in "$dir"/libnvrtc.so.[0-9]*; do
        [[ -e "$f" && "$f" != *builtins* ]] || continue
        nvrtc="$f"
        break 2
    done
done
if [[ -z "$nvrtc" ]]; then
    echo "gpu-bench: libnvrtc not found (set CUDA_HOME, or run scripts/check-kernels.sh)" >&2
    exit 1
fi
ln -s "$nvrtc" "$LINKS/libnvrtc.so"
nvrtc_dir="$(dirname "$nvrtc")"
export LD_LIBRARY_PATH="$LINKS:$nvrtc_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "NVRTC: $nvrtc"

export TESSERA_REQUIRE_GPU=1
export RUST_LOG="${RUST_LOG:-info}"

# The newest executable among the given files (cargo leaves old builds and .d files beside).
newest_exec() {
    local best=""
    for f in "$@"; do
        [[ -f "$f" && -x "$f" && "$f" != *.d ]] || continue
        if [[ -z "$best" || "$f" -nt "$best" ]]; then best="$f"; fi
    done
    [[ -n "$best" ]] || { echo "gpu-bench: no executable among $*" >&2; exit 1; }
    echo "$best"
}

if [[ -n "${BIN_DIR:-}" ]]; then
    selftest="$BIN_DIR/self-test"
    backends="$(newest_exec "$BIN_DIR"/backends-*)"
    bench="$(newest_exec "$BIN_DIR"/kernels-*)"
else
    echo "==> building"
    cargo build --release -p tessera-kernels --features cuda --example self-test
    cargo test --release -p tessera-kernels --features cuda --test backends --no-run
    cargo bench -p tessera-kernels --features cuda --bench kernels --no-run
    target="${CARGO_TARGET_DIR:-$ROOT/target}/release"
    selftest="$target/examples/self-test"
    backends="$(newest_exec "$target"/deps/backends-*)"
    bench="$(newest_exec "$target"/deps/kernels-*)"
fi

echo "==> start-up self-test on every device (as the worker runs it before its first claim)"
"$selftest" --require-gpu

echo "==> CPU vs GPU, byte for byte"
"$backends" --test-threads=1 --nocapture

if command -v compute-sanitizer >/dev/null; then
    echo "==> compute-sanitizer"
    compute-sanitizer --tool memcheck --error-exitcode 1 "$backends" --test-threads=1 \
        render_is_bit_exact_on_every_backend gemm_is_bit_exact_on_every_backend mlp_is_bit_exact_on_every_backend
    compute-sanitizer --tool racecheck --error-exitcode 1 "$backends" --test-threads=1 \
        gemm_is_bit_exact_on_every_backend
    compute-sanitizer --tool initcheck --error-exitcode 1 "$backends" --test-threads=1 \
        render_is_bit_exact_on_every_backend mlp_is_bit_exact_on_every_backend
fi

echo "==> CPU reference (all cores) and GPU, small workloads"
"$bench"
echo "==> GPU: speed-up, TOPS, cost of determinism"
"$bench" --gpu
