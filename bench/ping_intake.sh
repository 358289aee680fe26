#!/usr/bin/env bash
# bench/ping_intake.sh - heartbeat pings over HTTP (issue 5): how many
# pings/s the daemon takes in and stores, what a ping costs it, against
# nginx answering `return 200` to the same load in the same run (the
# ceiling of a trivial HTTP endpoint on this machine). A benchmark that
# prints figures, not a pass/fail test.
#
# 1. A loopback nginx (tests/integration/lib.sh's start_nginx: one
#    process) with `location / { return 200 "OK\n"; }`, and `yardstick run`
#    with PING_CHECKS heartbeat checks (period 1h) and a store in a
#    temporary folder.
# 2. For each body size (PING_BODIES) and connection count (PING_CONNS):
#    wrk -t2 for DURATION seconds with bench/ping_intake.lua, which POSTs
#    /ping/<check> round robin over the checks, first at nginx, then at the
#    daemon. Per run: requests/s, latency p50/p99, non-2xx answers, the
#    server's CPU (utime + stime from /proc/PID/stat) per 1,000 pings
#    answered 2xx, and its RSS. For the daemon the CPU window runs until
#    its writer has stored what it took in (the ping table stops growing),
#    so storing is charged to the pings; the pings stored in that window
#    are counted in the store (sqlite3, read-only, beside the writer) and
#    "lost" is 2xx answers minus pings stored: pings that were answered
#    200 and then dropped because the writer's ping queue was full.
# 3. With PING_RATE > 0, paced runs at about that rate (wrk's delay()
#    hook, 100 connections), per body size, for both servers: the cost per
#    ping when the writer keeps up, so every ping answered is stored.
# 4. Cross-checks through the API (GET /api/v1/checks/<check>/pings), and
#    the daemon's own counts at SIGTERM (results written and dropped: every
#    success ping of a period heartbeat closes a slot, so it is a result
#    too).
# Everything it starts is stopped by lib.sh's EXIT trap, by PID.
#
# Usage: bench/ping_intake.sh [BUILD_DIR] [DURATION_S]
#   BUILD_DIR defaults to build (a Release build with yardstick).
# Env: PING_CONNS="4 32 128" PING_BODIES="0 4096" PING_CHECKS=100
#      PING_RATE=5000 (0 skips the paced run), YS_KEEP_TMP=1 keeps the
#      folder when the bench fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
DURATION=${2:-10}
CONNS=${PING_CONNS:-4 32 128}
BODIES=${PING_BODIES:-0 4096}
N=${PING_CHECKS:-100}
RATE=${PING_RATE:-5000}
export YARDSTICK=$BUILD/yardstick YS_SOURCE_DIR=$ROOT
[ -x "$YARDSTICK" ] || { echo "ping_intake: build $YARDSTICK first" >&2; exit 2; }
source "$ROOT/tests/integration/lib.sh"
command -v wrk >/dev/null || fail "wrk is missing (bash scripts/deps.sh all)"
LUA=$ROOT/bench/ping_intake.lua
TCK=$(getconf CLK_TCK)

ys_tmpdir T
NGX=$(free_port)
WEB=$(free_port)
# keepalive_requests: MHD never closes a keep-alive connection, so nginx
# must not either, or wrk would reconnect to one server and not the other.
cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$NGX backlog=4096;
    keepalive_requests 100000000;
    location / { default_type text/plain; return 200 "OK\n"; }
}
EOF
start_nginx "$T" "$NGX"

{
    echo "storage: { path: $T/ys.db }"
    echo "server: { listen: 127.0.0.1:$WEB, max_connections: 1024, max_connections_per_ip: 1024 }"
    echo "checks:"
    for ((i = 0; i < N; i++)); do
        printf '  - { name: hb-%03d, kind: heartbeat, period: 1h }\n' "$i"
    done
} >"$T/cfg.yaml"
"$YARDSTICK" validate -c "$T/cfg.yaml" >"$T/validate.out" 2>&1 ||
    fail "config rejected: $(cat "$T/validate.out")"
"$YARDSTICK" run -c "$T/cfg.yaml" 2>"$T/daemon.log" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
B="http://127.0.0.1:$WEB"
ready() { curl -sf "$B/readyz" >/dev/null; }
wait_for 30 "the daemon's /readyz" ready

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk -v k="$2:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# Pings in the store. The daemon's writer keeps writing meanwhile (WAL).
stored() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
print(c.execute("SELECT count(*) FROM ping").fetchone()[0])' "$T/ys.db"
}
# Waits (at most 60 s) until the ping table stops growing: the writer has
# drained its queue. Prints the count.
settle() {
    local last now n
    last=$(stored)
    for ((n = 0; n < 120; n++)); do
        sleep 0.5
        now=$(stored)
        [ "$now" = "$last" ] && break
        last=$now
    done
    echo "$last"
}

# One wrk run: sets RPS P50 P99 OK NON2XX ERRS and CPU_PER_K (ms per
# 1,000 2xx answers) and RSS, for the server PID at URL.
# Usage: load PID URL CONNS BODY DELAY_MS IS_DAEMON
load() {
    local pid=$1 url=$2 c=$3 body=$4 delay=$5 daemon=$6 c0 c1 total
    STORED=""
    [ "$daemon" = 1 ] && S0=$(settle)
    c0=$(cpu_ticks "$pid")
    PING_CHECKS=$N PING_BODY_BYTES=$body PING_DELAY_MS=$delay \
        wrk -t2 -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$LUA" "$url/" >"$T/wrk.out" 2>&1
    grep -q 'ping_intake.lua' "$T/wrk.out" && fail "wrk: $(cat "$T/wrk.out")"
    [ "$daemon" = 1 ] && STORED=$(($(settle) - S0))
    c1=$(cpu_ticks "$pid")
    RPS=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$T/wrk.out")
    P50=$(awk '$1 == "50%" {print $2}' "$T/wrk.out")
    P99=$(awk '$1 == "99%" {print $2}' "$T/wrk.out")
    total=$(awk '/ requests in / {print $1}' "$T/wrk.out")
    NON2XX=$(awk '/Non-2xx/ {print $NF}' "$T/wrk.out")
    NON2XX=${NON2XX:-0}
    ERRS=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$T/wrk.out")
    ERRS=${ERRS:-0}
    OK=$((total - NON2XX))
    CPU_PER_K=$(awk -v t="$((c1 - c0))" -v hz="$TCK" -v ok="$OK" \
        'BEGIN {if (ok > 0) printf "%.1f", t / hz * 1000 / (ok / 1000); else print "n/a"}')
    RSS=$(rss_mib "$pid" VmRSS)
}

row() {
    local who=$1 body=$2 c=$3 extra=$4
    printf '%-9s %5s %5s %9s %9s %9s %7s %9s %8s  %s\n' "$who" "$body" "$c" "$RPS" "$P50" "$P99" \
        "$NON2XX" "$CPU_PER_K" "$RSS" "$extra"
}

echo "ping_intake: $N heartbeat checks, wrk -t2 for ${DURATION}s per run, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ping_intake: nginx pid $NGINX_PID on :$NGX, yardstick pid $DAEMON on :$WEB (RSS $(rss_mib "$DAEMON" VmRSS) MiB before the load)"
printf '%-9s %5s %5s %9s %9s %9s %7s %9s %8s  %s\n' server body conns req/s p50 p99 non2xx cpu_ms/1k rss_MiB \
    "stored (lost = 2xx - stored)"
RATIOS=()
LOST_ALL=0
for body in $BODIES; do
    for c in $CONNS; do
        load "$NGINX_PID" "http://127.0.0.1:$NGX" "$c" "$body" 0 0
        row nginx "$body" "$c" ""
        n_rps=$RPS n_cpu=$CPU_PER_K
        load "$DAEMON" "$B" "$c" "$body" 0 1
        lost=$((OK - STORED))
        [ "$lost" -lt 0 ] && lost=0
        LOST_ALL=$((LOST_ALL + lost))
        row yardstick "$body" "$c" "$STORED stored, $lost lost, $ERRS socket errors"
        RATIOS+=("$(awk -v b="$body" -v c="$c" -v y="$RPS" -v n="$n_rps" -v yc="$CPU_PER_K" -v nc="$n_cpu" \
            -v s="$STORED" -v d="$DURATION" 'BEGIN {printf "body %5s conns %4s: rate %.2f, cpu/ping %.1fx, stored/s %.0f", b, c, y / n, yc / nc, s / d}')")
    done
done
if [ "$RATE" -gt 0 ]; then
    PC=100
    DELAY=$(((PC * 1000 + RATE / 2) / RATE))
    echo "ping_intake: paced, about $RATE/s offered (100 connections, ${DELAY} ms between a connection's requests)"
    for body in $BODIES; do
        load "$NGINX_PID" "http://127.0.0.1:$NGX" "$PC" "$body" "$DELAY" 0
        row nginx "$body" "$PC" "paced"
        n_cpu=$CPU_PER_K
        load "$DAEMON" "$B" "$PC" "$body" "$DELAY" 1
        lost=$((OK - STORED))
        [ "$lost" -lt 0 ] && lost=0
        LOST_ALL=$((LOST_ALL + lost))
        row yardstick "$body" "$PC" "paced: $STORED stored, $lost lost, $ERRS socket errors"
        RATIOS+=("$(awk -v b="$body" -v yc="$CPU_PER_K" -v nc="$n_cpu" \
            'BEGIN {printf "body %5s paced:     cpu/ping %.1fx", b, yc / nc}')")
    done
fi

echo "ping_intake: yardstick / nginx (rate: requests/s; cpu/ping: CPU per 1,000 2xx answers; the daemon's includes storing)"
for r in "${RATIOS[@]}"; do echo "  $r"; done

# The API's view: the newest pings of one check, with the last run's body.
curl -sf "$B/api/v1/checks/hb-000/pings?limit=500" >"$T/pings.json" || fail "GET /api/v1/checks/hb-000/pings failed"
python3 - "$T/pings.json" <<'EOF'
import json, sys
pings = json.load(open(sys.argv[1]))["pings"]
bodies = sorted({p["body_bytes"] for p in pings})
print(f"ping_intake: API: GET /api/v1/checks/hb-000/pings?limit=500 lists {len(pings)} pings, "
      f"kinds {sorted({p['kind'] for p in pings})}, body_bytes {bodies}")
EOF
echo "ping_intake: daemon peak RSS $(rss_mib "$DAEMON" VmHWM) MiB; store $(du -sh "$T" | cut -f1)"
term_wait "$DAEMON" 60
grep -E 'store: stopped' "$T/daemon.log" | sed 's/^/ping_intake: daemon: /'
drops=$(grep -c 'ping queue full' "$T/daemon.log" || true)
echo "ping_intake: $LOST_ALL pings answered 200 and not stored in all; ${drops} 'ping queue full' warnings in the daemon's log"
grep 'ping queue full' "$T/daemon.log" | tail -1 | sed 's/^/ping_intake: last: /' || true
