#!/usr/bin/env bash
# Builds Burg products with AddressSanitizer (LeakSanitizer included on Linux) and libFuzzer's coverage
# instrumentation, in one scratch folder that the fuzz harnesses (scripts/fuzz.sh) and the sanitizer
# soak (scripts/sanitizer-soak.sh) share: dependencies are compiled once for both.
#   scripts/sanitizer-build.sh burg-fuzz burg     prints the folder the binaries are in
# The coverage flags are those `-sanitize=fuzzer` implies; only burg-fuzz links libFuzzer itself
# (Package.swift, BURG_FUZZ=1), so `burg` keeps its own entry point. Debug: assertions on, and the
# compiler does not optimise away the accesses ASan checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${BURG_SANITIZER_SCRATCH:-.build-asan}"
flags=(-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table)
export BURG_FUZZ=1
for product in "$@"; do
    echo "== sanitizer build: $product ($scratch)" >&2
    swift build --scratch-path "$scratch" -c debug "${flags[@]}" --product "$product" >&2
done
swift build --scratch-path "$scratch" -c debug "${flags[@]}" --show-bin-path
