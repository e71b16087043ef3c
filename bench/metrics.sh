# Sourced by bench/run.sh after realistic.sh: authenticated /me with Prometheus metrics on
# (TOKEND_METRICS_BIND set, scraped every second as a Prometheus would) against the same
# server with them off (issue 18: on must hold >= 0.9x off). One small store, one token; each
# server warmed up first, then RUNS runs each.

mkdir -p "$WORK/metrics"
# me_figure NAME [VAR=value...]: starts a server on the metrics store with the variables, logs
# in, warms up and measures /me; sets M_RPS and M_P99. With COUNT_WRITES=1 it also counts
# the store's write batches during the measured runs (WRITE_BATCHES): issue 17's last use is
# coalesced, so one token's load writes at most once a minute, not once a request.
me_figure() {
    local name="$1"; shift
    start_server "$WORK/metrics" "$@"
    local admin_id admin_token
    read -r admin_id admin_token <<<"$(login admin "$ADMIN_PASSWORD")"
    local auth=(-H "X-User-Id: $admin_id" -H "X-Auth-Token: $admin_token")
    expect_200 "GET /api/v1/me ($name)" "${auth[@]}" "$BASE/api/v1/me"
    wrk -t"$THREADS" -c"$CONNS" -d2s "${auth[@]}" "$BASE/api/v1/me" >/dev/null
    local batches_before=""
    [ -n "${COUNT_WRITES:-}" ] && batches_before="$(write_batches)"
    measure "$name" "$RUNS" "${auth[@]}" "$BASE/api/v1/me"
    [ -n "${COUNT_WRITES:-}" ] && WRITE_BATCHES=$(($(write_batches) - batches_before))
    stop_server
}

# The number of write batches the store committed so far (from the metrics listener).
write_batches() {
    curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" |
        awk '$1 == "tokend_store_write_batch_size_count" {print $2}'
}

log "metrics: /me with metrics off, then on (scraped every second)"
me_figure me_metrics_off
METRICS_OFF_RPS="$M_RPS" METRICS_OFF_P99="$M_P99"
METRICS_PORT="$(free_port)"
# A scraper like Prometheus's: one GET /metrics a second while the runs go on.
# Bounded: it stops with the suite, or after 10 minutes whatever happens.
(
    for _ in $(seq 1 600); do
        kill -0 $$ 2>/dev/null && sleep 1 || break
        curl -fsS -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null || true
    done
) &
SCRAPER_PID=$!
COUNT_WRITES=1 me_figure me_metrics_on TOKEND_METRICS_BIND="127.0.0.1:$METRICS_PORT"
kill "$SCRAPER_PID" 2>/dev/null || true
wait "$SCRAPER_PID" 2>/dev/null || true
METRICS_ON_RPS="$M_RPS" METRICS_ON_P99="$M_P99"
