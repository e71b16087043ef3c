#!/usr/bin/env bash
# The whole black-box API suite (tests/api) against the PostgreSQL engine: a throwaway
# PostgreSQL server on a free loopback port, and TOKEND_TEST_DATABASE_URL pointing at it, so
# each test's server gets a database of its own (tests/api/helpers_store.rs). Extra arguments
# go to `cargo test --test api` (a filter, `-- --nocapture`). Needs Debian's `postgresql`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"
trap pg_teardown EXIT

pg_single
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$(pg_primary_port)"
cd "$HERE/../.."
TOKEND_TEST_DATABASE_URL="host=127.0.0.1 port=$(pg_primary_port) user=postgres" cargo test --test api "$@"
