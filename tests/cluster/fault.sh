#!/usr/bin/env bash
# The primary's failure for tiers 4–6 of nodes_test.sh, run by drive.py at the right moment
# of the churn: the walsender is frozen for 1 s (commits made meanwhile reach only the
# primary), then the primary is SIGKILLed (`kill`) or SIGSTOPped (`stop`: a hung machine, no
# RST), then the standby is promoted. The harness state comes from the environment that
# nodes_test.sh exports (CLUSTER_PG_DIR, CLUSTER_PG_PRIMARY_PORT, CLUSTER_PG_STANDBY_PORT).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"
PG_DIR=$CLUSTER_PG_DIR
PG_PRIMARY_PORT=$CLUSTER_PG_PRIMARY_PORT
PG_STANDBY_PORT=$CLUSTER_PG_STANDBY_PORT

walsender=$(pg_walsender_pid)
[ -n "$walsender" ] || { echo "no walsender on the primary" >&2; exit 1; }
kill -STOP "$walsender"
sleep 1
case ${1:-} in
kill) pg_kill_primary ;;
stop) pg_stop_primary ;;
*) echo "usage: fault.sh kill|stop" >&2; exit 2 ;;
esac
pg_promote_standby
