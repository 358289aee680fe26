#!/usr/bin/env bash
# bench/failover.sh - how long the notifier lease takes to move when its
# holder dies (issue 8 §5: "the failover time measured over 5 kills").
# A benchmark that prints figures, not a pass/fail test.
#
# 1. A throwaway PostgreSQL (tests/pg/setup.sh) and three `yardstick run`
#    daemons sharing it (instance ids fo-a, fo-b, fo-c, lease_ttl TTL,
#    default 15s, the shipped default), each with 20 tcp checks against a
#    closed port and a check_down rule to a loopback webhook receiver, so
#    the lease holder is busy evaluating and delivering when it dies.
# 2. KILLS times (default 5): kill -9 the daemon whose /api/v1/status says
#    it leads, time until another one says so (polled every 100 ms), and
#    restart the killed one with the same id, so three always run.
# 3. Prints each failover time and the mean, min and max, next to what
#    the design bounds it by: the old lease's expiry (TTL after its last
#    renewal) plus one follower poll (TTL/3): at most 4/3 TTL.
#
# Bounded: each failover waits at most 2 x TTL + 10 s, and everything it
# starts is stopped by lib.sh's EXIT trap, by PID (PostgreSQL by
# tests/pg/cleanup.sh).
#
# Usage: bench/failover.sh [BUILD_DIR] [KILLS] [TTL]
#   BUILD_DIR defaults to build-bench; TTL is a duration in seconds (15).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
KILLS=${2:-5}
TTL=${3:-15}
export YARDSTICK=$BUILD/yardstick YS_SOURCE_DIR=$ROOT
[ -x "$YARDSTICK" ] || { echo "failover: build $YARDSTICK first" >&2; exit 2; }
source "$ROOT/tests/integration/lib.sh"

ys_tmpdir T
PGSTATE="$T/pg"
bench_cleanup() {
    local rc=$?
    stop_all
    bash "$ROOT/tests/pg/cleanup.sh" "$PGSTATE" >/dev/null 2>&1 || true
    set +e # a failing (exit) must not end the trap before ys_cleanup
    (exit "$rc")
    ys_cleanup
}
trap bench_cleanup EXIT
bash "$ROOT/tests/pg/setup.sh" "$PGSTATE" >"$T/pg.log" 2>&1 || fail "PostgreSQL: $(cat "$T/pg.log")"
DSN=$(cat "$PGSTATE/dsn")

HOOK=$(free_port)
DOWN=$(free_port)
python3 -u - "$HOOK" >"$T/hook.log" 2>&1 <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
YS_PIDS+=("$!")
wait_for 10 "the webhook receiver" port_open "$HOOK"

IDS=(fo-a fo-b fo-c)
declare -A WEB PIDS
for id in "${IDS[@]}"; do
    WEB[$id]=$(free_port)
    {
        echo "storage: { kind: postgres, dsn: \"$DSN\" }"
        echo "instance: { id: $id, lease_ttl: ${TTL}s }"
        echo "defaults: { interval: 1s, timeout: 500ms, evaluation_interval: 5s }"
        echo "server: { listen: \"127.0.0.1:${WEB[$id]}\" }"
        echo "checks:"
        for i in $(seq 1 20); do echo "  - { name: c$i, kind: tcp, address: \"127.0.0.1:$DOWN\" }"; done
        echo "notifiers: [ { name: hook, kind: webhook, url: \"http://127.0.0.1:$HOOK/\" } ]"
        echo "alerts: [ { name: down, when: check_down, notify: [hook], repeat_interval: 5s } ]"
    } >"$T/$id.yaml"
done

start_daemon() {
    "$YARDSTICK" run -c "$T/$1.yaml" 2>>"$T/$1.log" >/dev/null &
    PIDS[$1]=$!
    YS_PIDS+=("$!")
    wait_for 30 "the API of $1" port_open "${WEB[$1]}"
}
leader() {
    local id
    for id in "${!PIDS[@]}"; do
        curl -fsS -m 1 "http://127.0.0.1:${WEB[$id]}/api/v1/status" 2>/dev/null |
            grep -q '"leader":true' && { echo "$id"; return 0; }
    done
    return 1
}

for id in "${IDS[@]}"; do start_daemon "$id"; done
wait_for 30 "a leader" leader
TIMES=()
for k in $(seq 1 "$KILLS"); do
    sleep 3 # a few renewals and deliveries under the current leader
    L=$(leader)
    kill -KILL "${PIDS[$L]}"
    t0=$(date +%s%N)
    wait "${PIDS[$L]}" 2>/dev/null || true
    forget_pid "${PIDS[$L]}"
    unset "PIDS[$L]"
    end=$((SECONDS + 2 * TTL + 10))
    NEW=""
    while [ "$SECONDS" -lt "$end" ]; do
        NEW=$(leader) && break
        sleep 0.1
    done
    [ -n "$NEW" ] || fail "kill $k: no daemon took over within $((2 * TTL + 10)) s"
    ms=$((($(date +%s%N) - t0) / 1000000))
    TIMES+=("$ms")
    printf 'kill %d: %s killed, %s leads after %d.%03d s\n' "$k" "$L" "$NEW" $((ms / 1000)) $((ms % 1000))
    start_daemon "$L"
done
python3 - "$TTL" "${TIMES[@]}" <<'EOF'
import sys
ttl, t = float(sys.argv[1]), [int(x) / 1000 for x in sys.argv[2:]]
print(f"failover over {len(t)} kills (lease_ttl {ttl:g}s): mean {sum(t) / len(t):.2f} s, "
      f"min {min(t):.2f} s, max {max(t):.2f} s; bound by design 4/3 ttl = {ttl * 4 / 3:.1f} s")
EOF
