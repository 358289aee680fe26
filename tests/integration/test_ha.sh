# test_ha.sh - several daemons sharing one PostgreSQL (docs/ha.md): the
# notifier lease with failover, and sharding.
#
#  1. Three daemons (instance ids ha-a, ha-b, ha-c, their own HTTP ports)
#     share a throwaway PostgreSQL (tests/pg/setup.sh). Four checks fail
#     against closed ports; a check_down rule notifies a webhook receiver
#     (python3 on loopback, logging X-Yardstick-Delivery and the body)
#     and reminds every 2 s, so notifications flow all the time.
#     Exactly one daemon says it leads (/api/v1/status, /metrics).
#  2. Kill -9 of the leader while the receiver is down (rows pending in
#     the shared outbox), then kill -9 of the next leader with the
#     receiver up. Each time another daemon takes over within 30 s
#     (measured from the kill to its /api/v1/status saying so, printed).
#  3. The checks recover; once the outbox has nothing pending, every
#     outbox row was received, and duplicates (the same delivery id
#     twice) number at most one per kill: the at-least-once window of a
#     row in flight when its deliverer died (its HTTP request answered,
#     its "delivered" not yet committed). No alert is announced twice
#     (one firing_at per alert), and each alert's resolution arrives.
#  5. One writer per partition (run with 1 and 2): the three daemons
#     have the same partition (location home, no shard), so exactly one
#     says "probing":true (the leader: the notifier lease is gated on
#     the partition lease) and the others stand by. The stored raw
#     history of a check has one prober's rate, no two results closer
#     than 300 ms (two probers fire at the same phase), and the minute
#     rollups count every raw result (the cached rollup of a second
#     writer would lose counts). After kill -9 of the prober another
#     takes over within 4/3 ttl (8 s; measured, printed) and results
#     flow again; never two probers at once.
#     Each check's outage spans both kills, and the store holds one
#     incident per check (the new prober resumes the open incident).
#  4. Sharding: with shard 1/2 alone, exactly the checks whose FNV-1a 64
#     hash (computed here, independently) % 2 == 0 get results in the
#     store; with 1/2 and 2/2 both running, every check gets results at
#     one prober's rate (not two), and /api/v1/checks lists every check
#     on both daemons, probed_here true on exactly one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
PGSTATE="$T/pg"
ha_cleanup() {
    local rc=$?
    stop_all # the daemons before their database
    bash "$YS_SOURCE_DIR/tests/pg/cleanup.sh" "$PGSTATE" >/dev/null 2>&1 || true
    set +e # a failing (exit) must not end the trap before ys_cleanup
    (exit "$rc")
    ys_cleanup
}
trap ha_cleanup EXIT

bash "$YS_SOURCE_DIR/tests/pg/setup.sh" "$PGSTATE" >"$T/pg-setup.log" 2>&1 ||
    fail "cannot start PostgreSQL: $(cat "$T/pg-setup.log")"
DSN=$(cat "$PGSTATE/dsn")
sql() { psql "$DSN" -XAtq -c "$1"; }

HOOK_PORT=$(free_port)
DOWN_PORTS=()
for _ in 1 2 3 4; do DOWN_PORTS+=("$(free_port)"); done
IDS=(ha-a ha-b ha-c)
declare -A WEB PIDS

# The receiver: one JSON line per POST: the delivery id and the body.
start_receiver() {
    python3 -u - "$HOOK_PORT" "$T/hook.jsonl" >>"$T/hook.log" 2>&1 <<'EOF' &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"id": self.headers.get("X-Yardstick-Delivery"),
                                "body": json.loads(body)}) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
    RECV_PID=$!
    YS_PIDS+=("$RECV_PID")
    wait_for 10 "the webhook receiver" port_open "$HOOK_PORT"
}
stop_receiver() {
    kill "$RECV_PID"
    wait "$RECV_PID" 2>/dev/null || true
    forget_pid "$RECV_PID"
}

# write_config ID PORT EXTRA_INSTANCE CHECKS_YAML ALERTS_YAML
write_config() {
    cat >"$T/$1.yaml" <<EOF
storage: { kind: postgres, dsn: "$DSN" }
instance: { id: $1, location: home, lease_ttl: 6s $3 }
defaults: { interval: 500ms, timeout: 1s, evaluation_interval: 1s }
server: { listen: "127.0.0.1:$2" }
checks:
$4
notifiers:
  - { name: hook, kind: webhook, url: "http://127.0.0.1:$HOOK_PORT/hook", timeout: 2s,
      max_age: 10m }
$5
EOF
}

start_daemon() {
    local id=$1
    "$YARDSTICK" run -c "$T/$id.yaml" 2>>"$T/$id.log" >/dev/null &
    PIDS[$id]=$!
    YS_PIDS+=("$!")
    wait_for 30 "the API of $id" port_open "${WEB[$id]}"
}

kill9() {
    local id=$1
    kill -KILL "${PIDS[$id]}"
    wait "${PIDS[$id]}" 2>/dev/null || true
    forget_pid "${PIDS[$id]}"
    unset "PIDS[$id]"
}

# Prints the ids of the running daemons that say they lead, space-separated.
leaders() {
    local id out=""
    for id in "${!PIDS[@]}"; do
        if curl -fsS -m 2 "http://127.0.0.1:${WEB[$id]}/api/v1/status" 2>/dev/null |
            grep -q '"leader":true'; then
            out+="$id "
        fi
    done
    printf '%s' "${out% }"
}
one_leader() { [ -n "$(leaders)" ] && [ "$(leaders | wc -w)" -eq 1 ]; }
# Prints the ids of the running daemons that probe their partition.
probers() {
    local id out=""
    for id in "${!PIDS[@]}"; do
        if curl -fsS -m 2 "http://127.0.0.1:${WEB[$id]}/api/v1/status" 2>/dev/null |
            grep -q '"probing":true'; then
            out+="$id "
        fi
    done
    printf '%s' "${out% }"
}
# Polls until a daemon other than the killed one probes; prints seconds.
takeover_time() {
    local t0=$1 end=$((SECONDS + 40)) p
    while [ "$SECONDS" -lt "$end" ]; do
        p=$(probers)
        [ "$(wc -w <<<"$p")" -le 1 ] || fail "two daemons probe one partition at once: $p"
        if [ -n "$p" ]; then
            python3 -c "import time; print(f'{time.time() - $t0:.1f}')"
            return 0
        fi
        sleep 0.2
    done
    echo 999
}
# history_check NAME SINCE CONFIG: "RAW MINGAP_MS ROLLUP_COUNT ALL_RAW" of
# check NAME: raw results in the last SINCE, the smallest gap between two
# of them, the count the minute rollups hold for the last hour and the
# raw results of the last hour.
history_check() {
    local raw minute all
    raw=$("$YARDSTICK" history "$1" -c "$3" --since "$2" --resolution raw --format json 2>/dev/null)
    minute=$("$YARDSTICK" history "$1" -c "$3" --since 1h --resolution minute --format json \
        2>/dev/null)
    all=$("$YARDSTICK" history "$1" -c "$3" --since 1h --resolution raw --format json 2>/dev/null)
    python3 - "$raw" "$minute" "$all" <<'EOF'
import json, sys
raw, minute, allraw = (json.loads(a) for a in sys.argv[1:4])
ts = sorted(r["ts_ms"] for r in raw)
gap = min((b - a for a, b in zip(ts, ts[1:])), default=999999)
print(len(raw), gap, sum(m.get("total", 0) for m in minute), len(allraw))
EOF
}

# Polls until a daemon other than the killed one leads; prints seconds.
failover_time() {
    local t0=$1 end=$((SECONDS + 40)) l
    while [ "$SECONDS" -lt "$end" ]; do
        l=$(leaders)
        [ "$(wc -w <<<"$l")" -le 1 ] || fail "two daemons lead at once: $l"
        if [ -n "$l" ]; then
            python3 -c "import time; print(f'{time.time() - $t0:.1f}')"
            return 0
        fi
        sleep 0.2
    done
    echo 999
}

# Notifications received: total lines, unique delivery ids.
received() { [ -f "$T/hook.jsonl" ] && wc -l <"$T/hook.jsonl" || echo 0; }
firing_keys() {
    python3 - "$T/hook.jsonl" <<'EOF'
import json, sys
keys = set()
try:
    for line in open(sys.argv[1]):
        try:
            b = json.loads(line)["body"]
        except ValueError:
            continue
        if b.get("status") == "firing":
            keys.add(b.get("key"))
except FileNotFoundError:
    pass
print(len(keys))
EOF
}

# ---- 1. three daemons, one leader.
CHECKS=""
for i in 1 2 3 4; do
    CHECKS+="  - { name: down$i, kind: tcp, address: \"127.0.0.1:${DOWN_PORTS[i - 1]}\" }"$'\n'
done
ALERTS="alerts:
  - { name: down, when: check_down, checks: [down1, down2, down3, down4], notify: [hook],
      repeat_interval: 2s }"
for id in "${IDS[@]}"; do
    WEB[$id]=$(free_port)
    write_config "$id" "${WEB[$id]}" "" "$CHECKS" "$ALERTS"
done
start_receiver
for id in "${IDS[@]}"; do start_daemon "$id"; done
wait_for 20 "one leader among three" one_leader
LEADER=$(leaders)
log "leader: $LEADER"
metrics=$(curl -fsS "http://127.0.0.1:${WEB[$LEADER]}/metrics")
assert_contains "$metrics" "yardstick_instance_leader 1" "/metrics of the leader"
for id in "${IDS[@]}"; do
    [ "$id" = "$LEADER" ] && continue
    m=$(curl -fsS "http://127.0.0.1:${WEB[$id]}/metrics")
    assert_contains "$m" "yardstick_instance_leader 0" "/metrics of follower $id"
done
four_firing() { [ "$(firing_keys)" -ge 4 ]; }
wait_for 30 "firing notifications for the four checks" four_firing

# ---- 5 (first half). One partition, three daemons: one prober.
PROBER=$(probers)
assert_eq "$PROBER" "$LEADER" "the daemon probing the shared partition (the leader)"
for id in "${IDS[@]}"; do
    [ "$id" = "$LEADER" ] && continue
    st=$(curl -fsS "http://127.0.0.1:${WEB[$id]}/api/v1/status")
    assert_contains "$st" '"partition":"probe/home/0-0"' "/api/v1/status of $id names its partition"
    assert_contains "$st" '"probing":false' "/api/v1/status of standby $id"
    grep -q "standing by" "$T/$id.log" || fail "$id does not log that it stands by"
done
sleep 5
read -r RAW GAP ROLL ALL <<<"$(history_check down1 5s "$T/ha-a.yaml")"
log "down1: $RAW results in 5 s, smallest gap $GAP ms; rollups count $ROLL of $ALL raw"
# One prober at 500 ms: about 10 in 5 s; three would make about 30.
assert_between "$RAW" 6 13 "results of down1 in the last 5 s (one prober of three daemons)"
assert_num "$GAP" -ge 300 "smallest gap between two stored results of down1 (ms)"
# The open minute's rollup may lag its raw results by a flush or two.
assert_between "$ROLL" $((ALL - 4)) "$ALL" "minute rollup count of down1 vs its raw results"
# Nothing lost: every result a daemon committed (its writer's counter;
# two writers of one series overwrite each other's chunk and rollups,
# which a rate alone does not show) is in the store, read back both as
# the chunks' counts and decoded by `yardstick history`. Read in that
# order, so each later count may only be larger (8 results/s arrive).
W=0
for id in "${IDS[@]}"; do
    w=$(curl -fsS "http://127.0.0.1:${WEB[$id]}/metrics" |
        sed -nE 's/^yardstick_store_results_written_total ([0-9]+)$/\1/p')
    W=$((W + ${w:-0}))
done
S=$(sql "SELECT coalesce(sum(n), 0) FROM chunk")
D=0
for i in 1 2 3 4; do
    D=$((D + $(history_check "down$i" 1s "$T/ha-a.yaml" | cut -d' ' -f4)))
done
log "results committed by the three daemons: $W; in the store: $S (chunk counts), $D (decoded)"
assert_between "$S" "$W" $((W + 24)) "results in the store's chunks vs results committed"
assert_between "$D" "$S" $((S + 24)) "results decoded from the store vs the chunks' counts"

# ---- 2. kill -9 the leader with rows pending, then the next one.
pending_tried() { [ "$(sql "SELECT count(*) FROM outbox WHERE state = 0 AND attempts >= 1")" -ge 1 ]; }
stop_receiver
wait_for 20 "a notification pending in the outbox (receiver down)" pending_tried
t0=$(date +%s.%N)
kill9 "$LEADER"
log "killed $LEADER (kill -9) with $(sql "SELECT count(*) FROM outbox WHERE state = 0") rows pending"
P1=$(takeover_time "$t0")
log "probing takeover: $(probers) probes after ${P1}s"
assert_between "$P1" 0 10 "seconds until a standby probes after kill -9 of the prober (ttl 6 s)"
start_receiver
F1=$(failover_time "$t0")
NEW=$(leaders)
log "failover 1: $NEW took over after ${F1}s"
assert_between "$F1" 0 30 "seconds until another daemon leads after kill -9 (receiver down)"
assert_ne "$NEW" "$LEADER" "the new leader"
before=$(received)
more_than() { [ "$(received)" -gt "$1" ]; }
wait_for 30 "notifications flowing from the new leader" more_than "$before"

t0=$(date +%s.%N)
kill9 "$NEW"
F2=$(failover_time "$t0")
LAST=$(leaders)
log "failover 2: $LAST took over after ${F2}s"
assert_between "$F2" 0 30 "seconds until another daemon leads after the second kill -9"
m=$(curl -fsS "http://127.0.0.1:${WEB[$LAST]}/metrics")
changes=$(printf '%s\n' "$m" | sed -nE 's/^yardstick_lease_changes_total ([0-9]+)$/\1/p')
assert_num "${changes:-0}" -ge 1 "/metrics: lease changes of the daemon that took over"

# ---- 3. recovery, then every notification once (up to the kill windows).
for p in "${DOWN_PORTS[@]}"; do start_py_server pong "$p" "$T/pong-$p.log"; done
resolved_all() {
    python3 - "$T/hook.jsonl" <<'EOF'
import json, sys
keys = set()
for line in open(sys.argv[1]):
    try:
        b = json.loads(line)["body"]
    except ValueError:
        continue
    if b.get("status") == "resolved":
        keys.add(b.get("key"))
sys.exit(0 if len(keys) >= 4 else 1)
EOF
}
wait_for 60 "the four resolutions" resolved_all
drained() { [ "$(sql "SELECT count(*) FROM outbox WHERE state = 0")" -eq 0 ]; }
wait_for 60 "an empty outbox" drained
sleep 1
sql "SELECT id FROM outbox WHERE notifier = 'hook' ORDER BY id" >"$T/outbox.ids"
given_up=$(sql "SELECT count(*) FROM outbox WHERE state = 2")
assert_eq "$given_up" 0 "notifications given up"
python3 - "$T/hook.jsonl" "$T/outbox.ids" "$T/report.txt" <<'EOF'
import collections, json, sys
recv = collections.Counter()
firing_at = collections.defaultdict(set)
for line in open(sys.argv[1]):
    rec = json.loads(line)
    recv[rec["id"]] += 1
    b = rec["body"]
    if b.get("status") == "firing" and not b.get("repeat"):
        firing_at[b["key"]].add(b.get("firing_at"))
rows = [l.strip() for l in open(sys.argv[2]) if l.strip()]
missing = [r for r in rows if r not in recv]
dups = sum(n - 1 for n in recv.values())
announced_twice = {k: sorted(v) for k, v in firing_at.items() if len(v) > 1}
with open(sys.argv[3], "w") as f:
    f.write(f"{len(rows)} {len(recv)} {len(missing)} {dups} {len(announced_twice)}\n")
    f.write(f"missing={missing[:10]} twice={[i for i, n in recv.items() if n > 1]} "
            f"announced_twice={announced_twice}\n")
EOF
read -r ROWS UNIQUE MISSING DUPS TWICE <"$T/report.txt"
log "outbox rows: $ROWS, unique deliveries received: $UNIQUE, missing: $MISSING," \
    "duplicates: $DUPS (2 kills), alerts announced twice: $TWICE"
[ "$MISSING" -eq 0 ] || fail "notifications never received: $(tail -n 1 "$T/report.txt")"
assert_num "$ROWS" -ge 8 "outbox rows (four firings, reminders, four resolutions)"
assert_eq "$UNIQUE" "$ROWS" "unique delivery ids received vs outbox rows"
assert_num "$DUPS" -le 2 "deliveries received twice (at most one in flight per kill)"
assert_eq "$TWICE" 0 "alerts announced twice across the handovers"
# The outage of each check spanned both kills: one incident each (the
# prober that takes over a partition resumes the incidents left open).
for i in 1 2 3 4; do
    n=$(sql "SELECT count(*) FROM incident i JOIN checks c ON c.id = i.check_id
             WHERE c.name = 'down$i'")
    assert_eq "$n" 1 "incidents of down$i across two failovers"
done
# Clean exits (a sanitizer build reports leaks through the exit code):
# the survivors went through follow -> lead, one of them twice.
stop_daemons() {
    local id
    for id in "${!PIDS[@]}"; do
        term_wait "${PIDS[$id]}" 20
        assert_eq "$TERM_RC" 0 "exit code of $id after SIGTERM"
    done
}
stop_daemons
stop_all

# ---- 4. sharding: 1/2 alone, then 1/2 and 2/2.
start_py_server pong "${DOWN_PORTS[0]}" "$T/pong-shard.log"
NAMES=(s-alpha s-bravo s-charlie s-delta s-echo s-foxtrot s-golf s-hotel)
SCHECKS=""
for n in "${NAMES[@]}"; do
    SCHECKS+="  - { name: $n, kind: tcp, address: \"127.0.0.1:${DOWN_PORTS[0]}\", interval: 1s }"$'\n'
done
unset PIDS
declare -A PIDS
WEB[sh-1]=$(free_port)
WEB[sh-2]=$(free_port)
write_config sh-1 "${WEB[sh-1]}" ', shard: "1/2"' "$SCHECKS" ""
write_config sh-2 "${WEB[sh-2]}" ', shard: "2/2"' "$SCHECKS" ""
# shard_of NAME: FNV-1a 64 of the name's bytes % 2 + 1, as docs/ha.md says.
shard_of() {
    python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print(h % 2 + 1)' "$1"
}
results() { # results NAME SINCE: results of check NAME in the store
    "$YARDSTICK" history "$1" -c "$T/sh-1.yaml" --since "$2" --resolution raw --format json 2>/dev/null |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0
}
start_daemon sh-1
sleep 4
declare -A SHARD
n1=0
for n in "${NAMES[@]}"; do
    SHARD[$n]=$(shard_of "$n")
    got=$(results "$n" 1h)
    if [ "${SHARD[$n]}" = 1 ]; then
        n1=$((n1 + 1))
        assert_num "$got" -ge 2 "results of $n (shard 1) with shard 1/2 running"
    else
        assert_eq "$got" 0 "results of $n (shard 2) with only shard 1/2 running"
    fi
done
[ "$n1" -gt 0 ] && [ "$n1" -lt "${#NAMES[@]}" ] || fail "the test's names all fall in one shard"
start_daemon sh-2
for n in "${NAMES[@]}"; do
    has_results() { [ "$(results "$1" 1h)" -ge 1 ]; }
    wait_for 15 "results of $n" has_results "$n"
done
sleep 6 # both daemons probe for a while
for n in "${NAMES[@]}"; do
    got=$(results "$n" 5s)
    # One prober at 1s: about 5 in 5 s; two would make about 10.
    assert_between "$got" 3 7 "results of $n in the last 5 s (one prober)"
done
for id in sh-1 sh-2; do
    curl -fsS "http://127.0.0.1:${WEB[$id]}/api/v1/checks" >"$T/checks-$id.json"
done
python3 - "$T/checks-sh-1.json" "$T/checks-sh-2.json" <<'EOF' || fail "probed_here does not split the checks"
import json, sys
a = {c["name"]: c["probed_here"] for c in json.load(open(sys.argv[1]))["checks"]}
b = {c["name"]: c["probed_here"] for c in json.load(open(sys.argv[2]))["checks"]}
assert len(a) == len(b) == 8, (a, b)  # every check listed on both
for n in a:
    assert a[n] != b[n], n  # probed by exactly one
EOF
status=$(curl -fsS "http://127.0.0.1:${WEB[sh-2]}/api/v1/status")
assert_contains "$status" '"shard":"2/2"' "/api/v1/status names the shard"
assert_contains "$status" '"id":"sh-2"' "/api/v1/status names the instance"
stop_daemons
log "failover times: ${F1}s, ${F2}s; probing takeover ${P1}s; duplicates $DUPS of $ROWS" \
    "notifications"
log "PASS"
