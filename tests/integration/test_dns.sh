# test_dns.sh - the dns and dns_records kinds against a real knot server.
#
# knotd serves a small zone on a free loopback port, on 127.0.0.1 and (when
# the machine has it) ::1, plus a zone whose file does not load, which it
# answers with SERVFAIL (config, zones, rundir and storage in the test's
# temp folder); two python3 UDP responders play broken servers: one never
# answers (timeout), one answers with a response whose answer record is cut
# short (malformed). Asserts on answers (also a multi-A RRset listed in
# another order), NXDOMAIN, SERVFAIL, a wrong expectation's message, TTL
# bounds, the SOA serial, TCP after truncation (a TXT RRset over 512 bytes;
# c-ares sends no EDNS), an IPv6 server, dns_records' percentage, and the
# facts of every check: per server its rcode, answers, lowest TTL, serial
# where asked, error, and a response time within the check's duration.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KNOTD=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}
KNOTC=${KNOTC:-$(command -v knotc || echo /usr/sbin/knotc)}
[ -x "$KNOTD" ] || fail "knotd not found (apt-get install knot)"

ys_tmpdir T
PORT=$(free_port)
mkdir -p "$T/run" "$T/db"

# IPv6 loopback: knot listens there too when the machine has it.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    HAVE_V6=1
    LISTEN="[ 127.0.0.1@$PORT, ::1@$PORT ]"
else
    HAVE_V6=0
    LISTEN="127.0.0.1@$PORT"
    log "SKIP the IPv6 case: ::1 is not available on this machine"
fi

# A TXT RRset of 8 strings of 100 bytes: ~900 bytes, over the 512-byte limit.
BIG=""
for i in 1 2 3 4 5 6 7 8; do
    BIG+="big 300 TXT \"$i$(printf 'x%.0s' $(seq 1 99))\""$'\n'
done

cat >"$T/example.test.zone" <<EOF
\$ORIGIN example.test.
\$TTL 300
@       IN SOA ns1 hostmaster 2024010107 3600 600 86400 300
@       NS    ns1
ns1     A     127.0.0.1
www     600   A 192.0.2.10
multi   A     192.0.2.1
multi   A     192.0.2.2
multi   A     192.0.2.3
alias   CNAME www
mail    MX    10 mx1
_sip._tcp SRV 10 5 5060 sip
@       CAA   0 issue "letsencrypt.org"
$BIG
EOF

# A zone knot is configured to serve but whose file does not load: knot
# answers every question in it with SERVFAIL.
cat >"$T/broken.test.zone" <<EOF
\$ORIGIN broken.test.
\$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 300
www     A     not-an-address
EOF

cat >"$T/knot.conf" <<EOF
server:
    rundir: "$T/run"
    listen: $LISTEN
control:
    listen: "$T/run/knot.sock"
database:
    storage: "$T/db"
log:
  - target: "$T/knot.log"
    any: info
template:
  - id: default
    storage: "$T"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: example.test
  - domain: broken.test
EOF

"$KNOTD" -c "$T/knot.conf" </dev/null >"$T/knotd.out" 2>&1 &
KNOT_PID=$!
YS_PIDS+=("$KNOT_PID")
knot_ready() { "$KNOTC" -c "$T/knot.conf" zone-status example.test 2>/dev/null | grep -q serial; }
wait_for 10 "knotd on port $PORT" knot_ready
kill -0 "$KNOT_PID" 2>/dev/null || fail "knotd exited: $(cat "$T/knotd.out" "$T/knot.log")"
wait_for 5 "knot to give up loading broken.test" grep -q "broken.test.*failed to load" "$T/knot.log"

# Broken UDP servers: `silent` never answers, `malformed` echoes the query
# with QR set and ANCOUNT=1 but only half a resource record after it.
start_udp() {
    local mode=$1 port=$2
    python3 -u - "$mode" "$port" >"$T/udp-$mode.log" 2>&1 <<'EOF' &
import socket, sys
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
print("ready", flush=True)
while True:
    q, addr = s.recvfrom(4096)
    if mode == "malformed":
        hdr = q[:2] + bytes([0x81, 0x80]) + q[4:6] + b"\x00\x01\x00\x00\x00\x00"
        s.sendto(hdr + q[12:] + b"\xc0\x0c\x00\x01\x00\x01\x00\x00", addr)
EOF
    YS_PIDS+=($!)
    wait_for 5 "udp $mode responder" grep -q ready "$T/udp-$mode.log"
}
SILENT=$(free_port)
BAD=$(free_port)
start_udp silent "$SILENT"
start_udp malformed "$BAD"
K="127.0.0.1:$PORT"

# The same question of knot over IPv6 and IPv4 (both must answer).
V6_CHECK=""
if [ "$HAVE_V6" = 1 ]; then
    V6_CHECK="  - { name: ipv6, kind: dns, query: www.example.test, servers: [\"[::1]:$PORT\", \"$K\"], expect: [192.0.2.10] }"
fi

cat >"$T/cfg.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { timeout: 2s }
checks:
  - { name: a_ok, kind: dns, query: www.example.test, servers: ["$K"], expect: [192.0.2.10] }
  - name: multi_order
    kind: dns
    query: multi.example.test
    servers: ["$K", "$K"]
    expect: [192.0.2.3, 192.0.2.1, 192.0.2.2]
  - name: nxdomain
    kind: dns
    query: nope.example.test
    servers: ["$K"]
    expect: { rcode: NXDOMAIN, soa_serial_min: 2024010107 }
  - name: nxdomain_unexpected
    kind: dns
    query: nope.example.test
    servers: ["$K"]
  - { name: wrong, kind: dns, query: www.example.test, servers: ["$K"], expect: [192.0.2.11] }
  - name: ttl_ok
    kind: dns
    query: www.example.test
    servers: ["$K"]
    expect: { min_ttl: 600, max_ttl: 600, contains: [192.0.2.10] }
  - name: ttl_low
    kind: dns
    query: www.example.test
    servers: ["$K"]
    expect: { min_ttl: 3600 }
  - { name: soa, kind: dns, query: example.test, type: SOA, servers: ["$K"], expect: { soa_serial_min: 2024010107 } }
  - { name: soa_behind, kind: dns, query: example.test, type: SOA, servers: ["$K"], expect: { soa_serial_min: 2024010108 } }
  - { name: mx, kind: dns, query: mail.example.test, type: MX, servers: ["$K"], expect: ["10 mx1.example.test"] }
  - { name: srv, kind: dns, query: _sip._tcp.example.test, type: SRV, servers: ["$K"], expect: ["10 5 5060 sip.example.test."] }
  - { name: caa, kind: dns, query: example.test, type: CAA, servers: ["$K"], expect: ['0 issue "letsencrypt.org"'] }
  - { name: cname, kind: dns, query: alias.example.test, type: CNAME, servers: ["$K"], expect: [www.example.test] }
  - name: big_txt
    kind: dns
    query: big.example.test
    type: TXT
    servers: ["$K"]
    expect: { contains: ["1$(printf 'x%.0s' $(seq 1 99))"] }
  - name: silent
    kind: dns
    query: www.example.test
    servers: ["$K", "127.0.0.1:$SILENT"]
    timeout: 1s
  - { name: malformed, kind: dns, query: www.example.test, servers: ["127.0.0.1:$BAD"] }
  - { name: servfail, kind: dns, query: www.broken.test, servers: ["$K"] }
  - name: servfail_expected
    kind: dns
    query: www.broken.test
    servers: ["$K"]
    expect: { rcode: SERVFAIL }
$V6_CHECK
  - name: records
    kind: dns_records
    servers: ["$K"]
    records:
      - { name: alias.example.test, type: CNAME, value: www.example.test }
      - { name: gone.example.test, type: CNAME, value: www.example.test }
  - name: records_all
    kind: dns_records
    servers: ["$K"]
    records:
      - { name: multi.example.test, type: A, value: 192.0.2.1 }
      - { name: multi.example.test, type: A, value: 192.0.2.3 }
      - { name: www.example.test, type: A, value: 192.0.2.10 }
EOF

run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json \
    --log-level debug
if [ "$rc" != 1 ]; then
    cat "$T/err.txt" "$T/out.json" >&2
    fail "check exit code: expected 1 (some checks fail), got $rc"
fi
log "check output: $(cat "$T/out.json")"
OUT="$T/out.json"
f() { json_get "$OUT" "name=$1.$2"; }
expect_ok() {
    assert_eq "$(f "$1" ok)" true "$1.ok ($(f "$1" message))"
}
expect_fail() { # NAME ERRORCLASS MESSAGE-SUBSTRING
    assert_eq "$(f "$1" ok)" false "$1.ok"
    assert_eq "$(f "$1" error)" "$2" "$1.error ($(f "$1" message))"
    assert_contains "$(f "$1" message)" "$3" "$1.message"
}

for c in a_ok multi_order nxdomain ttl_ok soa mx srv caa cname big_txt records_all; do
    expect_ok "$c"
done
assert_between "$(f a_ok value)" 0 1000 "a_ok.value (slowest response, ms)"
expect_fail nxdomain_unexpected dns "$K: rcode NXDOMAIN, expected NOERROR"
expect_fail wrong assertion "$K: answers [192.0.2.10] differ from expected [192.0.2.11]"
expect_fail ttl_low assertion "TTL 600 of 192.0.2.10 is below min_ttl 3600"
expect_fail soa_behind assertion "SOA serial 2024010107 is below 2024010108"
expect_fail silent timeout "127.0.0.1:$SILENT: timed out after 1s"
assert_between "$(f silent duration_ms)" 1000 1300 "silent.duration_ms (timeout 1s)"
expect_fail malformed dns "127.0.0.1:$BAD: malformed response"
expect_fail records assertion "gone.example.test CNAME www.example.test.: NXDOMAIN on $K"
assert_between "$(f records value)" 50 50 "records.value (1 of 2 present)"
assert_between "$(f records_all value)" 100 100 "records_all.value"
expect_fail servfail dns "$K: rcode SERVFAIL, expected NOERROR"
expect_ok servfail_expected
if [ "$HAVE_V6" = 1 ]; then
    expect_ok ipv6
fi

# The facts: what each server said, in the order of the config.
K="$K" SILENT="127.0.0.1:$SILENT" BAD="127.0.0.1:$BAD" V6="[::1]:$PORT" HAVE_V6="$HAVE_V6" \
    python3 - "$OUT" <<'PY' || fail "facts (check output: $(cat "$OUT"))"
import json, os, sys
checks = {c["name"]: c for c in json.load(open(sys.argv[1]))}
K, SILENT, BAD, V6 = (os.environ[k] for k in ("K", "SILENT", "BAD", "V6"))
www = {"rcode": "NOERROR", "answers": ["192.0.2.10"], "ttl": 600}
multi = {"rcode": "NOERROR", "answers": {"192.0.2.1", "192.0.2.2", "192.0.2.3"}, "ttl": 300}
want = {
    "a_ok": [dict(server=K, serial=None, **www)],
    "multi_order": [dict(server=K, **multi), dict(server=K, **multi)],
    "nxdomain": [{"server": K, "rcode": "NXDOMAIN", "answers": [], "ttl": None,
                  "serial": 2024010107}],
    "soa": [{"server": K, "rcode": "NOERROR", "ttl": 300, "serial": 2024010107}],
    "ttl_ok": [dict(server=K, **www)],
    "silent": [dict(server=K, **www), {"server": SILENT, "error": "timeout", "ms": None}],
    "malformed": [{"server": BAD, "error": "dns", "rcode": None}],
    "servfail": [{"server": K, "rcode": "SERVFAIL", "answers": []}],
    "records": [{"name": "gone.example.test", "type": "CNAME", "value": "www.example.test.",
                 "why": "NXDOMAIN on " + K}],
    "records_all": None,
}
if os.environ["HAVE_V6"] == "1":
    want["ipv6"] = [dict(server=V6, **www), dict(server=K, **www)]
bad = []
for name, servers in want.items():
    facts = checks[name].get("facts")
    if servers is None:
        if facts is not None:
            bad.append(f"{name}: expected no facts, got {facts}")
        continue
    if not isinstance(facts, list) or len(facts) != len(servers):
        bad.append(f"{name}: expected {len(servers)} server facts, got {facts}")
        continue
    for i, (got, exp) in enumerate(zip(facts, servers)):
        for key, val in exp.items():
            g = got.get(key)
            if isinstance(val, set):
                g = set(g or [])
            if g != val:
                bad.append(f"{name}[{i}].{key}: expected {val!r}, got {g!r}")
        # A response time for every server that answered, within the check's.
        if "rcode" in got:
            ms, total = got.get("ms"), checks[name]["duration_ms"]
            if not isinstance(ms, (int, float)) or not 0 < ms <= total or ms > 1000:
                bad.append(f"{name}[{i}].ms: {ms!r} outside (0, {total}]")
# The TXT RRset does not fit: answers cut from the end, marked, still JSON.
big = checks["big_txt"]["facts"][0]
if not (big.get("tcp") is True and big.get("more") is True and 1 <= len(big["answers"]) < 8):
    bad.append(f"big_txt facts: {big}")
if len(json.dumps(checks["big_txt"]["facts"], separators=(",", ":"))) >= 384:
    bad.append("big_txt facts are longer than the result's facts buffer")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# The big TXT answer came over TCP (the client logs it at debug level), the
# small ones over UDP.
assert_contains "$(grep "check 'big_txt'" "$T/err.txt")" "over TCP (UDP answer truncated)" \
    "big_txt debug log"
assert_not_contains "$(grep "check 'a_ok'" "$T/err.txt")" "over TCP" "a_ok debug log"

# And the truncation really happens on the wire (TC=1 over UDP).
python3 - "$PORT" <<'EOF' || fail "knot did not truncate the big TXT answer over UDP"
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in b"big.example.test".split(b".")) + b"\0"
q += struct.pack(">HH", 16, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
r = s.recv(4096)
sys.exit(0 if r[2] & 0x02 else 1)
EOF
log "all dns checks behaved"
