# Sourced by bench/run.sh after scale.sh: the load an auth server actually sees (issue 14).
# On the store of $SCALE_TOKENS tokens over 10 000 users: /me with one token (the one-token
# figure) and with random tokens of the 10 000 users, each in rounds of a run alone and a run
# while 8 connections log in (the bcrypt bound; the one-token pair is the control: what the
# logins' CPU alone costs, with no cache effect); then 100 000 and all $SCALE_TOKENS distinct
# tokens in turn (every request a new token until the span wraps); SAYMON ?api-token= of
# random users in the same rounds as /me. Each figure is also a ratio to /api/info.

start_server "$WORK/large"
read -r LARGE_ADMIN_ID LARGE_ADMIN_TOKEN <<<"$(login admin "$ADMIN_PASSWORD")"
LOGIN_USERS=""
for i in $(seq 1 8); do
    expect_200 "users.create real-$i (large store)" -H 'Content-Type: application/json' \
        -H "X-User-Id: $LARGE_ADMIN_ID" -H "X-Auth-Token: $LARGE_ADMIN_TOKEN" "$BASE/api/v1/users.create" \
        -d "{\"email\":\"real-$i@example.com\",\"name\":\"Real $i\",\"username\":\"real-$i\",\"password\":\"$USER_PASSWORD\"}"
    LOGIN_USERS="$LOGIN_USERS real-$i:$USER_PASSWORD"
done

# real_run NAME PICK SPAN [VAR=value...]: RUNS measured runs of /me (or SAYMON) after a warm-up.
real_run() {
    local name="$1" pick="$2" span="$3"; shift 3
    export $(seeded large "$pick" 0 "$span" "$@")
    wrk -t"$THREADS" -c"$CONNS" -d2s -s "$ROOT/bench/lua/seeded.lua" "$BASE" >/dev/null
    measure "$name" "$RUNS" -s "$ROOT/bench/lua/seeded.lua" "$BASE"
}

# real_pair NAME PICK SPAN [VAR=value...]: RUNS rounds, each a run of /me (or SAYMON) alone
# and then a run while 8 connections log in (the bcrypt bound). The ratio is taken within each
# round and the median of the rounds' ratios reported, as in run.sh's interleaved rounds: this
# VM's throughput drifts by 10-20% over a minute, and measuring every run without logins before
# every run with them put that drift into the ratio. Sets B_RPS/B_P99 (alone), M_RPS/M_P99/
# M_LOGINS (with logins; medians) and M_VS (the median of the per-round ratios).
real_pair() {
    local name="$1" pick="$2" span="$3"; shift 3
    export $(seeded large "$pick" 0 "$span" "$@")
    wrk -t"$THREADS" -c"$CONNS" -d2s -s "$ROOT/bench/lua/seeded.lua" "$BASE" >/dev/null
    local alone=() alone_p99=() rps=() p99=() logins=() ratios=()
    for run in $(seq 1 "$RUNS"); do
        export BENCH_RUN="$run"
        wrk_run "$name-alone-$run" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$ROOT/bench/lua/seeded.lua" "$BASE"
        BENCH_LOGIN_USERS="$LOGIN_USERS" wrk -t1 -c8 -d"$(( ${DURATION%s} + 3 ))s" --timeout 10s \
            -s "$ROOT/bench/lua/logins.lua" "$BASE/api/v1/login" >"$RESULTS/$name-logins-$run.txt" 2>&1 &
        local login_pid=$!
        sleep 1 # the logins fill the hashing threads first
        wrk_run "$name-$run" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$ROOT/bench/lua/seeded.lua" "$BASE"
        wait "$login_pid" || die "wrk failed (logins during $name)"
        TOTAL_ERRORS=$((TOTAL_ERRORS + $(errors_of "$RESULTS/$name-logins-$run.txt")))
        alone+=("$(rps_of "$RESULTS/$name-alone-$run.txt")")
        alone_p99+=("$(p99_ms_of "$RESULTS/$name-alone-$run.txt")")
        rps+=("$(rps_of "$RESULTS/$name-$run.txt")")
        p99+=("$(p99_ms_of "$RESULTS/$name-$run.txt")")
        logins+=("$(rps_of "$RESULTS/$name-logins-$run.txt")")
        ratios+=("$(ratio "${rps[-1]}" "${alone[-1]}")")
    done
    B_RPS="$(median "${alone[@]}")"; B_P99="$(median "${alone_p99[@]}")"
    M_RPS="$(median "${rps[@]}")"; M_P99="$(median "${p99[@]}")"; M_LOGINS="$(median "${logins[@]}")"
    M_VS="$(median "${ratios[@]}")"
    SPREAD+=("$name-alone=${alone[*]}" "$name=${rps[*]}" "$name-logins=${logins[*]}")
}

log "realistic: /api/info, one token, random tokens of 10 000 users, with and without logins"
measure real-info "$RUNS" "$BASE/api/info"; R_INFO="$M_RPS"
real_pair real-one random 1; R_ONE="$B_RPS"; R_ONE_P99="$B_P99"; R_ONE_L="$M_RPS"; R_ONE_L_P99="$M_P99"; R_ONE_VS="$M_VS"
real_pair real-10k random 10000; R_10K="$B_RPS"; R_10K_P99="$B_P99"
R_10K_L="$M_RPS"; R_10K_L_P99="$M_P99"; R_LOGINS="$M_LOGINS"; R_10K_VS="$M_VS"
log "realistic: 100 000 and $SCALE_TOKENS distinct tokens in turn"
real_run real-100k cycle 100000; R_100K="$M_RPS"; R_100K_P99="$M_P99"
real_run real-all cycle "$SCALE_TOKENS"; R_ALL="$M_RPS"; R_ALL_P99="$M_P99"
log "realistic: SAYMON ?api-token= of random users, with and without logins"
real_pair real-saymon random 10000 BENCH_SAYMON=1; R_SAY="$B_RPS"; R_SAY_P99="$B_P99"
R_SAY_L="$M_RPS"; R_SAY_L_P99="$M_P99"; R_SAY_VS="$M_VS"
REAL_RSS="$(rss_mb VmHWM)"
stop_server

report_realistic() {
    info "real_info_rps" "$R_INFO"
    info "real_one_token_rps (vs info)" "$R_ONE ($(ratio "$R_ONE" "$R_INFO"))"
    info "real_10k_users_rps (vs info)" "$R_10K ($(ratio "$R_10K" "$R_INFO"))"
    check "real_10k_users_p99_ms" "$R_10K_P99" lt 5
    info "real_10k_users_with_logins_rps (vs info)" "$R_10K_L ($(ratio "$R_10K_L" "$R_INFO"))"
    check "real_10k_with_logins_vs_without (median of rounds)" "$R_10K_VS" ge 0.8
    check "real_10k_with_logins_p99_ms" "$R_10K_L_P99" lt 5
    info "real_logins_per_s_during_me_load" "$R_LOGINS"
    info "real_one_token_with_logins_vs_without" "$R_ONE_VS (p99 $R_ONE_L_P99 ms)"
    info "real_10k_vs_one_token_both_with_logins" "$(ratio "$R_10K_L" "$R_ONE_L")"
    info "real_100k_cycling_rps (vs info)" "$R_100K ($(ratio "$R_100K" "$R_INFO"))"
    check "real_100k_cycling_vs_one_token" "$(ratio "$R_100K" "$R_ONE")" ge 0.5
    check "real_100k_cycling_p99_ms" "$R_100K_P99" lt 5
    info "real_${SCALE_TOKENS}_cycling_rps (vs info)" "$R_ALL ($(ratio "$R_ALL" "$R_INFO"))"
    check "real_${SCALE_TOKENS}_cycling_vs_one_token" "$(ratio "$R_ALL" "$R_ONE")" ge 0.4
    info "real_${SCALE_TOKENS}_cycling_p99_ms" "$R_ALL_P99"
    info "real_saymon_10k_rps (vs info)" "$R_SAY ($(ratio "$R_SAY" "$R_INFO"))"
    info "real_saymon_10k_with_logins_rps" "$R_SAY_L"
    check "real_saymon_with_logins_vs_without (median of rounds)" "$R_SAY_VS" ge 0.8
    check "real_saymon_with_logins_p99_ms" "$R_SAY_L_P99" lt 5
    info "real_rss_peak_mb" "$REAL_RSS"
}
