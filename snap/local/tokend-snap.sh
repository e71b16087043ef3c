# shellcheck shell=sh
# Shared by the tokend snap's launcher and hooks (installed as $SNAP/lib/tokend-snap.sh).
# The `snap set tokend` keys, their defaults, their checks and the variables they set are not
# written here: tokend derives them from its settings' declarations (src/config/variables.rs)
# and these functions ask it (`tokend settings snap-keys|snap-defaults|snap-check|snap-env`),
# so `snap set` refuses exactly what tokend would refuse at startup. POSIX sh; every name
# starts with tokend_ so that sourcing this file next to operator env files cannot clash.

# pre-refresh backups kept in $SNAP_COMMON/backups (older ones are deleted).
# shellcheck disable=SC2034 # used by the pre-refresh hook
TOKEND_SNAP_KEEP_BACKUPS=5

tokend_log() {
    printf 'tokend-snap: %s\n' "$*" >&2
}

tokend_settings() {
    "$SNAP/bin/tokend" settings "$@"
}

# Every key `snap set tokend` understands, one a line (lower-case letters, digits, dashes).
tokend_snap_keys() {
    tokend_settings snap-keys
}

# Sets every key that has a default and no value yet. Never overwrites a value. A key with
# no default (create-tokens-for-users, most tuning keys) stays unset: the env files decide.
tokend_set_missing_defaults() {
    tokend_defaults=$(tokend_settings snap-defaults) || return 1
    while IFS= read -r tokend_pair; do
        [ -n "$tokend_pair" ] || continue
        if [ -z "$(snapctl get "${tokend_pair%%=*}")" ]; then
            snapctl set "$tokend_pair"
        fi
    done <<EOF
$tokend_defaults
EOF
}

# tokend_settings_with_values COMMAND: runs `tokend settings COMMAND KEY=VALUE...` with
# every key's current value (empty when unset).
tokend_settings_with_values() {
    tokend_command=$1
    tokend_keys=$(tokend_snap_keys) || return 1
    set --
    # The keys hold no space or glob character, so plain word splitting is safe.
    for tokend_key in $tokend_keys; do
        set -- "$@" "$tokend_key=$(snapctl get "$tokend_key")"
    done
    tokend_settings "$tokend_command" "$@"
}

# Checks every key's value; prints one line per refused value, and fails if there is any.
tokend_check_all() {
    tokend_settings_with_values snap-check
}

# Exports what the snap keys say, overriding anything the env files set (the rule of the
# rocketchat-server snap: snap config wins). An unset key leaves the variable alone.
tokend_apply_snap_keys() {
    tokend_exports=$(tokend_settings_with_values snap-env) || return 1
    eval "$tokend_exports"
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
