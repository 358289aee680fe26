#!/usr/bin/env bash
# test_cold_start.sh - http cold_start against a small "scale-to-zero"
# service: cold and warm latencies stored apart and measured by goals.
#
# Two instances of one python3 server stand in for a function that scales
# to zero: a request that comes after 2 s of idleness is "cold" (the server
# sleeps 0.5 s before answering and sends X-Cold-Start: true); any other is
# answered at once. Each instance logs every answer as "cold" or "warm".
#   idle:   cold_start { idle: 2s }, interval 4s: every probe is cold and
#           makes one warm request right after (facts.warm_us).
#   header: cold_start { header: X-Cold-Start }, interval 500ms, run in two
#           daemon sessions with a 2.5 s pause: the first probe of each
#           session is cold, the rest warm.
# Then history must mark exactly the responses the server says were cold,
# and the goals cold_p50 / cold_p95 must be ~0.5 s and warm_p50 / warm_p95
# ~0 s. A config whose interval is shorter than idle is refused.
source "$(dirname "$0")/lib.sh"

ys_tmpdir T
IDLE_PORT=$(free_port)
HDR_PORT=$(free_port)

start_fn() {
    local port=$1 logf=$2
    python3 -u - "$port" >"$logf" 2>&1 <<'EOF_PY' &
import http.server, sys, time
port = int(sys.argv[1])
last = float("-inf")  # a fresh instance starts scaled to zero

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global last
        cold = time.monotonic() - last >= 2.0
        if cold:
            time.sleep(0.5)  # scaling up from zero
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Cold-Start", "true" if cold else "false")
        self.end_headers()
        self.wfile.write(body)
        last = time.monotonic()
        print("cold" if cold else "warm", round(time.time(), 3), flush=True)
    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF_PY
    YS_PIDS+=("$!")
    # Readiness by connect only: a GET here would wake the "function".
    wait_for 10 "function on port $port" port_open "$port"
}
start_fn "$IDLE_PORT" "$T/idle.log"
start_fn "$HDR_PORT" "$T/hdr.log"

CFG="$T/cold.yaml"
cat >"$CFG" <<EOF
storage: { path: $T/ys.db }
checks:
  - name: fn-idle
    kind: http
    url: http://127.0.0.1:$IDLE_PORT/
    interval: 4s
    timeout: 1s
    cold_start: { idle: 2s }
  - name: fn-header
    kind: http
    url: http://127.0.0.1:$HDR_PORT/
    interval: 500ms
    timeout: 2s
    cold_start: { header: X-Cold-Start, value: "true" }
goals:
  - { id: idle-cold-p50, title: Idle cold P50, target: "< 1s", measure: { check: fn-idle, stat: cold_p50 } }
  - { id: idle-warm-p50, title: Idle warm P50, target: "< 1s", measure: { check: fn-idle, stat: warm_p50 } }
  - { id: hdr-cold-p95, title: Header cold P95, target: "< 3s", measure: { check: fn-header, stat: cold_p95 } }
  - { id: hdr-warm-p95, title: Header warm P95, target: "< 3s", measure: { check: fn-header, stat: warm_p95 } }
EOF

run_daemon() {
    "$YARDSTICK" run -c "$CFG" 2>>"$T/daemon.log" >>"$T/daemon.out" &
    local pid=$!
    YS_PIDS+=("$pid")
    sleep "$1"
    term_wait "$pid" 15
    assert_eq "$TERM_RC" 0 "daemon exit code ($(tail -3 "$T/daemon.log"))"
}
run_daemon 9
sleep 2.5 # both functions scale to zero
run_daemon 5

IDLE_COLD=$(grep -c '^cold' "$T/idle.log" || true)
IDLE_WARM=$(grep -c '^warm' "$T/idle.log" || true)
HDR_COLD=$(grep -c '^cold' "$T/hdr.log" || true)
HDR_WARM=$(grep -c '^warm' "$T/hdr.log" || true)
log "idle function: $IDLE_COLD cold, $IDLE_WARM warm; header function: $HDR_COLD cold, $HDR_WARM warm"
assert_num "$IDLE_COLD" -ge 3 "idle-mode probes in 14 s at 4 s"
assert_eq "$IDLE_WARM" "$IDLE_COLD" "one warm request after each cold one"
assert_eq "$HDR_COLD" 2 "cold responses of the header function (one per daemon session)"
assert_num "$HDR_WARM" -ge 10 "warm responses of the header function"

# History: what the store says matches what each server says it did.
for c in fn-idle fn-header; do
    run_capture RC "$T/$c.json" "$T/$c.err" "$YARDSTICK" history "$c" -c "$CFG" \
        --since 1h --resolution raw --format json
    assert_eq "$RC" 0 "history $c exit code ($(cat "$T/$c.err"))"
done
python3 - "$T/fn-idle.json" "$T/fn-header.json" "$IDLE_COLD" "$HDR_COLD" "$HDR_WARM" <<'EOF_PY' ||
import json, sys

def results(path):
    v = json.load(open(path))
    return v["results"] if isinstance(v, dict) else v

idle, hdr = results(sys.argv[1]), results(sys.argv[2])
idle_cold, hdr_cold, hdr_warm = (int(x) for x in sys.argv[3:6])
assert len(idle) == idle_cold, f"{len(idle)} idle results, server saw {idle_cold} probes"
for r in idle:
    f = r["facts"]
    assert f["cold"] is True and r["ok"], r
    assert r["duration_ms"] >= 450, f"cold request took {r['duration_ms']} ms: {r}"
    assert f["warm_us"] < 200000, f"warm request took {f['warm_us']} us: {r}"
cold = [r for r in hdr if r["facts"]["cold"]]
warm = [r for r in hdr if not r["facts"]["cold"]]
assert len(cold) == hdr_cold and len(warm) == hdr_warm, (len(cold), len(warm))
assert all(r["duration_ms"] >= 450 for r in cold), cold
assert all(r["duration_ms"] < 200 for r in warm), warm
EOF_PY
    fail "stored results do not match the servers: $(head -c 600 "$T/fn-idle.json") / $(head -c 600 "$T/fn-header.json")"

# Goals over the cold and the warm ones, read back from the store.
run_capture RC "$T/report.json" "$T/report.err" "$YARDSTICK" report -c "$CFG" --format json
assert_eq "$RC" 0 "report exit code ($(cat "$T/report.err"))"
python3 - "$T/report.json" <<'EOF_PY' || fail "goal values are wrong: $(cat "$T/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
g = {x["id"]: x for a in r["areas"] for x in a["goals"]}
want = {"idle-cold-p50": (0.45, 0.8), "idle-warm-p50": (0.0, 0.2),
        "hdr-cold-p95": (0.45, 0.8), "hdr-warm-p95": (0.0, 0.2)}
for gid, (lo, hi) in want.items():
    v = g[gid].get("value")
    assert v is not None and lo <= v <= hi, f"{gid}: {v} not in [{lo}, {hi}]"
    assert g[gid]["status"] == "met", (gid, g[gid]["status"])
    print(gid, v)
EOF_PY
log "goals: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print({x["id"]: round(x["value"], 3) for a in r["areas"] for x in a["goals"]})' "$T/report.json")"

# An interval too short for idle mode is a config error at the interval.
sed 's/interval: 4s/interval: 3s/' "$CFG" >"$T/short.yaml"
run_capture RC "$T/short.out" "$T/short.err" "$YARDSTICK" validate -c "$T/short.yaml"
assert_ne "$RC" 0 "validate of a too short interval"
assert_contains "$(cat "$T/short.out" "$T/short.err")" \
    "short.yaml:6:15: interval 3s is too short for cold_start.idle" "validate message"
log "ok"
