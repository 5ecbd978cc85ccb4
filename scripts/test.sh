#!/usr/bin/env bash
# The project's test command: checks formatting, builds the program's .so (the program tests
# load it from target/deploy), checks that the committed IDL is up to date, runs clippy over
# every crate and target with warnings denied, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
scripts/build-program.sh
# The committed IDL (client/idl/tessera.json) must match the program.
scripts/idl.sh --check
# The TypeScript client (client/ts) is generated from that IDL and agrees with the Rust builders
# (client/fixtures/fixtures.json, checked by the client crate's tests).
(cd client/ts && npm ci --no-audit --no-fund)
scripts/ts-client.sh --check
(cd client/ts && npm test)
# The CUDA kernels compile with NVRTC (from the PyPI wheel) and pass the determinism checks.
scripts/check-kernels.sh
# Every crate, test, bench and example: no clippy or workspace-lint warning.
cargo clippy --workspace --all-targets --locked -- -D warnings
# The crash test runs the worker binary itself (target/debug/tessera-worker).
cargo build --locked -p tessera-worker
cargo test --workspace --locked
# The README's first hour, as written, on a fresh local network, with the binaries the tests
# just built (target/debug/tessera and tessera-worker): building them again with `cargo build -p`
# would resolve other dependency features and recompile much of the workspace.
WALKTHROUGH_NO_BUILD=1 scripts/readme-walkthrough.sh
# The web app (app/): unit-tested, type-checked and built, then driven as a person would in a
# headless Chromium (Debian's `chromium`) against a fresh local network with two workers, with the
# same binaries (and target/debug/examples/render, the CPU reference render): a render submitted,
# settled and verified in the page, a tampered tile flagged, a bad scene refused before signing,
# an operator staking and withdrawing, the market's events, a bad int8 model refused before
# signing and a gemm-i8 model settled, its output downloaded as the CLI's safetensors, byte for
# byte, and a Wallet Standard wallet connected in the page that signs a deposit (and one whose
# user declines). Screenshots in target/app-e2e/.
(cd app && npm ci --no-audit --no-fund && npm test && npm run build)
(cd app && node --test --test-reporter=spec e2e/run.mjs)
