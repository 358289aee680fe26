#!/usr/bin/env bash
# test_api.sh - the HTTP server of `yardstick run`: every route's status
# code and JSON shape, ranges and bad parameters, methods, bodies, auth on
# and off, /healthz and /readyz.
#
# A loopback nginx serves /ok (200) and /down (503) over HTTP and the test
# CA's "expiring" (5 days) and "valid" (400 days) certificates over HTTPS.
# The daemon probes them every 500 ms with an SLO and a goal; the test
# waits for results, then asserts on what the API answers. A second daemon
# with server.auth checks 401/200 for tokens and basic users.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v curl >/dev/null || fail "curl is required"
ys_tmpdir T
C="$T/certs"
make_certs "$C"
PORT=$(free_port)
TLS_SOON=$(free_port)
TLS_LATER=$(free_port)
WEB=$(free_port)
cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$PORT;
    location = /ok { default_type text/plain; return 200 "healthy\n"; }
    location = /down { return 503; }
}
server {
    listen 127.0.0.1:$TLS_SOON ssl;
    ssl_certificate $C/expiring-chain.pem;
    ssl_certificate_key $C/expiring.key;
    location / { return 200 "tls\n"; }
}
server {
    listen 127.0.0.1:$TLS_LATER ssl;
    ssl_certificate $C/valid-chain.pem;
    ssl_certificate_key $C/valid.key;
    location / { return 200 "tls\n"; }
}
