#!/usr/bin/env bash
# tests/integration/test_alertmanager.sh - the alertmanager notifier against
# a real Prometheus Alertmanager (Debian's prometheus-alertmanager), which
# routes everything to a python3 webhook receiver in the test (one JSON
# line per notification it sends).
#
#   1. `yardstick notify send` with an alertmanager notifier: the alert
#      reaches the receiver once, then again per repeat_interval while it
#      stays firing (yardstick's endsAt is 4 x resend_interval ahead).
#   2. --resolve: a resolved notification arrives.
#   3. A silence created through Alertmanager's API (POST /api/v2/silences)
#      matching an alert suppresses it there: Alertmanager has the alert,
#      marked suppressed, and nothing reaches the receiver.
#   4. The daemon itself: a check_down alert of a failing check reaches
#      Alertmanager (labels alertname, check, severity) and the receiver;
#      when the check recovers, the resolution follows the same way.
source "$(dirname "$0")/lib.sh"

AM=${ALERTMANAGER:-$(command -v prometheus-alertmanager || echo /usr/bin/prometheus-alertmanager)}
[ -x "$AM" ] || fail "prometheus-alertmanager is not installed (bash scripts/deps.sh test)"

ys_tmpdir dir
AM_PORT=$(free_port)
HOOK_PORT=$(free_port)
REPEAT_S=4

cat >"$dir/receiver.py" <<'EOF'
import http.server, json, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        body["received_at"] = time.time()
        with open(out, "a") as f:
            f.write(json.dumps(body) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
RECEIVED=$dir/received.jsonl
: >"$RECEIVED"
python3 -u "$dir/receiver.py" "$HOOK_PORT" "$RECEIVED" >"$dir/receiver.log" 2>&1 &
YS_PIDS+=("$!")
wait_for 10 "the webhook receiver" port_open "$HOOK_PORT"

cat >"$dir/am.yml" <<EOF
route:
  receiver: hook
  group_by: [alertname, subject]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: ${REPEAT_S}s
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$HOOK_PORT/am
        send_resolved: true
EOF
# --cluster.listen-address= turns gossip off: no second port, no peers.
"$AM" --config.file="$dir/am.yml" --storage.path="$dir/am-data" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
    --log.level=warn >"$dir/am.log" 2>&1 &
YS_PIDS+=("$!")
wait_for 20 "Alertmanager ready" curl -sf "http://127.0.0.1:$AM_PORT/-/ready"

cat >"$dir/y.yaml" <<EOF
storage: { path: $dir/var/y.db }
server: { enabled: false }
notifiers:
  - name: am
    kind: alertmanager
    urls: [http://127.0.0.1:$AM_PORT]
EOF
send() { "$YARDSTICK" notify send -c "$dir/y.yaml" --notifier am "$@"; }

# Notifications for subject $1 with status $2: how many, or (with $3 =
# times) their arrival times.
notifications() {
    python3 - "$RECEIVED" "$1" "$2" "${3:-count}" <<'EOF'
import json, sys
path, subject, status, what = sys.argv[1:5]
hits = []
for line in open(path):
    n = json.loads(line)
    if n.get("status") == status and n.get("groupLabels", {}).get("subject") == subject:
        hits.append(n)
if what == "count":
    print(len(hits))
else:
    print(" ".join("%.2f" % h["received_at"] for h in hits))
EOF
}
has_notifications() { [ "$(notifications "$1" "$2")" -ge "${3:-1}" ]; }

# 1. Fires: arrives once, then repeats per repeat_interval.
log "firing"
run_capture rc "$dir/fire.out" "$dir/fire.err" send --key fire --summary "disk almost full"
assert_eq "$rc" 0 "notify send ($(cat "$dir/fire.err"))"
wait_for 10 "the firing notification" has_notifications fire firing
first=$(notifications fire firing times)
sleep 2 # well within repeat_interval: still exactly one
assert_eq "$(notifications fire firing)" 1 "firing notifications before repeat_interval"
body=$(grep '"subject": "fire"' "$RECEIVED" | head -1)
python3 - "$body" <<'EOF' || fail "the notification does not carry the alert: $body"
import json, sys
n = json.loads(sys.argv[1])
a = n["alerts"][0]
assert n["receiver"] == "hook", n
assert a["labels"]["alertname"] == "yardstick-test", a
assert a["labels"]["severity"] == "info", a
assert a["annotations"]["summary"] == "disk almost full", a
EOF
wait_for 15 "a repeat after repeat_interval" has_notifications fire firing 2
times=$(notifications fire firing times)
gap=$(python3 -c 'import sys; t = [float(x) for x in sys.argv[1].split()]; print(t[1] - t[0])' "$times")
assert_between "$gap" $((REPEAT_S - 1)) $((REPEAT_S + 4)) "seconds between the first notification and its repeat"

# 2. Resolves.
log "resolve"
run_capture rc "$dir/res.out" "$dir/res.err" send --key fire --resolve
assert_eq "$rc" 0 "notify send --resolve ($(cat "$dir/res.err"))"
wait_for 15 "the resolved notification" has_notifications fire resolved
resolved=$(grep '"status": "resolved"' "$RECEIVED" | grep '"subject": "fire"' | head -1)
python3 - "$resolved" <<'EOF' || fail "the resolved notification: $resolved"
import json, sys
a = json.loads(sys.argv[1])["alerts"][0]
assert a["status"] == "resolved" and not a["endsAt"].startswith("0001"), a
EOF

# 3. A silence in Alertmanager suppresses the alert there.
log "silence"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
later=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S.000Z)
silence=$(curl -sf -X POST -H 'Content-Type: application/json' \
    "http://127.0.0.1:$AM_PORT/api/v2/silences" --data @- <<EOF
{"matchers": [{"name": "subject", "value": "quiet", "isRegex": false, "isEqual": true}],
 "startsAt": "$now", "endsAt": "$later", "createdBy": "test_alertmanager.sh",
 "comment": "maintenance"}
EOF
) || fail "Alertmanager refused the silence"
assert_contains "$silence" silenceID
run_capture rc "$dir/quiet.out" "$dir/quiet.err" send --key quiet
assert_eq "$rc" 0 "notify send to a silenced alert ($(cat "$dir/quiet.err"))"
curl -sf "http://127.0.0.1:$AM_PORT/api/v2/alerts?filter=subject%3D%22quiet%22" >"$dir/quiet.json" ||
    fail "cannot list Alertmanager's alerts"
assert_eq "$(json_get "$dir/quiet.json" '#')" 1 "alerts Alertmanager has for subject=quiet"
assert_eq "$(json_get "$dir/quiet.json" 0.status.state)" suppressed "the silenced alert's state"
assert_eq "$(json_get "$dir/quiet.json" '0.status.silencedBy.#')" 1 "silences on the alert"
# group_wait + a repeat_interval and some: a notification would be here.
sleep $((REPEAT_S + 2))
assert_eq "$(notifications quiet firing)" 0 "notifications of the silenced alert"
# 4. The daemon: alert rules routed to Alertmanager.
log "daemon"
DOWN_PORT=$(free_port)
cat >"$dir/d.yaml" <<EOF
storage: { path: $dir/var/d.db }
server: { enabled: false }
defaults: { interval: 300ms, timeout: 1s }
checks:
  - { name: db, kind: tcp, address: "127.0.0.1:$DOWN_PORT" }
notifiers:
  - { name: am, kind: alertmanager, urls: [http://127.0.0.1:$AM_PORT] }
alerts:
  - { name: down, when: check_down, severity: page, notify: [am] }
EOF
# Notifications whose alerts include one for check $1 with status $2.
by_check() {
    python3 - "$RECEIVED" "$1" "$2" <<'EOF'
import json, sys
path, check, status = sys.argv[1:4]
n = 0
for line in open(path):
    for a in json.loads(line).get("alerts", []):
        if a["labels"].get("check") == check and a["status"] == status:
            assert a["labels"]["alertname"] == "down" and a["labels"]["severity"] == "page", a
            n += 1
print(n)
EOF
}
has_by_check() { [ "$(by_check "$1" "$2")" -ge 1 ]; }
"$YARDSTICK" run -c "$dir/d.yaml" >"$dir/daemon.out" 2>"$dir/daemon.log" &
YS_PIDS+=("$!")
wait_for 20 "the daemon's alert through Alertmanager" has_by_check db firing
start_py_server pong "$DOWN_PORT" "$dir/pong.log"
wait_for 20 "the resolution through Alertmanager" has_by_check db resolved
log "ok"
