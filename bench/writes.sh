# Sourced by bench/run.sh with the main store's server running: users.createToken, PAT
# generation and logout at -c$CONNS, with synchronous=FULL (the default) and then NORMAL.

# The login runs evicted the admin's earlier tokens (50 per user are kept): a fresh one.
read -r ADMIN_ID ADMIN_TOKEN <<<"$(login admin "$ADMIN_PASSWORD")"
ADMIN=(-H "X-User-Id: $ADMIN_ID" -H "X-Auth-Token: $ADMIN_TOKEN" -H "User-Agent: tokend-bench")

# A user to mint tokens for: createToken evicts its oldest tokens beyond the cap of 50,
# which must not be the bench user's (its token drives later runs) nor a seeded one.
expect_200 users.create "${ADMIN[@]}" -H 'Content-Type: application/json' "$BASE/api/v1/users.create" \
    -d "{\"email\":\"target@example.com\",\"name\":\"Target\",\"username\":\"target\",\"password\":\"$USER_PASSWORD\"}"
TARGET_ID="$(json_field _id <"$RESULTS/last-body.txt")"
[ -n "$TARGET_ID" ] || die "users.create answered no _id"

declare -A WRITE_RPS WRITE_P99
writes_round() { # writes_round MODE FIRST_LOGOUT_TOKEN
    log "writes with synchronous=$1: users.createToken, PAT generation, logout (-c$CONNS)"
    export BENCH_BODY="{\"userId\":\"$TARGET_ID\"}"
    measure "create-token-$1" "$RUNS" -s "$ROOT/bench/lua/post.lua" "${ADMIN[@]}" "$BASE/api/v1/users.createToken"
    WRITE_RPS[create_token_$1]="$M_RPS"; WRITE_P99[create_token_$1]="$M_P99"
    # PATs for the seeded users, through tokens this round logs out afterwards. They pass
    # the 2FA gate as fresh accounts without a second factor (spec §10.4's grace period).
    export $(seeded main random "$2" $((LOGOUT_TOKENS_PER_RUN * RUNS)) BENCH_METHOD=POST \
        BENCH_PATH=/api/v1/users.generatePersonalAccessToken BENCH_SEEDED_BODY=pat BENCH_TAG="$1")
    measure "pat-$1" "$RUNS" -s "$ROOT/bench/lua/seeded.lua" "$BASE"
    WRITE_RPS[pat_generation_$1]="$M_RPS"; WRITE_P99[pat_generation_$1]="$M_P99"
    export $(seeded main sequential "$2" 0 BENCH_METHOD=POST BENCH_PATH=/api/v1/logout) \
        BENCH_PER_RUN="$LOGOUT_TOKENS_PER_RUN"
    measure "logout-$1" "$RUNS" -s "$ROOT/bench/lua/seeded.lua" "$BASE"
    WRITE_RPS[logout_$1]="$M_RPS"; WRITE_P99[logout_$1]="$M_P99"
}

writes_round full 0
stop_server
start_server "$WORK/main" TOKEND_SQLITE_SYNCHRONOUS=normal
writes_round normal $((LOGOUT_TOKENS_PER_RUN * RUNS))

report_writes() {
    for op in create_token pat_generation logout; do
        check "${op}_per_s (synchronous=full)" "${WRITE_RPS[${op}_full]}" ge 1500
        info "${op}_per_s (synchronous=normal)" "${WRITE_RPS[${op}_normal]}"
        info "${op}_p99_ms (full / normal)" "${WRITE_P99[${op}_full]}/${WRITE_P99[${op}_normal]}"
    done
}
