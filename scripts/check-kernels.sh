#!/usr/bin/env bash
# Checks the CUDA kernels on a machine without a GPU:
#   1. compiles every .cu under kernels/cuda with NVRTC through the worker's own code path
#      (tessera_kernels::cuda::compile, same options, `--features cuda`): CUBIN for each
#      sm_XY of ARCHS, as for a device NVRTC knows, and PTX for compute_80, the fallback;
#   2. vets every PTX with the worker's own rules (tessera_kernels::cuda::vet_ptx, run by
#      compile before anything is loaded): no fused multiply-add, approximate math,
#      flush-to-zero, atomics or reductions, f64, f32 add/sub/mul/div/sqrt/rcp without .rn,
#      or min/max.f32 of two registers; a violation fails the check;
#   3. assembles the PTX with ptxas and reports registers and spills (a spill fails);
#   4. runs the kernels compiled as C++ on the host against the CPU reference
#      (tests/cuda_emulation.rs), including launches split by the launch bound.
# NVRTC and ptxas come from the PyPI wheels nvidia-cuda-nvrtc-cu12 / nvidia-cuda-nvcc-cu12,
# installed into .tools/cuda-venv (ignored by git). Running the kernels needs a GPU:
# scripts/gpu-bench.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${TESSERA_CUDA_VENV:-$ROOT/.tools/cuda-venv}"
CUDA_WHEEL_VERSION="${CUDA_WHEEL_VERSION:-12.9.86}"
# The architectures NVRTC 12.9 knows that operators run: Turing to Blackwell.
ARCHS=(${TESSERA_CUDA_ARCHS:-75 80 86 89 90 100 120})
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PTX_DIR="$CARGO_TARGET_DIR/ptx"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "==> creating $VENV"
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('nvidia-cuda-nvrtc-cu12') == '$CUDA_WHEEL_VERSION' and m.version('nvidia-cuda-nvcc-cu12') == '$CUDA_WHEEL_VERSION'" 2>/dev/null; then
    echo "==> installing NVRTC and ptxas $CUDA_WHEEL_VERSION into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "nvidia-cuda-nvrtc-cu12==$CUDA_WHEEL_VERSION" "nvidia-cuda-nvcc-cu12==$CUDA_WHEEL_VERSION"
fi
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
NVRTC_LIB="$SITE/nvidia/cuda_nvrtc/lib"
PTXAS="$SITE/nvidia/cuda_nvcc/bin/ptxas"
[[ -f "$NVRTC_LIB/libnvrtc.so.12" ]] || { echo "libnvrtc.so.12 not found in $NVRTC_LIB" >&2; exit 1; }
[[ -x "$PTXAS" ]] || { echo "ptxas not found at $PTXAS" >&2; exit 1; }

fail=0
echo "==> NVRTC: compiling the kernels as the worker does, vetting the PTX"
rm -rf "$PTX_DIR"
LD_LIBRARY_PATH="$NVRTC_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    cargo run --quiet -p tessera-kernels --features cuda --example compile-ptx -- "$PTX_DIR" \
    "${ARCHS[@]}" || fail=1

echo "==> ptxas: registers and spills"
printf '%-10s %-10s %-18s %9s %11s %12s %11s\n' source target kernel registers stack_bytes spill_stores spill_loads
for ptx in "$PTX_DIR"/*.ptx; do
    base="$(basename "$ptx" .ptx)"          # e.g. render.sm_90, render.compute_80
    src="${base%%.*}"
    arch="${base##*_}"
    label="${base#*.}"
    log="$("$PTXAS" -arch="sm_$arch" -v "$ptx" -o /dev/null 2>&1)" || { echo "$log"; echo "ptxas failed on $ptx" >&2; exit 1; }
    # ptxas -v prints, per entry: "Compiling entry function 'k'", "N bytes stack frame,
    # N bytes spill stores, N bytes spill loads", "Used N registers".
    while IFS='|' read -r kernel stack stores loads regs; do
        printf '%-10s %-10s %-18s %9s %11s %12s %11s\n' "$src" "$label" "$kernel" "$regs" "$stack" "$stores" "$loads"
        if [[ "$stores" != "0" || "$loads" != "0" ]]; then
            echo "    FAIL: $kernel spills registers on sm_$arch" >&2
            fail=1
        fi
    done < <(awk '
        /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); k = substr($0, RSTART + 1, RLENGTH - 2) }
        /bytes stack frame/ { s = $1; st = $5; ld = $9 }
        /Used [0-9]+ registers/ { for (i = 1; i <= NF; i++) if ($i == "Used") r = $(i + 1); print k "|" s "|" st "|" ld "|" r }
    ' <<<"$log")
done

echo "==> PTX: instruction mix of the float kernel, sm_90 ("
grep -ohE '^\s+(add|sub|mul|div|sqrt|rcp|abs|neg|fma|min|max)\.[a-z0-9.]*f32' "$PTX_DIR/render.sm_90.ptx" \
    | sed 's/^[[:space:]]*//' | sort | uniq -c | sort -rn | sed 's/^/     /'
echo "    )"

echo "==> the vetting on real NVRTC output (passes the deterministic build, catches fast math)"
LD_LIBRARY_PATH="$NVRTC_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    cargo test --quiet -p tessera-kernels --features cuda --lib cuda:: || fail=1

echo "==> host emulation of the kernels against the CPU reference"
cargo test --quiet -p tessera-kernels --test cuda_emulation

if [[ "$fail" != 0 ]]; then
    echo "check-kernels: FAILED" >&2
    exit 1
fi
echo "check-kernels: ok"
