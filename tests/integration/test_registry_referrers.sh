#!/usr/bin/env bash
# test_registry_referrers.sh - the registry kind against the OCI referrers
# API (distribution-spec 1.1), and its concurrent newest-tag scan.
#
# No registry that implements the referrers API can run here: zot and
# distribution 3 are not packaged in Debian nor on npm, and Debian's
# docker-registry 2.8 answers the API with 404 (its fallback is tested for
# real in test_registry.sh). So this test serves recorded answers of the
# real API's shape (tests/data/oci/referrers-*.json: image indexes whose
# descriptors carry artifactType and sigstore's annotations) over HTTP on
# loopback from a small python3 http.server below, which behaves as the
# spec says: Content-Type of an OCI index, Link rel="next" to a second
# page, ?artifactType= applied with OCI-Filters-Applied, 404 for absent
# tags. It logs every request, so the test can assert which pages and
# filters the probe asked for. It also answers the referrers API of some
# images with 400, 405 or 500 (as registries and proxies without the API
# do), and holds cosign attest .att manifests (tests/data/oci/cosign-att-*.json:
# SLSA provenance alone, provenance plus CycloneDX).
#
# The same server holds a repository of 12 tags whose config blobs answer
# after 300 ms each; it logs how many requests were in flight at once, so
# the test sees the scan of tag_pattern run 4 at a time, not one by one and
# not unbounded.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
DATA="$YS_SOURCE_DIR/tests/data/oci"
[ -f "$DATA/referrers-app-1.json" ] || fail "recorded answers missing in $DATA"
PORT=$(free_port)
R="http://127.0.0.1:$PORT"

cat >"$T/registry.py" <<'EOF'
import hashlib, http.server, json, os, sys, threading, time, urllib.parse
from datetime import datetime, timedelta, timezone

port, data = int(sys.argv[1]), sys.argv[2]
OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"
now = datetime.now(timezone.utc)
lock = threading.Lock()
inflight = 0
max_inflight = 0

log_lock = threading.Lock()

def log(*words):
    # One whole line at a time: the handler threads print concurrently.
    with log_lock:
        sys.stdout.write(" ".join(str(w) for w in words) + "\n")
        sys.stdout.flush()

def dump(o):
    return json.dumps(o, separators=(",", ":")).encode()

def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

blobs, manifests, refs = {}, {}, {}   # digest -> body; "repo:ref" -> body; digest -> subject

def image(repo, tag, age_s):
    cfg = dump({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                "config": {"Labels": {"tag": tag}},
                "created": (now - timedelta(seconds=age_s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    blobs[digest(cfg)] = cfg
    m = dump({"schemaVersion": 2, "mediaType": OCI_M,
              "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                         "digest": digest(cfg), "size": len(cfg)}, "layers": []})
    manifests[repo + ":" + tag] = m
    manifests[repo + ":" + digest(m)] = m
    return digest(m)

# Subjects of the recorded referrers answers.
for subject in ("app", "full", "bare"):
    refs[image("acme/app", subject, 3600)] = subject
# spa: a registry behind a web front end that answers every unknown path
# with 200 text/html; its referrers are in the tag schema's index.
spa = image("acme/app", "spa", 3600)
manifests["acme/app:sha256-" + spa[7:]] = open(os.path.join(data, "referrers-full-1.json"), "rb").read()
# Registries and proxies without the referrers API that answer it with
# 400, 405 or 500 rather than 404: 400 and 405 mean "no such API" (the
# tag schema's index is read), 500 is an error. p500/p405 are the same
# answers for checks that require nothing, which must not ask at all.
odd = {}
for tag, code in (("r500", 500), ("r405", 405), ("r400", 400), ("p500", 500), ("p405", 405)):
    odd[image("acme/app", tag, 3600)] = code
for d, code in odd.items():
    if code != 500:
        manifests["acme/app:sha256-" + d[7:]] = open(os.path.join(data, "referrers-full-1.json"), "rb").read()
# cosign attest's .att tags (no referrers; the API answers an empty index):
# SLSA provenance only (no SBOM), and provenance plus a CycloneDX SBOM;
# attskip's SBOM is there too, for a check whose artifact_types.sbom is [].
for tag, att in (("att", "cosign-att-slsa.json"), ("attsbom", "cosign-att-sbom.json"),
                 ("attskip", "cosign-att-sbom.json")):
    d = image("acme/app", tag, 3600)
    manifests["acme/app:sha256-" + d[7:] + ".att"] = open(os.path.join(data, att), "rb").read()
# acme/many: r1 .. r12; r5 is the newest, the higher versions are older.
# r13 is listed but its manifest is gone (deleted after the listing).
for n in range(1, 13):
    image("acme/many", "r%d" % n, 120 if n == 5 else 7200 + n * 60)

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def not_found(self, code):
        self.answer(404, dump({"errors": [{"code": code, "message": code.lower()}]}))

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        global inflight, max_inflight
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        parts = u.path.split("/")
        log(self.command, self.path)
        if u.path == "/v2/":
            return self.answer(200, b"{}")
        # /v2/<org>/<name>/<what>/<ref>
        if len(parts) != 6 or parts[1] != "v2":
            return self.not_found("NAME_UNKNOWN")
        repo, what, ref = parts[2] + "/" + parts[3], parts[4], parts[5]
        if what == "tags" and ref == "list":
            tags = sorted(k.split(":", 1)[1] for k in manifests
                          if k.startswith(repo + ":") and not k.split(":", 1)[1].startswith("sha256"))
            if repo == "acme/many":
                tags.append("r13")
            return self.answer(200, dump({"name": repo, "tags": tags}))
        if what == "manifests":
            m = manifests.get(repo + ":" + ref)
            if m is None:
                return self.not_found("MANIFEST_UNKNOWN")
            ctype = OCI_I if b'"manifests"' in m else OCI_M
            return self.answer(200, m, ctype, [("Docker-Content-Digest", digest(m))])
        if what == "blobs":
            with lock:
                inflight += 1
                max_inflight = max(max_inflight, inflight)
                log("inflight", inflight, "max", max_inflight)
            time.sleep(0.3)
            with lock:
                inflight -= 1
            b = blobs.get(ref)
            return self.answer(200, b) if b else self.not_found("BLOB_UNKNOWN")
        if what == "referrers" and ref in odd:
            return self.answer(odd[ref], dump({"errors": [{"code": "UNSUPPORTED",
                                                           "message": "unsupported"}]}))
        if what == "referrers" and ref == spa:
            return self.answer(200, b"<html><body>app</body></html>", "text/html")
        if what == "referrers":
            subject = refs.get(ref)
            if subject is None:   # the spec: an empty index, never 404
                return self.answer(200, dump({"schemaVersion": 2, "mediaType": OCI_I,
                                              "manifests": []}), OCI_I)
            page = int(q.get("page", ["1"])[0])
            path = os.path.join(data, "referrers-%s-%d.json" % (subject, page))
            doc = json.load(open(path))
            headers = []
            want = q.get("artifactType")
            if want:
                # A filtered answer: every page's matching descriptors at once.
                found, p = [], 1
                while os.path.exists(os.path.join(data, "referrers-%s-%d.json" % (subject, p))):
                    d = json.load(open(os.path.join(data, "referrers-%s-%d.json" % (subject, p))))
                    found += [m for m in d["manifests"] if m.get("artifactType") == want[0]]
                    p += 1
                doc["manifests"] = found
                headers.append(("OCI-Filters-Applied", "artifactType"))
            elif os.path.exists(os.path.join(data, "referrers-%s-%d.json" % (subject, page + 1))):
                headers.append(("Link", '</v2/%s/referrers/%s?page=%d>; rel="next"'
                                % (repo, ref, page + 1)))
            return self.answer(200, dump(doc), OCI_I, headers)
        return self.not_found("UNSUPPORTED")

class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

log("ready")
S(("127.0.0.1", port), H).serve_forever()
EOF
python3 -u "$T/registry.py" "$PORT" "$DATA" >"$T/registry.log" 2>&1 &
YS_PIDS+=($!)
wait_for 15 "the recorded-answer registry on $PORT" curl -sf "$R/v2/"

SIG_TYPE=application/vnd.dev.cosign.artifact.sig.v1+json
cat >"$T/cfg.yaml" <<EOF
checks:
  - { name: app, kind: registry, url: "$R", repository: acme/app, tag: app,
      require: [signature, sbom] }
  - { name: full, kind: registry, url: "$R", repository: acme/app, tag: full,
      require: [signature, sbom] }
  - { name: bare, kind: registry, url: "$R", repository: acme/app, tag: bare,
      require: [signature] }
  - { name: spa, kind: registry, url: "$R", repository: acme/app, tag: spa,
      require: [signature, sbom] }
  - { name: filtered, kind: registry, url: "$R", repository: acme/app, tag: app,
      require: [signature], artifact_types: { signature: [$SIG_TYPE], sbom: [] } }
  - { name: filtered_none, kind: registry, url: "$R", repository: acme/app, tag: full,
      require: [signature], artifact_types: { signature: [$SIG_TYPE], sbom: [] } }
  - { name: r500, kind: registry, url: "$R", repository: acme/app, tag: r500, require: [signature] }
  - { name: p500, kind: registry, url: "$R", repository: acme/app, tag: p500 }
  - { name: r405, kind: registry, url: "$R", repository: acme/app, tag: r405,
      require: [signature, sbom] }
  - { name: p405, kind: registry, url: "$R", repository: acme/app, tag: p405 }
  - { name: r400, kind: registry, url: "$R", repository: acme/app, tag: r400, require: [signature] }
  - { name: att_slsa, kind: registry, url: "$R", repository: acme/app, tag: att, require: [sbom] }
  - { name: att_sbom, kind: registry, url: "$R", repository: acme/app, tag: attsbom, require: [sbom] }
  - { name: att_skip, kind: registry, url: "$R", repository: acme/app, tag: attskip,
      require: [sbom], artifact_types: { sbom: [] } }
  - { name: many, kind: registry, url: "$R", repository: acme/many, tag_pattern: '^r\d+$',
      timeout: 20s }
EOF
"$YARDSTICK" validate -c "$T/cfg.yaml" >"$T/validate.out" 2>&1 ||
    { cat "$T/validate.out" >&2; fail "the config does not validate"; }
run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json
[ "$rc" = 1 ] || { cat "$T/out.json" "$T/err.txt" >&2; fail "check: expected exit 1, got $rc"; }

g() { json_get "$T/out.json" "name=$1.$2"; }
expect_ok() {
    [ "$(g "$1" ok)" = true ] || fail "$1: expected ok, got: $(g "$1" error) $(g "$1" message)"
}
DIGEST_APP=$(curl -sf -o /dev/null -D - "$R/v2/acme/app/manifests/app" | tr -d '\r' |
    sed -n 's/^Docker-Content-Digest: //p')
DIGEST_FULL=$(curl -sf -o /dev/null -D - "$R/v2/acme/app/manifests/full" | tr -d '\r' |
    sed -n 's/^Docker-Content-Digest: //p')

# app: the signature on page 1, the SBOM (an SPDX attestation) on page 2,
# reached through the Link header; a provenance attestation counts as
# neither, so without page 2 there would be no SBOM.
expect_ok app
assert_eq "$(g app facts.signature_via)" referrers "app signature_via"
assert_eq "$(g app facts.sbom_via)" referrers "app sbom_via"
assert_eq "$(g app facts.referrers_api)" true "app referrers_api"
grep -qxF "GET /v2/acme/app/referrers/$DIGEST_APP?page=2" "$T/registry.log" ||
    fail "app: page 2 of the referrers was not asked for: $(grep referrers "$T/registry.log")"
# Neither the referrers tag schema nor any cosign tag was asked for (the
# filtered check below finds its signature among the referrers too, and
# with artifact_types.sbom [] it looks for no SBOM at all).
if grep -qE "/v2/acme/app/manifests/sha256-${DIGEST_APP#sha256:}" "$T/registry.log"; then
    fail "app: the probe fell back to tags although the referrers API answered: $(grep "${DIGEST_APP#sha256:}" "$T/registry.log")"
fi

# full: both on page 1 (a sigstore bundle signature, a CycloneDX SBOM), so
# paging stops there.
expect_ok full
assert_eq "$(g full facts.signature_via)" referrers "full signature_via"
assert_eq "$(g full facts.sbom_via)" referrers "full sbom_via"
grep -qF "GET /v2/acme/app/referrers/$DIGEST_FULL" "$T/registry.log" || fail "full: no referrers request"
if grep -qF "GET /v2/acme/app/referrers/$DIGEST_FULL?page=2" "$T/registry.log"; then
    fail "full: page 2 was read although page 1 had both"
fi

# bare: the API answers an empty index; cosign's .sig tag is asked next
# and is absent too.
assert_eq "$(g bare ok)" false "bare ok"
assert_eq "$(g bare error)" assertion "bare error"
assert_contains "$(g bare message)" "acme/app:bare has no signature (referrers API, sha256-<digest>.sig)" \
    "bare message"
assert_eq "$(g bare facts.referrers_api)" true "bare referrers_api"

# spa: a 200 that is not an OCI index means no referrers API (as oras-go
# judges it too): the tag schema's index is read instead.
expect_ok spa
assert_eq "$(g spa facts.signature_via)" referrers-tag "spa signature_via"
assert_eq "$(g spa facts.sbom_via)" referrers-tag "spa sbom_via"
assert_eq "$(g spa facts.referrers_api)" false "spa referrers_api"

# One artifact type counts: the probe asks the registry to filter.
ENC_SIG='application%2Fvnd.dev.cosign.artifact.sig.v1%2Bjson'
expect_ok filtered
assert_eq "$(g filtered facts.signature_via)" referrers "filtered signature_via"
grep -qxF "GET /v2/acme/app/referrers/$DIGEST_APP?artifactType=$ENC_SIG" "$T/registry.log" ||
    fail "filtered: no ?artifactType= request: $(grep referrers "$T/registry.log")"
# full's signature is a sigstore bundle, not a cosign artifact: with only
# the cosign type counting, it has none.
assert_eq "$(g filtered_none ok)" false "filtered_none ok"
assert_contains "$(g filtered_none message)" "acme/app:full has no signature" "filtered_none message"
assert_eq "$(g filtered_none facts.signature)" false "filtered_none signature"

# A referrers answer other than 200/404. 500 is an error when a signature
# is required; 400 and 405 (registries and proxies without the API) fall
# back to the tag schema as 404 does. A check that requires nothing does
# not look, so neither answer can fail it.
digest_of() {
    curl -sf -o /dev/null -D - "$R/v2/acme/app/manifests/$1" | tr -d '\r' |
        sed -n 's/^Docker-Content-Digest: //p'
}
expect_fail_http() {
    assert_eq "$(g "$1" ok)" false "$1 ok"
    assert_eq "$(g "$1" error)" http_status "$1 error"
    assert_contains "$(g "$1" message)" "$2" "$1 message"
}
D500=$(digest_of r500)
expect_fail_http r500 "referrers: HTTP 500 from /v2/acme/app/referrers/$D500"
expect_ok r405
assert_eq "$(g r405 facts.signature_via)" referrers-tag "r405 signature_via"
assert_eq "$(g r405 facts.sbom_via)" referrers-tag "r405 sbom_via"
assert_eq "$(g r405 facts.referrers_api)" false "r405 referrers_api"
expect_ok r400
assert_eq "$(g r400 facts.signature_via)" referrers-tag "r400 signature_via"
for c in p500 p405; do
    expect_ok $c
    assert_eq "$(g $c facts.signature)" "<missing>" "$c signature (not checked)"
    assert_eq "$(g $c facts.referrers_api)" "<missing>" "$c referrers_api (not checked)"
    D=$(digest_of $c)
    if grep -qE "/referrers/$D|/manifests/sha256-${D#sha256:}" "$T/registry.log"; then
        fail "$c: require names nothing, yet the probe looked: $(grep "${D#sha256:}" "$T/registry.log")"
    fi
done

# cosign's .att: read (GET), and an SBOM only when a layer's predicateType
# is SPDX or CycloneDX. SLSA provenance alone is an attestation, no SBOM.
assert_eq "$(g att_slsa ok)" false "att_slsa ok"
assert_eq "$(g att_slsa error)" assertion "att_slsa error"
assert_contains "$(g att_slsa message)" \
    "acme/app:att has no SBOM (referrers API, sha256-<digest>.sbom or .att); its .att attests https://slsa.dev/provenance/v0.2" \
    "att_slsa message"
assert_eq "$(g att_slsa facts.attestation)" https://slsa.dev/provenance/v0.2 "att_slsa attestation"
assert_eq "$(g att_slsa facts.sbom)" false "att_slsa sbom"
DATT=$(digest_of att)
grep -qxF "GET /v2/acme/app/manifests/sha256-${DATT#sha256:}.att" "$T/registry.log" ||
    fail "att_slsa: the .att manifest was not read: $(grep "${DATT#sha256:}" "$T/registry.log")"
expect_ok att_sbom
assert_eq "$(g att_sbom facts.sbom_via)" cosign-tag "att_sbom sbom_via"
assert_eq "$(g att_sbom facts.attestation)" "<missing>" "att_sbom attestation"
# artifact_types.sbom: [] means nothing counts as an SBOM: no cosign tag
# is asked for either, though attskip's .att holds one.
assert_eq "$(g att_skip ok)" false "att_skip ok"
assert_contains "$(g att_skip message)" "acme/app:attskip has no SBOM" "att_skip message"
DSKIP=$(digest_of attskip)
if grep -qE "/manifests/sha256-${DSKIP#sha256:}\.(sbom|att)$" "$T/registry.log"; then
    fail "att_skip: cosign's SBOM tags were asked for: $(grep "${DSKIP#sha256:}" "$T/registry.log")"
fi

# many: 12 tags read 4 at a time (each config blob takes 300 ms: one by one
# would take 3.6 s), the newest by created is r5; r13, listed but gone
# (404), is skipped.
expect_ok many
assert_eq "$(g many facts.tag)" r5 "many tag (the newest, not the highest version)"
assert_eq "$(g many facts.inspected)" 13 "many inspected"
assert_eq "$(g many facts.matching)" 13 "many matching"
MAXIN=$(sed -n 's/^inflight [0-9]* max //p' "$T/registry.log" | sort -n | tail -1)
assert_eq "$MAXIN" 4 "most config blob requests in flight at once"
assert_between "$(g many duration_ms)" 900 3500 "many duration_ms (3 rounds of 4, not 12 one by one)"

log "ok"
