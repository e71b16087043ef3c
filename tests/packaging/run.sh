#!/usr/bin/env bash
# The packaging tests of tokend (issue 6), one entry point:
#   1. tools: apt (shellcheck, systemd-analyze, nspawn, debootstrap, squashfs-tools, curl, jq)
#      and a venv with check-jsonschema + craft-parts, the `snap` tool unpacked from Debian's
#      snapd package (nothing of snapd is installed or started);
#   2. snap/snapcraft.yaml: snapcraft schema, craft-parts part validator (warnings fail);
#   3. the prime tree: assembled like snapcraft would, `snap pack --check-skeleton`, `snap pack`;
#   4. shellcheck of install.sh, the launcher, the hooks and these tests;
#   5. the launcher and hooks under sh with fake SNAP dirs, a stub snapctl, the real binary;
#   6. install.sh into DESTDIR trees, systemd-analyze verify/security, idempotence, uninstall;
#   7. end to end in a booted systemd-nspawn container (SKIP where nspawn cannot boot).
# Ends with `packaging: N passed, M failed`; exits 1 when anything failed.
#
#   tests/packaging/run.sh              TOKEND_BIN=path/to/tokend tests/packaging/run.sh
#
# Runs as root on Debian 12 (CI); without root the apt step is skipped. Takes about 2 minutes
# once the tools and the debootstrap cache (/var/cache/tokend-packaging, ~3 min once) exist,
# plus a release build when TOKEND_BIN does not exist yet.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
cd "$REPO" || exit 1
export DEBIAN_FRONTEND=noninteractive
CACHE=${TOKEND_PACKAGING_CACHE:-/var/cache/tokend-packaging}
export TOKEND_NSPAWN_CACHE=$CACHE
START=$SECONDS
TOTAL_PASSED=0
TOTAL_FAILED=0
SKIPS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokend-packaging.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

section() { printf '\n==== %s ====\n' "$*"; }
pass() { TOTAL_PASSED=$((TOTAL_PASSED + 1)); printf 'ok - %s\n' "$*"; }
fail() { TOTAL_FAILED=$((TOTAL_FAILED + 1)); printf 'not ok - %s\n' "$*"; }

# part NAME COMMAND...: runs a test script, shows its output, adds up its ok/not ok lines.
# A script that fails without reporting a failed check counts as one failure.
part() {
    local name=$1 log=$WORK/part.log rc passed failed
    shift
    section "$name"
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    passed=$(grep -c '^ok - ' "$log")
    failed=$(grep -c '^not ok - ' "$log")
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
    while IFS= read -r line; do SKIPS+=("$line"); done < <(grep '^SKIP: ' "$log")
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        fail "$name exited with status $rc"
    fi
}

# ------------------------------------------------------------------ 1. tools
section "tools"
if [ "$(id -u)" -eq 0 ]; then
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        shellcheck systemd systemd-container debootstrap squashfs-tools curl jq dash passwd \
        util-linux python3 python3-venv ca-certificates man-db zsh fish >"$WORK/apt.log" 2>&1; then
        pass "apt-get install of the test tools"
    else
        tail -n 20 "$WORK/apt.log"
        fail "apt-get install of the test tools"
    fi
else
    echo "not root: skipping apt-get (the tools must already be installed)"
fi

VENV=$CACHE/venv
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 || { rm -rf "$VENV"; VENV=$WORK/venv; "$PYTHON" -m venv "$VENV"; }
fi
if "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    'check-jsonschema==0.39.0' 'craft-parts==2.37.2' >"$WORK/pip.log" 2>&1; then
    pass "pip install check-jsonschema craft-parts"
else
    tail -n 20 "$WORK/pip.log"
    fail "pip install check-jsonschema craft-parts"
fi

# The `snap` tool from Debian's snapd package, unpacked only (no maintainer scripts).
SNAP_TOOL=""
SNAPD_VERSION=$(apt-cache policy snapd 2>/dev/null | sed -n 's/^ *Candidate: *//p')
if [ -n "$SNAPD_VERSION" ] && [ "$SNAPD_VERSION" != "(none)" ]; then
    SNAPD_DIR=$CACHE/snapd-$SNAPD_VERSION
    if [ ! -x "$SNAPD_DIR/usr/bin/snap" ]; then
        mkdir -p "$WORK/snapd-deb" && chmod 777 "$WORK/snapd-deb"
        if (cd "$WORK/snapd-deb" && apt-get download snapd >/dev/null 2>&1) &&
            dpkg-deb -x "$WORK"/snapd-deb/snapd_*.deb "$SNAPD_DIR.tmp"; then
            rm -rf "$SNAPD_DIR" && mv "$SNAPD_DIR.tmp" "$SNAPD_DIR"
        fi
    fi
    [ -x "$SNAPD_DIR/usr/bin/snap" ] && SNAP_TOOL=$SNAPD_DIR/usr/bin/snap
fi

# The binary.
TOKEND_BIN=${TOKEND_BIN:-target/release/tokend}
if [ ! -x "$TOKEND_BIN" ] && [ "$TOKEND_BIN" = target/release/tokend ]; then
    section "cargo build --release --locked (no binary at $TOKEND_BIN)"
    if cargo build --release --locked; then pass "cargo build --release --locked"; else fail "cargo build --release --locked"; fi
fi
if [ ! -x "$TOKEND_BIN" ]; then
    fail "an executable tokend at TOKEND_BIN=$TOKEND_BIN"
    echo "packaging: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
    exit 1
fi
TOKEND_BIN=$(readlink -f "$TOKEND_BIN")
"$TOKEND_BIN" --version || fail "$TOKEND_BIN runs"
if "$TOKEND_BIN" help backup >/dev/null 2>&1; then
    pass "the binary has the backup subcommand (used by the pre-refresh hook)"
else
    fail "the binary has the backup subcommand (used by the pre-refresh hook)"
fi

# ------------------------------------------------------------------ 2. snapcraft.yaml
part "snapcraft.yaml: schema, part validator, contract" \
    "$VENV/bin/python" -W error "$HERE/snap_check.py" validate "$REPO"

part "docs: the Configuration table covers every declared variable and snap key" \
    "$VENV/bin/python" -W error "$HERE/snap_check.py" docs "$REPO" "$TOKEND_BIN"

# ------------------------------------------------------------------ 3. prime tree, snap pack
PRIME=$WORK/prime
part "prime tree (what snapcraft would stage)" \
    "$VENV/bin/python" -W error "$HERE/snap_check.py" prime "$REPO" "$TOKEND_BIN" "$PRIME"
section "snap pack"
if [ -z "$SNAP_TOOL" ]; then
    fail "the snap tool could be unpacked from Debian's snapd package"
else
    if "$SNAP_TOOL" pack --check-skeleton "$PRIME" >"$WORK/skeleton.out" 2>&1 && [ ! -s "$WORK/skeleton.out" ]; then
        pass "snap pack --check-skeleton: valid, no warnings"
    else
        sed 's/^/    | /' "$WORK/skeleton.out"
        fail "snap pack --check-skeleton: valid, no warnings"
    fi
    if "$SNAP_TOOL" pack "$PRIME" "$WORK/snap-out" >"$WORK/pack.out" 2>&1; then
        SNAP_FILE=$(ls "$WORK"/snap-out/tokend_*.snap)
        pass "snap pack builds $(basename "$SNAP_FILE")"
        LISTING=$(unsquashfs -l "$SNAP_FILE" 2>/dev/null)
        for path in bin/tokend bin/tokend-launcher lib/tokend-snap.sh meta/snap.yaml meta/hooks/install \
            meta/hooks/configure meta/hooks/pre-refresh meta/hooks/post-refresh share/man/man1/tokend.1 \
            share/bash-completion/completions/tokend.cli share/zsh/site-functions/_tokend \
            share/fish/vendor_completions.d/tokend.fish; do
            if grep -qx "squashfs-root/$path" <<<"$LISTING"; then pass "the .snap contains $path"; else fail "the .snap contains $path"; fi
        done
    else
        sed 's/^/    | /' "$WORK/pack.out"
        fail "snap pack builds a .snap"
    fi
fi

# ------------------------------------------------------------------ 4. shellcheck
section "shellcheck"
for file in install.sh container/build-context.sh snap/local/tokend-launcher snap/local/tokend-snap.sh snap/hooks/* \
    tests/packaging/stubs/* tests/packaging/nspawn_e2e.sh; do
    if shellcheck -s sh -x "$file"; then pass "shellcheck -s sh $file"; else fail "shellcheck -s sh $file"; fi
done
for file in tests/packaging/*.sh; do
    [ "$file" = tests/packaging/nspawn_e2e.sh ] && continue
    if shellcheck -x "$file"; then pass "shellcheck $file"; else fail "shellcheck $file"; fi
done

# ------------------------------------------------------------------ 5-7. behaviour
part "snap launcher and hooks (sh, fake SNAP dirs, stub snapctl, real binary)" \
    bash "$HERE/snap_test.sh" "$PRIME"
part "install.sh (DESTDIR, stub systemctl, systemd-analyze)" \
    bash "$HERE/install_test.sh" "$REPO" "$TOKEND_BIN"
part "install.sh end to end in systemd-nspawn" \
    bash "$HERE/nspawn_test.sh" "$REPO" "$TOKEND_BIN"

section "summary ($((SECONDS - START)) s)"
for line in "${SKIPS[@]}"; do echo "$line"; done
echo "packaging: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
