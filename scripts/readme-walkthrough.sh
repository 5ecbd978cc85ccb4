#!/usr/bin/env bash
# Walks the README's first hour as written: the lines between `<!-- walkthrough:begin -->` and
# `<!-- walkthrough:end -->` (a fresh `tessera localnet`, a worker, a job submitted, listed,
# settled, the operator's earnings), one by one, in a scratch directory that sees the
# repository's `kernels/` and `target/deploy/`, with `target/debug` (the CLI and the worker)
# first on PATH. A line ending in `&` runs in the background (its output in a log, the walk
# going on once it has printed its first line); `.` lines are sourced; every other line must
# exit 0. Everything it started is stopped at the end, and the walk fails after
# WALKTHROUGH_TIMEOUT seconds (default 240) of walking. WALKTHROUGH_NO_BUILD=1 skips the build
# (the test command uses the binaries its tests just built).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
timeout_s=${WALKTHROUGH_TIMEOUT:-240}

if [[ -z "${WALKTHROUGH_NO_BUILD:-}" ]]; then
    (cd "$root" && cargo build --locked -p tessera-cli -p tessera-worker)
fi
# The timeout counts the walk, not the build.
start=$(date +%s)
[[ -f "$root/target/deploy/tessera.so" ]] || {
    echo "walkthrough: no target/deploy/tessera.so (scripts/build-program.sh builds it)" >&2
    exit 1
}
for port in 8898 8899 8900 9465; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "walkthrough: port $port is taken (a tessera localnet or worker running?)" >&2
        exit 1
    fi
done

# The walkthrough's lines, continuation lines joined.
mapfile -t lines < <(awk '
    /<!-- walkthrough:begin -->/ { on = 1; next }
    /<!-- walkthrough:end -->/ { on = 0 }
    on && /^```/ { next }
    on {
        if (sub(/\\$/, "")) { acc = acc $0; next }
        print acc $0; acc = ""
    }' "$root/README.md")
((${#lines[@]} > 0)) || { echo "walkthrough: no walkthrough lines in README.md" >&2; exit 1; }

work=$(mktemp -d)
ln -s "$root/kernels" "$work/kernels"
mkdir -p "$work/target"
ln -s "$root/target/deploy" "$work/target/deploy"
export PATH="$root/target/debug:$PATH"
unset TESSERA_URL TESSERA_KEYPAIR TESSERA_MARKET TESSERA_STORE TESSERA_PROGRAM_ID TESSERA_MINT
background=()
foreground=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [[ -n "$foreground" ]] && kill -TERM "$foreground" 2>/dev/null || true
    # The background commands in reverse order (the workers before the validator); SIGINT
    # is their Ctrl-C.
    for ((i = ${#background[@]} - 1; i >= 0; i--)); do
        kill -INT "${background[i]}" 2>/dev/null || true
    done
    for pid in "${background[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if ((status != 0)); then
        for log in "$work"/bg-*.log; do
            [[ -f "$log" ]] && { echo "--- $log"; tail -n 30 "$log"; }
        done
    fi
    rm -rf "$work"
    echo "walkthrough: $( ((status == 0)) && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
    exit "$status"
}
trap cleanup EXIT
trap 'echo "walkthrough: stopped" >&2; exit 1' INT TERM

left() { echo $((timeout_s - ($(date +%s) - start))); }
cd "$work"
n=0
for line in "${lines[@]}"; do
    n=$((n + 1))
    cmd=$(sed -E 's/[[:space:]]+#.*$//' <<<"$line")
    [[ -z "${cmd// /}" ]] && continue
    echo "\$ $cmd"
    if [[ "$cmd" =~ ^(.*[^[:space:]])[[:space:]]*\&$ ]]; then
        log="$work/bg-$n.log"
        eval "${BASH_REMATCH[1]} >$log 2>&1 &"
        pid=$!
        background+=("$pid")
        until [[ -s "$log" ]]; do
            kill -0 "$pid" 2>/dev/null || { echo "walkthrough: \`$cmd\` exited" >&2; exit 1; }
            (($(left) > 0)) || { echo "walkthrough: timed out waiting for \`$cmd\`" >&2; exit 1; }
            sleep 0.5
        done
        sed 's/^/  /' "$log"
    elif [[ "$cmd" =~ ^(\.|source|export)[[:space:]] ]]; then
        eval "$cmd"
    else
        remaining=$(left)
        ((remaining > 0)) || { echo "walkthrough: timed out" >&2; exit 1; }
        eval "timeout $remaining $cmd" &
        foreground=$!
        wait "$foreground" || { echo "walkthrough: \`$cmd\` failed" >&2; exit 1; }
        foreground=""
    fi
done
[[ -s "$work/cornell.png" ]] || { echo "walkthrough: no cornell.png" >&2; exit 1; }
