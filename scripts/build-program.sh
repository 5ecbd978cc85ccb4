#!/usr/bin/env bash
# Builds the on-chain program to target/deploy/tessera.so (SBPF v3) and puts its keypair next to
# it as target/deploy/tessera-keypair.json.
#
# With Solana's platform-tools installed (`cargo build-sbf` on PATH) that is used as is.
# Without them, the program is built with the upstream Rust BPF backend and `sbpf-linker`:
#   - toolchain nightly-2026-10-26 (its LLVM 23 is the one sbpf-linker needs, and it passes
#     128-bit integers the way LLVM's compiler-rt calls expect on bpf);
#   - std built from source (build-std) for scripts/sbf/sbpf-solana.json, with a small patch
#     (scripts/sbf/std-bpf.patch) that removes std's writable globals, which SBPF forbids;
#   - scripts/sbf/link.sh as linker, so that only the program itself is linked.
# Everything it installs goes to .tools/ (rustup toolchains aside); build output to target/sbpf,
# apart from the host build in target/. Re-running with nothing changed takes seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD"
start=$SECONDS

NIGHTLY=nightly-2026-10-26
SBPF_LINKER_VERSION=0.2.6
TOOLCHAIN=tessera-sbpf                 # rustup name of the toolchain with the patched std
TOOLCHAIN_DIR="$root/.tools/toolchain-sbpf"
TARGET_DIR="$root/target/sbpf"
PATCH=scripts/sbf/std-bpf.patch
TARGET_SPEC=scripts/sbf/sbpf-solana.json

mkdir -p target/deploy
# The program id. By default the local networks' one (declare_id! in lib.rs), whose keypair
# (programs/tessera/tessera-keypair.json, public) deploy tools look for next to the .so. A
# deployment elsewhere builds with its own id, TESSERA_BUILD_PROGRAM_ID=<address> (the program
# checks its accounts and events against it), and deploys with its own keypair: the local one
# is not put next to such a build.
LOCAL_PROGRAM_ID=3GwPgwpMXNQBsUo81Gzg8zVGSNJmA5NzVCxjwvJCZ5sd
if [[ -z "${TESSERA_BUILD_PROGRAM_ID:-}" || "$TESSERA_BUILD_PROGRAM_ID" == "$LOCAL_PROGRAM_ID" ]]; then
    unset TESSERA_BUILD_PROGRAM_ID
    cp programs/tessera/tessera-keypair.json target/deploy/tessera-keypair.json
else
    export TESSERA_BUILD_PROGRAM_ID
    rm -f target/deploy/tessera-keypair.json
    echo "building for program id $TESSERA_BUILD_PROGRAM_ID: deploy with its keypair" \
        "(solana program deploy --program-id <keypair.json> target/deploy/tessera.so)"
fi

# --- Real platform-tools available: the standard way. -----------------------------------------
if command -v cargo-build-sbf >/dev/null 2>&1; then
    cargo build-sbf --manifest-path programs/tessera/Cargo.toml --sbf-out-dir target/deploy
    exit 0
fi

# --- 1. The nightly toolchain with std sources (needed by build-std). --------------------------
if ! grep -q "^$NIGHTLY-" <<< "$(rustup toolchain list)"; then
    rustup toolchain install "$NIGHTLY" --profile minimal -c rust-src
fi
nightly_sysroot="$(rustup run "$NIGHTLY" rustc --print sysroot)"
std_src=lib/rustlib/src/rust/library
if [[ ! -d "$nightly_sysroot/$std_src" ]]; then
    rustup component add rust-src --toolchain "$NIGHTLY"
fi

# --- 2. sbpf-linker: turns the LLVM bitcode rustc emits for bpf into an SBPF program. -----------
LINKER="$root/.tools/bin/sbpf-linker"
if [[ ! -x "$LINKER" ]]; then
    # It uses the LLVM (23) of the rustc that invokes it: build it with that same nightly.
    cargo +"$NIGHTLY" install "sbpf-linker@$SBPF_LINKER_VERSION" --locked --root "$root/.tools"
fi

# --- 3. A linked toolchain whose std sources carry our patch. ------------------------------------
# build-std compiles the std sources of the toolchain's own sysroot, so we give the patched
# sources their own toolchain: a hard-linked copy of the nightly (cheap) with a patched, real
# copy of the std sources (a hard-linked one would let the patch edit the nightly's files too).
# Re-created only when the patch (or the nightly) changes.
stamp_file="$TOOLCHAIN_DIR.stamp"
stamp="$NIGHTLY $(sha256sum "$PATCH" | cut -d' ' -f1)"
if [[ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" || ! -x "$TOOLCHAIN_DIR/bin/rustc" ]]; then
    echo "Creating toolchain $TOOLCHAIN (nightly std patched with $PATCH)"
    rm -rf "$TOOLCHAIN_DIR" "$stamp_file"
    mkdir -p "$(dirname "$TOOLCHAIN_DIR")"
    # Hard links need the same file system as the rustup home; fall back to a full copy.
    cp -al "$nightly_sysroot" "$TOOLCHAIN_DIR" 2>/dev/null \
        || { rm -rf "$TOOLCHAIN_DIR"; cp -a "$nightly_sysroot" "$TOOLCHAIN_DIR"; }
    rm -rf "${TOOLCHAIN_DIR:?}/$std_src"
    cp -r "$nightly_sysroot/$std_src" "$TOOLCHAIN_DIR/$std_src"
    patch -s -p1 -d "$TOOLCHAIN_DIR/lib/rustlib/src/rust" < "$PATCH"
    # Cargo does not notice changed std sources: start the SBPF build from scratch.
    rm -rf "$TARGET_DIR"
    echo "$stamp" > "$stamp_file"
fi
# (Re-)link when missing or pointing elsewhere (e.g. another checkout of this repository).
if [[ "$(rustup run "$TOOLCHAIN" rustc --print sysroot 2>/dev/null)" != "$TOOLCHAIN_DIR" ]]; then
    rustup toolchain link "$TOOLCHAIN" "$TOOLCHAIN_DIR"
fi

# --- 4. Build. --------------------------------------------------------------------------------------
# The flags cargo-build-sbf would pass for SBPF v3.
rustflags=(
    -C "linker=$root/scripts/sbf/link.sh"
    -C panic=abort
    -C relocation-model=static
    # Keep these compiler-rt helpers exported, as cargo-build-sbf does.
    -C link-arg=--export=__multi3,__adddf3,__subdf3,__negdf2,__muldf3,__divdf3,__floatundidf,__fixunsdfdi,__gedf2,__gtdf2
    -C link-arg=--arch=v3
    -C link-arg=--llvm-args=-bpf-stack-size=4096
    -C link-arg=--llvm-args=--bpf-max-stores-per-memfunc=5
    # Instructions of cpu v4 that SBPF v3 does not have (0xd7 = 64-bit bswap, among others).
    -C link-arg=--llvm-args=--disable-gotox
    -C link-arg=--llvm-args=--disable-ldsx
    -C link-arg=--llvm-args=--disable-movsx
    -C link-arg=--llvm-args=--disable-bswap
    -C target-cpu=v4
    -C target-feature=+allows-misaligned-mem-access
    # The target's os is "zkvm" (for std's sys layer); solana crates look for target_os "solana".
    '--cfg=target_os="solana"'
    '--cfg=target_feature="static-syscalls"'
    -A explicit_builtin_cfgs_in_flags
    -Zunstable-options
)
# Encoded flags: one argument per entry, whatever spaces the paths contain; this also takes
# precedence over any RUSTFLAGS of the caller. They apply to the bpf target only, not to build
# scripts and proc-macros.
CARGO_ENCODED_RUSTFLAGS="$(IFS=$'\x1f'; echo "${rustflags[*]}")"
export CARGO_ENCODED_RUSTFLAGS
export TESSERA_SBPF_LINKER="$LINKER"

# `+toolchain` overrides rust-toolchain.toml (which pins the host toolchain).
cargo +"$TOOLCHAIN" build --release --locked -p tessera \
    --target "$TARGET_SPEC" -Zjson-target-spec \
    -Z build-std=std,panic_abort \
    --target-dir "$TARGET_DIR"

so="$TARGET_DIR/sbpf-solana/release/libtessera.so"
if [[ "$(head -c4 "$so")" != $'\x7fELF' ]]; then
    echo "error: $so is not an ELF file" >&2
    exit 1
fi
cp "$so" target/deploy/tessera.so
echo "target/deploy/tessera.so: $(stat -c %s target/deploy/tessera.so) bytes (built in $((SECONDS - start)) s)"
