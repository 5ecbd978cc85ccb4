#!/usr/bin/env bash
# The project's test command: builds the program's .so (the program tests load it from
# target/deploy), then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-program.sh
cargo test --workspace --locked
