#!/usr/bin/env bash
# Installs the Python tools some tests and checks drive Burg with into .build-sdk/venv (ignored by git):
#   pocketbase   - PocketBase's official Python SDK (PyPI), to show its unmodified calls work against Burg
#   schemathesis - property-based API testing from docs/openapi.json (PyPI), for scripts/api-contract.sh
#   selenium     - drives headless Chromium (Debian packages) for BrowserTests
# Safe to run repeatedly. Needs python3 with venv and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-sdk/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import pocketbase" 2>/dev/null || "$venv/bin/pip" install -q "pocketbase==0.17.3" >&2
# selenium drives Debian's chromium for BrowserTests (the driver path is given, so it downloads nothing).
[ "$("$venv/bin/python" -c "import selenium; print(selenium.__version__)" 2>/dev/null)" = "4.27.1" ] \
    || "$venv/bin/pip" install -q "selenium==4.27.1" >&2
# Pinned: its CLI flags and checks changed between major versions (scripts/api-contract.sh uses 4.x).
[ "$("$venv/bin/schemathesis" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)" = "4.32.5" ] \
    || "$venv/bin/pip" install -q "schemathesis==4.32.5" >&2
