#!/usr/bin/env bash
# BurgBench fidelity: the four CrystalDiskMark presets (read and write) on the repository's disk, run by
# one `burg bench run --preset cdm --engine both --rounds ROUNDS`: native engine and fio on the same file,
# every workload ROUNDS times, rounds, workloads and engines interleaved (BenchSchedule) so that the
# disk's drift hits both engines alike. Prints, per workload, each engine's median MB/s with its range and
# spread over the rounds, the median of the paired ratios native/fio with its range and Burg's verdict,
# whether the median ratio is within ±5 %, and where it is not, whether the two engines' ranges overlap.
#
#   Benchmarks/bench-fidelity.sh                 # 5 rounds, 1 GiB file, 5 s + 1 s ramp per workload (~10 min)
#   ROUNDS=7 DURATION=10 FILE_SIZE=2G TARGET=/mnt/disk/x Benchmarks/bench-fidelity.sh
#   FIO_OPTIONS="scramble_buffers=0 fsync=0" Benchmarks/bench-fidelity.sh   # fio options, space-separated
#   BURG=.build/debug/burg Benchmarks/bench-fidelity.sh                     # skip the release build
#
# Needs fio (scripts/install-system-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
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

if [ -z "${BURG:-}" ]; then
    swift build -c release --scratch-path "$SCRATCH" --product burg >&2
    BURG="$SCRATCH/release/burg"
fi
mkdir -p "$TARGET"
data=$(mktemp -d)
out=$(mktemp -d)
trap 'rm -rf "$data" "$out"' EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; fs $(findmnt -n -o FSTYPE,SOURCE,OPTIONS -T "$TARGET"); fio $(fio --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $BURG bench run --preset cdm --engine both --rounds $ROUNDS --target $TARGET --file-size $FILE_SIZE --duration $DURATION --ramp $RAMP${FIO_OPTIONS:+ $(printf -- '--fio-option %s ' $FIO_OPTIONS)}"
start=$(date +%s)
"$BURG" bench run --preset cdm --engine both --rounds "$ROUNDS" --target "$TARGET" --data-dir "$data" \
    --file-size "$FILE_SIZE" --duration "$DURATION" --ramp "$RAMP" ${fio_args[@]+"${fio_args[@]}"} --json \
    > "$out/run.json" 2> "$out/run.log"
echo "took $(( $(date +%s) - start )) s; load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
"$BURG" bench show 1 --data-dir "$data" | sed -n '2p'

python3 - "$out/run.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
summary = run["summary"]
def figures(name, engine):
    return next(f for f in summary["figures"] if f["workload"]["name"] == name and f["engine"] == engine)
def mbps(spread):
    return f"{spread['median'] / 1e6:7.1f} ({spread['min'] / 1e6:.0f}-{spread['max'] / 1e6:.0f}, {(spread['max'] - spread['min']) / spread['median'] * 100:4.1f} %)"
print(f"| workload | native MB/s (min-max, spread) | fio MB/s (min-max, spread) | native/fio median (min-max) | within ±5 % | ranges overlap | verdict | flags |")
print("| --- | ---: | ---: | ---: | :---: | :---: | --- | --- |")
within = 0
for comparison in summary["comparisons"]:
    name = comparison["workload"]
    n, f = figures(name, "native"), figures(name, "fio")
    ratio = comparison["ratio"]
    ok = abs(ratio["median"] - 1) <= 0.05
    within += ok
    nb, fb = n["bytesPerSecond"], f["bytesPerSecond"]
    overlap = nb["min"] <= fb["max"] and fb["min"] <= nb["max"]
    flags = " ".join(sorted({(e + ": noisy") for e, x in (("native", n), ("fio", f)) if x["noisy"]} |
                            {(e + ": cached?") for e, x in (("native", n), ("fio", f)) if x.get("cached")}))
    print(f"| {name} | {mbps(nb)} | {mbps(fb)} | {ratio['median']:.3f} ({ratio['min']:.3f}-{ratio['max']:.3f}) | "
          f"{'yes' if ok else 'no'} | {'yes' if overlap else 'no'} | {comparison['verdict']} | {flags} |")
print(f"\n{within} of {len(summary['comparisons'])} median ratios native/fio within ±5 %; {summary['rounds']} rounds; "
      f"noise threshold {summary['noiseThreshold']:.0f} %")
for f in summary["figures"]:
    if f.get("cached"):
        print(f"cached? {f['workload']['name']} [{f['engine']}]: {f['cached']}")
PY
