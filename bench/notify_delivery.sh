#!/usr/bin/env bash
# bench/notify_delivery.sh - alert notifications through the outbox (issue
# 5): how fast N firing notifications reach a webhook and what they cost,
# against the same N POSTs sent by curl to the same receiver in the same run
# (the cost of the HTTP part alone). A benchmark that prints figures, not a
# pass/fail test.
#
# The receiver is a loopback nginx (tests/integration/lib.sh's start_nginx:
# one process) answering `return 200`, with an access log of its own whose
# lines ($msec, path, Content-Length) count and time every arrival; each
# sender posts to its own path.
#
# A. End to end: `yardstick run` with N tcp checks against a closed
#    loopback port (interval 1s, connection refused at once), a check_down
#    rule and a webhook notifier on nginx. From the daemon's start until
#    nginx has seen N POSTs: wall time, the span from the first alert's
#    firing to the last arrival, the lag firing -> delivered per alert
#    (GET /api/v1/alerts and /api/v1/notifications), and the daemon's CPU
#    (/proc/PID/stat) minus that of the same config without the rule and
#    the notifier over the same wall time (the probes' share), per
#    notification. The incident rule (two failures) and the checks' phases
#    (spread over the 1 s interval) set when the alerts fire, so this row
#    measures how far delivery trails the alerts, not how fast it can go.
# B. Backlog drain: the outbox's own rate. A daemon with N + 1 such checks
#    and the notifier rate-limited to 1 per hour queues N + 1 notifications
#    and delivers one (to another path); it is stopped with N pending
#    (their first attempt not made yet, so all are due at once). Then
#    `yardstick notify send --flush-only` (the daemon's outbox code, in a
#    process without probes) delivers the N to nginx with the limit lifted.
#    Rate = (N - 1) / (last arrival - first arrival); CPU from bash's
#    `time`, minus that of a second --flush-only with nothing pending
#    (start-up: config, store, outbox thread).
# C. Peers: the same N POSTs (a body of the daemon's Content-Length) by one
#    `curl` process, one at a time over a kept-alive connection (what the
#    outbox does: one attempt in flight per notifier), and by
#    `curl --parallel --parallel-max 50`. Same rate and CPU definitions.
# Everything it starts is stopped by lib.sh's EXIT trap, by PID.
#
# Usage: bench/notify_delivery.sh [BUILD_DIR] [N] [RUNS]
#   BUILD_DIR defaults to build (a Release build with yardstick); N 500
#   (at most 500: the API lists at most 500 notifications); B and C are
#   repeated RUNS times (default 3), one after the other, since a 500-POST
#   curl run lasts some 20 ms and moves with the machine's load.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
N=${2:-500}
RUNS=${3:-3}
export YARDSTICK=$BUILD/yardstick YS_SOURCE_DIR=$ROOT
[ -x "$YARDSTICK" ] || { echo "notify_delivery: build $YARDSTICK first" >&2; exit 2; }
source "$ROOT/tests/integration/lib.sh"
[ "$N" -le 500 ] || fail "N is at most 500 (GET /api/v1/notifications returns at most 500 rows)"
TCK=$(getconf CLK_TCK)
now_ms() { date +%s%3N; }

ys_tmpdir T
NGX=$(free_port)
DEAD=$(free_port) # nothing listens here: every probe is refused at once
cat >"$T/servers.conf" <<EOF
log_format arrivals '\$msec \$uri \$http_content_length';
server {
    listen 127.0.0.1:$NGX backlog=4096;
    access_log $T/arrivals.log arrivals;
    keepalive_requests 100000000;
    location / { default_type text/plain; return 200 "OK\n"; }
}
EOF
start_nginx "$T" "$NGX"
arrivals() { awk -v p="$1" '$2 == p' "$T/arrivals.log" | wc -l; }
# The span (last - first) of the arrivals at paths starting with $1, and
# (count - 1) / span.
arrival_rate() {
    awk -v p="$1" 'index($2, p) == 1 {n++; if (!f) f = $1; l = $1}
        END {if (n > 1 && l > f) printf "%.3f %.0f", l - f, (n - 1) / (l - f); else print "0 n/a"}' \
        "$T/arrivals.log"
}

# Writes a config to $1: $2 checks, the API on a free port, and, when $3
# is a path, a webhook notifier posting there (rate limit $4 if given) and
# a check_down rule for every check.
write_cfg() {
    local file=$1 n=$2 path=${3:-} limit=${4:-} i
    {
        echo "storage: { path: $(dirname "$file")/ys.db }"
        echo "server: { listen: 127.0.0.1:$(free_port) }"
        echo "defaults: { interval: 1s, timeout: 2s }"
        if [ -n "$path" ]; then
            printf 'notifiers:\n  - { name: hook, kind: webhook, url: "http://127.0.0.1:%d%s"%s }\n' \
                "$NGX" "$path" "${limit:+, rate_limit: $limit}"
            echo "alerts:"
            echo "  - { name: down, when: check_down, notify: [hook] }"
        fi
        echo "checks:"
        for ((i = 0; i < n; i++)); do
            printf '  - { name: c-%04d, kind: tcp, address: "127.0.0.1:%d" }\n' "$i" "$DEAD"
        done
    } >"$file"
    "$YARDSTICK" validate -c "$file" >"$file.validate" 2>&1 ||
        fail "config rejected: $(cat "$file.validate")"
}
api_of() { echo "http://$(awk -F'listen: ' '/^server:/ {split($2, a, " "); print a[1]}' "$1")"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Runs a command; sets WALL, CPU_MS (user + system of the command, from
# bash's `time`) and RC.
timed() {
    local TIMEFORMAT='%R %U %S'
    RC=0
    { time "$@" >"$T/timed.out" 2>"$T/timed.err"; } 2>"$T/time" || RC=$?
    read -r WALL u s <"$T/time"
    CPU_MS=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.0f", (u + s) * 1000}')
}

echo "notify_delivery: N=$N, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); nginx pid $NGINX_PID on :$NGX"
ROWS=()
row() { ROWS+=("$(printf '%-44s %6s %8s %8s %9s %9s' "$@")"); }

# --- A. end to end --------------------------------------------------------
mkdir -p "$T/a" "$T/a0"
write_cfg "$T/a/cfg.yaml" "$N" /hook
write_cfg "$T/a0/cfg.yaml" "$N"
t0=$(now_ms)
"$YARDSTICK" run -c "$T/a/cfg.yaml" 2>"$T/a/daemon.log" &
DAEMON=$!
YS_PIDS+=("$DAEMON")
all_arrived() { [ "$(arrivals "$1")" -ge "$2" ]; }
wait_for 60 "$N POSTs from the daemon at nginx" all_arrived /hook "$N"
A_WALL_MS=$(($(now_ms) - t0))
A_TICKS=$(cpu_ticks "$DAEMON")
A_RSS=$(awk '$1 == "VmHWM:" {printf "%.1f", $2 / 1024}' "/proc/$DAEMON/status")
API=$(api_of "$T/a/cfg.yaml")
delivered_all() {
    curl -sf "$API/api/v1/notifications?limit=500" | grep -o '"state":"delivered"' | wc -l |
        { read -r n; [ "$n" -ge "$N" ]; }
}
wait_for 10 "the daemon to record $N notifications delivered" delivered_all
curl -sf "$API/api/v1/notifications?limit=500" >"$T/a/notifications.json"
curl -sf "$API/api/v1/alerts" >"$T/a/alerts.json"
term_wait "$DAEMON" 30
# The same checks without the rule and the notifier, for the same wall time.
"$YARDSTICK" run -c "$T/a0/cfg.yaml" 2>"$T/a0/daemon.log" &
BASE=$!
YS_PIDS+=("$BASE")
sleep "$(awk -v ms="$A_WALL_MS" 'BEGIN {printf "%.3f", ms / 1000}')"
B_TICKS=$(cpu_ticks "$BASE")
term_wait "$BASE" 30
A_CPU_MS=$(((A_TICKS - B_TICKS) * 1000 / TCK))
BODY_LEN=$(awk '$2 == "/hook" {print $3; exit}' "$T/arrivals.log")
read -r A_SPAN A_LAG <<<"$(python3 - "$T/a/notifications.json" "$T/a/alerts.json" "$T/arrivals.log" "$N" <<'EOF'
import json, sys
notes = json.load(open(sys.argv[1]))["notifications"]
alerts = {a["key"]: a for a in json.load(open(sys.argv[2]))["alerts"]}
n = int(sys.argv[4])
done = [x for x in notes if x["state"] == "delivered"]
assert len(done) >= n, f"{len(done)} delivered of {n}"
assert all(x["attempts"] == 1 for x in done), "a notification needed more than one attempt"
last = max(float(l.split()[0]) for l in open(sys.argv[3]) if l.split()[1] == "/hook")
first_fire = min(a["firing_ms"] for a in alerts.values())
lags = sorted(x["done_ms"] - alerts[x["alert_key"]]["firing_ms"] for x in done)
q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
print(f"{last - first_fire / 1000:.3f} p50={q(0.5)}ms,p99={q(0.99)}ms,max={lags[-1]}ms")
EOF
)"
A_RATE=$(awk -v n="$N" -v s="$A_SPAN" 'BEGIN {printf "%.0f", n / s}')
row "yardstick run: start -> all delivered" "$N" "$(awk -v m="$A_WALL_MS" 'BEGIN {printf "%.3f", m / 1000}')" \
    "$A_SPAN" "$A_RATE" "$(awk -v c="$A_CPU_MS" -v n="$N" 'BEGIN {printf "%.0f", c * 1000 / n}')"

# --- B and C, RUNS times, alternating --------------------------------------
python3 -c 'import sys; sys.stdout.write("{\"k\":\"" + "x" * (int(sys.argv[1]) - 8) + "\"}")' \
    "${BODY_LEN:-400}" >"$T/body.json"
CURL=(curl -s -X POST -H "Content-Type: application/json" --data-binary "@$T/body.json")
per_n() { awk -v c="$1" -v n="$N" 'BEGIN {printf "%.0f", c * 1000 / n}'; }
RATIOS=()
for ((r = 1; r <= RUNS; r++)); do
    # B: N + 1 notifications, one delivered to /setup-r, N held back by
    # the rate limit; the daemon is stopped and --flush-only sends the N.
    mkdir -p "$T/b$r"
    write_cfg "$T/b$r/setup.yaml" "$((N + 1))" "/setup-$r/" 1/1h
    write_cfg "$T/b$r/cfg.yaml" "$((N + 1))" "/drain-$r/"
    "$YARDSTICK" run -c "$T/b$r/setup.yaml" 2>"$T/b$r/daemon.log" &
    DAEMON=$!
    YS_PIDS+=("$DAEMON")
    API=$(api_of "$T/b$r/setup.yaml")
    backlog_full() {
        curl -sf "$API/api/v1/notifications?limit=500" | grep -o '"state":"pending"' | wc -l |
            { read -r n; [ "$n" -ge "$N" ]; }
    }
    wait_for 60 "$N notifications pending behind the rate limit" backlog_full
    term_wait "$DAEMON" 30
    timed "$YARDSTICK" notify send -c "$T/b$r/cfg.yaml" --flush-only --wait 120s
    [ "$RC" = 0 ] || fail "notify send --flush-only exited $RC: $(cat "$T/timed.err")"
    D_WALL=$WALL D_CPU=$CPU_MS
    [ "$(arrivals "/drain-$r/")" -eq "$N" ] || fail "nginx saw $(arrivals "/drain-$r/") POSTs from the drain, not $N"
    timed "$YARDSTICK" notify send -c "$T/b$r/cfg.yaml" --flush-only --wait 10s
    E_CPU=$CPU_MS
    read -r D_SPAN D_RATE <<<"$(arrival_rate "/drain-$r/")"
    row "$r: notify send --flush-only, $N pending" "$N" "$D_WALL" "$D_SPAN" "$D_RATE" "$(per_n $((D_CPU - E_CPU)))"
    # C: the peers.
    timed "${CURL[@]}" "http://127.0.0.1:$NGX/seq-$r/[1-$N]"
    [ "$RC" = 0 ] || fail "curl (one at a time) exited $RC"
    read -r S_SPAN S_RATE <<<"$(arrival_rate "/seq-$r/")"
    row "$r: curl, one at a time (keep-alive)" "$N" "$WALL" "$S_SPAN" "$S_RATE" "$(per_n "$CPU_MS")"
    S_CPU=$CPU_MS
    timed "${CURL[@]}" --parallel --parallel-max 50 "http://127.0.0.1:$NGX/par-$r/[1-$N]"
    [ "$RC" = 0 ] || fail "curl --parallel exited $RC"
    read -r P_SPAN P_RATE <<<"$(arrival_rate "/par-$r/")"
    row "$r: curl --parallel --parallel-max 50" "$N" "$WALL" "$P_SPAN" "$P_RATE" "$(per_n "$CPU_MS")"
    got=$(awk -v s="/seq-$r/" -v p="/par-$r/" 'index($2, s) == 1 || index($2, p) == 1' "$T/arrivals.log" | wc -l)
    [ "$got" -eq $((2 * N)) ] || fail "nginx saw $got of the peers' $((2 * N)) POSTs"
    RATIOS+=("$(awk -v r="$r" -v d="$D_RATE" -v s="$S_RATE" -v p="$P_RATE" -v dc="$((D_CPU - E_CPU))" -v sc="$S_CPU" \
        -v e="$E_CPU" 'BEGIN {printf "run %d: outbox drain / curl one at a time: rate %.2f, CPU per notification %.1fx;" \
        " / curl --parallel: rate %.2f (start-up of --flush-only subtracted: %d ms)", r, d / s, dc / sc, d / p, e}')")
done

printf '%-44s %6s %8s %8s %9s %9s\n' "" notifs wall_s span_s notifs/s cpu_us/n
for r in "${ROWS[@]}"; do echo "$r"; done
echo "notify_delivery: body $BODY_LEN bytes (Content-Length of the daemon's webhook POSTs)"
echo "notify_delivery: A: lag alert firing -> delivered $A_LAG; daemon peak RSS $A_RSS MiB;" \
    "daemon CPU $((A_TICKS * 1000 / TCK)) ms, probes-only baseline $((B_TICKS * 1000 / TCK)) ms, difference $A_CPU_MS ms"
for r in "${RATIOS[@]}"; do echo "notify_delivery: $r"; done
