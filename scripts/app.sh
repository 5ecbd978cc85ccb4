#!/usr/bin/env bash
# The web app on a local network, in one command: builds the app (app/dist) and the binaries if
# needed, starts `tessera localnet` (which serves the app, the store over HTTP and the
# development keypairs on 127.0.0.1:8898) and two workers, prints the address to open, and
# stops everything on Ctrl-C. Logs go to .tessera/app/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

[[ -f target/deploy/tessera.so ]] || scripts/build-program.sh
[[ -x target/debug/tessera && -x target/debug/tessera-worker ]] ||
    cargo build --locked -p tessera-cli -p tessera-worker
if [[ ! -f app/dist/index.html ]]; then
    (cd app && npm ci --no-audit --no-fund && npm run build)
fi

logs=.tessera/app
mkdir -p "$logs"
pids=()
cleanup() {
    trap - EXIT INT TERM
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -INT "${pids[i]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

rm -f .tessera/localnet/localnet.json
target/debug/tessera localnet >"$logs/localnet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 240); do
    [[ -f .tessera/localnet/localnet.json ]] && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$logs/localnet.log" >&2; exit 1; }
    sleep 0.5
done
[[ -f .tessera/localnet/localnet.json ]] || { echo "app: tessera localnet did not start" >&2; exit 1; }
for i in 1 2; do
    target/debug/tessera-worker --config ".tessera/localnet/operator-$i.toml" >"$logs/worker-$i.log" 2>&1 &
    pids+=($!)
done
cat "$logs/localnet.log"
echo
echo "Open http://127.0.0.1:8898/?wallet=creator (creator) or http://127.0.0.1:8898/?wallet=operator-1#operator"
echo "Logs in $logs/. Ctrl-C stops the local network and the workers."
wait "${pids[0]}"
