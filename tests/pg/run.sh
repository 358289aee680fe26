#!/usr/bin/env bash
# tests/pg/run.sh STATE_DIR COMMAND... - runs COMMAND (a unit test, or
# valgrind and a unit test) with YS_TEST_PG_DSN set to the server that
# setup.sh started, so tests/unit/store_fixture.h picks PostgreSQL.
set -euo pipefail
state=${1:?usage: run.sh STATE_DIR COMMAND...}
shift
YS_TEST_PG_DSN=$(cat "$state/dsn") || { echo "run.sh: no server (setup.sh failed?)" >&2; exit 1; }
export YS_TEST_PG_DSN
exec "$@"
