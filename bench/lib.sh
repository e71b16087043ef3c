# Helpers of bench/run.sh and bench/cluster.sh (sourced, not run): the knobs they share,
# servers, wrk runs, parsing and the report. Expects ROOT to be set, and RESULTS before a run.

DURATION="${BENCH_DURATION:-5s}"
RUNS="${BENCH_RUNS:-3}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
BIN="${BENCH_BIN:-$ROOT/target/release/tokend}"
# shellcheck disable=SC2034 # used by the scripts that source this file
ADMIN_PASSWORD="bench-admin-pw-$RANDOM$RANDOM"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- servers ----------------------------------------------------------------------------------
SERVER_PID=""
SERVER_LOG=""
STARTUP_MS=""

# start_server DATA_DIR [VAR=value ...]: starts $BIN on a free port with the current
# environment plus the given variables, and sets BASE, SERVER_PID and STARTUP_MS (from
# spawning the process to the first 200 of GET /api/info, polled every millisecond).
start_server() {
    local data_dir="$1"; shift
    local port; port="$(free_port)"
    BASE="http://127.0.0.1:$port"
    SERVER_LOG="$data_dir/server.log"
    local out
    out="$(env "$@" TOKEND_DATA_DIR="$data_dir" TOKEND_BIND="127.0.0.1:$port" \
        python3 - "$BIN" "$port" "$SERVER_LOG" <<'PY'
import http.client, subprocess, sys, time
binary, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
# A process group of its own (signals from the terminal do not reach it) but the bench's
# session: Linux's autogroup scheduling gives each session an equal share of the CPU, so a
# server in a session of its own would compete with wrk as a peer, and its bcrypt threads
# (nice 9) would stall its own request threads for 100 ms-1 s whenever wrk took the share.
proc = subprocess.Popen([binary], stdout=open(log, "ab"), stderr=subprocess.STDOUT, process_group=0)
while time.perf_counter() - start < 20:
    if proc.poll() is not None:
        print(proc.pid, -1); sys.exit(0)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/api/info"); status = conn.getresponse().status; conn.close()
        if status == 200:
            print(proc.pid, f"{(time.perf_counter() - start) * 1000:.1f}"); sys.exit(0)
    except OSError:
        pass
    time.sleep(0.001)
print(proc.pid, -1)
PY
    )"
    read -r SERVER_PID STARTUP_MS <<<"$out"
    [ "$STARTUP_MS" != "-1" ] || { tail -n 20 "$SERVER_LOG" >&2; die "the server did not start ($*)"; }
    log "server $SERVER_PID on $BASE answered after $STARTUP_MS ms ($*)"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# Resident memory of the server in MB: now (VmRSS) and the peak so far (VmHWM).
rss_mb() { awk -v k="${1:-VmRSS}:" '$1 == k {printf "%.1f\n", $2 / 1024}' "/proc/$SERVER_PID/status"; }

# --- HTTP helpers -----------------------------------------------------------------------------
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -n1 | cut -d'"' -f4; }

login() { # login USER PASSWORD -> "userId authToken"
    local body uid token
    body="$(curl -sS -H 'Content-Type: application/json' \
        -d "{\"user\":\"$1\",\"password\":\"$2\"}" "$BASE/api/v1/login")"
    uid="$(json_field userId <<<"$body")"
    token="$(json_field authToken <<<"$body")"
    [ -n "$uid" ] && [ -n "$token" ] || die "login as $1 failed: $body"
    echo "$uid $token"
}

expect_200() { # expect_200 WHAT curl-args...
    local what="$1"; shift
    local code; code="$(curl -sS -o "$RESULTS/last-body.txt" -w '%{http_code}' "$@")"
    [ "$code" = 200 ] || die "$what answered $code: $(head -c 300 "$RESULTS/last-body.txt")"
}

# --- wrk and parsing --------------------------------------------------------------------------
rps_of() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
p99_ms_of() {
    awk '$1 == "99%" {
        v = $2
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f\n", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f\n", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f\n", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f\n", v * 1000 }
    }' "$1"
}
errors_of() { # non-2xx responses + socket errors
    awk '/Non-2xx or 3xx responses:/ {n += $NF}
         /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
         END {print n + 0}' "$1"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}'; }

TOTAL_ERRORS=0
wrk_run() { # wrk_run NAME wrk-args...  (output in $RESULTS/NAME.txt)
    local name="$1"; shift
    local out="$RESULTS/$name.txt"
    wrk "$@" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($name)"; }
    local e; e="$(errors_of "$out")"
    TOTAL_ERRORS=$((TOTAL_ERRORS + e))
    [ "$e" -eq 0 ] || log "$name: $e errors (non-2xx or socket errors), see $out"
}

# measure NAME RUNS wrk-args...: RUNS runs at -t$THREADS -c$CONNS -d$DURATION; sets
# M_RPS and M_P99 (medians) and M_ALL (every run's rps, for the spread).
measure() {
    local name="$1" runs="$2"; shift 2
    local rps=() p99=()
    for run in $(seq 1 "$runs"); do
        export BENCH_RUN="$run" # the Lua scripts keep runs apart with it
        wrk_run "$name-$run" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@"
        rps+=("$(rps_of "$RESULTS/$name-$run.txt")")
        p99+=("$(p99_ms_of "$RESULTS/$name-$run.txt")")
    done
    M_RPS="$(median "${rps[@]}")"
    M_P99="$(median "${p99[@]}")"
    M_ALL="${rps[*]}"
    SPREAD+=("$name=${rps[*]}")
}
SPREAD=()

# measure_interleaved BASE NAME...: RUNS rounds, each running every NAME once in turn (its wrk
# arguments in the array ARGS_<NAME>), so that the machine's drift during the suite falls on all
# of them alike instead of on whichever was measured last. Sets RPS_<NAME> and P99_<NAME>
# (medians over the rounds) and VS_<NAME>: the median of the per-round ratios to BASE.
measure_interleaved() {
    local base="$1"; shift
    local -A rps_of_name p99_of_name
    local name run args
    for run in $(seq 1 "$RUNS"); do
        export BENCH_RUN="$run"
        for name in "$@"; do
            eval "args=(\"\${ARGS_$name[@]}\")"
            wrk_run "$name-$run" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${args[@]}"
            rps_of_name[$name]+=" $(rps_of "$RESULTS/$name-$run.txt")"
            p99_of_name[$name]+=" $(p99_ms_of "$RESULTS/$name-$run.txt")"
        done
    done
    local -a base_rps rps ratios
    read -r -a base_rps <<<"${rps_of_name[$base]}"
    for name in "$@"; do
        read -r -a rps <<<"${rps_of_name[$name]}"
        ratios=()
        for run in "${!rps[@]}"; do ratios+=("$(ratio "${rps[$run]}" "${base_rps[$run]}")"); done
        # shellcheck disable=SC2086 # the p99 list is space-separated numbers
        printf -v "P99_$name" '%s' "$(median ${p99_of_name[$name]})"
        printf -v "RPS_$name" '%s' "$(median "${rps[@]}")"
        printf -v "VS_$name" '%s' "$(median "${ratios[@]}")"
        SPREAD+=("$name=${rps[*]}")
    done
}

# --- the report -------------------------------------------------------------------------------
MISSES=0
line() { # line NAME VALUE TARGET VERDICT
    printf '%-34s %12s %12s  %s\n' "$1" "$2" "$3" "$4" | tee -a "$RESULTS/summary.txt"
}
info() { line "$1" "$2" "-" "-"; }
check() { # check NAME VALUE OP LIMIT  (OP: ge, lt, eq)
    local verdict sym
    if awk -v v="$2" -v l="$4" -v op="$3" \
        'BEGIN {exit !((op == "ge" && v >= l) || (op == "lt" && v < l) || (op == "eq" && v == l))}'; then
        verdict=yes
    else
        verdict=NO; MISSES=$((MISSES + 1))
    fi
    case "$3" in ge) sym=">=";; lt) sym="<";; eq) sym="==";; esac
    line "$1" "$2" "$sym $4" "$verdict"
}
