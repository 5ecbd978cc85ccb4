#!/usr/bin/env bash
# The main job in one command: builds the program, then runs a 2-replica render job through the
# real program (SBPF .so in LiteSVM): post, claim, compute, commit, reveal, finalize, and the
# verified PNG at target/demo/cornell.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-program.sh
cargo run --release --locked -p tessera-tests --example demo
