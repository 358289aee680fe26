#!/usr/bin/env bash
# test_rules.sh - `yardstick rules` against Debian's Prometheus.
#
# 1. `promtool check rules` accepts the rules generated for the example
#    config and for one with availability and latency SLOs over rolling and
#    calendar windows; --slo, --matchers and the Sloth spec are spot-checked.
# 2. `promtool test rules` replays synthetic counters through the generated
#    rules over hours of simulated time: 10% errors page; 2% errors open a
#    ticket but do not page; a 5-minute burst after a clean hour pages, is
#    still paged 10 minutes later by the 6h and 30m condition, and no longer
#    35 minutes later, once the short windows are clean, although the 1h
#    window still burns above 14.4x. Then latency SLOs added by a reload,
#    whose counters start an hour after the check's: no false page for
#    the fast check, a page for the slow one (and the same simulation
#    pages falsely with the check's total as the latency events).
# 3. Live: nginx answers /ok (200), /down (500) and /slow (200, throttled to
#    about a second). `yardstick run` probes them every second; a real
#    Prometheus scrapes its /metrics every second and evaluates the generated
#    rules every second. Through Prometheus's HTTP API: the page alert fires
#    for the failing check's availability SLO and for the slow check's
#    latency SLO, and no alert exists for the healthy SLOs. It fires within
#    seconds honestly: the windows are the real 1h and 5m ones, and a rate
#    over a window needs only the samples it has, so a check that fails
#    every probe has an error ratio of 1 in both windows once ten probes
#    (yardstick's minimum) fell in them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
command -v promtool >/dev/null || fail "promtool is required (Debian package prometheus)"
[ -x "$PROMETHEUS" ] || fail "prometheus is required (Debian package prometheus)"
ys_tmpdir T

log "1. promtool check rules"
# The example's https checks trust var/example-target/ca.pem, which
# `make run` creates: a CA of the test's own stands in for it here.
mkdir -p "$T/ex/var/example-target"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj /CN=example-ca \
    -keyout "$T/ex/ca.key" -out "$T/ex/var/example-target/ca.pem" 2>/dev/null ||
    fail "openssl could not make a CA"
cp "$YS_SOURCE_DIR/examples/yardstick.yaml" "$T/ex/"
(cd "$T/ex" && "$YARDSTICK" rules -c yardstick.yaml) >"$T/example.rules.yml" \
    2>"$T/example.err" || fail "rules for the example config: $(cat "$T/example.err")"
promtool check rules "$T/example.rules.yml" >"$T/promtool.out" 2>&1 ||
    fail "promtool check rules (example): $(cat "$T/promtool.out")"
assert_contains "$(cat "$T/promtool.out")" "SUCCESS" "promtool on the example rules"
assert_contains "$(cat "$T/example.rules.yml")" "yardstick-slo-homepage-availability" "example group"

cat >"$T/mixed.yaml" <<EOF
storage: { path: $T/unused.db }
checks:
  - { name: web.front, kind: tcp, address: 127.0.0.1:1, labels: { area: web } }
  - { name: api, kind: tcp, address: 127.0.0.1:2, labels: { area: web } }
slos:
  - { name: web-avail, selector: { area: web }, objective: 99.9%, window: 30d }
  - { name: web-month, selector: { area: web }, objective: 99.5%, window: month }
  - { name: api-latency, checks: api, objective: 99%, window: quarter, indicator: { latency: 250ms } }
  - { name: api-latency-4w, checks: [api], objective: 95%, window: 4w, indicator: { latency: 1500ms } }
EOF
"$YARDSTICK" rules -c "$T/mixed.yaml" >"$T/mixed.rules.yml" || fail "rules for the mixed config"
promtool check rules "$T/mixed.rules.yml" >"$T/promtool.out" 2>&1 ||
    fail "promtool check rules (mixed): $(cat "$T/promtool.out")"
assert_contains "$(cat "$T/promtool.out")" "SUCCESS: 48 rules found" "rule count (2 x 13 rolling + 2 x 11 calendar)"
R=$(cat "$T/mixed.rules.yml")
assert_contains "$R" 'threshold="1.5"' "latency threshold label"
assert_contains "$R" 'check=~"web\\.front|api"' "selector of a selector SLO"
# Calendar windows have no period rules; rolling ones do, in Prometheus units.
assert_eq "$(grep -c 'record: slo:yardstick_sli_error:ratio_period' <<<"$R")" 2 "period rules"
assert_contains "$R" "window: 28d" "4w as 28d"
# Factors follow the SLO's period: 2% of a 28-day budget in 1h is 13.44x,
# of a quarter's (90 days) 43.2x; --burn-factors fixed keeps 14.4x.
assert_contains "$R" 'ratio_rate1h{slo="api-latency-4w"} > (13.44 * 0.05)' "28d page factor"
assert_contains "$R" 'ratio_rate3d{slo="api-latency-4w"} > (0.9333 * 0.05)' "28d ticket factor"
assert_contains "$R" 'ratio_rate1h{slo="api-latency"} > (43.2 * 0.01)' "quarter page factor"
assert_contains "$R" 'ratio_rate1h{slo="web-month"} > (14.4 * 0.005)' "month page factor"
"$YARDSTICK" rules -c "$T/mixed.yaml" --burn-factors fixed >"$T/fixed.yml" || fail "--burn-factors fixed"
assert_contains "$(cat "$T/fixed.yml")" 'ratio_rate1h{slo="api-latency-4w"} > (14.4 * 0.05)' \
    "fixed factors"
run_capture rc "$T/bf.out" "$T/bf.err" "$YARDSTICK" rules -c "$T/mixed.yaml" --burn-factors 2x
assert_eq "$rc" 2 "exit code for a bad --burn-factors"

"$YARDSTICK" rules -c "$T/mixed.yaml" --slo api-latency --matchers 'job="ys"' >"$T/one.yml" ||
    fail "rules --slo"
promtool check rules "$T/one.yml" >/dev/null 2>&1 || fail "promtool check rules (--slo)"
assert_eq "$(grep -c '^- name: yardstick-slo-' "$T/one.yml")" 1 "--slo keeps one group"
assert_contains "$(cat "$T/one.yml")" 'check="api",job="ys",threshold="0.25"' "--matchers"
run_capture rc "$T/nope.out" "$T/nope.err" "$YARDSTICK" rules -c "$T/mixed.yaml" --slo nope
assert_eq "$rc" 2 "exit code for an unknown SLO"
assert_contains "$(cat "$T/nope.err")" "no SLO named 'nope'" "unknown SLO message"
"$YARDSTICK" rules -c "$T/mixed.yaml" --format sloth --service shop >"$T/sloth.yml" ||
    fail "rules --format sloth"
S=$(cat "$T/sloth.yml")
assert_contains "$S" "version: prometheus/v1" "sloth version"
assert_contains "$S" "objective: 99.9" "sloth objective in percent"
assert_contains "$S" '[{{.window}}]' "sloth window placeholder"

log "2. promtool test rules over simulated hours"
cat >"$T/sim.yaml" <<EOF
storage: { path: $T/unused.db }
checks:
  - { name: ten, kind: tcp, address: 127.0.0.1:1 }
  - { name: two, kind: tcp, address: 127.0.0.1:1 }
  - { name: burst, kind: tcp, address: 127.0.0.1:1 }
slos:
  - { name: ten, checks: ten, objective: 99.5% }
  - { name: two, checks: two, objective: 99.5% }
  - { name: burst, checks: burst, objective: 99.5% }
EOF
"$YARDSTICK" rules -c "$T/sim.yaml" >"$T/sim.rules.yml" || fail "rules for the simulation"
# 60 probes a minute. ten: 6 fail (10% > 14.4 * 0.5% = 7.2%). two: 1.2 fail
# (2%: below 6 * 0.5% = 3%, above 3 * 0.5% = 1.5%). burst: clean for 55
# minutes, all 60 failing for 5 minutes, then clean again.
cat >"$T/sim.test.yml" <<EOF
rule_files: [sim.rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'yardstick_check_results_total{check="ten",result="fail"}'
        values: '0+6x600'
      - series: 'yardstick_check_results_total{check="ten",result="ok"}'
        values: '0+54x600'
      - series: 'yardstick_check_results_total{check="two",result="fail"}'
        values: '0+1.2x600'
      - series: 'yardstick_check_results_total{check="two",result="ok"}'
        values: '0+58.8x600'
      - series: 'yardstick_check_results_total{check="burst",result="fail"}'
        values: '0x55 60+60x4 300x59'
      - series: 'yardstick_check_results_total{check="burst",result="ok"}'
        values: '0+60x55 3300x4 3360+60x59'
    alert_rule_test:
      # The burst's last minute: 5m all failing, 1h at 300/3600 = 8.3% > 7.2%.
      - eval_time: 60m
        alertname: YardstickErrorBudgetBurn
        exp_alerts:
          - exp_labels: { severity: page, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (page)
              description: "Burn rate of SLO ten (error budget 0.005): 1h and 5m above 14.4x, or 6h and 30m above 6x."
          - exp_labels: { severity: ticket, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (ticket)
              description: "Burn rate of SLO ten (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: ticket, slo: two }
            exp_annotations:
              summary: SLO two is burning its error budget (ticket)
              description: "Burn rate of SLO two (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: page, slo: burst }
            exp_annotations:
              summary: SLO burst is burning its error budget (page)
              description: "Burn rate of SLO burst (error budget 0.005): 1h and 5m above 14.4x, or 6h and 30m above 6x."
          - exp_labels: { severity: ticket, slo: burst }
            exp_annotations:
              summary: SLO burst is burning its error budget (ticket)
              description: "Burn rate of SLO burst (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
      # Ten minutes on, 5m is clean, but 30m (16.7%) and 6h (7.1%) are above 6x.
      - eval_time: 70m
        alertname: YardstickErrorBudgetBurn
        exp_alerts:
          - exp_labels: { severity: page, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (page)
              description: "Burn rate of SLO ten (error budget 0.005): 1h and 5m above 14.4x, or 6h and 30m above 6x."
          - exp_labels: { severity: ticket, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (ticket)
              description: "Burn rate of SLO ten (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: ticket, slo: two }
            exp_annotations:
              summary: SLO two is burning its error budget (ticket)
              description: "Burn rate of SLO two (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: page, slo: burst }
            exp_annotations:
              summary: SLO burst is burning its error budget (page)
              description: "Burn rate of SLO burst (error budget 0.005): 1h and 5m above 14.4x, or 6h and 30m above 6x."
          - exp_labels: { severity: ticket, slo: burst }
            exp_annotations:
              summary: SLO burst is burning its error budget (ticket)
              description: "Burn rate of SLO burst (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
      # 35 minutes on, 5m and 30m are clean: no page, though 1h still burns.
      - eval_time: 95m
        alertname: YardstickErrorBudgetBurn
        exp_alerts:
          - exp_labels: { severity: page, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (page)
              description: "Burn rate of SLO ten (error budget 0.005): 1h and 5m above 14.4x, or 6h and 30m above 6x."
          - exp_labels: { severity: ticket, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (ticket)
              description: "Burn rate of SLO ten (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: ticket, slo: two }
            exp_annotations:
              summary: SLO two is burning its error budget (ticket)
              description: "Burn rate of SLO two (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: ticket, slo: burst }
            exp_annotations:
              summary: SLO burst is burning its error budget (ticket)
              description: "Burn rate of SLO burst (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
      - eval_time: 2h
        alertname: YardstickErrorBudgetBurn
        exp_alerts:
          - exp_labels: { severity: page, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (page)
              description: "Burn rate of SLO ten (error budget 0.005): 1h and 5m above 14.4x, or 6h and 30m above 6x."
          - exp_labels: { severity: ticket, slo: ten }
            exp_annotations:
              summary: SLO ten is burning its error budget (ticket)
              description: "Burn rate of SLO ten (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: ticket, slo: two }
            exp_annotations:
              summary: SLO two is burning its error budget (ticket)
              description: "Burn rate of SLO two (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
          - exp_labels: { severity: ticket, slo: burst }
            exp_annotations:
              summary: SLO burst is burning its error budget (ticket)
              description: "Burn rate of SLO burst (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
    promql_expr_test:
      - expr: round(slo:yardstick_sli_error:ratio_rate1h{slo="ten"}, 0.0001)
        eval_time: 2h
        exp_samples: [{ labels: '{slo="ten"}', value: 0.1 }]
      - expr: round(slo:yardstick_sli_error:ratio_rate1h{slo="two"}, 0.0001)
        eval_time: 2h
        exp_samples: [{ labels: '{slo="two"}', value: 0.02 }]
      - expr: slo:yardstick_sli_error:ratio_rate1h{slo="burst"} > bool (14.4 * 0.005)
        eval_time: 95m
        exp_samples: [{ labels: '{slo="burst"}', value: 1 }]
      - expr: slo:yardstick_sli_error:ratio_rate30m{slo="burst"}
        eval_time: 95m
        exp_samples: [{ labels: 'slo:yardstick_sli_error:ratio_rate30m{slo="burst"}', value: 0 }]
EOF
(cd "$T" && promtool test rules sim.test.yml) >"$T/ptest.out" 2>&1 ||
    fail "promtool test rules: $(cat "$T/ptest.out")"
assert_contains "$(cat "$T/ptest.out")" "SUCCESS" "promtool test rules"

log "2b. latency SLOs added by a reload"
# Both checks have been probed (60 a minute, all under 250 ms for fresh)
# for an hour when a reload adds their latency SLOs: the threshold's fast
# and latency counters appear at 60m and count from 0, while the check's
# own yardstick_check_results_total goes on. fresh: every probe fast, so no
# alert, not even in the first minutes. slow: 6 of 60 probes too slow (10%
# > 14.4 * 0.5%): it pages and opens a ticket within minutes.
cat >"$T/reload.yaml" <<EOF
storage: { path: $T/unused.db }
checks:
  - { name: fresh, kind: tcp, address: 127.0.0.1:1 }
  - { name: slow, kind: tcp, address: 127.0.0.1:1 }
slos:
  - { name: fresh, checks: fresh, objective: 99.5%, indicator: { latency: 250ms } }
  - { name: slow, checks: slow, objective: 99.5%, indicator: { latency: 250ms } }
EOF
"$YARDSTICK" rules -c "$T/reload.yaml" >"$T/reload.rules.yml" || fail "rules for the reload simulation"
alerts_at() { # eval time, then the SLOs expected to page and ticket
    printf '      - eval_time: %s\n        alertname: YardstickErrorBudgetBurn\n        exp_alerts:\n' "$1"
    shift
    local slo
    for slo in "$@"; do
        cat <<EOF
          - exp_labels: { severity: page, slo: $slo }
            exp_annotations:
              summary: SLO $slo is burning its error budget (page)
              description: "Burn rate of SLO $slo (error budget 0.005): 1h and 5m above 14.4x, or 6h and 30m above 6x."
          - exp_labels: { severity: ticket, slo: $slo }
            exp_annotations:
              summary: SLO $slo is burning its error budget (ticket)
              description: "Burn rate of SLO $slo (error budget 0.005): 1d and 2h above 3x, or 3d and 6h above 1x."
EOF
    done
}
{
    cat <<EOF
rule_files: [reload.rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'yardstick_check_results_total{check="fresh",result="ok"}'
        values: '0+60x240'
      - series: 'yardstick_check_results_total{check="slow",result="ok"}'
        values: '0+60x240'
      - series: 'yardstick_check_results_fast_total{check="fresh",threshold="0.25"}'
        values: '_x60 0+60x180'
      - series: 'yardstick_check_results_latency_total{check="fresh",threshold="0.25"}'
        values: '_x60 0+60x180'
      - series: 'yardstick_check_results_fast_total{check="slow",threshold="0.25"}'
        values: '_x60 0+54x180'
      - series: 'yardstick_check_results_latency_total{check="slow",threshold="0.25"}'
        values: '_x60 0+60x180'
    alert_rule_test:
EOF
    for t in 62m 65m 70m 95m 2h 4h; do alerts_at "$t" slow; done
    cat <<EOF
    promql_expr_test:
      - expr: slo:yardstick_sli_error:ratio_rate1h{slo="fresh"}
        eval_time: 62m
        exp_samples: [{ labels: 'slo:yardstick_sli_error:ratio_rate1h{slo="fresh"}', value: 0 }]
      - expr: round(slo:yardstick_sli_error:ratio_rate5m{slo="slow"}, 0.0001)
        eval_time: 70m
        exp_samples: [{ labels: '{slo="slow"}', value: 0.1 }]
EOF
} >"$T/reload.test.yml"
(cd "$T" && promtool test rules reload.test.yml) >"$T/ptest.out" 2>&1 ||
    fail "promtool test rules (reload): $(cat "$T/ptest.out")"
assert_contains "$(cat "$T/ptest.out")" "SUCCESS" "promtool test rules (reload)"
# The simulation does catch the bug it is for: with the check's total as
# the latency SLO's events (the rules before the latency counter), fresh
# pages after the reload.
sed 's/yardstick_check_results_latency_total{check="fresh",threshold="0.25"}/yardstick_check_results_total{check="fresh"}/g' \
    "$T/reload.rules.yml" >"$T/old.rules.yml"
sed 's/reload.rules.yml/old.rules.yml/' "$T/reload.test.yml" >"$T/old.test.yml"
if (cd "$T" && promtool test rules old.test.yml) >"$T/old.out" 2>&1; then
    fail "the reload simulation passes with the check's total as the latency events"
fi
assert_contains "$(cat "$T/old.out")" 'severity="page", slo="fresh"' "the old rules page for fresh"

log "3. a real Prometheus scraping yardstick"
WEB=$(free_port)
YS=$(free_port)
PROM=$(free_port)
mkdir -p "$T/www"
head -c 3000 /dev/zero | tr '\0' 'x' >"$T/www/slow.txt"
cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$WEB;
    location = /ok { return 200 "ok\n"; }
    location = /down { return 500; }
    location = /slow { limit_rate 2k; default_type text/plain; alias $T/www/slow.txt; }
}
EOF
start_nginx "$T" "$WEB"

cat >"$T/live.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { interval: 1s, timeout: 5s }
server: { listen: 127.0.0.1:$YS }
checks:
  - { name: ok, kind: http, url: "http://127.0.0.1:$WEB/ok" }
  - { name: down, kind: http, url: "http://127.0.0.1:$WEB/down" }
  - { name: slow, kind: http, url: "http://127.0.0.1:$WEB/slow", interval: 2s }
slos:
  - { name: ok-avail, checks: ok, objective: 99% }
  - { name: ok-latency, checks: ok, objective: 99%, indicator: { latency: 2s } }
  - { name: down-avail, checks: down, objective: 99% }
  - { name: slow-avail, checks: slow, objective: 99% }
  - { name: slow-latency, checks: slow, objective: 99%, indicator: { latency: 300ms } }
EOF
"$YARDSTICK" rules -c "$T/live.yaml" --matchers 'job="yardstick"' >"$T/live.rules.yml" ||
    fail "rules for the live config"
promtool check rules "$T/live.rules.yml" >/dev/null 2>&1 || fail "promtool check rules (live)"
"$YARDSTICK" run -c "$T/live.yaml" 2>"$T/daemon.log" &
YS_PIDS+=("$!")
wait_for 15 "yardstick's HTTP server" port_open "$YS"

cat >"$T/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [live.rules.yml]
scrape_configs:
  - job_name: yardstick
    static_configs: [{ targets: ["127.0.0.1:$YS"] }]
EOF
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PROM" >"$T/prometheus.log" 2>&1 &
YS_PIDS+=("$!")
wait_for 30 "prometheus" port_open "$PROM"
P="http://127.0.0.1:$PROM"

# Prints the alerts Prometheus holds as "slo severity state" lines.
alerts() {
    curl -sf "$P/api/v1/alerts" >"$T/alerts.json" || return 1
    python3 - "$T/alerts.json" <<'PY'
import json, sys
for a in json.load(open(sys.argv[1]))["data"]["alerts"]:
    if a["labels"].get("alertname") == "YardstickErrorBudgetBurn":
        print(a["labels"]["slo"], a["labels"]["severity"], a["state"])
PY
}
firing() { alerts | grep -qx "$1 page firing"; }
wait_for 90 "the page alert of down-avail firing" firing down-avail
wait_for 60 "the page alert of slow-latency firing" firing slow-latency
A=$(alerts)
log "alerts: $(tr '\n' ';' <<<"$A")"
for healthy in ok-avail ok-latency slow-avail; do
    assert_not_contains "$A" "$healthy " "alerts of the healthy SLO $healthy"
done

# The recorded ratios behind them, and the counter the latency SLO reads.
query() {
    curl -sf -G "$P/api/v1/query" --data-urlencode "query=$1" >"$T/q.json" || fail "query $1"
    json_get "$T/q.json" data.result.0.value.1
}
assert_eq "$(query 'slo:yardstick_sli_error:ratio_rate5m{slo="down-avail"}')" 1 "down-avail 5m ratio"
assert_eq "$(query 'slo:yardstick_sli_error:ratio_rate5m{slo="ok-avail"}')" 0 "ok-avail 5m ratio"
assert_eq "$(query 'slo:yardstick_sli_error:ratio_rate5m{slo="slow-latency"}')" 1 "slow-latency 5m ratio"
assert_eq "$(query 'slo:yardstick_sli_error:ratio_rate5m{slo="slow-avail"}')" 0 "slow-avail 5m ratio"
fast=$(query 'yardstick_check_results_fast_total{check="ok",threshold="2"}')
assert_between "$fast" 10 100000 "fast probes of ok under 2s"
assert_eq "$(query 'yardstick_check_results_fast_total{check="slow",threshold="0.3"}')" 0 \
    "fast probes of slow under 300ms"
assert_between "$(query 'yardstick_check_results_latency_total{check="slow",threshold="0.3"}')" \
    10 100000 "probes of slow counted for the 300ms threshold"
log "ok"
