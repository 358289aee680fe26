#!/usr/bin/env bash
# test_metrics.sh - /metrics: `promtool check metrics` passes on both
# formats' output, the figures match what the probes saw, and a real
# Prometheus (Debian's) scraping the daemon every second answers PromQL
# queries with the expected values.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
command -v promtool >/dev/null || fail "promtool is required (Debian package prometheus)"
[ -x "$PROMETHEUS" ] || fail "prometheus is required (Debian package prometheus)"
ys_tmpdir T
PORT=$(free_port)
WEB=$(free_port)
PROM=$(free_port)
cat >"$T/servers.conf" <<NGINX
server {
    listen 127.0.0.1:$PORT;
    location = /ok { return 200 "ok\n"; }
    location = /down { return 503; }
}
NGINX
start_nginx "$T" "$PORT"

cat >"$T/cfg.yaml" <<CFG
storage: { path: $T/y.db }
defaults: { interval: 500ms, timeout: 2s }
server: { listen: 127.0.0.1:$WEB }
checks:
  - name: ok
    kind: http
    url: http://127.0.0.1:$PORT/ok
    labels: { area: web, owner: "quote\"d" }
  - name: down
    kind: http
    url: http://127.0.0.1:$PORT/down
slos:
  - name: web
    checks: [ok]
    objective: 99%
    window: 1d
goals:
  - id: web-up
    title: Web is up
    target: ">= 99%"
    measure: { slo: web }
CFG
"$YARDSTICK" run -c "$T/cfg.yaml" 2>"$T/daemon.log" &
YS_PIDS+=("$!")
B="http://127.0.0.1:$WEB"
wait_for 10 "the HTTP server" port_open "$WEB"
up_seen() { curl -sf "$B/metrics" | grep -q '^yardstick_check_up{check="down",kind="http"} 0$'; }
wait_for 15 "yardstick_check_up for every check" up_seen
sleep 1

log "promtool check metrics"
curl -sf "$B/metrics" -D "$T/headers" >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(cat "$T/promtool.out")"
assert_contains "$(cat "$T/headers")" "text/plain; version=0.0.4" "content type"
M=$(cat "$T/metrics.txt")
assert_contains "$M" 'yardstick_check_up{check="ok",kind="http"} 1' "up ok"
assert_contains "$M" 'yardstick_check_failures_total{check="down",error="http_status"}' "failures"
assert_contains "$M" 'yardstick_check_info{check="ok",kind="http",area="web",owner="quote\"d"} 1' \
    "info with escaped labels"
assert_contains "$M" '# TYPE yardstick_check_results_total counter' "counter type"
assert_contains "$M" 'yardstick_slo_alert_state{slo="web",severity=' "slo alert state"
assert_contains "$M" 'yardstick_goal_status{goal="web-up",status=' "goal status"
assert_contains "$M" 'yardstick_scheduler_lateness_seconds{quantile="0.99"}' "lateness"
okn=$(grep '^yardstick_check_results_total{check="ok",result="ok"}' <<<"$M" | awk '{print $2}')
assert_num "$okn" -ge 2 "ok results counted"

log "OpenMetrics"
curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0,text/plain;q=0.5' \
    "$B/metrics" -D "$T/om.headers" >"$T/om.txt"
assert_contains "$(cat "$T/om.headers")" "application/openmetrics-text" "OpenMetrics type"
assert_eq "$(tail -n 1 "$T/om.txt")" "# EOF" "OpenMetrics ends with # EOF"
assert_contains "$(cat "$T/om.txt")" "# TYPE yardstick_check_results counter" "OM counter family"
assert_contains "$(cat "$T/om.txt")" "# TYPE yardstick_check info" "OM info family"

log "a real Prometheus scrapes it"
cat >"$T/prometheus.yml" <<PROMCFG
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: yardstick
    scrape_interval: 1s
    static_configs: [{ targets: ["127.0.0.1:$WEB"] }]
PROMCFG
promtool check config "$T/prometheus.yml" >/dev/null 2>&1 || fail "promtool rejects the test config"
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PROM" >"$T/prometheus.log" 2>&1 &
YS_PIDS+=("$!")
wait_for 20 "prometheus" port_open "$PROM"

# query PROMQL: prints the first sample's value, or nothing.
query() {
    curl -s -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" >"$T/q.json" ||
        return 1
    python3 - "$T/q.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d.get("data", {}).get("result", [])
print(r[0]["value"][1] if d.get("status") == "success" and r else "")
PY
}
answers() { [ "$(query "$1")" = "$2" ]; }
wait_for 30 "PromQL yardstick_check_up{check=\"ok\"} == 1" answers 'yardstick_check_up{check="ok"}' 1
assert_eq "$(query 'yardstick_check_up{check="down"}')" 0 "PromQL down"
assert_eq "$(query 'up{job="yardstick"}')" 1 "Prometheus scrape health"
# The goal needs 10 events and the SLO/goal figures are cached for 10 s.
wait_for 30 "PromQL goal web-up met" answers 'yardstick_goal_status{goal="web-up",status="met"}' 1
log "ok"
