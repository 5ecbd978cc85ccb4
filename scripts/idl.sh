#!/usr/bin/env bash
# Generates the Anchor IDL of the program to client/idl/tessera.json, without the Anchor CLI:
# client/idl-gen (tessera-idl-gen) runs what `anchor idl build` runs (anchor-lang-idl's builder:
# `cargo test --features idl-build __anchor_private_print_idl` in programs/tessera) and writes the
# assembled IDL as pretty JSON.
#
#   scripts/idl.sh           (re)generate client/idl/tessera.json
#   scripts/idl.sh --check   exit 1 if client/idl/tessera.json is not what the program generates
set -euo pipefail
cd "$(dirname "$0")/.."

IDL=client/idl/tessera.json
check=false
case "${1:-}" in
    "") ;;
    --check) check=true ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

cargo build --quiet --locked -p tessera-idl-gen
gen=target/debug/tessera-idl-gen

if ! $check; then
    "$gen" programs/tessera "$IDL"
    echo "wrote $IDL"
    exit 0
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
"$gen" programs/tessera "$tmp"
if ! cmp -s "$tmp" "$IDL"; then
    echo "error: $IDL is stale (or missing): run scripts/idl.sh and commit the result" >&2
    exit 1
fi
echo "$IDL is up to date"
