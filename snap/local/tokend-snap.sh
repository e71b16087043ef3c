# shellcheck shell=sh
# Shared by the tokend snap's launcher and hooks (installed as $SNAP/lib/tokend-snap.sh):
# the `snap set tokend` keys, their defaults, their validation and how they map to the
# environment variables tokend reads. POSIX sh; every name starts with tokend_ so that
# sourcing this file next to operator env files cannot clash.

# Every key `snap set tokend` understands.
TOKEND_SNAP_KEYS="port bind-address create-tokens-for-users login-expiration-days log-level"

# pre-refresh backups kept in $SNAP_COMMON/backups (older ones are deleted).
# shellcheck disable=SC2034 # used by the pre-refresh hook
TOKEND_SNAP_KEEP_BACKUPS=5

tokend_log() {
    printf 'tokend-snap: %s\n' "$*" >&2
}

# The value install and post-refresh give KEY; nothing for a key that stays unset.
# create-tokens-for-users has no default on purpose: unset means "the env files decide",
# so `echo CREATE_TOKENS_FOR_USERS=true > $SNAP_COMMON/create-tokens.env` keeps working.
tokend_default() {
    case $1 in
        port) echo 3000 ;;
        bind-address) echo 127.0.0.1 ;;
        login-expiration-days) echo 90 ;;
        log-level) echo info ;;
        *) ;;
    esac
}

# Sets every key that has a default and no value yet. Never overwrites a value.
tokend_set_missing_defaults() {
    for tokend_key in $TOKEND_SNAP_KEYS; do
        tokend_value=$(tokend_default "$tokend_key")
        [ -n "$tokend_value" ] || continue
        if [ -z "$(snapctl get "$tokend_key")" ]; then
            snapctl set "$tokend_key=$tokend_value"
        fi
    done
}

# tokend_is_number VALUE MIN MAX: a whole number without leading zeros in MIN..MAX.
tokend_is_number() {
    case $1 in
        '' | *[!0-9]* | 0?*) return 1 ;;
    esac
    [ "${#1}" -le 9 ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

tokend_is_ipv4() {
    case $1 in
        *[!0-9.]* | .* | *. | *..*) return 1 ;;
    esac
    tokend_ifs=$IFS
    IFS=.
    # Only digits and dots are left, so the unquoted expansion cannot glob.
    # shellcheck disable=SC2086
    set -- $1
    IFS=$tokend_ifs
    [ "$#" -eq 4 ] || return 1
    for tokend_octet in "$@"; do
        tokend_is_number "$tokend_octet" 0 255 || return 1
    done
}

tokend_is_ipv6() {
    case $1 in
        *[!0-9A-Fa-f:.]*) return 1 ;;
        *:*:*) ;;
        *) return 1 ;;
    esac
    case $1 in
        *:::* | *::*::*) return 1 ;;
    esac
    [ "${#1}" -le 45 ]
}

# An env_logger filter: comma-separated LEVEL or MODULE=LEVEL directives.
tokend_is_log_filter() {
    case $1 in
        '' | *[!A-Za-z0-9_:=,.-]*) return 1 ;;
    esac
    tokend_ifs=$IFS
    IFS=,
    # The character check above leaves nothing that globs.
    # shellcheck disable=SC2086
    set -- $1
    IFS=$tokend_ifs
    [ "$#" -ge 1 ] || return 1
    for tokend_directive in "$@"; do
        case $tokend_directive in
            =* | *=*=*) return 1 ;;
            *=*) tokend_level=${tokend_directive#*=} ;;
            *) tokend_level=$tokend_directive ;;
        esac
        case $(printf '%s' "$tokend_level" | tr '[:upper:]' '[:lower:]') in
            off | error | warn | info | debug | trace) ;;
            *) return 1 ;;
        esac
    done
}

# tokend_check KEY VALUE: silent when VALUE is acceptable for KEY (empty = unset, always
# acceptable); otherwise prints one line saying what is wrong and how to fix it, returns 1.
tokend_check() {
    [ -n "$2" ] || return 0
    case $1 in
        port)
            tokend_is_number "$2" 1 65535 && return 0
            echo "port '$2' is not a TCP port: use a whole number from 1 to 65535, e.g. snap set tokend port=3000"
            ;;
        bind-address)
            tokend_is_ipv4 "$2" && return 0
            tokend_is_ipv6 "$2" && return 0
            echo "bind-address '$2' is not a numeric IP address: use e.g. 127.0.0.1 (this machine only), 0.0.0.0 (every IPv4 interface) or :: (IPv6), without brackets or port"
            ;;
        create-tokens-for-users)
            case $2 in true | false) return 0 ;; esac
            echo "create-tokens-for-users '$2' must be true or false (or unset it to let *.env files decide: snap unset tokend create-tokens-for-users)"
            ;;
        login-expiration-days)
            tokend_is_number "$2" 1 36500 && return 0
            echo "login-expiration-days '$2' must be a whole number of days from 1 to 36500, e.g. snap set tokend login-expiration-days=90"
            ;;
        log-level)
            tokend_is_log_filter "$2" && return 0
            echo "log-level '$2' must be error, warn, info, debug, trace or off, or env_logger directives such as info,actix_web=warn"
            ;;
        *)
            echo "unknown key '$1'"
            ;;
    esac
    return 1
}

# Exports what the snap keys say, overriding anything the env files set (the rule of the
# rocketchat-server snap: snap config wins). An unset key leaves the variable alone.
tokend_apply_snap_keys() {
    tokend_port=$(snapctl get port)
    tokend_address=$(snapctl get bind-address)
    if [ -n "$tokend_port$tokend_address" ]; then
        tokend_port=${tokend_port:-$(tokend_default port)}
        tokend_address=${tokend_address:-$(tokend_default bind-address)}
        case $tokend_address in
            *:*) tokend_address="[$tokend_address]" ;;
        esac
        TOKEND_BIND="$tokend_address:$tokend_port"
        export TOKEND_BIND
    fi
    case $(snapctl get create-tokens-for-users) in
        true)
            CREATE_TOKENS_FOR_USERS=true
            export CREATE_TOKENS_FOR_USERS
            ;;
        false)
            unset CREATE_TOKENS_FOR_USERS CREATE_TOKENS_FOR_USERS_SECRET
            ;;
    esac
    tokend_value=$(snapctl get login-expiration-days)
    if [ -n "$tokend_value" ]; then
        TOKEND_LOGIN_EXPIRATION_DAYS=$tokend_value
        export TOKEND_LOGIN_EXPIRATION_DAYS
    fi
    tokend_value=$(snapctl get log-level)
    if [ -n "$tokend_value" ]; then
        RUST_LOG=$tokend_value
        export RUST_LOG
    fi
}

# Restarts the daemon so a configuration change takes effect, but only when it is running:
# a service the operator stopped or disabled stays that way.
tokend_restart_if_active() {
    tokend_service="${SNAP_INSTANCE_NAME:-tokend}.tokend"
    if snapctl services "$tokend_service" 2>/dev/null |
        awk 'NR > 1 && $3 == "active" { found = 1 } END { exit !found }'; then
        tokend_log "restarting $tokend_service to apply the configuration"
        snapctl restart "$tokend_service"
    fi
}

# Creates the data and backup directories, readable by root only.
tokend_make_dirs() {
    (umask 077 && mkdir -p "$SNAP_COMMON/data" "$SNAP_COMMON/backups")
}
