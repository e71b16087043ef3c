#!/usr/bin/env bash
# A real Prometheus scrapes tokend: starts tokend with metrics on and Prometheus (Debian
# package `prometheus`) on loopback with a scrape config pointing at tokend's metrics
# listener, drives a scripted run (logins, failures, a lockout, a mint, a logout, a 429, a
# SAYMON request), then asks Prometheus's HTTP API (/api/v1/query) for the series the run must
# have produced and checks their values, and that no label carries a user id, name or token.
# Usage: TOKEND_BIN=target/debug/tokend tests/ops/prometheus.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOKEND_BIN="${TOKEND_BIN:-$ROOT/target/debug/tokend}"
PROMETHEUS="${PROMETHEUS:-prometheus}"
for tool in "$PROMETHEUS" curl python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install prometheus curl python3)" >&2; exit 1; }
done
[ -x "$TOKEND_BIN" ] || { echo "missing $TOKEND_BIN (cargo build)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tokend-prometheus.XXXXXX")"
TOKEND_PID="" PROM_PID=""
cleanup() {
    local rc=$?
    for pid in $TOKEND_PID $PROM_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        echo "--- tokend log (tail)"; tail -n 30 "$WORK/tokend.log" 2>/dev/null || true
        echo "--- prometheus log (tail)"; tail -n 30 "$WORK/prometheus.log" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for URL SECONDS
    for _ in $(seq 1 $(($2 * 10))); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no answer from $1 within $2 s" >&2
    return 1
}

API_PORT="$(free_port)" METRICS_PORT="$(free_port)" PROM_PORT="$(free_port)"
API="http://127.0.0.1:$API_PORT"
ADMIN_PW="prom-Admin-pw-$RANDOM$RANDOM"

echo "== tokend on $API, metrics on 127.0.0.1:$METRICS_PORT"
mkdir -p "$WORK/data"
env -u RUST_LOG TOKEND_DATA_DIR="$WORK/data" TOKEND_BIND="127.0.0.1:$API_PORT" \
    TOKEND_METRICS_BIND="127.0.0.1:$METRICS_PORT" TOKEND_ADMIN_PASSWORD="$ADMIN_PW" \
    CREATE_TOKENS_FOR_USERS=true TOKEND_LOGIN_BLOCK_USER_ATTEMPTS=2 \
    TOKEND_RATE_LIMIT=all TOKEND_RATE_LIMIT_CALLS=5 TOKEND_LOG_FORMAT=json \
    "$TOKEND_BIN" >"$WORK/tokend.log" 2>&1 &
TOKEND_PID=$!
wait_for "http://127.0.0.1:$METRICS_PORT/metrics" 20

echo "== prometheus on 127.0.0.1:$PROM_PORT"
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tokend
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
YAML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
wait_for "http://127.0.0.1:$PROM_PORT/-/ready" 60

echo "== scripted run"
post() { curl -sS -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
expect() { # expect WANTED GOT WHAT
    [ "$1" = "$2" ] || { echo "FAIL: $3: HTTP $2, wanted $1: $(cat "$WORK/body")" >&2; exit 1; }
}
expect 200 "$(post -d "{\"user\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$API/api/v1/login")" "admin login"
read -r ADMIN_ID ADMIN_TOKEN < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; print(d["userId"], d["authToken"])' "$WORK/body")
AUTH=(-H "X-User-Id: $ADMIN_ID" -H "X-Auth-Token: $ADMIN_TOKEN")
for _ in 1 2; do
    expect 401 "$(post -d '{"user":"mallory","password":"wrong-guess-1"}' "$API/api/v1/login")" "wrong password"
done
expect 401 "$(post -d '{"user":"mallory","password":"wrong-guess-1"}' "$API/api/v1/login")" "locked out"
grep -q error-login-blocked-for-user "$WORK/body" || { echo "FAIL: not a lockout: $(cat "$WORK/body")" >&2; exit 1; }
expect 200 "$(post "${AUTH[@]}" -d "{\"userId\":\"$ADMIN_ID\"}" "$API/api/v1/users.createToken")" "createToken"
for _ in 1 2 3; do
    expect 200 "$(curl -sS -o "$WORK/body" -w '%{http_code}' "${AUTH[@]}" "$API/api/v1/me")" "me"
done
expect 200 "$(curl -sS -o "$WORK/body" -w '%{http_code}' -u "admin:$ADMIN_PW" "$API/node/api/users/$ADMIN_ID")" "SAYMON user"
for _ in 1 2 3 4 5 6; do
    curl -sS -o "$WORK/body" -w '%{http_code}\n' "$API/api/info" >>"$WORK/info-codes"
done
grep -q 429 "$WORK/info-codes" || { echo "FAIL: /api/info was never rate limited" >&2; exit 1; }
expect 200 "$(post "${AUTH[@]}" "$API/api/v1/logout")" "logout"

echo "== querying Prometheus"
python3 - "http://127.0.0.1:$PROM_PORT" "$ADMIN_ID" "$ADMIN_TOKEN" "$ROOT/docs/grafana-dashboard.json" <<'PY'
import json, sys, time, urllib.parse, urllib.request

prom, admin_id, admin_token, dashboard = sys.argv[1:5]

def query(expr):
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        answer = json.load(r)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]

def value(expr):
    result = query(expr)
    return float(result[0]["value"][1]) if result else None

# The logout is the run's last event: once Prometheus has it, it has scraped after the run.
deadline = time.time() + 30
while value('sum(tokend_tokens_revoked_total{kind="login"})') != 1.0:
    assert time.time() < deadline, "Prometheus never scraped the revocation"
    time.sleep(0.5)
time.sleep(3)  # a few more scrapes, so rate() over the run has two samples of every series

expected = [
    ('up{job="tokend"}', lambda v: v == 1),
    ('tokend_build_info', lambda v: v == 1),
    ('tokend_logins_total{dialect="rocketchat"}', lambda v: v == 1),
    ('tokend_logins_total{dialect="saymon"}', lambda v: v == 1),
    ('tokend_login_failures_total{dialect="rocketchat",reason="bad_credentials"}', lambda v: v == 2),
    ('tokend_login_failures_total{dialect="rocketchat",reason="blocked"}', lambda v: v == 1),
    ('tokend_lockouts_total{scope="account"}', lambda v: v == 1),
    ('tokend_tokens_minted_total{kind="login",actor="self"}', lambda v: v == 2),
    ('tokend_tokens_revoked_total{kind="login",actor="self"}', lambda v: v == 1),
    ('tokend_rate_limited_requests_total{dialect="rocketchat",limit="calls"}', lambda v: v >= 1),
    ('tokend_http_requests_total{route="/api/v1/me",method="GET",status="200"}', lambda v: v == 3),
    ('tokend_http_requests_total{dialect="saymon",route="/node/api/users/{id}",status="200"}', lambda v: v == 1),
    ('sum(tokend_http_requests_total{route="/api/info",status="429"})', lambda v: v >= 1),
    ('tokend_http_request_duration_seconds_count{route="/api/v1/login"}', lambda v: v == 4),
    ('histogram_quantile(0.99, sum by (le) (tokend_http_request_duration_seconds_bucket{route="/api/v1/login"}))',
     lambda v: 0 < v <= 5),
    ('tokend_token_cache_lookups_total{cache="rocketchat",result="hit"}', lambda v: v >= 1),
    ('tokend_store_write_batch_size_count', lambda v: v >= 1),
    ('tokend_store_pool_wait_seconds_count', lambda v: v >= 1),
]
failed = 0
for expr, ok in expected:
    v = value(expr)
    good = v is not None and ok(v)
    failed += not good
    print(f"{'ok  ' if good else 'FAIL'} {expr} = {v}")

# Label hygiene, over every tokend series Prometheus holds.
series = query('{__name__=~"tokend_.+"}')
assert len(series) > 20, series
for s in series:
    for name, text in s["metric"].items():
        for private in (admin_id, admin_token, "admin:", "mallory", "127.0.0.1"):
            if private in text and not (name == "instance"):
                failed += 1
                print(f"FAIL label {name}={text!r} holds {private!r}")
# Every query of the shipped Grafana dashboard is valid PromQL and finds data after the run
# (the second-factor panel aside: the run has no second factor).
checked = len(expected)
for panel in json.load(open(dashboard))["panels"]:
    for target in panel["targets"]:
        expr = target["expr"].replace("$__rate_interval", "5m").replace("$job", ".+")
        checked += 1
        try:
            found = query(expr)
        except Exception as e:  # an invalid expression is a 400 from Prometheus
            failed += 1
            print(f"FAIL dashboard {panel['title']!r}: {expr}: {e}")
            continue
        if not found and "second_factor" not in expr and "5.." not in expr:
            failed += 1
            print(f"FAIL dashboard {panel['title']!r} finds nothing: {expr}")
print(f"{checked - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
