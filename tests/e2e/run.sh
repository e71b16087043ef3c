#!/usr/bin/env bash
# End-to-end tests of the web UI: starts a real tokend (TOKEND_BIN, a debug build is fine)
# on 127.0.0.1 with a fresh data directory, then drives Debian's Chromium through
# playwright-core (node's test runner). Screenshots land in tests/e2e/artifacts/.
#
#   TOKEND_BIN=target/debug/tokend tests/e2e/run.sh        (after `npm ci` in tests/e2e)
#   E2E_TESTS='account.test.mjs' runs only the files named.
#   E2E_KEEP=1 keeps the servers' data directories and logs for inspection.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOKEND_BIN="${TOKEND_BIN:?set TOKEND_BIN to the tokend binary}"
TOKEND_BIN="$(cd "$(dirname "$TOKEND_BIN")" && pwd)/$(basename "$TOKEND_BIN")"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$TOKEND_BIN" ] || { echo "run.sh: $TOKEND_BIN is not an executable" >&2; exit 1; }
[ -x "$CHROMIUM" ] || { echo "run.sh: $CHROMIUM is missing (apt-get install chromium)" >&2; exit 1; }
[ -d "$HERE/node_modules/playwright-core" ] || { echo "run.sh: run 'npm ci' in $HERE first" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tokend-e2e.XXXXXX")"
SERVER_PIDS=()
cleanup() {
    for pid in "${SERVER_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            wait "$pid" 2>/dev/null || true
        fi
    done
    [ -n "${E2E_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

export E2E_ADMIN_PASSWORD="e2e-admin-password"

# start_server NAME [VAR=value ...]: a tokend with a fresh data directory on a free port
# (port 0: the kernel picks one and the log says which); sets PORT.
start_server() {
    local name="$1"
    shift
    mkdir -p "$WORK/$name"
    env -i PATH="$PATH" HOME="$WORK/$name" RUST_LOG=info \
        TOKEND_DATA_DIR="$WORK/$name/data" TOKEND_BIND=127.0.0.1:0 TOKEND_WORKERS=2 \
        TOKEND_ADMIN_PASSWORD="$E2E_ADMIN_PASSWORD" "$@" \
        "$TOKEND_BIN" serve >"$WORK/$name/tokend.log" 2>&1 &
    local pid=$!
    SERVER_PIDS+=("$pid")
    PORT=""
    for _ in $(seq 1 200); do
        # The background shell may not have created the log yet.
        [ -f "$WORK/$name/tokend.log" ] || { sleep 0.1; continue; }
        PORT="$(sed -n 's/.*tokend listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/$name/tokend.log" | head -n 1)"
        [ -n "$PORT" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "run.sh: tokend ($name) did not start; its log:" >&2
    cat "$WORK/$name/tokend.log" >&2
    exit 1
}

# The main server: users.createToken on, and TOKEND_2FA_REMEMBER_SECS=0 so that every gated
# call asks for a second factor and the tests meet the 2FA dialogs (instead of the 30-minute
# grace a new account gets). The suite signs in from one address more often than the
# default rate limit (10 a minute per route) allows a person to, so that limit is raised here.
start_server main CREATE_TOKENS_FOR_USERS=true TOKEND_2FA_REMEMBER_SECS=0 TOKEND_RATE_LIMIT_CALLS=100
export TOKEND_URL="http://127.0.0.1:$PORT"
# A server with the defaults, where users.createToken is switched off.
start_server defaults
export TOKEND_DEFAULTS_URL="http://127.0.0.1:$PORT"
# A server with the self-service routes on (registration, deleting one's own account) that
# mails password-reset links to an SMTP sink, whose messages the tests read from MAILDIR.
export E2E_MAILDIR="$WORK/mail"
node "$HERE/smtp-sink.mjs" "$E2E_MAILDIR" "$WORK/smtp.port" &
SERVER_PIDS+=("$!")
for _ in $(seq 1 100); do [ -s "$WORK/smtp.port" ] && break; sleep 0.1; done
[ -s "$WORK/smtp.port" ] || { echo "run.sh: the SMTP sink did not start" >&2; exit 1; }
start_server self TOKEND_REGISTRATION=on TOKEND_DELETE_OWN_ACCOUNT=on TOKEND_RATE_LIMIT_CALLS=100 \
    TOKEND_SMTP_URL="smtp://127.0.0.1:$(cat "$WORK/smtp.port")" TOKEND_SMTP_FROM="tokend <noreply@example.com>"
export TOKEND_SELF_URL="http://127.0.0.1:$PORT"
# Registration by Rocket.Chat's "Secret URL": users.register needs the secret.
export E2E_REGISTRATION_SECRET="e2e-registration-secret"
start_server secret TOKEND_REGISTRATION=on TOKEND_REGISTRATION_SECRET="$E2E_REGISTRATION_SECRET"
export TOKEND_SECRET_URL="http://127.0.0.1:$PORT"
echo "tokend at $TOKEND_URL, $TOKEND_DEFAULTS_URL, $TOKEND_SELF_URL and $TOKEND_SECRET_URL (logs under $WORK)"

mkdir -p "$HERE/artifacts"
export E2E_ARTIFACTS="$HERE/artifacts" E2E_PROFILE="$WORK/chromium-profile"
status=0
(cd "$HERE" && node --test --test-concurrency=1 ${E2E_TESTS:-ui.test.mjs manage.test.mjs mandatory2fa.test.mjs session.test.mjs lifecycle.test.mjs sessions.test.mjs account.test.mjs}) || status=$?
if [ "$status" -ne 0 ]; then
    echo "run.sh: the main server's log follows" >&2
    tail -n 60 "$WORK/main/tokend.log" >&2
fi
exit "$status"
