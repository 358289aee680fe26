# test_remote_write.sh - Prometheus remote-write from `yardstick run` into a
# real Prometheus (Debian's, --web.enable-remote-write-receiver).
#
# The daemon probes a loopback nginx every 500 ms: one check passes, one
# gets a 503. Asserts that:
#   - yardstick_check_up and yardstick_check_duration_seconds arrive with
#     the check's name, kind and labels, and their samples match what
#     `yardstick history --format json` stored: the same timestamps to the
#     millisecond, up 1/0 as ok, the duration to the microsecond; the
#     phases arrive as yardstick_check_phase_seconds{phase=...};
#   - /metrics shows the yardstick_remote_write_* families (promtool
#     accepts them) and samples sent;
#   - a second daemon on the same queue folder refuses to start, saying
#     the queue is in use (its lock file is flock'd);
#   - a receiver answering 400 gets each batch once (dropped and counted,
#     not retried); one behind an nginx guard that wants the bearer token,
#     the extra header and the protocol's headers accepts every batch;
#   - an outage loses nothing: Prometheus is stopped, results queue on disk
#     (/metrics shows failed attempts and pending samples), the daemon is
#     killed with SIGKILL while Prometheus is still down and started again:
#     it resumes at least every sample its queue files held at the kill
#     (counted here from the files), then Prometheus comes back on the same
#     data dir and every result of the outage arrives: at the end
#     Prometheus holds exactly the timestamps the store holds, for both
#     checks, but for the second before the kill (the batch being built in
#     memory, and the store's own last writes, die with the process);
#   - a reload that removes a check ends its series in Prometheus at once
#     (a staleness marker), while the others stay current.
# Prometheus runs without out_of_order_time_window: nothing is sent twice
# or out of order, so it has no reason to refuse a sample.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
[ -x "$PROMETHEUS" ] || fail "prometheus is required (Debian package prometheus)"

ys_tmpdir T
WEB=$(free_port)
PROM=$(free_port)
API=$(free_port)

cat >"$T/servers.conf" <<EOF
server {
    listen 127.0.0.1:$WEB;
    location = /ok { default_type text/plain; return 200 "healthy\n"; }
    location = /down { return 503; }
    # A receiver that refuses everything with a 4xx: dropped, not retried.
    location = /reject { return 400 "bad request\n"; }
    # A receiver that wants a bearer token and the protocol's headers.
    location = /guarded {
        if (\$http_authorization != "Bearer s3cret") { return 401; }
        if (\$http_content_encoding != "snappy") { return 415; }
        if (\$http_x_prometheus_remote_write_version != "0.1.0") { return 412; }
        if (\$http_x_tenant != "team-a") { return 403; }
        return 204;
    }
}
EOF
start_nginx "$T" "$WEB"

cat >"$T/prometheus.yml" <<EOF
global: { scrape_interval: 1m }
EOF
PROM_PID=""
start_prometheus() {
    "$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
        --web.listen-address="127.0.0.1:$PROM" --web.enable-remote-write-receiver \
        >>"$T/prometheus.log" 2>&1 &
    PROM_PID=$!
    YS_PIDS+=("$PROM_PID")
    wait_for 30 "prometheus ready" curl -sf "http://127.0.0.1:$PROM/-/ready"
}
start_prometheus

CFG="$T/cfg.yaml"
cat >"$CFG" <<EOF
storage: { path: $T/data/y.db }
server: { listen: 127.0.0.1:$API }
defaults: { interval: 500ms, timeout: 2s }
checks:
  - name: web-ok
    kind: http
    url: http://127.0.0.1:$WEB/ok
    labels: { team: infra, tier: "1" }
  - name: web-down
    kind: http
    url: http://127.0.0.1:$WEB/down
remote_write:
  - name: local
    url: http://127.0.0.1:$PROM/api/v1/write
    headers: { X-Test: yes }
    batch_size: 40
    flush_interval: 300ms
    timeout: 2s
  - name: refused
    url: http://127.0.0.1:$WEB/reject
    flush_interval: 300ms
  - name: guarded
    url: http://127.0.0.1:$WEB/guarded
    bearer_token: s3cret
    headers: { X-Tenant: team-a }
    flush_interval: 300ms
EOF
mkdir -p "$T/data"

DAEMON_PID=""
start_daemon() {
    "$YARDSTICK" run -c "$CFG" --log-level debug 2>>"$T/daemon.log" >>"$T/daemon.out" &
    DAEMON_PID=$!
    YS_PIDS+=("$DAEMON_PID")
    wait_for 20 "yardstick /metrics" curl -sf "http://127.0.0.1:$API/metrics"
}
stop_daemon() {
    term_wait "$DAEMON_PID"
    [ "$TERM_RC" = 0 ] || fail "daemon exit code after SIGTERM: $TERM_RC; $(tail -20 "$T/daemon.log")"
}

# One figure of yardstick's /metrics, 0 when absent.
metric() {
    curl -sf "http://127.0.0.1:$API/metrics" |
        awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}

# Samples of a range selector over the last 10 minutes, as JSON in $T/$2.json.
prom_range() {
    curl -sf -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1[10m]" \
        >"$T/$2.json"
}

# How many samples Prometheus holds for a series selector (last 10 minutes).
prom_count() {
    curl -sf -G "http://127.0.0.1:$PROM/api/v1/query" \
        --data-urlencode "query=count_over_time($1[10m])" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)'
}

at_least() { [ "$(prom_count "$1")" -ge "$2" ]; }
metric_ge() { [ "$(metric "$1")" -ge "$2" ]; }
metric_eq() { [ "$(metric "$1")" = "$2" ]; }

hist() {
    "$YARDSTICK" history "$1" -c "$CFG" --since 1h --resolution raw --format json >"$T/hist-$1.json"
}

# Compares Prometheus's samples of check $1 with its stored history:
# every stored result at its exact millisecond, up and duration equal.
# Mode "prefix": what arrived so far is among the stored; a number: every
# result stored before that time (epoch ms) arrived, and nothing else,
# except in the window $3..$4 (epoch ms) where either side may lack some.
compare() {
    local check=$1 mode=$2 gap_lo=${3:-0} gap_hi=${4:-0}
    hist "$check"
    prom_range "yardstick_check_up{check=\"$check\"}" "up-$check"
    prom_range "yardstick_check_duration_seconds{check=\"$check\"}" "dur-$check"
    python3 - "$T/hist-$check.json" "$T/up-$check.json" "$T/dur-$check.json" "$mode" \
        "$gap_lo" "$gap_hi" <<'EOF_PY'
import json, sys
hist = json.load(open(sys.argv[1]))
hist = hist["results"] if isinstance(hist, dict) else hist
def series(path):
    r = json.load(open(path))["data"]["result"]
    assert len(r) == 1, f"{path}: expected one series, got {len(r)}"
    return r[0]["metric"], {round(float(t) * 1000): float(v) for t, v in r[0]["values"]}
up_labels, up = series(sys.argv[2])
_, dur = series(sys.argv[3])
stored = {h["ts_ms"]: h for h in hist}
if sys.argv[4] != "prefix":
    # After the outage: the same set of timestamps, nothing missing. Results
    # that started after the queue was seen empty may have been queued on
    # disk at the stop rather than sent: those may be missing.
    cutoff, lo, hi = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    missing = sorted(t for t in set(stored) - set(up) if t < cutoff and not lo <= t <= hi)
    extra = sorted(t for t in set(up) - set(stored) if not lo <= t <= hi)
    assert not missing, f"{len(missing)} stored results missing in Prometheus: {missing[:5]}"
    assert not extra, f"Prometheus has samples the store lacks: {extra[:5]}"
else:
    # While running: what arrived so far is a prefix of the store's.
    assert len(up) >= 3, f"only {len(up)} samples arrived"
    assert set(up) <= set(stored), f"unknown timestamps {sorted(set(up) - set(stored))[:5]}"
for ts, v in up.items():
    if ts not in stored:
        continue  # in the kill's window, checked above
    h = stored[ts]
    assert v == (1.0 if h["ok"] else 0.0), f"up at {ts}: {v} vs ok={h['ok']}"
    assert round(dur[ts] * 1e6) == round(h["duration_ms"] * 1000), \
        f"duration at {ts}: {dur[ts]} s vs {h['duration_ms']} ms"
print(json.dumps(up_labels, sort_keys=True), len(up))
EOF_PY
}

start_daemon
wait_for 30 "samples of both checks in Prometheus" \
    at_least 'yardstick_check_up{check="web-down"}' 4
at_least 'yardstick_check_up{check="web-ok"}' 4 || fail "web-ok samples missing"

out=$(compare web-ok prefix) || fail "web-ok: Prometheus and history disagree"
log "web-ok: $out"
assert_contains "$out" '"__name__": "yardstick_check_up"' "metric name"
assert_contains "$out" '"check": "web-ok", "kind": "http", "team": "infra", "tier": "1"' \
    "labels: check, kind and the check's own"
out=$(compare web-down prefix) || fail "web-down: Prometheus and history disagree"
log "web-down: $out"
assert_eq "$(curl -sf -G "http://127.0.0.1:$PROM/api/v1/query" \
    --data-urlencode 'query=min_over_time(yardstick_check_up{check="web-down"}[10m])' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')" \
    0 "web-down is down in Prometheus"
at_least 'yardstick_check_phase_seconds{check="web-ok",phase="ttfb"}' 3 ||
    fail "no ttfb phase samples"
assert_num "$(metric 'yardstick_remote_write_samples_sent_total{endpoint="local"}')" -ge 20 \
    "samples sent per /metrics"
assert_eq "$(metric 'yardstick_remote_write_samples_dropped_total{endpoint="local"}')" 0 \
    "nothing dropped"
# A 4xx drops the batch (and the queue moves on); the guarded receiver
# accepts everything, so the token and headers were sent.
wait_for 10 "drops at the refusing receiver" \
    metric_ge 'yardstick_remote_write_samples_dropped_total{endpoint="refused"}' 10
assert_eq "$(metric 'yardstick_remote_write_samples_failed_total{endpoint="refused"}')" 0 \
    "a 4xx is not retried"
assert_num "$(metric 'yardstick_remote_write_samples_sent_total{endpoint="guarded"}')" -ge 10 \
    "samples accepted by the guarded receiver"
assert_eq "$(metric 'yardstick_remote_write_samples_failed_total{endpoint="guarded"}')" 0 \
    "no failed attempts at the guarded receiver"
assert_eq "$(metric 'yardstick_remote_write_samples_dropped_total{endpoint="guarded"}')" 0 \
    "no drops at the guarded receiver"
grep -q "refused .* samples (dropped): HTTP 400 bad request" "$T/daemon.log" ||
    fail "the 4xx drop was not logged with the receiver's answer"
curl -sf "http://127.0.0.1:$API/metrics" >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(cat "$T/promtool.out")"
for f in samples_sent_total samples_failed_total samples_dropped_total queue_bytes pending_samples; do
    grep -q "^# TYPE yardstick_remote_write_$f " "$T/metrics.txt" || fail "no family yardstick_remote_write_$f"
done

# A second daemon with the same queues (another API port) must not share
# them: it stops at start-up, naming the lock.
sed "s/127.0.0.1:$API/127.0.0.1:$(free_port)/" "$CFG" >"$T/cfg2.yaml"
rc=0
timeout 20 "$YARDSTICK" run -c "$T/cfg2.yaml" >"$T/second.out" 2>"$T/second.log" || rc=$?
assert_ne "$rc" 0 "exit code of a second daemon on the same queue"
grep -q "remote_write/local is in use by another process" "$T/second.log" ||
    fail "the second daemon did not name the locked queue: $(tail -5 "$T/second.log")"

# The outage: Prometheus goes away; results queue on disk.
term_wait "$PROM_PID"
sleep 2
wait_for 20 "failed attempts on /metrics" \
    metric_ge 'yardstick_remote_write_samples_failed_total{endpoint="local"}' 1
pending=$(metric 'yardstick_remote_write_pending_samples{endpoint="local"}')
assert_num "$pending" -gt 0 "samples pending during the outage"
assert_num "$(metric 'yardstick_remote_write_queue_bytes{endpoint="local"}')" -gt 0 \
    "queue bytes during the outage"
log "outage: $pending samples pending"
# A SIGKILL of the daemon during the outage keeps what its queue held on
# disk: the samples in the records from the head on, read from the files
# (record header: magic, body length, samples, checksum; little-endian).
queue_samples() {
    python3 - "$1" <<'EOF_PY'
import glob, os, struct, sys
d = sys.argv[1]
seq, off = 0, 0
if os.path.exists(f"{d}/head"):
    seq, off = (int(x) for x in open(f"{d}/head").read().split())
total = 0
for path in sorted(glob.glob(f"{d}/*.seg")):
    s = int(os.path.basename(path)[:-4])
    if s < seq:
        continue
    data = open(path, "rb").read()
    pos = off if s == seq else 0
    while pos + 16 <= len(data):
        magic, n, samples, _ = struct.unpack_from("<IIII", data, pos)
        if magic != 0x59535257 or pos + 16 + n > len(data):
            break
        total += samples
        pos += 16 + n
print(total)
EOF_PY
}
ls "$T/data/remote_write/local/"*.seg >/dev/null || fail "no queue segments on disk"
[ -f "$T/data/remote_write/local/lock" ] || fail "no lock file in the queue folder"
ondisk=$(queue_samples "$T/data/remote_write/local")
kill_ms=$(date +%s%3N)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
forget_pid "$DAEMON_PID"
log "outage: SIGKILL with $ondisk samples in the queue files"
assert_num "$ondisk" -gt 0 "samples in the queue files during the outage"
start_daemon
sleep 2
resumed=$(sed -n 's/.*local: resuming \([0-9]*\) queued samples.*/\1/p' "$T/daemon.log" | tail -1)
assert_num "${resumed:-0}" -ge "$ondisk" "samples resumed after SIGKILL (on disk: $ondisk)"

# Prometheus returns on the same data; everything queued must arrive.
start_prometheus
wait_for 40 "the queue drains" metric_eq 'yardstick_remote_write_pending_samples{endpoint="local"}' 0
drained_ms=$(($(date +%s%3N) - 1000))
stop_daemon
wait_for 10 "queries answer after the restart" at_least 'yardstick_check_up{check="web-ok"}' 1
for c in web-ok web-down; do
    out=$(compare "$c" "$drained_ms" $((kill_ms - 1500)) $((kill_ms + 500))) ||
        fail "$c: samples missing or wrong after the outage"
    log "$c after the outage: $out"
done
grep -q "will retry" "$T/daemon.log" || fail "no retry logged during the outage"

# A reload that removes a check ends its series in Prometheus at once (a
# staleness marker), not after the 5-minute lookback; the others go on.
series_now() {
    curl -sf -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))'
}
no_series() { [ "$(series_now "$1")" = 0 ]; }
start_daemon
sleep 1
assert_eq "$(series_now 'yardstick_check_up{check="web-down"}')" 1 "web-down current before the reload"
sed -i '/^  - name: web-down$/,+2d' "$CFG"
grep -q web-down "$CFG" && fail "web-down still in the config"
kill -HUP "$DAEMON_PID"
wait_for 15 "web-down ended in Prometheus by its staleness marker" \
    no_series 'yardstick_check_up{check="web-down"}'
no_series 'yardstick_check_duration_seconds{check="web-down"}' ||
    fail "web-down's duration series not ended"
assert_eq "$(series_now 'yardstick_check_up{check="web-ok"}')" 1 "web-ok current after the reload"
assert_eq "$(metric 'yardstick_remote_write_samples_dropped_total{endpoint="local"}')" 0 \
    "nothing dropped by the reload"
stop_daemon
log "ok"
