#!/usr/bin/env bash
# Backup throughput on a ~1 GB database and a concurrent writer's throughput and p99 with and without a
# backup running (store-level single-row insert transactions; see docs/PERFORMANCE.md).
# Usage: bash Benchmarks/backup.sh [size-MB] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1000}
runs=${2:-3}
swift build -c release --product burg-microbench --scratch-path .build-bench >/dev/null
bench=.build-bench/release/burg-microbench
work=$(mktemp -d "${TMPDIR:-/var/tmp}/burg-backup-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo), $(df -T "$work" | awk 'NR==2 {print $2}') at $work"
for run in $(seq 1 "$runs"); do
    rm -rf "$work/data/backups"
    "$bench" backup --dir "$work/data" --size-mb "$size" --baseline-seconds 10
done
