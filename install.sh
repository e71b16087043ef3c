#!/bin/sh
# install.sh: install tokend as a hardened systemd service on a Debian/Ubuntu-like VM.
# POSIX sh; safe to run again (see "Re-running" in --help). Run as root.
set -eu

NAME=tokend
PREFIX=/usr/local
DESTDIR=${DESTDIR:-}
MODE=install
BUILD=no
BINARY=
BIND=
SYSTEMD=auto
WAIT_SECS=${TOKEND_INSTALL_WAIT_SECS:-60}
SOURCE_DIR=$(cd "$(dirname "$0")" && pwd)

usage() {
    cat <<EOF
Usage: sudo sh install.sh [OPTIONS]

Installs tokend as the systemd service "$NAME":
  \$PREFIX/bin/$NAME                      the binary (PREFIX=/usr/local)
  /etc/$NAME/$NAME.env                     settings, KEY=value (written once, never overwritten)
  /etc/$NAME/*.env                         every such file is read by the service, in order
  /var/lib/$NAME/                          the data directory (tokend.sqlite3), owned by user $NAME
  /etc/systemd/system/$NAME.service        the hardened unit (customise with: systemctl edit $NAME)
  /etc/sysusers.d/$NAME.conf               the system user $NAME
  \$PREFIX/share/man/man1/$NAME.1           the man page; shell completions for bash, zsh
                                           and fish under \$PREFIX/share (from the binary)
then enables and starts the service, waits until 'tokend healthcheck' passes and tells you
where the first admin's password is.

Options:
  --binary PATH    install this tokend binary (default: $SOURCE_DIR/target/release/$NAME)
  --build          run 'cargo build --release --locked' in $SOURCE_DIR first (as the user
                   who ran sudo) and install the result
  --bind ADDR      TOKEND_BIND written to a new /etc/$NAME/$NAME.env (default 127.0.0.1:3000;
                   use 0.0.0.0:3000 to listen on every interface). Ignored if the file exists.
  --prefix DIR     install the binary in DIR/bin (default /usr/local)
  --destdir DIR    stage everything under DIR instead of / (same as DESTDIR=DIR); no systemctl
  --no-systemd     install the files only: no systemctl calls, no start, no health wait
  --uninstall      stop and disable the service, remove the unit and the binary; keep
                   /etc/$NAME, /var/lib/$NAME (the database) and the user
  --purge          --uninstall, and also delete /etc/$NAME, /var/lib/$NAME and the user
  -h, --help       this text

Re-running: files the operator edits (/etc/$NAME/*.env, data) are never touched; the binary
and the unit are replaced only when they differ, and the service is restarted only then.
Turn on Rocket.Chat's users.createToken:
  echo CREATE_TOKENS_FOR_USERS=true > /etc/$NAME/create-tokens.env && systemctl restart $NAME
EOF
}

say() {
    printf 'install.sh: %s\n' "$*"
}

die() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

while [ "$#" -gt 0 ]; do
    case $1 in
        --binary) [ "$#" -ge 2 ] || die "--binary needs a path"; BINARY=$2; shift ;;
        --binary=*) BINARY=${1#*=} ;;
        --build) BUILD=yes ;;
        --bind) [ "$#" -ge 2 ] || die "--bind needs host:port"; BIND=$2; shift ;;
        --bind=*) BIND=${1#*=} ;;
        --prefix) [ "$#" -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift ;;
        --prefix=*) PREFIX=${1#*=} ;;
        --destdir) [ "$#" -ge 2 ] || die "--destdir needs a directory"; DESTDIR=$2; shift ;;
        --destdir=*) DESTDIR=${1#*=} ;;
        --no-systemd) SYSTEMD=no ;;
        --uninstall) MODE=uninstall ;;
        --purge) MODE=purge ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

case $PREFIX in
    /*) PREFIX=${PREFIX%/} ;;
    *) die "--prefix must be an absolute path" ;;
esac
DESTDIR=${DESTDIR%/}
if [ -n "$DESTDIR" ]; then
    case $DESTDIR in
        /*) ;;
        *) DESTDIR=$(pwd)/$DESTDIR ;;
    esac
fi
if [ -n "$BIND" ]; then
    case $BIND in
        *:[0-9]*) ;;
        *) die "--bind takes host:port, e.g. 127.0.0.1:3000 or 0.0.0.0:3000" ;;
    esac
fi

# Paths as the running system sees them, and where this run writes them.
BIN_PATH=$PREFIX/bin/$NAME
CONF_DIR=/etc/$NAME
ENV_FILE=$CONF_DIR/$NAME.env
DATA_DIR=/var/lib/$NAME
UNIT_PATH=/etc/systemd/system/$NAME.service
SYSUSERS_PATH=/etc/sysusers.d/$NAME.conf

# systemctl is used only on a running systemd (sd_booted), never for a staged DESTDIR tree.
# TOKEND_INSTALL_FORCE_SYSTEMD=1 forces it, for tests with a stub systemctl.
if [ "$SYSTEMD" = auto ]; then
    if [ "${TOKEND_INSTALL_FORCE_SYSTEMD:-}" = 1 ]; then
        SYSTEMD=yes
    elif [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
        SYSTEMD=yes
    else
        SYSTEMD=no
    fi
fi

IS_ROOT=no
[ "$(id -u)" -eq 0 ] && IS_ROOT=yes
if [ "$IS_ROOT" = no ] && [ -z "$DESTDIR" ]; then
    die "run as root: sudo sh $0 $*"
fi

CHANGED=""
note_change() {
    CHANGED="$CHANGED $1"
    say "$2"
}

# ---------------------------------------------------------------- user

# The user's uid/gid as the target system sees them (inside DESTDIR when staging).
user_ids() {
    awk -F: -v n="$NAME" '$1 == n { print $3 ":" $4; found = 1 } END { exit !found }' \
        "$DESTDIR/etc/passwd" 2>/dev/null
}

ensure_user() {
    sysusers_line="u $NAME - \"tokend authentication-token server\" $DATA_DIR /usr/sbin/nologin"
    if [ ! -f "$DESTDIR$SYSUSERS_PATH" ] || [ "$(cat "$DESTDIR$SYSUSERS_PATH")" != "$sysusers_line" ]; then
        mkdir -p "$DESTDIR/etc/sysusers.d"
        printf '%s\n' "$sysusers_line" >"$DESTDIR$SYSUSERS_PATH"
        chmod 0644 "$DESTDIR$SYSUSERS_PATH"
        note_change sysusers "wrote $SYSUSERS_PATH"
    fi
    if user_ids >/dev/null; then
        return 0
    fi
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers --root="${DESTDIR:-/}" "$DESTDIR$SYSUSERS_PATH" >/dev/null
    elif [ -z "$DESTDIR" ]; then
        useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "tokend authentication-token server" "$NAME"
    else
        die "systemd-sysusers is needed to create the user inside DESTDIR"
    fi
    user_ids >/dev/null || die "could not create the system user $NAME"
    note_change user "created the system user $NAME"
}

# chown_to OWNER:GROUP PATH, with OWNER/GROUP 'root' or the service user ('svc').
chown_to() {
    [ "$IS_ROOT" = yes ] || return 0
    ids=$(user_ids) || die "the user $NAME does not exist"
    case $1 in
        root:svc) chown "0:${ids#*:}" "$2" ;;
        svc:svc) chown "$ids" "$2" ;;
        *) chown "$1" "$2" ;;
    esac
}

# ---------------------------------------------------------------- binary

resolve_binary() {
    if [ "$BUILD" = yes ]; then
        [ -z "$BINARY" ] || die "use either --build or --binary, not both"
        [ -f "$SOURCE_DIR/Cargo.toml" ] || die "--build needs the tokend sources next to install.sh"
        say "building: cargo build --release --locked (in $SOURCE_DIR)"
        if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] && [ "$IS_ROOT" = yes ]; then
            # Build as the user who ran sudo, with their toolchain, not as root.
            sudo -u "$SUDO_USER" -H sh -c \
                'cd "$1" && PATH="$HOME/.cargo/bin:$PATH" && cargo build --release --locked' \
                sh "$SOURCE_DIR"
        else
            (cd "$SOURCE_DIR" && cargo build --release --locked)
        fi
        BINARY=${CARGO_TARGET_DIR:-$SOURCE_DIR/target}/release/$NAME
    fi
    if [ -z "$BINARY" ]; then
        BINARY=$SOURCE_DIR/target/release/$NAME
        [ -f "$BINARY" ] || die "no binary at $BINARY: build it (cargo build --release --locked), or pass --build or --binary PATH"
    fi
    if [ ! -f "$BINARY" ] || [ ! -x "$BINARY" ]; then
        die "$BINARY is not an executable file"
    fi
    version=$("$BINARY" --version 2>/dev/null) || die "$BINARY does not run (--version failed)"
    say "using $version from $BINARY"
}

install_binary() {
    target=$DESTDIR$BIN_PATH
    if [ -f "$target" ] && cmp -s "$BINARY" "$target"; then
        return 0
    fi
    mkdir -p "$(dirname "$target")"
    # Copy beside the target, then rename: a running service never sees a half-written file.
    cp "$BINARY" "$target.new.$$"
    chmod 0755 "$target.new.$$"
    mv -f "$target.new.$$" "$target"
    note_change binary "installed $BIN_PATH"
}

# ---------------------------------------------------------------- man page and completions

# Where each generated file goes, and the tokend command that prints it. $PREFIX/share is on
# the search paths of man, bash-completion, zsh (Debian's fpath) and fish for /usr/local.
generated_files() {
    cat <<EOF
$PREFIX/share/man/man1/$NAME.1 man
$PREFIX/share/bash-completion/completions/$NAME completions bash
$PREFIX/share/zsh/site-functions/_$NAME completions zsh
$PREFIX/share/fish/vendor_completions.d/$NAME.fish completions fish
EOF
}

# Writes what the binary being installed prints for each generated file, replacing a file
# only when it differs (so a re-run changes nothing).
install_generated() {
    generated=$(generated_files)
    while read -r path command argument; do
        target=$DESTDIR$path
        mkdir -p "$(dirname "$target")"
        # shellcheck disable=SC2086 # $argument is empty or one word
        if ! "$BINARY" "$command" $argument >"$target.new.$$"; then
            rm -f "$target.new.$$"
            die "$BINARY $command $argument failed"
        fi
        if [ -f "$target" ] && cmp -s "$target.new.$$" "$target"; then
            rm -f "$target.new.$$"
            continue
        fi
        chmod 0644 "$target.new.$$"
        mv -f "$target.new.$$" "$target"
        note_change generated "installed $path"
    done <<EOF
$generated
EOF
}

remove_generated() {
    generated=$(generated_files)
    while read -r path _; do
        if [ -e "$DESTDIR$path" ]; then
            rm -f "$DESTDIR$path"
            say "removed $path"
        fi
    done <<EOF
$generated
EOF
}

# ---------------------------------------------------------------- config and data

env_template() {
    cat <<EOF
# tokend settings, read by the $NAME service at start-up. Every *.env file in $CONF_DIR is
# read, in name order (later files win), so you can also drop in small files such as
#   echo CREATE_TOKENS_FOR_USERS=true > $CONF_DIR/create-tokens.env
# Plain KEY=value lines only (systemd's EnvironmentFile= syntax: no shell expansion).
# After a change: sudo systemctl restart $NAME
# Every variable and its default: $BIN_PATH --help, or the Configuration table in README.md.
# install.sh wrote this file once and never overwrites it.

# Listen address. 127.0.0.1 is this machine only; 0.0.0.0:3000 listens on every interface
# (put a TLS reverse proxy in front). A port below 1024 also needs CAP_NET_BIND_SERVICE:
# see "Install on a VM" in README.md.
TOKEND_BIND=${BIND:-127.0.0.1:3000}

# The first admin, created when the database is empty. Without a password tokend generates
# one and prints it once to the journal (journalctl -u $NAME).
#TOKEND_ADMIN_USERNAME=admin
#TOKEND_ADMIN_PASSWORD=

# Rocket.Chat's users.createToken: exactly true or yes enables it (7.x mode).
#CREATE_TOKENS_FOR_USERS=true

#TOKEND_LOGIN_EXPIRATION_DAYS=90
#RUST_LOG=info
EOF
}

ensure_config() {
    if [ ! -d "$DESTDIR$CONF_DIR" ]; then
        mkdir -p "$DESTDIR$CONF_DIR"
        chmod 0750 "$DESTDIR$CONF_DIR"
        chown_to root:svc "$DESTDIR$CONF_DIR"
        note_change confdir "created $CONF_DIR"
    fi
    if [ ! -e "$DESTDIR$ENV_FILE" ]; then
        (umask 027 && env_template >"$DESTDIR$ENV_FILE.new.$$")
        chown_to root:svc "$DESTDIR$ENV_FILE.new.$$"
        mv -f "$DESTDIR$ENV_FILE.new.$$" "$DESTDIR$ENV_FILE"
        note_change envfile "wrote $ENV_FILE"
    fi
    if [ ! -d "$DESTDIR$DATA_DIR" ]; then
        mkdir -p "$DESTDIR$DATA_DIR"
        chmod 0750 "$DESTDIR$DATA_DIR"
        chown_to svc:svc "$DESTDIR$DATA_DIR"
        note_change datadir "created $DATA_DIR"
    fi
}

# ---------------------------------------------------------------- unit

unit_text() {
    cat <<EOF
# Installed by tokend's install.sh, which replaces this file when it changes.
# Customise with a drop-in instead: sudo systemctl edit $NAME
[Unit]
Description=tokend authentication-token server
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=$NAME
Group=$NAME
Environment=TOKEND_DATA_DIR=$DATA_DIR
EnvironmentFile=-$CONF_DIR/*.env
ExecStart=$BIN_PATH serve
Restart=on-failure
RestartSec=5s
# tokend finishes in-flight requests for up to 30 s after SIGTERM.
TimeoutStopSec=35s
SyslogIdentifier=$NAME
StateDirectory=$NAME
StateDirectoryMode=0750
WorkingDirectory=$DATA_DIR
UMask=0027
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
# The password-hashing threads lower their own priority (nice 9, then SCHED_IDLE) and a hash
# starved at idle priority is moved back to nice 9; nothing else of @resources.
SystemCallFilter=setpriority sched_setscheduler
# A filtered call fails with EPERM rather than killing the service.
SystemCallErrorNumber=EPERM
CapabilityBoundingSet=
LimitNOFILE=65536
# Leaving SCHED_IDLE for nice 9 needs RLIMIT_NICE of at least 20-9; without it the hashing
# threads stay at nice 9 throughout and logins slow token checks more (README: Logins and the CPU).
LimitNICE=+9

[Install]
WantedBy=multi-user.target
EOF
}

UNIT_CHANGED=no
install_unit() {
    target=$DESTDIR$UNIT_PATH
    mkdir -p "$(dirname "$target")"
    unit_text >"$target.new.$$"
    if [ -f "$target" ] && cmp -s "$target.new.$$" "$target"; then
        rm -f "$target.new.$$"
        return 0
    fi
    chmod 0644 "$target.new.$$"
    mv -f "$target.new.$$" "$target"
    UNIT_CHANGED=yes
    note_change unit "installed $UNIT_PATH"
}

# ---------------------------------------------------------------- service

# The TOKEND_BIND the service will use: the last one in the env files, in name order.
service_bind() {
    bind=127.0.0.1:3000
    for file in "$DESTDIR$CONF_DIR"/*.env; do
        [ -f "$file" ] || continue
        value=$(sed -n 's/^[[:space:]]*TOKEND_BIND[[:space:]]*=[[:space:]]*//p' "$file" | tail -n 1 |
            sed 's/[[:space:]]*$//; s/^"\(.*\)"$/\1/; s/^'"'"'\(.*\)'"'"'$/\1/')
        [ -z "$value" ] || bind=$value
    done
    printf '%s\n' "$bind"
}

wait_healthy() {
    bind=$(service_bind)
    say "waiting for tokend to answer on $bind (up to ${WAIT_SECS}s)"
    waited=0
    while :; do
        if env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TOKEND_BIND="$bind" "$DESTDIR$BIN_PATH" healthcheck >/dev/null 2>&1; then
            say "tokend is up on $bind"
            return 0
        fi
        if [ "$waited" -ge "$WAIT_SECS" ]; then
            systemctl --no-pager status "$NAME" >&2 || true
            die "tokend did not answer within ${WAIT_SECS}s; see: journalctl -u $NAME -n 50 --no-pager"
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

admin_password_hint() {
    if [ "$HAD_DB" = yes ]; then
        say "the database in $DATA_DIR was kept: its users and passwords are unchanged"
    elif grep -qs '^[[:space:]]*TOKEND_ADMIN_PASSWORD[[:space:]]*=[[:space:]]*[^[:space:]]' "$DESTDIR$CONF_DIR"/*.env; then
        say "the first admin's password is the TOKEND_ADMIN_PASSWORD set in $CONF_DIR"
    else
        say "the first admin's password was generated and written once to the journal; read it with:"
        say "  sudo journalctl -u $NAME.service -o cat | grep 'first admin'"
    fi
}

start_or_restart() {
    if [ "$UNIT_CHANGED" = yes ]; then
        systemctl daemon-reload
    fi
    if [ "$FRESH_UNIT" = yes ]; then
        systemctl enable --now "$NAME.service"
    elif systemctl is-active --quiet "$NAME.service"; then
        case $CHANGED in
            *binary* | *unit*)
                say "restarting $NAME (binary or unit changed)"
                systemctl restart "$NAME.service"
                ;;
            *) ;;
        esac
    elif systemctl is-enabled --quiet "$NAME.service"; then
        say "starting $NAME (enabled but not running)"
        systemctl start "$NAME.service"
    else
        say "$NAME is disabled, as you left it; to run it: sudo systemctl enable --now $NAME"
        return 0
    fi
    wait_healthy
    admin_password_hint
}

# ---------------------------------------------------------------- modes

do_install() {
    resolve_binary
    FRESH_UNIT=yes
    [ -f "$DESTDIR$UNIT_PATH" ] && FRESH_UNIT=no
    HAD_DB=no
    [ -f "$DESTDIR$DATA_DIR/tokend.sqlite3" ] && HAD_DB=yes
    ensure_user
    install_binary
    install_generated
    ensure_config
    install_unit
    if [ "$SYSTEMD" = yes ]; then
        start_or_restart
    else
        say "not touching systemd (--no-systemd, DESTDIR, or systemd is not running)"
        if [ -n "$CHANGED" ]; then
            say "to start it: systemctl daemon-reload && systemctl enable --now $NAME"
            say "on its first start tokend prints the first admin's generated password once on stderr (the journal)"
        fi
    fi
    if [ -z "$CHANGED" ]; then
        say "nothing changed: tokend is already installed as requested"
    fi
}

remove_user() {
    user_ids >/dev/null || return 0
    if [ -n "$DESTDIR" ]; then
        userdel --prefix "$DESTDIR" "$NAME" 2>/dev/null || true
        groupdel --prefix "$DESTDIR" "$NAME" 2>/dev/null || true
    else
        userdel "$NAME" 2>/dev/null || true
        groupdel "$NAME" 2>/dev/null || true
    fi
    say "removed the user $NAME"
}

do_uninstall() {
    if [ -f "$DESTDIR$UNIT_PATH" ]; then
        if [ "$SYSTEMD" = yes ]; then
            systemctl disable --now "$NAME.service" || true
        fi
        rm -f "$DESTDIR$UNIT_PATH"
        [ "$SYSTEMD" = no ] || systemctl daemon-reload
        say "removed $UNIT_PATH"
    fi
    if [ -e "$DESTDIR$BIN_PATH" ]; then
        rm -f "$DESTDIR$BIN_PATH"
        say "removed $BIN_PATH"
    fi
    remove_generated
    if [ "$MODE" = purge ]; then
        rm -rf "$DESTDIR$CONF_DIR" "$DESTDIR$DATA_DIR"
        say "removed $CONF_DIR and $DATA_DIR (settings and database)"
        remove_user
        rm -f "$DESTDIR$SYSUSERS_PATH"
    else
        say "kept $CONF_DIR (settings), $DATA_DIR (the database) and the user $NAME;"
        say "the database is $DATA_DIR/tokend.sqlite3, a plain SQLite file (safe to copy now that tokend is stopped)"
        say "delete them with: sh install.sh --purge"
    fi
}

case $MODE in
    install) do_install ;;
    uninstall | purge) do_uninstall ;;
esac
