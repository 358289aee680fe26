#!/usr/bin/env bash
# tests/pg/setup.sh STATE_DIR - the CTest fixture that starts a throwaway
# PostgreSQL for the pg/ variants of the store unit tests.
#
# initdb into a fresh /tmp/ys_pg_XXXXXX, start postgres on a free
# loopback port (its socket in the same folder, never the system one),
# with fsync off (the cluster dies with the run). Writes STATE_DIR/dsn,
# STATE_DIR/pid and STATE_DIR/dir for tests/pg/run.sh and cleanup.sh.
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` user (the Debian package creates it). Bounded: pg_ctl waits
# at most 60 s for the server.
set -euo pipefail
state=${1:?usage: setup.sh STATE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "setup.sh: no PostgreSQL server (bash scripts/deps.sh test)" >&2; exit 1; }

# A cluster left by a run that was killed before its cleanup.
[ -f "$state/pid" ] && bash "$here/cleanup.sh" "$state" || true
mkdir -p "$state"

dir=$(mktemp -d /tmp/ys_pg_XXXXXX)
as=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  as=(runuser -u postgres --)
fi
chmod 700 "$dir"
"${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
  --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }

port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }

head -n 1 "$dir/data/postmaster.pid" >"$state/pid"
echo "$dir" >"$state/dir"
echo "host=127.0.0.1 port=$port dbname=postgres user=postgres" >"$state/dsn"
echo "postgres on 127.0.0.1:$port (pid $(cat "$state/pid"), $dir)"
