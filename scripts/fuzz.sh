#!/usr/bin/env bash
# Builds burg-fuzz (libFuzzer + AddressSanitizer) and runs each harness for a time budget, starting from
# the seed corpus in Fuzz/corpus/<harness>/. Fails if libFuzzer finds a crash, a broken invariant, a leak,
# a timeout or an out-of-memory; the input that did it is kept in .build-asan/fuzz-artifacts/.
#   scripts/fuzz.sh                    every harness, BURG_FUZZ_SECONDS (default 20) each
#   scripts/fuzz.sh filter json        only those
#   BURG_FUZZ_SECONDS=3600 scripts/fuzz.sh    the long run (docs/SECURITY.md, "Fuzzing")
# Inputs libFuzzer finds interesting go to a temporary folder, not into the repository; to grow the seed
# corpus, merge them in by hand (-merge=1, see docs/SECURITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BURG_FUZZ_SECONDS:-20}"
if [ $# -gt 0 ]; then harnesses=("$@"); else harnesses=(filter sort json lines csv multipart fio backup); fi

bin="$(bash scripts/sanitizer-build.sh burg-fuzz)/burg-fuzz"
artifacts="${BURG_SANITIZER_SCRATCH:-.build-asan}/fuzz-artifacts"
mkdir -p "$artifacts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=()
for harness in "${harnesses[@]}"; do
    [ -d "Fuzz/corpus/$harness" ] || { echo "no seed corpus Fuzz/corpus/$harness" >&2; exit 64; }
    mkdir -p "$work/$harness/found" "$work/$harness/tmp"
    log="$work/$harness/log"
    echo "== fuzz $harness (${seconds} s)"
    # Leaks: libFuzzer re-checks an input with a full LeakSanitizer scan whenever it allocated more than it
    # freed. Multipart (async tasks) and backup (SQLite, threads) keep runtime caches, so every input would
    # pay a stop-the-world scan: 8 and 1 runs/s instead of 80 and 30. For them only LSan's check at exit
    # runs, which still fails the run on any leak (named with its allocation stack, not with an input).
    leaks=()
    case "$harness" in multipart|backup) leaks=(-detect_leaks=0) ;; esac
    # Suppressions: only the leaks outside Burg that scripts/lsan-suppressions.txt names and explains.
    # -timeout: one input taking 10 s in this debug ASan build is a hang; -rss_limit_mb: a runaway allocation.
    # SWIFT_BACKTRACE: Swift's crash handler would inspect the crashed process's memory after a harness's
    # abort(), which ASan reports as a wild read of its own; libFuzzer and ASan print the stack anyway.
    if BURG_FUZZ_HARNESS="$harness" TMPDIR="$work/$harness/tmp" ASAN_OPTIONS="detect_leaks=1" \
        LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0" SWIFT_BACKTRACE=enable=no \
        "$bin" "${leaks[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$harness-" "$work/$harness/found" "Fuzz/corpus/$harness" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" | tr '\n' ' ' || true
        echo
    else
        echo "!! fuzz $harness failed; the end of its log:" >&2
        tail -n 40 "$log" >&2
        cp "$log" "$artifacts/$harness.log"
        failed+=("$harness")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]} (inputs in $artifacts; reproduce with BURG_FUZZ_HARNESS=<harness> $bin <input>)" >&2
    exit 1
fi
echo "fuzzing: ${#harnesses[@]} harnesses, ${seconds} s each, nothing found"
