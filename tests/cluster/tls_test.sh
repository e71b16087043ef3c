#!/usr/bin/env bash
# TLS between tokend and PostgreSQL: a real server (tests/cluster/lib.sh) that accepts TLS
# connections only (pg_hba `hostssl`), with a certificate for `localhost` issued by a test CA
# made here with openssl. Each libpq `sslmode` is started against it as a node operator would
# write it, and what must connect does (then logs in and reads /me over that connection, and
# the server's pg_stat_ssl shows the node's sessions encrypted), while what must be refused
# stops the start with exit 2 and the reason in the log:
#   verify-full + the CA, host localhost        ok
#   verify-full + the CA, host 127.0.0.1        refused: the certificate does not name it
#   verify-ca   + the CA, host 127.0.0.1        ok (chain only)
#   verify-full + another CA                    refused: unknown issuer
#   require, and prefer (no sslmode)            ok, encrypted, certificate unchecked
#   disable                                     refused by the server (no TLS, hostssl only)
#   verify-full without sslrootcert             refused before connecting
#   require + another CA as sslrootcert         refused: libpq checks the chain then too
#   prefer  + another CA as sslrootcert         refused: likewise, once TLS is on
#   PGSSLMODE / PGSSLROOTCERT in the environment honoured as libpq does (the conninfo wins);
#   PGSSLCERT refused
#   a first host that answers the SSLRequest and then stalls, sends garbage or closes:
#                                               given up on in TOKEND_DATABASE_TIMEOUT_SECS,
#                                               the next host serves
# Uses TOKEND_BIN (default target/release/tokend). About 15 s.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=tests/packaging/lib.sh
. "$HERE/../packaging/lib.sh"
# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"

TOKEND_BIN=${TOKEND_BIN:-$ROOT/target/release/tokend}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokend-tls.XXXXXX")
NODE_PID="" FAKE_PID=""
cleanup() {
    [ -z "$NODE_PID" ] || stop_pid "$NODE_PID"
    [ -z "$FAKE_PID" ] || stop_pid "$FAKE_PID"
    pg_teardown
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$TOKEND_BIN" ] || { echo "Bail out! no tokend binary at $TOKEND_BIN (cargo build --release)"; exit 1; }
command -v openssl >/dev/null || { echo "Bail out! openssl is missing (apt-get install openssl)"; exit 1; }
head -c 32 /dev/urandom >"$WORK/vault.key"
chmod 600 "$WORK/vault.key"

# ca NAME: a self-signed CA certificate and key.
ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tokend test $1" \
        -keyout "$WORK/$1.key" -out "$WORK/$1.pem" 2>/dev/null
}
if ! ca test-ca || ! ca other-ca; then echo "Bail out! openssl could not make the test CAs"; exit 1; fi
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
printf 'subjectAltName = DNS:localhost\n' >"$WORK/server.ext"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/test-ca.pem" -CAkey "$WORK/test-ca.key" -CAcreateserial \
    -days 2 -extfile "$WORK/server.ext" -out "$WORK/server.pem" 2>/dev/null || { echo "Bail out! no server certificate"; exit 1; }

pg_single || { echo "Bail out! PostgreSQL did not start"; exit 1; }
PORT=$(pg_primary_port)
cp "$WORK/server.pem" "$WORK/server.key" "$PG_DIR/primary/"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR/primary/server.pem" "$PG_DIR/primary/server.key"
chmod 600 "$PG_DIR/primary/server.key"
printf "ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n" >>"$PG_DIR/primary/postgresql.conf"
# TLS or nothing: every TCP client must be encrypted.
printf 'hostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\nhostnossl all all 0.0.0.0/0 reject\n' \
    >"$PG_DIR/primary/pg_hba.conf"
pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/primary" -w -t 30 restart -l "$PG_DIR/primary.log" >/dev/null ||
    { cat "$PG_DIR/primary.log" >&2; echo "Bail out! PostgreSQL did not restart with TLS"; exit 1; }

DB_COUNT=0
# Extra VAR=value settings of the next nodes' environment (libpq's PGSSL* variables).
NODE_ENV=()

# node CONNINFO-TAIL: starts a node on a fresh database with "port=… user=postgres dbname=…
# CONNINFO-TAIL" (or, for "?QUERY", postgresql://postgres@localhost:PORT/DB?QUERY); sets
# NODE_URL, NODE_LOG and NODE_RC (empty while it runs, else its exit status once it stopped).
node() {
    DB_COUNT=$((DB_COUNT + 1))
    local db="tls$DB_COUNT" port i conninfo="port=$PORT user=postgres dbname=tls$DB_COUNT $1"
    # A tail with its own ports (several hosts) replaces the default one.
    [[ "$1" != *port=* ]] || conninfo="user=postgres dbname=$db $1"
    [ "${1:0:1}" != "?" ] || conninfo="postgresql://postgres@localhost:$PORT/$db$1"
    PGSSLMODE=require pg_psql "$PORT" "CREATE DATABASE $db" >/dev/null
    port=$(free_port)
    NODE_URL="http://127.0.0.1:$port" NODE_LOG="$WORK/$db.log" NODE_RC=""
    mkdir -p "$WORK/$db"
    env -i PATH="$PATH" HOME="$WORK" TOKEND_BIND="127.0.0.1:$port" TOKEND_DATA_DIR="$WORK/$db" \
        TOKEND_DATABASE_URL="$conninfo" TOKEND_VAULT_KEY_FILE="$WORK/vault.key" \
        TOKEND_DATABASE_TIMEOUT_SECS=3 TOKEND_ADMIN_USERNAME=admin TOKEND_ADMIN_PASSWORD=tls-admin-password \
        "${NODE_ENV[@]}" "$TOKEND_BIN" >"$NODE_LOG" 2>&1 &
    NODE_PID=$!
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$NODE_PID" 2>/dev/null; then
            wait "$NODE_PID"
            NODE_RC=$?
            NODE_PID=""
            return
        fi
        [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$NODE_URL/api/ready")" = 200 ] && return
        sleep 0.1
    done
}

# serves NAME CONNINFO-TAIL: the node starts, a login and /me work, and every session it holds
# on the server is encrypted.
serves() {
    local name=$1 reply uid token encrypted
    node "$2"
    if [ -n "$NODE_RC" ]; then
        not_ok "$name: the node starts (exit $NODE_RC)"
        show "$NODE_LOG"
        return
    fi
    reply=$(post "$NODE_URL/api/v1/login" '{"user":"admin","password":"tls-admin-password"}')
    uid=$(sed -n 's/.*"userId":"\([^"]*\)".*/\1/p' <<<"$reply")
    token=$(sed -n 's/.*"authToken":"\([^"]*\)".*/\1/p' <<<"$reply")
    reply=$(get "$NODE_URL/api/v1/me" "$uid" "$token")
    encrypted=$(PGSSLMODE=require pg_psql "$PORT" "SELECT count(*) FILTER (WHERE s.ssl) || '/' || count(*)
        FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'tokend'")
    if [ "${reply%% *}" = 200 ] && [ -n "$token" ] && [ "${encrypted%%/*}" = "${encrypted##*/}" ] && [ "${encrypted##*/}" -gt 0 ]; then
        ok "$name: the node starts, logs in and serves /me; its sessions encrypted: $encrypted"
    else
        not_ok "$name: login and /me over TLS (me: ${reply:0:80}; encrypted sessions: $encrypted)"
        show "$NODE_LOG"
    fi
    stop_pid "$NODE_PID"
    NODE_PID=""
}

# refused NAME CONNINFO-TAIL PATTERN: the node stops by itself with exit 2, its log matching PATTERN.
refused() {
    local name=$1
    node "$2"
    if [ "$NODE_RC" = 2 ] && grep -Eq "$3" "$NODE_LOG"; then
        ok "$name: refused at start (exit 2): $(grep -Eo "$3" "$NODE_LOG" | head -1)"
    else
        not_ok "$name: refused at start with exit 2 and /$3/ in the log (exit ${NODE_RC:-none: it runs})"
        show "$NODE_LOG"
        [ -z "$NODE_PID" ] || { stop_pid "$NODE_PID"; NODE_PID=""; }
    fi
}

CA="$WORK/test-ca.pem"
serves "verify-full, the CA, host localhost" "host=localhost sslmode=verify-full sslrootcert=$CA"
serves "the same as a postgresql:// URL" "?sslmode=verify-full&sslrootcert=$CA&target_session_attrs=read-write"
refused "verify-full, host 127.0.0.1 (not in the certificate)" \
    "host=127.0.0.1 sslmode=verify-full sslrootcert=$CA" "certificate not valid for name \"127.0.0.1\""
serves "verify-ca, host 127.0.0.1 (the chain only)" "host=127.0.0.1 sslmode=verify-ca sslrootcert=$CA"
refused "verify-full with another CA" \
    "host=localhost sslmode=verify-full sslrootcert=$WORK/other-ca.pem" "invalid peer certificate: UnknownIssuer"
serves "require (encrypted, certificate unchecked)" "host=127.0.0.1 sslmode=require"
serves "prefer, libpq's default (TLS when offered)" "host=127.0.0.1"
refused "disable, against a server that accepts TLS only" "host=127.0.0.1 sslmode=disable" "pg_hba.conf rejects connection[^)]*no encryption"
refused "verify-full without sslrootcert" "host=localhost sslmode=verify-full" "need .sslrootcert"
refused "an sslrootcert file that is not PEM" "host=localhost sslmode=verify-full sslrootcert=$WORK/server.ext" \
    "no usable CA certificate"
refused "require with sslrootcert checks the chain (libpq's rule)" \
    "host=localhost sslmode=require sslrootcert=$WORK/other-ca.pem" "invalid peer certificate: UnknownIssuer"

refused "prefer (no sslmode) with another CA as sslrootcert: the chain is checked once TLS is on" \
    "host=localhost sslrootcert=$WORK/other-ca.pem" "invalid peer certificate: UnknownIssuer"
# libpq's environment variables are defaults the conninfo overrides; ignored, they would leave
# a node on prefer without a word.
NODE_ENV=(PGSSLMODE=verify-full "PGSSLROOTCERT=$CA")
serves "PGSSLMODE=verify-full and PGSSLROOTCERT in the environment" "host=localhost"
NODE_ENV=(PGSSLMODE=verify-full "PGSSLROOTCERT=$WORK/other-ca.pem")
refused "the same with another CA in PGSSLROOTCERT" "host=localhost" "invalid peer certificate: UnknownIssuer"
NODE_ENV=(PGSSLMODE=verify-full)
serves "PGSSLMODE overridden by the conninfo's sslmode" "host=127.0.0.1 sslmode=require"
NODE_ENV=(PGSSLCERT=/etc/client.pem)
refused "PGSSLCERT (client certificates) in the environment" "host=localhost" "set by the environment variable PGSSLCERT"
NODE_ENV=()

# fake_pg HOW: a server on a free port that answers the SSLRequest with 'S' and then stalls,
# sends bytes that are no TLS, or closes; sets FAKE_PORT and FAKE_PID.
fake_pg() {
    python3 -u -c '
import socket, sys
how = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1])
held = []
while True:
    c, _ = s.accept()
    c.recv(8)
    c.sendall(b"S")
    if how == "garbage":
        c.sendall(b"\x00not tls at all\n" * 64)
    if how == "close":
        c.close()
    else:
        held.append(c)
' "$1" >"$WORK/fake.port" &
    FAKE_PID=$!
    for ((i = 0; i < 50; i++)); do
        FAKE_PORT=$(head -1 "$WORK/fake.port")
        [ -z "$FAKE_PORT" ] || return 0
        sleep 0.1
    done
    return 1
}
for how in stall garbage close; do
    fake_pg "$how" || { not_ok "a first host that answers 'S' and then does $how: the fake server started"; continue; }
    serves "a first host that answers 'S' and then does $how: the next host serves" \
        "host=localhost,localhost port=$FAKE_PORT,$PORT sslmode=verify-full sslrootcert=$CA"
    stop_pid "$FAKE_PID"
    FAKE_PID=""
done
finish
