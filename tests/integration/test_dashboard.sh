#!/usr/bin/env bash
# test_dashboard.sh - the embedded dashboard in headless Chromium against a
# real daemon with known results.
#
# nginx serves four loopback endpoints: 200, 503, and HTTPS with a
# certificate that expires in 5 days and one valid 400 days (make_certs).
# yardstick run probes them every 500 ms with an SLO per plain check, a
# goal that is missed (due in the past, target not met by the 503 check)
# and one met, and serves the dashboard on a free port. Once every check has
# results (and the alert rule has the failing check firing),
# tests/browser/dashboard.test.mjs (node --test, playwright-core
# driving Debian's /usr/bin/chromium) loads every page at desktop and 390 px
# phone width: no console errors, the failing check shown as failing, the
# 5-day certificate first in the countdown, the missed goal shown missed.
# Screenshots land in $YS_DASH_SHOTS (default: <build dir>/dashboard-shots)
# and their paths are printed.
#
# node, npm and chromium are required: a missing one fails the test (CI
# installs them with scripts/deps.sh test). playwright-core is installed
# with `npm ci` from tests/browser/package-lock.json into a cache beside the
# yardstick binary, keyed by the lock file's hash, so it downloads once.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null || fail "node is missing (apt-get install nodejs)"
command -v npm >/dev/null || fail "npm is missing (apt-get install npm)"
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (apt-get install chromium)"

BROWSER_SRC="$YS_SOURCE_DIR/tests/browser"
BUILD_DIR=$(cd "$(dirname "$YARDSTICK")" && pwd)
LOCK_HASH=$(sha256sum "$BROWSER_SRC/package-lock.json" | cut -c1-16)
NODE_DIR="$BUILD_DIR/browser-test-deps/$LOCK_HASH"
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
    log "installing playwright-core into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp "$BROWSER_SRC/package.json" "$BROWSER_SRC/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --ignore-scripts >npm.log 2>&1) ||
        { cat "$NODE_DIR/npm.log" >&2; fail "npm ci failed"; }
fi
# The test file runs from the install folder so `import "playwright-core"`
# resolves there, not in the source tree.
cp "$BROWSER_SRC/dashboard.test.mjs" "$NODE_DIR/"

ys_tmpdir T
make_certs "$T/certs"
C="$T/certs"
P_OK=$(free_port)
P_FAIL=$(free_port)
P_SOON=$(free_port)
P_LONG=$(free_port)
WEB=$(free_port)

cat >"$T/servers.conf" <<EOF
server { listen 127.0.0.1:$P_OK; location / { default_type text/plain; return 200 "ok\n"; } }
server { listen 127.0.0.1:$P_FAIL; location / { default_type text/plain; return 503 "down for maintenance\n"; } }
server {
    listen 127.0.0.1:$P_SOON ssl;
    ssl_certificate $C/expiring-chain.pem;
    ssl_certificate_key $C/expiring.key;
    location / { default_type text/plain; return 200 "soon\n"; }
}
server {
    listen 127.0.0.1:$P_LONG ssl;
    ssl_certificate $C/valid-chain.pem;
    ssl_certificate_key $C/valid.key;
    location / { default_type text/plain; return 200 "long\n"; }
}
EOF
start_nginx "$T" "$P_OK" "$P_FAIL" "$P_SOON" "$P_LONG"

# min_days_left: 1 keeps the 5-day certificate's check up; the countdown
# still has to colour it red.
TLS="{ ca_file: $C/ca.pem, min_days_left: 1 }"
CFG="$T/dash.yaml"
cat >"$CFG" <<EOF
storage: { path: $T/ys.db }
server: { listen: 127.0.0.1:$WEB }
defaults: { timeout: 3s, interval: 500ms }
checks:
  - { name: homepage, kind: http, url: "http://127.0.0.1:$P_OK/", labels: { area: homepage } }
  - { name: api-broken, kind: http, url: "http://127.0.0.1:$P_FAIL/", labels: { area: homepage } }
  - { name: tls-soon, kind: http, url: "https://127.0.0.1:$P_SOON/", tls: $TLS, labels: { area: networking } }
  - { name: tls-long, kind: http, url: "https://127.0.0.1:$P_LONG/", tls: $TLS, labels: { area: networking } }
slos:
  - { name: homepage-availability, checks: [homepage], objective: 99%, window: 30d }
  - { name: api-availability, checks: [api-broken], objective: 99%, window: 30d }
goals:
  - id: api-up
    title: API answers
    area: Homepage
    priority: P0
    baseline: "0%"
    target: ">= 99%"
    due: 2020-01-31
    measure: { slo: api-availability }
  - id: homepage-up
    title: Homepage answers
    area: Homepage
    priority: P1
    baseline: "90%"
    target: ">= 95%"
    due: 2099-12-31
    measure: { slo: homepage-availability }
milestones:
  - { title: API back, due: 2020-02-01, goals: [api-up] }
  - { title: Homepage solid, due: 2099-12-31, goals: [homepage-up] }
alerts:
  - { name: down, when: check_down, severity: page }
EOF

"$YARDSTICK" validate -c "$CFG" >"$T/validate.out" 2>&1 ||
    fail "config rejected: $(cat "$T/validate.out")"
"$YARDSTICK" run -c "$CFG" >"$T/daemon.out" 2>"$T/daemon.log" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
wait_for 15 "the dashboard on port $WEB" curl -sf "http://127.0.0.1:$WEB/healthz"

# Every check has a last result, the failing one is down, both
# certificates are known and both goals are evaluated before the browser
# looks (the API's own answers; the browser must then show the same).
checks_ready() {
    curl -sf "http://127.0.0.1:$WEB/api/v1/checks" -o "$T/checks.json" || return 1
    curl -sf "http://127.0.0.1:$WEB/api/v1/certificates" -o "$T/certs.json" || return 1
    curl -sf "http://127.0.0.1:$WEB/api/v1/goals" -o "$T/goals.json" || return 1
    curl -sf "http://127.0.0.1:$WEB/api/v1/alerts" -o "$T/alerts.json" || return 1
    python3 - "$T/checks.json" "$T/certs.json" "$T/goals.json" "$T/alerts.json" <<'EOF_PY'
import json, sys
alerts = json.load(open(sys.argv[4]))["alerts"]
assert any(a["key"] == "down/api-broken" and a["firing"] for a in alerts)
checks = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}
certs = json.load(open(sys.argv[2]))["certificates"]
goals = {g["id"]: g for g in json.load(open(sys.argv[3]))["goals"]}
assert goals["api-up"]["status"] == "missed"
assert goals["homepage-up"]["status"] == "met"
assert all(c["last"] is not None for c in checks.values())
assert checks["api-broken"]["status"] == "down"
assert checks["homepage"]["status"] == "up"
assert len(certs) >= 2
EOF_PY
}
wait_for 60 "results for every check and goal" checks_ready
kill -0 "$DAEMON" 2>/dev/null || fail "daemon exited: $(cat "$T/daemon.log")"

# The dashboard's own files come from the binary.
curl -sf "http://127.0.0.1:$WEB/" -o "$T/index.html" || fail "GET / failed"
assert_contains "$(cat "$T/index.html")" "app.js" "index page"
CT=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$WEB/vendor/uPlot.iife.min.js")
assert_contains "$CT" "javascript" "uPlot content type"

SHOTS=${YS_DASH_SHOTS:-$BUILD_DIR/dashboard-shots}
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
log "screenshots go to $SHOTS"
(
    cd "$NODE_DIR"
    YS_DASH_URL="http://127.0.0.1:$WEB/" YS_DASH_OUT="$SHOTS" CHROMIUM="$CHROMIUM" \
        YS_FAIL_CHECK=api-broken YS_OK_CHECK=homepage YS_SOON_CHECK=tls-soon \
        YS_MISSED_GOAL=api-up YS_MET_GOAL=homepage-up YS_SLO=api-availability \
        node --test --test-reporter=spec dashboard.test.mjs
) || fail "browser test failed (daemon log: $T/daemon.log; screenshots: $SHOTS)"

kill -0 "$DAEMON" 2>/dev/null || fail "daemon died during the browser test: $(cat "$T/daemon.log")"
term_wait "$DAEMON" 15
assert_eq "$TERM_RC" 0 "daemon exit code"
log "ok"
