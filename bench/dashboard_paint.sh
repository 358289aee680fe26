#!/usr/bin/env bash
# bench/dashboard_paint.sh - the dashboard overview's first paint with 1,000
# checks on loopback (issue 4 §4: under 1 s). A benchmark that prints
# figures, not a pass/fail test.
#
# 1. A loopback nginx (tests/integration/lib.sh's start_nginx) answering
#    200, and `yardstick run` with 1,000 http checks on it (interval 10s,
#    ten `area` labels, so the overview draws ten panels), three SLOs and
#    two goals, storage in a temporary folder, the API on a free port.
# 2. Waits ~15 s and until every check has a result, then times
#    `curl /api/v1/checks` alone (5 times) and prints the body's size.
# 3. bench/dashboard_paint.mjs loads the overview RUNS times in headless
#    Chromium (playwright-core, fresh context each) and prints per run and
#    the median: first contentful paint, the page's own checks request,
#    when the check panels are in the DOM and painted, and when SLOs,
#    incidents and certificates have filled in (ms from navigation start).
# Everything it starts is stopped by lib.sh's EXIT trap, by PID.
#
# playwright-core is installed as the browser test does it: `npm ci` from
# tests/browser/package-lock.json into <build>/browser-test-deps/<hash>.
#
# Usage: bench/dashboard_paint.sh [BUILD_DIR] [RUNS]
#   BUILD_DIR defaults to build-paint (a Release build with yardstick).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build-paint}" && pwd)
RUNS=${2:-5}
N=1000
export YARDSTICK=$BUILD/yardstick YS_SOURCE_DIR=$ROOT
[ -x "$YARDSTICK" ] || { echo "dashboard_paint: build $YARDSTICK first" >&2; exit 2; }
source "$ROOT/tests/integration/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null || fail "node is missing (apt-get install nodejs)"
command -v npm >/dev/null || fail "npm is missing (apt-get install npm)"
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (apt-get install chromium)"

BROWSER_SRC="$ROOT/tests/browser"
LOCK_HASH=$(sha256sum "$BROWSER_SRC/package-lock.json" | cut -c1-16)
NODE_DIR="$BUILD/browser-test-deps/$LOCK_HASH"
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
    log "installing playwright-core into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp "$BROWSER_SRC/package.json" "$BROWSER_SRC/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --ignore-scripts >npm.log 2>&1) ||
        { cat "$NODE_DIR/npm.log" >&2; fail "npm ci failed"; }
fi
# Run from the install folder so `import "playwright-core"` resolves there.
cp "$ROOT/bench/dashboard_paint.mjs" "$NODE_DIR/"

ys_tmpdir T
PORT=$(free_port)
WEB=$(free_port)
cat >"$T/servers.conf" <<EOF
server { listen 127.0.0.1:$PORT; location / { default_type text/plain; return 200 "ok\n"; } }
EOF
start_nginx "$T" "$PORT"

AREAS=(homepage api auth billing search storage networking mail payments cluster)
{
    echo "storage: { path: $T/ys.db }"
    echo "server: { listen: 127.0.0.1:$WEB }"
    echo "defaults: { interval: 10s, timeout: 5s }"
    echo "checks:"
    for ((i = 0; i < N; i++)); do
        printf '  - { name: check-%04d, kind: http, url: "http://127.0.0.1:%d/%d", labels: { area: %s } }\n' \
            "$i" "$PORT" "$i" "${AREAS[i % ${#AREAS[@]}]}"
    done
    cat <<EOF
slos:
  - { name: homepage-availability, selector: { area: homepage }, objective: 99.9%, window: 30d }
  - { name: api-latency, selector: { area: api }, objective: 99%, window: 30d, indicator: { latency: 1s } }
  - { name: auth-availability, checks: [check-0002, check-0012, check-0022], objective: 99%, window: 7d }
goals:
  - { id: homepage-up, title: Homepage answers, area: Homepage, priority: P0, target: ">= 99.9%", due: 2099-12-31, measure: { slo: homepage-availability } }
  - { id: api-fast, title: API answers fast, area: API, priority: P1, target: ">= 99%", due: 2099-12-31, measure: { slo: api-latency } }
EOF
} >"$T/cfg.yaml"
"$YARDSTICK" validate -c "$T/cfg.yaml" >"$T/validate.out" 2>&1 ||
    fail "config rejected: $(cat "$T/validate.out")"
"$YARDSTICK" run -c "$T/cfg.yaml" >"$T/daemon.out" 2>"$T/daemon.log" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
B="http://127.0.0.1:$WEB"
wait_for 15 "the API on port $WEB" curl -sf "$B/healthz"
START=$SECONDS

all_have_results() {
    curl -sf "$B/api/v1/checks" -o "$T/checks.json" || return 1
    python3 - "$T/checks.json" "$N" <<'EOF_PY'
import json, sys
c = json.load(open(sys.argv[1]))["checks"]
sys.exit(0 if len(c) == int(sys.argv[2]) and all(x["last"] is not None for x in c) else 1)
EOF_PY
}
wait_for 60 "a result for each of the $N checks" all_have_results
# ~15 s of results (every check probed at least once, most twice).
while [ $((SECONDS - START)) -lt 15 ]; do sleep 1; done
kill -0 "$DAEMON" 2>/dev/null || fail "daemon exited: $(cat "$T/daemon.log")"

log "GET /api/v1/checks with curl, 5 times (total time; first byte in brackets):"
for ((i = 1; i <= 5; i++)); do
    curl -s -o "$T/checks.json" -w '  curl %{time_total}s (ttfb %{time_starttransfer}s) %{size_download} B, HTTP %{http_code}\n' \
        "$B/api/v1/checks" >&2
done
GZ=$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download} B, Content-Encoding: %header{content-encoding}' \
    "$B/api/v1/checks" 2>/dev/null || echo "?")
[[ $GZ == *": " ]] && GZ="${GZ%, *}, not compressed"
log "/api/v1/checks: $(wc -c <"$T/checks.json") B as JSON; asked for gzip: $GZ"
log "daemon RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$DAEMON/status")"

log "overview in headless Chromium, $RUNS runs (ms from navigation start):"
(cd "$NODE_DIR" && YS_DASH_URL="$B/" YS_RUNS="$RUNS" CHROMIUM="$CHROMIUM" node dashboard_paint.mjs) ||
    fail "browser runs failed (daemon log: $T/daemon.log)"
kill -0 "$DAEMON" 2>/dev/null || fail "daemon died during the runs: $(cat "$T/daemon.log")"
