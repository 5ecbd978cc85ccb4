#!/usr/bin/env bash
# The main job in one command: builds the program, starts an offline local validator (in process)
# with it deployed, two workers, and runs a 2-replica render job: post, claim, compute, commit,
# reveal, finalize, and the verified PNG at target/demo/cornell.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-program.sh
cargo run --locked -p tessera-tests --example demo
