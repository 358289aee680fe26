#!/usr/bin/env bash
# bench/scale.sh - the store backends side by side on this machine (issue 8
# §1 and §5): results/s the writer ingests into SQLite and into PostgreSQL
# and the CPU each result costs, measured in the same run, then the
# remote-write figures (bench/remote_write.sh) and, when bench/failover.sh
# is there, the lease failover time. Prints a table and the PG/SQLite
# ratios. A benchmark that prints figures, not a pass/fail test.
#
# 1. A throwaway PostgreSQL (tests/pg/setup.sh: loopback, fsync off, the
#    cluster dies with the run) and a fresh SQLite file in a temporary
#    folder (WAL, synchronous=NORMAL: neither syncs each commit).
# 2. bench_scale_ingest (bench/scale_ingest.c) for each backend: N checks'
#    results pushed through the store writer for DURATION seconds, as fast
#    as it drains; yardstick's CPU (the whole process, and the writer
#    thread alone) and the PostgreSQL cluster's CPU (postmaster and its
#    children, /proc/<pid>/stat) divided by the results committed.
# 3. bench/remote_write.sh for RW_DURATION seconds (skipped without
#    Prometheus), bench/failover.sh with 2 kills at a 3 s lease_ttl.
#
# Bounded: each part runs under `timeout` (ingest DURATION + 60 s,
# remote write 60 s, failover 60 s); with the defaults the whole run takes
# about 1.5 minutes. Everything it starts is stopped on exit (PostgreSQL by
# tests/pg/cleanup.sh); the temporary folder is removed.
#
# Usage: bench/scale.sh [BUILD_DIR] [DURATION_S] [N_CHECKS] [RW_DURATION_S]
#   BUILD_DIR defaults to build-bench (needs yardstick, bench_scale_ingest,
#   bench_remote_write); DURATION_S 15 per backend; N_CHECKS 1000.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
DURATION=${2:-15}
N=${3:-1000}
RW_DURATION=${4:-5}
BIN=$BUILD/bench_scale_ingest
[ -x "$BIN" ] || { echo "scale: build $BIN first" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ys-bench-scale.XXXXXX")
cleanup() {
    [ -n "${T:-}" ] || return 0
    bash "$ROOT/tests/pg/cleanup.sh" "$T/pg" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
START=$SECONDS

bash "$ROOT/tests/pg/setup.sh" "$T/pg" >"$T/pg.log" 2>&1 || { cat "$T/pg.log" >&2; exit 1; }
DSN=$(cat "$T/pg/dsn")
PMPID=$(cat "$T/pg/pid")
PGVER=$(psql "$DSN" -qAt -c "SHOW server_version" | awk '{print $1}')
SQLITEVER=$(sqlite3 --version 2>/dev/null | awk '{print $1}' || echo "?")
echo "scale: $N checks, ${DURATION}s per backend, $(nproc) CPUs, SQLite $SQLITEVER," \
    "PostgreSQL $PGVER (loopback TCP, fsync off)"

timeout $((DURATION + 60)) "$BIN" sqlite "$T/scale.db" "$DURATION" "$N" >"$T/sqlite.out"
timeout $((DURATION + 60)) "$BIN" postgres "$DSN" "$DURATION" "$N" "$PMPID" >"$T/pg.out"
cat "$T/sqlite.out" "$T/pg.out"

# Remote write: its own figures, printed as they come.
RW="(not run)"
if command -v prometheus >/dev/null && [ -x "$BUILD/bench_remote_write" ]; then
    if timeout 90 bash "$ROOT/bench/remote_write.sh" "$BUILD" "$RW_DURATION" "$N" \
        >"$T/rw.out" 2>&1; then
        RW=$(sed -n 's/^end to end: *\([0-9]*\) samples\/s.*/\1 samples\/s/p' "$T/rw.out")
    else
        RW="(failed: $(tail -1 "$T/rw.out"))"
    fi
    sed 's/^/  | /' "$T/rw.out"
fi

FO="(no bench/failover.sh)"
if [ -f "$ROOT/bench/failover.sh" ]; then
    if timeout 90 bash "$ROOT/bench/failover.sh" "$BUILD" 2 3 >"$T/fo.out" 2>&1; then
        FO=$(sed -n 's/^failover over \(.*\); bound.*/\1/p' "$T/fo.out")
    else
        FO="(failed: $(tail -1 "$T/fo.out"))"
    fi
    sed 's/^/  | /' "$T/fo.out"
fi

python3 - "$T/sqlite.out" "$T/pg.out" "$RW" "$FO" <<'EOF'
import sys
def load(path):
    return dict(kv.split("=", 1) for kv in open(path).read().split())
sq, pg = load(sys.argv[1]), load(sys.argv[2])
f = lambda d, k: float(d[k])
rows = [
    ("results/s ingested", "rps", "%.0f"),
    ("yardstick CPU us/result (process)", "proc_us", "%.1f"),
    ("yardstick CPU us/result (writer thread)", "writer_us", "%.1f"),
    ("server CPU us/result (postgres cluster)", "server_us", "%.1f"),
]
print()
print("%-42s %12s %12s %9s" % ("", "SQLite", "PostgreSQL", "PG/SQLite"))
for label, key, fmt in rows:
    a, b = f(sq, key), f(pg, key)
    ratio = "%.2f" % (b / a) if a > 0 else "-"
    print("%-42s %12s %12s %9s" % (label, fmt % a, fmt % b, ratio))
tot_sq = f(sq, "proc_us") + f(sq, "server_us")
tot_pg = f(pg, "proc_us") + f(pg, "server_us")
print("%-42s %12.1f %12.1f %9.2f" % ("all CPU us/result (yardstick + server)", tot_sq, tot_pg,
                                      tot_pg / tot_sq if tot_sq else 0))
print("%-42s %12s %12s" % ("results committed (batches)", "%s (%s)" % (sq["results"], sq["batches"]),
                           "%s (%s)" % (pg["results"], pg["batches"])))
print("%-42s %s" % ("remote write, end to end", sys.argv[3]))
print("%-42s %s" % ("notifier lease failover", sys.argv[4]))
EOF
echo "scale: done in $((SECONDS - START)) s"
