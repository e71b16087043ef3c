# shellcheck shell=bash
# Helpers shared by the packaging test scripts (sourced by bash). Every check prints one
# `ok - ...` or `not ok - ...` line; run.sh counts them.

PASSED=0
FAILED=0

ok() {
    PASSED=$((PASSED + 1))
    printf 'ok - %s\n' "$*"
}

not_ok() {
    FAILED=$((FAILED + 1))
    printf 'not ok - %s\n' "$*"
}

# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# check_not NAME COMMAND...: ok when COMMAND fails.
check_not() {
    local name=$1
    shift
    if "$@"; then not_ok "$name"; else ok "$name"; fi
}

# Prints DETAIL indented, for the log of a failed check.
show() {
    sed 's/^/    | /' "$@" >&2 || true
}

finish() {
    printf '# %s: %d ok, %d not ok\n' "$(basename "$0")" "$PASSED" "$FAILED"
    [ "$FAILED" -eq 0 ]
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_healthy BIN HOST:PORT [SECONDS]: polls `tokend healthcheck`.
wait_healthy() {
    local bin=$1 bind=$2 limit=${3:-20} i
    for ((i = 0; i < limit * 5; i++)); do
        if env -i TOKEND_BIND="$bind" "$bin" healthcheck >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    return 1
}

# healthy BIN HOST:PORT: one quiet `tokend healthcheck`.
healthy() {
    env -i TOKEND_BIND="$2" "$1" healthcheck >/dev/null 2>&1
}

# HTTP against tokend: post URL JSON [USER_ID TOKEN] → prints "STATUS BODY".
post() {
    local url=$1 body=$2 uid=${3:-} token=${4:-} out code
    local -a auth=()
    [ -z "$uid" ] || auth=(-H "X-User-Id: $uid" -H "X-Auth-Token: $token")
    out=$(mktemp)
    code=$(curl -s -o "$out" -w '%{http_code}' -X POST "$url" -H 'Content-Type: application/json' \
        "${auth[@]}" -d "$body")
    printf '%s %s\n' "$code" "$(tr '\n' ' ' <"$out")"
    rm -f "$out"
}

# get URL USER_ID TOKEN → prints "STATUS BODY".
get() {
    local out code
    out=$(mktemp)
    code=$(curl -s -o "$out" -w '%{http_code}' "$1" -H "X-User-Id: $2" -H "X-Auth-Token: $3")
    printf '%s %s\n' "$code" "$(tr '\n' ' ' <"$out")"
    rm -f "$out"
}

# Kills a process we started, by PID, and waits for it.
stop_pid() {
    local pid=$1
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# create_token_status BASE ADMIN_PASSWORD USERNAME: logs in as admin, creates USERNAME and
# asks users.createToken for it. Sets RESULT to the createToken status and error, e.g.
# "200 -" or "400 error-not-authorized" ("login-failed-401" when the admin cannot log in),
# and CREATED_UID / CREATED_TOKEN to what createToken returned.
# shellcheck disable=SC2034 # RESULT, CREATED_UID and CREATED_TOKEN are for the caller
create_token_status() {
    local base=$1 password=$2 user=$3 reply status body uid token
    RESULT="" CREATED_UID="" CREATED_TOKEN=""
    reply=$(post "$base/api/v1/login" "{\"user\":\"admin\",\"password\":\"$password\"}")
    status=${reply%% *}
    body=${reply#* }
    if [ "$status" != 200 ]; then
        RESULT="login-failed-$status"
        return 0
    fi
    uid=$(jq -r .data.userId <<<"$body")
    token=$(jq -r .data.authToken <<<"$body")
    post "$base/api/v1/users.create" \
        "{\"username\":\"$user\",\"name\":\"$user\",\"email\":\"$user@example.com\",\"password\":\"$user-password-1\"}" \
        "$uid" "$token" >/dev/null
    reply=$(post "$base/api/v1/users.createToken" "{\"username\":\"$user\"}" "$uid" "$token")
    status=${reply%% *}
    body=${reply#* }
    CREATED_TOKEN=$(jq -r '.data.authToken // empty' <<<"$body" 2>/dev/null)
    CREATED_UID=$(jq -r '.data.userId // empty' <<<"$body" 2>/dev/null)
    RESULT="$status $(jq -r '.errorType // .error // "-"' <<<"$body" 2>/dev/null)"
}
