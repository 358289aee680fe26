# test_exec.sh - `yardstick exec` against a real HTTP server that records
# every request.
#
# A python3 http.server on a free loopback port appends one JSON line per
# request (method, raw path, query, Authorization, Content-Type, body length
# and body) to a log and answers 200, or 500 for the check "broken"; the
# daemon's own /ping routes are not needed. Asserts on the start and end
# pings and their shared run id, exit codes (0, 3, a signal, 127), output
# passing through as it happens, the 10 KiB tail, the token, URL-encoding,
# SIGTERM forwarding, a daemon that is down, refuses or hangs (the job still
# runs), and usage errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unset YARDSTICK_URL YARDSTICK_PING_TOKEN
ys_tmpdir T
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
LOG="$T/requests.jsonl"
: >"$LOG"

python3 -u - "$PORT" "$LOG" >"$T/recorder.out" 2>&1 <<'EOF' &
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
port, logf = int(sys.argv[1]), sys.argv[2]

class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)  # raw: percent-encoding kept
        rec = {"method": self.command, "path": u.path, "query": u.query,
               "auth": self.headers.get("Authorization"),
               "ctype": self.headers.get("Content-Type"),
               "len": len(body), "body": body.decode("utf-8", "replace")}
        with open(logf, "a") as f:
            f.write(json.dumps(rec) + "\n")
        status = 500 if u.path.startswith("/ping/broken/") else 200
        reply = b"no such check\n" if status == 500 else b"OK\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", port), Recorder).serve_forever()
EOF
YS_PIDS+=("$!")
wait_for 10 "the recorder on port $PORT" port_open "$PORT"

# Prints FIELD of request N (0-based; -1 is the last) in the log.
req() {
    python3 - "$LOG" "$1" "$2" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
i = int(sys.argv[2])
if not -len(lines) <= i < len(lines):
    print("<missing>")
else:
    v = lines[i].get(sys.argv[3])
    print("null" if v is None else v, end="" if sys.argv[3] == "body" else "\n")
EOF
}
nreq() { grep -c . "$LOG" || true; }

# 1. Success: a start ping, then /0, both with the same 16-hex-digit run id.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "$URL" -- true
assert_eq "$rc" 0 "exit code of exec -- true"
assert_eq "$(nreq)" 2 "requests for one run"
assert_eq "$(req 0 method) $(req 0 path)" "POST /ping/c/start" "first request"
assert_eq "$(req 1 method) $(req 1 path)" "POST /ping/c/0" "second request"
RID=$(req 0 query)
[[ "$RID" =~ ^rid=[0-9a-f]{16}$ ]] || fail "run id '$RID' is not rid=<16 hex digits>"
assert_eq "$(req 1 query)" "$RID" "the end ping's run id"
assert_eq "$(req 1 ctype)" "text/plain" "Content-Type"
assert_eq "$(req 0 auth)" "null" "Authorization without a token"
assert_eq "$(cat "$T/err")" "" "stderr of a reported run"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "$URL/" -- true
assert_ne "$(req 2 query)" "$RID" "a second run's id"
assert_eq "$(req 2 path)" "/ping/c/start" "a trailing slash on --url"

# 2. A failing command: its code, its output on exec's stdout and stderr,
# and both in the body, in order.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "$URL" -- \
    sh -c 'echo hello out; echo hello err >&2; exit 3'
assert_eq "$rc" 3 "exit code of exec -- sh -c 'exit 3'"
assert_eq "$(cat "$T/out")" "hello out" "stdout passed through"
assert_eq "$(cat "$T/err")" "hello err" "stderr passed through"
assert_eq "$(req 1 path)" "/ping/c/3" "end ping of exit 3"
assert_eq "$(req 1 body)" $'hello out\nhello err' "body of exit 3"
assert_eq "$(req 1 len)" 20 "body length of exit 3"

# 3. Output over 10 KiB: all of it passes through, the body is its last
# 10240 bytes.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "$URL" -- \
    python3 -c 'for i in range(3000): print("line %05d" % i)'
assert_eq "$rc" 0 "exit code of the big output"
assert_eq "$(wc -c <"$T/out")" 33000 "bytes passed through"
assert_eq "$(req 1 len)" 10240 "body length"
req 1 body >"$T/body"
tail -c 10240 "$T/out" >"$T/want"
cmp -s "$T/body" "$T/want" || fail "the body is not the last 10 KiB of the output: $(head -c 80 "$T/body")"
assert_eq "$(tail -n 1 "$T/body")" "line 02999" "the body's last line"
assert_eq "$(head -c 9 "$T/body")" "ine 02069" "where the body starts (byte 22760)"

# 4. The token, from --token or the environment, and the URL from the environment.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "$URL" --token s3cret -- true
assert_eq "$(req 0 auth)" "Bearer s3cret" "Authorization on the start ping"
assert_eq "$(req 1 auth)" "Bearer s3cret" "Authorization on the end ping"
run_capture rc "$T/out" "$T/err" env YARDSTICK_URL="$URL" YARDSTICK_PING_TOKEN=envtok \
    "$YARDSTICK" exec --check c -- true
assert_eq "$(nreq)" 4 "requests with the URL from YARDSTICK_URL"
assert_eq "$(req 3 auth)" "Bearer envtok" "Authorization from YARDSTICK_PING_TOKEN"
run_capture rc "$T/out" "$T/err" env YARDSTICK_PING_TOKEN=envtok \
    "$YARDSTICK" exec --check c --url "$URL" --token flag -- true
assert_eq "$(req 5 auth)" "Bearer flag" "--token over the environment"

# 5. The check name is URL-encoded.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check 'nightly backup/db' --url "$URL" -- true
assert_eq "$(req 0 path)" "/ping/nightly%20backup%2Fdb/start" "escaped check name"

# 6. Killed by a signal: 128 + 15.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "$URL" -- sh -c 'kill -TERM $$'
assert_eq "$rc" 143 "exit code of a command killed by SIGTERM"
assert_eq "$(req 1 path)" "/ping/c/143" "end ping of a signalled command"

# 7. Output reaches exec's stdout as it happens, and SIGTERM sent to exec
# reaches the command.
: >"$LOG"
"$YARDSTICK" exec --check c --url "$URL" -- sh -c 'echo first; exec sleep 30' \
    >"$T/live.out" 2>"$T/live.err" &
EXEC_PID=$!
YS_PIDS+=("$EXEC_PID")
wait_for 5 "the first line on exec's stdout while the command runs" grep -q first "$T/live.out"
assert_eq "$(nreq)" 1 "requests while the command runs"
SECONDS_BEFORE=$SECONDS
term_wait "$EXEC_PID" 5
assert_eq "$TERM_RC" 143 "exit code of exec after SIGTERM"
assert_num $((SECONDS - SECONDS_BEFORE)) -le 2 "seconds from SIGTERM to exit"
assert_eq "$(req 1 path)" "/ping/c/143" "end ping after SIGTERM"

# 8. A command that cannot be started: 127, a message, a failure ping.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "$URL" -- no-such-command-ys
assert_eq "$rc" 127 "exit code of a missing command"
assert_contains "$(cat "$T/err")" "cannot run 'no-such-command-ys'" "stderr of a missing command"
assert_eq "$(req 0 path) $(req 1 path)" "/ping/c/start /ping/c/127" "pings of a missing command"
assert_contains "$(req 1 body)" "cannot run" "body of a missing command"

# 9. The daemon answers an error: a warning, and the job's own result.
: >"$LOG"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check broken --url "$URL" -- sh -c 'echo done'
assert_eq "$rc" 0 "exit code when the daemon answers 500"
assert_eq "$(cat "$T/out")" "done" "output when the daemon answers 500"
assert_contains "$(cat "$T/err")" "could not report start to $URL/ping/broken/start" "warning on 500"
assert_contains "$(cat "$T/err")" "HTTP 500: no such check" "the daemon's answer in the warning"

# 10. The daemon is down: the command still runs and its code comes back.
DOWN=$(free_port)
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "http://127.0.0.1:$DOWN" -- \
    sh -c "echo ran >'$T/ran'; exit 4"
assert_eq "$rc" 4 "exit code with the daemon down"
[ -f "$T/ran" ] || fail "the command did not run with the daemon down"
assert_contains "$(cat "$T/err")" "could not report start to http://127.0.0.1:$DOWN/ping/c/start" \
    "warning with the daemon down"
assert_contains "$(cat "$T/err")" "could not report exit code 4" "end warning with the daemon down"
assert_eq "$(grep -c 'could not report' "$T/err")" 2 "one warning line per ping"

# 11. A daemon that never answers costs at most --timeout per ping.
HOLE=$(free_port)
start_py_server blackhole "$HOLE" "$T/blackhole.log"
SECONDS_BEFORE=$SECONDS
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --check c --url "http://127.0.0.1:$HOLE" \
    --timeout 1s -- true
assert_eq "$rc" 0 "exit code with a hanging daemon"
assert_num $((SECONDS - SECONDS_BEFORE)) -le 5 "seconds with a hanging daemon and --timeout 1s"
assert_contains "$(cat "$T/err")" "timed out" "warning with a hanging daemon"

# 12. Usage errors: exit 2 and nothing sent.
: >"$LOG"
for args in "--check c --url $URL true" "--check c --url $URL --" "--url $URL -- true" \
    "--check c --timeout soon -- true" "--check -- true"; do
    # shellcheck disable=SC2086 # split on purpose
    run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec $args
    assert_eq "$rc" 2 "exit code of 'exec $args'"
done
assert_contains "$(cat "$T/err")" "usage: yardstick exec" "usage on stderr"
assert_eq "$(nreq)" 0 "requests sent by usage errors"
run_capture rc "$T/out" "$T/err" "$YARDSTICK" exec --help
assert_eq "$rc" 0 "exit code of exec --help"
assert_contains "$(cat "$T/out")" "--check NAME" "exec --help"

log "ok"
