# test_promql.sh - the promql kind against a real Prometheus (Debian's).
#
# nginx serves a static metrics file in kube-state-metrics' shape: three
# nodes' kube_node_status_condition, n3 NotReady. Prometheus scrapes it
# every second. Once the series are queryable, `yardstick check --format
# json` runs promql checks and the test asserts on what each reports: the
# Ready ratio 2/3 failing "> 0.99" and passing ">= 0.5", mode all against
# mode any on a per-node query, "no data" (class no_data) without a value
# for a metric that does not exist, Prometheus's own message for a syntax error, and a 401
# from an nginx proxy in front of Prometheus that requires a bearer token
# (the right token passes through the same proxy), and basic auth through
# nginx's auth_basic.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
[ -x "$PROMETHEUS" ] || fail "prometheus is required (Debian package prometheus)"

ys_tmpdir T
WEB=$(free_port)
PROXY=$(free_port)
BASIC=$(free_port)
PROM=$(free_port)

mkdir -p "$T/www"
{
    echo '# HELP kube_node_status_condition The condition of a cluster node.'
    echo '# TYPE kube_node_status_condition gauge'
    for n in n1 n2 n3; do
        ready=1
        [ "$n" = n3 ] && ready=0
        echo "kube_node_status_condition{node=\"$n\",condition=\"Ready\",status=\"true\"} $ready"
        echo "kube_node_status_condition{node=\"$n\",condition=\"Ready\",status=\"false\"} $((1 - ready))"
        echo "kube_node_status_condition{node=\"$n\",condition=\"Ready\",status=\"unknown\"} 0"
    done
} >"$T/www/metrics"

cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$WEB;
    location = /metrics { default_type "text/plain; version=0.0.4"; alias $T/www/metrics; }
}
server {
    listen 127.0.0.1:$PROXY;
    location / {
        if (\$http_authorization != "Bearer right-token") { return 401; }
        proxy_pass http://127.0.0.1:$PROM;
    }
}
server {
    listen 127.0.0.1:$BASIC;
    location / {
        auth_basic prom;
        auth_basic_user_file $T/htpasswd;
        proxy_pass http://127.0.0.1:$PROM;
    }
}
EOF
echo 'alice:{PLAIN}wonderland' >"$T/htpasswd"
start_nginx "$T" "$WEB" "$PROXY" "$BASIC"
# Both guards refuse a bare request, so a pass through them shows the
# credentials were sent.
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BASIC/api/v1/query")" 401 \
    "basic-auth guard without credentials"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PROXY/api/v1/query")" 401 \
    "bearer guard without a token"

cat >"$T/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: ksm
    scrape_interval: 1s
    static_configs: [{ targets: ["127.0.0.1:$WEB"] }]
EOF
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PROM" >"$T/prometheus.log" 2>&1 &
YS_PIDS+=("$!")
wait_for 30 "prometheus" port_open "$PROM"

series_count() {
    curl -s -G "http://127.0.0.1:$PROM/api/v1/query" \
        --data-urlencode 'query=count(kube_node_status_condition)' >"$T/q.json" || return 1
    [ "$(json_get "$T/q.json" data.result.0.value.1)" = 9 ]
}
wait_for 40 "the 9 kube_node_status_condition series in Prometheus" series_count

READY='kube_node_status_condition{condition="Ready",status="true"}'
cat >"$T/cfg.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { interval: 30s, timeout: 5s }
sources:
  - name: cluster-a
    kind: prometheus
    url: http://127.0.0.1:$PROM/
  - name: guarded
    kind: prometheus
    url: http://127.0.0.1:$PROXY
    bearer_token: right-token
    headers: { X-Scope-OrgID: team-a }
  - name: basic
    kind: prometheus
    url: http://127.0.0.1:$BASIC
    basic_auth: { username: alice, password: wonderland }
  - name: guarded-wrong
    kind: prometheus
    url: http://127.0.0.1:$PROXY
    bearer_token: wrong-token
checks:
  - name: ratio-strict
    kind: promql
    source: cluster-a
    query: 'avg($READY)'
    expect: "> 0.99"
  - name: ratio-half
    kind: promql
    source: cluster-a
    query: 'avg($READY)'
    expect: ">= 0.5"
  - name: per-node-all
    kind: promql
    source: cluster-a
    query: '$READY'
    expect: "== 1"
    mode: all
  - name: per-node-any
    kind: promql
    source: cluster-a
    query: '$READY'
    expect: "== 1"
    mode: any
  - name: missing
    kind: promql
    source: cluster-a
    query: 'kube_node_status_condition_that_does_not_exist'
    expect: "> 0"
  - name: syntax
    kind: promql
    source: cluster-a
    query: 'avg($READY'
    expect: "> 0"
  - name: scalar
    kind: promql
    source: cluster-a
    query: 'scalar(count($READY))'
    expect: "== 3"
  - name: token-ok
    kind: promql
    source: guarded
    query: 'sum($READY)'
    expect: "== 2"
  - name: basic-ok
    kind: promql
    source: basic
    query: 'sum($READY)'
    expect: "== 2"
  - name: token-wrong
    kind: promql
    source: guarded-wrong
    query: 'sum($READY)'
    expect: "== 2"
EOF

run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json
if [ "$rc" != 1 ]; then
    cat "$T/err.txt" "$T/out.json" >&2
    fail "check exit code: expected 1 (some checks fail), got $rc"
fi
log "check output: $(cat "$T/out.json")"
OUT="$T/out.json"
assert_eq "$(json_get "$OUT" '#')" 10 "number of results"
f() { json_get "$OUT" "name=$1.$2"; }

log "the Ready ratio is 2/3: fails > 0.99, passes >= 0.5"
assert_eq "$(f ratio-strict kind)" promql "kind"
assert_eq "$(f ratio-strict ok)" false "ratio-strict.ok"
assert_eq "$(f ratio-strict error)" assertion "ratio-strict.error"
assert_between "$(f ratio-strict value)" 0.6666 0.6667 "ratio-strict.value"
assert_eq "$(f ratio-strict message)" "value 0.666667 does not satisfy > 0.99" "ratio-strict.message"
assert_eq "$(f ratio-strict status)" 200 "ratio-strict.status"
assert_eq "$(f ratio-half ok)" true "ratio-half.ok"
assert_between "$(f ratio-half value)" 0.6666 0.6667 "ratio-half.value"
assert_eq "$(f ratio-half message)" "" "ratio-half.message"

log "per node: mode all fails on n3 (value = the first failing), mode any passes (the first passing)"
assert_eq "$(f per-node-all ok)" false "per-node-all.ok"
assert_eq "$(f per-node-all value)" 0.0 "per-node-all.value"
assert_contains "$(f per-node-all message)" "1 of 3 series do not satisfy == 1" "per-node-all.message"
assert_contains "$(f per-node-all message)" 'node="n3"' "per-node-all names n3"
assert_eq "$(f per-node-all facts.series)" 3 "per-node-all.facts.series"
assert_eq "$(f per-node-all facts.passing)" 2 "per-node-all.facts.passing"
assert_eq "$(f per-node-any ok)" true "per-node-any.ok"
assert_eq "$(f per-node-any value)" 1.0 "per-node-any.value"

log "no series is no data (its own class), with no value"
assert_eq "$(f missing ok)" false "missing.ok"
assert_eq "$(f missing error)" no_data "missing.error"
assert_eq "$(f missing message)" "no data: the query returned no series" "missing.message"
assert_eq "$(f missing value)" null "missing.value"

log "a syntax error carries Prometheus's message"
assert_eq "$(f syntax ok)" false "syntax.ok"
assert_eq "$(f syntax status)" 400 "syntax.status"
assert_contains "$(f syntax message)" "Prometheus error bad_data" "syntax.message"
assert_contains "$(f syntax message)" "parse error" "syntax.message"
assert_eq "$(f syntax value)" null "syntax.value"

log "a scalar result"
assert_eq "$(f scalar ok)" true "scalar.ok"
assert_eq "$(f scalar value)" 3.0 "scalar.value"

log "bearer token through an nginx proxy that requires it"
assert_eq "$(f token-ok ok)" true "token-ok.ok ($(f token-ok message))"
assert_eq "$(f token-ok value)" 2.0 "token-ok.value"
assert_eq "$(f basic-ok ok)" true "basic-ok.ok ($(f basic-ok message))"
assert_eq "$(f basic-ok value)" 2.0 "basic-ok.value"
assert_eq "$(f token-wrong ok)" false "token-wrong.ok"
assert_eq "$(f token-wrong status)" 401 "token-wrong.status"
assert_eq "$(f token-wrong error)" http_status "token-wrong.error"
assert_contains "$(f token-wrong message)" "HTTP 401 from Prometheus: unauthorized" "token-wrong.message"
assert_eq "$(f token-wrong value)" null "token-wrong.value"

log "validate names an unknown source with a suggestion"
sed 's/source: guarded-wrong/source: guardd/' "$T/cfg.yaml" >"$T/bad.yaml"
run_capture rc "$T/v.out" "$T/v.err" "$YARDSTICK" validate -c "$T/bad.yaml"
assert_ne "$rc" 0 "validate exit code on an unknown source"
assert_contains "$(cat "$T/v.out" "$T/v.err")" "unknown source 'guardd' in check 'token-wrong' (did you mean 'guarded'?)" \
    "validate message"
log "ok"
