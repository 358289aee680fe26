#!/usr/bin/env bash
# bench/remote_write.sh - remote-write samples/s and CPU per sample against
# a real Prometheus receiver (Debian's, --web.enable-remote-write-receiver)
# on loopback.
#
# Runs bench_remote_write (bench/remote_write.c): first encoding alone,
# then the remote-write thread end to end (push, batch, fsync'd disk
# queue, snappy protobuf POST) for DURATION seconds with N checks, and
# prints samples/s and yardstick's CPU per sample; then Prometheus's own
# CPU per sample received, from /proc. Bounded: DURATION plus at most 30 s
# of draining and 30 s of start-up.
#
# Usage: bench/remote_write.sh [BUILD_DIR] [DURATION_S] [N_CHECKS] [BATCH]
#   BUILD_DIR defaults to build-bench (needs bench_remote_write).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
DURATION=${2:-10}
N=${3:-1000}
BATCH=${4:-500}
BIN=$BUILD/bench_remote_write
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
[ -x "$BIN" ] || { echo "remote_write: build $BIN first" >&2; exit 2; }
[ -x "$PROMETHEUS" ] || { echo "remote_write: prometheus is required" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ys-bench-rw.XXXXXX")
PROM_PID=""
cleanup() {
    if [ -n "$PROM_PID" ]; then
        kill "$PROM_PID" 2>/dev/null || true
        wait "$PROM_PID" 2>/dev/null || true
    fi
    [ -n "$T" ] && rm -rf "$T"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'global: { scrape_interval: 1m }\n' >"$T/prometheus.yml"
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PORT" --web.enable-remote-write-receiver \
    >"$T/prometheus.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null || { echo "prometheus did not start" >&2; exit 1; }

# utime + stime of a process, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

echo "remote_write: $N checks, batch $BATCH, ${DURATION}s, receiver Prometheus $("$PROMETHEUS" --version 2>&1 | head -1 | awk '{print $3}')"
p0=$(ticks "$PROM_PID")
rc=0
out=$("$BIN" "http://127.0.0.1:$PORT/api/v1/write" "$T/queue" "$DURATION" "$N" "$BATCH") || rc=$?
p1=$(ticks "$PROM_PID")
echo "$out"
sent=$(printf '%s\n' "$out" | sed -n 's/.*, \([0-9]*\) sent,.*/\1/p')
if [ -n "$sent" ] && [ "$sent" -gt 0 ]; then
    awk -v t=$((p1 - p0)) -v hz="$HZ" -v s="$sent" \
        'BEGIN { printf "receiver:      %7.0f ns CPU/sample (Prometheus, %d samples)\n", t / hz * 1e9 / s, s }'
fi
exit "$rc"
