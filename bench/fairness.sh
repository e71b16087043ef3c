# Sourced by bench/run.sh after logins.sh: one account cannot take more than its share of the
# password-hashing threads. Another account's login latency (p99, one connection) is measured
# idle and while 64 connections send HTTP Basic requests as one account — each a bcrypt
# verification — and the loaded figure must stay within 3x the idle one.

log "fairness: login-1's login p99, idle and while 64 connections use HTTP Basic as 'bench'"
BASIC_AUTH="Authorization: Basic $(printf 'bench:%s' "$USER_PASSWORD" | base64 -w0)"
fair_idle=(); fair_loaded=(); fair_basic=()
for run in $(seq 1 "$RUNS"); do
    export BENCH_LOGIN_USERS="login-1:$USER_PASSWORD"
    wrk_run "fair-idle-$run" -t1 -c1 -d"$DURATION" --timeout 30s --latency -s "$ROOT/bench/lua/logins.lua" \
        "$BASE/api/v1/login"
    # The flood's own requests queue behind each other (one verification at a time for the
    # account), so they wait long: its timeouts are not errors of the server.
    wrk -t2 -c64 -d"$(( ${DURATION%s} + 4 ))s" --timeout 60s -H "$BASIC_AUTH" "$BASE/node/api/users/current" \
        >"$RESULTS/fair-basic-$run.txt" 2>&1 &
    flood_pid=$!
    sleep 2 # let the flood occupy its hashing thread
    wrk_run "fair-loaded-$run" -t1 -c1 -d"$DURATION" --timeout 30s --latency -s "$ROOT/bench/lua/logins.lua" \
        "$BASE/api/v1/login"
    wait "$flood_pid" || die "wrk failed (Basic flood)"
    fair_idle+=("$(p99_ms_of "$RESULTS/fair-idle-$run.txt")")
    fair_loaded+=("$(p99_ms_of "$RESULTS/fair-loaded-$run.txt")")
    fair_basic+=("$(rps_of "$RESULTS/fair-basic-$run.txt")")
done
SPREAD+=("fair_idle_p99=${fair_idle[*]}" "fair_loaded_p99=${fair_loaded[*]}")

report_fairness() {
    local idle loaded
    idle="$(median "${fair_idle[@]}")"
    loaded="$(median "${fair_loaded[@]}")"
    info "login_p99_ms_idle (another account)" "$idle"
    info "login_p99_ms_under_basic_flood" "$loaded"
    info "basic_flood_rps (one account, 64 conns)" "$(median "${fair_basic[@]}")"
    check "login_p99_flood_vs_idle" "$(ratio "$loaded" "$idle")" lt 3
}
