# test_k8s.sh - the Kubernetes kinds (k8s_nodes, k8s_workloads, flux,
# k8s_pvcs, k8s_certificates, k8s_condition, k8s_cronjobs,
# k8s_pdb_coverage) and `yardstick graph flux` against recorded API
# responses.
#
# No API server can run here, so a small python3 HTTPS server on loopback
# serves the recorded lists in tests/data/k8s/ (the real API's shapes) the
# way the API server does: it demands a bearer token (401 with a Status
# document otherwise) or a client certificate signed by the test CA,
# pages /api/v1/nodes two nodes at a time with `limit`/`continue`, answers
# 410 Gone for a continue token once (then the client must restart the list),
# filters by namespace path and a label selector key=value, pages the
# PodDisruptionBudgets in two, and logs every request so the test can count
# the pages fetched.
#
# yardstick reads a kubeconfig written here (certificate-authority-data,
# token; client-certificate-data/client-key-data; a context that is not the
# current one) and `yardstick check --format json` is asserted on;
# `yardstick graph flux` draws the recorded Kustomizations, compared edge by
# edge with the recording and rendered by Graphviz. Last,
# `yardstick run` probes the same server every second and is stopped with a
# probe in flight, which must exit cleanly (under ASan: no leak, no crash).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
make_certs "$T/certs"
C=$T/certs
DATA=$YS_SOURCE_DIR/tests/data/k8s
PORT=$(free_port)

# A client certificate for the cert user: make_certs' leaves are serverAuth
# only, which OpenSSL refuses for a client.
openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$C/client.key" -out "$C/client.csr" \
    -subj "/CN=yardstick-reader/O=view" 2>/dev/null || fail "client key"
printf 'extendedKeyUsage = clientAuth\n' >"$C/client.ext"
openssl x509 -req -in "$C/client.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$C/client.ext" -out "$C/client.pem" 2>/dev/null ||
    fail "client certificate"

python3 -u - "$PORT" "$C" "$DATA" "$T/requests.log" >"$T/server.log" 2>&1 <<'EOF' &
import http.server, json, os, ssl, sys, threading, time, urllib.parse
port, certs, data, reqlog = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
TOKENS = {"Bearer k8s-test-token": "token", "Bearer k8s-file-token": "tokenfile"}
lock = threading.Lock()
gone_once = {"done": False}

def load(name):
    with open(os.path.join(data, name)) as f:
        return json.load(f)

RESOURCES = {
    ("apps/v1", "deployments"): "deployments.json",
    ("apps/v1", "statefulsets"): "statefulsets.json",
    ("apps/v1", "daemonsets"): "daemonsets.json",
    ("kustomize.toolkit.fluxcd.io/v1", "kustomizations"): "kustomizations.json",
    ("helm.toolkit.fluxcd.io/v2", "helmreleases"): "helmreleases.json",
    ("cert-manager.io/v1", "certificates"): "certificates.json",
    ("batch/v1", "cronjobs"): "cronjobs.json",
}

def status(code, reason, msg):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": msg, "reason": reason, "code": code}

def selected(items, q):
    sel = q.get("labelSelector", [None])[0]
    if not sel:
        return items
    k, _, v = sel.partition("=")
    return [i for i in items if i["metadata"].get("labels", {}).get(k) == v]

def nodes(q):
    if q.get("limit") != ["500"]:
        return status(400, "BadRequest", "expected limit=500")
    sel = q.get("labelSelector", [""])[0]
    cont = q.get("continue", [None])[0]
    if sel == "slow=yes":
        time.sleep(8)  # keeps a probe in flight while the daemon stops
    first = load("nodes-page1.json")
    if cont is None:
        if sel == "gone=always":
            first["metadata"]["continue"] = "stale-token"
        return 200, first
    if cont == "stale-token":
        return status(410, "Expired", "The provided continue parameter is too old to display a "
                      "consistent list result.")
    if cont != first["metadata"]["continue"]:
        return status(400, "BadRequest", "bad continue token")
    with lock:
        # Only the token user's list is sent a 410, so the page counts
        # below do not depend on which check ran first.
        if q["who"] == ["token"] and not gone_once["done"]:
            gone_once["done"] = True
            return status(410, "Expired", "The provided continue parameter is too old.")
    return 200, load("nodes-page2.json")

def pdbs(ns, q):
    # Two pages, like the API with limit=4; the selector applies as the API
    # applies it, so a check that sent its workload selector here would see
    # no PodDisruptionBudget at all.
    if q.get("limit") != ["500"]:
        return status(400, "BadRequest", "expected limit=500")
    cont = q.get("continue", [None])[0]
    first = load("pdbs-page1.json")
    if cont is None:
        doc = first
    elif cont == first["metadata"]["continue"]:
        doc = load("pdbs-page2.json")
    else:
        return status(400, "BadRequest", "bad continue token")
    items = [i for i in doc["items"] if ns is None or i["metadata"]["namespace"] == ns]
    doc["items"] = selected(items, q)
    return 200, doc

def route(path, q):
    if path == "/api/v1/nodes":
        return nodes(q)
    parts = path.strip("/").split("/")
    # /api/v1[/namespaces/NS]/persistentvolumeclaims
    if parts[-1] == "persistentvolumeclaims" and parts[:2] == ["api", "v1"]:
        ns = parts[3] if len(parts) == 5 and parts[2] == "namespaces" else None
        doc = load("pvcs.json")
        doc["items"] = [i for i in doc["items"] if ns is None or i["metadata"]["namespace"] == ns]
        return 200, doc
    # /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE
    if len(parts) in (4, 6) and parts[0] == "apis":
        gv, ns = parts[1] + "/" + parts[2], None
        if len(parts) == 6:
            if parts[3] != "namespaces":
                return status(404, "NotFound", "the server could not find the requested resource")
            ns = parts[4]
        if (gv, parts[-1]) == ("policy/v1", "poddisruptionbudgets"):
            return pdbs(ns, q)
        name = RESOURCES.get((gv, parts[-1]))
        if name:
            doc = load(name)
            items = [i for i in doc["items"] if ns is None or i["metadata"]["namespace"] == ns]
            doc["items"] = selected(items, q)
            return 200, doc
    return status(404, "NotFound", "the server could not find the requested resource")

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        cert = self.connection.getpeercert()
        auth = self.headers.get("Authorization", "")
        who = "cert" if cert else TOKENS.get(auth)
        q["who"] = [who]
        with lock, open(reqlog, "a") as f:
            f.write("%s %s %s\n" % (who, u.path, u.query))
        if who is None:
            code, doc = status(401, "Unauthorized", "Unauthorized")
        else:
            code, doc = route(u.path, q)
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(certs, "valid-chain.pem"), os.path.join(certs, "valid.key"))
ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
ctx.verify_mode = ssl.CERT_OPTIONAL
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("listening", port, flush=True)
srv.serve_forever()
EOF
YS_PIDS+=("$!")
wait_for 15 "the fake API server" port_open "$PORT"

# The server's answers without yardstick: 401 without a token, a page.
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.pem" "https://127.0.0.1:$PORT/api/v1/nodes")
assert_eq "$code" 401 "the fake API server without a token"

b64() { base64 -w0 <"$1"; }
cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: reader
clusters:
  - name: test
    cluster:
      server: https://127.0.0.1:$PORT
      certificate-authority-data: $(b64 "$C/ca.pem")
  - name: test-file-ca
    cluster:
      server: https://127.0.0.1:$PORT/
      certificate-authority: certs/ca.pem
users:
  - name: reader
    user:
      token: k8s-test-token
  - name: wrong
    user:
      token: not-the-token
  - name: tokenfile
    user: { tokenFile: token.txt }
  - name: lostfile
    user: { tokenFile: /nonexistent/token }
  - name: certuser
    user:
      client-certificate-data: $(b64 "$C/client.pem")
      client-key-data: $(b64 "$C/client.key")
contexts:
  - name: reader
    context: { cluster: test, user: reader }
  - name: wrong
    context: { cluster: test, user: wrong }
  - name: certs
    context: { cluster: test-file-ca, user: certuser }
  - name: tokenfile
    context: { cluster: test, user: tokenfile }
  - name: lostfile
    context: { cluster: test, user: lostfile }
EOF
echo k8s-file-token >"$T/token.txt"

# shop-tls expires 2036-01-01, api-tls 2040-01-01: a min_days that reaches
# 2038-01-01 from today fails the first and passes the second.
MIN_DAYS=$(( ($(rfc3339_epoch 2038-01-01T00:00:00Z) - $(date +%s)) / 86400 ))
# db-backup last succeeded 2026-11-29, files-backup 2026-11-20: a max_age
# that reaches back to 2026-11-25 passes the first and fails the second.
MAX_AGE_H=$(( ($(date +%s) - $(rfc3339_epoch 2026-11-25T00:00:00Z)) / 3600 ))
cat >"$T/cfg.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { interval: 30s, timeout: 10s }
sources:
  - { name: prod, kind: kubernetes, kubeconfig: $T/kubeconfig }
  - { name: wrong, kind: kubernetes, kubeconfig: $T/kubeconfig, context: wrong }
  - { name: bycert, kind: kubernetes, kubeconfig: $T/kubeconfig, context: certs }
  - { name: byfile, kind: kubernetes, kubeconfig: $T/kubeconfig, context: tokenfile }
  - { name: lostfile, kind: kubernetes, kubeconfig: $T/kubeconfig, context: lostfile }
checks:
  - { name: nodes, kind: k8s_nodes, cluster: prod }
  - { name: nodes-lenient, kind: k8s_nodes, cluster: bycert, min_ready: 60 }
  - { name: nodes-gone, kind: k8s_nodes, cluster: prod, selector: gone=always }
  - { name: nodes-401, kind: k8s_nodes, cluster: wrong }
  - { name: nodes-tokenfile, kind: k8s_nodes, cluster: byfile, min_ready: 50 }
  - { name: nodes-lostfile, kind: k8s_nodes, cluster: lostfile }
  - { name: shop, kind: k8s_workloads, cluster: prod, namespace: shop, kinds: [deployments] }
  - name: system
    kind: k8s_workloads
    cluster: prod
    kinds: [deployments]
    selector: k8s-app=kube-dns
  - { name: all-kinds, kind: k8s_workloads, cluster: prod, namespace: shop }
  - { name: flux-all, kind: flux, cluster: prod }
  - { name: flux-platform, kind: flux, cluster: prod, selector: team=platform, kinds: [helmreleases] }
  - { name: flux-system, kind: flux, cluster: bycert, namespace: flux-system, kinds: [kustomizations] }
  - { name: flux-helm, kind: flux, cluster: prod, kinds: [helmreleases] }
  - { name: pvcs, kind: k8s_pvcs, cluster: prod }
  - { name: pvcs-shop, kind: k8s_pvcs, cluster: prod, namespace: shop }
  - { name: certs, kind: k8s_certificates, cluster: prod, min_days: $MIN_DAYS }
  - { name: certs-shop, kind: k8s_certificates, cluster: prod, namespace: shop, min_days: 1 }
  - { name: cron-backup, kind: k8s_cronjobs, cluster: prod, namespace: backup, max_age: ${MAX_AGE_H}h }
  - name: cond-available
    kind: k8s_condition
    cluster: prod
    path: /apis/apps/v1/namespaces/shop/deployments
    condition: Available
  - name: cond-field
    kind: k8s_condition
    cluster: prod
    path: /apis/apps/v1/deployments
    selector: app.kubernetes.io/part-of=shop
    field: status.observedGeneration
    equals: "9"
  - { name: cond-404, kind: k8s_condition, cluster: prod, path: /apis/example.com/v1/widgets, condition: Ready }
  - { name: rollouts, kind: k8s_workloads, cluster: prod, namespace: rollout }
  - { name: rollout-deadline, kind: k8s_workloads, cluster: prod, selector: case=deadline, kinds: [deployments] }
  - { name: rollout-generation, kind: k8s_workloads, cluster: prod, selector: case=generation, kinds: [deployments] }
  - { name: rollout-healthy, kind: k8s_workloads, cluster: prod, selector: case=healthy }
  - { name: rollout-sts, kind: k8s_workloads, cluster: prod, namespace: rollout, kinds: [statefulsets] }
  - { name: rollout-ds, kind: k8s_workloads, cluster: prod, namespace: rollout, kinds: [daemonsets] }
  - { name: sets-done, kind: k8s_workloads, cluster: prod, namespace: db, kinds: [statefulsets] }
  - { name: strategy, kind: k8s_workloads, cluster: prod, selector: case=strategy }
  - { name: pdb-critical, kind: k8s_pdb_coverage, cluster: prod, selector: critical=true }
  - { name: pdb-lenient, kind: k8s_pdb_coverage, cluster: bycert, selector: critical=true, min_coverage: 50 }
  - name: pdb-namespaces
    kind: k8s_pdb_coverage
    cluster: prod
    selector: critical=true
    namespaces: [shop, rollout]
  - { name: pdb-db, kind: k8s_pdb_coverage, cluster: prod, namespace: db, kinds: [statefulsets] }
EOF

run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json
if [ "$rc" != 1 ]; then
    cat "$T/err.txt" "$T/out.json" >&2
    fail "check exit code: expected 1 (some checks fail), got $rc"
fi
log "check output: $(cat "$T/out.json")"
OUT=$T/out.json
f() { json_get "$OUT" "name=$1.$2"; }
assert_eq "$(json_get "$OUT" '#')" 33 "number of results"

log "nodes: two pages, a 410 on the continue token restarts the list once"
assert_eq "$(f nodes kind)" k8s_nodes "nodes.kind"
assert_eq "$(f nodes ok)" false "nodes.ok"
assert_between "$(f nodes value)" 66.66 66.67 "nodes.value (2 of 3 Ready)"
assert_eq "$(f nodes message)" "2 of 3 nodes Ready (66.7%, need 100%); not Ready: n3" "nodes.message"
assert_eq "$(f nodes facts.nodes)" 3 "nodes.facts.nodes"
assert_eq "$(f nodes facts.ready)" 2 "nodes.facts.ready"
assert_eq "$(f nodes-lenient ok)" true "nodes-lenient.ok (client certificate, file CA, 60%)"
assert_between "$(f nodes-lenient value)" 66.66 66.67 "nodes-lenient.value"
# Pages: first list by token: page 1, 410, page 1 again, page 2; the other
# (cert) list page 1 and page 2; so page 1 was asked for 3 times, with
# continue twice by the token user plus once by the cert user.
grep -c '^token /api/v1/nodes limit=500$' "$T/requests.log" >"$T/n" || true
assert_eq "$(cat "$T/n")" 2 "first pages fetched by the token user (one restart)"
grep -c '^cert /api/v1/nodes limit=500$' "$T/requests.log" >"$T/n" || true
assert_eq "$(cat "$T/n")" 1 "first pages fetched with the client certificate"

log "a continue token that stays expired fails after one restart"
assert_eq "$(f nodes-gone ok)" false "nodes-gone.ok"
assert_eq "$(f nodes-gone status)" 410 "nodes-gone.status"
assert_contains "$(f nodes-gone message)" "HTTP 410: The provided continue parameter is too old" "nodes-gone.message"
grep -c 'continue=stale-token' "$T/requests.log" >"$T/n" || true
assert_eq "$(cat "$T/n")" 2 "stale continue tokens sent (one restart, then fail)"

log "a refused token is a clear 401"
assert_eq "$(f nodes-401 ok)" false "nodes-401.ok"
assert_eq "$(f nodes-401 status)" 401 "nodes-401.status"
assert_eq "$(f nodes-401 message)" "cluster wrong: unauthorized (401): the credentials were refused: Unauthorized" "nodes-401.message"

log "a token file is read (relative to the kubeconfig); an unreadable one fails the check"
assert_eq "$(f nodes-tokenfile ok)" true "nodes-tokenfile.ok"
assert_eq "$(f nodes-lostfile ok)" false "nodes-lostfile.ok"
assert_eq "$(f nodes-lostfile message)" "cluster lostfile: cannot read the token file /nonexistent/token" "nodes-lostfile.message"

log "workloads: api 1/2 in shop; coredns in kube-system by selector"
assert_eq "$(f shop ok)" false "shop.ok"
assert_eq "$(f shop message)" "1 of 2 workloads not as desired: deployment shop/api 1/2" "shop.message"
assert_eq "$(f shop value)" 80.0 "shop.value (4 of 5 replicas)"
assert_eq "$(f system ok)" true "system.ok"
assert_eq "$(f system facts.workloads)" 1 "system.facts.workloads (selector applied)"
assert_eq "$(f all-kinds ok)" false "all-kinds.ok"
assert_eq "$(f all-kinds message)" "1 of 2 workloads not as desired: deployment shop/api 1/2" "all-kinds.message (no sets in shop)"
assert_eq "$(f cond-404 ok)" false "cond-404.ok"
assert_eq "$(f cond-404 message)" "cluster prod: HTTP 404: the server could not find the requested resource" "cond-404.message (a missing CRD)"

log "workloads: stuck rollouts fail though every old replica is available"
assert_eq "$(f rollouts ok)" false "rollouts.ok"
assert_eq "$(f rollouts value)" 100.0 "rollouts.value (capacity is all there)"
assert_eq "$(f rollouts facts.workloads)" 7 "rollouts.facts.workloads"
assert_eq "$(f rollouts facts.stuck)" 6 "rollouts.facts.stuck"
assert_eq "$(f rollouts facts.short)" 0 "rollouts.facts.short"
assert_contains "$(f rollouts message)" "6 of 7 workloads not as desired: deployment rollout/checkout 2/2 (generation 7 not observed, at 6)" "rollouts.message"
assert_eq "$(f rollout-deadline message)" "1 of 1 workloads not as desired: deployment rollout/search 3/3 (progress deadline exceeded, 1/3 updated)" "rollout-deadline.message"
assert_eq "$(f rollout-generation ok)" false "rollout-generation.ok"
assert_eq "$(f rollout-healthy ok)" true "rollout-healthy.ok (ledger's rollout is done)"
assert_eq "$(f rollout-healthy facts.workloads)" 1 "rollout-healthy.facts.workloads"
assert_eq "$(f rollout-sts message)" "2 of 2 workloads not as desired: statefulset rollout/kafka 3/3 (1/3 updated), statefulset rollout/zookeeper 3/3 (revision zookeeper-9f8e7d6c5 not current, at zookeeper-4a3b2c1d0)" "rollout-sts.message"
assert_eq "$(f rollout-ds message)" "1 of 1 workloads not as desired: daemonset rollout/fluent-bit 3/3 (1/3 updated)" "rollout-ds.message"
assert_eq "$(f sets-done ok)" true "sets-done.ok (postgres rolled out)"
# updateStrategy, as kubectl rollout status reads it: the canaries want
# replicas - partition updated (etcd-canary's 2 of 5 with partition 3 are
# enough, whatever its revisions), OnDelete sets have no rollout.
assert_eq "$(f strategy facts.workloads)" 4 "strategy.facts.workloads"
assert_eq "$(f strategy facts.stuck)" 1 "strategy.facts.stuck"
assert_eq "$(f strategy message)" "1 of 4 workloads not as desired: statefulset strategy/redis-canary 5/5 (1/3 updated, partition 2)" "strategy.message"

log "pdb coverage: postgres has no PDB of its own namespace that selects it; checkout and kafka have two"
assert_eq "$(f pdb-critical kind)" k8s_pdb_coverage "pdb-critical.kind"
assert_eq "$(f pdb-critical ok)" false "pdb-critical.ok"
# Two PDBs selecting a pod make the eviction API refuse it (a drain
# stalls), so checkout and kafka are not covered.
assert_eq "$(f pdb-critical message)" "3 of 6 workloads without a PodDisruptionBudget (50.0% covered, need 100%): deployment rollout/checkout (2 PDBs select it), statefulset db/postgres, statefulset rollout/kafka (2 PDBs select it)" "pdb-critical.message"
assert_eq "$(f pdb-critical value)" 50.0 "pdb-critical.value"
assert_eq "$(f pdb-critical facts.covered)" 3 "pdb-critical.facts.covered"
assert_eq "$(f pdb-critical facts.multiple)" 2 "pdb-critical.facts.multiple (checkout, kafka)"
assert_eq "$(f pdb-critical facts.uncovered)" '["deployment rollout/checkout (2 PDBs select it)", "statefulset db/postgres", "statefulset rollout/kafka (2 PDBs select it)"]' "pdb-critical.facts.uncovered"
assert_eq "$(f pdb-lenient ok)" true "pdb-lenient.ok (min_coverage 50, client certificate)"
assert_eq "$(f pdb-namespaces ok)" false "pdb-namespaces.ok (db left out; checkout and kafka have two PDBs)"
assert_eq "$(f pdb-namespaces facts.workloads)" 5 "pdb-namespaces.facts.workloads"
assert_eq "$(f pdb-namespaces facts.covered)" 3 "pdb-namespaces.facts.covered"
assert_eq "$(f pdb-db value)" 0.0 "pdb-db.value"
assert_eq "$(f pdb-db message)" "1 of 1 workloads without a PodDisruptionBudget (0.0% covered, need 100%): statefulset db/postgres" "pdb-db.message"
# Both pages of PDBs were fetched, never with the workloads' selector.
grep -c '^token /apis/policy/v1/poddisruptionbudgets limit=500&continue=' "$T/requests.log" >"$T/n" || true
assert_eq "$(cat "$T/n")" 2 "second pages of PDBs fetched (pdb-critical, pdb-namespaces)"
grep -c 'poddisruptionbudgets.*labelSelector' "$T/requests.log" >"$T/n" || true
assert_eq "$(cat "$T/n")" 0 "PDB lists sent with a labelSelector"
grep -c '^token /apis/policy/v1/namespaces/db/poddisruptionbudgets limit=500$' "$T/requests.log" >"$T/n" || true
assert_eq "$(cat "$T/n")" 1 "pdb-db lists its namespace's PDBs"

log "flux: apps and tenants not Ready, infra suspended, redis attempted != applied"
assert_eq "$(f flux-all ok)" false "flux-all.ok"
assert_eq "$(f flux-all facts.objects)" 7 "flux-all.facts.objects"
assert_eq "$(f flux-all facts.failing)" 4 "flux-all.facts.failing"
M=$(f flux-all message)
assert_contains "$M" "4 of 7 not reconciled" "flux-all.message"
assert_contains "$M" ", +2 more" "flux-all.message (redis and tenants do not fit)"
assert_contains "$M" "Kustomization flux-system/apps (Ready False: kustomize build failed" "apps named"
assert_contains "$M" "Kustomization infra/infra (suspended)" "infra named"
assert_not_contains "$M" "podinfo" "podinfo is fine"
# status.history: apps last succeeded at 19:55 (its newer entry failed);
# it is the stalest, so the fact is the time since then.
now=$(date +%s)
ok_since=$(( now - $(rfc3339_epoch 2026-11-29T19:55:00Z) ))
assert_contains "$M" "accumulating resources, last success " "apps: time since its last success"
assert_between "$(f flux-all facts.last_success_s)" $((ok_since - 60)) $((ok_since + 5)) "flux-all.facts.last_success_s"
assert_eq "$(f flux-all facts.last_success_of)" flux-system/apps "flux-all.facts.last_success_of"
# The value is how long the longest failure has stood: apps, not Ready
# since 2026-11-29T20:00:00Z (tenants since 20:05).
now=$(date +%s)
since=$(( now - $(rfc3339_epoch 2026-11-29T20:00:00Z) ))
assert_between "$(f flux-all value)" $((since - 60)) $((since + 5)) "flux-all.value (seconds not Ready)"
assert_eq "$(f flux-platform ok)" true "flux-platform.ok (podinfo only)"
assert_eq "$(f flux-platform facts.objects)" 1 "flux-platform.facts.objects"
# All Ready: 0, not the age of podinfo's Ready (2026-11-29T06:00:00Z),
# which would grow forever on a healthy cluster.
assert_eq "$(f flux-platform value)" 0.0 "flux-platform.value (healthy)"
assert_eq "$(f flux-system ok)" false "flux-system.ok"
assert_eq "$(f flux-system facts.objects)" 3 "flux-system.facts.objects (namespace path)"
assert_eq "$(f flux-helm message)" "1 of 2 not reconciled: HelmRelease cache/redis (attempted 19.6.1, applied 19.6.0)" "flux-helm.message"
# podinfo is a HelmRelease: no Kustomization history, no such fact.
assert_eq "$(f flux-platform facts.last_success_s)" "<missing>" "flux-platform.facts.last_success_s"

log "pvcs: one Pending in db; shop's only claim is Bound"
assert_eq "$(f pvcs ok)" false "pvcs.ok"
assert_eq "$(f pvcs message)" "1 of 3 claims not Bound: db/data-postgres-1 Pending" "pvcs.message"
assert_between "$(f pvcs value)" 66.66 66.67 "pvcs.value"
assert_eq "$(f pvcs-shop ok)" true "pvcs-shop.ok"
assert_eq "$(f pvcs-shop facts.pvcs)" 1 "pvcs-shop.facts.pvcs"

log "certificates: admin-tls not Ready, shop-tls within min_days"
assert_eq "$(f certs ok)" false "certs.ok"
M=$(f certs message)
assert_contains "$M" "2 of 3 certificates failing" "certs.message"
assert_contains "$M" "shop/shop-tls (" "shop-tls named"
assert_contains "$M" "days left)" "shop-tls days left"
assert_contains "$M" "ops/admin-tls (Ready False: Issuing certificate as Secret does not exist)" "admin-tls named"
assert_not_contains "$M" "api-tls" "api-tls is fine"
left=$(( ($(rfc3339_epoch 2036-01-01T00:00:00Z) - $(date +%s)) / 86400 ))
assert_between "$(f certs value)" $((left - 1)) $((left + 1)) "certs.value (days left on shop-tls)"
assert_eq "$(f certs-shop ok)" true "certs-shop.ok"

log "k8s_condition: a condition type, and a field with a selector"
assert_eq "$(f cond-available ok)" false "cond-available.ok"
assert_eq "$(f cond-available message)" "1 of 2 not Available=True: shop/api (False)" "cond-available.message"
assert_eq "$(f cond-available value)" 50.0 "cond-available.value"
assert_eq "$(f cond-field ok)" false "cond-field.ok"
assert_eq "$(f cond-field message)" "1 of 2 not status.observedGeneration=9: shop/web (4)" "cond-field.message"

log "cronjobs: files-backup's last success is older than max_age"
assert_eq "$(f cron-backup ok)" false "cron-backup.ok"
assert_eq "$(f cron-backup facts.cronjobs)" 2 "cron-backup.facts.cronjobs (namespace backup)"
assert_contains "$(f cron-backup message)" "1 of 2 CronJobs failing: backup/files-backup (last success " "cron-backup.message"
since=$(( $(date +%s) - $(rfc3339_epoch 2026-11-20T02:41:10Z) ))
assert_between "$(f cron-backup value)" $((since - 60)) $((since + 5)) "cron-backup.value"

log "graph flux: the recorded dependsOn edges, drawn for Graphviz and Mermaid"
command -v dot >/dev/null || fail "dot (graphviz) is missing: run scripts/deps.sh test"
run_capture rc "$T/graph.dot" "$T/graph.err" "$YARDSTICK" graph flux -c "$T/cfg.yaml" --source prod
[ "$rc" = 0 ] || fail "graph flux exit code $rc: $(cat "$T/graph.err")"
# The edges the recording implies, dependency -> dependent, computed here
# from the JSON on its own; a dependsOn without namespace is the
# dependent's namespace.
python3 - "$DATA/kustomizations.json" >"$T/edges.want" <<'PY'
import json, sys
edges = set()
for k in json.load(open(sys.argv[1]))["items"]:
    ns, name = k["metadata"]["namespace"], k["metadata"]["name"]
    for d in k["spec"].get("dependsOn", []):
        edges.add("%s/%s -> %s/%s" % (d.get("namespace", ns), d["name"], ns, name))
print("\n".join(sorted(edges)))
PY
sed -nE 's/^ *"([^"]*)" -> "([^"]*)";$/\1 -> \2/p' "$T/graph.dot" | sort >"$T/edges.got"
assert_eq "$(wc -l <"$T/edges.want")" 7 "edges in the recording"
assert_eq "$(cat "$T/edges.got")" "$(cat "$T/edges.want")" "graph flux edges"
G=$(cat "$T/graph.dot")
assert_contains "$G" '"flux-system/apps" [label="flux-system/apps\nReady False"' "apps drawn not Ready"
assert_contains "$G" '"infra/infra" [label="infra/infra\nsuspended"' "infra drawn suspended"
assert_contains "$G" '"monitoring/cert-manager" [label="monitoring/cert-manager\nnot listed"' "a missing dependency drawn"
dot -Tsvg "$T/graph.dot" -o "$T/graph.svg" 2>"$T/dot.err" || fail "dot -Tsvg refused the graph: $(cat "$T/dot.err")"
[ ! -s "$T/dot.err" ] || fail "dot -Tsvg warned: $(cat "$T/dot.err")"
grep -c 'class="edge"' "$T/graph.svg" >"$T/n" || true
assert_eq "$(cat "$T/n")" 7 "edges in the SVG"
grep -c 'class="node"' "$T/graph.svg" >"$T/n" || true
assert_eq "$(cat "$T/n")" 6 "nodes in the SVG"

run_capture rc "$T/graph.mmd" "$T/graph.err" "$YARDSTICK" graph flux -c "$T/cfg.yaml" --source prod --format mermaid
assert_eq "$rc" 0 "graph flux --format mermaid exit code"
assert_eq "$(head -1 "$T/graph.mmd")" "graph TD" "mermaid header"
grep -c '^  n[0-9]* --> n[0-9]*$' "$T/graph.mmd" >"$T/n" || true
assert_eq "$(cat "$T/n")" 7 "mermaid edges"
assert_contains "$(cat "$T/graph.mmd")" 'n0["flux-system/apps<br/>Ready False"]:::failed' "mermaid node"

# --check: the check's cluster (the client certificate) and namespace.
run_capture rc "$T/graph2.dot" "$T/graph.err" "$YARDSTICK" graph flux -c "$T/cfg.yaml" --check flux-system
assert_eq "$rc" 0 "graph flux --check exit code"
grep -q '^cert /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations limit=500$' \
    "$T/requests.log" || fail "graph --check did not list the check's namespace with its credentials"
G=$(cat "$T/graph2.dot")
assert_contains "$G" '"infra/infra" [label="infra/infra\nnot listed"' "outside the namespace: not listed"
assert_contains "$G" '"monitoring/monitoring" -> "flux-system/tenants";' "an edge from outside"
assert_not_contains "$G" '"infra/infra" -> "monitoring/monitoring"' "monitoring's own edges are not listed"

log "graph flux: an API that cannot be read exits 1; usage errors exit 2"
run_capture rc "$T/graph3.dot" "$T/graph.err" "$YARDSTICK" graph flux -c "$T/cfg.yaml" --source wrong
assert_eq "$rc" 1 "graph flux with refused credentials"
assert_eq "$(cat "$T/graph.err")" "yardstick graph: cannot list Kustomizations: cluster wrong: unauthorized (401): the credentials were refused: Unauthorized" "graph flux error message"
assert_eq "$(wc -c <"$T/graph3.dot")" 0 "no graph printed on failure"
run_capture rc "$T/graph3.dot" "$T/graph.err" "$YARDSTICK" graph flux -c "$T/cfg.yaml"
assert_eq "$rc" 2 "graph flux with several sources and none named"
assert_contains "$(cat "$T/graph.err")" "5 kubernetes sources: name one with --source or --check" "graph flux without a source"
run_capture rc "$T/graph3.dot" "$T/graph.err" "$YARDSTICK" graph flux -c "$T/cfg.yaml" --check nodes
assert_eq "$rc" 2 "graph flux --check of another kind"
assert_contains "$(cat "$T/graph.err")" "check 'nodes' is a k8s_nodes check, not flux" "graph flux --check nodes"

log "config errors: a kubernetes source that is not one, an unknown context"
cat >"$T/bad.yaml" <<EOF
storage: { path: $T/y2.db }
sources:
  - { name: prom, kind: prometheus, url: "http://127.0.0.1:1" }
  - { name: nocontext, kind: kubernetes, kubeconfig: $T/kubeconfig, context: nope }
checks:
  - { name: a, kind: k8s_nodes, cluster: prom }
EOF
run_capture rc "$T/out2.txt" "$T/err2.txt" "$YARDSTICK" check -c "$T/bad.yaml" --format json
assert_ne "$rc" 0 "bad config exit code"
E=$(cat "$T/err2.txt" "$T/out2.txt")
assert_contains "$E" "cluster 'prom' of check 'a' is not a kubernetes source" "wrong source kind"
assert_contains "$E" "has no context 'nope'" "unknown context"
log "the daemon stores k8s results and stops cleanly with a list in flight"
cat >"$T/run.yaml" <<EOF
storage: { path: $T/run.db }
defaults: { interval: 1s, timeout: 20s }
sources:
  - { name: prod, kind: kubernetes, kubeconfig: $T/kubeconfig }
  - { name: lostfile, kind: kubernetes, kubeconfig: $T/kubeconfig, context: lostfile }
checks:
  - { name: nodes-d, kind: k8s_nodes, cluster: prod, min_ready: 50 }
  - { name: lost-d, kind: k8s_nodes, cluster: lostfile }
  - { name: slow-d, kind: k8s_nodes, cluster: prod, selector: slow=yes }
EOF
"$YARDSTICK" run -c "$T/run.yaml" >/dev/null 2>"$T/daemon.log" &
DPID=$!
YS_PIDS+=("$DPID")
stored() {
    "$YARDSTICK" history "$1" -c "$T/run.yaml" --since 1h --format json >"$T/h-$1.json" 2>/dev/null ||
        return 1
    [ "$(json_get "$T/h-$1.json" '#')" -ge 2 ]
}
wait_for 20 "two stored results of nodes-d" stored nodes-d
wait_for 10 "two stored results of lost-d" stored lost-d
assert_eq "$(json_get "$T/h-nodes-d.json" 0.ok)" true "nodes-d stored ok"
assert_eq "$(json_get "$T/h-lost-d.json" 0.ok)" false "lost-d stored failed (not silent)"
assert_contains "$(json_get "$T/h-lost-d.json" 0.message)" "cannot read the token file" "lost-d message"
grep -q 'labelSelector=slow%3Dyes' "$T/requests.log" || fail "the slow list was never requested"
term_wait "$DPID" 15
[ "$TERM_RC" = 0 ] || fail "daemon exit code after SIGTERM: $TERM_RC; log: $(tail -20 "$T/daemon.log")"
log "ok"
