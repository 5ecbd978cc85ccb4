#!/usr/bin/env bash
# Generates the TypeScript client (client/ts/src/generated/) from the committed Anchor IDL
# (client/idl/tessera.json) with Codama: client/ts/scripts/generate.mjs, run with the package's
# pinned dependencies (installed with `npm ci` when client/ts/node_modules is missing).
#
#   scripts/ts-client.sh           (re)generate client/ts/src/generated
#   scripts/ts-client.sh --check   exit 1 if client/ts/src/generated is not what the IDL generates
set -euo pipefail
cd "$(dirname "$0")/.."

IDL=client/idl/tessera.json
PKG=client/ts
GENERATED=src/generated
check=false
case "${1:-}" in
    "") ;;
    --check) check=true ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if [ ! -d "$PKG/node_modules" ]; then
    (cd "$PKG" && npm ci --no-audit --no-fund --loglevel=error)
fi
gen() { (cd "$PKG" && node scripts/generate.mjs "../../$IDL" "$1"); }

if ! $check; then
    gen .
    echo "wrote $PKG/$GENERATED"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gen "$tmp"
if ! diff -r "$tmp/$GENERATED" "$PKG/$GENERATED" >/dev/null; then
    diff -r "$tmp/$GENERATED" "$PKG/$GENERATED" | head -20 >&2 || true
    echo "error: $PKG/$GENERATED is stale (or missing): run scripts/ts-client.sh and commit the result" >&2
    exit 1
fi
echo "$PKG/$GENERATED is up to date"
