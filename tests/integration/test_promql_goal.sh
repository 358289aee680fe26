# test_promql_goal.sh - goal measures computed by PromQL over two real
# Prometheus servers (Debian's), one per "cluster", and the no_data class
# of the promql check kind.
#
# Each Prometheus starts on a TSDB backfilled by promtool with six days of
# kube-state-metrics' kube_node_status_condition (one sample per 10
# minutes up to a minute ago): prod has three nodes, n3 never Ready; staging
# has two, s2 never Ready. The node-availability query
# avg_over_time(...{condition="Ready",status="true"}[$window]) * 100 thus
# gives per node 100 or 0, so by hand:
#   prod mean 200/3 = 66.667 (3 series), staging mean 100/2 = 50 (2 series)
#   min 50, max 66.667, avg 58.333, weighted (200 + 100) / 5 = 60.
# The test asserts these in `yardstick report --format json`, the daily
# trend from query_range (one point per backfilled day end, each the same
# merged value), a source that is down (the value is the other source's,
# and the note names the dead one), and a query without series (no data,
# both sources named, never 0).
#
# Then `yardstick run` probes a promql check whose query has no series and
# one that passes, every second, under one SLO: the empty one's results are
# stored with class no_data and are not counted, so the SLO's total equals
# its good count.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
[ -x "$PROMETHEUS" ] || fail "prometheus is required (Debian package prometheus)"
[ -x "$PROMTOOL" ] || fail "promtool is required (Debian package prometheus)"

ys_tmpdir T
PROD=$(free_port)
STAGING=$(free_port)
DEAD=$(free_port) # nothing listens here

# backfill DIR NODE:READY...: six days of samples, one every 10 minutes.
backfill() {
    local dir=$1
    shift
    python3 - "$T/$dir.om" "$@" <<'EOF'
import sys, time
path, nodes = sys.argv[1], [a.split(":") for a in sys.argv[2:]]
now = int(time.time()) - 60
start = now - 6 * 86400
with open(path, "w") as f:
    f.write("# HELP kube_node_status_condition The condition of a cluster node.\n")
    f.write("# TYPE kube_node_status_condition gauge\n")
    for node, ready in nodes:
        for status, v in (("true", int(ready)), ("false", 1 - int(ready))):
            for t in range(start, now + 1, 600):
                f.write('kube_node_status_condition{node="%s",condition="Ready",status="%s"} %d %d\n'
                        % (node, status, v, t))
    f.write("# EOF\n")
EOF
    "$PROMTOOL" tsdb create-blocks-from openmetrics "$T/$dir.om" "$T/$dir" >"$T/$dir.promtool.log" 2>&1 ||
        { cat "$T/$dir.promtool.log" >&2; fail "promtool could not backfill $dir"; }
}

start_prometheus() {
    local dir=$1 port=$2
    printf 'global: { scrape_interval: 1m }\nscrape_configs: []\n' >"$T/$dir.yml"
    "$PROMETHEUS" --config.file="$T/$dir.yml" --storage.tsdb.path="$T/$dir" \
        --storage.tsdb.retention.time=60d \
        --web.listen-address="127.0.0.1:$port" >"$T/$dir.log" 2>&1 &
    YS_PIDS+=("$!")
}

backfill prod n1:1 n2:1 n3:0
backfill staging s1:1 s2:0
start_prometheus prod "$PROD"
start_prometheus staging "$STAGING"
wait_for 30 "prod prometheus" port_open "$PROD"
wait_for 30 "staging prometheus" port_open "$STAGING"

series_count() {
    curl -s -G "http://127.0.0.1:$1/api/v1/query" \
        --data-urlencode 'query=count(kube_node_status_condition)' >"$T/q.json" || return 1
    [ "$(json_get "$T/q.json" data.result.0.value.1)" = "$2" ]
}
wait_for 40 "prod's 6 backfilled series" series_count "$PROD" 6
wait_for 40 "staging's 4 backfilled series" series_count "$STAGING" 4

READY='kube_node_status_condition{condition="Ready",status="true"}'
Q="avg_over_time($READY[\$window]) * 100"
cat >"$T/cfg.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { interval: 1s, timeout: 5s }
sources:
  - { name: prod, kind: prometheus, url: "http://127.0.0.1:$PROD" }
  - { name: staging, kind: prometheus, url: "http://127.0.0.1:$STAGING" }
  - { name: dead, kind: prometheus, url: "http://127.0.0.1:$DEAD", timeout: 2s }
checks:
  - { name: nodes, kind: promql, source: prod, query: 'count($READY)', expect: "== 3" }
  - { name: missing, kind: promql, source: prod, query: 'metric_that_is_not_there', expect: "> 0" }
slos:
  - { name: promql-slo, checks: [nodes, missing], objective: 99% }
goals:
  - id: g-min
    title: Node availability (min)
    target: ">= 99.5%"
    measure: { promql: '$Q', sources: [prod, staging] }
  - id: g-max
    title: Node availability (max)
    target: ">= 99.5%"
    measure: { promql: '$Q', sources: [prod, staging], merge: max }
  - id: g-avg
    title: Node availability (avg)
    target: ">= 99.5%"
    measure: { promql: '$Q', sources: [prod, staging], merge: avg, window: 7d }
  - id: g-weighted
    title: Node availability (weighted)
    target: ">= 99.5%"
    measure: { promql: '$Q', sources: [prod, staging], merge: weighted }
  - id: g-month
    title: Node availability this month (a calendar window)
    target: ">= 99.5%"
    measure: { promql: '$Q', sources: [prod, staging], window: month }
  - id: g-one-down
    title: One source down
    target: ">= 99.5%"
    measure: { promql: '$Q', sources: [dead, staging], merge: min }
  - id: g-none
    title: No series
    target: ">= 99.5%"
    measure: { promql: 'avg_over_time(metric_that_is_not_there[\$window])', sources: [prod, staging] }
EOF

run_capture rc "$T/report.json" "$T/report.err" "$YARDSTICK" report -c "$T/cfg.yaml" --format json
[ "$rc" = 0 ] || { cat "$T/report.err" >&2; fail "report exit code $rc"; }
R="$T/report.json"
g() { json_get "$R" "areas.0.goals.id=$1.$2"; }

log "merged values equal the hand-computed ones"
assert_between "$(g g-min value)" 49.9999 50.0001 "min of 66.667 and 50"
assert_between "$(g g-max value)" 66.6666 66.6667 "max"
assert_between "$(g g-avg value)" 58.3333 58.3334 "avg of the means"
assert_between "$(g g-weighted value)" 59.9999 60.0001 "weighted by series count"
assert_eq "$(g g-min note)" null "no note when every source answers"
assert_eq "$(g g-min status)" "at risk" "status" # below target, a flat trend never reaches it

log "the trend: one point per backfilled day end (query_range, step 1d) and now"
n=$(g g-min trend.#)
assert_num "$n" -ge 6 "trend points of g-min" # 5 or 6 day ends in the data, and now
for i in $(seq 0 $((n - 1))); do
    assert_between "$(g g-min "trend.$i.value")" 49.9999 50.0001 "g-min trend point $i"
    assert_between "$(g g-weighted "trend.$i.value")" 59.9999 60.0001 "g-weighted trend point $i"
done
# The points are a day apart, the last is now.
t0=$(g g-min trend.0.t_ms)
t1=$(g g-min trend.1.t_ms)
assert_eq "$((t1 - t0))" 86400000 "trend step"
assert_eq "$(g g-min "trend.$((n - 1)).t_ms")" "$(json_get "$R" at_ms)" "the last point is now"

log "a calendar window: one instant query per day of this month, the same merged value"
assert_between "$(g g-month value)" 49.9999 50.0001 "g-month value"
n=$(g g-month trend.#)
assert_num "$n" -ge 1 "trend points of g-month"
for i in $(seq 0 $((n - 1))); do
    assert_between "$(g g-month "trend.$i.value")" 49.9999 50.0001 "g-month trend point $i"
done
assert_eq "$(g g-month note)" null "no note for g-month"

log "one source down: the other's value, and the dead one named"
assert_between "$(g g-one-down value)" 49.9999 50.0001 "g-one-down is staging's value"
assert_contains "$(g g-one-down note)" "source dead: " "the failing source is named"
assert_contains "$(g g-one-down note)" "source dead: connect: " "and why (its class)"
assert_not_contains "$(g g-one-down note)" "staging" "the healthy source is not named"
assert_contains "$(cat "$T/report.err")" "goal g-one-down: source dead" "logged too"

log "no series anywhere: no data, never 0"
assert_eq "$(g g-none value)" null "g-none.value"
assert_eq "$(g g-none status)" "no data" "g-none.status"
assert_eq "$(g g-none trend.#)" 0 "g-none has no trend"
assert_contains "$(g g-none note)" "source prod: no series" "prod named"
assert_contains "$(g g-none note)" "source staging: no series" "staging named"

log "goal list names the measure"
"$YARDSTICK" goal list -c "$T/cfg.yaml" >"$T/list.txt"
assert_eq "$(grep -c ' promql ' "$T/list.txt")" 7 "promql goals in goal list"

log "a promql check without series is no_data and does not count against its SLO"
"$YARDSTICK" run -c "$T/cfg.yaml" 2>"$T/daemon.log" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
stored() {
    "$YARDSTICK" history nodes -c "$T/cfg.yaml" --since 1h --resolution raw --format json >"$T/h.json" 2>/dev/null || return 1
    [ "$(json_get "$T/h.json" '#')" -ge 4 ]
}
wait_for 30 "four stored results of the passing check" stored
term_wait "$DAEMON" 15
"$YARDSTICK" history missing -c "$T/cfg.yaml" --since 1h --resolution raw --format json >"$T/hm.json"
assert_num "$(json_get "$T/hm.json" '#')" -ge 3 "results of the empty check are kept raw"
assert_eq "$(json_get "$T/hm.json" 0.error)" no_data "its class"
assert_eq "$(json_get "$T/hm.json" 0.value)" null "and no value"
"$YARDSTICK" report -c "$T/cfg.yaml" --format json >"$T/r2.json" 2>/dev/null
total=$(json_get "$T/r2.json" slos.name=promql-slo.total)
good=$(json_get "$T/r2.json" slos.name=promql-slo.good)
assert_num "$total" -ge 4 "the SLO counts the passing check's results"
assert_eq "$good" "$total" "no_data results are not counted as bad"
log "ok"
