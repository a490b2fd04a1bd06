#!/usr/bin/env bash
# BurgJobs against huey (SqliteHuey and RedisHuey on a loopback redis-server): enqueue and drain rates of
# no-op jobs with one worker process, Burg's queue-to-start latency on an idle queue and idle worker CPU.
# Usage: bash Benchmarks/jobs.sh [jobs] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-20000}
runs=${2:-3}
command -v redis-server >/dev/null || sudo -n apt-get install -y -q redis-server >/dev/null || apt-get install -y -q redis-server >/dev/null
[ -x Benchmarks/.venv/bin/python ] || python3 -m venv Benchmarks/.venv
Benchmarks/.venv/bin/pip install -q huey redis
swift build -c release --product burg-microbench --scratch-path .build-bench >/dev/null
work=$(mktemp -d "${TMPDIR:-/var/tmp}/burg-jobs-bench.XXXXXX")
redis-server --port 6399 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile "$work/redis.pid" >/dev/null
trap 'kill $(cat "$work/redis.pid") 2>/dev/null; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(df -T "$work" | awk 'NR==2 {print $2}') at $work"
for run in $(seq 1 "$runs"); do
    .build-bench/release/burg-microbench jobs --dir "$work/burg" --jobs "$jobs" 2>/dev/null
    REDIS_PORT=6399 Benchmarks/.venv/bin/python Benchmarks/jobs_peer.py "$jobs"
done
