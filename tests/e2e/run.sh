#!/usr/bin/env bash
# End-to-end tests of the web UI: starts a real tokend (TOKEND_BIN, a debug build is fine)
# on 127.0.0.1 with a fresh data directory, then drives Debian's Chromium through
# playwright-core (node's test runner). Screenshots land in tests/e2e/artifacts/.
#
#   TOKEND_BIN=target/debug/tokend tests/e2e/run.sh        (after `npm ci` in tests/e2e)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOKEND_BIN="${TOKEND_BIN:?set TOKEND_BIN to the tokend binary}"
TOKEND_BIN="$(cd "$(dirname "$TOKEND_BIN")" && pwd)/$(basename "$TOKEND_BIN")"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$TOKEND_BIN" ] || { echo "run.sh: $TOKEND_BIN is not an executable" >&2; exit 1; }
[ -x "$CHROMIUM" ] || { echo "run.sh: $CHROMIUM is missing (apt-get install chromium)" >&2; exit 1; }
[ -d "$HERE/node_modules/playwright-core" ] || { echo "run.sh: run 'npm ci' in $HERE first" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tokend-e2e.XXXXXX")"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export E2E_ADMIN_PASSWORD="e2e-admin-password"
# Port 0: the kernel picks a free port, and the server's log says which.
# TOKEND_2FA_REMEMBER_SECS=0 makes every gated call ask for a second factor, so the
# tests meet the 2FA dialogs instead of the 30-minute grace of a new account.
env -i PATH="$PATH" HOME="$WORK" RUST_LOG=info \
    TOKEND_DATA_DIR="$WORK/data" TOKEND_BIND=127.0.0.1:0 TOKEND_WORKERS=2 \
    TOKEND_ADMIN_PASSWORD="$E2E_ADMIN_PASSWORD" CREATE_TOKENS_FOR_USERS=true \
    TOKEND_2FA_REMEMBER_SECS=0 \
    "$TOKEND_BIN" serve >"$WORK/tokend.log" 2>&1 &
SERVER_PID=$!

PORT=""
for _ in $(seq 1 200); do
    PORT="$(sed -n 's/.*tokend listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/tokend.log" | head -n 1)"
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "run.sh: tokend did not start; its log:" >&2
    cat "$WORK/tokend.log" >&2
    exit 1
fi
export TOKEND_URL="http://127.0.0.1:$PORT"
echo "tokend at $TOKEND_URL (log: $WORK/tokend.log)"

mkdir -p "$HERE/artifacts"
export E2E_ARTIFACTS="$HERE/artifacts" E2E_PROFILE="$WORK/chromium-profile"
status=0
(cd "$HERE" && node --test --test-concurrency=1 ui.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
    echo "run.sh: the server's log follows" >&2
    tail -n 60 "$WORK/tokend.log" >&2
fi
exit "$status"
