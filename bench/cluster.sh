#!/usr/bin/env bash
# tokend on PostgreSQL against the same binary on SQLite (issue 15; see bench/README.md):
# authenticated /me with one token and with random tokens of 1000 users, token minting
# (users.createToken), logout and password logins, on one node of each engine; then /me
# spread over three PostgreSQL nodes against the same load on one. Each figure is a ratio to
# a baseline measured in the same run (medians of BENCH_RUNS interleaved rounds).
#
# PostgreSQL is a throwaway server from Debian's `postgresql` package (tests/cluster/lib.sh),
# durable (fsync and synchronous_commit on, as SQLite's synchronous=FULL), on loopback: a
# network between nodes and database would add its round trip to every request.
# Knobs: BENCH_DURATION (5s), BENCH_RUNS (3), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
# BENCH_SKIP_BUILD / BENCH_BIN.
# shellcheck disable=SC2154,SC2034 # BASE_*, ME_* and ARGS_* are set by printf -v and read through eval
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOGOUTS=40000 # per engine and run: more than a run logs out (wrk threads may run unevenly)
source "$ROOT/bench/lib.sh"
# shellcheck source=tests/cluster/lib.sh
source "$ROOT/tests/cluster/lib.sh"

for tool in wrk curl python3; do command -v "$tool" >/dev/null || die "$tool is missing"; done
if [ -z "${BENCH_SKIP_BUILD:-}" ] && [ -z "${BENCH_BIN:-}" ]; then cargo build --release; fi
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$ROOT/bench/results/cluster-$STAMP"
mkdir -p "$RESULTS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tokend-bench-cluster.XXXXXX")"
[ "$(id -u)" -eq 0 ] && chmod 0755 "$WORK"
NODES=()
cleanup() {
    local rc=$?
    for pid in "${NODES[@]}"; do SERVER_PID="$pid" stop_server; done
    pg_teardown
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

export TOKEND_ADMIN_USERNAME=admin TOKEND_ADMIN_PASSWORD="$ADMIN_PASSWORD" TOKEND_RATE_LIMIT=off
export TOKEND_LOGIN_BLOCKING=off CREATE_TOKENS_FOR_USERS=true RUST_LOG=warn
PREFIX="$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(33)))')"
head -c 32 /dev/urandom >"$WORK/vault.key" && chmod 600 "$WORK/vault.key"

log "PostgreSQL: a durable server on loopback"
pg_single
sed -i '/^fsync = off/d; /^synchronous_commit = off/d; /^full_page_writes = off/d' "$PG_DIR/primary/postgresql.conf"
pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/primary" -w -t 30 restart -l "$PG_DIR/primary.log" >/dev/null
pg_psql "$(pg_primary_port)" "CREATE DATABASE tokend"
PG_URL="host=127.0.0.1 port=$(pg_primary_port) user=postgres dbname=tokend target_session_attrs=read-write"
PG_ENV=(TOKEND_DATABASE_URL="$PG_URL" TOKEND_VAULT_KEY_FILE="$WORK/vault.key")

# node NAME [VAR=value...]: starts a server on $WORK/NAME; sets BASE_<NAME>.
node() {
    mkdir -p "$WORK/$1"
    start_server "$WORK/$1" "${@:2}"
    NODES+=("$SERVER_PID")
    printf -v "BASE_$1" '%s' "$BASE"
}

# A store seeded by `tokend bench seed` (1000 users, their API tokens and login tokens).
log "seeding both stores: 1000 users, $((LOGOUTS * RUNS + 1000)) login tokens"
node sqlite
node pg "${PG_ENV[@]}"
# `bench seed` wants a store with only the first admin: the two nodes just created them.
TOKEND_DATA_DIR="$WORK/sqlite" "$BIN" bench seed --users 1000 --tokens $((LOGOUTS * RUNS + 1000)) --prefix "$PREFIX" \
    >"$WORK/sqlite.users"
env "${PG_ENV[@]}" TOKEND_DATA_DIR="$WORK/pg" "$BIN" bench seed --users 1000 --tokens $((LOGOUTS * RUNS + 1000)) \
    --prefix "$PREFIX" >"$WORK/pg.users"

seeded() { # seeded ENGINE PICK FIRST SPAN [VAR=value...]
    echo BENCH_USERS_FILE="$WORK/$1.users" BENCH_PREFIX="$PREFIX" BENCH_PICK="$2" BENCH_FIRST="$3" \
        BENCH_SPAN="$4" BENCH_THREADS="$THREADS" BENCH_METHOD=GET BENCH_PATH=/api/v1/me BENCH_SEEDED_BODY= \
        BENCH_SAYMON=0 "${@:5}"
}

for engine in sqlite pg; do
    eval "BASE=\$BASE_$engine"
    read -r id token <<<"$(login admin "$ADMIN_PASSWORD")"
    printf -v "ME_$engine" '%s %s' "$id" "$token"
done
# shellcheck disable=SC2154 # ME_sqlite and ME_pg are set by printf -v above
read -r SQ_ID SQ_TOKEN <<<"$ME_sqlite"
read -r PG_ID PG_TOKEN <<<"$ME_pg"

log "/me with one token, SQLite against PostgreSQL (interleaved)"
ARGS_info_sqlite=("$BASE_sqlite/api/info")
ARGS_info_pg=("$BASE_pg/api/info")
ARGS_me_sqlite=(-H "X-User-Id: $SQ_ID" -H "X-Auth-Token: $SQ_TOKEN" "$BASE_sqlite/api/v1/me")
ARGS_me_pg=(-H "X-User-Id: $PG_ID" -H "X-Auth-Token: $PG_TOKEN" "$BASE_pg/api/v1/me")
measure_interleaved me_sqlite me_sqlite me_pg info_sqlite info_pg
ME_PG_VS_SQLITE="$VS_me_pg"

log "/me with random tokens of 1000 users"
export $(seeded sqlite random $((LOGOUTS * RUNS)) 1000)
measure random_sqlite "$RUNS" -s "$ROOT/bench/lua/seeded.lua" "$BASE_sqlite"
RANDOM_SQLITE="$M_RPS"
export $(seeded pg random $((LOGOUTS * RUNS)) 1000)
measure random_pg "$RUNS" -s "$ROOT/bench/lua/seeded.lua" "$BASE_pg"
RANDOM_PG="$M_RPS"; RANDOM_PG_P99="$M_P99"

log "minting: users.createToken"
declare -A MINT
for engine in sqlite pg; do
    eval "BASE=\$BASE_$engine"
    read -r id token <<<"$(login admin "$ADMIN_PASSWORD")"
    expect_200 users.create -H "X-User-Id: $id" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
        -d '{"email":"t@example.com","name":"T","username":"target","password":"target-password-1"}' \
        "$BASE/api/v1/users.create"
    target="$(json_field _id <"$RESULTS/last-body.txt")"
    export BENCH_BODY="{\"userId\":\"$target\"}"
    measure "mint_$engine" "$RUNS" -s "$ROOT/bench/lua/post.lua" -H "X-User-Id: $id" -H "X-Auth-Token: $token" \
        "$BASE/api/v1/users.createToken"
    MINT[$engine]="$M_RPS"
done

log "logout: each request ends one seeded token"
declare -A LOGOUT
for engine in sqlite pg; do
    eval "BASE=\$BASE_$engine"
    export $(seeded "$engine" sequential 0 0 BENCH_METHOD=POST BENCH_PATH=/api/v1/logout) BENCH_PER_RUN="$LOGOUTS"
    measure "logout_$engine" "$RUNS" -s "$ROOT/bench/lua/seeded.lua" "$BASE"
    LOGOUT[$engine]="$M_RPS"
done

log "password logins (bcrypt-bound), 8 accounts"
declare -A LOGIN
for engine in sqlite pg; do
    eval "BASE=\$BASE_$engine"
    read -r id token <<<"$(login admin "$ADMIN_PASSWORD")"
    users=""
    for i in $(seq 1 8); do
        expect_200 "users.create login-$i" -H "X-User-Id: $id" -H "X-Auth-Token: $token" \
            -H 'Content-Type: application/json' "$BASE/api/v1/users.create" \
            -d "{\"email\":\"login-$i@example.com\",\"name\":\"L$i\",\"username\":\"login-$i\",\"password\":\"login-password-1\"}"
        users="$users login-$i:login-password-1"
    done
    export BENCH_LOGIN_USERS="$users"
    # A login waits its turn behind its account's other checks: beyond wrk's 2 s default.
    measure "login_$engine" "$RUNS" --timeout 10s -s "$ROOT/bench/lua/logins.lua" "$BASE/api/v1/login"
    LOGIN[$engine]="$M_RPS"
done

log "three PostgreSQL nodes: /me spread over them, against the same load on one"
node pg2 "${PG_ENV[@]}"
node pg3 "${PG_ENV[@]}"
# three_way NAME URL1 URL2 URL3: three wrk processes at once, -t1 and a third of the
# connections each; THREE_WAY_RPS is the median of the sums of their rates, errors counted.
three_way() {
    local name="$1" run total=0 all=()
    shift
    for run in $(seq 1 "$RUNS"); do
        local i=0 pids=()
        for url in "$@"; do
            i=$((i + 1))
            wrk -t1 -c$((CONNS / 3)) -d"$DURATION" --timeout 10s -H "X-User-Id: $PG_ID" -H "X-Auth-Token: $PG_TOKEN" "$url/api/v1/me" \
                >"$RESULTS/$name-$run-$i.txt" 2>&1 &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid" || die "wrk failed ($name)"; done
        local file
        for file in "$RESULTS/$name-$run-"*.txt; do TOTAL_ERRORS=$((TOTAL_ERRORS + $(errors_of "$file"))); done
        total="$(cat "$RESULTS/$name-$run-"*.txt | awk '/^Requests\/sec:/ {s += $2} END {printf "%.0f", s}')"
        all+=("$total")
    done
    THREE_WAY_RPS="$(median "${all[@]}")"
}
three_way one_node "$BASE_pg" "$BASE_pg" "$BASE_pg"
ONE_NODE="$THREE_WAY_RPS"
three_way three_nodes "$BASE_pg" "$BASE_pg2" "$BASE_pg3"
THREE_NODES="$THREE_WAY_RPS"

{
    echo
    echo "tokend on PostgreSQL $STAMP, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on loopback, durable; wrk -t$THREADS -c$CONNS -d$DURATION, medians of $RUNS"
    echo
    info "me_sqlite_per_s" "$RPS_me_sqlite"
    info "me_pg_per_s" "$RPS_me_pg"
    info "me_pg_vs_sqlite" "$ME_PG_VS_SQLITE"
    info "me_pg_vs_info_pg" "$(ratio "$RPS_me_pg" "$RPS_info_pg")"
    info "me_pg_p99_ms" "$P99_me_pg"
    info "random_1000_users_sqlite_per_s" "$RANDOM_SQLITE"
    info "random_1000_users_pg_per_s" "$RANDOM_PG"
    info "random_pg_vs_sqlite" "$(ratio "$RANDOM_PG" "$RANDOM_SQLITE")"
    info "random_pg_p99_ms" "$RANDOM_PG_P99"
    for op in mint logout login; do
        declare -n rates="${op^^}"
        info "${op}_sqlite_per_s" "${rates[sqlite]}"
        info "${op}_pg_per_s" "${rates[pg]}"
        info "${op}_pg_vs_sqlite" "$(ratio "${rates[pg]}" "${rates[sqlite]}")"
        unset -n rates
    done
    info "me_pg_one_node_3x_wrk_per_s" "$ONE_NODE"
    info "me_pg_three_nodes_per_s" "$THREE_NODES"
    info "three_nodes_vs_one" "$(ratio "$THREE_NODES" "$ONE_NODE")"
    echo "errors (non-2xx + socket): $TOTAL_ERRORS"
}
