#!/usr/bin/env bash
# Single-quoted sh -c and awk scripts below are meant literally.
# shellcheck disable=SC2016 source-path=SCRIPTDIR
# install.sh, run by `sh` (dash) into DESTDIR trees: the files it lays out, the unit (checked
# by systemd-analyze verify and security), idempotence, operator edits, --prefix, and, with a
# stub systemctl that really runs the staged binary, the systemctl calls it makes, its health
# wait and its uninstall/purge.
#
#   install_test.sh REPO TOKEND_BIN
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

REPO=$(cd "${1:?usage: install_test.sh REPO TOKEND_BIN}" && pwd)
BIN=$(readlink -f "${2:?usage: install_test.sh REPO TOKEND_BIN}")
INSTALL=$REPO/install.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokend-install-test.XXXXXX")
export SYSTEMCTL_STATE=$WORK/systemctl
mkdir -p "$SYSTEMCTL_STATE"
export PATH="$HERE/stubs:$PATH"
unset STUB_SYSTEMCTL_RUN TOKEND_INSTALL_FORCE_SYSTEMD
cleanup() {
    if [ -f "$SYSTEMCTL_STATE/pid" ]; then stop_pid "$(cat "$SYSTEMCTL_STATE/pid")"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A listing of everything under $1: path, type+mode, owner, group, size and content hash.
snapshot() {
    (cd "$1" && find . -printf '%p %M %u %g %s\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# run_install NAME ARGS...: `sh install.sh ARGS` with the output in $WORK/NAME.out.
run_install() {
    local name=$1
    shift
    OUT=$WORK/$name.out
    sh "$INSTALL" "$@" >"$OUT" 2>&1
}

# ------------------------------------------------------------------ a DESTDIR run, no systemd
D=$WORK/root
export DESTDIR=$D
: >"$SYSTEMCTL_STATE/calls"
if run_install first --binary "$BIN"; then ok "DESTDIR=... sh install.sh --binary BIN succeeds"; else
    not_ok "DESTDIR=... sh install.sh --binary BIN succeeds"
    show "$OUT"
fi
check "a DESTDIR run never calls systemctl" test ! -s "$SYSTEMCTL_STATE/calls"

EXPECTED="./etc ./etc/group ./etc/gshadow ./etc/passwd ./etc/shadow ./etc/systemd ./etc/systemd/system
./etc/systemd/system/tokend.service ./etc/sysusers.d ./etc/sysusers.d/tokend.conf ./etc/tokend
./etc/tokend/tokend.env ./usr ./usr/local ./usr/local/bin ./usr/local/bin/tokend ./var ./var/lib
./var/lib/tokend ./usr/local/share ./usr/local/share/man ./usr/local/share/man/man1
./usr/local/share/man/man1/tokend.1 ./usr/local/share/bash-completion
./usr/local/share/bash-completion/completions ./usr/local/share/bash-completion/completions/tokend
./usr/local/share/zsh ./usr/local/share/zsh/site-functions ./usr/local/share/zsh/site-functions/_tokend
./usr/local/share/fish ./usr/local/share/fish/vendor_completions.d
./usr/local/share/fish/vendor_completions.d/tokend.fish"
ACTUAL=$(cd "$D" && find . -mindepth 1 ! -name '.pwd.lock' ! -name '*-' | sort | tr '\n' ' ')
check "the tree is exactly the expected one" test "$ACTUAL" = "$(echo "$EXPECTED" | tr ' ' '\n' | sort | tr '\n' ' ')"
[ "$ACTUAL" = "$(echo "$EXPECTED" | tr ' ' '\n' | sort | tr '\n' ' ')" ] || echo "    | got: $ACTUAL" >&2

IDS=$(awk -F: '$1 == "tokend" { print $3 ":" $4 }' "$D/etc/passwd")
UID_=${IDS%:*}
GID_=${IDS#*:}
mode_owner() { stat -c '%a %u:%g' "$D$1"; }
check "the user tokend exists in DESTDIR/etc/passwd, system uid, no login shell, home /var/lib/tokend" \
    awk -F: '$1 == "tokend" && $3 < 1000 && $6 == "/var/lib/tokend" && $7 == "/usr/sbin/nologin" { f = 1 } END { exit !f }' "$D/etc/passwd"
check "bin/tokend: 0755 root, the same bytes as the binary" \
    sh -c '[ "$(stat -c "%a %u" "$1")" = "755 0" ] && cmp -s "$1" "$2"' sh "$D/usr/local/bin/tokend" "$BIN"
check "/etc/tokend: 0750 root:tokend" test "$(mode_owner /etc/tokend)" = "750 0:$GID_"
check "/etc/tokend/tokend.env: 0640 root:tokend" test "$(mode_owner /etc/tokend/tokend.env)" = "640 0:$GID_"
check "/var/lib/tokend: 0750 tokend:tokend" test "$(mode_owner /var/lib/tokend)" = "750 $UID_:$GID_"
check "tokend.service: 0644 root" test "$(mode_owner /etc/systemd/system/tokend.service)" = "644 0:0"
SHARE=$D/usr/local/share
for generated in "man/man1/tokend.1:man" "bash-completion/completions/tokend:completions bash" \
    "zsh/site-functions/_tokend:completions zsh" "fish/vendor_completions.d/tokend.fish:completions fish"; do
    # shellcheck disable=SC2086 # the command is words on purpose
    check "share/${generated%%:*}: 0644 root, what 'tokend ${generated#*:}' prints" \
        sh -c '[ "$(stat -c "%a %u" "$1")" = "644 0" ] && "$2" $3 | cmp -s - "$1"' sh "$SHARE/${generated%%:*}" "$BIN" "${generated#*:}"
done
check "the man page renders (man -l) and documents TOKEND_BIND" \
    sh -c 'MANWIDTH=100 man -l "$1" 2>/dev/null | grep -q TOKEND_BIND' sh "$SHARE/man/man1/tokend.1"
check "the bash completion registers for tokend and completes 'tokend heal' to healthcheck" bash -c '
    . "$1"
    COMP_WORDS=(tokend heal); COMP_CWORD=1; COMP_LINE="tokend heal"; COMP_POINT=${#COMP_LINE}
    "$(complete -p tokend | sed -n "s/.*-F \([^ ]*\).*/\1/p")" tokend heal tokend
    [ "${COMPREPLY[*]}" = healthcheck ]' sh "$SHARE/bash-completion/completions/tokend"
if command -v zsh >/dev/null 2>&1; then
    check "the zsh completion parses (zsh -n)" zsh -n "$SHARE/zsh/site-functions/_tokend"
fi
if command -v fish >/dev/null 2>&1; then
    check "the fish completion parses (fish --no-execute)" fish --no-execute "$SHARE/fish/vendor_completions.d/tokend.fish"
fi
UNIT=$D/etc/systemd/system/tokend.service
for line in "ExecStart=/usr/local/bin/tokend serve" "EnvironmentFile=-/etc/tokend/*.env" "User=tokend" \
    "StateDirectory=tokend" "Environment=TOKEND_DATA_DIR=/var/lib/tokend" "Restart=on-failure" \
    "ProtectSystem=strict" "LimitNICE=+9" "WantedBy=multi-user.target"; do
    check "the unit has $line" grep -qxF "$line" "$UNIT"
done
check "the env file sets TOKEND_BIND=127.0.0.1:3000 (loopback by default)" grep -qx 'TOKEND_BIND=127.0.0.1:3000' "$D/etc/tokend/tokend.env"
check "the env file documents the create-tokens recipe" grep -q 'CREATE_TOKENS_FOR_USERS=true' "$D/etc/tokend/tokend.env"
check "the env file enables nothing beyond TOKEND_BIND" \
    test "$(grep -cv -e '^#' -e '^$' "$D/etc/tokend/tokend.env")" -eq 1
check "the output says how to start it" grep -q 'systemctl enable --now tokend' "$OUT"

# The unit as systemd sees it: verify (silent), and the exposure score.
VERIFY_DIR=$WORK/verify
mkdir -p "$VERIFY_DIR"
sed "s|^ExecStart=/usr/local/bin/tokend|ExecStart=$D/usr/local/bin/tokend|" "$UNIT" >"$VERIFY_DIR/tokend.service"
VERIFY=$(systemd-analyze verify --man=no "$VERIFY_DIR/tokend.service" 2>&1)
VERIFY_RC=$?
if [ "$VERIFY_RC" -eq 0 ] && [ -z "$VERIFY" ]; then
    ok "systemd-analyze verify: exit 0, no output"
else
    not_ok "systemd-analyze verify: exit 0, no output (exit $VERIFY_RC)"
    printf '%s\n' "$VERIFY" | show
fi
SECURITY=$(systemd-analyze security --offline=yes --threshold=20 "$VERIFY_DIR/tokend.service" 2>&1)
SECURITY_RC=$?
SCORE=$(printf '%s\n' "$SECURITY" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' | tail -n 1)
if [ "$SECURITY_RC" -eq 0 ] && [ -n "$SCORE" ] && awk -v s="$SCORE" 'BEGIN { exit !(s <= 2.0) }'; then
    ok "systemd-analyze security --offline=yes --threshold=20: exposure $SCORE <= 2.0"
else
    not_ok "systemd-analyze security --offline=yes --threshold=20: exposure '$SCORE' <= 2.0 (exit $SECURITY_RC)"
    printf '%s\n' "$SECURITY" | tail -n 15 | show
fi

# Idempotence, and operator edits survive.
BEFORE=$(snapshot "$D")
run_install second --binary "$BIN"
check "a second run succeeds" test $? -eq 0
check "a second run changes nothing (modes, owners, sizes, contents)" test "$(snapshot "$D")" = "$BEFORE"
check "a second run says nothing changed" grep -q 'nothing changed' "$OUT"
echo "TOKEND_LOGIN_EXPIRATION_DAYS=30" >>"$D/etc/tokend/tokend.env"
echo "CREATE_TOKENS_FOR_USERS=true" >"$D/etc/tokend/create-tokens.env"
chmod 0600 "$D/etc/tokend/create-tokens.env"
BEFORE=$(snapshot "$D")
run_install third --binary "$BIN"
check "a re-run keeps the operator's edits to /etc/tokend (contents and modes)" test "$(snapshot "$D")" = "$BEFORE"

# A new binary is installed; the unit follows --prefix.
cp "$BIN" "$WORK/tokend-v2" && printf 'v2' >>"$WORK/tokend-v2" && chmod 755 "$WORK/tokend-v2"
run_install newbin --binary "$WORK/tokend-v2"
check "a changed binary is replaced" cmp -s "$D/usr/local/bin/tokend" "$WORK/tokend-v2"
check "... and reported" grep -q 'installed /usr/local/bin/tokend' "$OUT"
check_not "... while the unit stays" grep -q 'installed /etc/systemd/system/tokend.service' "$OUT"
# --build runs `cargo build --release --locked` in the checkout and installs the result: a stub
# cargo records how it was called and "builds" by copying the real binary.
mkdir -p "$WORK/fakecargo"
cat >"$WORK/fakecargo/cargo" <<'EOF'
#!/bin/sh
printf '%s | %s\n' "$*" "$(pwd)" >"$FAKE_CARGO_LOG"
mkdir -p "$CARGO_TARGET_DIR/release" && cp "$FAKE_CARGO_BIN" "$CARGO_TARGET_DIR/release/tokend"
EOF
chmod 755 "$WORK/fakecargo/cargo"
DESTDIR=$WORK/built FAKE_CARGO_LOG=$WORK/cargo.log FAKE_CARGO_BIN=$BIN CARGO_TARGET_DIR=$WORK/target \
    PATH="$WORK/fakecargo:$PATH" run_install build --build
check "--build runs 'cargo build --release --locked' in the checkout" \
    test "$(cat "$WORK/cargo.log" 2>/dev/null)" = "build --release --locked | $REPO"
check "--build installs what cargo built" cmp -s "$WORK/built/usr/local/bin/tokend" "$BIN"
check "--build and --binary together are refused" sh -c '! sh "$1" --build --binary "$2" >/dev/null 2>&1' sh "$INSTALL" "$BIN"
check "an unknown option is refused" sh -c '! sh "$1" --frobnicate >/dev/null 2>&1' sh "$INSTALL"
check "--help works" sh -c 'sh "$1" --help | grep -q -- --uninstall' sh "$INSTALL"
check "without DESTDIR, a non-root user is told to use root" \
    sh -c 'env -u DESTDIR setpriv --reuid=65534 --regid=65534 --clear-groups sh "$1" --binary "$2" 2>&1 | grep -q "run as root"' \
    sh "$INSTALL" "$BIN"

P=$WORK/prefixed
DESTDIR=$P run_install prefix --binary "$BIN" --prefix /opt/tokend
check "--prefix /opt/tokend puts the binary in /opt/tokend/bin" test -x "$P/opt/tokend/bin/tokend"
check "--prefix /opt/tokend points ExecStart there" grep -qx 'ExecStart=/opt/tokend/bin/tokend serve' "$P/etc/systemd/system/tokend.service"
check "--destdir DIR works like DESTDIR" sh -c 'env -u DESTDIR sh "$1" --destdir "$2" --binary "$3" >/dev/null 2>&1 && [ -x "$2/usr/local/bin/tokend" ]' \
    sh "$INSTALL" "$WORK/flagdest" "$BIN"

# Uninstall keeps settings and data; purge removes everything.
echo "not really a database" >"$D/var/lib/tokend/tokend.sqlite3"
run_install uninstall --uninstall
check "--uninstall succeeds" test $? -eq 0
check "--uninstall removes the unit and the binary" test ! -e "$UNIT" -a ! -e "$D/usr/local/bin/tokend"
check "--uninstall removes the man page and the completions" \
    test -z "$(find "$D/usr/local/share" -name '*tokend*' 2>/dev/null)"
check "--uninstall keeps /etc/tokend and the operator's files" test -f "$D/etc/tokend/tokend.env" -a -f "$D/etc/tokend/create-tokens.env"
check "--uninstall keeps the database" test -f "$D/var/lib/tokend/tokend.sqlite3"
check "--uninstall keeps the user" grep -q '^tokend:' "$D/etc/passwd"
check "--uninstall says what it kept" grep -q 'kept /etc/tokend' "$OUT"
check "--uninstall twice is harmless" run_install uninstall2 --uninstall
run_install purge --purge
check "--purge succeeds" test $? -eq 0
check "--purge removes /etc/tokend and /var/lib/tokend" test ! -e "$D/etc/tokend" -a ! -e "$D/var/lib/tokend"
check "--purge removes the user, its group and sysusers.d file" \
    sh -c '! grep -q "^tokend:" "$1/etc/passwd" "$1/etc/group" && [ ! -e "$1/etc/sysusers.d/tokend.conf" ]' sh "$D"
check "after --purge nothing of tokend is left" test -z "$(cd "$D" && find . -name '*tokend*')"

# ------------------------------------------------------------------ the systemd branch, stub systemctl
# TOKEND_INSTALL_FORCE_SYSTEMD=1 makes install.sh call systemctl despite DESTDIR; the stub
# then really runs the staged binary, so the health wait and the password hint are real.
S=$WORK/sysroot
export DESTDIR=$S TOKEND_INSTALL_FORCE_SYSTEMD=1 STUB_SYSTEMCTL_RUN=1 TOKEND_INSTALL_WAIT_SECS=30
rm -rf "$SYSTEMCTL_STATE" && mkdir -p "$SYSTEMCTL_STATE"
PORT=$(free_port)
calls() { grep -v -e '^is-active' -e '^is-enabled' "$SYSTEMCTL_STATE/calls" | tr '\n' ';'; }
: >"$SYSTEMCTL_STATE/calls"
if run_install sd-first --binary "$BIN" --bind "127.0.0.1:$PORT"; then ok "first install with systemd succeeds (health wait passed)"; else
    not_ok "first install with systemd succeeds (health wait passed)"
    show "$OUT"
    show "$SYSTEMCTL_STATE/service.log"
fi
check "first install: systemctl daemon-reload, then enable --now tokend.service" \
    test "$(calls)" = "daemon-reload;enable --now tokend.service;"
check "--bind went into the new env file" grep -qx "TOKEND_BIND=127.0.0.1:$PORT" "$S/etc/tokend/tokend.env"
check "install.sh waited for tokend healthcheck" grep -q "tokend is up on 127.0.0.1:$PORT" "$OUT"
check "install.sh prints the exact journalctl command for the first admin's password" \
    grep -qF "sudo journalctl -u tokend.service -o cat | grep 'first admin'" "$OUT"
check "... and the service did print it there" grep -q "created the first admin user 'admin' with the generated password" "$SYSTEMCTL_STATE/service.log"
: >"$SYSTEMCTL_STATE/calls"
run_install sd-second --binary "$BIN"
check "re-run with nothing changed: no restart, reload, enable or start" test -z "$(calls)"
check "re-run with nothing changed says so" grep -q 'nothing changed' "$OUT"
: >"$SYSTEMCTL_STATE/calls"
run_install sd-newbin --binary "$WORK/tokend-v2"
check "a changed binary restarts the running service (no reload)" test "$(calls)" = "restart tokend.service;"
check "after the restart install.sh waited for health again" grep -q "tokend is up on" "$OUT"
check "a re-run with an existing database says the users are unchanged" grep -q 'database in /var/lib/tokend was kept' "$OUT"
systemctl disable --now tokend.service
: >"$SYSTEMCTL_STATE/calls"
run_install sd-disabled --binary "$BIN"
check "a service the operator disabled stays disabled and stopped (binary updated, no start)" \
    test "$(calls)" = ""
check "... and install.sh says how to start it" grep -q 'disabled, as you left it' "$OUT"
systemctl enable tokend.service
: >"$SYSTEMCTL_STATE/calls"
run_install sd-enabled --binary "$BIN"
check "an enabled service that is not running gets started" test "$(calls)" = "start tokend.service;"
: >"$SYSTEMCTL_STATE/calls"
run_install sd-uninstall --uninstall
check "--uninstall: systemctl disable --now, then daemon-reload" test "$(calls)" = "disable --now tokend.service;daemon-reload;"
check "--uninstall stopped the service" sh -c '! systemctl is-active --quiet tokend.service'
check "--uninstall kept the real database the service wrote" test -s "$S/var/lib/tokend/tokend.sqlite3"
run_install sd-purge --purge
check "--purge after --uninstall removes the data" test ! -e "$S/var/lib/tokend"

finish
