# test_dns_propagation.sh - the dns_propagation kind and `yardstick dns wait`
# against a real primary and secondary (two knotd on loopback ports, NOTIFY
# and AXFR/IXFR between them).
#
# Knot transfers within milliseconds of a NOTIFY, too fast to see a lag at a
# 500 ms probe interval, so the lag is made on purpose: the secondary's zone
# is frozen (`knotc zone-freeze`: the NOTIFY-triggered refresh is held), the
# primary's zone changes, and after DELAY seconds the secondary is thawed.
# Asserts that the daemon reports the secondary as lagging (by address and
# serial), then agreement, and stores a propagation sample (the result's
# value) between DELAY - interval - slack and (secondary updated - change
# started) + interval + slack. Then `dns wait`: 0 once a change (this time
# by NOTIFY alone) reaches both servers, 1 for a value that never appears.
#
# NS discovery: the zone names ns1 (127.0.0.1) and ns2 (127.0.0.2), and the
# secondary also listens on 127.0.0.2 at the primary's port, so a second
# check that is given only the primary and `discover_ns` with
# `discover_port` finds the secondary through NS and A and reports its lag
# the same way. The facts of both checks (from `history --format json` and
# the API's last result) name every server with its serial, answers and
# "lags" while it lags.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KNOTD=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}
KNOTC=${KNOTC:-$(command -v knotc || echo /usr/sbin/knotc)}
command -v kdig >/dev/null || fail "kdig (knot-dnsutils) is missing: run scripts/deps.sh test"
[ -x "$KNOTD" ] || fail "knotd (knot) is missing: run scripts/deps.sh test"

ys_tmpdir T
PP=$(free_port)
SP=$(free_port)
while [ "$SP" = "$PP" ]; do SP=$(free_port); done
PRI="127.0.0.1:$PP"
SEC="127.0.0.1:$SP"
ZONE=example.test
DELAY=3        # seconds the secondary is held behind the primary
INTERVAL=0.5   # the check's interval, seconds
SLACK=0.3      # probe and scheduling jitter beyond one interval

# Writes the primary's zone file with SERIAL and the www address ADDR.
write_zone() {
    cat >"$T/pri/$ZONE.zone.tmp" <<EOF
\$ORIGIN $ZONE.
\$TTL 60
@   SOA ns1 hostmaster $1 3600 600 86400 60
@   NS  ns1
@   NS  ns2
ns1 A   127.0.0.1
ns2 A   127.0.0.2
www A   $2
EOF
    mv "$T/pri/$ZONE.zone.tmp" "$T/pri/$ZONE.zone"
}

# Writes DIR/knot.conf: a knotd on LISTEN (knot's form: "127.0.0.1@53" or
# "[ a@p, b@p ]"); ROLE primary (notifies and allows transfers to the
# other, on 127.0.0.1@OTHER) or secondary (transfers from the other,
# accepts its NOTIFY). Each server keeps everything inside its own DIR.
write_knot_conf() {
    local dir=$1 listen=$2 role=$3 other=$4
    {
        cat <<EOF
server:
    rundir: "$dir"
    listen: $listen
database:
    storage: "$dir/db"
control:
    listen: "$dir/knot.sock"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "$dir"
    file: "%s.zone"
remote:
  - id: other
    address: 127.0.0.1@$other
EOF
        if [ "$role" = primary ]; then
            printf 'acl:\n  - id: peer\n    address: 127.0.0.1\n    action: transfer\n'
            printf 'zone:\n  - domain: %s\n    notify: other\n    acl: peer\n' "$ZONE"
        else
            printf 'acl:\n  - id: peer\n    address: 127.0.0.1\n    action: notify\n'
            printf 'zone:\n  - domain: %s\n    master: other\n    acl: peer\n' "$ZONE"
        fi
    } >"$dir/knot.conf"
}

start_knot() {
    local dir=$1
    "$KNOTD" -c "$dir/knot.conf" </dev/null >>"$dir/knotd.log" 2>&1 &
    YS_PIDS+=("$!")
}

# Prints the SOA serial SERVER (ip:port) answers for the zone, or nothing.
serial_at() {
    kdig @"${1%:*}" -p "${1##*:}" +short +time=1 +retry=0 "$ZONE" SOA 2>/dev/null | awk '{print $3}'
}
has_serial() { [ "$(serial_at "$1")" = "$2" ]; }
now() { date +%s.%N; }
# Prints A - B (decimal seconds).
sub() { python3 -c 'import sys; print(float(sys.argv[1]) - float(sys.argv[2]))' "$1" "$2"; }
add() { python3 -c 'import sys; print(sum(float(x) for x in sys.argv[1:]))' "$@"; }

# The secondary as ns2: 127.0.0.2 at the primary's port (all of 127/8 is
# loopback on Linux).
SEC2="127.0.0.2:$PP"
python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.2", int(sys.argv[1])))' "$PP" ||
    fail "cannot bind 127.0.0.2:$PP for the NS discovery case"

mkdir -p "$T/pri" "$T/sec"
write_zone 2026112901 192.0.2.1
write_knot_conf "$T/pri" "127.0.0.1@$PP" primary "$SP"
write_knot_conf "$T/sec" "[ 127.0.0.1@$SP, 127.0.0.2@$PP ]" secondary "$PP"
start_knot "$T/pri"
start_knot "$T/sec"
wait_for 15 "the primary to serve $ZONE" has_serial "$PRI" 2026112901
wait_for 15 "the secondary to transfer $ZONE" has_serial "$SEC" 2026112901
wait_for 5 "the secondary on $SEC2" has_serial "$SEC2" 2026112901
log "primary on $PRI, secondary on $SEC and $SEC2, both at serial 2026112901"

# ---- the daemon watches both servers ----------------------------------------
CFG="$T/cfg.yaml"
WEB=$(free_port)
while [ "$WEB" = "$PP" ] || [ "$WEB" = "$SP" ]; do WEB=$(free_port); done
cat >"$CFG" <<EOF
storage: { path: $T/y.db }
server: { listen: "127.0.0.1:$WEB" }
checks:
  - name: www-prop
    kind: dns_propagation
    interval: 500ms
    timeout: 2s
    query: www.$ZONE
    type: A
    zone: $ZONE
    servers: ["$PRI", "$SEC"]
    max_lag: 1m
  - name: www-disc
    kind: dns_propagation
    interval: 500ms
    timeout: 2s
    query: www.$ZONE
    zone: $ZONE
    servers: ["$PRI"]
    discover_ns: true
    discover_port: $PP
    max_lag: 1m
EOF
"$YARDSTICK" validate -c "$CFG" >/dev/null || fail "the config does not validate"
"$YARDSTICK" run -c "$CFG" --log-level info >>"$T/daemon.out" 2>>"$T/daemon.log" &
DAEMON_PID=$!
YS_PIDS+=("$DAEMON_PID")

# Writes the raw history of check $1 (default www-prop) to $T/h.json; fails
# quietly before the store exists.
hist() {
    "$YARDSTICK" history "${1:-www-prop}" -c "$CFG" --since 1h --format json >"$T/h.json" \
        2>"$T/h.err"
}
# Succeeds when some stored result's message contains $1 (of check $2).
stored_message() {
    hist "${2:-www-prop}" || return 1
    python3 - "$T/h.json" "$1" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
sys.exit(0 if any(sys.argv[2] in (r.get("message") or "") for r in rows) else 1)
EOF
}
# Succeeds when some stored result of check $1 has facts equal to $2 (JSON)
# in every key $2 gives per server (ms excepted: it varies).
stored_facts() {
    hist "$1" || return 1
    python3 - "$T/h.json" "$2" <<'EOF'
import json, sys
rows, want = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
def match(facts):
    return isinstance(facts, list) and len(facts) == len(want) and all(
        all(f.get(k) == v for k, v in w.items()) for f, w in zip(facts, want))
sys.exit(0 if any(match(r.get("facts")) for r in rows) else 1)
EOF
}
# Prints the values of the stored results that carry one, one a line.
stored_values() {
    hist || return 1
    python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    if r.get("value") is not None:
        print(r["value"])' "$T/h.json"
}
wait_for 15 "the baseline agreement in the store" stored_message "all 2 servers agree: serial 2026112901"
wait_for 5 "the baseline agreement of the discovered servers" stored_message \
    "all 2 servers agree: serial 2026112901" www-disc
[ -z "$(stored_values)" ] || fail "the baseline must not yield a propagation sample: $(stored_values)"

# ---- a change held back on the secondary ------------------------------------
# -b: wait until the freeze is in force; knotc otherwise returns while it is
# still queued, and a NOTIFY arriving first would be applied.
"$KNOTC" -b -s "$T/sec/knot.sock" zone-freeze "$ZONE" >/dev/null || fail "zone-freeze failed"
T_CHANGE=$(now)
write_zone 2026112902 192.0.2.2
"$KNOTC" -s "$T/pri/knot.sock" zone-reload "$ZONE" >/dev/null || fail "zone-reload failed"
wait_for 10 "the primary to serve serial 2026112902" has_serial "$PRI" 2026112902
T_PRIMARY=$(now)
sleep "$DELAY"
has_serial "$SEC" 2026112901 || fail "the frozen secondary moved on: $(serial_at "$SEC")"
wait_for 5 "the lag in the store" stored_message \
    "1/2 servers agree; $SEC lags: serial 2026112901 < 2026112902, answers [192.0.2.1]"
wait_for 5 "the lag of the discovered secondary in the store" stored_message \
    "1/2 servers agree; $SEC2 lags: serial 2026112901 < 2026112902, answers [192.0.2.1]" www-disc
# The facts say the same per server: serials, answers, who lags.
LAG_FACTS='[{"server": "'$PRI'", "rcode": "NOERROR", "answers": ["192.0.2.2"], "serial": 2026112902, "lags": null},
 {"server": "%s", "rcode": "NOERROR", "answers": ["192.0.2.1"], "serial": 2026112901, "lags": true}]'
# shellcheck disable=SC2059
wait_for 5 "the lag in the stored facts" stored_facts www-prop "$(printf "$LAG_FACTS" "$SEC")"
# shellcheck disable=SC2059
wait_for 5 "the discovered lag in the stored facts" stored_facts www-disc "$(printf "$LAG_FACTS" "$SEC2")"
# The API's last result carries the same facts while the lag lasts.
api_facts() {
    curl -fsS "http://127.0.0.1:$WEB/api/v1/checks" >"$T/api.json" 2>/dev/null || return 1
    python3 - "$T/api.json" "$SEC2" <<'EOF'
import json, sys
checks = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}
facts = ((checks["www-disc"].get("last") or {}).get("facts")) or []
sys.exit(0 if [f.get("server") for f in facts if f.get("lags")] == [sys.argv[2]] else 1)
EOF
}
wait_for 5 "the lag in the API's last result" api_facts
T_THAW=$(now)
"$KNOTC" -s "$T/sec/knot.sock" zone-thaw "$ZONE" >/dev/null || fail "zone-thaw failed"
end=$((SECONDS + 15))
until has_serial "$SEC" 2026112902; do
    [ "$SECONDS" -lt "$end" ] || fail "the secondary never transferred serial 2026112902: $(tail -5 "$T/sec/knotd.log")"
    sleep 0.05
done
T_SECONDARY=$(now)
log "change at +0, primary served it at +$(sub "$T_PRIMARY" "$T_CHANGE")s, thaw at +$(sub "$T_THAW" "$T_CHANGE")s, secondary at +$(sub "$T_SECONDARY" "$T_CHANGE")s"

wait_for 10 "agreement on the new serial" stored_message "all 2 servers agree: serial 2026112902, answers [192.0.2.2]; propagated in"
wait_for 5 "agreement of the discovered servers on the new serial" stored_message \
    "all 2 servers agree: serial 2026112902, answers [192.0.2.2]; propagated in" www-disc
SAMPLES=$(stored_values)
assert_eq "$(wc -l <<<"$SAMPLES")" 1 "propagation samples stored"
LO=$(sub "$(sub "$T_THAW" "$T_PRIMARY")" "$(add "$INTERVAL" "$SLACK")")
HI=$(add "$(sub "$T_SECONDARY" "$T_CHANGE")" "$INTERVAL" "$SLACK")
log "propagation sample ${SAMPLES}s, bounds [$LO, $HI]"
assert_between "$SAMPLES" "$LO" "$HI" "propagation sample (s)"
# The failure that max_lag (1m) would raise never came: every result passed.
hist
python3 -c 'import json, sys
bad = [r for r in json.load(open(sys.argv[1])) if not r["ok"]]
sys.exit(1 if bad else 0)' "$T/h.json" || fail "a result failed while the lag was under max_lag: $(cat "$T/h.json")"

# ---- dns wait ----------------------------------------------------------------
SERVERS="$PRI,$SEC"
run_capture rc "$T/w1.out" "$T/w1.err" "$YARDSTICK" dns wait "www.$ZONE" A 192.0.2.2 \
    --servers "$SERVERS" --timeout 10s --interval 200ms
assert_eq "$rc" 0 "dns wait after propagation: exit code ($(cat "$T/w1.err"))"
assert_contains "$(cat "$T/w1.out")" "all 2 servers return 192.0.2.2 after" "dns wait output"

# A change that travels by NOTIFY alone: dns wait starts before it and
# returns once both servers have it.
write_zone 2026112903 192.0.2.3
"$YARDSTICK" dns wait "www.$ZONE" A 192.0.2.3 --servers "$SERVERS" --timeout 20s \
    --interval 200ms >"$T/w2.out" 2>"$T/w2.err" &
WAIT_PID=$!
YS_PIDS+=("$WAIT_PID")
sleep 0.5
"$KNOTC" -s "$T/pri/knot.sock" zone-reload "$ZONE" >/dev/null || fail "zone-reload failed"
rc=0
wait "$WAIT_PID" || rc=$?
forget_pid "$WAIT_PID"
assert_eq "$rc" 0 "dns wait across a NOTIFY: exit code ($(cat "$T/w2.out" "$T/w2.err"))"
assert_contains "$(cat "$T/w2.out")" "all 2 servers return 192.0.2.3 after" "dns wait output"
has_serial "$SEC" 2026112903 || fail "dns wait returned before the secondary had serial 2026112903"

run_capture rc "$T/w3.out" "$T/w3.err" "$YARDSTICK" dns wait "www.$ZONE" A 192.0.2.99 \
    --servers "$SERVERS" --timeout 1500ms --interval 200ms
assert_eq "$rc" 1 "dns wait for a value that never appears: exit code"
assert_contains "$(cat "$T/w3.out")" "2/2 servers do not return 192.0.2.99" "dns wait timeout output"
assert_contains "$(cat "$T/w3.out")" "$SEC: [192.0.2.3]" "dns wait names the servers"

run_capture rc "$T/w4.out" "$T/w4.err" "$YARDSTICK" dns wait "www.$ZONE" A 192.0.2.3 --servers nope
assert_eq "$rc" 2 "dns wait with a bad server: exit code"

kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died: $(tail -20 "$T/daemon.log")"
term_wait "$DAEMON_PID"
assert_eq "$TERM_RC" 0 "daemon exit code after SIGTERM"
log "ok"
