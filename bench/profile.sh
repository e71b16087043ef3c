#!/usr/bin/env bash
# Instruction counts per authenticated request (valgrind --tool=callgrind): GET /api/v1/me
# with one login token (the cached path); with a new token of a user met before on every
# request (a token miss: one database lookup, the user's cached record and /me body reused);
# and with a new token of a new user on every request (both cold: the lookup, the user's
# record and the rendering); `GET /api/info`, the baseline; SAYMON's users/current?api-token=. Split by where the instructions are spent.
# Builds `cargo build --profile profiling` (release with symbols). See bench/README.md.
#
# Knobs: PROFILE_REQUESTS (2000), PROFILE_SKIP_BUILD (use the existing profiling binary).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${PROFILE_REQUESTS:-2000}"
RESULTS="$ROOT/bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ)"
source "$ROOT/bench/lib.sh"
# After lib.sh, which sets the suites' defaults: the profiling build, one connection.
BIN="$ROOT/target/profiling/tokend"
DURATION=1s THREADS=1 CONNS=1 RUNS=1
command -v valgrind >/dev/null || die "valgrind is missing (apt-get install valgrind)"
[ -n "${PROFILE_SKIP_BUILD:-}" ] || cargo build --profile profiling
mkdir -p "$RESULTS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tokend-profile.XXXXXX")"
trap 'stop_server; rm -rf "$WORK"' EXIT

export TOKEND_ADMIN_USERNAME=admin TOKEND_ADMIN_PASSWORD="profile-admin-pw" RUST_LOG=info
PREFIX="$(printf 'p%.0s' $(seq 1 33))"
# N users and 2N tokens: token i belongs to user i mod N, so tokens 0..N-1 meet each user
# for the first time (the cold profile) and tokens N..2N-1 meet them again (the token-miss one).
start_server "$WORK"
stop_server
TOKEND_DATA_DIR="$WORK" "$BIN" bench seed --users "$N" --tokens "$((2 * N))" --prefix "$PREFIX" >"$WORK/users"
port="$(free_port)"
BASE="http://127.0.0.1:$port"
TOKEND_DATA_DIR="$WORK" TOKEND_BIND="127.0.0.1:$port" TOKEND_WORKERS=1 \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$RESULTS/callgrind.%p" \
    "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do curl -sf -o /dev/null "$BASE/api/info" && break; sleep 0.1; done
read -r ME_ID ME_TOKEN <<<"$(login admin "$TOKEND_ADMIN_PASSWORD")"
# The same user's SAYMON API token (`?api-token=`), minted with HTTP Basic.
API_TOKEN="$(curl -sf -X POST -u "admin:$TOKEND_ADMIN_PASSWORD" "$BASE/node/api/users/$ME_ID/auth-token" | tr -d '"')"
[ -n "$API_TOKEN" ] || die "minting a SAYMON API token failed"

# profile NAME: N requests over one keep-alive connection with callgrind collecting.
profile() {
    # Warm-up outside the count: the login token's cache entry and rendered body exist.
    curl -sf -o /dev/null -H "X-User-Id: $ME_ID" -H "X-Auth-Token: $ME_TOKEN" "$BASE/api/v1/me"
    curl -sf -o /dev/null "$BASE/node/api/users/current?api-token=$API_TOKEN"
    callgrind_control -i on "$SERVER_PID" >/dev/null
    python3 - "$port" "$N" "$1" "$ME_ID" "$ME_TOKEN" "$WORK/users" "$PREFIX" "$API_TOKEN" <<'PY'
import http.client, sys
port, n, mode, uid, token, users_file, prefix, api_token = sys.argv[1:]
users = [l.strip() for l in open(users_file) if l.strip()]
c = http.client.HTTPConnection("127.0.0.1", int(port))
first = {"cold": 0, "miss": int(n)}.get(mode)
for i in range(int(n)):
    if first is not None:
        uid, token = users[(first + i) % len(users)], f"{prefix}{first + i:010d}"
    if mode == "info":  # the unauthenticated baseline bench/run.sh divides by
        c.request("GET", "/api/info")
    elif mode == "saymon":
        c.request("GET", f"/node/api/users/current?api-token={api_token}")
    else:
        c.request("GET", "/api/v1/me", headers={"X-User-Id": uid, "X-Auth-Token": token})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
    callgrind_control -i off "$SERVER_PID" >/dev/null
    callgrind_control -d "$1" "$SERVER_PID" >/dev/null # also zeroes the counters
}
# The cold and miss runs queue thousands of last-use records, written within 10 s by a
# background flush: the runs without store work go first so that the flush cannot land in them.
profile hit
profile info
profile saymon
profile cold
profile miss
stop_server
sleep 1

# Dumps are numbered in the order above.
for dump in "$RESULTS"/callgrind.*.[12345]; do
    callgrind_annotate --auto=no --threshold=100 "$dump" >"$dump.txt"
    case "$dump" in
        *.1) mode="cached token" ;;
        *.2) mode="GET /api/info (no credential: the baseline of the throughput ratios)" ;;
        *.3) mode="SAYMON GET users/current?api-token= (cached)" ;;
        *.4) mode="a new token of a new user each request (lookup, record, rendering)" ;;
        *) mode="a new token of a known user each request (one lookup)" ;;
    esac
    python3 - "$dump.txt" "$N" "$mode" <<'PY' | tee -a "$RESULTS/breakdown.txt"
import re, sys
path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
groups = [
    ("hashing (sha2)", r"sha2|sha256"),
    ("database (sqlite, rusqlite, r2d2)", r"sqlite3\.c|rusqlite|r2d2|libsqlite3"),
    ("json (serde_json)", r"serde_json|serde::"),
    ("thread hand-off (blocking pool, futex)", r"tokio::runtime::blocking|parking_lot|futex|std::sync::mpmc|Condvar"),
    ("allocator (malloc/free)", r"malloc|free|realloc|calloc|_int_|cfree"),
    ("memory copies (libc)", r"memcpy|memmove|memset|memcmp|strlen"),
    ("logging (env_logger, access log)", r"env_logger|log::|middleware::logger"),
    ("actix, tokio, tokend and the rest", r""),
]
total, sums = 0, {g: 0 for g, _ in groups}
for line in open(path):
    m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", line)
    if not m or "PROGRAM TOTALS" in line:
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
        continue
    ir, name = int(m.group(1).replace(",", "")), m.group(2)
    for g, pattern in groups:
        if re.search(pattern, name):
            sums[g] += ir
            break
print(f"{mode}: {total / n:,.0f} instructions per request (callgrind, {n} requests)")
for g, _ in groups:
    print(f"  {g:42s} {sums[g] / n:>10,.0f}  {100 * sums[g] / max(total, 1):5.1f} %")
PY
done
echo "raw: $RESULTS"
