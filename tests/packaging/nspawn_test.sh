#!/usr/bin/env bash
# End to end on a real systemd: boots a debootstrapped Debian 12 in systemd-nspawn twice and
# runs nspawn_e2e.sh inside (install.sh, the create-tokens recipe, a restart, a reboot,
# uninstall, purge). Prints `SKIP: <reason>` and exits 0 where nspawn cannot boot here.
#
#   nspawn_test.sh REPO TOKEND_BIN
#
# The root file system is cached in $TOKEND_NSPAWN_CACHE (default /var/cache/tokend-packaging):
# debootstrap takes about 3 minutes once, a copy of the cache a few seconds after that.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

REPO=$(cd "${1:?usage: nspawn_test.sh REPO TOKEND_BIN}" && pwd)
BIN=$(readlink -f "${2:?usage: nspawn_test.sh REPO TOKEND_BIN}")
CACHE=${TOKEND_NSPAWN_CACHE:-/var/cache/tokend-packaging}
SUITE=bookworm
MIRROR=${TOKEND_DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=systemd,systemd-sysv,dbus,curl,ca-certificates
ROOTFS=$CACHE/rootfs-$SUITE-$(printf '%s' "$INCLUDE" | sha256sum | cut -c1-12)
BOOT_TIMEOUT=${TOKEND_NSPAWN_BOOT_TIMEOUT:-180}

skip() {
    echo "SKIP: nspawn end-to-end test: $*"
    exit 0
}

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (apt-get install systemd-container)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed"

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/tokend-nspawn.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

if [ ! -x "$ROOTFS/bin/systemctl" ]; then
    echo "# debootstrap $SUITE into $ROOTFS (once; cached afterwards)"
    mkdir -p "$CACHE"
    rm -rf "$ROOTFS.tmp"
    if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOTFS.tmp" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
        tail -n 5 "$WORK/debootstrap.log" | show
        rm -rf "$ROOTFS.tmp"
        skip "debootstrap of $SUITE from $MIRROR failed"
    fi
    # The downloaded .deb files are only needed while installing; every test copies the cache.
    rm -f "$ROOTFS.tmp"/var/cache/apt/archives/*.deb
    mv "$ROOTFS.tmp" "$ROOTFS"
fi

ROOT=$WORK/root
cp -a "$ROOTFS" "$ROOT" || skip "cannot copy the cached root file system"
echo tokend-e2e >"$ROOT/etc/hostname"

# boot NAME: boots the container until it powers itself off (or BOOT_TIMEOUT).
boot() {
    timeout --kill-after=20 "$BOOT_TIMEOUT" systemd-nspawn -q -D "$ROOT" --boot --register=no --keep-unit \
        --private-network --console=pipe >"$WORK/$1.console" 2>&1 </dev/null
}

# 1. Can nspawn boot at all here? A unit that only writes a file and powers off.
cat >"$ROOT/etc/systemd/system/probe.service" <<'EOF'
[Unit]
Description=nspawn probe
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo booted >/root/probe; systemctl poweroff --no-block'
[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/probe.service "$ROOT/etc/systemd/system/multi-user.target.wants/probe.service"
boot probe
if [ ! -f "$ROOT/root/probe" ]; then
    tail -n 5 "$WORK/probe.console" | show
    skip "systemd-nspawn --boot did not boot a Debian $SUITE container on this machine"
fi
rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/probe.service" "$ROOT/etc/systemd/system/probe.service"
ok "[nspawn] a debootstrapped Debian $SUITE boots under systemd-nspawn"

# 2. The test proper: install.sh and the binary, and a oneshot unit running nspawn_e2e.sh.
mkdir -p "$ROOT/root/tokend" "$ROOT/root/out"
cp "$REPO/install.sh" "$ROOT/root/tokend/install.sh"
cp "$BIN" "$ROOT/root/tokend/tokend"
cp "$HERE/nspawn_e2e.sh" "$ROOT/root/e2e.sh"
cat >"$ROOT/etc/systemd/system/tokend-e2e.service" <<'EOF'
[Unit]
Description=tokend end-to-end test
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh /root/e2e.sh
[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/tokend-e2e.service "$ROOT/etc/systemd/system/multi-user.target.wants/tokend-e2e.service"

for phase in 1 2; do
    boot "boot$phase"
    if grep -q "phase $phase done" "$ROOT/root/out/log" 2>/dev/null; then
        ok "[nspawn] boot $phase ran to the end"
    else
        not_ok "[nspawn] boot $phase ran to the end"
        journalctl -D "$ROOT/var/log/journal" --no-pager -o short-monotonic 2>/dev/null |
            grep -E 'tokend|e2e' | tail -n 40 | show
        for log in "$ROOT"/root/out/*.log; do
            [ -f "$log" ] && { echo "    | == $log" >&2; show "$log"; }
        done
        break
    fi
done

# The container's own checks.
if [ -f "$ROOT/root/out/results" ]; then
    while IFS= read -r line; do
        case $line in
            "ok - "*) ok "${line#ok - }" ;;
            "not ok - "*) not_ok "${line#not ok - }" ;;
            *) ;;
        esac
    done <"$ROOT/root/out/results"
fi
if [ "$FAILED" -gt 0 ]; then
    for log in "$ROOT"/root/out/install1.log "$ROOT"/root/out/uninstall.log "$ROOT"/root/out/hashing.log; do
        [ -f "$log" ] && { echo "    | == $log" >&2; show "$log"; }
    done
    journalctl -D "$ROOT/var/log/journal" --no-pager -u tokend.service 2>/dev/null | tail -n 30 | show
fi

finish
