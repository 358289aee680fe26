#!/usr/bin/env bash
# test_migrate.sh - `yardstick migrate` end to end: a SQLite store filled by
# the real daemon (http checks against nginx, a tcp check of a closed port
# whose check_down alert goes to a webhook, a heartbeat flooded with a few
# thousand pings, `yardstick goal record`) is copied into a throwaway
# PostgreSQL (started here as tests/pg/setup.sh does).
#
# Asserts: a migration killed with SIGKILL after its first batches left
# whole batches only and, run again, finishes with every table's row count
# equal to the source's (no duplicate, no gap); `history --format json` of
# every check, `report --format json` and the daemon's /api/v1/alerts and
# /api/v1/notifications say the same against the SQLite config and the
# PostgreSQL one; sequences continue past the copied ids (the daemon then
# writes on top of the copy); a second run copies nothing more; a
# destination holding other data, or another source's migration, is
# refused; the password of the DSN is never printed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v psql >/dev/null || fail "psql is required (bash scripts/deps.sh test)"
command -v sqlite3 >/dev/null || fail "sqlite3 is required (bash scripts/deps.sh test)"
ys_tmpdir T
PGSTATE="$T/pg"
trap 'rc=$?; bash "$YS_SOURCE_DIR/tests/pg/cleanup.sh" "$PGSTATE" >/dev/null 2>&1 || true; (exit $rc); ys_cleanup' EXIT
bash "$YS_SOURCE_DIR/tests/pg/setup.sh" "$PGSTATE" >"$T/pg.log" 2>&1 || fail "postgres: $(cat "$T/pg.log")"
BASE_DSN=$(cat "$PGSTATE/dsn")
# A second database for the refusal cases, and a password that must never
# be printed (trust auth ignores it).
psql "$BASE_DSN" -qAt -c "CREATE DATABASE other" >/dev/null
DSN="$BASE_DSN password=s3cretpw"
OTHER_DSN="${BASE_DSN/dbname=postgres/dbname=other}"
pgq() { psql "$BASE_DSN" -qAt -c "$1"; }

WEB=$(free_port)
NG=$(free_port)
HOOK=$(free_port)
DOWN=$(free_port)
cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$NG;
    location /ok { return 200 "fine\n"; }
    location /err { return 503 "no\n"; }
}
EOF
start_nginx "$T" "$NG"

python3 -u - "$HOOK" "$T/hook.jsonl" >"$T/hook.log" 2>&1 <<'EOF' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
YS_PIDS+=("$!")
wait_for 10 "the webhook receiver" port_open "$HOOK"

body() { # body STORAGE_YAML
    cat <<EOF
storage: $1
defaults: { interval: 200ms, timeout: 1s, evaluation_interval: 1s }
server: { listen: "127.0.0.1:$WEB" }
checks:
  - { name: web, kind: http, url: "http://127.0.0.1:$NG/ok" }
  - { name: broken, kind: http, url: "http://127.0.0.1:$NG/err" }
  - { name: db, kind: tcp, address: "127.0.0.1:$DOWN" }
  - { name: job, kind: heartbeat, period: 1h }
slos:
  - { name: web-availability, checks: [web], objective: 99% }
goals:
  - { id: docs, title: Docs coverage, target: ">= 90%" }
  - { id: web-up, title: Web availability, target: ">= 99%",
      measure: { check: web, stat: availability, window: 1d } }
notifiers:
  - { name: hook, kind: webhook, url: "http://127.0.0.1:$HOOK/hook" }
alerts:
  - { name: down, when: check_down, checks: [db, broken], notify: [hook], repeat_interval: never }
EOF
}
body "{ path: $T/y.db }" >"$T/sqlite.yaml"
body "{ kind: postgres, dsn: \"$DSN\" }" >"$T/pg.yaml"

DAEMON=""
start_daemon() { # start_daemon CONFIG
    "$YARDSTICK" run -c "$1" 2>>"$T/daemon.log" >/dev/null &
    DAEMON=$!
    YS_PIDS+=("$DAEMON")
    wait_for 20 "the daemon's API" port_open "$WEB"
}

log "filling the SQLite store with the daemon"
start_daemon "$T/sqlite.yaml"
"$YARDSTICK" goal record docs 80% --note "first pass" -c "$T/sqlite.yaml" >/dev/null ||
    fail "goal record"
"$YARDSTICK" goal record docs 92.5% -c "$T/sqlite.yaml" >/dev/null || fail "goal record"
# A few thousand pings over keep-alive connections: the big table that
# the interrupted migration is killed in.
python3 - "$WEB" <<'EOF' || fail "pinging the heartbeat"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for i in range(3000):
    path = "/ping/job" if i % 10 else "/ping/job/fail"
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("ping %d: %d" % (i, r.status))
EOF
alerted() { grep -q '"firing"' "$T/hook.jsonl"; }
wait_for 20 "the check_down alert at the webhook" alerted
sleep 1.5 # a few more results per check
term_wait "$DAEMON" 15

sq() { sqlite3 "$T/y.db" "$1"; }
TABLES="checks:checks text:texts chunk:chunk rollup:rollup rollup_minute:rollup_minute incident:incident goal_record:goal_record ping:ping alert:alert outbox:outbox facts:facts"
NPING=$(sq "SELECT count(*) FROM ping")
[ "$NPING" -ge 3000 ] || fail "only $NPING pings stored"
for t in chunk rollup goal_record alert outbox; do
    [ "$(sq "SELECT count(*) FROM $t")" -gt 0 ] || fail "the source has no $t rows"
done

log "a migration killed after its first batches"
"$YARDSTICK" migrate --from "sqlite:$T/y.db" --to "postgres:$DSN" --batch 1 \
    2>"$T/migrate1.err" &
MIG=$!
YS_PIDS+=("$MIG")
pings_copied() {
    [ "$(pgq "SELECT coalesce(sum(copied), 0) FROM yardstick_migrate WHERE tbl = 'ping'" \
        2>/dev/null)" -gt 200 ]
}
wait_for 60 "the migration to reach the ping table" pings_copied
kill -KILL "$MIG"
wait "$MIG" 2>/dev/null || true
forget_pid "$MIG"
copied=$(pgq "SELECT copied FROM yardstick_migrate WHERE tbl = 'ping'")
[ "$copied" -lt "$NPING" ] || fail "the migration finished before it was killed ($copied pings)"
assert_eq "$(pgq "SELECT count(*) FROM ping")" "$copied" "pings in the destination match the saved cursor"
assert_eq "$(pgq "SELECT count(*) FROM yardstick_migrate WHERE tbl = 'facts'")" 0 "later tables not started"

log "resuming"
run_capture RC "$T/migrate2.out" "$T/migrate2.err" "$YARDSTICK" migrate --from "sqlite:$T/y.db" --batch 1 \
    --to "postgres:$DSN"
assert_eq "$RC" 0 "resumed migration ($(cat "$T/migrate2.err"))"
assert_contains "$(cat "$T/migrate2.err")" "ping: $NPING rows copied" "progress line of the ping table"
for pair in $TABLES; do
    s=${pair%%:*} d=${pair##*:}
    assert_eq "$(pgq "SELECT count(*) FROM $d")" "$(sq "SELECT count(*) FROM $s")" "rows of $s"
done
# Every id once, and the same ids (rowids became ids).
assert_eq "$(pgq "SELECT count(DISTINCT id) || ' ' || sum(id) FROM ping")" \
    "$(sq "SELECT count(DISTINCT rowid) || ' ' || sum(rowid) FROM ping")" "ping ids"
assert_eq "$(pgq "SELECT sum(id) || ' ' || sum(n) || ' ' || sum(length(data)) FROM chunk")" \
    "$(sq "SELECT sum(id) || ' ' || sum(n) || ' ' || sum(length(data)) FROM chunk")" "chunks"
for f in "$T"/migrate*.err; do
    grep -q s3cretpw "$f" && fail "the password was printed in $f"
done

log "same answers from both stores"
for name in web broken db job; do
    for cfg in sqlite pg; do
        run_capture RC "$T/h-$name-$cfg.json" "$T/h.err" "$YARDSTICK" history "$name" \
            -c "$T/$cfg.yaml" --since 1h --format json
        assert_eq "$RC" 0 "history $name ($cfg): $(cat "$T/h.err")"
    done
    [ "$(json_get "$T/h-$name-sqlite.json" '#')" -gt 0 ] || fail "no history of $name"
    cmp -s "$T/h-$name-sqlite.json" "$T/h-$name-pg.json" ||
        fail "history $name differs: $(diff "$T/h-$name-sqlite.json" "$T/h-$name-pg.json" | head -5)"
done
for res in minute hour; do
    for cfg in sqlite pg; do
        "$YARDSTICK" history web -c "$T/$cfg.yaml" --since 1h --resolution "$res" --format json \
            >"$T/r-$cfg.json" 2>"$T/h.err" || fail "history --resolution $res: $(cat "$T/h.err")"
    done
    cmp -s "$T/r-sqlite.json" "$T/r-pg.json" || fail "$res rollups differ"
done
# Both reports are made as of one instant (--at); the title is the config
# file's name, which differs; since_ms of the alerts is now - 24h.
strip_time() {
    python3 - "$1" <<'EOF'
import json, sys
def walk(v):
    if isinstance(v, dict):
        return {k: walk(x) for k, x in v.items() if k not in ("title", "since_ms")}
    if isinstance(v, list):
        return [walk(x) for x in v]
    return v
print(json.dumps(walk(json.load(open(sys.argv[1]))), sort_keys=True))
EOF
}
AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for cfg in sqlite pg; do
    run_capture RC "$T/report-$cfg.json" "$T/rep.err" "$YARDSTICK" report -c "$T/$cfg.yaml" \
        --format json --at "$AT"
    assert_eq "$RC" 0 "report ($cfg): $(cat "$T/rep.err")"
done
assert_contains "$(cat "$T/report-pg.json")" "92.5" "the recorded goal value in the report"
assert_eq "$(strip_time "$T/report-pg.json")" "$(strip_time "$T/report-sqlite.json")" "report"

for cfg in sqlite pg; do
    start_daemon "$T/$cfg.yaml"
    curl -sf "http://127.0.0.1:$WEB/api/v1/alerts" >"$T/alerts-$cfg.json" || fail "alerts ($cfg)"
    curl -sf "http://127.0.0.1:$WEB/api/v1/notifications" >"$T/notif-$cfg.json" ||
        fail "notifications ($cfg)"
    term_wait "$DAEMON" 15
done
assert_contains "$(cat "$T/alerts-pg.json")" '"firing":true' "a firing alert after the migration"
assert_eq "$(strip_time "$T/alerts-pg.json")" "$(strip_time "$T/alerts-sqlite.json")" "/api/v1/alerts"
assert_eq "$(strip_time "$T/notif-pg.json")" "$(strip_time "$T/notif-sqlite.json")" \
    "/api/v1/notifications"

log "the daemon writes on top of the copy"
max_ping=$(pgq "SELECT max(id) FROM ping")
pgq "SELECT 1 FROM yardstick_migrate" >/dev/null
start_daemon "$T/pg.yaml"
curl -sf "http://127.0.0.1:$WEB/ping/job" >/dev/null || fail "ping after the migration"
new_ping() { [ "$(pgq "SELECT max(id) FROM ping")" -gt "$max_ping" ]; }
wait_for 10 "a new ping row" new_ping
term_wait "$DAEMON" 15
grep -qi "error" "$T/daemon.log" && log "daemon log has errors: $(grep -i error "$T/daemon.log" | tail -3)"
assert_eq "$(pgq "SELECT count(*) - count(DISTINCT id) FROM chunk")" 0 "chunk ids stay unique"

log "a second run continues from the cursors; foreign data is refused"
before=$(pgq "SELECT count(*) FROM ping")
run_capture RC "$T/migrate3.out" "$T/migrate3.err" "$YARDSTICK" migrate --from "sqlite:$T/y.db" \
    --to "postgres:$DSN"
assert_eq "$RC" 0 "second run ($(cat "$T/migrate3.err"))"
assert_eq "$(pgq "SELECT count(*) FROM ping")" "$before" "nothing copied twice"
cp "$T/y.db" "$T/copy.db"
run_capture RC "$T/o.out" "$T/migrate4.err" "$YARDSTICK" migrate --from "sqlite:$T/copy.db" \
    --to "postgres:$DSN"
assert_eq "$RC" 1 "another source into the same destination"
assert_contains "$(cat "$T/migrate4.err")" "holds a migration of" "refusal message"
# A destination a daemon wrote to (no migration) is refused too.
body "{ kind: postgres, dsn: \"$OTHER_DSN\" }" >"$T/other.yaml"
"$YARDSTICK" goal record docs 50% -c "$T/other.yaml" >/dev/null || fail "goal record (other)"
run_capture RC "$T/o.out" "$T/migrate5.err" "$YARDSTICK" migrate --from "sqlite:$T/y.db" \
    --to "postgres:$OTHER_DSN password=s3cretpw"
assert_eq "$RC" 1 "a destination with other data"
assert_contains "$(cat "$T/migrate5.err")" "already holds data (table goal_record)" "refusal message"
for f in "$T"/migrate*.err; do
    grep -q s3cretpw "$f" && fail "the password was printed in $f"
done
run_capture RC "$T/o.out" "$T/o.err" "$YARDSTICK" migrate --from "$T/y.db" --to "postgres:$DSN"
assert_eq "$RC" 2 "--from without sqlite:"
log "ok"
