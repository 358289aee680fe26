# test_locations.sh - one check probed from three locations, k-of-n verdict.
#
# A real PostgreSQL (tests/pg/setup.sh, its own folder and loopback port)
# is shared by three daemons, home, eu-west and us-east (instance:
# { id, location }), each with its own API port. Their check `api` has
# locations [home, eu-west, us-east] and down_when { failing: 2 }; its URL
# comes from ${API_URL}, which differs per daemon: home and us-east reach
# an nginx each, eu-west a closed port (its own network trouble).
#
#  1. With one location failing, the combined series `api` stays ok (its
#     facts name eu-west's failure), while every location's results are in
#     its own series (`history api@eu-west`), and no check_down alert.
#  2. us-east's nginx stops: two of three fail, the combined series goes
#     down and the check_down alert fires once, to the test's webhook
#     receiver (sent by the lease holder only).
#  3. GET /api/v1/checks/api shows each location's last result.
#  4. kill -9 of the lease holder: another daemon takes the lease and its
#     combiner goes on from the newest combined result in the store, so
#     the combined series has exactly one result per slot, no gap, no
#     double, across the handover.
#  5. After the daemons stop, the SLO over `api` counts the combined
#     results (one per slot), not the per-location ones.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
PG_STATE="$T/pg"
# The PostgreSQL that setup.sh starts is no child of ours: cleanup.sh stops
# it by the PID setup.sh wrote, after our daemons and before lib.sh's
# cleanup (errexit off first: the trap re-raises the test's status for it).
trap 'rc=$?; set +e; stop_all; bash "$YS_SOURCE_DIR/tests/pg/cleanup.sh" "$PG_STATE" >/dev/null 2>&1; (exit $rc); ys_cleanup' EXIT

bash "$YS_SOURCE_DIR/tests/pg/setup.sh" "$PG_STATE" >"$T/pg-setup.log" 2>&1 ||
    fail "cannot start PostgreSQL: $(cat "$T/pg-setup.log")"
DSN=$(cat "$PG_STATE/dsn")

HOME_PORT=$(free_port)
US_PORT=$(free_port)
CLOSED_PORT=$(free_port)
HOOK_PORT=$(free_port)
for loc in home eu-west us-east; do
    printf -v "WEB_${loc//-/_}" '%s' "$(free_port)"
done

mkdir -p "$T/ng-home" "$T/ng-us"
echo "server { listen 127.0.0.1:$HOME_PORT; location / { return 200 'ok'; } }" >"$T/ng-home/servers.conf"
echo "server { listen 127.0.0.1:$US_PORT; location / { return 200 'ok'; } }" >"$T/ng-us/servers.conf"
start_nginx "$T/ng-home" "$HOME_PORT"
start_nginx "$T/ng-us" "$US_PORT"
US_NGINX_PID=$NGINX_PID

# The receiver: one JSON line per POST, 200 to each.
python3 -u - "$HOOK_PORT" "$T/hook.jsonl" >>"$T/hook.log" 2>&1 <<'EOF' &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "body": json.loads(body)}) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
YS_PIDS+=("$!")
wait_for 10 "the webhook receiver" port_open "$HOOK_PORT"

# One config for all three; what differs comes from the environment.
cat >"$T/cfg.yaml" <<EOF
storage: { kind: postgres, dsn: "\${PG_DSN}" }
instance: { id: "\${YS_ID}", location: "\${YS_LOCATION}", lease_ttl: 3s }
defaults: { interval: 1s, timeout: 500ms, evaluation_interval: 1s }
server: { listen: "127.0.0.1:\${WEB_PORT}" }
checks:
  - name: api
    kind: http
    url: "\${API_URL}"
    locations: [home, eu-west, us-east]
    down_when: { failing: 2 }
slos:
  - { name: api-availability, checks: [api], objective: 99% }
notifiers:
  - { name: hook, kind: webhook, url: "http://127.0.0.1:$HOOK_PORT/hook", max_age: 10m }
alerts:
  - { name: down, when: check_down, checks: [api], notify: [hook], repeat_interval: never }
EOF

declare -A PIDS
start_daemon() {
    local loc=$1 url=$2 port_var="WEB_${1//-/_}"
    PG_DSN=$DSN YS_ID="ys-$loc" YS_LOCATION=$loc WEB_PORT=${!port_var} API_URL=$url \
        "$YARDSTICK" run -c "$T/cfg.yaml" 2>>"$T/daemon-$loc.log" >/dev/null &
    PIDS[$loc]=$!
    YS_PIDS+=("$!")
}
start_daemon home "http://127.0.0.1:$HOME_PORT/"
start_daemon eu-west "http://127.0.0.1:$CLOSED_PORT/"
start_daemon us-east "http://127.0.0.1:$US_PORT/"
for loc in home eu-west us-east; do
    port_var="WEB_${loc//-/_}"
    wait_for 30 "the $loc daemon's API" port_open "${!port_var}"
done

# history NAME: the raw results of series NAME in the last hour, as JSON.
history() {
    PG_DSN=$DSN YS_ID=cli YS_LOCATION=home WEB_PORT=1 API_URL=http://127.0.0.1:1/ \
        "$YARDSTICK" history "$1" -c "$T/cfg.yaml" --since 1h --resolution raw --format json
}
# count_results NAME [ok|failed]: how many results series NAME has.
count_results() {
    history "$1" | python3 -c '
import json, sys
rows, want = json.load(sys.stdin), sys.argv[1]
print(sum(1 for r in rows if want == "any" or (want == "ok") == r["ok"]))' "${2:-any}"
}
at_least_results() { [ "$(count_results "$2" "${3:-any}")" -ge "$1" ]; }
firing() {
    python3 - "$T/hook.jsonl" <<'EOF'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        try:
            b = json.loads(line)["body"]
        except ValueError:
            continue
        n += b.get("key") == "down/api" and b.get("status") == "firing"
except FileNotFoundError:
    pass
print(n)
EOF
}
firing_at_least() { [ "$(firing)" -ge "$1" ]; }

# --- 1. eu-west fails alone: the verdict stays ok.
wait_for 60 "8 combined results of api" at_least_results 8 api
sleep 2
assert_num "$(count_results api@eu-west failed)" -ge 5 "eu-west's own failures in api@eu-west"
assert_eq "$(count_results api@eu-west ok)" 0 "eu-west never reaches its (closed) port"
assert_num "$(count_results api@home ok)" -ge 5 "home's results in api@home"
assert_num "$(count_results api@us-east ok)" -ge 5 "us-east's results in api@us-east"
assert_eq "$(count_results api failed)" 0 "combined results failing with one location down"
last=$(history api | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1])')
assert_contains "$last" "eu-west" "the combined result names the failing location"
assert_contains "$last" "'home': 'ok'" "the combined facts carry every location's verdict"
assert_eq "$(firing)" 0 "check_down notifications with one location failing"

# --- 3. the API: each location's last result (any daemon reads the store).
doc=$(curl -fsS "http://127.0.0.1:$WEB_home/api/v1/checks/api")
echo "$doc" | python3 -c '
import json, sys
locs = {l["location"]: l for l in json.load(sys.stdin)["check"]["locations"]}
assert set(locs) == {"home", "eu-west", "us-east"}, locs
assert locs["home"]["last"]["ok"] is True, locs["home"]
assert locs["eu-west"]["last"]["ok"] is False, locs["eu-west"]
assert locs["us-east"]["series"] == "api@us-east", locs["us-east"]
' || fail "GET /api/v1/checks/api: per-location last results: $doc"

# --- 2. us-east's target goes away: two of three fail, the check is down.
kill -TERM "$US_NGINX_PID"
wait "$US_NGINX_PID" 2>/dev/null || true
forget_pid "$US_NGINX_PID"
wait_for 40 "a firing check_down notification for api" firing_at_least 1
wait_for 20 "failing combined results" at_least_results 2 api failed
down=$(history api | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if not r["ok"]]
print(rows[-1])')
assert_contains "$down" "down in 2 of 3 locations" "the combined verdict says k of n"
assert_contains "$down" "us-east" "the combined verdict names us-east"
sleep 3
assert_eq "$(firing)" 1 "firing notifications (one, from the lease holder only)"

# --- 4. failover: kill -9 the holder; the next one combines on.
leader=""
for loc in home eu-west us-east; do
    grep -q "holds the notifier lease" "$T/daemon-$loc.log" && leader=$loc
done
[ -n "$leader" ] || fail "no daemon says it holds the notifier lease"
before=$(count_results api)
kill -KILL "${PIDS[$leader]}"
wait "${PIDS[$leader]}" 2>/dev/null || true
forget_pid "${PIDS[$leader]}"
log "killed the lease holder ($leader) at $before combined results"
wait_for 60 "combined results after the handover" at_least_results $((before + 8)) api
history api | python3 -c '
import json, sys
ts = [r["ts_ms"] for r in json.load(sys.stdin)]
gaps = [(a, b) for a, b in zip(ts, ts[1:]) if b - a != 1000]
assert len(set(ts)) == len(ts), "a slot combined twice: %r" % ts
assert not gaps, "slots missing or doubled around: %r" % gaps
' || fail "the combined series across the handover (one result per 1 s slot)"

# --- 5. the SLO counts the combined series, one event per slot.
for loc in home eu-west us-east; do
    [ "$loc" = "$leader" ] || term_wait "${PIDS[$loc]}" 15
done
combined=$(count_results api)
per_loc=$(($(count_results api@home) + $(count_results api@eu-west) + $(count_results api@us-east)))
total=$(PG_DSN=$DSN YS_ID=cli YS_LOCATION=home WEB_PORT=1 API_URL=http://127.0.0.1:1/ \
    "$YARDSTICK" report -c "$T/cfg.yaml" --format json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print([s for s in d["slos"] if s["name"]=="api-availability"][0]["total"])')
assert_eq "$total" "$combined" "SLO events (the combined results of api)"
assert_num "$per_loc" -ge $((2 * combined)) "per-location results (three series beside the verdict)"
log "combined=$combined per-location=$per_loc slo_total=$total"
