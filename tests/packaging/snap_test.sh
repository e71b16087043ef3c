#!/usr/bin/env bash
# Single-quoted sh -c scripts and env-file contents below are meant literally.
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# The snap's launcher and hooks, run by `sh` (dash) — and the hooks also by bash — outside
# snapd: fake SNAP / SNAP_DATA / SNAP_COMMON directories, the stub snapctl, and the real
# tokend binary in the prime tree that snap_check.py laid out.
#
#   snap_test.sh PRIME_DIR
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

PRIME=$(cd "${1:?usage: snap_test.sh PRIME_DIR}" && pwd)
BIN=$PRIME/bin/tokend
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokend-snap-test.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# A fresh fake snap installation in $WORK/$1; exports what snapd gives hooks and apps.
fresh_snap() {
    local root=$WORK/$1
    rm -rf "$root"
    mkdir -p "$root/snap-data" "$root/common" "$root/snapctl" "$root/cwd"
    export SNAP=$PRIME SNAP_NAME=tokend SNAP_INSTANCE_NAME=tokend SNAP_REVISION=x1
    export SNAP_DATA=$root/snap-data SNAP_COMMON=$root/common SNAPCTL_STATE=$root/snapctl
    export PATH="$HERE/stubs:$PATH"
    ROOT=$root
}

snapctl_get() { "$HERE/stubs/snapctl" get "$1"; }
hook() { local shell=$1 name=$2; "$shell" "$PRIME/meta/hooks/$name"; }

# ------------------------------------------------------------------ hooks, under dash and bash
for SH in dash bash; do
    fresh_snap "hooks-$SH"
    check "[$SH] install hook succeeds" hook "$SH" install
    check "[$SH] install sets port=3000" test "$(snapctl_get port)" = 3000
    check "[$SH] install sets bind-address=127.0.0.1" test "$(snapctl_get bind-address)" = 127.0.0.1
    check "[$SH] install sets login-expiration-days=90" test "$(snapctl_get login-expiration-days)" = 90
    check "[$SH] install sets log-level=info" test "$(snapctl_get log-level)" = info
    check "[$SH] install leaves create-tokens-for-users unset (env files decide)" \
        test -z "$(snapctl_get create-tokens-for-users)"
    check "[$SH] install creates \$SNAP_COMMON/data, root-only" \
        test "$(stat -c %a "$SNAP_COMMON/data" 2>/dev/null)" = 700

    : >"$SNAPCTL_STATE/calls"
    check "[$SH] configure accepts the defaults" hook "$SH" configure
    check_not "[$SH] configure does not start a stopped service" grep -q '^restart' "$SNAPCTL_STATE/calls"
    echo active >"$SNAPCTL_STATE/service"
    hook "$SH" configure 2>/dev/null
    check "[$SH] configure restarts the running service (snapctl restart tokend.tokend)" \
        grep -qx 'restart tokend.tokend' "$SNAPCTL_STATE/calls"

    for good in port=1 port=65535 bind-address=0.0.0.0 bind-address=:: bind-address=::1 \
        bind-address=192.168.10.20 bind-address=fe80::1:2 create-tokens-for-users=true \
        create-tokens-for-users=false login-expiration-days=1 login-expiration-days=36500 \
        log-level=debug log-level=TRACE 'log-level=info,actix_web=warn' rate-limit=all two-factor=off \
        bcrypt-cost=12 sqlite-synchronous=normal 'login-block-ip-allowlist=127.0.0.1, ::1'; do
        "$HERE/stubs/snapctl" set "$good"
        check "[$SH] configure accepts $good" hook "$SH" configure 2>/dev/null
    done
    hook "$SH" install # back to a valid set of values for the next loop
    "$HERE/stubs/snapctl" unset create-tokens-for-users
    for bad in port=abc port=0 port=65536 port=080 port=-1 bind-address=localhost \
        bind-address=256.1.1.1 bind-address=1.2.3 'bind-address=[::1]' bind-address=1.2.3.4:80 \
        bind-address=1:::2 create-tokens-for-users=yes create-tokens-for-users=TRUE \
        create-tokens-for-users=1 login-expiration-days=0 login-expiration-days=36501 \
        login-expiration-days=9x log-level=loud 'log-level=info;reboot' log-level==info \
        rate-limit=sometimes two-factor=maybe bcrypt-cost=9 sqlite-synchronous=off site-url=example.com \
        login-block-ip-allowlist=localhost workers=0; do
        key=${bad%%=*}
        saved=$(snapctl_get "$key")
        "$HERE/stubs/snapctl" set "$bad"
        : >"$SNAPCTL_STATE/calls"
        if hook "$SH" configure 2>"$ROOT/err"; then
            not_ok "[$SH] configure rejects $bad"
        elif ! grep -q "invalid configuration: $key '" "$ROOT/err"; then
            not_ok "[$SH] configure rejects $bad with a message naming $key"
            show "$ROOT/err"
        elif grep -q '^restart' "$SNAPCTL_STATE/calls"; then
            not_ok "[$SH] configure rejects $bad without restarting"
        else
            ok "[$SH] configure rejects $bad: $(head -n 1 "$ROOT/err" | cut -c1-90)"
        fi
        if [ -n "$saved" ]; then "$HERE/stubs/snapctl" set "$key=$saved"; else "$HERE/stubs/snapctl" unset "$key"; fi
    done
    "$HERE/stubs/snapctl" set port=abc login-expiration-days=0
    hook "$SH" configure 2>"$ROOT/err"
    check "[$SH] configure reports every bad key at once" test "$(grep -c 'invalid configuration' "$ROOT/err")" -eq 2
    "$HERE/stubs/snapctl" set port=3000 login-expiration-days=90 bcrypt-cost=9
    hook "$SH" configure 2>"$ROOT/err"
    check "[$SH] a tuning key is refused with tokend's own startup fix" \
        grep -q "invalid configuration: bcrypt-cost '9' is refused: use a whole number from 10 to 31" "$ROOT/err"
    "$HERE/stubs/snapctl" unset bcrypt-cost

    fresh_snap "post-refresh-$SH"
    "$HERE/stubs/snapctl" set port=4000 create-tokens-for-users=true
    check "[$SH] post-refresh hook succeeds" hook "$SH" post-refresh
    check "[$SH] post-refresh keeps a value already set (port=4000)" test "$(snapctl_get port)" = 4000
    check "[$SH] post-refresh keeps create-tokens-for-users=true" test "$(snapctl_get create-tokens-for-users)" = true
    check "[$SH] post-refresh fills a missing key (log-level=info)" test "$(snapctl_get log-level)" = info
    check "[$SH] post-refresh fills a missing key (login-expiration-days=90)" \
        test "$(snapctl_get login-expiration-days)" = 90
    check "[$SH] pre-refresh with no database yet succeeds and backs up nothing" \
        sh -c '"$1" "$2" 2>/dev/null && [ -z "$(ls -A "$3/backups" 2>/dev/null)" ]' sh "$SH" \
        "$PRIME/meta/hooks/pre-refresh" "$SNAP_COMMON"
done

# ------------------------------------------------------------------ the launcher and the server
# start_server NAME: runs `sh tokend-launcher tokend` in the background from an unrelated
# directory; sets SERVER_PID and SERVER_ERR.
start_server() {
    SERVER_ERR=$ROOT/$1.err
    (cd "$ROOT/cwd" && exec sh "$PRIME/bin/tokend-launcher" "$BIN") 2>"$SERVER_ERR" >/dev/null &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
}

environ_of() { tr '\0' '\n' <"/proc/$1/environ"; }
has_env() { environ_of "$1" | grep -qx -- "$2"; }

fresh_snap server
hook sh install
PORT=$(free_port)
"$HERE/stubs/snapctl" set port="$PORT" bind-address=127.0.0.1 log-level=debug login-expiration-days=7 \
    rate-limit-calls=7 "site-url=http://tokend.example/o'clock"
check "configure accepts the test's settings" hook sh configure
# The recipe from Rocket.Chat's documentation, verbatim but for the directory.
echo "CREATE_TOKENS_FOR_USERS=true" >"$SNAP_COMMON/create-tokens.env"
printf 'TOKEND_SITE_URL="http://unterminated\n' >"$SNAP_COMMON/00-broken.env"
echo "TOKEND_ADMIN_PASSWORD=from-snap-data-1" >"$SNAP_DATA/10-admin.env"
echo "TOKEND_ADMIN_PASSWORD=from-common-dir-1" >"$SNAP_COMMON/10-admin.env"
printf 'TOKEND_BIND=127.0.0.1:1\nTOKEND_DATA_DIR=%s\n' "$ROOT/elsewhere" >"$SNAP_COMMON/20-overridden.env"
printf 'SPACED = value\nODD=$UNDEFINED_VARIABLE_X\n' >"$SNAP_COMMON/30-odd.env"
echo "TOKEND_ADMIN_USERNAME=not-top-level" >"$SNAP_COMMON/sub.env.d" # not *.env: ignored
mkdir -p "$SNAP_COMMON/nested" && echo "TOKEND_ADMIN_USERNAME=nested" >"$SNAP_COMMON/nested/x.env"

start_server first
BASE=http://127.0.0.1:$PORT
if wait_healthy "$BIN" "127.0.0.1:$PORT" 30; then
    ok "the server started through the launcher answers on the snap's port ($PORT)"
else
    not_ok "the server started through the launcher answers on the snap's port ($PORT)"
    show "$SERVER_ERR"
fi
check "the launcher exec'd tokend (same PID, no shell left)" \
    test "$(readlink "/proc/$SERVER_PID/exe")" = "$(readlink -f "$BIN")"
check "a file with a syntax error is skipped with a log line" \
    grep -q "tokend-launcher: skipping $SNAP_COMMON/00-broken.env: it is not valid sh" "$SERVER_ERR"
check "the launcher logs the files it loaded" grep -q "loaded $SNAP_COMMON/create-tokens.env" "$SERVER_ERR"
check "a bad line in a valid file does not stop the start" grep -q "loaded $SNAP_COMMON/30-odd.env" "$SERVER_ERR"
check "env files load in order: \$SNAP_DATA, then \$SNAP_COMMON, each sorted" \
    test "$(sed -n 's/^tokend-launcher: loaded //p' "$SERVER_ERR" | tr '\n' ' ')" = \
    "$SNAP_DATA/10-admin.env $SNAP_COMMON/10-admin.env $SNAP_COMMON/20-overridden.env $SNAP_COMMON/30-odd.env $SNAP_COMMON/create-tokens.env "
check "the server sees CREATE_TOKENS_FOR_USERS=true from create-tokens.env" \
    has_env "$SERVER_PID" CREATE_TOKENS_FOR_USERS=true
check "snap keys win over env files: TOKEND_BIND=127.0.0.1:$PORT" has_env "$SERVER_PID" "TOKEND_BIND=127.0.0.1:$PORT"
check "log-level reaches RUST_LOG" has_env "$SERVER_PID" RUST_LOG=debug
check "login-expiration-days reaches TOKEND_LOGIN_EXPIRATION_DAYS" has_env "$SERVER_PID" TOKEND_LOGIN_EXPIRATION_DAYS=7
check "a tuning key (rate-limit-calls) reaches its variable" has_env "$SERVER_PID" TOKEND_RATE_LIMIT_CALLS=7
check "a value with a quote reaches its variable unchanged" has_env "$SERVER_PID" "TOKEND_SITE_URL=http://tokend.example/o'clock"
check_not "an unset key leaves its variable alone" \
    sh -c "tr '\\0' '\\n' </proc/$SERVER_PID/environ | grep -q '^TOKEND_BCRYPT_COST='"
check "TOKEND_DATA_DIR is \$SNAP_COMMON/data whatever the env files say" \
    has_env "$SERVER_PID" "TOKEND_DATA_DIR=$SNAP_COMMON/data"
check "the launcher says it ignored the env file's TOKEND_DATA_DIR" grep -q "ignoring TOKEND_DATA_DIR" "$SERVER_ERR"
check_not "files below the top level, or not named *.env, are ignored" \
    sh -c "tr '\\0' '\\n' </proc/$SERVER_PID/environ | grep -q '^TOKEND_ADMIN_USERNAME='"
check "the database is \$SNAP_COMMON/data/tokend.sqlite3" test -f "$SNAP_COMMON/data/tokend.sqlite3"
check "the database is readable by root only (0600)" test "$(stat -c %a "$SNAP_COMMON/data/tokend.sqlite3")" = 600
check "no database anywhere else (cwd, \$SNAP_DATA, the env file's directory)" \
    test -z "$(find "$ROOT/cwd" "$SNAP_DATA" "$ROOT/elsewhere" -name '*.sqlite3*' 2>/dev/null)"
check "tokend wrote nothing in its working directory or the env file's TOKEND_DATA_DIR" \
    test -z "$(ls -A "$ROOT/cwd")" -a ! -e "$ROOT/elsewhere"
check "every file in \$SNAP_COMMON/data is readable by root only" \
    test -z "$(find "$SNAP_COMMON/data" -type f -perm /077)"

create_token_status "$BASE" from-common-dir-1 bob
check "an \$SNAP_COMMON env file wins over a \$SNAP_DATA one (admin logs in with its password)" \
    test "${RESULT#login-failed}" = "$RESULT"
check "users.createToken is enabled end to end (200 with an authToken): got '$RESULT'" \
    test "$RESULT" = "200 -" -a -n "$CREATED_TOKEN"
ME=$(get "$BASE/api/v1/me" "$CREATED_UID" "$CREATED_TOKEN")
check "the created token authenticates as bob" test "$(jq -r .username <<<"${ME#* }" 2>/dev/null)" = bob

# pre-refresh while the server runs: a consistent copy, old copies pruned, manual ones kept.
mkdir -p "$SNAP_COMMON/backups"
for i in 0 1 2 3 4 5; do echo old >"$SNAP_COMMON/backups/pre-refresh-2000010${i}T000000Z-r0.sqlite3"; done
echo manual >"$SNAP_COMMON/backups/manual.sqlite3"
if hook sh pre-refresh >"$ROOT/pre-refresh.out" 2>"$ROOT/pre-refresh.err"; then
    ok "pre-refresh succeeds while the server runs"
else
    not_ok "pre-refresh succeeds while the server runs"
    show "$ROOT/pre-refresh.err"
fi
NEW_BACKUP=$(find "$SNAP_COMMON/backups" -name 'pre-refresh-*-rx1.sqlite3' | head -n 1)
check "pre-refresh wrote \$SNAP_COMMON/backups/pre-refresh-<date>-r<revision>.sqlite3" test -n "$NEW_BACKUP"
check "the backup is a sound SQLite database holding bob" python3 - "${NEW_BACKUP:-/nonexistent}" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
table = "users" if "users" in names else next(n for n in names if "user" in n)
assert any("bob" in map(str, row) for row in db.execute(f"SELECT * FROM {table}")), "bob is missing"
EOF
check "pre-refresh keeps the newest 5 of its own backups" \
    test "$(find "$SNAP_COMMON/backups" -name 'pre-refresh-*.sqlite3' | wc -l)" -eq 5
check "the new backup has the key that seals TOTP secrets beside it" test -f "${NEW_BACKUP:-/nonexistent}.key"
check "pre-refresh deleted the oldest ones" test ! -e "$SNAP_COMMON/backups/pre-refresh-20000100T000000Z-r0.sqlite3"
check "pre-refresh never deletes a manual backup" test -f "$SNAP_COMMON/backups/manual.sqlite3"
check_not "pre-refresh (a CLI run of the launcher) does not log loaded files" grep -q loaded "$ROOT/pre-refresh.err"

kill -TERM "$SERVER_PID"
STOPPED=no
for _ in $(seq 1 175); do kill -0 "$SERVER_PID" 2>/dev/null || { STOPPED=yes; break; }; sleep 0.2; done
wait "$SERVER_PID"
EXIT=$?
check "SIGTERM stops the server within the snap's stop-timeout, exit 0 (got $EXIT)" test "$STOPPED/$EXIT" = yes/0

# Same data, new settings: the snap key turns createToken off and moves the port.
PORT2=$(free_port)
"$HERE/stubs/snapctl" set port="$PORT2" create-tokens-for-users=false
check "configure accepts port=$PORT2 create-tokens-for-users=false" hook sh configure
echo "CREATE_TOKENS_FOR_USERS_SECRET=s3cret" >"$SNAP_COMMON/40-secret.env"
start_server second
if wait_healthy "$BIN" "127.0.0.1:$PORT2" 30; then
    ok "after snap set port=$PORT2 the server answers there"
else
    not_ok "after snap set port=$PORT2 the server answers there"
    show "$SERVER_ERR"
fi
check_not "... and no longer on $PORT" healthy "$BIN" "127.0.0.1:$PORT"
check_not "create-tokens-for-users=false wins over create-tokens.env" \
    sh -c "tr '\\0' '\\n' </proc/$SERVER_PID/environ | grep -q '^CREATE_TOKENS_FOR_USERS'"
create_token_status "http://127.0.0.1:$PORT2" from-common-dir-1 carol
check "the database survived the restart (admin logs in)" test "${RESULT#login-failed}" = "$RESULT"
check "with create-tokens-for-users=false users.createToken answers 400 error-not-authorized: got '$RESULT'" \
    test "$RESULT" = "400 error-not-authorized"
stop_pid "$SERVER_PID"

# A bare install: no env files at all.
fresh_snap bare
hook sh install
PORT3=$(free_port)
"$HERE/stubs/snapctl" set port="$PORT3"
start_server bare
if wait_healthy "$BIN" "127.0.0.1:$PORT3" 30; then
    ok "with no env files at all the server starts"
else
    not_ok "with no env files at all the server starts"
    show "$SERVER_ERR"
fi
check "the generated first-admin password is printed once on stderr (the journal)" \
    grep -q "^tokend: created the first admin user 'admin' with the generated password: " "$SERVER_ERR"
PASSWORD=$(sed -n "s/^tokend: created the first admin user 'admin' with the generated password: *//p" "$SERVER_ERR" | head -n 1)
create_token_status "http://127.0.0.1:$PORT3" "$PASSWORD" dave
check "without CREATE_TOKENS_FOR_USERS users.createToken answers 400 error-not-authorized: got '$RESULT'" \
    test "$RESULT" = "400 error-not-authorized"
stop_pid "$SERVER_PID"

check "the launcher refuses to run outside a snap (no SNAP_COMMON), saying why" \
    sh -c '! env -u SNAP_COMMON sh "$1/bin/tokend-launcher" "$2" --version 2>&1 | grep -q "SNAP_COMMON is not set" && exit 1
        ! env -u SNAP_COMMON sh "$1/bin/tokend-launcher" "$2" --version >/dev/null 2>&1' sh "$PRIME" "$BIN"
check "the CLI app path (launcher + --version) prints only the version" \
    sh -c '[ "$(sh "$1/bin/tokend-launcher" "$2" --version 2>&1)" = "$("$2" --version)" ]' sh "$PRIME" "$BIN"

finish
