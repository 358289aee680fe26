#!/usr/bin/env bash
# tests/pg/cleanup.sh STATE_DIR - stops the PostgreSQL that setup.sh
# started (by the PID it wrote, nothing else) and removes its folder.
# Bounded: a fast shutdown gets 20 s, then the postmaster is killed.
set -uo pipefail
state=${1:?usage: cleanup.sh STATE_DIR}
pid=$(cat "$state/pid" 2>/dev/null || true)
dir=$(cat "$state/dir" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kill -INT "$pid" 2>/dev/null # fast shutdown: ends sessions, no checkpoint wait
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
fi
case "$dir" in
  /tmp/ys_pg_?*) rm -rf "$dir" ;;
esac
rm -f "$state/pid" "$state/dir" "$state/dsn"
exit 0
