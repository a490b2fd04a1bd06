#!/usr/bin/env bash
# Checks a live `burg serve` against docs/openapi.json with schemathesis: requests generated from the spec
# (valid and invalid), as a guest and as a superuser; the run fails on any 5xx and on any response whose
# status, content type, headers or body the spec does not describe.
#
#   scripts/api-contract.sh                         the short run CI does (a few minutes on 2 cores)
#   API_CONTRACT_EXAMPLES=500 scripts/api-contract.sh   a long run: more cases per operation
#   API_CONTRACT_SEED=$RANDOM scripts/api-contract.sh   other cases than CI's (its seed is fixed, so CI is repeatable)
#   API_CONTRACT_LOG=FILE                           keep the server's log (one JSON line per request) there
#   scripts/api-contract.sh --include-tag records   further arguments go to both schemathesis runs
#
# Needs the debug build (`swift build`; BURG_BIN overrides the binary) and schemathesis from
# scripts/install-python-tools.sh. Leaves nothing behind: the server and its temp data dir are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

burg=${BURG_BIN:-.build/debug/burg}
schemathesis=.build-sdk/venv/bin/schemathesis
examples=${API_CONTRACT_EXAMPLES:-50}
seed=${API_CONTRACT_SEED:-20240601}
[ -x "$burg" ] || { echo "api-contract: $burg not built (run swift build)" >&2; exit 69; }
[ -x "$schemathesis" ] || { echo "api-contract: schemathesis missing (run scripts/install-python-tools.sh)" >&2; exit 69; }

work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server"
        wait "$server" 2>/dev/null || true
    fi
    if [ -n "${API_CONTRACT_LOG:-}" ] && [ -f "$work/server.log" ]; then cp "$work/server.log" "$API_CONTRACT_LOG"; fi
    rm -rf "$work"
}
trap cleanup EXIT

data=$work/data
admin_email=admin@example.org
admin_password="contract check password"
# Cost 4: the fuzzer signs in many times; the cost changes nothing but the time a hash takes.
"$burg" superuser upsert "$admin_email" "$admin_password" --bcrypt-cost 4 --data-dir "$data" >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# No rate limits: the generated requests all come from one address, and a 429 would leave the route's
# own checks untested; the 429s themselves are covered by AuthAPITests and RateLimitSettingsTests.
"$burg" serve --http "127.0.0.1:$port" --data-dir "$data" --bcrypt-cost 4 --health-interval 0 \
    --rate-limits-enabled false >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 200); do
    curl -fsS "$base/api/health" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "api-contract: burg serve exited" >&2; exit 70; }
    sleep 0.1
done

# JSON in and out with curl; prints the reply, fails on a non-2xx.
api() {
    local method=$1 path=$2 body=${3:-}
    curl -fsS -X "$method" "$base$path" -H "Authorization: ${token:-}" -H "Content-Type: application/json" ${body:+--data "$body"}
}
token=""
token=$(api POST /api/collections/_superusers/auth-with-password \
    "{\"identity\": \"$admin_email\", \"password\": \"$admin_password\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# Data for the routes to find: `notes` open to everyone (the spec's examples name it and its first
# record), `secrets` superusers only, a relation to expand, a protected file field.
api POST /api/collections '{"name": "notes", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
  "fields": [{"name": "title", "type": "text", "max": 200}, {"name": "count", "type": "number"}, {"name": "done", "type": "bool"},
             {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3}, {"name": "meta", "type": "json"},
             {"name": "author", "type": "relation", "collection": "users"},
             {"name": "attachment", "type": "file", "maxSelect": 2, "maxSize": 100000, "protected": true}],
  "indexes": [{"name": "notes_title", "fields": ["title"]}]}' >/dev/null
api POST /api/collections '{"name": "secrets", "fields": [{"name": "text", "type": "text", "required": true}]}' >/dev/null
user=$(api POST /api/collections/users/records \
    '{"email": "user@example.org", "password": "user password 1", "passwordConfirm": "user password 1", "name": "User"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
for i in 1 2 3 4 5; do
    api POST /api/collections/notes/records \
        "{\"id\": \"note0000000000$i\", \"title\": \"note $i\", \"count\": $i, \"done\": false, \"tags\": [\"a\"], \"meta\": {\"n\": $i}, \"author\": \"$user\"}" >/dev/null
done
api POST /api/collections/secrets/records '{"id": "secret000000001", "text": "only superusers"}' >/dev/null
curl -fsS -X PATCH "$base/api/collections/notes/records/note00000000001" -H "Authorization: $token" \
    -F "attachment=@README.md;type=text/markdown" >/dev/null

# Checks: no 5xx, and every status, content type, header and body is one the spec documents.
# Not run: negative_data_rejection / positive_data_acceptance (Burg, like PocketBase, is lenient where
# the spec is strict: an unknown query parameter or record key is ignored, not refused; and valid data
# for a collection that does not exist is 404), unsupported_method and allow_header_conformance (a
# method a path does not have is 404, not 405 with Allow, as PocketBase 0.40 answers it), and the
# stateful authorization checks (ignored_auth / object_level_authorization / use_after_free / ensure_resource_availability: access
# rules are tested in RecordsAPITests and AuthAPITests, where the expected answer is known).
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
run() {
    local who=$1
    shift
    echo "== schemathesis as $who ($examples cases per operation, seed $seed)"
    # GET /api/realtime is the event stream: it never ends, so any request to it times out by design
    # (RealtimeTests drive it with a real client).
    # --suppress-health-check: Hypothesis's own warnings about slow or heavily filtered generation (the
    # server is a debug build on a shared machine); they judge the generator, not the responses.
    # --no-shrink: a failure is reported as found (with `st replay`), without minutes of minimising.
    # --workers 1: with two threads, Hypothesis's lambda descriptions parse source concurrently and
    # CPython 3.11 sometimes fails that ("AST constructor recursion depth mismatch"), an error of the
    # tool, not of a response; one worker costs about 15 s more.
    # restoreBackup is left out: restoring an archive the run created would restart the server mid-run
    # (BackupsAPITests covers it, through a real `burg serve`).
    # Run from .build-sdk: schemathesis keeps its cache of past failures (replayed first next time) in
    # .schemathesis/ of the working directory, which must not land in the repository.
    (cd .build-sdk && "$root/$schemathesis" run "$root/docs/openapi.json" --url "$base" --checks "$checks" \
        --max-examples "$examples" --seed "$seed" --workers 1 --request-timeout 20 \
        --exclude-operation-id realtimeConnect --exclude-operation-id restoreBackup --suppress-health-check all --no-shrink \
        --warnings off "$@")
}
started=$SECONDS
status=0
run guest "$@" || status=1
run superuser -H "Authorization: $token" "$@" || status=1
if ! kill -0 "$server" 2>/dev/null; then
    echo "api-contract: burg serve died during the run" >&2
    status=1
fi
if grep -q '"request failed"\|request failed' "$work/server.log"; then
    # A 500 is logged as "request failed"; schemathesis reports it too, this shows the server's side.
    grep 'request failed' "$work/server.log" | head -20 >&2
fi
echo "== api-contract: $((SECONDS - started)) s, $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
