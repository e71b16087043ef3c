#!/usr/bin/env bash
# Smoke test of the PostgreSQL harness (tests/cluster/lib.sh): what the cluster tests of
# tokend will rely on, checked on PostgreSQL alone. Prints TAP-style `ok`/`not ok` lines and
# exits non-zero when any check fails. About 20 s on an idle machine, 45 s on a loaded one.
#
# Synchronous run: a frozen primary (SIGSTOP) answers nothing until SIGCONT; a commit waits
# while the standby cannot confirm it; an acknowledged row
# is on the standby when the primary is SIGKILLed right after the commit, so the promoted
# standby has it and accepts writes; a libpq multi-host conninfo with
# target_session_attrs=read-write reaches whichever server is the primary.
# Asynchronous control run: the same kill loses an acknowledged row, which proves the
# synchronous checks can see a loss.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/packaging/lib.sh
. "$HERE/../packaging/lib.sh"
# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"
trap pg_teardown EXIT

# The port a libpq multi-host conninfo over both servers reaches for writing.
read_write_port() {
    "$PG_BIN/psql" -X -A -t -q \
        "host=127.0.0.1,127.0.0.1 port=$1 target_session_attrs=read-write user=postgres dbname=postgres connect_timeout=3" \
        -c "SELECT inet_server_port()"
}

# count PORT: the rows of the test table on the server at PORT.
count() {
    pg_psql "$1" "SELECT count(*) FROM acknowledged"
}

# Polls (≤ 5 s) until the standby has replayed the test table's creation.
wait_for_table_on_standby() {
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(pg_psql "$(pg_standby_port)" "SELECT to_regclass('acknowledged') IS NOT NULL")" = t ] && return 0
        sleep 0.1
    done
    return 1
}

echo "# synchronous replication"
if ! pg_setup sync; then
    not_ok "a primary and a synchronous standby start"
    finish
    exit 1
fi
ok "a primary and a standby start; the standby streams with sync_state = 'sync'"
P1=$(pg_primary_port)
P2=$(pg_standby_port)
pg_psql "$P1" "CREATE TABLE acknowledged (id int PRIMARY KEY)"
check "the standby is read-only" [ "$(pg_psql "$P2" "SELECT pg_is_in_recovery()")" = t ]
check "a read-write conninfo listing the primary first reaches the primary" \
    [ "$(read_write_port "$P1,$P2")" = "$P1" ]
check "a read-write conninfo listing the standby first skips it and reaches the primary" \
    [ "$(read_write_port "$P2,$P1")" = "$P1" ]

# A frozen primary (SIGSTOP: a hung machine, no RST) still completes TCP handshakes in the
# kernel but never answers; only a client-side timeout gets a client past it.
pg_stop_primary
started=$SECONDS
if read_write_port "$P1,$P2" >/dev/null 2>&1; then
    not_ok "a frozen primary answers nothing (a read-write connection succeeded)"
elif [ $((SECONDS - started)) -le 10 ]; then
    ok "a frozen primary answers nothing; connect_timeout gives up on it ($((SECONDS - started)) s)"
else
    not_ok "a frozen primary answers nothing; connect_timeout gives up on it (took $((SECONDS - started)) s)"
fi
pg_cont_primary
check "after SIGCONT the primary answers again" [ "$(read_write_port "$P1,$P2")" = "$P1" ]

# With the walsender frozen the standby receives nothing, so the commit must not return.
walsender=$(pg_walsender_pid)
kill -STOP "$walsender"
pg_psql "$P1" "INSERT INTO acknowledged VALUES (1)" &
insert=$!
sleep 1.5
if kill -0 "$insert" 2>/dev/null; then
    ok "a commit is not acknowledged while the standby cannot confirm it"
else
    not_ok "a commit is not acknowledged while the standby cannot confirm it (it returned)"
fi
kill -CONT "$walsender"
check "the commit is acknowledged once the standby confirms it" wait "$insert"

# Acknowledged, then the primary dies at once: the row must be on the standby already.
pg_psql "$P1" "INSERT INTO acknowledged VALUES (2)"
pg_kill_primary
check "the primary is gone after SIGKILL" [ -z "$(pg_psql "$P1" "SELECT 1" 2>/dev/null)" ]
if pg_promote_standby; then ok "the standby is promoted"; else not_ok "the standby is promoted"; fi
check "both acknowledged rows are on the promoted standby" [ "$(count "$P2")" = 2 ]
check "the promoted standby accepts writes" pg_psql "$P2" "INSERT INTO acknowledged VALUES (3)"
check "the read-write conninfo now reaches the promoted standby" [ "$(read_write_port "$P1,$P2")" = "$P2" ]
pg_teardown

echo "# control: asynchronous replication"
if ! pg_setup async; then
    not_ok "a primary and an asynchronous standby start"
    finish
    exit 1
fi
ok "a primary and a standby start; the standby streams with sync_state = 'async'"
P1=$(pg_primary_port)
P2=$(pg_standby_port)
pg_psql "$P1" "CREATE TABLE acknowledged (id int PRIMARY KEY)"
check "the standby replays the table's creation" wait_for_table_on_standby

# The same freeze as above: now the commit returns without the standby.
kill -STOP "$(pg_walsender_pid)"
if timeout 5 bash -c "$(declare -f pg_psql); PG_BIN='$PG_BIN' pg_psql $P1 'INSERT INTO acknowledged VALUES (1)'"; then
    ok "a commit is acknowledged while the standby has not received it"
else
    not_ok "a commit is acknowledged while the standby has not received it"
fi
pg_kill_primary
if pg_promote_standby; then ok "the standby is promoted"; else not_ok "the standby is promoted"; fi
# What this control proves: the kill-and-promote check above can see a lost write.
check "control: the acknowledged row is lost on the promoted standby" [ "$(count "$P2")" = 0 ]
pg_teardown

finish
