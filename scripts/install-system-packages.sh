#!/usr/bin/env bash
# Installs the Debian packages Burg's tests and benchmarks use, if they are missing:
#   fio        - the peer engine of `burg bench` (BurgBench tests run it for real)
#   util-linux - setpriv/unshare, used by tests of permission and read-only file system errors
#   chromium, chromium-driver - the headless browser BrowserTests drives a web app in (with selenium)
#   curl       - scripts/api-contract.sh sets up its server's data with it; the sanitizer soak waits for
#                the server with it; RealtimeTests read the event stream with it
# The fuzz harnesses and the sanitizer soak need nothing else: the Swift toolchain ships libFuzzer and
# the ASan runtime (LeakSanitizer included) in its own compiler-rt.
# Needs root (or sudo). Safe to run repeatedly: it does nothing when everything is present.
set -euo pipefail
missing=()
command -v fio >/dev/null 2>&1 || missing+=(fio)
{ command -v setpriv >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; } || missing+=(util-linux)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# --bench: also what Benchmarks/ drives its peers with (wrk, for Benchmarks/server.sh).
if [ "${1:-}" = "--bench" ]; then command -v wrk >/dev/null 2>&1 || missing+=(wrk); fi
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
