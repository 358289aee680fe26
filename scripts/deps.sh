#!/usr/bin/env bash
# scripts/deps.sh - the single list of Debian packages yardstick needs to
# build, test and benchmark. Idempotent: installs only what is missing.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake pkg-config
  libuv1-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libyaml-dev
  libjansson-dev libpcre2-dev libcmocka-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libmicrohttpd-dev tzdata
  libc-ares-dev  # the DNS client of the dns kinds (src/probe/dns_client.c)
  libxml2-dev  # S3 ListObjectsV2 answers of the freshness kind (src/probe/freshness_xml.c)
  libprotobuf-c-dev libsnappy-dev protobuf-c-compiler  # Prometheus remote-write encoding (src/remote/)
  libpq-dev  # the PostgreSQL store backend (src/store/pg*.c)
)
TEST_PKGS=(
  nginx-light openssl curl sqlite3 python3 valgrind
  prometheus  # promtool and a real Prometheus for the /metrics tests
  chromium  # tests/integration/test_dashboard.sh (playwright-core via npm ci)
  knot  # a real authoritative DNS server for tests/integration/test_dns*.sh
  knot-dnsutils  # kdig, to poll the servers in tests/integration/test_dns_propagation.sh
  prometheus-alertmanager  # a real Alertmanager for tests/integration/test_alertmanager.sh
  docker-registry  # a real OCI registry for tests/integration/test_registry.sh
  etcd-server  # a real etcd for tests/integration/test_etcd.sh
  postgresql  # a real server for the pg/ store tests (tests/pg/setup.sh)
  graphviz  # dot -Tsvg accepts `yardstick graph flux` in tests/integration/test_k8s.sh
)
BENCH_PKGS=(
  prometheus-blackbox-exporter
  wrk  # bench/api_load.sh
)

want=("${BUILD_PKGS[@]}")
case "${1:-all}" in
  build) ;;
  test) want+=("${TEST_PKGS[@]}") ;;
  all) want+=("${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm drive the browser test. Many machines already have them
# from another packaging (NodeSource's nodejs provides and conflicts with
# Debian's npm), so they count as present when the commands exist, and
# Debian's packages are installed only when they do not.
if [ "${1:-all}" != build ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nginx-light's package starts a system nginx on port 80; the tests start
# their own on loopback ports and do not need it.
