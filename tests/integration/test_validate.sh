# test_validate.sh - `yardstick validate` reports every error with FILE:LINE:COL.
#
# bad.yaml holds one error of each kind at a known place; the expected
# position of each is written beside it (line:col, 1-based, pointing at the
# offending key for unknown keys, at the value for bad values, and at the
# check's first key for a missing field). validate must print exactly these,
# exit 2, and so must check; a good file validates with exit 0.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
unset YS_TEST_UNSET_VAR

# Line numbers matter below: edit EXPECTED with the file.
cat >"$T/bad.yaml" <<'EOF'
storage:
  path: /nonexistent/y.db
checks:
  - name: typo
    kind: http
    url: http://127.0.0.1:1/
    intreval: 30s
  - name: badduration
    kind: http
    url: http://127.0.0.1:1/
    interval: 30 parsecs
  - name: typo
    kind: tcp
    address: 127.0.0.1:1
  - name: nourl
    kind: http
    timeout: 5s
  - name: badurl
    kind: http
    url: "ftp//nowhere"
  - name: wrongtype
    kind: http
    url: http://127.0.0.1:1/
    follow_redirects: sometimes
  - name: unknownkind
    kind: htpt
    url: http://127.0.0.1:1/
  - name: labels_not_a_map
    kind: tcp
    address: 127.0.0.1:1
    labels: [a, b]
  - name: envvar
    kind: http
    url: ${YS_TEST_UNSET_VAR}
EOF
# line:col|words the message must contain (case-insensitive, comma-separated)
EXPECTED=(
    "7:5|unknown key,intreval,did you mean,interval"
    "11:15|duration,30 parsecs"
    "12:11|duplicate,typo"
    "15:5|missing,url"
    "20:10|URL,ftp//nowhere"
    "24:23|follow_redirects,true or false,sometimes"
    "26:11|kind,htpt,did you mean,http"
    "31:13|labels,mapping"
    "34:10|YS_TEST_UNSET_VAR"
)

run_capture rc "$T/v.out" "$T/v.err" "$YARDSTICK" validate -c "$T/bad.yaml"
log "validate stderr:"$'\n'"$(cat "$T/v.err")"
assert_eq "$rc" 2 "validate exit code on a bad file"

ERRS=$(cat "$T/v.err")
for e in "${EXPECTED[@]}"; do
    pos=${e%%|*}
    words=${e#*|}
    line=$(grep -F -- "$T/bad.yaml:$pos: " "$T/v.err" | head -1) ||
        fail "no error at $pos (want: $words); validate printed:"$'\n'"$ERRS"
    IFS=, read -r -a ws <<<"$words"
    for w in "${ws[@]}"; do
        assert_contains "$line" "$w" "error at $pos"
    done
done
# Nothing else: every error printed is one we made, no cascades.
nerr=$(grep -c -E "^$T/bad.yaml:[0-9]+:[0-9]+: " "$T/v.err" || true)
assert_eq "$nerr" "${#EXPECTED[@]}" "number of FILE:LINE:COL errors"
# Printed in file order.
grep -oE "^$T/bad.yaml:[0-9]+" "$T/v.err" | sed 's/.*://' >"$T/lines"
sort -n -c "$T/lines" 2>/dev/null || fail "errors are not in file order: $(tr '\n' ' ' <"$T/lines")"

# `check` refuses the same file with exit 2 and runs nothing.
run_capture rc "$T/c.out" "$T/c.err" "$YARDSTICK" check -c "$T/bad.yaml" --format json
assert_eq "$rc" 2 "check exit code on a bad file"
assert_contains "$(cat "$T/c.err")" "$T/bad.yaml:7:5: " "check prints the config errors"

# A YAML syntax error is reported with a position too.
printf 'checks:\n  - name: x\n    kind: [http\n' >"$T/syntax.yaml"
run_capture rc "$T/s.out" "$T/s.err" "$YARDSTICK" validate -c "$T/syntax.yaml"
assert_eq "$rc" 2 "validate exit code on a YAML syntax error"
grep -qE "^$T/syntax.yaml:[0-9]+:[0-9]+: " "$T/s.err" ||
    fail "syntax error without FILE:LINE:COL: $(cat "$T/s.err")"

# A missing file is an error, not a crash.
run_capture rc "$T/m.out" "$T/m.err" "$YARDSTICK" validate -c "$T/nope.yaml"
assert_eq "$rc" 2 "validate exit code on a missing file"
assert_contains "$(cat "$T/m.err")" "nope.yaml" "missing file message"

# A good file, with every kind of field and an environment variable.
cat >"$T/good.yaml" <<'EOF'
storage:
  path: /nonexistent/y.db
  retention: { raw: 7d, minute: 35d, hour: 400d, day: forever }
defaults:
  interval: 30s
  timeout: 10s
checks:
  - name: homepage
    kind: http
    url: ${YS_TEST_URL}
    interval: 250ms
    timeout: 5s
    method: POST
    headers: { Authorization: "Bearer ${YS_TEST_TOKEN}" }
    body: "{}"
    follow_redirects: true
    max_redirects: 3
    max_body: 2MiB
    ip_version: 4
    expect:
      status: [2xx, 301]
      body_contains: ok
      body_not_contains: error
      body_regex: "^o"
      json:
        - { path: status, equals: ok }
        - { path: items, exists: true }
      headers:
        - { name: Content-Type, regex: "json" }
        - { name: X-Id, exists: true }
      max_response_time: 2s
    tls: { insecure: true, min_days_left: 14, server_name: example.org }
    labels: { area: homepage }
  - name: etcd-tls
    kind: tcp
    address: 127.0.0.1:2379
    send: "PING\r\n"
    expect: PONG
    max_read: 1KiB
    tls: { min_days_left: 30 }
EOF
run_capture rc "$T/g.out" "$T/g.err" env YS_TEST_URL=http://127.0.0.1:1/ YS_TEST_TOKEN=secret \
    "$YARDSTICK" validate -c "$T/good.yaml"
assert_eq "$rc" 0 "validate exit code on a good file ($(cat "$T/g.err"))"
assert_not_contains "$(cat "$T/g.err")" "good.yaml:" "validate output on a good file"

# examples/infrastructure-goals.yaml validates, with the variables its
# header lists (the TLS and kubeconfig files it names must exist; nothing
# is contacted), so the example cannot rot. Counts: edit with the example.
EX=$YS_SOURCE_DIR/examples/infrastructure-goals.yaml
mkdir -p "$T/pki"
touch "$T/pki/ca.crt" "$T/pki/client.crt" "$T/pki/client.key"
cat >"$T/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
current-context: cluster-a
clusters:
  - { name: a, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }
  - { name: b, cluster: { server: "https://127.0.0.1:2", insecure-skip-tls-verify: true } }
users:
  - { name: reader, user: { token: not-a-real-token } }
contexts:
  - { name: cluster-a, context: { cluster: a, user: reader } }
  - { name: cluster-b, context: { cluster: b, user: reader } }
EOF
EXVARS=(PING_TOKEN=p GHCR_USER=u GHCR_TOKEN=g ETCD_PKI_DIR="$T/pki" YS_KUBECONFIG="$T/kubeconfig")
EXENV=(env PROM_TOKEN=t "${EXVARS[@]}")
run_capture rc "$T/ex.out" "$T/ex.err" "${EXENV[@]}" "$YARDSTICK" validate -c "$EX"
assert_eq "$rc" 0 "validate exit code on $EX ($(cat "$T/ex.err"))"
assert_contains "$(cat "$T/ex.out")" "infrastructure-goals.yaml: ok (48 checks)" "example's check count"
# Without one of its variables it is refused, naming the variable.
run_capture rc "$T/ex2.out" "$T/ex2.err" env -u PROM_TOKEN "${EXVARS[@]}" "$YARDSTICK" validate -c "$EX"
assert_eq "$rc" 2 "validate exit code on the example without PROM_TOKEN"
assert_contains "$(cat "$T/ex2.err")" "PROM_TOKEN" "the unset variable is named"
# Every goal of the plan is there; only those no check can measure are manual.
(cd "$T" && "${EXENV[@]}" "$YARDSTICK" goal list -c "$EX") >"$T/goals.out"
assert_eq "$(grep -c -E ' (slo|check|selector|promql|manual) ' "$T/goals.out")" 35 "goals in the example"
assert_eq "$(grep -c ' promql ' "$T/goals.out")" 1 "goals measured by PromQL over both clusters"
assert_eq "$(grep -c ' manual ' "$T/goals.out")" 6 "manual goals in the example"
# The report runs on an empty store (storage.path is relative: in $T).
run_capture rc "$T/rep.out" "$T/rep.err" bash -c 'cd "$1" && shift && "$@"' _ "$T" \
    "${EXENV[@]}" "$YARDSTICK" report -c "$EX" --format markdown
assert_eq "$rc" 0 "report exit code on the example with an empty store ($(cat "$T/rep.err"))"
assert_contains "$(cat "$T/rep.out")" "# Infrastructure Goals 2025" "report title"
assert_contains "$(cat "$T/rep.out")" "35 no data" "report counts every goal as no data"
assert_contains "$(cat "$T/rep.out")" "| etcd backup frequency | Manual | — | Hourly | P0 |" "report row"

log "all validate assertions passed"
