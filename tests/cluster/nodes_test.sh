#!/usr/bin/env bash
# The cluster test (issue 15, spec/scale-out.md §3.2): three tokend nodes on a PostgreSQL
# primary with a synchronous standby (tests/cluster/lib.sh), driven by tests/cluster/drive.py.
# Each tier runs on a fresh database with three fresh nodes:
#   1 revocation through any node is refused by every node on the very next request (200 rounds)
#   2 the race rules of tests/api/races.rs hold with the racers spread over the three nodes
#   3 SIGKILL of one node mid-load: the others fail nothing, its acknowledged tokens work
#   4 the primary is SIGKILLed under mint/revoke churn and the standby promoted: nothing lost
#   5 the same with the primary SIGSTOPped (no RST): the nodes give up on it within their timeout
#   6 (CLUSTER_CONTROL=1) control: tier 4 on asynchronous replication must see losses
# Prints TAP-style `ok`/`not ok` lines with each tier's figures; exits non-zero on any failure.
# Uses TOKEND_BIN (default target/release/tokend); CLUSTER_TIERS="1 4" runs a subset. Every
# process is stopped by PID on exit. About 2 min on a 2-core machine.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=tests/packaging/lib.sh
. "$HERE/../packaging/lib.sh"
# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"

TOKEND_BIN=${TOKEND_BIN:-$ROOT/target/release/tokend}
ADMIN_PASSWORD=cluster-admin-password
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokend-cluster.XXXXXX")
NODE_PIDS=()
NODE_URLS=""
NODE_LOGS=()
SINK_PID=""

stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
    NODE_PIDS=()
}

cleanup() {
    stop_nodes
    [ -z "$SINK_PID" ] || stop_pid "$SINK_PID"
    pg_teardown
    rm -rf "$WORK"
}
trap cleanup EXIT
# Interrupted: exit, so that the EXIT trap stops every process.
trap 'exit 130' INT TERM

[ -x "$TOKEND_BIN" ] || { echo "Bail out! no tokend binary at $TOKEND_BIN (cargo build --release)"; exit 1; }
head -c 32 /dev/urandom >"$WORK/vault.key"
chmod 600 "$WORK/vault.key"

# harness MODE: a fresh primary and standby; the failure script (fault.sh) reads their state.
harness() {
    pg_setup "$1" || { not_ok "a PostgreSQL primary and a $1 standby start"; finish; exit 1; }
    export CLUSTER_PG_DIR=$PG_DIR CLUSTER_PG_PRIMARY_PORT=$PG_PRIMARY_PORT CLUSTER_PG_STANDBY_PORT=$PG_STANDBY_PORT
}

# start_nodes DB [VAR=VALUE...]: three nodes on the fresh database DB, started at once (the
# schema is created by whichever wins the migration lock); waits until each is ready.
start_nodes() {
    local db=$1 i port url code ready
    shift
    pg_psql "$(pg_primary_port)" "CREATE DATABASE $db" || { not_ok "CREATE DATABASE $db"; return 1; }
    NODE_URLS="" NODE_LOGS=()
    local conninfo
    conninfo="host=127.0.0.1,127.0.0.1 port=$(pg_primary_port),$(pg_standby_port) user=postgres dbname=$db"
    for i in 1 2 3; do
        port=$(pg_free_port)
        mkdir -p "$WORK/$db-node$i"
        NODE_LOGS+=("$WORK/$db-node$i.log")
        env -i PATH="$PATH" HOME="$WORK" TOKEND_BIND="127.0.0.1:$port" TOKEND_DATA_DIR="$WORK/$db-node$i" \
            TOKEND_DATABASE_URL="$conninfo target_session_attrs=read-write" TOKEND_VAULT_KEY_FILE="$WORK/vault.key" \
            TOKEND_ADMIN_USERNAME=admin TOKEND_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
            TOKEND_RATE_LIMIT=off TOKEND_LOGIN_BLOCK_IP_ALLOWLIST=127.0.0.1 "$@" \
            "$TOKEND_BIN" >"$WORK/$db-node$i.log" 2>&1 &
        NODE_PIDS+=($!)
        NODE_URLS+="${NODE_URLS:+,}http://127.0.0.1:$port"
    done
    for url in ${NODE_URLS//,/ }; do
        ready=""
        for ((i = 0; i < 150; i++)); do
            code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url/api/ready")
            if [ "$code" = 200 ]; then ready=1; break; fi
            sleep 0.2
        done
        if [ -z "$ready" ]; then
            not_ok "$db: the node at $url is ready within 30 s"
            show_logs
            return 1
        fi
    done
}

show_logs() {
    local log
    for log in "${NODE_LOGS[@]}"; do
        echo "    | $(basename "$log"):" >&2
        tail -15 "$log" | sed "s/^/    | /" >&2
    done
}

# drive TIER ARGS...: runs drive.py; counts its ok/not ok lines into this script's totals.
drive() {
    local out=$WORK/drive.out rc passed failed
    python3 -B "$HERE/drive.py" "$@" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    passed=$(grep -c '^ok - ' "$out")
    failed=$(grep -c '^not ok - ' "$out")
    PASSED=$((PASSED + passed))
    FAILED=$((FAILED + failed))
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && [ "$1" != control ]; then
        not_ok "$1: drive.py exited with status $rc"
    fi
    [ "$rc" -eq 0 ] || [ "$1" = control ] || show_logs
    return "$rc"
}

tier() {
    echo "# tier $*"
    TIER_START=$SECONDS
}

# want N: whether tier N is to run (CLUSTER_TIERS, e.g. "1 4": a subset while debugging).
want() {
    [[ " ${CLUSTER_TIERS:-1 2 3 4 5 6} " == *" $1 "* ]]
}

tier_done() {
    stop_nodes
    echo "# tier took $((SECONDS - TIER_START)) s"
}

harness sync

if want 1; then
    tier "1: revocation seen by every node"
    start_nodes t1 && drive revocation "$NODE_URLS" "$ADMIN_PASSWORD"
    tier_done
fi

if want 2; then
    tier "2: invariants with the racers spread over three nodes"
    SINK_PORT=$(pg_free_port)
    python3 -B "$HERE/smtp_sink.py" "$SINK_PORT" "$WORK/mail" &
    SINK_PID=$!
    start_nodes t2 TOKEND_SMTP_URL="smtp://127.0.0.1:$SINK_PORT" TOKEND_SMTP_FROM="tokend <noreply@example.com>" \
        TOKEND_MAX_PERSONAL_ACCESS_TOKENS=10 &&
        drive invariants "$NODE_URLS" "$ADMIN_PASSWORD" "$WORK/mail"
    tier_done
    stop_pid "$SINK_PID"
    SINK_PID=""
fi

if want 3; then
    tier "3: one tokend node SIGKILLed mid-load"
    if start_nodes t3; then
        # bash reports the victim's death ("Killed") on its stderr: kept out of the output.
        drive node-death "$NODE_URLS" "$ADMIN_PASSWORD" "${NODE_PIDS[0]}" 2>"$WORK/tier3.err"
        grep -v "Killed" "$WORK/tier3.err" >&2
    fi
    tier_done
fi

if want 4; then
    tier "4: the primary SIGKILLed under churn, the synchronous standby promoted"
    start_nodes t4 && drive failover "$NODE_URLS" "$ADMIN_PASSWORD" "tier 4" "$HERE/fault.sh kill"
    tier_done
fi
pg_teardown

if want 5; then
    tier "5: the primary SIGSTOPped (no RST) under churn, the standby promoted"
    harness sync
    start_nodes t5 TOKEND_DATABASE_TIMEOUT_SECS=2 &&
        drive failover "$NODE_URLS" "$ADMIN_PASSWORD" "tier 5" "$HERE/fault.sh stop"
    tier_done
    pg_cont_primary
    pg_teardown
fi

if want 6 && [ "${CLUSTER_CONTROL:-0}" = 1 ]; then
    tier "6: control, tier 4 on asynchronous replication must see losses"
    seen=""
    for attempt in 1 2 3; do
        harness async
        if start_nodes t6; then
            drive control "$NODE_URLS" "$ADMIN_PASSWORD" "tier 6 attempt $attempt" "$HERE/fault.sh kill"
            rc=$?
        else
            rc=1
        fi
        stop_nodes
        pg_teardown
        if [ "$rc" -eq 0 ]; then seen=$attempt; break; fi
        [ "$rc" -eq 3 ] || break
    done
    if [ -n "$seen" ]; then
        ok "tier 6: the asynchronous control run reports losses (attempt $seen), so tiers 4 and 5 can see them"
    elif [ "$rc" -eq 3 ]; then
        not_ok "tier 6: the asynchronous control run reports losses (none seen in $attempt attempts)"
    else
        not_ok "tier 6: the asynchronous control run completes (attempt $attempt failed, status $rc)"
    fi
    tier_done
elif want 6; then
    echo "# tier 6 (asynchronous control run) skipped: set CLUSTER_CONTROL=1"
fi

finish
