# test_daemon.sh - `yardstick run`: storing, SIGTERM, restart, SIGHUP reload.
#
# The daemon probes a loopback nginx every second. Asserts that results reach
# the store while it runs (read back with `yardstick history`), that SIGTERM
# exits 0 after flushing, that a restart keeps the old history and adds to
# it, that SIGHUP applies an edited config (a check added, one removed, one
# changed) and rejects a broken one while the old checks go on, and that the
# minute rollups agree with the raw results.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$PORT;
    location = /ok { default_type text/plain; return 200 "healthy\n"; }
    location = /down { return 503; }
}
EOF
start_nginx "$T" "$PORT"

CFG="$T/cfg.yaml"
# history reads through a config that names every check this test ever
# runs, so it keeps working while cfg.yaml is broken or a check is removed.
QCFG="$T/query.yaml"

# Writes a config with the checks given as NAME=PATH pairs to FILE.
write_cfg() {
    local file=$1 pair
    shift
    {
        echo "storage: { path: $T/y.db }"
        echo "defaults: { interval: 1s, timeout: 2s }"
        echo "checks:"
        for pair in "$@"; do
            printf '  - name: %s\n    kind: http\n    url: %s%s\n' "${pair%%=*}" "$BASE" "${pair#*=}"
        done
    } >"$file.tmp"
    mv "$file.tmp" "$file"
}
write_cfg "$CFG" ok=/ok gone=/ok changed=/ok
write_cfg "$QCFG" ok=/ok gone=/ok changed=/ok added=/ok

DAEMON_PID=""
start_daemon() {
    "$YARDSTICK" run -c "$CFG" --log-level debug "$@" 2>>"$T/daemon.log" >>"$T/daemon.out" &
    DAEMON_PID=$!
    YS_PIDS+=("$DAEMON_PID")
}

# SIGTERM, then the exit code must be 0 within 10 s.
stop_daemon() {
    term_wait "$DAEMON_PID"
    [ "$TERM_RC" = 0 ] || fail "daemon exit code after SIGTERM: expected 0, got $TERM_RC; log: $(tail -20 "$T/daemon.log")"
}

# Writes the raw history of NAME (last hour) to $T/NAME.json; prints how
# many results it holds.
hist() {
    "$YARDSTICK" history "$1" -c "$QCFG" --since 1h --format json >"$T/$1.json" 2>"$T/$1.err" ||
        fail "history $1 failed: $(cat "$T/$1.err")"
    json_get "$T/$1.json" '#'
}
# The same for polling: fails quietly (the store may not exist yet).
hist_try() {
    "$YARDSTICK" history "$1" -c "$QCFG" --since 1h --format json >"$T/$1.json" 2>"$T/$1.err" ||
        return 1
    json_get "$T/$1.json" '#'
}
has_at_least() {
    local c
    c=$(hist_try "$1") || return 1
    [ "$c" -ge "$2" ]
}
daemon_alive() { kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died: $(tail -20 "$T/daemon.log")"; }

# Prints FIELD of NAME's newest raw result (by ts_ms).
newest() {
    hist_try "$1" >/dev/null || return 1
    python3 - "$T/$1.json" "$2" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
v = max(rows, key=lambda r: r["ts_ms"])[sys.argv[2]]
print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))
EOF
}

# --- 1. results reach the store while the daemon runs.
start_daemon
wait_for 20 "3 results of 'ok' in the store" has_at_least ok 3
daemon_alive
assert_eq "$(json_get "$T/ok.json" '0.ok')" true "first stored result of ok"
assert_eq "$(json_get "$T/ok.json" '0.status')" 200 "first stored status of ok"
assert_eq "$(json_get "$T/ok.json" '0.error')" null "first stored error of ok"
assert_between "$(json_get "$T/ok.json" '0.duration_ms')" 0.001 2000 "stored duration_ms"
ts=$(json_get "$T/ok.json" '0.ts_ms')
assert_between "$ts" $((($(date +%s) - 120) * 1000)) $((($(date +%s) + 5) * 1000)) "stored ts_ms is recent"
assert_eq "$(rfc3339_epoch "$(json_get "$T/ok.json" '0.ts')")" $((ts / 1000)) "ts agrees with ts_ms"

# --- 2. SIGTERM flushes and exits 0.
before=$(hist ok)
stop_daemon
after=$(hist ok)
assert_num "$after" -ge "$before" "results of ok after SIGTERM (before: $before)"
sleep 1.5
assert_eq "$(hist ok)" "$after" "results of ok once the daemon is gone (nothing writes)"

# --- 3. a restart keeps the history and adds to it (logging JSON this time).
log_lines=$(wc -l <"$T/daemon.log")
start_daemon --log-format json
assert_num "$(hist ok)" -ge "$after" "results of ok right after the restart"
wait_for 20 "new results of ok after the restart" has_at_least ok $((after + 2))
daemon_alive
tail -n +"$((log_lines + 1))" "$T/daemon.log" >"$T/json.log"
python3 - "$T/json.log" <<'EOF' || fail "--log-format json wrote lines that are not JSON objects"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines at debug level"
for l in lines:
    assert isinstance(json.loads(l), dict), l
EOF

# --- 4. SIGHUP: add 'added', remove 'gone', point 'changed' at a 503.
write_cfg "$CFG" ok=/ok changed=/down added=/ok
kill -HUP "$DAEMON_PID"
wait_for 20 "results of the added check" has_at_least added 2
daemon_alive
changed_is_down() { [ "$(newest changed status)" = 503 ]; }
wait_for 10 "the changed check to probe its new URL" changed_is_down
assert_eq "$(newest changed ok)" false "newest result of changed after reload"
assert_eq "$(newest changed error)" http_status "newest error of changed after reload"
gone=$(hist gone)
ok_now=$(hist ok)
sleep 3
assert_eq "$(hist gone)" "$gone" "results of the removed check 3 s after the reload"
assert_num "$(hist ok)" -ge $((ok_now + 2)) "results of the unchanged check 3 s after the reload (was $ok_now)"

# --- 5. a broken config on SIGHUP is rejected; the running checks go on.
printf 'storage: { path: %s/y.db }\nchecks:\n  - name: ok\n    kind: http\n    url: %s/ok\n    intreval: 1s\n' \
    "$T" "$BASE" >"$CFG"
log_lines=$(wc -l <"$T/daemon.log")
kill -HUP "$DAEMON_PID"
new_log() { tail -n +"$((log_lines + 1))" "$T/daemon.log"; }
rejected() { new_log | grep -qi "reload rejected"; }
wait_for 10 "the daemon to log that it rejected the broken config" rejected
daemon_alive
new_log | grep -F "$CFG:6:5" | grep -qF intreval ||
    fail "the rejected reload's log does not show '$CFG:6:5: ... intreval':"$'\n'"$(new_log | grep -v probe)"
ok_now=$(hist ok)
added_now=$(hist added)
wait_for 10 "ok to keep running after the rejected reload" has_at_least ok $((ok_now + 2))
wait_for 10 "added to keep running after the rejected reload" has_at_least added $((added_now + 2))

# --- 6. stop; the minute rollups agree with the raw rows.
stop_daemon
for name in ok changed; do
    hist "$name" >/dev/null
    "$YARDSTICK" history "$name" -c "$QCFG" --since 1h --resolution minute --format json \
        >"$T/$name.min.json" 2>"$T/$name.min.err" || fail "history --resolution minute failed: $(cat "$T/$name.min.err")"
    python3 - "$T/$name.json" "$T/$name.min.json" "$name" <<'EOF' || fail "minute rollups of $name disagree with raw rows"
import json, sys
raw = json.load(open(sys.argv[1]))
mins = json.load(open(sys.argv[2]))
name = sys.argv[3]
assert mins, f"{name}: no minute buckets"
for b in mins:
    for k in ("bucket", "bucket_ms", "total", "ok", "availability", "mean_ms", "p50_ms", "p95_ms", "p99_ms"):
        assert k in b, f"{name}: bucket without {k}: {b}"
    assert b["bucket_ms"] % 60000 == 0, f"{name}: bucket not on a minute boundary: {b}"
    assert 0 <= b["ok"] <= b["total"], b
    assert abs(b["availability"] - b["ok"] / b["total"]) < 1e-6, b
    # latency is of passing probes: a minute of failures has none
    if b["ok"]:
        assert b["p50_ms"] <= b["p95_ms"] <= b["p99_ms"], b
    else:
        assert b["p50_ms"] is None, b
# Every raw row falls in exactly one minute: the counts must match.
tot = sum(b["total"] for b in mins)
oks = sum(b["ok"] for b in mins)
raw_ok = sum(1 for r in raw if r["ok"])
print(f"{name}: raw {len(raw)} ({raw_ok} ok), minute buckets {len(mins)} total {tot} ok {oks}")
assert tot == len(raw), f"{name}: rollup total {tot} != raw rows {len(raw)}"
assert oks == raw_ok, f"{name}: rollup ok {oks} != raw ok rows {raw_ok}"
for b in mins:
    rows = [r for r in raw if b["bucket_ms"] <= r["ts_ms"] < b["bucket_ms"] + 60000]
    assert len(rows) == b["total"], f"{name}: bucket {b['bucket']} total {b['total']} != {len(rows)} raw rows"
EOF
done
# 'changed' failed after the reload, so its availability is below 1.
python3 - "$T/changed.min.json" <<'EOF' || fail "changed: rollups do not show the failures: $(cat "$T/changed.min.json")"
import json, sys
mins = json.load(open(sys.argv[1]))
assert sum(b["ok"] for b in mins) < sum(b["total"] for b in mins)
EOF

log "all daemon assertions passed"
