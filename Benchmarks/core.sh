#!/usr/bin/env bash
# BurgCore benchmarks against named peers, in one run (see docs/PERFORMANCE.md):
#   - uncontended lock acquire+release: Burg FileLock vs Python filelock and portalocker (PyPI)
#   - AtomicFile 4 KiB writes/s, with and without the directory fsync
#   - 8 processes x 500 contended AtomicFile.update increments
# Usage: Benchmarks/core.sh [runs]   (medians of `runs` repetitions, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/burg-core-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

swift build -c release --product burg-microbench >&2
bin=$(swift build -c release --show-bin-path)/burg-microbench
if [ ! -x Benchmarks/.venv/bin/python ]; then
  python3 -m venv Benchmarks/.venv >&2
  Benchmarks/.venv/bin/pip install -q filelock portalocker >&2
fi
py=Benchmarks/.venv/bin/python

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(df -T "$work" | awk 'NR==2{print $2}') at $work"
results="$work/results.jsonl"
for run in $(seq "$runs"); do
  "$bin" lock --dir "$work" --iterations 200000 >>"$results"
  "$bin" lock --dir "$work" --iterations 100000 --fresh >>"$results"
  "$py" Benchmarks/lock_peer.py "$work" 50000 >>"$results"
  "$bin" atomic-write --dir "$work" --count 1000 >>"$results"
  "$bin" atomic-write --dir "$work" --count 1000 --file-only >>"$results"
  rm -f "$work/counter"
  start=$(date +%s.%N)
  for i in 1 2 3 4 5 6 7 8; do "$bin" update-worker "$work/counter" --count 500 & done
  wait
  end=$(date +%s.%N)
  [ "$(cat "$work/counter")" = 4000 ] || { echo "lost updates: counter is $(cat "$work/counter")" >&2; exit 1; }
  echo "{\"name\": \"8-process AtomicFile.update\", \"updatesPerSecond\": $(echo "4000 / ($end - $start)" | bc -l)}" >>"$results"
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["name"], []).append(r)
med = lambda xs: statistics.median(xs)
print(f"{'lock acquire+release':44} {'p50 ns':>9} {'p99 ns':>9} {'mean ns':>9}")
locks = {n: v for n, v in by.items() if "acquireRelease" in v[0]}
for name, v in locks.items():
    print(f"{name:44} {med([x['acquireRelease']['p50'] for x in v]):9.0f} {med([x['acquireRelease']['p99'] for x in v]):9.0f} {med([x['acquireRelease']['mean'] for x in v]):9.0f}")
burg = med([x["acquireRelease"]["p50"] for x in by["burg FileLock"]])
for name, v in locks.items():
    if name.startswith("python"):
        print(f"ratio p50 {name} / burg FileLock: {med([x['acquireRelease']['p50'] for x in v]) / burg:.1f}x")
for name, v in by.items():
    if "writesPerSecond" in v[0]:
        print(f"{name:44} {med([x['writesPerSecond'] for x in v]):9.0f} writes/s  p50 {med([x['latency']['p50'] for x in v])/1000:.0f} us  p99 {med([x['latency']['p99'] for x in v])/1000:.0f} us")
    if "updatesPerSecond" in v[0]:
        print(f"{name:44} {med([x['updatesPerSecond'] for x in v]):9.0f} updates/s")
PY
