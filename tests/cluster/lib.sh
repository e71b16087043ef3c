# shellcheck shell=bash
# A PostgreSQL primary and one streaming standby on 127.0.0.1, in a temporary directory, for
# tests of tokend's multi-node mode (spec/scale-out.md §3). Sourced by bash. Needs Debian's
# `postgresql` package; the package's own cluster is not used. As root the servers run as
# the `postgres` user (they refuse to run as root); otherwise as the caller.
#
#   pg_single               start a primary alone (no standby, fsync off: for test suites
#                           that need a server, not its durability)
#   pg_setup [sync|async]   start both, wait until the standby streams (and, in `sync`, is
#                           the synchronous standby: pg_stat_replication.sync_state = 'sync')
#   pg_primary_port, pg_standby_port
#   pg_psql PORT SQL...     one psql call as the superuser, unaligned, tuples only
#   pg_walsender_pid        the primary's walsender serving the standby
#   pg_kill_primary         SIGKILL of the primary's postmaster and every process under it
#   pg_stop_primary         SIGSTOP of all of them (a hung machine: no RST, no FIN)
#   pg_cont_primary         SIGCONT of all of them
#   pg_promote_standby      promote the standby and wait until it accepts writes
#   pg_teardown             stop everything by PID and delete the directory (trap it on EXIT)
#
# Every process is found through its postmaster.pid and stopped by PID.

PG_BIN=${PG_BIN:-$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)}
PG_DIR=""
PG_PRIMARY_PORT=""
PG_STANDBY_PORT=""
# The standby's name in synchronous_standby_names and pg_stat_replication.
PG_STANDBY_NAME=standby1

# Runs a server program as the user owning the data directories.
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_primary_port() { echo "$PG_PRIMARY_PORT"; }
pg_standby_port() { echo "$PG_STANDBY_PORT"; }

pg_psql() {
    local port=$1
    shift
    "$PG_BIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$*"
}

# pg_settings DIR PORT: the settings both servers share, appended (later lines win).
pg_settings() {
    cat >>"$1/postgresql.conf" <<EOF
# tests/cluster/lib.sh
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$PG_DIR'
max_connections = 40
shared_buffers = 16MB
wal_level = replica
max_wal_senders = 4
hot_standby = on
synchronous_commit = on
wal_sender_timeout = 10s
wal_receiver_status_interval = 1s
logging_collector = off
EOF
}

# pg_single: one server on a free port (pg_primary_port), for suites that need a server only.
pg_single() {
    [ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)" >&2; return 1; }
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tokend-pg.XXXXXX")
    chmod 0755 "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
    PG_PRIMARY_PORT=$(pg_free_port)
    pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/primary" -U postgres --auth=trust -N >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log" >&2; return 1; }
    pg_settings "$PG_DIR/primary" "$PG_PRIMARY_PORT"
    # Every test server holds a few connections until its test's database is dropped.
    printf 'max_connections = 300\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' \
        >>"$PG_DIR/primary/postgresql.conf"
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/primary" -l "$PG_DIR/primary.log" -w -t 30 start >/dev/null ||
        { cat "$PG_DIR/primary.log" >&2; return 1; }
}

# pg_setup [sync|async]
pg_setup() {
    local mode=${1:-sync}
    [ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)" >&2; return 1; }
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tokend-pg.XXXXXX")
    chmod 0755 "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
    PG_PRIMARY_PORT=$(pg_free_port)
    PG_STANDBY_PORT=$(pg_free_port)
    pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/primary" -U postgres --auth=trust -N >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log" >&2; return 1; }
    pg_settings "$PG_DIR/primary" "$PG_PRIMARY_PORT"
    if [ "$mode" = sync ]; then
        echo "synchronous_standby_names = '$PG_STANDBY_NAME'" >>"$PG_DIR/primary/postgresql.conf"
    else
        echo "synchronous_standby_names = ''" >>"$PG_DIR/primary/postgresql.conf"
    fi
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/primary" -l "$PG_DIR/primary.log" -w -t 30 start >/dev/null ||
        { cat "$PG_DIR/primary.log" >&2; return 1; }
    # -R writes standby.signal and primary_conninfo; the name is set so that the primary
    # recognises it in synchronous_standby_names.
    pg_as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres \
        -D "$PG_DIR/standby" -R -X stream -c fast --no-sync >"$PG_DIR/basebackup.log" 2>&1 ||
        { cat "$PG_DIR/basebackup.log" >&2; return 1; }
    cat >>"$PG_DIR/standby/postgresql.conf" <<EOF
port = $PG_STANDBY_PORT
# Once promoted it has no standby of its own; waiting for one would stop every write.
synchronous_standby_names = ''
EOF
    # After the line -R wrote, in the file read last, so that this one wins.
    echo "primary_conninfo = 'host=127.0.0.1 port=$PG_PRIMARY_PORT user=postgres application_name=$PG_STANDBY_NAME'" \
        >>"$PG_DIR/standby/postgresql.auto.conf"
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/standby" -l "$PG_DIR/standby.log" -w -t 30 start >/dev/null ||
        { cat "$PG_DIR/standby.log" >&2; return 1; }
    local want="streaming|async" i
    [ "$mode" = sync ] && want="streaming|sync"
    for ((i = 0; i < 150; i++)); do
        if [ "$(pg_psql "$PG_PRIMARY_PORT" "SELECT state || '|' || sync_state FROM pg_stat_replication
                WHERE application_name = '$PG_STANDBY_NAME'" 2>/dev/null)" = "$want" ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "the standby never reached $want:" >&2
    pg_psql "$PG_PRIMARY_PORT" "SELECT * FROM pg_stat_replication" >&2 || true
    tail -20 "$PG_DIR/standby.log" >&2
    return 1
}

# The postmaster's PID of data directory DIR (empty when it is not running).
pg_postmaster_pid() {
    [ -f "$1/postmaster.pid" ] && head -1 "$1/postmaster.pid"
}

# pg_signal_all DIR SIGNAL: the postmaster of DIR and its children. Stopping the postmaster
# first keeps it from restarting children that die meanwhile.
pg_signal_all() {
    local pm child
    pm=$(pg_postmaster_pid "$1") || return 0
    [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null || return 0
    [ "$2" = KILL ] && kill -STOP "$pm" 2>/dev/null
    for child in $(ps -o pid= --ppid "$pm"); do
        kill -"$2" "$child" 2>/dev/null || true
    done
    kill -"$2" "$pm" 2>/dev/null || true
}

pg_walsender_pid() {
    pg_psql "$PG_PRIMARY_PORT" "SELECT pid FROM pg_stat_replication WHERE application_name = '$PG_STANDBY_NAME'"
}

pg_kill_primary() {
    local pm
    pm=$(pg_postmaster_pid "$PG_DIR/primary")
    pg_signal_all "$PG_DIR/primary" KILL
    # Gone for good before the caller goes on (its port must refuse connections).
    while [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; do sleep 0.05; done
    # Its PID may be reused by an unrelated process: nothing may signal it later.
    rm -f "$PG_DIR/primary/postmaster.pid"
}

pg_stop_primary() { pg_signal_all "$PG_DIR/primary" STOP; }
pg_cont_primary() { pg_signal_all "$PG_DIR/primary" CONT; }

pg_promote_standby() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/standby" -w -t 30 promote >/dev/null || return 1
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(pg_psql "$PG_STANDBY_PORT" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && return 0
        sleep 0.1
    done
    return 1
}

pg_teardown() {
    [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || return 0
    local dir
    for dir in "$PG_DIR/primary" "$PG_DIR/standby"; do
        # A frozen server cannot stop; then a stop that hangs is cut short by SIGKILL.
        pg_signal_all "$dir" CONT
        if [ -n "$(pg_postmaster_pid "$dir")" ]; then
            pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w -t 10 stop >/dev/null 2>&1 ||
                pg_signal_all "$dir" KILL
        fi
    done
    rm -rf "$PG_DIR"
    PG_DIR=""
}
