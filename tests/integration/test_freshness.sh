#!/usr/bin/env bash
# test_freshness.sh - the freshness kind against a real S3 API server and a
# real directory.
#
# S3: s3rver (npm, pinned in tests/s3/package-lock.json) on a free loopback
# port, behind tests/s3/server.js, which checks every signed GET's AWS
# Signature V4 with the AWS SDK's signer (s3rver 3.7.1 checks only that the
# access key exists). The test creates a bucket and uploads objects through
# the S3 API with curl --aws-sigv4, then gives them known ages by setting
# the mtime of s3rver's object files (s3rver reports a file's mtime as its
# LastModified; the fixture checks it did). Checks: a fresh object is ok
# with its age as value and its size as bytes; too old; too small; a
# prefix with nothing in it; a wrong secret key (SignatureDoesNotMatch), an
# unknown access key (InvalidAccessKeyId), a missing bucket (NoSuchBucket);
# credentials and a session token from the environment; 1,200 objects over
# two pages, the newest on the last one (s3rver's continuation tokens hold
# '+', '/' and '=', so the signature checks their encoding too);
# virtual-host style through <bucket>.s3.localhost (libcurl resolves
# *.localhost to loopback itself); a refused connection and a server that
# never answers (timeout).
#
# Directory: files made with known sizes and touch -d ages.
#
# A hung filesystem (an NFS server gone away): `yardstick run` with six
# checks on a FUSE mount that never answers (every glob and stat on it
# blocks) and one on a healthy folder. Each hung check costs one stuck scan
# thread, its later probes fail at once, the healthy check goes on, a
# SIGHUP reload still runs (on the libuv threadpool, which the scans once
# starved) and keeps the hung checks' marks, and SIGTERM still stops the
# daemon.
#
# node and npm are required: a missing one fails the test. The npm packages
# are installed with `npm ci` from tests/s3/package-lock.json into a cache
# beside the yardstick binary, keyed by the lock file's hash, so they
# download once and two build folders never share one install.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v node >/dev/null || fail "node is missing (apt-get install nodejs)"
command -v npm >/dev/null || fail "npm is missing (apt-get install npm)"

S3_SRC="$YS_SOURCE_DIR/tests/s3"
BUILD_DIR=$(cd "$(dirname "$YARDSTICK")" && pwd)
LOCK_HASH=$(sha256sum "$S3_SRC/package-lock.json" | cut -c1-16)
NODE_DIR="$BUILD_DIR/s3-test-deps/$LOCK_HASH"
if [ ! -d "$NODE_DIR/node_modules/s3rver" ]; then
    log "installing s3rver into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp "$S3_SRC/package.json" "$S3_SRC/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --ignore-scripts >npm.log 2>&1) ||
        { cat "$NODE_DIR/npm.log" >&2; fail "npm ci failed"; }
fi
# server.js runs from the install folder so its requires resolve there.
cp "$S3_SRC/server.js" "$NODE_DIR/"

ys_tmpdir T
S3DIR="$T/s3data"
mkdir -p "$S3DIR"
PORT=$(free_port)
# s3rver makes its continuation tokens with DES, which OpenSSL 3 keeps in
# its legacy provider.
node --openssl-legacy-provider "$NODE_DIR/server.js" "$S3DIR" "$PORT" >"$T/s3rver.log" 2>&1 &
YS_PIDS+=("$!")
wait_for 20 "s3rver on port $PORT" grep -q "^listening $PORT" "$T/s3rver.log"

EP="http://127.0.0.1:$PORT"
SIGN=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "S3RVER:S3RVER")
NOW=$(date +%s)

# PUT through the S3 API (the body is not signed: UNSIGNED-PAYLOAD). A URL
# may be a curl glob ([0001-1200]): one status line per transfer.
s3put() {
    local codes
    codes=$(curl -sS -o "$T/put.out" -w '%{http_code}\n' "${SIGN[@]}" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@") || fail "curl PUT $*: exit $?"
    [ -z "$(grep -vx 200 <<<"$codes")" ] || fail "PUT $*: HTTP $(sort -u <<<"$codes" | tr '\n' ' ')"
}

# Sets the LastModified of KEY in bucket backups to AGE seconds ago.
age_object() {
    local f="$S3DIR/backups/$1._S3rver_object"
    [ -f "$f" ] || fail "s3rver keeps no file $f for key $1"
    touch -d "@$((NOW - $2))" "$f"
}

s3put -X PUT "$EP/backups"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/2mib.bin"
head -c 100 /dev/zero >"$T/100b.bin"
head -c 777 /dev/zero >"$T/777b.bin"
s3put -T "$T/2mib.bin" "$EP/backups/etcd/2026-11-01.db"
s3put -T "$T/2mib.bin" "$EP/backups/etcd/2026-11-02.db"
s3put -T "$T/100b.bin" "$EP/backups/etcd/notes.txt"
# 1,200 objects: more than one page of 1,000 (one curl, one connection).
s3put -T "$T/100b.bin" "$EP/backups/bulk/obj-[0001-1200].bin"
s3put -T "$T/777b.bin" "$EP/backups/bulk/obj-1150.bin"
age_object etcd/2026-11-01.db $((3 * 3600))
age_object etcd/2026-11-02.db 600
age_object etcd/notes.txt 60
touch -d "@$((NOW - 7200))" "$S3DIR"/backups/bulk/*._S3rver_object
age_object bulk/obj-1150.bin 120

# The fixture itself: s3rver reports the mtime we set as LastModified.
curl -sS "${SIGN[@]}" -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "$EP/backups?list-type=2&prefix=etcd%2F2026-11-02" >"$T/list.xml"
assert_contains "$(cat "$T/list.xml")" \
    "<LastModified>$(date -u -d "@$((NOW - 600))" +%Y-%m-%dT%H:%M:%S).000Z</LastModified>" \
    "s3rver's LastModified of an object whose file mtime we set"

# Directory source: known sizes and ages.
D="$T/dir"
mkdir -p "$D/etcd"
head -c 4096 /dev/zero >"$D/etcd/etcd-1.db"
head -c 8192 /dev/zero >"$D/etcd/etcd-2.db"
touch -d "@$((NOW - 7200))" "$D/etcd/etcd-1.db"
touch -d "@$((NOW - 300))" "$D/etcd/etcd-2.db"

BLACKHOLE=$(free_port)
start_py_server blackhole "$BLACKHOLE" "$T/blackhole.log"
CLOSED=$(free_port)

S3="bucket: backups, endpoint: \"$EP\", path_style: true"
cat >"$T/cfg.yaml" <<EOF
storage: { path: $T/y.db }
defaults: { interval: 1m, timeout: 10s }
checks:
  - { name: s3_fresh, kind: freshness, s3: { $S3, prefix: etcd/ }, max_age: 1h, min_size: 1MiB,
      match: '\.db$' }
  - { name: s3_too_old, kind: freshness, s3: { $S3, prefix: etcd/ }, max_age: 5m, match: '\.db$' }
  - { name: s3_too_small, kind: freshness, s3: { $S3, prefix: etcd/ }, max_age: 1h,
      min_size: 4MiB, match: '\.db$' }
  - { name: s3_newest_any, kind: freshness, s3: { $S3, prefix: etcd/ }, max_age: 1h }
  - { name: s3_empty, kind: freshness, s3: { $S3, prefix: nothing/ }, max_age: 1h }
  - { name: s3_bad_secret, kind: freshness, max_age: 1h,
      s3: { $S3, prefix: etcd/, access_key: S3RVER, secret_key: wrong } }
  - { name: s3_bad_key, kind: freshness, max_age: 1h,
      s3: { $S3, prefix: etcd/, access_key: NOBODY, secret_key: S3RVER } }
  - { name: s3_no_bucket, kind: freshness, max_age: 1h,
      s3: { bucket: missing, endpoint: "$EP", prefix: etcd/ } }
  - { name: s3_pages, kind: freshness, s3: { $S3, prefix: bulk/ }, max_age: 5m }
  - { name: s3_vhost, kind: freshness, max_age: 1h, min_size: 1MiB,
      s3: { bucket: backups, endpoint: "http://s3.localhost:$PORT", path_style: false,
            prefix: etcd/2026 } }
  - { name: s3_refused, kind: freshness, max_age: 1h,
      s3: { bucket: backups, endpoint: "http://127.0.0.1:$CLOSED" } }
  - { name: s3_blackhole, kind: freshness, max_age: 1h, timeout: 1s,
      s3: { bucket: backups, endpoint: "http://127.0.0.1:$BLACKHOLE" } }
  - { name: dir_fresh, kind: freshness, path: "$D/etcd/*.db", max_age: 10m, min_size: 8KiB }
  - { name: dir_too_old, kind: freshness, path: "$D/etcd/*.db", max_age: 2m }
  - { name: dir_too_small, kind: freshness, path: "$D/etcd/*.db", max_age: 10m, min_size: 1MiB }
  - { name: dir_match, kind: freshness, path: "$D/etcd/*", max_age: 3h, match: 'etcd-1' }
  - { name: dir_none, kind: freshness, path: "$D/missing/*.db", max_age: 1h }
EOF

"$YARDSTICK" validate -c "$T/cfg.yaml" >"$T/validate.out" 2>&1 ||
    { cat "$T/validate.out" >&2; fail "the config does not validate"; }

START=$(date +%s)
run_capture rc "$T/out.json" "$T/err.txt" env AWS_ACCESS_KEY_ID=S3RVER \
    AWS_SECRET_ACCESS_KEY=S3RVER AWS_SESSION_TOKEN="token/with+chars=" \
    "$YARDSTICK" check -c "$T/cfg.yaml" --format json
ELAPSED=$(($(date +%s) - START))
[ "$rc" = 1 ] || { cat "$T/out.json" "$T/err.txt" >&2; fail "check: expected exit 1, got $rc"; }
OUT="$T/out.json"
# Every result's fields, read once (a python3 start per field would cost
# more than the whole check run): R[name.field]=value.
declare -A R
while IFS=$'\t' read -r key value; do
    R[$key]=$value
done < <(python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    for k, v in r.items():
        if not isinstance(v, (dict, list)):
            v = "null" if v is None else str(v).lower() if isinstance(v, bool) else v
            print("%s.%s\t%s" % (r["name"], k, v))' "$OUT")
f() { printf '%s' "${R[$1.$2]-<missing>}"; }
# Seconds since the ages were set, for the value ranges below.
SINCE=$(($(date +%s) - NOW))

expect_ok() {
    [ "$(f "$1" ok)" = true ] || fail "$1: expected ok, got: $(f "$1" error) $(f "$1" message)"
}
expect_fail() { # NAME CLASS TEXT
    assert_eq "$(f "$1" ok)" false "$1 ok"
    assert_eq "$(f "$1" error)" "$2" "$1 error class"
    assert_contains "$(f "$1" message)" "$3" "$1 message"
}

expect_ok s3_fresh
assert_between "$(f s3_fresh value)" 600 $((600 + SINCE + 2)) "s3_fresh value (age in s)"
assert_eq "$(f s3_fresh bytes)" 2097152 "s3_fresh bytes"
assert_eq "$(f s3_fresh status)" 200 "s3_fresh status"

expect_fail s3_too_old assertion "newest etcd/2026-11-02.db is too old: 10m (max_age 5m), 2.0 MiB"
assert_between "$(f s3_too_old value)" 600 $((600 + SINCE + 2)) "s3_too_old value"
expect_fail s3_too_small assertion "newest etcd/2026-11-02.db is too small: 2.0 MiB (min_size 4.0 MiB)"
# Without match, the newest object of all (a 100-byte note, 1 minute old).
expect_ok s3_newest_any
assert_eq "$(f s3_newest_any bytes)" 100 "s3_newest_any bytes"
assert_between "$(f s3_newest_any value)" 60 $((60 + SINCE + 2)) "s3_newest_any value"
expect_fail s3_empty assertion "no object matches under s3://backups/nothing/"

expect_fail s3_bad_secret http_status "SignatureDoesNotMatch"
assert_eq "$(f s3_bad_secret status)" 403 "s3_bad_secret status"
expect_fail s3_bad_key http_status "InvalidAccessKeyId"
expect_fail s3_no_bucket http_status "HTTP 404 NoSuchBucket"

# Page 2 holds the newest object (obj-1150, 777 bytes, 2 minutes old);
# everything on page 1 is 2 hours old, which max_age 5m would fail.
expect_ok s3_pages
assert_eq "$(f s3_pages bytes)" 777 "s3_pages bytes (the newest object is on page 2)"
assert_between "$(f s3_pages value)" 120 $((120 + SINCE + 2)) "s3_pages value"

expect_ok s3_vhost
assert_eq "$(f s3_vhost bytes)" 2097152 "s3_vhost bytes"

expect_fail s3_refused connect "s3://backups/: Failed to connect to 127.0.0.1 port $CLOSED: Couldn't connect to server"
expect_fail s3_blackhole timeout "timed out after 1s listing s3://backups/ (page 1)"
assert_between "$(f s3_blackhole duration_ms)" 1000 1500 "s3_blackhole duration_ms"

expect_ok dir_fresh
assert_between "$(f dir_fresh value)" 300 $((300 + SINCE + 2)) "dir_fresh value"
assert_eq "$(f dir_fresh bytes)" 8192 "dir_fresh bytes"
expect_fail dir_too_old assertion "etcd-2.db is too old: 5m (max_age 2m), 8.0 KiB"
expect_fail dir_too_small assertion "etcd-2.db is too small: 8.0 KiB (min_size 1.0 MiB), 5m old"
expect_ok dir_match
assert_eq "$(f dir_match bytes)" 4096 "dir_match bytes"
assert_between "$(f dir_match value)" 7200 $((7200 + SINCE + 2)) "dir_match value"
expect_fail dir_none assertion "no file matches $D/missing/*.db"

# Every check ran at once on one loop; the slowest is the 1 s timeout.
assert_num "$ELAPSED" -le 8 "seconds for the whole check run"

# What the signature checker saw: every listing signed and checked, the
# one with the wrong secret refused, and the session token from the
# environment sent in x-amz-security-token and covered by the signature,
# with x-amz-content-sha256 (S3 refuses V4 requests without it).
SIGLOG=$(grep '^sigv4 ' "$T/s3rver.log")
assert_eq "$(grep -cxF 'sigv4 mismatch GET /backups?list-type=2&prefix=etcd%2F' <<<"$SIGLOG")" 1 \
    "refused listings (only s3_bad_secret's)"
assert_contains "$SIGLOG" \
    "sigv4 ok GET /backups?list-type=2&prefix=etcd%2F signed=host;x-amz-content-sha256;x-amz-date;x-amz-security-token token=token/with+chars="
assert_contains "$SIGLOG" "sigv4 ok GET /backups?continuation-token=" "the second page's listing"
assert_contains "$SIGLOG" "sigv4 ok GET /?list-type=2&prefix=etcd%2F2026" "the virtual-host listing"
# --- A hung filesystem. The FUSE "server" below opens /dev/fuse, mounts it
# and never answers, not even the kernel's INIT, so every request on the
# mount waits (killable, as on a hard NFS mount). Written by hand because
# no FUSE library is among our packages, and it needs only two mount(2)
# calls. It mounts in a private mount namespace and then execs the daemon,
# so only the daemon sees the mount, which vanishes with it.
cat >"$T/hung_mount.py" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def check(rc, what):
    if rc != 0:
        sys.exit("hung_mount: %s: %s" % (what, os.strerror(ctypes.get_errno())))
CLONE_NEWNS, MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x20000, 0x4000, 0x40000, 2, 4
check(libc.unshare(CLONE_NEWNS), "unshare")
check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
fd = os.open("/dev/fuse", os.O_RDWR)
os.set_inheritable(fd, True)  # the daemon holds the connection from here on
opts = b"fd=%d,rootmode=40000,user_id=0,group_id=0" % fd
check(libc.mount(b"ys-hung", sys.argv[1].encode(), b"fuse", MS_NOSUID | MS_NODEV, opts), "mount")
os.execvp(sys.argv[2], sys.argv[2:])
PY
# The case needs /dev/fuse and the right to mount (root, as CI runs);
# without them it is skipped, and says so: the unit test still covers the
# scan threads with a test hook.
hung_filesystem_case() {
HUNG="$T/hung"
mkdir -p "$HUNG"
HCFG="$T/hung.yaml"
hung_cfg() { # [NAME...]: more healthy checks
    {
        echo "storage: { path: $T/hung.db }"
        echo "server: { enabled: false }"
        echo "defaults: { interval: 1s, timeout: 500ms }"
        echo "checks:"
        for n in 1 2 3 4 5 6; do
            echo "  - { name: hung$n, kind: freshness, path: \"$HUNG/*.db\", max_age: 1h }"
        done
        for n in healthy "$@"; do
            echo "  - { name: $n, kind: freshness, path: \"$D/etcd/*.db\", max_age: 10m }"
        done
    } >"$HCFG.tmp"
    mv "$HCFG.tmp" "$HCFG"
}
hung_cfg
# Under ASan, LeakSanitizer stops every thread at exit to look for leaks,
# and a thread asleep in a FUSE request never stops: that daemon would
# never exit. Its leak check is off here only (the unit test checks that
# released scans free everything); other builds ignore the variable.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    python3 "$T/hung_mount.py" "$HUNG" "$YARDSTICK" run -c "$HCFG" 2>"$T/hung.log" &
DPID=$!
YS_PIDS+=("$DPID")
# hist NAME: NAME's results (last hour) in $T/NAME.json; prints how many.
hist() {
    "$YARDSTICK" history "$1" -c "$HCFG" --since 1h --format json >"$T/$1.json" 2>/dev/null ||
        return 1
    json_get "$T/$1.json" '#'
}
has_results() {
    local n
    n=$(hist "$1") || return 1
    [ "$n" -ge "$2" ]
}
all_hung_have() {
    local n
    for n in 1 2 3 4 5 6; do has_results "hung$n" "$1" || return 1; done
}
alive() { kill -0 "$DPID" 2>/dev/null || fail "the daemon died: $(tail -5 "$T/hung.log")"; }
# The daemon's scan threads now (they are named ys-scan).
scan_threads() { cat /proc/"$DPID"/task/*/comm 2>/dev/null | grep -cx ys-scan || true; }
# NAME's results from its last hist, oldest first: class, ms, message.
messages() {
    python3 -c 'import json, sys
for r in sorted(json.load(open(sys.argv[1])), key=lambda r: r["ts_ms"]):
    print("%s\t%d\t%s" % (r["error"], r["duration_ms"], r["message"]))' "$T/$1.json"
}

wait_for 20 "four results of every hung check" all_hung_have 4
alive
# One stuck thread per hung check, however many probes they ran (a healthy
# scan may be caught running beside them).
for i in 1 2 3 4 5; do
    assert_between "$(scan_threads)" 6 7 "scan threads with six hung checks"
    sleep 0.2
done
hist hung3 >/dev/null
messages hung3 >"$T/hung3.txt"
IFS=$'\t' read -r class ms msg <"$T/hung3.txt"
assert_eq "$class" timeout "hung3's first error class"
assert_eq "$msg" "timed out after 500ms scanning $HUNG/*.db" "hung3's first message"
# Every later probe fails at once, saying why.
while IFS=$'\t' read -r class ms msg; do
    assert_eq "$class" timeout "hung3's later error class"
    assert_eq "$msg" "the previous scan of $HUNG/*.db is still running (hung filesystem?)" \
        "hung3's later message"
    assert_num "$ms" -lt 100 "ms for a probe of a check whose scan hangs"
done < <(tail -n +2 "$T/hung3.txt")
# The healthy check goes on.
h=$(hist healthy)
assert_num "$h" -ge 3 "results of the healthy check"
assert_eq "$(json_get "$T/healthy.json" "$((h - 1)).ok")" true "the healthy check's newest result"

# SIGHUP: the reload runs on the libuv threadpool, which six hung scans
# used to fill for good. The hung checks are kept, and keep their marks.
hung_cfg added
kill -HUP "$DPID"
wait_for 10 "the daemon to reload" grep -q "reloaded $HCFG" "$T/hung.log"
wait_for 10 "results of the added check" has_results added 2
alive
sleep 1.2 # at least one more probe of every hung check since the reload
assert_between "$(scan_threads)" 6 8 "scan threads after the reload (two healthy checks now)"
hist hung3 >/dev/null
assert_eq "$(messages hung3 | grep -c 'timed out after')" 1 "timeouts of hung3 (the rest fail fast)"

term_wait "$DPID" 10
assert_eq "$TERM_RC" 0 "the daemon's exit code after SIGTERM with six scans stuck"
}
if [ -c /dev/fuse ] && [ "$(id -u)" -eq 0 ]; then
    hung_filesystem_case
    log "ok: $(json_get "$OUT" '#') freshness checks, and a hung filesystem"
else
    log "SKIPPED the hung-filesystem case: no /dev/fuse or not root"
    log "ok: $(json_get "$OUT" '#') freshness checks"
fi
