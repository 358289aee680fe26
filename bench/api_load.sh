#!/usr/bin/env bash
# bench/api_load.sh - load on the HTTP API and /metrics of a daemon with
# 1,000 checks and a week of history, and what it does to the probe loop.
#
# 1. bench_store_bytes writes a week of results (30 s interval: 20,160 per
#    check) for checks bench-0..bench-999 into a fresh store. Its data is
#    dated from 2026-01-01T00:00:00Z, so the history queries below name
#    that week explicitly rather than "the last 7 days".
# 2. A loopback nginx and `yardstick run` with those 1,000 checks (http,
#    interval 60s) on the same store; the bench waits until every check has
#    a result.
# 3. wrk (Debian) for DURATION seconds each against /api/v1/checks,
#    /api/v1/checks/bench-1 over that week (hour rollups with percentiles),
#    and /metrics; prints requests/s and p50/p99 latency, and the
#    scheduler's lateness from /metrics after each run.
#
# Usage: bench/api_load.sh [BUILD_DIR] [DURATION_S] [PER_CHECK]
#   BUILD_DIR defaults to build-bench (needs yardstick and bench_store_bytes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
DURATION=${2:-10}
PER_CHECK=${3:-20160}
N=1000
YS=$BUILD/yardstick
GEN=$BUILD/bench_store_bytes
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
for tool in "$YS" "$GEN"; do
    [ -x "$tool" ] || { echo "api_load: build $tool first" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "api_load: wrk is required (Debian package wrk)" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ys-api-load.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "api_load: writing $N checks x $PER_CHECK results (a week at 30 s) ..."
t0=$(date +%s)
"$GEN" "$T/y.db" "$N" "$PER_CHECK" >"$T/gen.out"
echo "api_load: store written in $(($(date +%s) - t0)) s, $(du -h "$T/y.db" | cut -f1)"

PORT=$(free_port)
WEB=$(free_port)
mkdir -p "$T/ng/tmp"
cat >"$T/ng/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $T/ng/nginx.pid;
error_log $T/ng/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $T/ng/tmp/body;
    proxy_temp_path $T/ng/tmp/proxy;
    fastcgi_temp_path $T/ng/tmp/fastcgi;
    uwsgi_temp_path $T/ng/tmp/uwsgi;
    scgi_temp_path $T/ng/tmp/scgi;
    server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
}
NGINX
"$NGINX" -p "$T/ng" -c "$T/ng/nginx.conf" -e "$T/ng/error.log" &
PIDS+=("$!")
{
    echo "storage: { path: $T/y.db, retention: { raw: forever, minute: forever, hour: forever } }"
    echo "defaults: { interval: 60s, timeout: 5s }"
    echo "server: { listen: 127.0.0.1:$WEB }"
    echo "checks:"
    for ((i = 0; i < N; i++)); do
        printf '  - { name: bench-%d, kind: http, url: "http://127.0.0.1:%d/%d" }\n' "$i" "$PORT" "$i"
    done
} >"$T/cfg.yaml"
"$YS" run -c "$T/cfg.yaml" 2>"$T/daemon.log" &
DAEMON=$!
PIDS+=("$DAEMON")
B="http://127.0.0.1:$WEB"
for ((i = 0; i < 600; i++)); do
    curl -sf "$B/metrics" 2>/dev/null | grep -c '^yardstick_check_up{' >"$T/up" || true
    [ "$(cat "$T/up")" -ge "$N" ] && break
    sleep 0.2
done
echo "api_load: $(cat "$T/up") checks have a result; daemon RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$DAEMON/status")"

lateness() {
    curl -sf "$B/metrics" | awk '/^yardstick_scheduler_lateness_seconds\{quantile="0.99"\}/ {p99=$2}
        /^yardstick_scheduler_lateness_seconds\{quantile="1"\}/ {max=$2}
        END {printf "p99 %.1f ms, max %.1f ms", p99 * 1000, max * 1000}'
}

run() {
    local name=$1 path=$2
    wrk -t2 -c32 -d"${DURATION}s" --latency "$B$path" >"$T/wrk.out" 2>&1
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.out")
    p50=$(awk '$1 == "50%" {print $2}' "$T/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$T/wrk.out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$T/wrk.out")
    printf '%-44s %10s req/s  p50 %8s  p99 %8s  non-2xx %s  lateness %s\n' "$name" "$rps" "$p50" \
        "$p99" "${non2xx:-0}" "$(lateness)"
}

WEEK="from=2026-01-01T00:00:00Z&to=2026-01-08T00:00:00Z"
echo "api_load: wrk -t2 -c32 for ${DURATION}s each; lateness is the scheduler's since start"
run "GET /api/v1/checks (1,000 checks)" "/api/v1/checks"
run "GET /api/v1/checks/bench-1 (a week, hourly)" "/api/v1/checks/bench-1?$WEEK&resolution=hour"
run "GET /api/v1/checks/bench-1 (a week, auto)" "/api/v1/checks/bench-1?$WEEK"
run "GET /metrics" "/metrics"
echo "api_load: daemon RSS after $(awk '/VmRSS/ {print $2, $3}' "/proc/$DAEMON/status")"
