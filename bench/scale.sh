# Sourced by bench/run.sh after the writes: throughput with 1 and 2 HTTP workers on the main
# store, then a store of 1000 tokens against one of $SCALE_TOKENS.

for w in 1 2; do
    stop_server
    start_server "$WORK/main" TOKEND_WORKERS="$w"
    log "scaling: TOKEND_WORKERS=$w"
    wrk -t"$THREADS" -c"$CONNS" -d2s "${ME[@]}" "$BASE/api/v1/me" >/dev/null
    measure "workers-$w-info" "$RUNS" "$BASE/api/info"
    declare "W${w}_INFO=$M_RPS"
    measure "workers-$w-me" "$RUNS" "${ME[@]}" "$BASE/api/v1/me"
    declare "W${w}_ME=$M_RPS"
done
stop_server

# scale_run STORE NAME SPAN: /me with a token drawn uniformly from the store's first SPAN
# tokens on every request, after a warm-up of the same.
scale_run() {
    export $(seeded "$1" random 0 "$3")
    wrk -t"$THREADS" -c"$CONNS" -d2s -s "$ROOT/bench/lua/seeded.lua" "$BASE" >/dev/null
    measure "$2" "$RUNS" -s "$ROOT/bench/lua/seeded.lua" "$BASE"
}

log "scale: a store of 1000 tokens (100 users)"
seeded_store small 100 1000
SMALL_BYTES="$DB_BYTES"
start_server "$WORK/small"
scale_run small scale-1k 1000
SMALL_RPS="$M_RPS"
stop_server

log "scale: a store of $SCALE_TOKENS tokens (10000 users)"
seeded_store large 10000 "$SCALE_TOKENS"
LARGE_BYTES="$DB_BYTES"
LARGE_SEED_SECONDS="$SEED_SECONDS"
start_server "$WORK/large"
START_SCALE_MS="$STARTUP_MS"
scale_run large scale-large-hot 1000
LARGE_HOT_RPS="$M_RPS"
scale_run large scale-large-cold "$SCALE_TOKENS"
LARGE_COLD_RPS="$M_RPS"
LARGE_COLD_P99="$M_P99"
SCALE_RSS="$(rss_mb VmHWM)"
stop_server

report_scale() {
    info "scale_1k_tokens_me_rps" "$SMALL_RPS"
    info "scale_${SCALE_TOKENS}_tokens_me_rps" "$LARGE_HOT_RPS"
    check "scale_${SCALE_TOKENS}_vs_1k" "$(ratio "$LARGE_HOT_RPS" "$SMALL_RPS")" ge 0.9
    info "scale_${SCALE_TOKENS}_cold_me_rps" "$LARGE_COLD_RPS"
    info "scale_${SCALE_TOKENS}_cold_p99_ms" "$LARGE_COLD_P99"
    info "scale_seed_seconds ($SCALE_TOKENS tokens)" "$LARGE_SEED_SECONDS"
    info "db_mb_per_million_tokens" \
        "$(awk -v l="$LARGE_BYTES" -v s="$SMALL_BYTES" -v n="$SCALE_TOKENS" 'BEGIN {printf "%.1f", (l - s) / (n - 1000) * 1e6 / 1048576}')"
}
