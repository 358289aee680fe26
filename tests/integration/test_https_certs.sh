# test_https_certs.sh - certificate facts and TLS failures over HTTPS and TCP+TLS.
#
# nginx serves five TLS ports, one per certificate make_certs issues: valid
# (400 days), expiring in 5 days, expired, self-signed, and for the wrong
# host name. Every check trusts the test CA and asks for 14 days left.
# Asserts the verdict and error class of each, that days_left agrees with
# `openssl x509 -enddate` within a day, and that certificate facts survive
# a failed verification (an expired certificate still tells its date).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
make_certs "$T/certs"
C="$T/certs"

NAMES=(valid expiring expired selfsigned wronghost)
declare -A PORT
SERVERS=""
for n in "${NAMES[@]}"; do
    PORT[$n]=$(free_port)
    SERVERS+="
server {
    listen 127.0.0.1:${PORT[$n]} ssl;
    ssl_certificate $C/$n-chain.pem;
    ssl_certificate_key $C/$n.key;
    location / { default_type text/plain; return 200 \"tls $n\\n\"; }
}"
done
printf '%s\n' "$SERVERS" >"$T/servers.conf"
start_nginx "$T" "${PORT[@]}"

TLS="{ ca_file: $C/ca.pem, min_days_left: 14 }"
{
    echo "storage: { path: $T/y.db }"
    echo "defaults: { timeout: 5s }"
    echo "checks:"
    for n in "${NAMES[@]}"; do
        cat <<EOF
  - name: https_$n
    kind: http
    url: https://127.0.0.1:${PORT[$n]}/
    tls: $TLS
EOF
    done
    cat <<EOF
  - name: https_localhost
    kind: http
    url: https://localhost:${PORT[valid]}/
    ip_version: 4
    tls: $TLS
  - name: https_selfsigned_insecure
    kind: http
    url: https://127.0.0.1:${PORT[selfsigned]}/
    tls: { insecure: true }
  - name: tcp_valid
    kind: tcp
    address: 127.0.0.1:${PORT[valid]}
    tls: $TLS
  - name: tcp_expiring
    kind: tcp
    address: 127.0.0.1:${PORT[expiring]}
    tls: $TLS
  - name: tcp_expired
    kind: tcp
    address: 127.0.0.1:${PORT[expired]}
    tls: $TLS
  - name: tcp_selfsigned
    kind: tcp
    address: 127.0.0.1:${PORT[selfsigned]}
    tls: $TLS
  - name: tcp_wronghost
    kind: tcp
    address: 127.0.0.1:${PORT[wronghost]}
    tls: $TLS
EOF
} >"$T/cfg.yaml"

run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json
if [ "$rc" != 1 ]; then
    cat "$T/err.txt" "$T/out.json" >&2
    fail "check exit code: expected 1 (some checks fail), got $rc"
fi
log "check output: $(cat "$T/out.json")"
OUT="$T/out.json"
assert_eq "$(json_get "$OUT" '#')" 12 "number of results"
f() { json_get "$OUT" "name=$1.$2"; }

NOW=$(date -u +%s)

# Asserts check NAME reports the not-after of certificate CERT exactly (to
# the second) and days_left within one day of what openssl's date gives.
assert_cert_facts() {
    local name=$1 cert=$2 want_end got_end want_days
    want_end=$(cert_not_after "$C/$cert.pem")
    [ "$(f "$name" tls.not_after)" != "<missing>" ] || fail "$name: no tls.not_after in the result"
    got_end=$(rfc3339_epoch "$(f "$name" tls.not_after)")
    assert_eq "$got_end" "$want_end" "$name: tls.not_after as epoch (openssl: $(date -u -d "@$want_end"))"
    want_days=$(((want_end - NOW) / 86400))
    assert_between "$(f "$name" tls.days_left)" $((want_days - 1)) $((want_days + 1)) \
        "$name: tls.days_left (openssl says $want_days)"
    assert_contains "$(f "$name" tls.subject)" "yardstick-$cert" "$name: tls.subject"
}

# --- valid: ok, with facts matching openssl.
for name in https_valid tcp_valid https_localhost; do
    assert_eq "$(f $name ok)" true "$name.ok ($(f $name message))"
    assert_eq "$(f $name error)" null "$name.error"
    assert_cert_facts $name valid
    assert_between "$(f $name tls.days_left)" 398 401 "$name: tls.days_left of a 400-day certificate"
    assert_contains "$(f $name tls.issuer)" "Yardstick Test CA" "$name: tls.issuer"
    # The chain nginx sends is leaf + CA; the leaf expires first.
    assert_eq "$(rfc3339_epoch "$(f $name tls.earliest_not_after)")" "$(cert_not_after "$C/valid.pem")" \
        "$name: tls.earliest_not_after"
    assert_between "$(f $name phases.tls_ms)" 0.001 5000 "$name: phases.tls_ms"
done
assert_eq "$(f https_valid status)" 200 "https_valid.status"
assert_eq "$(f https_valid bytes)" 10 "https_valid.bytes (\"tls valid\\n\")"

# --- expiring in 5 days: the handshake is fine, min_days_left fails.
for name in https_expiring tcp_expiring; do
    assert_eq "$(f $name ok)" false "$name.ok"
    assert_eq "$(f $name error)" assertion "$name.error"
    assert_contains "$(f $name message)" day "$name.message mentions days"
    assert_contains "$(f $name message)" 14 "$name.message mentions the 14-day minimum"
    assert_cert_facts $name expiring
    assert_between "$(f $name tls.days_left)" 4 5 "$name: tls.days_left"
done
assert_eq "$(f https_expiring status)" 200 "https_expiring.status (the request was made)"

# --- expired: verification fails, the facts are still reported.
for name in https_expired tcp_expired; do
    assert_eq "$(f $name ok)" false "$name.ok"
    assert_eq "$(f $name error)" tls "$name.error"
    assert_contains "$(f $name message)" expired "$name.message"
    assert_cert_facts $name expired
    assert_between "$(f $name tls.days_left)" -2 -1 "$name: tls.days_left of a certificate that expired yesterday"
done

# --- self-signed and wrong host: verification fails.
for name in https_selfsigned tcp_selfsigned; do
    assert_eq "$(f $name ok)" false "$name.ok"
    assert_eq "$(f $name error)" tls "$name.error"
    assert_contains "$(f $name message)" self "$name.message mentions self-signed"
done
for name in https_wronghost tcp_wronghost; do
    assert_eq "$(f $name ok)" false "$name.ok"
    assert_eq "$(f $name error)" tls "$name.error"
    assert_contains "$(f $name message)" 127.0.0.1 "$name.message names the host it wanted"
done
assert_eq "$(f https_wronghost status)" 0 "https_wronghost.status (no request was sent)"

# --- insecure: the untrusted certificate is accepted and still described.
assert_eq "$(f https_selfsigned_insecure ok)" true \
    "https_selfsigned_insecure.ok ($(f https_selfsigned_insecure message))"
assert_eq "$(f https_selfsigned_insecure status)" 200 "https_selfsigned_insecure.status"
assert_cert_facts https_selfsigned_insecure selfsigned

log "all certificate assertions passed"
