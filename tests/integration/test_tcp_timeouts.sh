# test_tcp_timeouts.sh - refused connections, servers that never answer, and
# TCP send/expect.
#
# A closed port must be a connect error that says "refused"; a python3
# server that accepts and never answers must be a timeout that fires within
# the check's timeout + 100 ms, for HTTP and for TCP; a PING/PONG server
# checks TCP send + expect both ways.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
CLOSED=$(free_port) # nothing listens here: free_port closed it again
HOLE=$(free_port)
PONG=$(free_port)
start_py_server blackhole "$HOLE" "$T/hole.log"
start_py_server pong "$PONG" "$T/pong.log"

cat >"$T/cfg.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { timeout: 5s }
checks:
  - name: refused_tcp
    kind: tcp
    address: 127.0.0.1:$CLOSED
  - name: refused_http
    kind: http
    url: http://127.0.0.1:$CLOSED/
  - name: hole_http
    kind: http
    url: http://127.0.0.1:$HOLE/
    timeout: 1s
  - name: hole_tcp
    kind: tcp
    address: 127.0.0.1:$HOLE
    send: "PING\r\n"
    expect: PONG
    timeout: 1s
  - name: hole_tcp_connect_only
    kind: tcp
    address: 127.0.0.1:$HOLE
    timeout: 1s
  - name: pong
    kind: tcp
    address: 127.0.0.1:$PONG
    send: "PING\r\n"
    expect: PONG
  - name: pong_mismatch
    kind: tcp
    address: 127.0.0.1:$PONG
    send: "PING\r\n"
    expect: PANG
EOF

accepted() { grep -c '^accepted' "$T/hole.log" || true; }
HOLE_BEFORE=$(accepted) # the readiness probe connected too

run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json
if [ "$rc" != 1 ]; then
    cat "$T/err.txt" "$T/out.json" >&2
    fail "check exit code: expected 1 (some checks fail), got $rc"
fi
log "check output: $(cat "$T/out.json")"
OUT="$T/out.json"
assert_eq "$(json_get "$OUT" '#')" 7 "number of results"
f() { json_get "$OUT" "name=$1.$2"; }

# --- connection refused.
for name in refused_tcp refused_http; do
    assert_eq "$(f $name ok)" false "$name.ok"
    assert_eq "$(f $name error)" connect "$name.error"
    assert_contains "$(f $name message)" refused "$name.message"
    assert_between "$(f $name duration_ms)" 0 1000 "$name.duration_ms (refusal is immediate)"
done
assert_eq "$(f refused_tcp kind)" tcp "refused_tcp.kind"

# --- accepted but never answered: a timeout at 1 s, not later than 1.1 s.
for name in hole_http hole_tcp; do
    assert_eq "$(f $name ok)" false "$name.ok"
    assert_eq "$(f $name error)" timeout "$name.error"
    assert_between "$(f $name duration_ms)" 1000 1100 "$name.duration_ms (timeout 1s + 100 ms)"
    assert_between "$(f $name phases.connect_ms)" 0 1000 "$name.phases.connect_ms (the connect worked)"
done
assert_eq "$(f hole_http status)" 0 "hole_http.status (no response)"
assert_eq "$(f hole_http phases.ttfb_ms)" null "hole_http.phases.ttfb_ms (no first byte)"
# Connecting is all a TCP check without send/expect asks for.
assert_eq "$(f hole_tcp_connect_only ok)" true "hole_tcp_connect_only.ok ($(f hole_tcp_connect_only message))"
assert_between "$(f hole_tcp_connect_only duration_ms)" 0 1000 "hole_tcp_connect_only.duration_ms"

# --- send + expect.
assert_eq "$(f pong ok)" true "pong.ok ($(f pong message))"
assert_eq "$(f pong error)" null "pong.error"
assert_between "$(f pong bytes)" 4 6 "pong.bytes (\"PONG\\r\\n\")"
assert_between "$(f pong phases.connect_ms)" 0 1000 "pong.phases.connect_ms"
assert_eq "$(f pong_mismatch ok)" false "pong_mismatch.ok"
assert_eq "$(f pong_mismatch error)" assertion "pong_mismatch.error"
assert_contains "$(f pong_mismatch message)" PANG "pong_mismatch.message names what it expected"

# The blackhole server must really have been reached (three connections),
# or the timeouts above would prove nothing.
assert_eq "$(($(accepted) - HOLE_BEFORE))" 3 "connections the blackhole server accepted"

log "all TCP and timeout assertions passed"
