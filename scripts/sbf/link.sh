#!/usr/bin/env bash
# Linker for the SBPF build (rustc's `-C linker=`), used by scripts/build-program.sh.
#
# Many solana crates are `crate-type = ["cdylib", "rlib"]`, so cargo asks to link a .so for
# each of them too. We only ever use their rlib, and some of them (solana-zk-sdk) do not link
# for SBPF at all. So: only the tessera program is really linked with sbpf-linker; for every
# other cdylib an empty output file is written.
set -euo pipefail

linker="${TESSERA_SBPF_LINKER:?TESSERA_SBPF_LINKER must point to sbpf-linker}"

# Find the output path (`-o PATH`); rustc may also pass arguments through an @file.
out=""
prev=""
scan() {
    for a in "$@"; do
        if [[ "$prev" == "-o" ]]; then out="$a"; fi
        prev="$a"
    done
}
for arg in "$@"; do
    if [[ "$arg" == @* && -f "${arg#@}" ]]; then
        mapfile -t from_file < "${arg#@}"
        scan "${from_file[@]}"
    else
        scan "$arg"
    fi
done

case "$(basename "$out")" in
    tessera.so | libtessera.so | tessera-*.so | libtessera-*.so)
        exec "$linker" "$@" ;;
    *)
        [[ -n "$out" ]] && : > "$out" ;;
esac
