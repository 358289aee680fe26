# test_heartbeat_ha.sh - heartbeat checks with two daemons on one store
# (live/heartbeats.c, ha/hb_feed.c; docs/ha.md, "Heartbeats").
#
# hb-1 and hb-2 share one store: first a SQLite file, then a throwaway
# PostgreSQL (tests/pg/setup.sh). One heartbeat check (period 2s, grace
# 1s) and a heartbeat alert (no reminders) to a webhook receiver (python3
# on loopback, one JSON line per POST). Per store:
#
#  1. hb-1 starts first and holds the lease. A job pings only hb-2 (the
#     follower) every second for ~10 s: the leader judges the slots from
#     the pings hb-2 stored, so nothing fires, and the check's stored
#     results are all ok, one per slot (no two within half a period: one
#     writer), about one per ping.
#  2. The pings stop: exactly one "missed" notification, from the leader.
#  3. kill -9 of hb-1: hb-2 takes over, rebuilds its trackers from the
#     store and does not announce the miss again; its missed slots go on
#     with no two results for one slot. Both exit cleanly on SIGTERM.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v curl >/dev/null || fail "curl is required"
ys_tmpdir TOP
PGSTATE="$TOP/pg"
hh_cleanup() {
    local rc=$?
    stop_all # the daemons before their database
    bash "$YS_SOURCE_DIR/tests/pg/cleanup.sh" "$PGSTATE" >/dev/null 2>&1 || true
    set +e
    (exit "$rc")
    ys_cleanup
}
trap hh_cleanup EXIT
declare -A WEB PIDS
CHECK=nightly-job

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
instance: { id: $1, location: home, lease_ttl: 3s }
defaults: { evaluation_interval: 1s }
server: { listen: "127.0.0.1:${WEB[$1]}" }
checks:
  - { name: $CHECK, kind: heartbeat, period: 2s, grace: 1s }
notifiers:
  - { name: hook, kind: webhook, url: "http://127.0.0.1:$HOOK_PORT/hook", timeout: 2s }
alerts:
  - { name: job, when: heartbeat, problems: [missed], checks: [$CHECK], notify: [hook],
      repeat_interval: 0 }
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
# firing: notifications with status firing naming the check.
firing() {
    python3 - "$T/hook.jsonl" "$CHECK" <<'EOF'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        b = json.loads(line)
        if b.get("status") == "firing" and b.get("labels", {}).get("check") == sys.argv[2]:
            n += 1
except FileNotFoundError:
    pass
print(n)
EOF
}
fired() { [ "$(firing)" -ge 1 ]; }
# results: the check's stored results as "OK FAILED CLOSEST_GAP_MS".
results() {
    "$YARDSTICK" history "$CHECK" -c "$T/hb-1.yaml" --since 1h --format json >"$T/hist.json" \
        2>"$T/hist.err" || fail "history failed: $(cat "$T/hist.err")"
    python3 - "$T/hist.json" <<'EOF'
import json, sys
rows = sorted(json.load(open(sys.argv[1])), key=lambda r: r["ts_ms"])
ok = sum(1 for r in rows if r["ok"])
gaps = [b["ts_ms"] - a["ts_ms"] for a, b in zip(rows, rows[1:])]
print(ok, len(rows) - ok, min(gaps) if gaps else 99999)
EOF
}

# scenario STORAGE_YAML NAME: the three steps over one store, in a folder
# of its own with fresh ports; stops everything it started.
scenario() {
    T="$TOP/$2"
    mkdir -p "$T"
    HOOK_PORT=$(free_port)
    local id
    for id in hb-1 hb-2; do
        WEB[$id]=$(free_port)
        write_config "$id" "$1"
    done
    start_receiver
    start_daemon hb-1
    wait_for 15 "hb-1 to lead" leads hb-1
    start_daemon hb-2
    leads hb-2 && fail "$2: hb-2 leads beside hb-1"

    # ---- 1. pings to the follower only: the leader sees them.
    local i code
    for i in $(seq 1 10); do
        code=$(curl -s -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:${WEB[hb-2]}/ping/$CHECK" || echo curl-failed)
        assert_eq "$code" 200 "$2: ping $i to hb-2"
        sleep 1
    done
    leads hb-1 || fail "$2: hb-1 lost the lease while the job pinged"
    assert_eq "$(firing)" 0 "$2: missed notifications while the job pinged the follower"
    local ok failed gap
    read -r ok failed gap <<<"$(results)"
    log "$2: while pinged: $ok ok, $failed failed, closest results ${gap} ms apart"
    assert_eq "$failed" 0 "$2: failed (missed) slots while the job pinged the follower"
    assert_between "$ok" 8 11 "$2: ok slots for 10 pings a second apart"
    [ "$gap" -ge 900 ] || fail "$2: two results ${gap} ms apart: a slot judged twice"

    # ---- 2. the pings stop: one miss, announced once by the leader.
    wait_for 10 "the missed notification" fired
    sleep 3 # more missed slots; the problem stays, nothing is announced again
    assert_eq "$(firing)" 1 "$2: missed notifications after the pings stopped"

    # ---- 3. the leader dies; hb-2 takes over and stays quiet.
    kill -KILL "${PIDS[hb-1]}"
    wait "${PIDS[hb-1]}" 2>/dev/null || true
    forget_pid "${PIDS[hb-1]}"
    wait_for 20 "hb-2 to take over" leads hb-2
    sleep 6 # hb-2 judges the missed slots now
    assert_eq "$(firing)" 1 "$2: missed notifications after the takeover"
    read -r ok failed gap <<<"$(results)"
    log "$2: in all: $ok ok, $failed failed, closest results ${gap} ms apart"
    [ "$failed" -ge 3 ] || fail "$2: only $failed missed slots stored across the takeover"
    [ "$gap" -ge 900 ] || fail "$2: two results ${gap} ms apart: a slot judged twice"
    term_wait "${PIDS[hb-2]}" 20
    assert_eq "$TERM_RC" 0 "$2: exit code of hb-2 after SIGTERM"
    stop_all
    log "$2: PASS"
}

scenario "{ path: \"$TOP/sqlite/shared.db\" }" sqlite
bash "$YS_SOURCE_DIR/tests/pg/setup.sh" "$PGSTATE" >"$TOP/pg-setup.log" 2>&1 ||
    fail "cannot start PostgreSQL: $(cat "$TOP/pg-setup.log")"
scenario "{ kind: postgres, dsn: \"$(cat "$PGSTATE/dsn")\" }" postgres
log "PASS"
