#!/usr/bin/env bash
# Replays PocketBase 0.40's captured exchanges (Tests/Contract/pocketbase-0.40/) against live `burg serve`
# processes and compares status, the headers that matter and the body's shape with PocketBase's answers;
# every remaining difference must be listed, with its reason, in docs/COMPATIBILITY.md ("Replay
# differences"). Fails on an unlisted difference and on a listed one that no longer differs.
#
#   scripts/pb-replay.sh            the run CI does: the comparator's own tests, then the replay
#   scripts/pb-replay.sh --all      also print the listed differences
#
# Needs the debug build (`swift build`; BURG_BIN overrides the binary) and Python 3 (standard library only).
# Leaves nothing behind: the servers and their temp data dirs are removed.
set -euo pipefail
cd "$(dirname "$0")/.."

burg=${BURG_BIN:-.build/debug/burg}
[ -x "$burg" ] || { echo "pb-replay: $burg not built (run swift build)" >&2; exit 69; }

started=$SECONDS
# The comparator must be able to fail: a changed key, a wrong status, a stale row.
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest -q scripts/test_pb_replay.py
# Burg's default rate limit rules stay on (the corpus stays below them; its own rate limit exchanges
# set rules through PATCH /api/settings, which a flag would pin). --flag passes more `burg serve` flags.
PYTHONDONTWRITEBYTECODE=1 python3 scripts/pb_replay.py --burg "$burg" "$@"
echo "== pb-replay.sh: $((SECONDS - started)) s"
