#!/usr/bin/env bash
# Installs the Python tools some tests drive Burg with into .build-sdk/venv (ignored by git):
#   pocketbase - PocketBase's official Python SDK (PyPI), to show its unmodified calls work against Burg
# Safe to run repeatedly. Needs python3 with venv and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-sdk/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import pocketbase" 2>/dev/null || "$venv/bin/pip" install -q "pocketbase==0.17.3" >&2
