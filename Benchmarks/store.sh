#!/usr/bin/env bash
# BurgStore vs raw GRDB (DatabasePool, GRDB's defaults) vs the typical Python design (Benchmarks/store_peer.py),
# in one run on one machine: single-row write transactions/s, point reads/s, contended read-modify-write
# increments/s (with lost updates counted), 1 and 8 processes; median of REPS repetitions, and ratios.
#
#   bash Benchmarks/store.sh            # REPS=3 SECONDS_PER_RUN=3 by default
#   REPS=5 SECONDS_PER_RUN=5 bash Benchmarks/store.sh
#   BUILD_FLAGS='--scratch-path .build-bench' bash Benchmarks/store.sh
#
# Results (one JSON line per run) go to Benchmarks/results/store-<time>.jsonl; the summary to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
SECS=${SECONDS_PER_RUN:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/burg-store-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p Benchmarks/results
OUT=Benchmarks/results/store-$(date -u +%Y%m%dT%H%M%SZ).jsonl

# BUILD_FLAGS, e.g. "--scratch-path .build-bench", keeps this build apart from a development build.
swift build -c release ${BUILD_FLAGS:-} --product burg-microbench >&2
BENCH=$(swift build -c release ${BUILD_FLAGS:-} --show-bin-path)/burg-microbench

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), fs of $WORK: $(df -T "$WORK" | awk 'NR==2 {print $2}'), SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')"
echo "reps=$REPS seconds per run=$SECS"

run() {  # impl workload processes
    local impl=$1 workload=$2 processes=$3
    if [ "$impl" = python ]; then
        python3 Benchmarks/store_peer.py --workload "$workload" --processes "$processes" --seconds "$SECS" --dir "$WORK/$impl"
    else
        "$BENCH" store --impl "$impl" --workload "$workload" --processes "$processes" --seconds "$SECS" --dir "$WORK/$impl" 2>/dev/null
    fi
}

for rep in $(seq "$REPS"); do
    echo "repetition $rep/$REPS" >&2
    # Interleaved, so that drift of the shared machine hits every implementation alike.
    for case in "write 1" "read 1" "increment 1" "write 8" "increment 8"; do
        set -- $case
        for impl in burg grdb python; do
            run "$impl" "$1" "$2" >> "$OUT"
        done
    done
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def median(impl, workload, processes, key):
    values = [r[key] for r in rows if r["impl"] == impl and r["workload"] == workload and r["processes"] == processes]
    return statistics.median(values) if values else None
def total(impl, workload, processes, key):
    return sum(r.get(key) or 0 for r in rows if r["impl"] == impl and r["workload"] == workload and r["processes"] == processes)
print(f"{'case':<16}{'impl':<8}{'ops/s':>10}{'p50 us':>9}{'p99 us':>9}{'errors':>10}{'lost':>9}")
for workload, processes in [("write", 1), ("read", 1), ("increment", 1), ("write", 8), ("increment", 8)]:
    for impl in ["burg", "grdb", "python"]:
        ops = median(impl, workload, processes, "opsPerSecond")
        if ops is None: continue
        done = total(impl, workload, processes, "ops"); errors = total(impl, workload, processes, "errors")
        lost = total(impl, workload, processes, "lost") if workload == "increment" else ""
        print(f"{workload + ' x' + str(processes):<16}{impl:<8}{ops:>10.0f}{median(impl, workload, processes, 'p50us'):>9.0f}"
              f"{median(impl, workload, processes, 'p99us'):>9.0f}{errors:>10}{lost:>9}")
print()
def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"
for workload, processes in [("write", 1), ("read", 1), ("increment", 1), ("write", 8), ("increment", 8)]:
    b, g, p = (median(i, workload, processes, "opsPerSecond") for i in ["burg", "grdb", "python"])
    print(f"{workload} x{processes}: burg/grdb {ratio(b, g)}  burg/python {ratio(b, p)}")
b1, b8 = median("burg", "write", 1, "opsPerSecond"), median("burg", "write", 8, "opsPerSecond")
print(f"burg write x8 / x1: {ratio(b8, b1)}")
for impl in ["burg", "grdb", "python"]:
    done = total(impl, "write", 8, "ops"); errors = total(impl, "write", 8, "errors")
    if done + errors: print(f"{impl} write x8 success: {100 * done / (done + errors):.3f}% ({errors} errors)")
for impl in ["burg", "grdb", "python"]:
    done = total(impl, "increment", 8, "ops"); lost = total(impl, "increment", 8, "lost")
    if done: print(f"{impl} increment x8: {lost} of {done} acknowledged increments lost")
PY
echo "raw results: $OUT"
