#!/usr/bin/env bash
# test_heartbeat.sh - heartbeat (push) checks end to end: the real daemon
# with heartbeat checks of short periods, driven by curl as a job would.
#
# Asserts on what the daemon stores (`yardstick history`, the pings API)
# and serves (/api/v1/checks): pings on time give ok results; a check never
# pinged gets one "missed" result per slot; fail pings and exit codes fail
# their slot, and later pings in the same slot (a retry, a flood of 500)
# change the state but add no result; start and end with a run id measure
# the run (stored duration, concurrent runs paired by id); a run shorter
# than min_duration or longer than max_duration fails, the long one
# showing running/too_long before it ends; tokens (the check's own, the
# global ping_token; by header, bearer and query) are refused with 403
# when missing or wrong; an unknown check or a non-heartbeat one is 404; a
# 50 KiB body is stored capped at max_body; `check` skips heartbeats; a
# restart keeps the last ping state with no spurious miss, and a check
# never pinged stays down/missed; and `yardstick exec` reports a command's
# run.
#
# The daemon's own HTTP port doubles as the target of a tcp check, so the
# non-heartbeat check needs no other server.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v curl >/dev/null || fail "curl is required"
ys_tmpdir T
WEB=$(free_port)
B="http://127.0.0.1:$WEB"
CFG="$T/cfg.yaml"
cat >"$CFG" <<CFG
storage: { path: $T/y.db }
server: { listen: 127.0.0.1:$WEB, ping_token: globaltok }
checks:
  - name: webport
    kind: tcp
    address: 127.0.0.1:$WEB
    interval: 1s
  - name: ontime
    kind: heartbeat
    period: 2s
    grace: 1s
  - name: silent
    kind: heartbeat
    period: 2s
    grace: 1s
  - name: failing
    kind: heartbeat
    period: 1h
  - name: runs
    kind: heartbeat
    period: 1h
    min_duration: 500ms
    max_duration: 2s
  - name: quick
    kind: heartbeat
    period: 1h
    min_duration: 500ms
  - name: slow
    kind: heartbeat
    period: 1h
    max_duration: 2s
  - name: flood
    kind: heartbeat
    period: 1h
  - name: secret
    kind: heartbeat
    period: 1h
    token: checktok
  - name: big
    kind: heartbeat
    period: 1h
    max_body: 1KiB
  - name: steady
    kind: heartbeat
    period: 6s
    grace: 3s
  - name: execjob
    kind: heartbeat
    period: 1h
  - name: execfail
    kind: heartbeat
    period: 1h
CFG

DAEMON=""
start_daemon() {
    "$YARDSTICK" run -c "$CFG" --log-level debug 2>>"$T/daemon.log" >>"$T/daemon.out" &
    DAEMON=$!
    YS_PIDS+=("$DAEMON")
    wait_for 10 "the HTTP server" port_open "$WEB"
}
daemon_alive() { kill -0 "$DAEMON" 2>/dev/null || fail "the daemon died: $(tail -20 "$T/daemon.log")"; }

# ping PATH [CURL ARGS...]: prints the status; the global token unless
# curl args are given (then they say what to send).
ping() {
    local path=$1
    shift
    local auth=(-H "Authorization: Bearer globaltok")
    [ $# -gt 0 ] && auth=()
    curl -s -o "$T/ping.body" -w '%{http_code}' "${auth[@]}" "$@" "$B/ping/$path" || echo curl-failed
}
get() {
    curl -s -o "$T/body" -w '%{http_code}' "$B$1" || echo curl-failed
}
# The raw history of NAME (last hour) in $T/NAME.json; prints how many.
hist() {
    "$YARDSTICK" history "$1" -c "$CFG" --since 1h --format json >"$T/$1.json" 2>"$T/$1.err" ||
        fail "history $1 failed: $(cat "$T/$1.err")"
    json_get "$T/$1.json" '#'
}
# count NAME ok|failed [SUBSTRING]: results of NAME by verdict (and message).
count() {
    hist "$1" >/dev/null
    python3 - "$T/$1.json" "$2" "${3:-}" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
want_ok = sys.argv[2] == "ok"
print(sum(1 for r in rows if r["ok"] == want_ok and sys.argv[3] in r["message"]))
EOF
}
newest() { # newest NAME FIELD
    hist "$1" >/dev/null
    python3 - "$T/$1.json" "$2" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
v = max(rows, key=lambda r: r["ts_ms"])[sys.argv[2]] if rows else "<none>"
print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))
EOF
}
# hb NAME FIELD: a field of the check's heartbeat object in /api/v1/checks.
hb() {
    [ "$(get /api/v1/checks)" = 200 ] || fail "GET /api/v1/checks: $(cat "$T/body")"
    json_get "$T/body" "checks.name=$1.heartbeat.$2"
}
at_least() { [ "$(count "$1" "$2" "${4:-}")" -ge "$3" ]; }
state_is() { [ "$(hb "$1" state)" = "$2" ]; }

start_daemon

log "routes, methods and tokens"
assert_eq "$(ping nosuch)" 404 "unknown check"
assert_eq "$(ping webport)" 404 "a tcp check is not a heartbeat"
assert_eq "$(ping ontime/sideways)" 404 "unknown ping route"
assert_eq "$(ping ontime/256)" 400 "exit code out of range"
assert_eq "$(ping "ontime/start?rid=$(printf 'r%.0s' {1..64})")" 400 "rid of 64 characters"
assert_eq "$(ping ontime -X PUT -H 'Authorization: Bearer globaltok')" 405 "PUT"
assert_eq "$(ping ontime -H 'X-Other: 1')" 403 "no token (global ping_token set)"
assert_eq "$(ping ontime -H 'Authorization: Bearer globaltoK')" 403 "wrong global token"
assert_eq "$(ping secret)" 403 "the global token on a check with its own"
assert_eq "$(ping secret -H 'X-Yardstick-Token: checktok')" 200 "own token by X-Yardstick-Token"
assert_eq "$(cat "$T/ping.body")" OK "ping reply"
assert_eq "$(ping 'secret?token=checktok' -G)" 200 "own token by ?token="
assert_eq "$(ping secret -H 'Authorization: Bearer checktok')" 200 "own token by bearer"
assert_eq "$(ping secret -H 'Authorization: Bearer checktox')" 403 "wrong own token"
# The API's own auth is not involved: the API is open here, pings are not.
assert_eq "$(get /api/v1/checks)" 200 "API without a token"

log "yardstick check skips heartbeats and passes"
run_capture rc "$T/check.out" "$T/check.err" "$YARDSTICK" check -c "$CFG"
assert_eq "$rc" 0 "check exit code (heartbeats never fail it): $(cat "$T/check.out" "$T/check.err")"
assert_contains "$(cat "$T/check.out")" "skipped silent: heartbeat: passive, measured by \`yardstick run\`" "check output"
assert_contains "$(cat "$T/check.out")" "1 checks, 1 passed" "check ran the tcp check only"

log "on time: each ping closes a slot ok"
# Slots missed while the steps above ran do not count against this one.
missed_before=$(count ontime failed)
# 1.2 s apart: each ping is past the middle of the 2 s period, so it meets
# the next slot (an earlier one would repeat the slot just closed).
for i in 1 2 3 4; do
    assert_eq "$(ping ontime)" 200 "ontime ping $i"
    sleep 1.2
done
wait_for 5 "4 ok results of ontime" at_least ontime ok 4
assert_eq "$(count ontime failed)" "$missed_before" "failed results of ontime while pinged"
assert_eq "$(hb ontime state)" up "ontime state"
assert_eq "$(hb ontime problem)" null "ontime problem"
assert_ne "$(hb ontime last_ping)" null "ontime last_ping"

log "missed: one failed result per slot"
wait_for 10 "2 missed slots of silent" at_least silent failed 2 missed
assert_eq "$(newest silent error)" timeout "error class of a miss"
assert_eq "$(count silent ok)" 0 "ok results of silent"
assert_eq "$(hb silent state)" down "silent state"
assert_eq "$(hb silent problem)" missed "silent problem"
assert_eq "$(hb silent last_ping)" null "silent last_ping"

log "fail pings and exit codes; one result per slot"
assert_eq "$(ping failing/fail)" 200 "fail ping"
wait_for 5 "the failure of failing" at_least failing failed 1 "job reported failure"
assert_eq "$(hb failing state)" failed "state after a fail ping"
assert_eq "$(hb failing problem)" failed "problem after a fail ping"
# The same slot (an hourly check pinged again at once): the state follows,
# the slot keeps its first verdict.
assert_eq "$(ping failing/3)" 200 "exit code 3"
assert_eq "$(ping failing/0 -X POST -H 'Authorization: Bearer globaltok')" 200 "exit code 0 (a retry)"
wait_for 5 "failing up after the retry" state_is failing up
assert_eq "$(hb failing problem)" null "problem after the retry"
sleep 0.5 # the writer stores a batch every 100-250 ms
assert_eq "$(hist failing)" 1 "results of failing (one slot)"
assert_eq "$(count failing failed "job reported failure")" 1 "the slot's verdict is the first ping's"
# A flood: 500 pings to an hourly check within seconds make one slot.
for i in $(seq 500); do printf 'url = "%s"\noutput = "/dev/null"\n' "$B/ping/flood"; done >"$T/flood.curl"
curl -s -w '%{http_code}\n' -H "Authorization: Bearer globaltok" -K "$T/flood.curl" \
    >"$T/flood.codes" || fail "the flood's curl failed"
assert_eq "$(grep -c '^200$' "$T/flood.codes")" 500 "flood pings accepted"
assert_eq "$(ping flood/fail)" 200 "a fail ping after the flood"
wait_for 5 "flood failed" state_is flood failed
sleep 0.5
assert_eq "$(hist flood)" 1 "results of flood after 501 pings"
assert_eq "$(count flood ok)" 1 "ok results of flood"

log "runs: start and end paired by run id"
assert_eq "$(ping 'runs/start?rid=r1')" 200 "start r1"
wait_for 5 "runs to be running" state_is runs running
sleep 1
assert_eq "$(ping 'runs?rid=r1')" 200 "end r1"
wait_for 5 "the ok of run r1" at_least runs ok 1
assert_between "$(newest runs duration_ms)" 900 2500 "duration of run r1 (ms)"
assert_between "$(newest runs value)" 0.9 2.5 "value of run r1 (s)"
# two concurrent runs, ended in the other order
assert_eq "$(ping 'runs/start?rid=a')" 200 "start a"
sleep 0.3
assert_eq "$(ping 'runs/start?rid=b')" 200 "start b"
sleep 0.7
assert_eq "$(ping 'runs?rid=b')" 200 "end b"
sleep 0.3
assert_eq "$(ping 'runs?rid=a')" 200 "end a"
runs_stored() {
    [ "$(get /api/v1/checks/runs/pings?limit=2)" = 200 ] &&
        [ "$(json_get "$T/body" 'pings.0.run_id')" = a ]
}
wait_for 5 "the end of run a in the store" runs_stored
assert_eq "$(json_get "$T/body" 'pings.#')" 2 "limit=2"
assert_eq "$(json_get "$T/body" 'pings.0.run_id')" a "newest ping first"
assert_eq "$(json_get "$T/body" 'pings.0.kind')" success "newest ping kind"
assert_between "$(json_get "$T/body" 'pings.0.duration_ms')" 1200 2200 "stored duration of run a"
assert_eq "$(json_get "$T/body" 'pings.1.run_id')" b "second newest ping"
assert_between "$(json_get "$T/body" 'pings.1.duration_ms')" 600 1500 "stored duration of run b"
# Runs a and b ended in the slot r1 closed: measured and stored, no result.
assert_eq "$(count runs ok)" 1 "ok results of runs (one slot)"

log "too short and too long"
assert_eq "$(ping 'quick/start?rid=q')" 200 "start quick"
assert_eq "$(ping 'quick?rid=q')" 200 "end quick"
wait_for 5 "the too short run" at_least quick failed 1 "too short"
assert_eq "$(hb quick problem)" too_short "problem after a short run"
assert_eq "$(ping 'slow/start?rid=s')" 200 "start slow"
too_long_running() { [ "$(hb slow state)" = running ] && [ "$(hb slow problem)" = too_long ]; }
wait_for 6 "slow to be running with problem too_long before the end" too_long_running
assert_eq "$(ping 'slow?rid=s')" 200 "end slow"
wait_for 5 "the too long run" at_least slow failed 1 "too long"
assert_eq "$(hb slow state)" failed "state after a long run"

log "a 50 KiB body is stored capped at max_body (1 KiB)"
python3 -c 'import sys; sys.stdout.write("".join(chr(65 + i % 26) for i in range(50 * 1024)))' >"$T/big.txt"
assert_eq "$(ping big --data-binary @"$T/big.txt" -H 'Authorization: Bearer globaltok')" 200 "50 KiB ping"
assert_eq "$(cat "$T/ping.body")" OK "reply to a big ping"
body_stored() { [ "$(get /api/v1/checks/big/pings)" = 200 ] && [ "$(json_get "$T/body" 'pings.#')" = 1 ]; }
wait_for 5 "the big ping in the store" body_stored
assert_eq "$(json_get "$T/body" 'pings.0.body_bytes')" 1024 "stored body bytes"
assert_eq "$(json_get "$T/body" 'pings.0.body')" "$(head -c 1024 "$T/big.txt")" "stored body"
assert_eq "$(get /api/v1/checks/webport/pings)" 404 "pings of a non-heartbeat"
assert_eq "$(get /api/v1/checks/big/pings?limit=0)" 400 "limit=0"
daemon_alive

log "restart keeps the last ping state"
assert_eq "$(ping steady)" 200 "steady ping"
steady_at=$(date +%s%3N)
wait_for 5 "steady up" state_is steady up
last=$(hb steady last_ping)
assert_ne "$last" null "steady last_ping"
failing_last=$(hb failing last_ping)
term_wait "$DAEMON"
assert_eq "$TERM_RC" 0 "daemon exit code"
# Counted once the daemon has stopped: a miss emitted just before the ping
# may still sit in the writer's queue until then.
steady_failed=$(count steady failed) # slots missed before its first ping
start_daemon
restored() { [ "$(get /api/v1/checks)" = 200 ] && [ "$(hb steady last_ping)" != null ]; }
wait_for 5 "the restarted daemon's API" restored
assert_eq "$(hb steady state)" up "steady state after the restart"
assert_eq "$(hb steady last_ping)" "$last" "steady last_ping after the restart"
assert_eq "$(hb failing last_ping)" "$failing_last" "failing last_ping after the restart"
assert_eq "$(hb slow state)" failed "slow state after the restart"
assert_between "$(hb slow last_duration_ms)" 1900 6000 "slow last_duration_ms after the restart"
# Never pinged and missing its slots before: still down/missed (a fresh
# "new" would read "late" with no problem at its first due time, which
# resolved its alert until the next miss fired it again).
assert_eq "$(hb silent state)" down "silent state after the restart"
assert_eq "$(hb silent problem)" missed "silent problem after the restart"
assert_eq "$(hb silent last_ping)" null "silent last_ping after the restart"
# The next steady ping meets the next slot only from half its 6 s period on.
while [ $(($(date +%s%3N) - steady_at)) -lt 3500 ]; do sleep 0.1; done
assert_eq "$(ping steady)" 200 "steady ping after the restart"
sleep 1
assert_eq "$(count steady failed)" "$steady_failed" "steady failures (no spurious miss after the restart)"
assert_eq "$(count steady ok)" 2 "steady ok results"

log "yardstick exec reports a command's run"
run_capture rc "$T/exec.out" "$T/exec.err" "$YARDSTICK" exec --check execjob --url "$B" \
    --token globaltok -- sh -c 'echo hi; exit 0'
assert_eq "$rc" 0 "exec exit code: $(cat "$T/exec.err")"
assert_eq "$(cat "$T/exec.out")" hi "exec passes the output through"
wait_for 5 "the ok of execjob" at_least execjob ok 1
[ "$(get /api/v1/checks/execjob/pings)" = 200 ] || fail "pings API: $(cat "$T/body")"
assert_eq "$(json_get "$T/body" 'pings.#')" 2 "execjob pings (start, end)"
assert_eq "$(json_get "$T/body" 'pings.0.exit_code')" 0 "exec's exit code ping"
assert_eq "$(json_get "$T/body" 'pings.0.body')" "hi" "exec's output tail"
assert_ne "$(json_get "$T/body" 'pings.0.duration_ms')" null "exec's run duration"
run_capture rc "$T/exec.out" "$T/exec.err" "$YARDSTICK" exec --check execfail --url "$B" \
    --token globaltok -- sh -c 'exit 3'
assert_eq "$rc" 3 "exec exit code of a failing command"
wait_for 5 "the exit 3 of execfail" at_least execfail failed 1 "(exit 3)"
daemon_alive

term_wait "$DAEMON"
assert_eq "$TERM_RC" 0 "daemon exit code"
log "all heartbeat assertions passed"
