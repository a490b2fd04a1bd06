#!/usr/bin/env bash
# Sanitizer soak: `burg serve` and a `burg worker` built with AddressSanitizer (and LeakSanitizer) under a
# mixed load (scripts/soak_load.py) for 60 s, or 600 s with BURG_SOAK=1, or the seconds given.
#   scripts/sanitizer-soak.sh [seconds]
# Fails on any ASan/LSan report from any burg process, a 5xx or unexpected status, or RSS that grows
# after warm-up. Figures of the long run are in docs/SECURITY.md ("Sanitizer soak").
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-$([ "${BURG_SOAK:-}" = 1 ] && echo 600 || echo 60)}"
bin="$(bash scripts/sanitizer-build.sh burg)/burg"
work="$(mktemp -d "${TMPDIR:-/tmp}/burg-soak.XXXXXX")"
port=$((20000 + RANDOM % 20000))
server=""
worker=""
cleanup() {
    [ -n "$worker" ] && kill "$worker" 2>/dev/null || true
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    if [ "${BURG_SOAK_KEEP:-}" = 1 ]; then echo "soak files kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Every burg process writes its sanitizer reports to $work/asan.<pid>; none may exist at the end.
# quarantine_size_mb: ASan holds freed memory back to catch use-after-free; 256 MiB by default, which RSS
# would climb to for minutes. 32 MiB still catches recent frees and lets RSS settle within the warm-up.
export ASAN_OPTIONS="detect_leaks=1:log_path=$work/asan:quarantine_size_mb=32:malloc_context_size=20"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0"
# Swift's crash handler would read the crashed process's memory, which ASan reports as its own error.
export SWIFT_BACKTRACE=enable=no
password="soak superuser password"
"$bin" superuser upsert soak@example.org "$password" --data-dir "$work/data" --bcrypt-cost 4 >/dev/null
"$bin" serve --http "127.0.0.1:$port" --data-dir "$work/data" --bcrypt-cost 4 \
    --rate-limits-enabled false --log-level warning >"$work/serve.log" 2>&1 &
server=$!
"$bin" worker --data-dir "$work/data" >"$work/worker.log" 2>&1 &
worker=$!
for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; echo "burg serve exited" >&2; exit 1; }
    sleep 0.2
done

echo "== sanitizer soak: ${seconds} s against burg serve (pid $server) and burg worker (pid $worker)"
status=0
python3 scripts/soak_load.py "http://127.0.0.1:$port" "$server" "$bin" "$work/data" "$seconds" soak@example.org "$password" \
    >"$work/summary.json" || status=$?
# SIGTERM: both drain and exit 0, which is when LeakSanitizer looks for leaks.
kill -TERM "$worker" "$server"
wait "$worker" || { echo "burg worker exited with $?" >&2; status=1; }
wait "$server" || { echo "burg serve exited with $?" >&2; status=1; }
worker=""
server=""
cat "$work/summary.json"
"$bin" jobs stats --data-dir "$work/data" || status=1
reports=$(ls "$work"/asan.* 2>/dev/null || true)
if [ -n "$reports" ]; then
    echo "!! sanitizer reports:" >&2
    for report in $reports; do echo "--- $report" >&2; head -n 60 "$report" >&2; done
    status=1
fi
if grep -E 'ERROR: (Address|Leak)Sanitizer' "$work/serve.log" "$work/worker.log" >/dev/null; then
    echo "!! sanitizer errors in the logs" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "sanitizer soak: passed" || echo "sanitizer soak: FAILED" >&2
exit "$status"
