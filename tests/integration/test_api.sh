#!/usr/bin/env bash
# test_api.sh - the HTTP server of `yardstick run`: every route's status
# code and JSON shape, ranges and bad parameters, methods, bodies, auth on
# and off, /healthz and /readyz.
#
# A loopback nginx serves /ok (200) and /down (503) over HTTP and the test
# CA's "expiring" (5 days) and "valid" (400 days) certificates over HTTPS.
# The daemon probes them every 500 ms with an SLO and a goal; the test
# waits for results, then asserts on what the API answers. A second daemon
# with server.auth checks 401/200 for tokens and basic users; a third must
# refuse to start on a listen address that is taken.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v curl >/dev/null || fail "curl is required"
ys_tmpdir T
C="$T/certs"
make_certs "$C"
PORT=$(free_port)
TLS_SOON=$(free_port)
TLS_LATER=$(free_port)
WEB=$(free_port)
cat >"$T/servers.conf" <<NGINX
server {
    listen 127.0.0.1:$PORT;
    location = /ok { default_type text/plain; return 200 "healthy\n"; }
    location = /down { return 503; }
}
server {
    listen 127.0.0.1:$TLS_SOON ssl;
    ssl_certificate $C/expiring-chain.pem;
    ssl_certificate_key $C/expiring.key;
    location / { return 200 "tls\n"; }
}
server {
    listen 127.0.0.1:$TLS_LATER ssl;
    ssl_certificate $C/valid-chain.pem;
    ssl_certificate_key $C/valid.key;
    location / { return 200 "tls\n"; }
}
NGINX
start_nginx "$T" "$PORT" "$TLS_SOON" "$TLS_LATER"

# write_cfg FILE WEBPORT [EXTRA LINES UNDER server:]
write_cfg() {
    cat >"$1" <<CFG
storage: { path: $T/y.db }
defaults: { interval: 500ms, timeout: 2s }
server:
  listen: 127.0.0.1:$2
${3:-}
checks:
  - name: ok
    kind: http
    url: http://127.0.0.1:$PORT/ok
    labels: { area: web }
  - name: down
    kind: http
    url: http://127.0.0.1:$PORT/down
    labels: { area: web }
  - name: soon
    kind: http
    url: https://127.0.0.1:$TLS_SOON/
    tls: { ca_file: $C/ca.pem }
  - name: later
    kind: http
    url: https://127.0.0.1:$TLS_LATER/
    tls: { ca_file: $C/ca.pem }
slos:
  - name: web-avail
    checks: [ok]
    objective: 99%
    window: 1d
goals:
  - id: web-up
    title: The web check is up
    area: web
    target: ">= 99%"
    measure: { slo: web-avail }
CFG
}
write_cfg "$T/cfg.yaml" "$WEB"
"$YARDSTICK" run -c "$T/cfg.yaml" 2>"$T/daemon.log" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
B="http://127.0.0.1:$WEB"
wait_for 10 "the HTTP server" port_open "$WEB"

# get URL [CURL ARGS...]: the body goes to $T/body, the status is printed.
get() {
    local url=$1
    shift
    curl -s -o "$T/body" -w '%{http_code}' "$@" "$url" || echo "curl-failed"
}
has_results() {
    [ "$(get "$B/api/v1/checks")" = 200 ] &&
        [ "$(json_get "$T/body" 'checks.name=soon.counters.total')" -ge 2 ] &&
        [ "$(json_get "$T/body" 'checks.name=later.counters.total')" -ge 2 ] &&
        [ "$(json_get "$T/body" 'checks.name=down.incident_open')" = true ]
}
wait_for 20 "results of every check" has_results
# The availability cache is at most 10 s old; let it see the store.
sleep 1

log "healthz and readyz"
assert_eq "$(get "$B/healthz")" 200 "/healthz status"
assert_eq "$(cat "$T/body")" ok "/healthz body"
assert_eq "$(get "$B/readyz")" 200 "/readyz status"
assert_eq "$(json_get "$T/body" ready)" true "/readyz ready"

log "/api/v1/checks"
assert_eq "$(get "$B/api/v1/checks")" 200 "checks status"
assert_eq "$(json_get "$T/body" 'checks.#')" 4 "number of checks"
assert_eq "$(json_get "$T/body" 'checks.name=ok.status')" up "ok status"
assert_eq "$(json_get "$T/body" 'checks.name=ok.kind')" http "ok kind"
assert_eq "$(json_get "$T/body" 'checks.name=ok.labels.area')" web "ok label"
assert_eq "$(json_get "$T/body" 'checks.name=ok.interval_s')" 0.5 "ok interval"
assert_eq "$(json_get "$T/body" 'checks.name=ok.last.ok')" true "ok last.ok"
assert_eq "$(json_get "$T/body" 'checks.name=ok.last.status')" 200 "ok last.status"
assert_eq "$(json_get "$T/body" 'checks.name=down.status')" down "down status"
assert_eq "$(json_get "$T/body" 'checks.name=down.last.error')" http_status "down error"
assert_eq "$(json_get "$T/body" 'checks.name=down.incident_open')" true "down incident"
total=$(json_get "$T/body" 'checks.name=ok.counters.total')
assert_eq "$(json_get "$T/body" 'checks.name=ok.counters.ok')" "$total" "ok counters"
avail_ok() {
    get "$B/api/v1/checks" >/dev/null
    [ "$(json_get "$T/body" 'checks.name=ok.availability.24h')" = 1.0 ] &&
        [ "$(json_get "$T/body" 'checks.name=down.availability.30d')" = 0.0 ]
}
wait_for 15 "availability figures (ok 1.0, down 0.0)" avail_ok

log "/api/v1/checks/<name>"
assert_eq "$(get "$B/api/v1/checks/ok")" 200 "check detail"
assert_eq "$(json_get "$T/body" 'check.name')" ok "detail name"
assert_eq "$(json_get "$T/body" 'check.status')" up "detail status"
# One day at 500 ms is 172,800 raw rows: auto picks minutes.
assert_eq "$(json_get "$T/body" resolution)" minute "default resolution"
assert_eq "$(get "$B/api/v1/checks/ok?from=-5m&resolution=raw")" 200 "raw detail"
assert_eq "$(json_get "$T/body" resolution)" raw "raw resolution"
assert_num "$(json_get "$T/body" 'results.#')" -ge 2 "raw results"
assert_eq "$(json_get "$T/body" 'results.0.ok')" true "raw result ok"
assert_eq "$(get "$B/api/v1/checks/ok?from=-1h&resolution=minute")" 200 "minute detail"
assert_eq "$(json_get "$T/body" 'rollups.0.ok')" "$(json_get "$T/body" 'rollups.0.total')" \
    "minute rollup all ok"
p50=$(json_get "$T/body" 'rollups.0.p50_ms')
assert_ne "$p50" null "rollup p50"
assert_ne "$p50" "<missing>" "rollup p50"
assert_eq "$(json_get "$T/body" 'rollups.0.availability')" 1.0 "rollup availability"
assert_eq "$(get "$B/api/v1/checks/ok?from=-1h&resolution=auto")" 200 "auto detail"
assert_eq "$(json_get "$T/body" resolution)" raw "auto picks raw for 1h at 500ms (7,200 rows)"
# A raw request too large for the row cap is served coarser, with a note.
assert_eq "$(get "$B/api/v1/checks/ok?from=-3d&resolution=raw")" 200 "large raw request"
assert_eq "$(json_get "$T/body" resolution)" minute "coarsened resolution"
assert_contains "$(json_get "$T/body" note)" "limit 10000" "coarsening note"
now_ms=$(($(date +%s) * 1000 + 1000))
from_iso=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)
assert_eq "$(get "$B/api/v1/checks/down?from=$from_iso&to=$now_ms&resolution=raw")" 200 \
    "RFC 3339 and epoch range"
assert_eq "$(json_get "$T/body" 'results.0.ok')" false "down raw result"
assert_num "$(json_get "$T/body" 'incidents.#')" -ge 1 "down incidents in detail"
assert_eq "$(json_get "$T/body" 'incidents.0.open')" true "down incident open"

log "bad parameters and unknown names"
assert_eq "$(get "$B/api/v1/checks/nope")" 404 "unknown check"
assert_contains "$(json_get "$T/body" error)" "nope" "unknown check message"
assert_eq "$(get "$B/api/v1/checks/ok?from=yesterday")" 400 "bad from"
assert_contains "$(json_get "$T/body" error)" "'from'" "bad from message"
assert_eq "$(get "$B/api/v1/checks/ok?to=2026-13-01T00:00:00Z")" 400 "bad to"
assert_contains "$(json_get "$T/body" error)" "'to'" "bad to message"
assert_eq "$(get "$B/api/v1/checks/ok?from=-1h&to=-2h")" 400 "from after to"
assert_contains "$(json_get "$T/body" error)" "before" "from after to message"
assert_eq "$(get "$B/api/v1/checks/ok?from=-500d")" 400 "span too long"
assert_contains "$(json_get "$T/body" error)" "400 days" "span message"
# A 'to' near INT64_MAX with a far 'from' must not overflow the span check.
assert_eq "$(get "$B/api/v1/checks/ok?to=9223372036854775807&from=-300000d&resolution=raw")" 400 \
    "overflowing range"
assert_contains "$(json_get "$T/body" error)" "9999" "overflowing range message"
assert_eq "$(get "$B/api/v1/incidents?to=9223372036854775807&from=-300000d")" 400 \
    "overflowing incident range"
assert_eq "$(get "$B/api/v1/checks/ok?resolution=weekly")" 400 "bad resolution"
assert_contains "$(json_get "$T/body" error)" "resolution" "bad resolution message"
assert_eq "$(get "$B/api/v1/nothing")" 404 "unknown API route"
assert_eq "$(get "$B/no/such/page")" 404 "unknown page"
assert_ne "$(json_get "$T/body" error)" "<missing>" "404 is JSON"

log "methods and bodies"
assert_eq "$(get "$B/api/v1/checks" -X POST)" 405 "POST"
assert_contains "$(json_get "$T/body" error)" "read-only" "405 message"
allow=$(curl -s -o /dev/null -D - -X DELETE "$B/api/v1/checks" | tr -d '\r' | grep -i '^allow:')
assert_contains "$allow" "GET, HEAD" "Allow header"
assert_eq "$(get "$B/api/v1/checks" -X GET --data-binary 'x=1')" 413 "body"
assert_eq "$(get "$B/api/v1/checks" -I)" 200 "HEAD"

log "/api/v1/slos"
assert_eq "$(get "$B/api/v1/slos")" 200 "slos"
assert_eq "$(json_get "$T/body" 'slos.0.name')" web-avail "slo name"
assert_eq "$(json_get "$T/body" 'slos.0.objective')" 0.99 "slo objective"
assert_eq "$(json_get "$T/body" 'slos.0.checks.0')" ok "slo checks"
assert_eq "$(json_get "$T/body" 'slos.0.sli')" 1.0 "slo sli"
assert_eq "$(json_get "$T/body" 'slos.0.budget.remaining')" 1.0 "slo budget"
assert_eq "$(json_get "$T/body" 'slos.0.burn.#')" 7 "burn windows"
alert=$(json_get "$T/body" 'slos.0.alert')
[ "$alert" = ok ] || [ "$alert" = "no data" ] || fail "slo alert: got $alert"
assert_eq "$(get "$B/api/v1/slos/web-avail")" 200 "one slo"
assert_eq "$(json_get "$T/body" 'slo.name')" web-avail "one slo name"
assert_eq "$(get "$B/api/v1/slos/nope")" 404 "unknown slo"

log "/api/v1/goals"
assert_eq "$(get "$B/api/v1/goals")" 200 "goals"
assert_eq "$(json_get "$T/body" 'goals.0.id')" web-up "goal id"
assert_eq "$(json_get "$T/body" 'goals.0.status')" met "goal status"
assert_eq "$(json_get "$T/body" 'goals.0.area')" web "goal area"
assert_ne "$(json_get "$T/body" 'goals.0.trend')" "<missing>" "goal trend"
assert_eq "$(json_get "$T/body" 'milestones.#')" 0 "no milestones"

log "/api/v1/incidents"
assert_eq "$(get "$B/api/v1/incidents?check=down")" 200 "incidents"
assert_num "$(json_get "$T/body" 'incidents.#')" -ge 1 "incidents of down"
assert_eq "$(json_get "$T/body" 'incidents.0.check')" down "incident check"
assert_eq "$(json_get "$T/body" 'incidents.0.end_ms')" null "incident end"
assert_contains "$(json_get "$T/body" 'incidents.0.first_error')" 503 "incident first error"
assert_eq "$(get "$B/api/v1/incidents?check=ok")" 200 "incidents of ok"
assert_eq "$(json_get "$T/body" 'incidents.#')" 0 "no incidents of ok"
assert_eq "$(get "$B/api/v1/incidents?check=nope")" 404 "incidents of unknown"
assert_eq "$(get "$B/api/v1/incidents?from=garbage")" 400 "incidents bad from"

log "/api/v1/certificates"
assert_eq "$(get "$B/api/v1/certificates")" 200 "certificates"
assert_eq "$(json_get "$T/body" 'certificates.#')" 2 "two certificates"
assert_eq "$(json_get "$T/body" 'certificates.0.check')" soon "soonest first"
assert_between "$(json_get "$T/body" 'certificates.0.days_left')" 4 5 "days left"
assert_eq "$(json_get "$T/body" 'certificates.1.check')" later "later second"
assert_contains "$(json_get "$T/body" 'certificates.0.subject')" yardstick-expiring "subject"
assert_contains "$(json_get "$T/body" 'certificates.0.issuer')" "Yardstick Test CA" "issuer"
want=$(($(cert_not_after "$C/expiring.pem") * 1000))
assert_eq "$(json_get "$T/body" 'certificates.0.not_after_ms')" "$want" "not_after_ms"

log "dashboard root"
assert_eq "$(get "$B/")" 200 "dashboard"
term_wait "$DAEMON"
assert_eq "$TERM_RC" 0 "daemon exit code"
grep -q "without server.auth" "$T/daemon.log" && fail "loopback without auth must not warn"

log "auth on"
WEB2=$(free_port)
SHA=$(printf %s 's3cret' | sha256sum | cut -d' ' -f1)
AUTH="  auth:
    tokens: [\"\${YS_TEST_TOKEN}\"]
    basic: [{ user: admin, password_sha256: \"$SHA\" }]"
write_cfg "$T/auth.yaml" "$WEB2" "$AUTH"
YS_TEST_TOKEN="tok-$$-abc" "$YARDSTICK" run -c "$T/auth.yaml" 2>"$T/daemon2.log" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
B="http://127.0.0.1:$WEB2"
wait_for 10 "the HTTP server with auth" port_open "$WEB2"
assert_eq "$(get "$B/healthz")" 200 "healthz without auth"
for route in /readyz /metrics /api/v1/checks /api/v1/checks/ok /api/v1/slos /api/v1/goals \
    /api/v1/incidents /api/v1/certificates /; do
    assert_eq "$(get "$B$route")" 401 "$route without credentials"
done
assert_eq "$(json_get "$T/body" error)" "authentication required" "401 message"
hdrs=$(curl -s -o /dev/null -D - "$B/api/v1/checks" | tr -d '\r')
assert_contains "$hdrs" 'WWW-Authenticate: Bearer realm="yardstick"' "bearer challenge"
assert_contains "$hdrs" 'WWW-Authenticate: Basic realm="yardstick"' "basic challenge"
assert_eq "$(get "$B/api/v1/checks" -H "Authorization: Bearer tok-$$-abc")" 200 "good token"
assert_eq "$(get "$B/api/v1/checks" -H "Authorization: Bearer tok-$$-abd")" 401 "bad token"
assert_eq "$(get "$B/api/v1/checks" -u admin:s3cret)" 200 "good basic"
assert_eq "$(get "$B/api/v1/checks" -u admin:s3creT)" 401 "bad basic password"
assert_eq "$(get "$B/api/v1/checks" -u root:s3cret)" 401 "bad basic user"
assert_eq "$(get "$B/metrics" -u admin:s3cret)" 200 "metrics with basic"
term_wait "$DAEMON"
assert_eq "$TERM_RC" 0 "auth daemon exit code"

log "a listen address that is taken is fatal"
write_cfg "$T/busy.yaml" "$PORT" # nginx holds it
rc=0
"$YARDSTICK" run -c "$T/busy.yaml" 2>"$T/busy.log" || rc=$?
assert_eq "$rc" 1 "exit code with a busy listen address"
assert_contains "$(cat "$T/busy.log")" "cannot listen" "busy message"
log "ok"
