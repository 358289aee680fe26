# test_kill9.sh - kill -9 during heavy writing loses nothing committed.
#
# 200 checks every 200 ms against a loopback nginx (about 1,000 results a
# second) for about three seconds, then SIGKILL. Afterwards the database
# must pass SQLite's integrity check, `yardstick history` must read it, every
# result the daemon logged as committed must be there, and a restart on the
# same database must run and stop cleanly.
#
# The committed count comes from the writer's debug line
# "store: committed N results (total T)". Without that line the test can
# only assert integrity, readability and a non-zero count, and says so.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
PORT=$(free_port)
cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$PORT;
    location = /ok { default_type text/plain; return 200 "healthy\n"; }
}
EOF
start_nginx "$T" "$PORT"

NCHECKS=200
DB="$T/y.db"
{
    echo "storage: { path: $DB }"
    echo "defaults: { interval: 200ms, timeout: 2s }"
    echo "checks:"
    for ((i = 0; i < NCHECKS; i++)); do
        printf '  - name: c%03d\n    kind: http\n    url: http://127.0.0.1:%s/ok\n' "$i" "$PORT"
    done
} >"$T/cfg.yaml"

# Sums the raw results of every check, read with `yardstick history` (one
# python3 at the end: starting one per check would dominate the test).
count_all() {
    local i name
    rm -rf "$T/hist"
    mkdir "$T/hist"
    for ((i = 0; i < NCHECKS; i++)); do
        name=$(printf 'c%03d' "$i")
        "$YARDSTICK" history "$name" -c "$T/cfg.yaml" --since 1h --format json \
            >"$T/hist/$name.json" 2>"$T/h.err" || fail "history $name failed: $(cat "$T/h.err")"
    done
    python3 - "$T/hist" <<'EOF'
import json, os, sys
d = sys.argv[1]
print(sum(len(json.load(open(os.path.join(d, f)))) for f in os.listdir(d)))
EOF
}

COMMIT_RE='store: committed [0-9]+ results \(total [0-9]+\)'
last_total() {
    { grep -oE "$COMMIT_RE" "$T/daemon.log" || true; } | tail -1 | sed -E 's/.*total ([0-9]+)\)/\1/'
}
db_exists() { [ -s "$DB" ]; }

"$YARDSTICK" run -c "$T/cfg.yaml" --log-level debug 2>"$T/daemon.log" >"$T/daemon.out" &
PID=$!
YS_PIDS+=("$PID")
wait_for 20 "the database to appear" db_exists
SECONDS_RUN=3
sleep "$SECONDS_RUN"
kill -0 "$PID" 2>/dev/null || fail "the daemon died under load: $(tail -20 "$T/daemon.log")"
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
forget_pid "$PID"

# --- the file is a sound database.
integrity=$(sqlite3 "$DB" 'PRAGMA integrity_check') || fail "sqlite3 cannot open $DB"
assert_eq "$integrity" ok "PRAGMA integrity_check after kill -9"

# --- everything committed is there.
got=$(count_all)
log "results read back after kill -9: $got (from $NCHECKS checks over ~${SECONDS_RUN}s)"
assert_num "$got" -gt 0 "results read back after kill -9"
total=$(last_total)
if [ -n "$total" ]; then
    log "last committed total logged before the kill: $total"
    assert_num "$got" -ge "$total" "results read back vs. the last committed total logged"
else
    log "NOTE: no '$COMMIT_RE' line in the debug log: committed-count check skipped"
fi
# A rough floor on throughput, so a writer that stalls under load is noticed:
# at least a tenth of the ~3,000 probes scheduled before the kill.
assert_num "$got" -ge 300 "results stored in ~${SECONDS_RUN}s of 200 checks every 200 ms"

# --- a restart on the recovered database runs and stops cleanly.
"$YARDSTICK" run -c "$T/cfg.yaml" --log-level debug 2>"$T/daemon2.log" >"$T/daemon2.out" &
PID=$!
YS_PIDS+=("$PID")
grew() {
    "$YARDSTICK" history c000 -c "$T/cfg.yaml" --since 1h --format json >"$T/g.json" 2>/dev/null &&
        [ "$(json_get "$T/g.json" '#')" -gt "$1" ]
}
"$YARDSTICK" history c000 -c "$T/cfg.yaml" --since 1h --format json >"$T/g.json" ||
    fail "history c000 failed before the restart took effect"
c0=$(json_get "$T/g.json" '#')
wait_for 20 "new results of c000 after the restart" grew "$((c0 + 2))"
term_wait "$PID"
assert_eq "$TERM_RC" 0 "exit code of the restarted daemon after SIGTERM ($(tail -5 "$T/daemon2.log"))"
assert_eq "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok "PRAGMA integrity_check after the clean stop"
final=$(count_all)
assert_num "$final" -gt "$got" "results after the restart (before it: $got)"

log "all kill -9 assertions passed"
