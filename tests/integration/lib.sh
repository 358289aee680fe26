# tests/integration/lib.sh - helpers shared by the integration tests.
#
# Each test_*.sh sources this file, makes its own temporary folder with
# ys_tmpdir, starts the servers it needs on free loopback ports (nginx, small
# python3 servers), runs the real yardstick binary ($YARDSTICK) and asserts on
# what it prints or stores. Tests run in parallel (ctest -j2) and under ASan,
# so nothing here uses a fixed port, a fixed path or a process name: every
# process we start is remembered by PID in YS_PIDS and stopped by stop_all,
# which the EXIT trap runs however the test ends.
#
# Assertions print what they compared on failure and exit 1; the first
# failure ends the test.

set -euo pipefail

: "${YARDSTICK:?YARDSTICK must point at the yardstick binary}"
: "${YS_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

# Debian puts nginx in /usr/sbin, which a non-login PATH may lack.
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

YS_PIDS=()
YS_TMPDIRS=()
YS_TEST_NAME=$(basename "${0%.sh}")

log() { printf '[%s] %s\n' "$YS_TEST_NAME" "$*" >&2; }

fail() {
    printf '[%s] FAIL: %s\n' "$YS_TEST_NAME" "$*" >&2
    exit 1
}

# Kills only the processes this test started, newest first, and reaps them.
# A process that ignores SIGTERM for 5 s gets SIGKILL.
stop_all() {
    local i pid n
    for ((i = ${#YS_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${YS_PIDS[i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for ((n = 0; n < 50; n++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    YS_PIDS=()
}

# Removes a PID from the list (for processes a test has already reaped).
forget_pid() {
    local pid=$1 keep=() p
    for p in "${YS_PIDS[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    YS_PIDS=("${keep[@]+"${keep[@]}"}")
}

# Sends SIGTERM to PID (a child we started), waits up to DEADLINE seconds
# (default 10) for it to exit, forgets it and sets TERM_RC to its exit code.
# Fails if it is still running by then. Call it directly, not in $(...):
# only this shell can reap its children.
term_wait() {
    local pid=$1 deadline=${2:-10} n rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((n = 0; n < deadline * 10; n++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "process $pid did not exit within ${deadline}s of SIGTERM"
    wait "$pid" || rc=$?
    forget_pid "$pid"
    TERM_RC=$rc
}

ys_cleanup() {
    local rc=$?
    stop_all
    if [ "$rc" -ne 0 ] && [ -n "${YS_KEEP_TMP:-}" ]; then
        log "keeping ${YS_TMPDIRS[*]-} for inspection"
    else
        local d
        for d in "${YS_TMPDIRS[@]+"${YS_TMPDIRS[@]}"}"; do
            rm -rf "$d"
        done
    fi
    exit "$rc"
}
trap ys_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Makes a temporary folder, removed when the test exits, and stores its path
# in the variable named $1 (`dir=$(ys_tmpdir)` would run in a subshell that
# cannot register the folder for removal).
ys_tmpdir() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/ys-${YS_TEST_NAME}.XXXXXX")
    YS_TMPDIRS+=("$d")
    printf -v "$1" '%s' "$d"
}

# Prints a TCP port that is free on 127.0.0.1 now: the kernel picks it.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Polls a command until it succeeds or DEADLINE seconds pass.
# Usage: wait_for DEADLINE DESCRIPTION CMD [ARGS...]
wait_for() {
    local deadline=$1 what=$2
    shift 2
    local end=$((SECONDS + deadline))
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ "$SECONDS" -ge "$end" ]; then
            fail "timed out after ${deadline}s waiting for: $what ($*)"
        fi
        sleep 0.1
    done
}

# Succeeds when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts nginx in the foreground (daemon off, one process) with its pid,
# logs and temp paths inside DIR. The test writes its server blocks to
# DIR/servers.conf first; nginx.conf includes it. Waits (10 s) until every
# PORT given answers. Sets NGINX_PID.
# Usage: start_nginx DIR PORT [PORT...]
start_nginx() {
    local dir=$1
    shift
    [ -f "$dir/servers.conf" ] || fail "start_nginx: $dir/servers.conf is missing"
    mkdir -p "$dir/tmp"
    # master_process off: a single process whose PID is the one we started,
    # so stop_all can stop it without touching anyone else's nginx.
    cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type application/octet-stream;
    keepalive_timeout 10s;
    include $dir/servers.conf;
}
EOF
    "$NGINX" -t -q -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" ||
        { cat "$dir/error.log" >&2 || true; fail "start_nginx: nginx -t rejected $dir/nginx.conf"; }
    "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" </dev/null >>"$dir/nginx.out" 2>&1 &
    NGINX_PID=$!
    YS_PIDS+=("$NGINX_PID")
    local p
    for p in "$@"; do
        wait_for 10 "nginx on port $p" port_open "$p"
    done
    kill -0 "$NGINX_PID" 2>/dev/null || fail "start_nginx: nginx exited: $(cat "$dir/error.log")"
}

# Starts a small python3 TCP server in the background on 127.0.0.1:PORT and
# waits until it listens. Sets PY_PID.
#   blackhole: accepts every connection and never sends a byte.
#   pong:      reads until a line arrives; answers "PONG\r\n" to "PING",
#              "ERR\r\n" to anything else, then closes.
# Each accepted connection adds a line "accepted" to LOGFILE.
# Usage: start_py_server MODE PORT LOGFILE
start_py_server() {
    local mode=$1 port=$2 logf=$3
    python3 -u - "$mode" "$port" >"$logf" 2>&1 <<'EOF' &
import socket, sys, threading
mode, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(128)
held = []  # blackhole: keep every accepted socket open, never answer

def pong(c):
    try:
        c.settimeout(5)
        data = b""
        while b"\n" not in data and len(data) < 4096:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.sendall(b"PONG\r\n" if data.strip() == b"PING" else b"ERR\r\n")
    except OSError:
        pass
    finally:
        c.close()

print("listening", port, flush=True)
while True:
    conn, _ = srv.accept()
    print("accepted", flush=True)
    if mode == "blackhole":
        held.append(conn)
    else:
        threading.Thread(target=pong, args=(conn,), daemon=True).start()
EOF
    PY_PID=$!
    YS_PIDS+=("$PY_PID")
    wait_for 10 "python3 $mode server on port $port" port_open "$port"
    # The readiness probe's own connection is logged before we go on, so
    # tests can count the connections that came after it.
    wait_for 5 "python3 $mode server to log its first connection" grep -q '^accepted' "$logf"
}

# Makes a test CA and server certificates in DIR (all for 127.0.0.1 and
# localhost unless said otherwise):
#   ca.pem/ca.key            the test CA (10 years)
#   valid.pem/.key           signed by the CA, valid 400 days
#   expiring.pem/.key        signed by the CA, expires in 5 days
#   expired.pem/.key         signed by the CA, expired yesterday
#   selfsigned.pem/.key      self-signed, not trusted by anyone
#   wronghost.pem/.key       signed by the CA for wrong.example only
#   *-chain.pem              leaf followed by the CA, as servers send it
# OpenSSL 3.0's `x509 -req` has no -not_before and rejects negative -days,
# so the CA-signed leaves are issued with `openssl ca`, whose -startdate and
# -enddate set both ends of the validity period to any moment we like.
make_certs() {
    local dir=$1 name
    mkdir -p "$dir/ca-db"
    : >"$dir/ca-db/index.txt"
    echo 1000 >"$dir/ca-db/serial"
    cat >"$dir/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $dir/ca-db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
commonName = supplied
[ ext_local ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[ ext_wrong ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
EOF
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=Yardstick Test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
        fail "make_certs: could not make the CA"

    # name  start            end              extension section
    local specs=(
        "valid     -1day     +400days  ext_local"
        "expiring  -1day     +5days    ext_local"
        "expired   -30days   -1day     ext_local"
        "wronghost -1day     +400days  ext_wrong"
    )
    local spec start end ext
    for spec in "${specs[@]}"; do
        read -r name start end ext <<<"$spec"
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$dir/$name.key" \
            -out "$dir/$name.csr" -subj "/CN=yardstick-$name" 2>/dev/null ||
            fail "make_certs: could not make the $name key"
        openssl ca -batch -notext -config "$dir/ca.cnf" -extensions "$ext" \
            -startdate "$(date -u -d "now $start" +%Y%m%d%H%M%SZ)" \
            -enddate "$(date -u -d "now $end" +%Y%m%d%H%M%SZ)" \
            -in "$dir/$name.csr" -out "$dir/$name.pem" 2>"$dir/$name.ca.log" ||
            { cat "$dir/$name.ca.log" >&2; fail "make_certs: openssl ca failed for $name"; }
        cat "$dir/$name.pem" "$dir/ca.pem" >"$dir/$name-chain.pem"
    done
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 400 \
        -keyout "$dir/selfsigned.key" -out "$dir/selfsigned.pem" -subj "/CN=yardstick-selfsigned" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null ||
        fail "make_certs: could not make the self-signed certificate"
    cp "$dir/selfsigned.pem" "$dir/selfsigned-chain.pem"
}

# Prints a certificate's notAfter as epoch seconds, as openssl reads it.
cert_not_after() {
    local end
    end=$(openssl x509 -enddate -noout -in "$1") || fail "cert_not_after: cannot read $1"
    date -u -d "${end#notAfter=}" +%s
}

# Prints the value at PATH in the JSON document in FILE. PATH is a dotted
# list of segments: a key, an array index, `key=value` to pick the array
# element whose key equals value, or `#` for the length of an array or
# object. Strings print raw, null as "null", booleans as true/false, numbers
# as JSON writes them; a missing member prints "<missing>".
# Usage: json_get FILE PATH
json_get() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
try:
    with open(path) as f:
        v = json.load(f)
except Exception as e:
    print(f"json_get: {path} is not JSON: {e}", file=sys.stderr)
    sys.exit(1)
for seg in [s for s in expr.split(".") if s != ""]:
    if seg == "#":
        v = len(v)
    elif isinstance(v, list) and "=" in seg:
        k, want = seg.split("=", 1)
        hits = [e for e in v if isinstance(e, dict) and str(e.get(k)) == want]
        if not hits:
            print("<missing>")
            sys.exit(0)
        v = hits[0]
    elif isinstance(v, list) and seg.lstrip("-").isdigit():
        i = int(seg)
        if not -len(v) <= i < len(v):
            print("<missing>")
            sys.exit(0)
        v = v[i]
    elif isinstance(v, dict) and seg in v:
        v = v[seg]
    else:
        print("<missing>")
        sys.exit(0)
if v is None:
    print("null")
elif isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, str):
    print(v)
else:
    print(json.dumps(v))
EOF
}

# Prints an RFC 3339 timestamp as epoch seconds (python parses the forms
# with Z, offsets and fractions).
rfc3339_epoch() {
    python3 -c 'import sys, datetime
s = sys.argv[1].replace("Z", "+00:00")
print(int(datetime.datetime.fromisoformat(s).timestamp()))' "$1" ||
        fail "rfc3339_epoch: '$1' is not an RFC 3339 time"
}

assert_eq() {
    local got=$1 want=$2 what=${3:-value}
    [ "$got" = "$want" ] || fail "$what: expected '$want', got '$got'"
}

assert_ne() {
    local got=$1 unwanted=$2 what=${3:-value}
    [ "$got" != "$unwanted" ] || fail "$what: expected anything but '$unwanted'"
}

# Case-insensitive substring check.
assert_contains() {
    local hay=$1 needle=$2 what=${3:-text}
    if ! grep -qiF -- "$needle" <<<"$hay"; then
        fail "$what: expected to contain '$needle', got: $hay"
    fi
}

assert_not_contains() {
    local hay=$1 needle=$2 what=${3:-text}
    if grep -qiF -- "$needle" <<<"$hay"; then
        fail "$what: expected not to contain '$needle', got: $hay"
    fi
}

# Numeric range check (floats allowed): LO <= VAL <= HI.
assert_between() {
    local val=$1 lo=$2 hi=$3 what=${4:-value}
    python3 -c 'import sys
v, lo, hi = (float(x) for x in sys.argv[1:4])
sys.exit(0 if lo <= v <= hi else 1)' "$val" "$lo" "$hi" 2>/dev/null ||
        fail "$what: expected between $lo and $hi, got '$val'"
}

# Numeric comparison: VAL OP REF with OP one of -ge -gt -le -lt -eq.
assert_num() {
    local val=$1 op=$2 ref=$3 what=${4:-value}
    [[ "$val" =~ ^-?[0-9]+$ ]] || fail "$what: expected an integer, got '$val'"
    [ "$val" "$op" "$ref" ] || fail "$what: expected $op $ref, got $val"
}

# Runs a command, stores its exit code in the variable named $1, stdout in
# $2 (a file) and stderr in $3 (a file), without tripping set -e.
# Usage: run_capture RC_VAR OUT_FILE ERR_FILE CMD [ARGS...]
run_capture() {
    local __var=$1 __out=$2 __err=$3 __rc=0
    shift 3
    "$@" >"$__out" 2>"$__err" || __rc=$?
    printf -v "$__var" '%s' "$__rc"
}
