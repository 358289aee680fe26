#!/usr/bin/env bash
# scripts/example-target.sh - a small local HTTP/HTTPS server (nginx on
# loopback) for the example configuration, so `make run` shows real results
# on a machine with no internet. Files live in var/example-target/.
#   start: make certificates if missing, start nginx on 127.0.0.1:8081 (http)
#          and 127.0.0.1:8443 (https); prints its PID file.
#   stop:  stop the nginx this script started (by its PID file).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/var/example-target"
pidfile="$dir/nginx.pid"

make_certs() {
  [ -f "$dir/server.pem" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=yardstick example CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 90 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
}

write_conf() {
  mkdir -p "$dir/www" "$dir/logs" "$dir/tmp"
  echo '<html><body><h1>yardstick example target</h1><p>healthy</p></body></html>' >"$dir/www/index.html"
  echo '{"status":"ok","checks":{"db":"up"}}' >"$dir/www/health.json"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
error_log $dir/logs/error.log warn;
pid $pidfile;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  types { text/html html; application/json json; }
  server {
    listen 127.0.0.1:8081;
    listen 127.0.0.1:8443 ssl;
    ssl_certificate $dir/server.pem;
    ssl_certificate_key $dir/server.key;
    root $dir/www;
    location = /healthz { default_type application/json; alias $dir/www/health.json; }
    location = /broken { return 503 "maintenance\n"; }
  }
}
CONF
}

case "${1:-start}" in
  start)
    mkdir -p "$dir"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "example target already running (pid $(cat "$pidfile"))"
      exit 0
    fi
    make_certs
    write_conf
    nginx -p "$dir" -c "$dir/nginx.conf"
    echo "example target: http://127.0.0.1:8081/ and https://127.0.0.1:8443/ (pid $(cat "$pidfile"))"
    ;;
  stop)
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
