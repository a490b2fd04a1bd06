#!/usr/bin/env bash
# BurgBench fidelity: the four CrystalDiskMark presets (read and write) on the repository's disk, run by
# `burg bench run --engine both` (native engine and fio on the same file, one after the other), REPEAT
# times. Prints, per workload, the median ratio native/fio of throughput, IOPS, p50 and p99 latency, and
# each engine's CPU time per I/O. Targets: throughput/IOPS within ±5 %, p50/p99 within ±10 %.
#
#   Benchmarks/bench-fidelity.sh                 # 3 runs, 1 GiB file, 5 s + 1 s ramp per workload
#   REPEAT=5 DURATION=10 FILE_SIZE=2G TARGET=/mnt/disk/x Benchmarks/bench-fidelity.sh
#   FIO_OPTIONS="scramble_buffers=0 fsync=0" Benchmarks/bench-fidelity.sh   # fio options, space-separated
#
# Needs fio (scripts/install-system-packages.sh). Run it on a quiet machine: each engine measures the
# disk as it is during its own few seconds, so other load shows up as a ratio away from 1.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-5}
RAMP=${RAMP:-1}
FILE_SIZE=${FILE_SIZE:-1G}
TARGET=${TARGET:-$PWD/.build-bench-fidelity/target}
SCRATCH=${SCRATCH:-.build-bench}
# fio's default scramble_buffers rewrites every write buffer at a CPU cost the native engine does not
# have (docs/PERFORMANCE.md); FIO_OPTIONS= (empty) runs fio with its defaults.
FIO_OPTIONS=${FIO_OPTIONS-scramble_buffers=0}
fio_args=()
for option in $FIO_OPTIONS; do fio_args+=(--fio-option "$option"); done
command -v fio >/dev/null || { echo "fio is not installed: bash scripts/install-system-packages.sh" >&2; exit 69; }

swift build -c release --scratch-path "$SCRATCH" --product burg >&2
burg="$SCRATCH/release/burg"
mkdir -p "$TARGET"
data=$(mktemp -d)
out=$(mktemp -d)
trap 'rm -rf "$data" "$out"' EXIT

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); fs $(findmnt -n -o FSTYPE,SOURCE,OPTIONS -T "$TARGET"); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $burg bench run --preset cdm --engine both --target $TARGET --file-size $FILE_SIZE --duration $DURATION --ramp $RAMP${FIO_OPTIONS:+ (fio: $FIO_OPTIONS)} (x$REPEAT)"
for i in $(seq 1 "$REPEAT"); do
    "$burg" bench run --preset cdm --engine both --target "$TARGET" --data-dir "$data" \
        --file-size "$FILE_SIZE" --duration "$DURATION" --ramp "$RAMP" ${fio_args[@]+"${fio_args[@]}"} --json \
        > "$out/run-$i.json" 2> "$out/run-$i.log"
    echo "run $i done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

python3 - "$out" <<'PY'
import glob, json, statistics, sys
runs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/run-*.json"))]
names = []
for result in runs[0]["results"]:
    if result["workload"]["name"] not in names:
        names.append(result["workload"]["name"])

def figures(result):
    ios = result["readIOs"] + result["writeIOs"]
    seconds = result["seconds"]
    return {
        "MBps": (result["readBytes"] + result["writeBytes"]) / seconds / 1e6,
        "IOPS": ios / seconds,
        "p50": result["latency"]["p50"],
        "p99": result["latency"]["p99"],
        "cpu": result.get("cpuNanoseconds", 0) / ios if ios else 0,
    }

def mark(ratio, bound):
    return "ok " if abs(ratio - 1) <= bound else "OUT"

print(f"{'workload':18} {'native MB/s':>11} {'fio MB/s':>9} {'MB/s ratio':>11} {'IOPS ratio':>11} {'p50 ratio':>10} {'p99 ratio':>10} {'CPU/IO native':>13} {'fio':>8}")
for name in names:
    ratios = {key: [] for key in ("MBps", "IOPS", "p50", "p99")}
    native_mbps, fio_mbps, native_cpu, fio_cpu = [], [], [], []
    for run in runs:
        by_engine = {r["engine"]: figures(r) for r in run["results"] if r["workload"]["name"] == name}
        n, f = by_engine["native"], by_engine["fio"]
        for key in ratios:
            if f[key]:
                ratios[key].append(n[key] / f[key])
        native_mbps.append(n["MBps"]); fio_mbps.append(f["MBps"])
        native_cpu.append(n["cpu"]); fio_cpu.append(f["cpu"])
    med = {key: statistics.median(values) for key, values in ratios.items()}
    print(f"{name:18} {statistics.median(native_mbps):11.1f} {statistics.median(fio_mbps):9.1f} "
          f"{med['MBps']:7.3f} {mark(med['MBps'], .05)} {med['IOPS']:7.3f} {mark(med['IOPS'], .05)} "
          f"{med['p50']:6.3f} {mark(med['p50'], .10)} {med['p99']:6.3f} {mark(med['p99'], .10)} "
          f"{statistics.median(native_cpu)/1000:10.1f} µs {statistics.median(fio_cpu)/1000:5.1f} µs")
print(f"medians of {len(runs)} runs; ratio = native / fio in the same run; ok = within ±5 % (MB/s, IOPS) or ±10 % (p50, p99)")
PY
