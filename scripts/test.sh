#!/usr/bin/env bash
# The project's test command: builds the program's .so (the program tests load it from
# target/deploy), checks that the committed IDL is up to date, then runs every test of the
# workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-program.sh
# The committed IDL (client/idl/tessera.json) must match the program.
scripts/idl.sh --check
# The CUDA kernels compile with NVRTC (from the PyPI wheel) and pass the determinism checks.
scripts/check-kernels.sh
cargo test --workspace --locked
