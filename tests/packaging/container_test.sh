#!/usr/bin/env bash
# The container image: Containerfile built OFFLINE by podman (Debian package) from the tokend
# binary CI already built, its configuration and contents checked, then its own root
# filesystem exported (podman save, layers untarred) and its entrypoint run there as the
# image's user with the image's environment (rootfs_run.py: chroot, WorkingDir, User, Env),
# because this machine's runtime cannot start containers. Checks the HEALTHCHECK command and
# a real login over HTTP.
#
#   TOKEND_BIN=target/release/tokend tests/packaging/container_test.sh
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

BIN=$(readlink -f "${TOKEND_BIN:-$REPO/target/release/tokend}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokend-container-test.XXXXXX")
SERVER_PID=""
cleanup() {
    [ -z "$SERVER_PID" ] || stop_pid "$SERVER_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the container test needs root (podman storage, chroot)"
    finish
    exit
fi
# Only what is missing (.ci/run runs this before the packaging tests install their tools).
missing=()
for tool in podman jq curl python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 || show "$WORK/apt.log"
fi
for tool in podman jq curl python3; do
    check "$tool is installed (Debian package)" command -v "$tool"
done
check "the binary to package exists: $BIN" test -x "$BIN"

# A private store in $WORK: nothing of the machine's own podman state is read or left behind.
PODMAN=(podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
IMAGE=localhost/tokend:ci
CONTEXT=$WORK/context
check "container/build-context.sh lays out the context from the binary" \
    sh "$REPO/container/build-context.sh" "$BIN" "$CONTEXT"
# In a network namespace of its own: any pull would fail, so success proves the build is offline.
if unshare --net "${PODMAN[@]}" build --format docker --network none -f "$REPO/Containerfile" -t "$IMAGE" \
    "$CONTEXT" >"$WORK/build.log" 2>&1; then
    ok "podman build --format docker succeeds with no network at all"
else
    not_ok "podman build --format docker succeeds with no network at all"
    show "$WORK/build.log"
    finish
    exit
fi

# ------------------------------------------------------------------ the image as saved
"${PODMAN[@]}" save --format docker-archive -o "$WORK/image.tar" "$IMAGE" >/dev/null 2>&1
mkdir -p "$WORK/archive" "$WORK/rootfs"
tar -xf "$WORK/image.tar" -C "$WORK/archive"
CONFIG=$WORK/archive/$(jq -r '.[0].Config' "$WORK/archive/manifest.json")
check "podman save wrote the image and its config" test -f "$CONFIG"
while IFS= read -r layer; do
    tar -xpf "$WORK/archive/$layer" -C "$WORK/rootfs" --numeric-owner
done < <(jq -r '.[0].Layers[]' "$WORK/archive/manifest.json")
ROOTFS=$WORK/rootfs
config() { jq -c "$1" "$CONFIG"; }
check "the image runs as the non-root user 10001:10001" test "$(config .config.User)" = '"10001:10001"'
check "... which /etc/passwd names tokend, home /data" grep -qx 'tokend:x:10001:10001:.*:/data:/usr/sbin/nologin' "$ROOTFS/etc/passwd"
check "HEALTHCHECK is 'tokend healthcheck' (exec form)" \
    test "$(config .config.Healthcheck.Test)" = '["CMD","/usr/local/bin/tokend","healthcheck"]'
check "/data is a volume" test "$(config '.config.Volumes | keys')" = '["/data"]'
check "/data belongs to the image's user" test "$(stat -c %u:%g "$ROOTFS/data")" = 10001:10001
check "settings come from the environment: TOKEND_DATA_DIR=/data, TOKEND_BIND=0.0.0.0:3000" \
    test "$(config '[.config.Env[] | select(startswith("TOKEND_"))]')" = '["TOKEND_DATA_DIR=/data","TOKEND_BIND=0.0.0.0:3000"]'
check "the entrypoint is tokend, the default command serve" \
    test "$(config '[.config.Entrypoint, .config.Cmd]')" = '[["/usr/local/bin/tokend"],["serve"]]'
check "port 3000 is exposed" test "$(config '.config.ExposedPorts | keys')" = '["3000/tcp"]'
check "the image's tokend is the binary CI built" cmp -s "$ROOTFS/usr/local/bin/tokend" "$BIN"
EXPECTED=$( (
    echo /usr/local/bin/tokend
    printf '%s\n' /etc/passwd /etc/group /etc/nsswitch.conf
    ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
) | sort)
ACTUAL=$(cd "$ROOTFS" && find . -type f -o -type l | sed 's/^\.//' | sort)
if [ "$ACTUAL" = "$EXPECTED" ]; then
    ok "the image holds only tokend, the $(ldd "$BIN" | grep -c '/') libraries ldd lists, and /etc/{passwd,group,nsswitch.conf}"
else
    not_ok "the image holds only tokend, the libraries ldd lists, and /etc/{passwd,group,nsswitch.conf}"
    diff <(echo "$EXPECTED") <(echo "$ACTUAL") | show
fi

# ------------------------------------------------------------------ the image's rootfs serves
in_image() { python3 "$HERE/rootfs_run.py" "$ROOTFS" "$CONFIG" "$@"; }
check "tokend --version runs inside the image's rootfs (its libraries suffice)" \
    sh -c '"$@" >/dev/null 2>&1' sh python3 "$HERE/rootfs_run.py" "$ROOTFS" "$CONFIG" exec --version
PORT=$(free_port)
PASSWORD=container-admin-$RANDOM-pass
# As `podman run -e TOKEND_BIND=... -e TOKEND_ADMIN_PASSWORD=...` would: the image's Env plus these.
OVERRIDES=(-e "TOKEND_BIND=127.0.0.1:$PORT" -e "TOKEND_ADMIN_PASSWORD=$PASSWORD")
image_healthy() { in_image "${OVERRIDES[@]}" healthcheck >/dev/null 2>&1; }
check_not "the HEALTHCHECK command fails while nothing serves" image_healthy
# Not through the in_image function: python3 then execs tokend, so $! is the server itself.
python3 "$HERE/rootfs_run.py" "$ROOTFS" "$CONFIG" "${OVERRIDES[@]}" serve >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
healthy_in_image=no
for _ in $(seq 1 100); do
    if image_healthy; then healthy_in_image=yes; break; fi
    sleep 0.2
done
if [ "$healthy_in_image" = yes ]; then ok "the image's HEALTHCHECK command passes once the entrypoint serves"; else
    not_ok "the image's HEALTHCHECK command passes once the entrypoint serves"
    show "$WORK/server.err"
fi
BASE=http://127.0.0.1:$PORT
REPLY=$(post "$BASE/api/v1/login" "{\"user\":\"admin\",\"password\":\"$PASSWORD\"}")
BODY=${REPLY#* }
USER_ID=$(jq -r '.data.userId // empty' <<<"$BODY" 2>/dev/null)
TOKEN=$(jq -r '.data.authToken // empty' <<<"$BODY" 2>/dev/null)
check "a real login over HTTP answers 200 with a token (got ${REPLY%% *})" test "${REPLY%% *}" = 200 -a -n "$TOKEN"
ME=$(get "$BASE/api/v1/me" "$USER_ID" "$TOKEN")
check "the token authenticates /api/v1/me as admin" test "$(jq -r .username <<<"${ME#* }" 2>/dev/null)" = admin
check "the database is in the /data volume, owned by the image's user" \
    test "$(stat -c %u "$ROOTFS/data/tokend.sqlite3" 2>/dev/null)" = 10001
check "the server runs as uid 10001, not root" test "$(stat -c %u "/proc/$SERVER_PID")" = 10001
kill -TERM "$SERVER_PID"
STOPPED=no
for _ in $(seq 1 175); do kill -0 "$SERVER_PID" 2>/dev/null || { STOPPED=yes; break; }; sleep 0.2; done
wait "$SERVER_PID"
EXIT=$?
SERVER_PID=""
check "SIGTERM (the image's STOPSIGNAL) stops it, exit 0 (got $EXIT)" test "$STOPPED/$EXIT/$(config .config.StopSignal)" = 'yes/0/"SIGTERM"'

finish
