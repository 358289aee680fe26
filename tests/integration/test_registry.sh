#!/usr/bin/env bash
# test_registry.sh - the registry kind against a real OCI distribution
# server: Debian's docker-registry (2.8) on a free loopback port with
# filesystem storage in the test's folder.
#
# The test pushes everything through the registry's HTTP API with curl
# (blob uploads by POST + PUT, manifests by PUT): image manifests for
# linux/amd64 and linux/arm64/v8, an OCI index over them tagged v1.2.0, a
# cosign-style signature tagged sha256-<index hex>.sig, single-platform
# images v1.0.0 (created 3 days ago) and v1.1.0 (30 minutes ago: a patch
# release newer than v1.2.0, made 2 hours ago), and two tags the pattern
# does not match. Then `yardstick check --format json` on checks for: the
# tag resolves with the digest the registry gave at push; the index covers
# the platforms / a missing one fails naming it; a single image's platform
# from its config blob; signature present / SBOM missing; tag count against
# max_tags; a missing tag and a missing repository; the newest tag matching
# a pattern by its config's created time (v1.1.0, not the highest version).
#
# A second instance uses htpasswd (Basic) authentication, a third token
# (Bearer) authentication with a small token server written here (below):
# right, wrong and no credentials for each.
#
# Signatures and SBOMs: docker-registry 2.8 has no referrers API, so here
# the probe's fallback is tested for real (the API's 404, then the
# referrers tag schema, then cosign's tags), and the newest-tag scan over
# 30 tags whose version order is not their age order. The referrers API
# itself is tested in test_registry_referrers.sh against recorded answers
# (no registry that implements it is packaged in Debian or on npm).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REGISTRY=$(command -v docker-registry || echo /usr/bin/docker-registry)
[ -x "$REGISTRY" ] || fail "docker-registry is missing (apt-get install docker-registry)"

ys_tmpdir T
PORT=$(free_port)
R="http://127.0.0.1:$PORT"
mkdir -p "$T/data"
cat >"$T/registry.yml" <<EOF
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $T/data }
http:
  addr: 127.0.0.1:$PORT
EOF
"$REGISTRY" serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
YS_PIDS+=($!)
wait_for 15 "docker-registry on $PORT" curl -sf "$R/v2/"

# A second instance behind htpasswd (Basic) authentication. The bcrypt
# hash comes from python3's crypt (libxcrypt), so no apache2-utils.
APORT=$(free_port)
AR="http://127.0.0.1:$APORT"
mkdir -p "$T/adata"
python3 -W ignore -c 'import crypt; print("bob:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' \
    >"$T/htpasswd" || fail "cannot make a bcrypt hash"
cat >"$T/registry-auth.yml" <<EOF
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $T/adata }
http:
  addr: 127.0.0.1:$APORT
auth:
  htpasswd: { realm: test-realm, path: $T/htpasswd }
EOF
"$REGISTRY" serve "$T/registry-auth.yml" >"$T/registry-auth.log" 2>&1 &
YS_PIDS+=($!)
wait_for 15 "docker-registry with auth on $APORT" curl -sf -u bob:s3cret "$AR/v2/"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$AR/v2/")" = 401 ] ||
    fail "the htpasswd registry lets anonymous requests in"

# A third instance uses token authentication, as Docker Hub and GHCR do:
# the registry answers 401 with a Bearer challenge naming a token realm,
# and accepts JWTs (RS256) signed by a key whose certificate is in its
# rootcertbundle. No token server is packaged in Debian, so a small python3
# one below plays that part: it checks bob's basic credentials (anonymous
# callers get a token without access, as public registries do for private
# repositories) and answers {"access_token": ...} only, the OAuth2 name.
# It signs with `openssl dgst`, and names the key with libtrust's key ID
# (the registry finds the verifying key by the JWT's kid).
TPORT=$(free_port)
TR_PORT=$(free_port)
TR="http://127.0.0.1:$TR_PORT"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tok.key" -out "$T/tok.crt" \
    -subj /CN=yardstick-test-token -days 1 2>/dev/null || fail "cannot make the token key"
cat >"$T/token_server.py" <<'EOF'
import base64, hashlib, http.server, json, subprocess, sys, time, urllib.parse

port, key, crt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
der = subprocess.run(["openssl", "x509", "-in", crt, "-pubkey", "-noout"], check=True,
                     capture_output=True).stdout
spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der, check=True,
                      capture_output=True).stdout
b32 = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode()
kid = ":".join(b32[i:i + 4] for i in range(0, 48, 4))

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        auth = self.headers.get("Authorization", "")
        user = None
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if (u, p) != ("bob", "s3cret"):
                self.send_response(401)
                self.end_headers()
                return
            user = u
        access = []
        for scope in q.get("scope", []):
            typ, name, actions = scope.split(":")
            if user:
                access.append({"type": typ, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {"iss": "test-issuer", "sub": user or "", "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(time.time_ns()),
                  "access": access}
        head = {"typ": "JWT", "alg": "RS256", "kid": kid}
        signing = b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing.encode(),
                             check=True, capture_output=True).stdout
        body = json.dumps({"access_token": signing + "." + b64(sig)}).encode()
        print("token for", user, q.get("scope"), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
python3 -u "$T/token_server.py" "$TPORT" "$T/tok.key" "$T/tok.crt" >"$T/token.log" 2>&1 &
YS_PIDS+=($!)
mkdir -p "$T/tdata"
cat >"$T/registry-token.yml" <<EOF
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $T/tdata }
http:
  addr: 127.0.0.1:$TR_PORT
auth:
  token:
    realm: http://127.0.0.1:$TPORT/token
    service: test-registry
    issuer: test-issuer
    rootcertbundle: $T/tok.crt
EOF
"$REGISTRY" serve "$T/registry-token.yml" >"$T/registry-token.log" 2>&1 &
YS_PIDS+=($!)
wait_for 15 "token server on $TPORT" port_open "$TPORT"
wait_for 15 "docker-registry with token auth on $TR_PORT" port_open "$TR_PORT"

# A port that accepts and never answers, and one nobody listens on.
BLACKHOLE=$(free_port)
start_py_server blackhole "$BLACKHOLE" "$T/blackhole.log"
CLOSED=$(free_port)

REPO=acme/api

sha() { sha256sum "$1" | cut -d' ' -f1; }
# curl with the credentials when talking to the authenticated instance.
rcurl() {
    if [ "$R" = "$AR" ]; then
        curl -u bob:s3cret "$@"
    elif [ "$R" = "$TR" ]; then
        curl -H "Authorization: Bearer $PUSH_TOKEN" "$@"
    else
        curl "$@"
    fi
}

# push_blob FILE: uploads FILE (POST then PUT), prints its digest.
push_blob() {
    local dg loc
    dg="sha256:$(sha "$1")"
    loc=$(rcurl -sf -o /dev/null -D - -X POST "$R/v2/$REPO/blobs/uploads/" |
        tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    [ -n "$loc" ] || fail "blob upload: no Location"
    case "$loc" in /*) loc="$R$loc" ;; esac
    case "$loc" in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
    rcurl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
        --data-binary "@$1" "$loc" || fail "blob upload of $1 failed"
    printf '%s' "$dg"
}

# put_manifest REF MEDIATYPE FILE: prints the digest the registry reports.
put_manifest() {
    local dg
    dg=$(rcurl -sf -o /dev/null -D - -X PUT -H "Content-Type: $2" --data-binary "@$3" \
        "$R/v2/$REPO/manifests/$1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
    [ -n "$dg" ] || fail "manifest PUT $1 failed"
    [ "$dg" = "sha256:$(sha "$3")" ] || fail "manifest $1: registry digest $dg is not the file's"
    printf '%s' "$dg"
}

ago() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%S.123456789Z; }

OCI_M=application/vnd.oci.image.manifest.v1+json
OCI_I=application/vnd.oci.image.index.v1+json

# image NAME OS ARCH VARIANT AGE_S: config + layer blobs and a manifest file
# $T/NAME.json; sets IMG_SIZE.
image() {
    local name=$1 os=$2 arch=$3 variant=$4 age=$5 cfg layer vfield=""
    [ -n "$variant" ] && vfield=",\"variant\":\"$variant\""
    printf '{"architecture":"%s","os":"%s"%s,"created":"%s","rootfs":{"type":"layers","diff_ids":[]}}' \
        "$arch" "$os" "$vfield" "$(ago "$age")" >"$T/$name.cfg"
    printf 'layer of %s\n' "$name" | gzip -n >"$T/$name.layer"
    cfg=$(push_blob "$T/$name.cfg")
    layer=$(push_blob "$T/$name.layer")
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
        "$OCI_M" "$cfg" "$(stat -c %s "$T/$name.cfg")" "$layer" "$(stat -c %s "$T/$name.layer")" \
        >"$T/$name.json"
    IMG_SIZE=$(stat -c %s "$T/$name.json")
}

# v1.2.0: an index over two platform images, made 2 hours ago.
image amd64 linux amd64 "" 7200
AMD=$(put_manifest "sha256:$(sha "$T/amd64.json")" "$OCI_M" "$T/amd64.json")
AMD_SIZE=$IMG_SIZE
image arm64 linux arm64 v8 7200
ARM=$(put_manifest "sha256:$(sha "$T/arm64.json")" "$OCI_M" "$T/arm64.json")
ARM_SIZE=$IMG_SIZE
printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%d,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"%s","digest":"%s","size":%d,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}' \
    "$OCI_I" "$OCI_M" "$AMD" "$AMD_SIZE" "$OCI_M" "$ARM" "$ARM_SIZE" >"$T/index.json"
INDEX=$(put_manifest v1.2.0 "$OCI_I" "$T/index.json")
put_manifest latest "$OCI_I" "$T/index.json" >/dev/null

# cosign's legacy scheme: the signature is a manifest tagged sha256-<hex>.sig.
image sig linux amd64 "" 60
put_manifest "sha256-${INDEX#sha256:}.sig" "$OCI_M" "$T/sig.json" >/dev/null

image old linux amd64 "" $((3 * 86400))
put_manifest v1.0.0 "$OCI_M" "$T/old.json" >/dev/null
image patch linux amd64 "" 1800
PATCH_SET=$(date +%s)
put_manifest v1.1.0 "$OCI_M" "$T/patch.json" >/dev/null
put_manifest dev-abc "$OCI_M" "$T/patch.json" >/dev/null
# The same index on the authenticated instance (its blobs first).
for b in amd64.cfg amd64.layer arm64.cfg arm64.layer; do
    R=$AR push_blob "$T/$b" >/dev/null
done
R=$AR put_manifest "$AMD" "$OCI_M" "$T/amd64.json" >/dev/null
R=$AR put_manifest "$ARM" "$OCI_M" "$T/arm64.json" >/dev/null
R=$AR put_manifest v1.2.0 "$OCI_I" "$T/index.json" >/dev/null

# And on the token instance, with a push token from the token server.
PUSH_TOKEN=$(curl -sf -u bob:s3cret \
    "http://127.0.0.1:$TPORT/token?service=test-registry&scope=repository:$REPO:pull,push" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
    fail "no push token"
for b in amd64.cfg amd64.layer arm64.cfg arm64.layer; do
    R=$TR push_blob "$T/$b" >/dev/null
done
R=$TR put_manifest "$AMD" "$OCI_M" "$T/amd64.json" >/dev/null
R=$TR put_manifest "$ARM" "$OCI_M" "$T/arm64.json" >/dev/null
R=$TR put_manifest v1.2.0 "$OCI_I" "$T/index.json" >/dev/null

# Tags now: v1.0.0 v1.1.0 v1.2.0 latest dev-abc sha256-....sig = 6.

# acme/signed: an image whose signature and SBOM are OCI 1.1 artifacts
# (artifactType, an empty config, subject = the image). docker-registry 2.8
# has no referrers API (it answers 404), so, as the distribution spec's
# fallback says, their descriptors go into an index tagged sha256-<hex>
# (the referrers tag schema), as oras and cosign write it for such
# registries. A third artifact of an unknown type must count for nothing.
printf '{}' >"$T/empty.cfg"
printf '{"critical":{"type":"cosign container image signature"}}' >"$T/sig11.payload"
printf '{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"acme/signed"}' \
    >"$T/sbom11.payload"
printf 'build log\n' >"$T/log11.payload"
ATYPE_SIG=application/vnd.dev.cosign.artifact.sig.v1+json
# artifact NAME ARTIFACT_TYPE LAYER_TYPE SUBJECT SUBJECT_SIZE: pushes an
# artifact manifest $T/NAME.json by digest; sets ART_DIGEST and ART_SIZE.
artifact() {
    local name=$1 layer
    push_blob "$T/empty.cfg" >/dev/null
    layer=$(push_blob "$T/$name.payload")
    printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:%s","size":2},"layers":[{"mediaType":"%s","digest":"%s","size":%d}],"subject":{"mediaType":"%s","digest":"%s","size":%d}}' \
        "$OCI_M" "$2" "$(sha "$T/empty.cfg")" "$3" "$layer" "$(stat -c %s "$T/$name.payload")" \
        "$OCI_M" "$4" "$5" >"$T/$name.json"
    ART_DIGEST=$(put_manifest "sha256:$(sha "$T/$name.json")" "$OCI_M" "$T/$name.json")
    ART_SIZE=$(stat -c %s "$T/$name.json")
}
REPO=acme/signed image signed linux amd64 "" 600
SIGNED=$(REPO=acme/signed put_manifest v1 "$OCI_M" "$T/signed.json")
SIGNED_SIZE=$IMG_SIZE
REPO=acme/signed artifact sig11 "$ATYPE_SIG" application/vnd.dev.cosign.simplesigning.v1+json \
    "$SIGNED" "$SIGNED_SIZE"
SIG11=$ART_DIGEST SIG11_SIZE=$ART_SIZE
REPO=acme/signed artifact sbom11 application/spdx+json application/spdx+json "$SIGNED" "$SIGNED_SIZE"
SBOM11=$ART_DIGEST SBOM11_SIZE=$ART_SIZE
REPO=acme/signed artifact log11 application/vnd.acme.build-log text/plain "$SIGNED" "$SIGNED_SIZE"
printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%d,"artifactType":"application/vnd.acme.build-log"},{"mediaType":"%s","digest":"%s","size":%d,"artifactType":"%s"},{"mediaType":"%s","digest":"%s","size":%d,"artifactType":"application/spdx+json","annotations":{"org.opencontainers.image.created":"%s"}}]}' \
    "$OCI_I" "$OCI_M" "$ART_DIGEST" "$ART_SIZE" "$OCI_M" "$SIG11" "$SIG11_SIZE" "$ATYPE_SIG" \
    "$OCI_M" "$SBOM11" "$SBOM11_SIZE" "$(ago 60)" >"$T/refindex.json"
REPO=acme/signed put_manifest "sha256-${SIGNED#sha256:}" "$OCI_I" "$T/refindex.json" >/dev/null

# acme/signed:v2 has only what `cosign attest --type slsaprovenance`
# writes: a manifest tagged sha256-<hex>.att whose DSSE layer carries the
# predicateType annotation. Provenance is no SBOM; the probe reads the
# manifest (GET) to tell.
printf '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"MEUC"}]}' \
    >"$T/att.payload"
REPO=acme/signed image attested linux amd64 "" 300
ATTESTED=$(REPO=acme/signed put_manifest v2 "$OCI_M" "$T/attested.json")
ATT_LAYER=$(REPO=acme/signed push_blob "$T/att.payload")
REPO=acme/signed push_blob "$T/empty.cfg" >/dev/null
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":2},"layers":[{"mediaType":"application/vnd.dsse.envelope.v1+json","digest":"%s","size":%d,"annotations":{"dev.cosignproject.cosign/signature":"","predicateType":"https://slsa.dev/provenance/v0.2"}}]}' \
    "$OCI_M" "$(sha "$T/empty.cfg")" "$ATT_LAYER" "$(stat -c %s "$T/att.payload")" >"$T/att.json"
REPO=acme/signed put_manifest "sha256-${ATTESTED#sha256:}.att" "$OCI_M" "$T/att.json" >/dev/null

# acme/builds: 30 tags build-1 .. build-30 whose version order is not
# their age order: build-3 is the newest (1 minute old), the others are
# older the higher their number (build-N made 1 h + N min ago). Reading
# only the highest versions (as the probe once did, 25 of them) misses
# build-3; a scan capped at 10 reads build-21 .. build-30 and says so.
printf 'shared layer\n' | gzip -n >"$T/build.layer"
BUILD_LAYER=$(REPO=acme/builds push_blob "$T/build.layer")
for n in $(seq 1 30); do
    age=$((3600 + n * 60))
    [ "$n" = 3 ] && age=60
    printf '{"architecture":"amd64","os":"linux","created":"%s","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"build":"%d"}}}' \
        "$(ago "$age")" "$n" >"$T/build-$n.cfg"
    cfg=$(REPO=acme/builds push_blob "$T/build-$n.cfg")
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
        "$OCI_M" "$cfg" "$(stat -c %s "$T/build-$n.cfg")" "$BUILD_LAYER" "$(stat -c %s "$T/build.layer")" \
        >"$T/build-$n.json"
    REPO=acme/builds put_manifest "build-$n" "$OCI_M" "$T/build-$n.json" >/dev/null
done
BUILDS_SET=$(date +%s)

cat >"$T/cfg.yaml" <<EOF
checks:
  - { name: tag_ok, kind: registry, url: "$R", repository: $REPO, tag: v1.2.0,
      platforms: [linux/amd64, linux/arm64], require: [signature] }
  - { name: missing_platform, kind: registry, url: "$R", repository: $REPO, tag: v1.2.0,
      platforms: [linux/amd64, linux/s390x] }
  - { name: variant_wrong, kind: registry, url: "$R", repository: $REPO, tag: v1.2.0,
      platforms: [linux/arm64/v7] }
  - { name: sbom_missing, kind: registry, url: "$R", repository: $REPO, tag: v1.2.0,
      require: [signature, sbom] }
  - { name: unsigned, kind: registry, url: "$R", repository: $REPO, tag: v1.1.0,
      require: [signature] }
  - { name: single_ok, kind: registry, url: "$R", repository: $REPO, tag: v1.0.0,
      platforms: [linux/amd64] }
  - { name: single_arm, kind: registry, url: "$R", repository: $REPO, tag: v1.0.0,
      platforms: [linux/arm64] }
  - { name: tags_ok, kind: registry, url: "$R", repository: $REPO, tag: latest, max_tags: 6 }
  - { name: tags_over, kind: registry, url: "$R", repository: $REPO, tag: latest, max_tags: 5 }
  - { name: no_tag, kind: registry, url: "$R", repository: $REPO, tag: v9.9.9 }
  - { name: newest, kind: registry, url: "$R", repository: $REPO,
      tag_pattern: '^v\d+\.\d+\.\d+$' }
  - { name: no_repo, kind: registry, url: "$R", repository: acme/nothing,
      tag_pattern: '^v' }
  - { name: refused, kind: registry, url: "http://127.0.0.1:$CLOSED", repository: $REPO, tag: v1 }
  - { name: blackhole, kind: registry, url: "http://127.0.0.1:$BLACKHOLE", repository: $REPO,
      tag: v1, timeout: 1s }
  - { name: token_ok, kind: registry, url: "$TR", repository: $REPO, tag: v1.2.0,
      platforms: [linux/amd64], max_tags: 1, username: bob, password: s3cret }
  - { name: token_wrong, kind: registry, url: "$TR", repository: $REPO, tag: v1.2.0,
      username: bob, password: nope }
  - { name: token_anon, kind: registry, url: "$TR", repository: $REPO, tag: v1.2.0 }
  - { name: basic_ok, kind: registry, url: "$AR", repository: $REPO, tag: v1.2.0,
      platforms: [linux/arm64], username: bob, password: s3cret }
  - { name: basic_wrong, kind: registry, url: "$AR", repository: $REPO, tag: v1.2.0,
      username: bob, password: nope }
  - { name: basic_anon, kind: registry, url: "$AR", repository: $REPO, tag: v1.2.0 }
  - { name: refs_tag, kind: registry, url: "$R", repository: acme/signed, tag: v1,
      require: [signature, sbom] }
  - { name: refs_tag_types, kind: registry, url: "$R", repository: acme/signed, tag: v1,
      require: [signature, sbom], artifact_types: { sbom: [application/vnd.cyclonedx+json] } }
  - { name: att_provenance, kind: registry, url: "$R", repository: acme/signed, tag: v2,
      require: [sbom] }
  - { name: scan_all, kind: registry, url: "$R", repository: acme/builds,
      tag_pattern: '^build-\d+$' }
  - { name: scan_cap, kind: registry, url: "$R", repository: acme/builds,
      tag_pattern: '^build-\d+$', max_tags_inspected: 10 }
EOF

"$YARDSTICK" validate -c "$T/cfg.yaml" >"$T/validate.out" 2>&1 ||
    { cat "$T/validate.out" >&2; fail "the config does not validate"; }
run_capture rc "$T/out.json" "$T/err.txt" "$YARDSTICK" check -c "$T/cfg.yaml" --format json
[ "$rc" = 1 ] || { cat "$T/out.json" "$T/err.txt" >&2; fail "check: expected exit 1, got $rc"; }
SINCE=$(($(date +%s) - PATCH_SET))

declare -A R
while IFS=$'\t' read -r key value; do
    R[$key]=$value
done < <(python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    for k, v in list(r.items()) + [("facts." + k, v) for k, v in (r.get("facts") or {}).items()]:
        if isinstance(v, list):
            v = ",".join(map(str, v))
        if not isinstance(v, dict):
            v = "null" if v is None else str(v).lower() if isinstance(v, bool) else v
            print("%s.%s\t%s" % (r["name"], k, v))' "$T/out.json")
f() { printf '%s' "${R[$1.$2]-<missing>}"; }
expect_ok() {
    [ "$(f "$1" ok)" = true ] || fail "$1: expected ok, got: $(f "$1" error) $(f "$1" message)"
}
expect_fail() { # NAME CLASS TEXT
    assert_eq "$(f "$1" ok)" false "$1 ok"
    assert_eq "$(f "$1" error)" "$2" "$1 error class"
    assert_contains "$(f "$1" message)" "$3" "$1 message"
}

expect_ok tag_ok
assert_eq "$(f tag_ok facts.digest)" "$INDEX" "tag_ok digest"
assert_eq "$(f tag_ok facts.platforms)" "linux/amd64,linux/arm64/v8" "tag_ok platforms"
assert_eq "$(f tag_ok facts.signature)" true "tag_ok signature"
assert_eq "$(f tag_ok facts.sbom)" false "tag_ok sbom"
assert_eq "$(f tag_ok status)" 200 "tag_ok status (the manifest's, not the absent .sbom's)"

expect_fail missing_platform assertion "$REPO:v1.2.0 lacks platform linux/s390x"
expect_fail variant_wrong assertion "lacks platform linux/arm64/v7"
expect_fail sbom_missing assertion "$REPO:v1.2.0 has no SBOM"
assert_eq "$(f sbom_missing facts.signature)" true "sbom_missing signature"
expect_fail unsigned assertion "$REPO:v1.1.0 has no signature"

expect_ok single_ok
assert_eq "$(f single_ok facts.platforms)" "linux/amd64" "single_ok platforms (from the config blob)"
expect_fail single_arm assertion "$REPO:v1.0.0 lacks platform linux/arm64"

expect_ok tags_ok
assert_between "$(f tags_ok value)" 6 6 "tags_ok value (tag count)"
assert_eq "$(f tags_ok facts.tags)" 6 "tags_ok facts.tags"
expect_fail tags_over assertion "$REPO has 6 tags, more than max_tags 5"
assert_eq "$(f tags_over facts.digest)" "$INDEX" "tags_over digest (checks go on after a failure)"

expect_fail no_tag assertion "tag not found: $REPO:v9.9.9"
assert_eq "$(f no_tag status)" 404 "no_tag status"

expect_ok newest
assert_eq "$(f newest facts.tag)" v1.1.0 "newest: by created, not by version"
assert_between "$(f newest value)" 1800 $((1800 + SINCE + 2)) "newest value (age in s)"
assert_eq "$(f newest facts.digest)" "sha256:$(sha "$T/patch.json")" "newest digest"
expect_fail no_repo assertion "repository acme/nothing not found"
# Facts learned before a failure are kept.
assert_eq "$(f missing_platform facts.digest)" "$INDEX" "missing_platform digest"

expect_fail refused connect "GET /v2/$REPO/manifests/v1: Failed to connect to 127.0.0.1 port $CLOSED"
expect_fail blackhole timeout "timed out after 1s waiting for /v2/$REPO/manifests/v1"
assert_between "$(f blackhole duration_ms)" 990 3000 "blackhole duration_ms"

expect_ok token_ok
assert_eq "$(f token_ok facts.digest)" "$INDEX" "token_ok digest"
assert_eq "$(f token_ok facts.tags)" 1 "token_ok tags (tags/list with the token)"
expect_fail token_wrong http_status "token endpoint /token answered HTTP 401 (credentials refused)"
expect_fail token_anon http_status "HTTP 401 from /v2/$REPO/manifests/v1.2.0: anonymous access refused"
grep -q "token for bob \['repository:$REPO:pull'\]" "$T/token.log" ||
    fail "the probe did not ask the token server for repository:$REPO:pull: $(cat "$T/token.log")"

expect_ok basic_ok
assert_eq "$(f basic_ok facts.digest)" "$INDEX" "basic_ok digest"
expect_fail basic_wrong http_status "HTTP 401 from /v2/$REPO/manifests/v1.2.0: credentials refused"
expect_fail basic_anon http_status "the registry wants a username and password"

# The referrers API answered 404, so the tag schema was read: the
# signature and the SBOM come from the index tagged sha256-<hex>.
expect_ok refs_tag
assert_eq "$(f refs_tag facts.digest)" "$SIGNED" "refs_tag digest"
assert_eq "$(f refs_tag facts.signature)" true "refs_tag signature"
assert_eq "$(f refs_tag facts.signature_via)" referrers-tag "refs_tag signature_via"
assert_eq "$(f refs_tag facts.sbom)" true "refs_tag sbom"
assert_eq "$(f refs_tag facts.sbom_via)" referrers-tag "refs_tag sbom_via"
assert_eq "$(f refs_tag facts.referrers_api)" false "refs_tag referrers_api (2.8 has none)"
assert_eq "$(f refs_tag status)" 200 "refs_tag status (the manifest's, not the referrers 404)"
# Only CycloneDX counts as an SBOM here: the SPDX document does not, and
# there is no cosign .sbom/.att tag either.
expect_fail refs_tag_types assertion \
    "acme/signed:v1 has no SBOM (referrers tag sha256-<digest>, sha256-<digest>.sbom or .att)"
assert_eq "$(f refs_tag_types facts.signature_via)" referrers-tag "refs_tag_types signature_via"
# The signature of v1.2.0 is cosign's .sig tag.
assert_eq "$(f tag_ok facts.signature_via)" cosign-tag "tag_ok signature_via"
assert_eq "$(f tag_ok facts.sbom_via)" "<missing>" "tag_ok sbom_via"

# cosign's .att holds SLSA provenance only: no SBOM, and the fact names it.
expect_fail att_provenance assertion \
    "acme/signed:v2 has no SBOM (referrers tag sha256-<digest>, sha256-<digest>.sbom or .att); its .att attests https://slsa.dev/provenance/v0.2"
assert_eq "$(f att_provenance facts.attestation)" https://slsa.dev/provenance/v0.2 \
    "att_provenance attestation"
assert_eq "$(f att_provenance facts.sbom)" false "att_provenance sbom"
# A check that requires neither looks at neither (not checked).
assert_eq "$(f single_ok facts.signature)" "<missing>" "single_ok signature (not checked)"
assert_eq "$(f single_ok facts.referrers_api)" "<missing>" "single_ok referrers_api (not checked)"

# Every matching tag is read, so the newest is found whatever its version.
SINCE_B=$(($(date +%s) - BUILDS_SET))
expect_ok scan_all
assert_eq "$(f scan_all facts.tag)" build-3 "scan_all: the newest by created (not among the 25 highest versions)"
assert_eq "$(f scan_all facts.matching)" 30 "scan_all matching"
assert_eq "$(f scan_all facts.inspected)" 30 "scan_all inspected"
assert_eq "$(f scan_all message)" "" "scan_all message (nothing was cut)"
assert_between "$(f scan_all value)" 60 $((60 + SINCE_B + 60)) "scan_all value (age in s)"
assert_eq "$(f scan_all facts.digest)" "sha256:$(sha "$T/build-3.json")" "scan_all digest"
# Capped at 10: the 10 highest versions (build-21 .. build-30) were read and
# the newest of those, build-21, is judged; the message says what was cut.
expect_ok scan_cap
assert_eq "$(f scan_cap facts.tag)" build-21 "scan_cap tag"
assert_eq "$(f scan_cap facts.inspected)" 10 "scan_cap inspected"
assert_eq "$(f scan_cap facts.matching)" 30 "scan_cap matching"
assert_eq "$(f scan_cap message)" \
    'newest of the 10 highest-version tags matching ^build-\d+$; 20 more were not read (max_tags_inspected 10)' \
    "scan_cap message"

log "ok"
