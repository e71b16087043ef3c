#!/usr/bin/env bash
# Property-based fuzz of a live tokend against its published contract (openapi.json) with
# schemathesis: no 5xx, and every status, content type, header and body as documented.
#
#   pip install -r tests/contract/requirements.txt     # into a venv
#   TOKEND_BIN=target/debug/tokend ST=/path/to/venv/bin/st tests/contract/run.sh
#
# Starts TOKEND_BIN on a free loopback port with a fresh data directory and a known admin
# password, then runs `st run` on the served /api/openapi.json for CONTRACT_FUZZ_SECONDS
# (default 120): the examples, coverage, fuzzing and stateful phases (the stateful one
# follows the document's links from the user-creating operations). Every check runs except
# positive_data_acceptance and negative_data_rejection: the document states the shape of
# requests, not the store's contents, so a well-formed request for an unknown user is
# rightly refused, and loose inputs that tokend reads leniently (an empty `count`) are
# rightly accepted. One worker: concurrent workers trip a CPython 3.11 `ast` race inside
# hypothesis. Exits non-zero on any finding, or if tokend dies or panics; the server log and
# schemathesis' reports (with a pytest file reproducing each failure) are then kept in the
# printed directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${TOKEND_BIN:-$ROOT/target/debug/tokend}"
ST="${ST:-st}"
BUDGET="${CONTRACT_FUZZ_SECONDS:-120}"
PYTHON="${PYTHON:-python3}"

[ -x "$BIN" ] || { echo "run.sh: no tokend binary at $BIN (cargo build, or set TOKEND_BIN)" >&2; exit 1; }
ST="$(command -v "$ST")" || { echo "run.sh: schemathesis' st not found (set ST)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tokend-contract.XXXXXX")"
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
status=1
finish() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$status" -eq 0 ]; then rm -rf "$WORK"; fi
}
trap finish EXIT

# Only the settings below: nothing from the caller's environment changes the server.
for var in $(compgen -e); do
    case "$var" in TOKEND_* | CREATE_TOKENS_FOR_USERS* | MAX_RESUME_LOGIN_TOKENS) unset "$var" ;; esac
done
export TOKEND_FUZZ_LOGIN=admin
TOKEND_FUZZ_PASSWORD="contract-$("$PYTHON" -c 'import secrets; print(secrets.token_hex(8))')"
export TOKEND_FUZZ_PASSWORD

# Fuzzed logins fail by the thousand and every route is hit far more than 10 times a
# minute: the blocker and the rate limiter would turn the run into 401s and 429s. 2FA is
# off so that fuzzed requests reach the handlers behind the challenge.
TOKEND_DATA_DIR="$WORK/data" TOKEND_BIND="127.0.0.1:$PORT" \
    TOKEND_ADMIN_USERNAME="$TOKEND_FUZZ_LOGIN" TOKEND_ADMIN_PASSWORD="$TOKEND_FUZZ_PASSWORD" \
    TOKEND_LOGIN_BLOCKING=off TOKEND_RATE_LIMIT=off TOKEND_2FA=off CREATE_TOKENS_FOR_USERS=true \
    TOKEND_WORKERS=2 RUST_LOG=info \
    "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

TOKEND_FUZZ_USER_ID="$("$PYTHON" - "$BASE" <<'PY'
import json, os, sys, time, urllib.error, urllib.request

base = sys.argv[1]
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/api/info", timeout=2).read()
        break
    except (urllib.error.URLError, ConnectionError):
        time.sleep(0.1)
else:
    sys.exit("run.sh: tokend did not start")
body = json.dumps({"user": os.environ["TOKEND_FUZZ_LOGIN"], "password": os.environ["TOKEND_FUZZ_PASSWORD"]})
request = urllib.request.Request(base + "/api/v1/login", body.encode(), {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request, timeout=10))["data"]["userId"])
PY
)"
export TOKEND_FUZZ_USER_ID

echo "fuzzing $BASE for ${BUDGET}s; server log and reports in $WORK"
status=0
# The fuzz must not change its own credentials (see hooks.py).
export SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$ROOT/tests/contract${PYTHONPATH:+:$PYTHONPATH}"
# From the work directory, so that schemathesis' crash cache stays out of the repository.
cd "$WORK"
"$ST" --config-file "$ROOT/tests/contract/schemathesis.toml" run "$BASE/api/openapi.json" \
    --url "$BASE" \
    --checks all --exclude-checks positive_data_acceptance,negative_data_rejection \
    --phases examples,coverage,fuzzing,stateful \
    --max-time "$BUDGET" \
    ${CONTRACT_FUZZ_SEED:+--seed "$CONTRACT_FUZZ_SEED"} \
    --workers 1 \
    --request-timeout 10 \
    --suppress-health-check too_slow \
    --report junit,pytest --report-dir "$WORK/report" \
    || status=$?

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run.sh: tokend died during the fuzz; its log:" >&2
    cat "$WORK/server.log" >&2
    status=1
fi
if grep -q 'panicked' "$WORK/server.log"; then
    echo "run.sh: tokend panicked during the fuzz:" >&2
    grep -A3 'panicked' "$WORK/server.log" >&2
    status=1
fi
[ "$status" -eq 0 ] || echo "run.sh: findings; server log and reports kept in $WORK" >&2
exit "$status"
