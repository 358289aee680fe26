# test_shard_alerts.sh - check_down alerts on checks another shard probes
# (the follower feed, src/ha/follow.c; docs/ha.md, "Sharding").
#
# Two daemons, shard 1/2 (sa-1) and 2/2 (sa-2), share one store: first a
# SQLite file, then a throwaway PostgreSQL (tests/pg/setup.sh). A
# check_down rule (no reminders) notifies a webhook receiver (python3 on
# loopback, one JSON line per POST). Two checks fail against closed ports:
# far-x-N hashes to shard 2 (FNV-1a 64, computed here independently), so
# sa-2 probes it; near-y-N hashes to shard 1. Per store:
#
#  1. sa-1 starts first and holds the lease. far-x's failures reach it only
#     through the store: its firing notification arrives while sa-1 leads
#     (without the feed it never would).
#  2. kill -9 of sa-1: sa-2 takes over and resumes both firing alerts;
#     near-y now has no prober. sa-1 restarts (same id) and follows; sa-2
#     sees near-y's failures through its own feed. Neither alert is
#     announced again.
#  3. Both targets come back: each alert resolves exactly once, near-y's
#     through sa-2's feed; each fired exactly once in all. Both daemons
#     exit cleanly on SIGTERM (a sanitizer build reports leaks that way).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir TOP
PGSTATE="$TOP/pg"
sa_cleanup() {
    local rc=$?
    stop_all # the daemons before their database
    bash "$YS_SOURCE_DIR/tests/pg/cleanup.sh" "$PGSTATE" >/dev/null 2>&1 || true
    set +e # a failing (exit) must not end the trap before ys_cleanup
    (exit "$rc")
    ys_cleanup
}
trap sa_cleanup EXIT
declare -A WEB PIDS

# shard_of NAME: FNV-1a 64 of the name's bytes % 2 + 1, as docs/ha.md says.
shard_of() {
    python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print(h % 2 + 1)' "$1"
}
# The first name PREFIX-N in shard S.
name_in_shard() {
    local n
    for n in $(seq 1 50); do
        [ "$(shard_of "$1-$n")" = "$2" ] && { echo "$1-$n"; return; }
    done
    fail "no name $1-N in shard $2"
}
FAR=$(name_in_shard far-x 2)
NEAR=$(name_in_shard near-y 1)
log "checks: $FAR (shard 2), $NEAR (shard 1)"

start_receiver() {
    python3 -u - "$HOOK_PORT" "$T/hook.jsonl" >>"$T/hook.log" 2>&1 <<'EOF' &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
    YS_PIDS+=("$!")
    wait_for 10 "the webhook receiver" port_open "$HOOK_PORT"
}

# write_config ID STORAGE_YAML
write_config() {
    cat >"$T/$1.yaml" <<EOF
storage: $2
instance: { id: $1, location: home, lease_ttl: 3s, shard: "${1#sa-}/2" }
defaults: { interval: 500ms, timeout: 1s, evaluation_interval: 1s }
server: { listen: "127.0.0.1:${WEB[$1]}" }
checks:
  - { name: $FAR, kind: tcp, address: "127.0.0.1:$PORT_X" }
  - { name: $NEAR, kind: tcp, address: "127.0.0.1:$PORT_Y" }
notifiers:
  - { name: hook, kind: webhook, url: "http://127.0.0.1:$HOOK_PORT/hook", timeout: 2s }
alerts:
  - { name: down, when: check_down, checks: [$FAR, $NEAR], notify: [hook], repeat_interval: 0 }
EOF
}

start_daemon() {
    "$YARDSTICK" run -c "$T/$1.yaml" 2>>"$T/$1.log" >/dev/null &
    PIDS[$1]=$!
    YS_PIDS+=("$!")
    wait_for 30 "the API of $1" port_open "${WEB[$1]}"
}
leads() {
    curl -fsS -m 2 "http://127.0.0.1:${WEB[$1]}/api/v1/status" 2>/dev/null | grep -q '"leader":true'
}
# count STATUS CHECK: notifications with that status naming that check.
count() {
    python3 - "$T/hook.jsonl" "$1" "$2" <<'EOF'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        b = json.loads(line)
        if b.get("status") == sys.argv[2] and b.get("labels", {}).get("check") == sys.argv[3]:
            n += 1
except FileNotFoundError:
    pass
print(n)
EOF
}
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }

# scenario STORAGE_YAML NAME: the three steps over one store, in a folder
# of its own with fresh ports; stops everything it started.
scenario() {
    T="$TOP/$2"
    mkdir -p "$T"
    HOOK_PORT=$(free_port)
    PORT_X=$(free_port)
    PORT_Y=$(free_port)
    local id
    for id in sa-1 sa-2; do
        WEB[$id]=$(free_port)
        write_config "$id" "$1"
    done
    start_receiver

    # ---- 1. sa-1 leads; far-x (sa-2's) fires through the feed.
    start_daemon sa-1
    wait_for 15 "sa-1 to lead" leads sa-1
    start_daemon sa-2
    wait_for 30 "the firing of $NEAR (probed by the leader)" at_least firing "$NEAR" 1
    wait_for 30 "the firing of $FAR (probed by sa-2, followed by sa-1)" at_least firing "$FAR" 1
    leads sa-1 || fail "$2: sa-1 lost the lease before $FAR fired"
    leads sa-2 && fail "$2: sa-2 leads beside sa-1"
    local probed
    probed=$(curl -fsS "http://127.0.0.1:${WEB[sa-1]}/api/v1/checks" | python3 -c '
import json, sys
print({c["name"]: c["probed_here"] for c in json.load(sys.stdin)["checks"]}[sys.argv[1]])' "$FAR")
    assert_eq "$probed" "False" "$2: $FAR probed_here on sa-1"

    # ---- 2. kill -9 the leader; sa-2 takes over; sa-1 comes back to follow.
    kill -KILL "${PIDS[sa-1]}"
    wait "${PIDS[sa-1]}" 2>/dev/null || true
    forget_pid "${PIDS[sa-1]}"
    wait_for 20 "sa-2 to take over" leads sa-2
    start_daemon sa-1
    sleep 6 # sa-2 follows near-y's fresh failures; nothing is announced again
    leads sa-2 || fail "$2: sa-2 lost the lease to the restarted sa-1"
    assert_eq "$(count firing "$FAR")" 1 "$2: firing notifications of $FAR after the takeover"
    assert_eq "$(count firing "$NEAR")" 1 "$2: firing notifications of $NEAR after the takeover"
    assert_eq "$(count resolved "$NEAR")" 0 "$2: resolutions of $NEAR while it still fails"

    # ---- 3. recovery: one resolution each, near-y's through sa-2's feed.
    start_py_server pong "$PORT_X" "$T/pong-x.log"
    start_py_server pong "$PORT_Y" "$T/pong-y.log"
    wait_for 30 "the resolution of $FAR" at_least resolved "$FAR" 1
    wait_for 30 "the resolution of $NEAR (followed by sa-2)" at_least resolved "$NEAR" 1
    sleep 3
    assert_eq "$(count resolved "$FAR")" 1 "$2: resolutions of $FAR"
    assert_eq "$(count resolved "$NEAR")" 1 "$2: resolutions of $NEAR"
    assert_eq "$(count firing "$FAR")" 1 "$2: firing notifications of $FAR in all"
    assert_eq "$(count firing "$NEAR")" 1 "$2: firing notifications of $NEAR in all"
    grep -q "following other shards" "$T/sa-2.log" || fail "$2: sa-2 never started its feed"
    for id in sa-2 sa-1; do
        term_wait "${PIDS[$id]}" 20
        assert_eq "$TERM_RC" 0 "$2: exit code of $id after SIGTERM"
    done
    stop_all
    log "$2: PASS"
}

scenario "{ path: \"$TOP/sqlite/shared.db\" }" sqlite
bash "$YS_SOURCE_DIR/tests/pg/setup.sh" "$PGSTATE" >"$TOP/pg-setup.log" 2>&1 ||
    fail "cannot start PostgreSQL: $(cat "$TOP/pg-setup.log")"
scenario "{ kind: postgres, dsn: \"$(cat "$PGSTATE/dsn")\" }" postgres
log "PASS"
