#!/bin/sh
# Single-quoted sh -c scripts below are meant literally.
# shellcheck disable=SC2016
# Runs INSIDE the systemd-nspawn container booted by nspawn_test.sh, as a oneshot unit after
# multi-user.target, once per boot. Boot 1 installs tokend with install.sh and exercises it;
# boot 2 checks it came back by itself with its data, then uninstalls and purges.
# Writes `ok - ...` / `not ok - ...` lines to /root/out/results, then powers off.
set -u
OUT=/root/out
SRC=/root/tokend
RESULTS=$OUT/results
BASE=http://127.0.0.1:3000
mkdir -p "$OUT"
PHASE=$(cat "$OUT/phase" 2>/dev/null || echo 1)

ok() { echo "ok - [nspawn] $*" >>"$RESULTS"; }
not_ok() { echo "not ok - [nspawn] $*" >>"$RESULTS"; }
check() {
    name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}

healthy() {
    i=0
    while [ "$i" -lt 60 ]; do
        TOKEND_BIND=127.0.0.1:3000 /usr/local/bin/tokend healthcheck >/dev/null 2>&1 && return 0
        sleep 0.5
        i=$((i + 1))
    done
    return 1
}

# hashing_threads_as_allowed: every password-hashing thread of the service is in SCHED_IDLE
# (policy 5, field 41 of its stat) when the service got the RLIMIT_NICE >= 11 that the unit's
# LimitNICE=+9 asks for, and at nice 9 outside it (policy 0, nice in field 19) when it did not:
# systemd needs CAP_SYS_RESOURCE to raise the limit, which some container hosts withhold from
# the container (README: Logins and the CPU).
nice_limit() {
    awk '/^Max nice priority/ {print $4}' "/proc/$(main_pid)/limits"
}
hashing_threads_as_allowed() {
    pid=$(main_pid)
    if [ "$(nice_limit)" -ge 11 ]; then want="5 9"; else want="0 9"; fi
    n=0
    for task in /proc/"$pid"/task/*; do
        case "$(cat "$task/comm")" in bcrypt-[0-9]*) ;; *) continue ;; esac
        [ "$(awk '{print $41, $19}' "$task/stat")" = "$want" ] || return 1
        n=$((n + 1))
    done
    [ "$n" -gt 0 ]
}

# json_field NAME: the first "NAME":"value" string in stdin.
json_field() {
    sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1
}

# post PATH JSON [UID TOKEN] → "STATUS BODY" on stdout.
post() {
    if [ -n "${3:-}" ]; then
        code=$(curl -s -o "$OUT/body" -w '%{http_code}' -X POST "$BASE$1" -H 'Content-Type: application/json' \
            -H "X-User-Id: $3" -H "X-Auth-Token: $4" -d "$2")
    else
        code=$(curl -s -o "$OUT/body" -w '%{http_code}' -X POST "$BASE$1" -H 'Content-Type: application/json' -d "$2")
    fi
    echo "$code $(cat "$OUT/body")"
}

me_username() {
    curl -s "$BASE/api/v1/me" -H "X-User-Id: $1" -H "X-Auth-Token: $2" | json_field username
}

login_admin() {
    reply=$(post /api/v1/login "{\"user\":\"admin\",\"password\":\"$(cat "$OUT/admin-password")\"}")
    ADMIN_UID=$(echo "$reply" | json_field userId)
    ADMIN_TOKEN=$(echo "$reply" | json_field authToken)
    [ "${reply%% *}" = 200 ] && [ -n "$ADMIN_TOKEN" ]
}

create_token() {
    post /api/v1/users.createToken "{\"username\":\"$1\"}" "$ADMIN_UID" "$ADMIN_TOKEN"
}

main_pid() { systemctl show -p MainPID --value tokend.service; }

phase1() {
    if sh "$SRC/install.sh" --binary "$SRC/tokend" >"$OUT/install1.log" 2>&1; then
        ok "install.sh --binary succeeds on a booted Debian 12 (health wait passed)"
    else
        not_ok "install.sh --binary succeeds on a booted Debian 12 (health wait passed)"
    fi
    check "tokend.service is active" systemctl is-active --quiet tokend.service
    check "tokend.service is enabled" systemctl is-enabled --quiet tokend.service
    check "tokend healthcheck passes" healthy
    check "install.sh printed the journalctl command for the first admin's password" \
        grep -qF "journalctl -u tokend.service -o cat | grep 'first admin'" "$OUT/install1.log"
    journalctl -u tokend.service -o cat | grep 'first admin' |
        sed -n "s/^tokend: created the first admin user 'admin' with the generated password: *//p" |
        head -n 1 >"$OUT/admin-password"
    check "that command shows the generated password" test -s "$OUT/admin-password"
    check "the database is /var/lib/tokend/tokend.sqlite3, owned by tokend, mode 0600 (tokend sets it)" \
        test "$(stat -c '%U %a' /var/lib/tokend/tokend.sqlite3)" = "tokend 600"
    check "nothing in /var/lib/tokend is readable by others (UMask=0027)" \
        test -z "$(find /var/lib/tokend -perm /007)"
    check "the service runs as the system user tokend" \
        test "$(stat -c %U "/proc/$(main_pid)")" = tokend
    check "the admin logs in with it" login_admin
    if [ "$(nice_limit)" -ge 11 ]; then
        check "the password-hashing threads run at idle priority (LimitNICE=+9 took effect)" \
            hashing_threads_as_allowed
    else
        check "the password-hashing threads run at nice 9 (RLIMIT_NICE $(nice_limit): this host withholds CAP_SYS_RESOURCE)" \
            hashing_threads_as_allowed
    fi
    { journalctl -u tokend --no-pager | grep 'password hashing'; grep -i nice "/proc/$(main_pid)/limits"; } \
        >"$OUT/hashing.log" 2>&1

    post /api/v1/users.create \
        '{"username":"erin","name":"Erin","email":"erin@example.com","password":"erin-password-1"}' \
        "$ADMIN_UID" "$ADMIN_TOKEN" >"$OUT/create-user"
    check "the admin creates a user" grep -q '^200 ' "$OUT/create-user"
    reply=$(create_token erin)
    check "users.createToken is off by default (400 error-not-authorized)" \
        sh -c 'case "$1" in "400 "*error-not-authorized*) exit 0 ;; *) exit 1 ;; esac' sh "$reply"

    # The recipe, verbatim.
    echo "CREATE_TOKENS_FOR_USERS=true" >/etc/tokend/create-tokens.env && systemctl restart tokend
    check "after the create-tokens.env recipe and a restart tokend is healthy" healthy
    login_admin
    reply=$(create_token erin)
    token=$(echo "$reply" | json_field authToken)
    uid=$(echo "$reply" | json_field userId)
    check "the service honours the env file: users.createToken answers 200 with a token" \
        test "${reply%% *}" = 200 -a -n "$token"
    printf '%s %s\n' "$uid" "$token" >"$OUT/erin-token"
    check "the created token authenticates as erin" test "$(me_username "$uid" "$token")" = erin

    pid=$(main_pid)
    if sh "$SRC/install.sh" --binary "$SRC/tokend" >"$OUT/install2.log" 2>&1; then
        ok "a second install.sh run succeeds"
    else
        not_ok "a second install.sh run succeeds"
    fi
    check "a second run changes nothing" grep -q 'nothing changed' "$OUT/install2.log"
    check "a second run does not restart tokend (same MainPID)" test "$(main_pid)" = "$pid"
    check "the operator's create-tokens.env is still there" grep -qx 'CREATE_TOKENS_FOR_USERS=true' /etc/tokend/create-tokens.env
    check "no crash or restart under the sandboxing (NRestarts=0)" \
        test "$(systemctl show -p NRestarts --value tokend.service)" = 0
    score=$(systemd-analyze security tokend.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for tokend.service: \([0-9.]*\).*/\1/p')
    check "systemd-analyze security on the running unit: exposure ${score:-?} <= 2.0" \
        awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
    check "an online backup as the service user works while it runs" \
        runuser -u tokend -- env TOKEND_DATA_DIR=/var/lib/tokend /usr/local/bin/tokend backup /var/lib/tokend/manual-backup.sqlite3
    check "the backup is a file owned by tokend" test "$(stat -c %U /var/lib/tokend/manual-backup.sqlite3 2>/dev/null)" = tokend
    echo 2 >"$OUT/phase"
    echo "phase 1 done" >>"$OUT/log"
}

phase2() {
    check "after a reboot tokend is up by itself (enabled)" healthy
    check "the admin still logs in (the database survived the reboot)" login_admin
    # "UID TOKEN": split on purpose.
    # shellcheck disable=SC2046
    set -- $(cat "$OUT/erin-token")
    check "erin's token from before the reboot still authenticates" test "$(me_username "$1" "$2")" = erin
    reply=$(create_token erin)
    check "create-tokens.env is still honoured after the reboot" test "${reply%% *}" = 200

    sh "$SRC/install.sh" --uninstall >"$OUT/uninstall.log" 2>&1
    check "install.sh --uninstall succeeds" test $? -eq 0
    check "after --uninstall the service is gone" sh -c '! systemctl is-active --quiet tokend.service && [ ! -e /etc/systemd/system/tokend.service ]'
    check "after --uninstall the binary is gone" test ! -e /usr/local/bin/tokend
    check "after --uninstall the database and settings are kept" \
        test -f /var/lib/tokend/tokend.sqlite3 -a -f /etc/tokend/create-tokens.env
    sh "$SRC/install.sh" --purge >"$OUT/purge.log" 2>&1
    check "install.sh --purge succeeds" test $? -eq 0
    check "after --purge the data, settings and user are gone" \
        sh -c '[ ! -e /var/lib/tokend ] && [ ! -e /etc/tokend ] && ! id tokend'
    echo 3 >"$OUT/phase"
    echo "phase 2 done" >>"$OUT/log"
}

case $PHASE in
    1) phase1 ;;
    2) phase2 ;;
    *) ;;
esac
systemctl poweroff --no-block
