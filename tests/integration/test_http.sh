# test_http.sh - `yardstick check` against a real nginx over plain HTTP.
#
# nginx serves a healthy page, a 503, a JSON document, a 10 MiB file, a
# redirect and an echo of the request line; one check per behaviour asserts
# what yardstick reports for it: verdict, error class, status, bytes, the
# truncation flag, phase timings and a message that names what failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"

# A 10 MiB body: larger than the 1 MiB default cap by a wide margin.
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$T/big.bin"

cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$PORT;
    add_header X-Yardstick test-value;
    location = /ok { default_type text/plain; return 200 "healthy\n"; }
    location = /status503 { return 503; }
    location = /json {
        default_type application/json;
        return 200 '{"status":"ok","items":[{"name":"a"}]}';
    }
    location = /big { default_type application/octet-stream; alias $T/big.bin; }
    location = /redirect { return 301 /ok; }
    location = /echo {
        default_type text/plain;
        return 200 "method=\$request_method token=\$http_x_token\n";
    }
}
EOF
start_nginx "$T" "$PORT"

cat >"$T/cfg.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { interval: 30s, timeout: 5s }
checks:
  - name: ok
    kind: http
    url: $BASE/ok
    expect: { body_contains: healthy, body_not_contains: unhealthy }
  - name: s503
    kind: http
    url: $BASE/status503
  - name: regex_fail
    kind: http
    url: $BASE/ok
    expect: { body_regex: "^unhealthy" }
  - name: regex_ok
    kind: http
    url: $BASE/ok
    expect: { body_regex: "^heal+thy$" }
  - name: json_ok
    kind: http
    url: $BASE/json
    expect:
      json:
        - { path: status, equals: ok }
        - { path: "items[0].name", equals: a }
        - { path: "\$.items", exists: true }
        - { path: "items[1]", exists: false }
  - name: json_fail
    kind: http
    url: $BASE/json
    expect:
      json:
        - { path: status, equals: down }
  - name: header_ok
    kind: http
    url: $BASE/ok
    expect:
      headers:
        - { name: X-Yardstick, equals: test-value }
        - { name: content-type, regex: "^text/plain" }
        - { name: Content-Length, exists: true }
        - { name: X-Absent, exists: false }
  - name: header_fail
    kind: http
    url: $BASE/ok
    expect:
      headers:
        - { name: X-Missing-Header, exists: true }
  - name: big
    kind: http
    url: $BASE/big
  - name: big_capped
    kind: http
    url: $BASE/big
    max_body: 64KiB
  - name: redirect_nofollow
    kind: http
    url: $BASE/redirect
  - name: redirect_strict
    kind: http
    url: $BASE/redirect
    expect: { status: [200] }
  - name: redirect_follow
    kind: http
    url: $BASE/redirect
    follow_redirects: true
    expect: { body_contains: healthy }
  - name: echo
    kind: http
    url: $BASE/echo
    method: PUT
    headers: { X-Token: abc123 }
    body: "payload"
    expect: { body_contains: "method=PUT token=abc123" }
EOF
NCHECKS=14

run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json
if [ "$rc" != 1 ]; then
    cat "$T/err.txt" "$T/out.json" >&2
    fail "check exit code: expected 1 (some checks fail), got $rc"
fi
log "check output: $(cat "$T/out.json")"
OUT="$T/out.json"
assert_eq "$(json_get "$OUT" '#')" "$NCHECKS" "number of results"

# Prints field FIELD of check NAME.
f() { json_get "$OUT" "name=$1.$2"; }

# --- a healthy page: every field of a success.
assert_eq "$(f ok kind)" http "ok.kind"
assert_eq "$(f ok ok)" true "ok.ok"
assert_eq "$(f ok error)" null "ok.error"
assert_eq "$(f ok status)" 200 "ok.status"
assert_eq "$(f ok bytes)" 8 "ok.bytes (\"healthy\\n\")"
assert_eq "$(f ok truncated)" false "ok.truncated"
assert_eq "$(f ok message)" "" "ok.message"
assert_between "$(f ok duration_ms)" 0.001 5000 "ok.duration_ms"
assert_between "$(f ok phases.connect_ms)" 0 5000 "ok.phases.connect_ms"
assert_between "$(f ok phases.ttfb_ms)" 0 5000 "ok.phases.ttfb_ms"
assert_eq "$(f ok phases.tls_ms)" null "ok.phases.tls_ms (plain HTTP has no TLS phase)"
assert_eq "$(f ok tls)" "<missing>" "ok.tls (plain HTTP has no TLS facts)"
# Phases are the durations of consecutive steps: together they fit in the
# total (1 ms of slack for the two clocks).
python3 - "$OUT" <<'EOF' || fail "ok: the phases do not fit in duration_ms"
import json, sys
r = [c for c in json.load(open(sys.argv[1])) if c["name"] == "ok"][0]
ph = [v for v in r["phases"].values() if v is not None]
print("ok: phases", r["phases"], "duration_ms", r["duration_ms"])
assert sum(ph) <= r["duration_ms"] + 1.0
EOF

# --- 503: a status the check does not expect.
assert_eq "$(f s503 ok)" false "s503.ok"
assert_eq "$(f s503 error)" http_status "s503.error"
assert_eq "$(f s503 status)" 503 "s503.status"
assert_contains "$(f s503 message)" 503 "s503.message"

# --- body regex: a failure names the pattern; a match passes.
assert_eq "$(f regex_fail ok)" false "regex_fail.ok"
assert_eq "$(f regex_fail error)" assertion "regex_fail.error"
assert_eq "$(f regex_fail status)" 200 "regex_fail.status"
assert_contains "$(f regex_fail message)" "^unhealthy" "regex_fail.message names the pattern"
assert_eq "$(f regex_ok ok)" true "regex_ok.ok ($(f regex_ok message))"

# --- JSON path assertions.
assert_eq "$(f json_ok ok)" true "json_ok.ok ($(f json_ok message))"
assert_eq "$(f json_fail ok)" false "json_fail.ok"
assert_eq "$(f json_fail error)" assertion "json_fail.error"
assert_contains "$(f json_fail message)" status "json_fail.message names the path"
assert_contains "$(f json_fail message)" down "json_fail.message names the expected value"

# --- header assertions.
assert_eq "$(f header_ok ok)" true "header_ok.ok ($(f header_ok message))"
assert_eq "$(f header_fail ok)" false "header_fail.ok"
assert_eq "$(f header_fail error)" assertion "header_fail.error"
assert_contains "$(f header_fail message)" X-Missing-Header "header_fail.message names the header"

# --- a 10 MiB body: read up to the cap, flagged, and still a success.
assert_eq "$(f big ok)" true "big.ok ($(f big message))"
assert_eq "$(f big status)" 200 "big.status"
assert_eq "$(f big truncated)" true "big.truncated"
assert_eq "$(f big bytes)" $((1024 * 1024)) "big.bytes (capped at the 1 MiB default)"
assert_eq "$(f big_capped truncated)" true "big_capped.truncated"
assert_eq "$(f big_capped bytes)" 65536 "big_capped.bytes (max_body: 64KiB)"

# --- redirects: off by default, where a 3xx is a success.
assert_eq "$(f redirect_nofollow ok)" true "redirect_nofollow.ok ($(f redirect_nofollow message))"
assert_eq "$(f redirect_nofollow status)" 301 "redirect_nofollow.status"
assert_eq "$(f redirect_strict ok)" false "redirect_strict.ok"
assert_eq "$(f redirect_strict error)" http_status "redirect_strict.error"
assert_eq "$(f redirect_strict status)" 301 "redirect_strict.status"
assert_eq "$(f redirect_follow ok)" true "redirect_follow.ok ($(f redirect_follow message))"
assert_eq "$(f redirect_follow status)" 200 "redirect_follow.status"
assert_eq "$(f redirect_follow bytes)" 8 "redirect_follow.bytes"

# --- method, request headers and body reach the server.
assert_eq "$(f echo ok)" true "echo.ok ($(f echo message))"

# --- --only runs just the named checks; all passing means exit 0.
run_capture rc "$T/only.json" "$T/only.err" "$YARDSTICK" check -c "$T/cfg.yaml" \
    --only ok --only json_ok --format json
assert_eq "$rc" 0 "check --only ok --only json_ok exit code ($(cat "$T/only.err"))"
assert_eq "$(json_get "$T/only.json" '#')" 2 "results with --only ok --only json_ok"
assert_eq "$(json_get "$T/only.json" 'name=json_ok.ok')" true "--only json_ok result"
assert_eq "$(json_get "$T/only.json" 'name=s503')" "<missing>" "--only must not run s503"

# --- JUnit: one testcase per check, failures counted.
run_capture rc "$T/junit.xml" "$T/junit.err" "$YARDSTICK" check -c "$T/cfg.yaml" \
    --only ok --only s503 --format junit
assert_eq "$rc" 1 "check --format junit exit code"
python3 - "$T/junit.xml" <<'EOF' || fail "junit output is wrong: $(cat "$T/junit.xml")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = {c.get("name"): c for c in root.iter("testcase")}
assert set(cases) == {"ok", "s503"}, cases
assert cases["ok"].find("failure") is None
assert cases["s503"].find("failure") is not None
EOF

log "all HTTP assertions passed"
