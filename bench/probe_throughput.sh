#!/usr/bin/env bash
# bench/probe_throughput.sh - probe throughput benchmark (issue 2, section 9).
#
# Starts nginx on free 127.0.0.1 ports serving a small page over HTTP and
# HTTPS (a CA and a server certificate made here with openssl), then runs,
# one after the other against the same targets, yardstick, the Debian
# prometheus-blackbox-exporter and the bare libcurl-multi reference loop
# (bench/ref_curl_multi.c), at a steady 100 probes/s and saturated, and
# prints CPU per probe, achieved rate, lateness, peak RSS and the ratios.
# Then a 10,000-check yardstick run (RSS and lateness) and, if built,
# bench_store_bytes. The measuring and the table are in probe_throughput.py;
# this script owns the environment: certificates, nginx, cleanup.
#
# Usage: bash bench/probe_throughput.sh      (or `make bench`)
# Env:   BUILD=build (where yardstick and bench_* are), YARDSTICK=path,
#        BENCH_STEADY_S=20 BENCH_SAT_S=10 BENCH_BIG_S=65 BENCH_RATE=100
#        BENCH_ONLY="ref blackbox yardstick big store" (subset to run),
#        BENCH_KEEP=1 keeps the temporary folder (configs, logs, databases)
# Prints figures; it is never a pass/fail test. Bounded: < 10 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
export YS_BENCH_BUILD="$BUILD"
export YARDSTICK=${YARDSTICK:-$BUILD/yardstick}
BLACKBOX=${BLACKBOX:-/usr/bin/prometheus-blackbox-exporter}
export BLACKBOX

for tool in nginx openssl python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bash scripts/deps.sh all)" >&2; exit 1; }
done
for bin in "$BUILD/bench_ref_curl_multi" "$BUILD/bench_drive_blackbox"; do
  [ -x "$bin" ] || { echo "bench: $bin is not built (make build)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/ys-bench.XXXXXX)
# nginx workers started by root run as nobody: they must reach the page.
chmod 755 "$TMP"
NGINX_PID=""
cleanup() {
  # Only what this script started, by PID.
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- certificates: a CA and a server certificate for 127.0.0.1 -----------
mkdir -p "$TMP/tls"
(
  cd "$TMP/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
    -subj "/CN=yardstick bench CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
    -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days 30 -extfile ext.cnf 2>/dev/null
)

# --- nginx ---------------------------------------------------------------
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
while [ "$HTTPS_PORT" = "$HTTP_PORT" ]; do HTTPS_PORT=$(free_port); done
mkdir -p "$TMP/nginx/www" "$TMP/nginx/tmp"
chmod 755 "$TMP/nginx" "$TMP/nginx/www"
# A small page, about the size of a health endpoint's answer.
printf '<!doctype html><title>ok</title><p>yardstick bench target: ok</p>\n' > "$TMP/nginx/www/index.html"
cat > "$TMP/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp;
  proxy_temp_path $TMP/nginx/tmp;
  fastcgi_temp_path $TMP/nginx/tmp;
  uwsgi_temp_path $TMP/nginx/tmp;
  scgi_temp_path $TMP/nginx/tmp;
  default_type text/html;
  # Every probe must pay a full handshake: no resumption from the server side.
  ssl_session_cache off;
  ssl_session_tickets off;
  server {
    listen 127.0.0.1:$HTTP_PORT backlog=4096;
    listen 127.0.0.1:$HTTPS_PORT ssl backlog=4096;
    ssl_certificate $TMP/tls/server.pem;
    ssl_certificate_key $TMP/tls/server.key;
    root $TMP/nginx/www;
  }
}
EOF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' 2>"$TMP/nginx/stderr" &
NGINX_PID=$!
ready=""
for _ in $(seq 100); do
  if curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/" &&
     curl -sf -o /dev/null --cacert "$TMP/tls/ca.pem" "https://127.0.0.1:$HTTPS_PORT/"; then
    ready=1; break
  fi
  kill -0 "$NGINX_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "bench: nginx did not come up" >&2
  cat "$TMP/nginx/stderr" "$TMP/nginx/error.log" >&2 2>/dev/null || true
  exit 1
fi

echo "bench: nginx pid $NGINX_PID on 127.0.0.1:$HTTP_PORT (http) and :$HTTPS_PORT (https); $(nproc) cores"
python3 "$ROOT/bench/probe_throughput.py" \
  --tmp "$TMP" --ca "$TMP/tls/ca.pem" \
  --http-url "http://127.0.0.1:$HTTP_PORT/" --https-url "https://127.0.0.1:$HTTPS_PORT/"
