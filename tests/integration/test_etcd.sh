#!/usr/bin/env bash
# test_etcd.sh - the etcd kind against a real etcd (Debian's etcd-server,
# 3.4 on Debian 12), started here as a single-member cluster on free
# loopback ports: once over plain HTTP, once over TLS with client
# certificates required.
#
# Asserts on `yardstick check --format json`: a healthy member passes with
# the read latency as value (0 < ms < 1000) and the version etcd itself
# reports in the facts; two endpoints with one dead fail naming the dead
# one (and pass with min_healthy: 1); an alarm makes /health false; a
# frozen etcd is a timeout; facts of 16 endpoints are trimmed whole; a stopped etcd is a connect failure
# naming the endpoint; TLS without a client certificate fails in TLS.
source "$(dirname "$0")/lib.sh"

ETCD=${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}
[ -x "$ETCD" ] || fail "etcd is not installed (bash scripts/deps.sh test installs etcd-server)"
ETCD_VERSION=$("$ETCD" --version | awk '/^etcd Version:/ {print $3}')
[ -n "$ETCD_VERSION" ] || fail "cannot read etcd's version"

ys_tmpdir T
C="$T/certs"
make_certs "$C"
# Signs a certificate $1 by the test CA with the extensions in $2.
sign() {
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$C/$1.key" -out "$C/$1.csr" \
        -subj "/CN=yardstick-$1" 2>/dev/null || fail "cannot make the $1 key"
    printf '%b' "$2" >"$C/$1.ext"
    openssl x509 -req -in "$C/$1.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
        -days 30 -sha256 -extfile "$C/$1.ext" -out "$C/$1.pem" 2>/dev/null ||
        fail "cannot sign the $1 certificate"
}
# A client certificate for --client-cert-auth. etcd's server certificate
# needs clientAuth too: etcd 3.4's JSON gateway dials etcd's own gRPC port
# with it, and with --client-cert-auth that port checks it like any client's.
sign client 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n'
sign server 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n'

# Starts one etcd member named $1 with its data in $T/$1, serving clients
# with scheme $2 (extra flags after it). Sets ETCD_PID and ETCD_PORT.
start_etcd() {
    local name=$1 scheme=$2 peer
    shift 2
    ETCD_PORT=$(free_port)
    peer=$(free_port)
    "$ETCD" --name "$name" --data-dir "$T/$name" \
        --listen-client-urls "$scheme://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls "$scheme://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$peer" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "$name=http://127.0.0.1:$peer" \
        --initial-cluster-state new "$@" >"$T/$name.log" 2>&1 &
    ETCD_PID=$!
    YS_PIDS+=("$ETCD_PID")
}

# Runs `yardstick check` on config $1; output in $T/out.json, exit code in RC.
check() {
    run_capture RC "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$1" --format json
    log "check $(basename "$1"): rc=$RC $(tr -d ' \n' <"$T/out.json")"
    [ -s "$T/out.json" ] || { cat "$T/err.txt" >&2; fail "check printed nothing"; }
}
get() { json_get "$T/out.json" "0.$1"; }

# Asserts the single result is a healthy member's: value, facts, version.
assert_healthy() {
    local what=$1 port=$2
    assert_eq "$RC" 0 "$what: exit code"
    assert_eq "$(get ok)" true "$what: ok ($(get message))"
    assert_eq "$(get message)" "" "$what: message"
    python3 -c 'import sys; v = float(sys.argv[1]); sys.exit(0 if 0 < v < 1000 else 1)' \
        "$(get value)" || fail "$what: value $(get value) is not within (0, 1000) ms"
    assert_eq "$(get facts.0.endpoint)" "127.0.0.1:$port" "$what: facts endpoint"
    assert_eq "$(get facts.0.healthy)" true "$what: facts healthy"
    assert_eq "$(get facts.0.version)" "$ETCD_VERSION" "$what: facts version (etcd --version)"
    assert_eq "$(get facts.0.read_ms)" "$(get value)" "$what: the slowest read is the value"
}

# --- plain HTTP -----------------------------------------------------------
start_etcd plain http
PLAIN_PID=$ETCD_PID
PLAIN=$ETCD_PORT
wait_for 30 "etcd on $PLAIN" curl -sf "http://127.0.0.1:$PLAIN/health"
DEAD=$(free_port)

cat >"$T/plain.yaml" <<EOF
checks:
  - name: etcd
    kind: etcd
    timeout: 5s
    endpoints: ["http://127.0.0.1:$PLAIN"]
EOF
check "$T/plain.yaml"
assert_healthy "plain" "$PLAIN"

# Two endpoints, one dead: every endpoint must be healthy by default.
cat >"$T/two.yaml" <<EOF
checks:
  - name: etcd
    kind: etcd
    timeout: 5s
    endpoints: ["http://127.0.0.1:$PLAIN", "http://127.0.0.1:$DEAD"]
EOF
check "$T/two.yaml"
assert_eq "$RC" 1 "two endpoints, one dead: exit code"
assert_eq "$(get ok)" false "two endpoints, one dead: ok"
assert_eq "$(get error)" connect "two endpoints, one dead: error"
assert_contains "$(get message)" "127.0.0.1:$DEAD: health: cannot connect" "two endpoints: message"
assert_not_contains "$(get message)" "127.0.0.1:$PLAIN" "two endpoints: message"
assert_eq "$(get facts.0.healthy)" true "two endpoints: the live one's facts"
assert_eq "$(get facts.1.healthy)" false "two endpoints: the dead one's facts"
assert_eq "$(get facts.1.error)" connect "two endpoints: the dead one's error"

# min_healthy: 1 accepts the same pair.
sed 's/^    timeout: 5s$/    timeout: 5s\n    min_healthy: 1/' "$T/two.yaml" >"$T/two1.yaml"
check "$T/two1.yaml"
assert_eq "$RC" 0 "min_healthy 1: exit code"
assert_eq "$(get ok)" true "min_healthy 1: ok ($(get message))"
assert_eq "$(get facts.1.healthy)" false "min_healthy 1: the dead one is still in the facts"

# An active alarm makes etcd answer /health with 503 {"health":"false"}:
# raise NOSPACE through the maintenance API, then clear it again.
alarm() {
    curl -sf -X POST "http://127.0.0.1:$PLAIN/v3/maintenance/alarm" \
        -d "{\"action\":\"$1\",\"memberID\":\"$MEMBER\",\"alarm\":\"NOSPACE\"}" >/dev/null ||
        fail "cannot $1 the NOSPACE alarm"
}
MEMBER=$(curl -sf -X POST "http://127.0.0.1:$PLAIN/v3/kv/range" -d '{"key":"eA=="}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["header"]["member_id"])')
alarm ACTIVATE
check "$T/plain.yaml"
assert_eq "$RC" 1 "alarm: exit code"
assert_eq "$(get ok)" false "alarm: ok"
assert_eq "$(get error)" assertion "alarm: error"
assert_eq "$(get message)" "127.0.0.1:$PLAIN (etcd $ETCD_VERSION): health false" "alarm: message"
assert_eq "$(get facts.0.version)" "$ETCD_VERSION" "alarm: the version is still asked"
assert_eq "$(get facts.0.read_ms)" "<missing>" "alarm: no read from an unhealthy member"
alarm DEACTIVATE
check "$T/plain.yaml"
assert_healthy "alarm cleared" "$PLAIN"

# A frozen etcd (SIGSTOP) accepts connections but never answers: the
# check's timeout ends the probe, naming the step it was in.
sed 's/^    timeout: 5s$/    timeout: 1s/' "$T/plain.yaml" >"$T/short.yaml"
kill -STOP "$PLAIN_PID"
check "$T/short.yaml"
kill -CONT "$PLAIN_PID"
assert_eq "$RC" 1 "frozen: exit code"
assert_eq "$(get error)" timeout "frozen: error"
assert_eq "$(get message)" "127.0.0.1:$PLAIN: health: timed out after 1s" "frozen: message"
assert_between "$(get duration_ms)" 900 2500 "frozen: duration_ms"

# Sixteen endpoints do not fit the result's facts: whole endpoints are
# dropped from the end and {"more": true} says so; the JSON stays whole.
{
    printf 'checks:\n  - name: etcd\n    kind: etcd\n    timeout: 5s\n    endpoints:\n'
    printf '      - http://127.0.0.1:%s\n' "$PLAIN"
    for ((i = 0; i < 15; i++)); do printf '      - http://127.0.0.1:%s\n' "$(free_port)"; done
    printf '    min_healthy: 1\n'
} >"$T/many.yaml"
check "$T/many.yaml"
assert_eq "$(get ok)" true "many endpoints: ok ($(get message))"
assert_eq "$(get facts.0.version)" "$ETCD_VERSION" "many endpoints: the first endpoint's facts"
assert_eq "$(get facts.-1.more)" true "many endpoints: the facts end with more"
assert_num "$(get 'facts.#')" -lt 16 "many endpoints: facts entries"

# A stopped etcd: a connect failure naming the endpoint.
term_wait "$PLAIN_PID" 15
check "$T/plain.yaml"
assert_eq "$RC" 1 "stopped: exit code"
assert_eq "$(get ok)" false "stopped: ok"
assert_eq "$(get error)" connect "stopped: error"
assert_contains "$(get message)" "127.0.0.1:$PLAIN:" "stopped: message names the endpoint"
assert_contains "$(get message)" "refused" "stopped: message"

# --- TLS with client certificates -----------------------------------------
start_etcd secure https --cert-file "$C/server.pem" --key-file "$C/server.key" \
    --client-cert-auth --trusted-ca-file "$C/ca.pem"
SECURE=$ETCD_PORT
wait_for 30 "etcd (TLS) on $SECURE" curl -sf --cacert "$C/ca.pem" --cert "$C/client.pem" \
    --key "$C/client.key" "https://127.0.0.1:$SECURE/health"

cat >"$T/tls.yaml" <<EOF
checks:
  - name: etcd
    kind: etcd
    timeout: 5s
    endpoints: ["https://127.0.0.1:$SECURE"]
    tls: { ca_file: $C/ca.pem, cert_file: $C/client.pem, key_file: $C/client.key }
EOF
check "$T/tls.yaml"
assert_healthy "tls" "$SECURE"

cat >"$T/nocert.yaml" <<EOF
checks:
  - name: etcd
    kind: etcd
    timeout: 5s
    endpoints: ["https://127.0.0.1:$SECURE"]
    tls: { ca_file: $C/ca.pem }
EOF
check "$T/nocert.yaml"
assert_eq "$RC" 1 "no client certificate: exit code"
assert_eq "$(get ok)" false "no client certificate: ok"
assert_eq "$(get error)" tls "no client certificate: error ($(get message))"
assert_contains "$(get message)" "127.0.0.1:$SECURE: health: the server requires a client certificate" \
    "no client certificate: message"

log "ok"
