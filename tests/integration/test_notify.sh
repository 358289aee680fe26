#!/usr/bin/env bash
# tests/integration/test_notify.sh - at-least-once delivery of a webhook
# notifier through `yardstick notify send`, against a python3 receiver that
# records every POST body as one JSON line.
#
#   1. The receiver is down (port closed): `notify send --wait` keeps
#      retrying; the receiver comes up; the notification arrives, once.
#   2. --resolve: the resolution arrives, with the firing time kept from
#      the stored alert.
#   3. The wait expires while the receiver is down: exit 1 with the reason.
#   4. kill -9 of `notify send` after a failed attempt, receiver up,
#      `notify send --flush-only`: the pending notifications (this one and
#      the one from 3) arrive after the restart; nothing is left pending.
#   5. The store holds a daemon's pending rows (one of hook, one of a
#      notifier `gone` that this config lacks): `notify send` delivers its
#      own test alert only, leaving both alone (no duplicate delivery beside
#      the daemon, no give-up of the daemon's rows under a smaller config);
#      --flush-only drains hook's row and still leaves gone's; with `gone`
#      back in the config, --flush-only delivers it.
source "$(dirname "$0")/lib.sh"

ys_tmpdir dir
HOOK_PORT=$(free_port)
cat >"$dir/y.yaml" <<EOF
storage: { path: $dir/var/y.db }
server: { enabled: false }
notifiers:
  - name: hook
    kind: webhook
    url: http://127.0.0.1:$HOOK_PORT/hook
    headers: { X-Test: yardstick }
    max_age: 1h
EOF

cat >"$dir/receiver.py" <<'EOF'
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        rec = {"path": self.path, "x_test": self.headers.get("X-Test"), "body": json.loads(body)}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
RECEIVED=$dir/received.jsonl
: >"$RECEIVED"

start_receiver() {
    python3 -u "$dir/receiver.py" "$HOOK_PORT" "$RECEIVED" >>"$dir/receiver.log" 2>&1 &
    RECV_PID=$!
    YS_PIDS+=("$RECV_PID")
    wait_for 10 "the receiver on port $HOOK_PORT" port_open "$HOOK_PORT"
}

# How many received notifications have alert key $1 and status $2.
count() {
    python3 - "$RECEIVED" "$1" "$2" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    b = json.loads(line)["body"]
    n += b.get("key") == sys.argv[2] and b.get("status") == sys.argv[3]
print(n)
EOF
}

# A field of the first received notification of key $1 with status $2.
field() {
    python3 - "$RECEIVED" "$1" "$2" "$3" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    rec = json.loads(line)
    b = rec["body"]
    if b.get("key") == sys.argv[2] and b.get("status") == sys.argv[3]:
        print(rec[sys.argv[4]] if sys.argv[4] in rec else b.get(sys.argv[4]))
        break
EOF
}

db_attempts() {
    sqlite3 "$dir/var/y.db" "SELECT coalesce(max(attempts), 0) FROM outbox WHERE alert_key = '$1'" 2>/dev/null
}

send() { "$YARDSTICK" notify send -c "$dir/y.yaml" --notifier hook "$@"; }

# 1. Down, then up: retried until delivered.
log "receiver down: notify send keeps retrying"
"$YARDSTICK" notify send -c "$dir/y.yaml" --notifier hook --key first --wait 40s \
    >"$dir/first.out" 2>"$dir/first.err" &
SEND_PID=$!
YS_PIDS+=("$SEND_PID")
wait_for 15 "a failed attempt in the outbox" bash -c "[ \"\$(sqlite3 '$dir/var/y.db' \"SELECT max(attempts) FROM outbox WHERE alert_key = 'yardstick-test/first'\" 2>/dev/null)\" -ge 2 ]"
kill -0 "$SEND_PID" 2>/dev/null || fail "notify send gave up while the receiver was down: $(cat "$dir/first.err")"
assert_eq "$(count yardstick-test/first firing)" 0 "notifications before the receiver is up"
start_receiver
rc=0
wait "$SEND_PID" || rc=$?
forget_pid "$SEND_PID"
assert_eq "$rc" 0 "notify send exit code once the receiver is up ($(cat "$dir/first.err"))"
assert_contains "$(cat "$dir/first.out")" "delivered a firing notification of yardstick-test/first to hook"
assert_contains "$(cat "$dir/first.err")" "Couldn't connect"
assert_eq "$(count yardstick-test/first firing)" 1 "firing notifications of first"
assert_eq "$(field yardstick-test/first firing x_test)" yardstick "the configured header"
assert_eq "$(field yardstick-test/first firing rule)" yardstick-test "the rule"
firing_at=$(field yardstick-test/first firing firing_at)

# 2. The resolution keeps the firing time.
log "resolve"
run_capture rc "$dir/res.out" "$dir/res.err" send --key first --resolve --wait 20s
assert_eq "$rc" 0 "notify send --resolve ($(cat "$dir/res.err"))"
assert_eq "$(count yardstick-test/first resolved)" 1 "resolved notifications of first"
assert_eq "$(field yardstick-test/first resolved firing_at)" "$firing_at" "firing_at of the resolution"
assert_ne "$(field yardstick-test/first resolved resolved_at)" None "resolved_at"

# 3. The wait expires: exit 1 with the reason; the row stays pending.
term_wait "$RECV_PID"
log "receiver down: the wait expires"
run_capture rc "$dir/third.out" "$dir/third.err" send --key third --wait 2s
assert_eq "$rc" 1 "notify send exit code when the wait expires"
assert_contains "$(cat "$dir/third.err")" "not delivered to hook within 2s"
assert_contains "$(cat "$dir/third.err")" "Couldn't connect"
assert_contains "$(cat "$dir/third.err")" "stays in the outbox"

# 4. kill -9 between the firing and the delivery, then a flush.
log "kill -9 between firing and delivery"
# Started directly, not through send(): $! must be yardstick itself, not a
# subshell that kill -9 would leave its child running behind.
"$YARDSTICK" notify send -c "$dir/y.yaml" --notifier hook --key second --wait 60s \
    >"$dir/second.out" 2>"$dir/second.err" &
SEND_PID=$!
YS_PIDS+=("$SEND_PID")
wait_for 15 "a failed attempt of second" bash -c "[ \"\$(sqlite3 '$dir/var/y.db' \"SELECT max(attempts) FROM outbox WHERE alert_key = 'yardstick-test/second'\" 2>/dev/null)\" -ge 1 ]"
kill -KILL "$SEND_PID"
wait "$SEND_PID" 2>/dev/null || true
forget_pid "$SEND_PID"
kill -0 "$SEND_PID" 2>/dev/null && fail "notify send survived kill -9"
pgrep -f -- "$dir/y.yaml --notifier hook --key second" >/dev/null &&
    fail "a yardstick notify send --key second is still running"
assert_eq "$(count yardstick-test/second firing)" 0 "second delivered before the restart"
assert_eq "$(sqlite3 "$dir/var/y.db" "SELECT count(*) FROM outbox WHERE state = 0")" 2 "pending rows after kill -9"
start_receiver
run_capture rc "$dir/flush.out" "$dir/flush.err" "$YARDSTICK" notify send -c "$dir/y.yaml" --flush-only --wait 30s
assert_eq "$rc" 0 "notify send --flush-only ($(cat "$dir/flush.err"))"
assert_contains "$(cat "$dir/flush.out")" "delivered 2 pending notifications"
assert_num "$(count yardstick-test/second firing)" -ge 1 "second delivered after the restart"
assert_num "$(count yardstick-test/third firing)" -ge 1 "third delivered after the restart"
assert_eq "$(sqlite3 "$dir/var/y.db" "SELECT count(*) FROM outbox WHERE state = 0")" 0 "pending rows after the flush"
assert_eq "$(sqlite3 "$dir/var/y.db" "SELECT state FROM outbox WHERE alert_key = 'yardstick-test/second'")" 1 "second's row state (delivered)"

# 5. Rows that are a daemon's, not this command's.
log "a daemon's pending rows are left to the daemon"
insert_row() { # notifier key
    local now
    now=$(date +%s%3N)
    sqlite3 "$dir/var/y.db" "INSERT INTO outbox(notifier, alert_key, created_ms, next_attempt_ms,
        attempts, state, done_ms, last_error, payload) VALUES('$1', '$2', $now, $now, 0, 0, 0, '',
        '{\"key\":\"$2\",\"rule\":\"r\",\"status\":\"firing\",\"repeat\":false}')"
}
insert_row hook daemon/x
insert_row gone daemon/gone
run_capture rc "$dir/mine.out" "$dir/mine.err" send --key mine --wait 20s
assert_eq "$rc" 0 "notify send beside a daemon's rows ($(cat "$dir/mine.err"))"
assert_eq "$(count yardstick-test/mine firing)" 1 "the test alert delivered"
assert_eq "$(count daemon/x firing)" 0 "the daemon's row delivered by notify send"
assert_eq "$(sqlite3 "$dir/var/y.db" "SELECT state || '/' || attempts FROM outbox WHERE alert_key = 'daemon/x'")" 0/0 "the daemon's hook row"
assert_eq "$(sqlite3 "$dir/var/y.db" "SELECT state FROM outbox WHERE alert_key = 'daemon/gone'")" 0 "the row of a notifier this config lacks (0: pending)"
run_capture rc "$dir/flush2.out" "$dir/flush2.err" "$YARDSTICK" notify send -c "$dir/y.yaml" --flush-only --wait 20s
assert_eq "$rc" 0 "--flush-only ($(cat "$dir/flush2.err"))"
assert_contains "$(cat "$dir/flush2.out")" "delivered 1 pending notification"
assert_eq "$(count daemon/x firing)" 1 "the hook row after --flush-only"
assert_eq "$(sqlite3 "$dir/var/y.db" "SELECT state FROM outbox WHERE alert_key = 'daemon/gone'")" 0 "gone's row after --flush-only (0: pending)"
# gone comes back (renamed back, say): its row is delivered.
sed '/^notifiers:/a\  - { name: gone, kind: webhook, url: "http://127.0.0.1:'"$HOOK_PORT"'/gone" }' "$dir/y.yaml" >"$dir/y2.yaml"
run_capture rc "$dir/flush3.out" "$dir/flush3.err" "$YARDSTICK" notify send -c "$dir/y2.yaml" --flush-only --notifier gone --wait 20s
assert_eq "$rc" 0 "--flush-only --notifier gone ($(cat "$dir/flush3.err"))"
assert_eq "$(count daemon/gone firing)" 1 "gone's row once gone is back"
assert_eq "$(field daemon/gone firing path)" /gone "where gone's row went"
run_capture rc "$dir/help.out" "$dir/help.err" "$YARDSTICK" notify send --help
assert_contains "$(cat "$dir/help.out")" "no daemon"

# Usage errors name the problem.
run_capture rc "$dir/u.out" "$dir/u.err" "$YARDSTICK" notify send -c "$dir/y.yaml" --notifier hoook
assert_eq "$rc" 2 "unknown notifier exit code"
assert_contains "$(cat "$dir/u.err")" "did you mean 'hook'"
log "ok"
