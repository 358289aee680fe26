#!/usr/bin/env bash
# test_slo.sh - an SLO measured end to end against a real nginx whose
# backend fails exactly every 50th request.
#
# nginx proxies to a small python3 HTTP server on loopback that answers 503
# to requests 50, 100, 150, ... and 200 to the rest, writing how many it has
# served to a file. yardstick probes nginx every 100 ms for ~12 s; then
# `yardstick report` must show an SLI within 0.5 point of 98%, exactly as
# many bad events as the server's counter says it failed (+-1 for a request
# in flight at SIGTERM), a budget consistent with the counts, the goal met,
# and the Markdown row's Current column filled. If the Markdown importer and
# its seed document are present, an imported plan reports every area with
# no data.
source "$(dirname "$0")/lib.sh"

ys_tmpdir T
BACKEND=$(free_port)
PORT=$(free_port)

python3 -u - "$BACKEND" "$T/served" >"$T/backend.log" 2>&1 <<'EOF_PY' &
import http.server, os, sys
port, counter = int(sys.argv[1]), sys.argv[2]
served = 0

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global served
        served += 1
        code = 503 if served % 50 == 0 else 200
        body = b"fail\n" if code == 503 else b"ok\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        tmp = counter + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(served))
        os.replace(tmp, counter)
    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF_PY
YS_PIDS+=("$!")
wait_for 10 "backend on port $BACKEND" port_open "$BACKEND"

cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$PORT;
    location / { proxy_pass http://127.0.0.1:$BACKEND; }
}
EOF
start_nginx "$T" "$PORT"

CFG="$T/slo.yaml"
cat >"$CFG" <<EOF
storage: { path: $T/ys.db }
checks:
  - name: web
    kind: http
    url: http://127.0.0.1:$PORT/
    interval: 100ms
    timeout: 2s
    expect: { status: [2xx] }
slos:
  - { name: web-availability, checks: [web], objective: 97%, window: 30d }
goals:
  - id: web-availability
    title: Web availability
    area: Web
    priority: P0
    baseline: "~95%"
    target: ">= 97%"
    due: 2099-12-31
    measure: { slo: web-availability }
EOF

"$YARDSTICK" run -c "$CFG" 2>"$T/daemon.log" >"$T/daemon.out" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
sleep 12
term_wait "$DAEMON" 15
assert_eq "$TERM_RC" 0 "daemon exit code"

SERVED=$(cat "$T/served")
log "backend served $SERVED requests"
assert_num "$SERVED" -ge 60 "requests served in 12 s at 100 ms"

run_capture RC "$T/report.json" "$T/report.err" "$YARDSTICK" report -c "$CFG" --format json
assert_eq "$RC" 0 "report exit code ($(cat "$T/report.err"))"
J="$T/report.json"
TOTAL=$(json_get "$J" slos.0.total)
GOOD=$(json_get "$J" slos.0.good)
SLI=$(json_get "$J" slos.0.sli)
log "total $TOTAL good $GOOD sli $SLI"
assert_between "$TOTAL" $((SERVED - 1)) $((SERVED + 1)) "probes stored vs requests served"
BAD=$((TOTAL - GOOD))
WANT_BAD=$((SERVED / 50))
assert_between "$BAD" $((WANT_BAD - 1)) $((WANT_BAD + 1)) "bad events vs every 50th request"
assert_between "$SLI" 0.975 0.985 "SLI"
python3 - "$J" <<'EOF_PY' || fail "budget figures are inconsistent: $(json_get "$J" slos.0.budget)"
import json, sys
s = json.load(open(sys.argv[1]))["slos"][0]
b, total, good = s["budget"], s["total"], s["good"]
assert abs(s["sli"] - good / total) < 1e-9
assert abs(b["allowed_bad"] - 0.03 * total) < 1e-6
assert abs(b["consumed_bad"] - (total - good)) < 1e-9
assert abs(b["remaining"] - (1 - (total - good) / (0.03 * total))) < 1e-9
assert s["alert"] in ("ok", "ticket", "page", "no data")
EOF_PY
assert_eq "$(json_get "$J" areas.0.goals.0.status)" "met" "goal status"
assert_between "$(json_get "$J" areas.0.goals.0.value)" 97.5 98.5 "goal value (percent)"

run_capture RC "$T/report.md" "$T/report.err" "$YARDSTICK" report -c "$CFG" --format markdown
assert_eq "$RC" 0 "markdown report exit code"
ROW=$(grep '^| Web availability |' "$T/report.md") || fail "no goal row in: $(cat "$T/report.md")"
CURRENT=$(awk -F'|' '{gsub(/ /, "", $4); print $4}' <<<"$ROW")
assert_contains "$CURRENT" "%" "Current column"
assert_contains "$ROW" "✅ met" "status mark"
assert_contains "$(cat "$T/report.md")" "### Web" "area heading"

run_capture RC "$T/report.txt" "$T/report.err" "$YARDSTICK" report -c "$CFG"
assert_eq "$RC" 0 "table report exit code"
assert_not_contains "$(cat "$T/report.txt")" $'\033[' "colour when piped"

# Round trip through the importer, when it and its document are there.
SEED="$YS_SOURCE_DIR/tests/data/goals-2025.md"
if [ -f "$SEED" ] && "$YARDSTICK" import --help >/dev/null 2>&1; then
    run_capture RC "$T/imp.out" "$T/imp.err" "$YARDSTICK" import goals "$SEED" -o "$T/g.yaml"
    assert_eq "$RC" 0 "import exit code ($(cat "$T/imp.err"))"
    # The imported plan's store does not exist: every goal is no data.
    printf 'storage: { path: %s/none.db }\n' "$T" >>"$T/g.yaml"
    run_capture RC "$T/g.json" "$T/g.err" "$YARDSTICK" report -c "$T/g.yaml" --format json
    assert_eq "$RC" 0 "report of the imported plan ($(cat "$T/g.err"))"
    run_capture RC "$T/g.md" "$T/g.err" "$YARDSTICK" report -c "$T/g.yaml" --format markdown
    assert_eq "$RC" 0 "markdown report of the imported plan"
    python3 - "$T/g.json" "$T/g.md" <<'EOF_PY' || fail "imported plan report is incomplete"
import json, sys
r = json.load(open(sys.argv[1]))
md = open(sys.argv[2], encoding="utf-8").read()
goals = sum(len(a["goals"]) for a in r["areas"])
assert goals > 0, "no goals"
assert r["summary"]["no data"] == goals, r["summary"]
for a in r["areas"]:
    assert ("### " + (a["name"] or "Goals")) in md, a["name"]
EOF_PY
    log "imported plan: $(json_get "$T/g.json" areas.#) areas, all no data"
else
    log "skipping the import round trip (no importer or no tests/data/goals-2025.md)"
fi
log "ok"
