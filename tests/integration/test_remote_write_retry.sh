# test_remote_write_retry.sh - how `yardstick run` behaves towards a
# remote-write receiver that fails, throttles or is slow: a small python
# receiver (http.server) on loopback that answers by script and logs every
# request (arrival and answer times, status, a hash of the body).
#
# Asserts that:
#   - 503 and 429 answers are retried: failed_total rises, dropped_total
#     stays 0, and the very batches refused are accepted later, in order;
#   - the backoff is counted from the answer: the first request is answered
#     503 after 600 ms, and the retry does not follow at once;
#   - Retry-After on a 429 is honoured: the next request waits 2 s;
#   - a SIGTERM while a request is in flight lets it finish (the receiver
#     answers 2 s later), so after a restart that batch is not sent again:
#     no body is accepted twice.
# Bounded: about 25 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
RX=$(free_port)
API=$(free_port)

# The receiver. Answers: 1st request 503 after 600 ms, 2nd 503, 3rd 429
# with Retry-After: 2, then 204; while $T/slow exists, 204 after 2 s.
cat >"$T/rx.py" <<'EOF_PY'
import hashlib, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
port, logf, slow = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = 0
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_POST(self):
        global n
        n += 1
        t0 = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        h = hashlib.sha256(body).hexdigest()[:16]
        with open(logf, "a") as f:
            f.write(f"start {n} {t0:.3f} {h}\n")
        extra = {}
        if n == 1:
            time.sleep(0.6)
            code = 503
        elif n == 2:
            code = 503
        elif n == 3:
            code, extra = 429, {"Retry-After": "2"}
        else:
            code = 204
            if os.path.exists(slow):
                time.sleep(2)
        try:
            self.send_response(code)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass
        with open(logf, "a") as f:
            f.write(f"done {n} {time.time():.3f} {h} {code}\n")
HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF_PY
python3 -u "$T/rx.py" "$RX" "$T/rx.log" "$T/slow" >"$T/rx.out" 2>&1 &
YS_PIDS+=("$!")
wait_for 10 "receiver up" port_open "$RX"

CFG="$T/cfg.yaml"
cat >"$CFG" <<EOF
storage: { path: $T/data/y.db }
server: { listen: 127.0.0.1:$API }
defaults: { interval: 200ms, timeout: 1s }
checks:
  - { name: self, kind: tcp, address: "127.0.0.1:$API" }
remote_write:
  - name: rx
    url: http://127.0.0.1:$RX/api/v1/write
    flush_interval: 100ms
    timeout: 5s
EOF
mkdir -p "$T/data"
: >"$T/rx.log"

DAEMON_PID=""
start_daemon() {
    "$YARDSTICK" run -c "$CFG" 2>>"$T/daemon.log" >>"$T/daemon.out" &
    DAEMON_PID=$!
    YS_PIDS+=("$DAEMON_PID")
    wait_for 20 "yardstick /metrics" curl -sf "http://127.0.0.1:$API/metrics"
}
metric() {
    curl -sf "http://127.0.0.1:$API/metrics" |
        awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}
accepted() { [ "$(grep -c ' 204$' "$T/rx.log")" -ge "$1" ]; }

start_daemon
wait_for 20 "five batches accepted after the failures" accepted 5
assert_num "$(metric 'yardstick_remote_write_samples_failed_total{endpoint="rx"}')" -ge 3 \
    "failed samples after 503, 503, 429"
assert_eq "$(metric 'yardstick_remote_write_samples_dropped_total{endpoint="rx"}')" 0 \
    "nothing dropped for 5xx and 429"
assert_num "$(metric 'yardstick_remote_write_samples_sent_total{endpoint="rx"}')" -ge 5 \
    "samples sent after the retries"

python3 - "$T/rx.log" <<'EOF_PY' || fail "retry timing or order wrong: $(cat "$T/rx.log")"
import sys
start, done = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "start":
        start[int(f[1])] = (float(f[2]), f[3])
    else:
        done[int(f[1])] = (float(f[2]), f[3], int(f[4]))
# The batch refused three times is the one accepted by the fourth request:
# retried, not dropped, and nothing overtook it.
assert start[1][1] == start[2][1] == start[3][1] == start[4][1], "the failed batch was not retried as is"
assert done[4][2] == 204
gap1 = start[2][0] - done[1][0]
gap3 = start[4][0] - done[3][0]
print(f"after a slow 503: {gap1*1000:.0f} ms; after 429 Retry-After 2: {gap3*1000:.0f} ms")
# The first backoff is 50-100 ms counted from the answer (not from the
# request, which took 600 ms).
assert gap1 >= 0.045, f"retried {gap1*1000:.0f} ms after a slow 503: backoff not counted from the answer"
assert 1.9 <= gap3 <= 4, f"retried {gap3:.2f} s after Retry-After: 2"
EOF_PY

# A stop while a request is in flight: the receiver answers 2 s later and
# the daemon waits for it, so the batch is recorded as sent.
touch "$T/slow"
before=$(grep -c '^start' "$T/rx.log")
wait_for 10 "a slow request in flight" \
    bash -c "[ \$(grep -c '^start' '$T/rx.log') -gt $before ]"
sleep 0.3
term_wait "$DAEMON_PID" 15
[ "$TERM_RC" = 0 ] || fail "daemon exit code after SIGTERM: $TERM_RC"
rm -f "$T/slow"
n_before=$(grep -c '^start' "$T/rx.log")
start_daemon
wait_for 15 "sending resumes after the restart" \
    bash -c "[ \$(grep -c ' 204\$' '$T/rx.log') -ge $((n_before + 1)) ]"
sleep 1
term_wait "$DAEMON_PID" 15
dups=$(awk '$1 == "done" && $5 == 204 { print $4 }' "$T/rx.log" | sort | uniq -d)
[ -z "$dups" ] || fail "batches accepted twice (a stop abandoned an accepted request): $dups"
grep -q "will retry" "$T/daemon.log" || fail "no retry logged"
log "ok"
