/*
 * store_bytes.c - how many bytes the store spends per result, how fast it
 * writes, and how fast a 30-day availability + P95 query answers.
 *
 * Writes N_CHECKS x N_PER_CHECK realistic results (30 s interval with a
 * few ms of jitter, lognormal durations around 20 ms with cumulative phase
 * times, ~1% failures with a few distinct messages, TLS facts and a
 * days-left value on half the checks, status 200) through ys_store_open /
 * append in batches of 500, in time order across checks as the writer
 * thread would, then prints the figures.
 *
 *   bench_store_bytes [--progress] [DB_PATH] [N_CHECKS] [N_PER_CHECK]
 *       DB_PATH must not exist (default: a fresh temporary folder).
 *       --progress prints "committed N" on stdout after every batch, so a
 *       kill -9 test knows what must survive.
 *   bench_store_bytes --verify DB_PATH
 *       Opens read-only and checks that, per check, the raw results and the
 *       hour and minute rollups agree (batches are atomic); prints
 *       "verified N results" and exits 0, or says what differs and exits 1.
 *
 * Single-threaded.
 */
#include "core/clock.h"
#include "core/result.h"
#include "slo/sketch.h"
#include "store/store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 500
#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double lognormal(double median, double sigma)
{
    double z = sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
    return median * exp(sigma * z);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const fail_msgs[] = {
    "connect to 10.0.0.7:443 failed: Connection refused",
    "timed out after 10000 ms",
    "status 503 not in [2xx]",
    "body does not contain \"ok\"",
};

static void make_result(struct ys_result *r, uint32_t id, int64_t round)
{
    bool https = id % 2 == 0;
    ys_result_init(r);
    r->check_id = id;
    r->ts_ms = T0 + (int64_t)(id * 997 % 30000) + round * 30000 + (int64_t)(uniform() * 8);
    double dns = lognormal(300, 0.5), con = dns + lognormal(900, 0.4);
    double tls = https ? con + lognormal(5000, 0.3) : con;
    double ttfb = tls + lognormal(12000, 0.35);
    r->phase_us[YS_PHASE_DNS] = (int32_t)dns;
    r->phase_us[YS_PHASE_CONNECT] = (int32_t)con;
    if (https)
        r->phase_us[YS_PHASE_TLS] = (int32_t)tls;
    r->phase_us[YS_PHASE_TTFB] = (int32_t)ttfb;
    r->duration_us = (int64_t)(ttfb + lognormal(150, 0.5));
    r->status = 200;
    r->bytes = 612 + id % 1000;
    if (https) {
        r->flags |= YS_RF_HAS_TLS | YS_RF_HAS_VALUE;
        r->tls.leaf_not_after = T0 / 1000 + 86400 * (30 + id % 300);
        r->tls.earliest_not_after = r->tls.leaf_not_after - 86400 * 20;
        snprintf(r->tls.subject, sizeof r->tls.subject, "CN=svc-%u.example.org", id);
        snprintf(r->tls.issuer, sizeof r->tls.issuer, "CN=R3,O=Let's Encrypt,C=US");
        r->value = (double)ys_tls_days_left(&r->tls, r->ts_ms / 1000);
    }
    if (uniform() < 0.01) {
        int k = (int)(uniform() * 4);
        ys_result_fail(r, k == 0 ? YS_EC_CONNECT : k == 1 ? YS_EC_TIMEOUT
                          : k == 2 ? YS_EC_HTTP_STATUS : YS_EC_ASSERTION, "%s", fail_msgs[k]);
        if (k == 2)
            r->status = 503;
        if (k < 2) {
            r->status = 0;
            r->bytes = 0;
            r->phase_us[YS_PHASE_TLS] = r->phase_us[YS_PHASE_TTFB] = -1;
        }
    }
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* Bytes per table (dbstat), to split raw chunks from rollups. */
static void table_bytes(const char *path, long long *raw, long long *rollup)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    *raw = *rollup = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *n = (const char *)sqlite3_column_text(st, 0);
            long long b = sqlite3_column_int64(st, 1);
            if (strncmp(n, "chunk", 5) == 0)
                *raw += b;
            else if (strncmp(n, "rollup", 6) == 0)
                *rollup += b;
        }
        sqlite3_finalize(st);
    }
out:
    sqlite3_close(db);
}

struct window {
    uint64_t total, ok;
    struct ys_sketch *sk;
};

static int add_rollup(const struct ys_rollup *r, void *arg)
{
    struct window *w = arg;
    w->total += r->total;
    w->ok += r->ok;
    ys_sketch_merge(w->sk, r->latency);
    return 0;
}

static void query_bench(struct ys_store *s, uint32_t id, int64_t end_ms)
{
    struct ys_err err;
    for (int res = YS_RES_HOUR; res <= YS_RES_DAY; res++) {
        struct window w = {0, 0, ys_sketch_new()};
        double t = now_s();
        int reps = 200;
        for (int i = 0; i < reps; i++) {
            w.total = w.ok = 0;
            ys_sketch_clear(w.sk);
            s->type->query_rollups(s, id, (enum ys_resolution)res, end_ms - 30 * 86400000LL,
                                   end_ms, add_rollup, &w, &err);
        }
        double us = (now_s() - t) / reps * 1e6;
        printf("30-day query (%s rollups): %.1f us  (availability %.3f%%, P95 %.0f us, n=%llu)\n",
               ys_resolution_name((enum ys_resolution)res), us,
               w.total ? 100.0 * (double)w.ok / (double)w.total : 0.0,
               ys_sketch_quantile(w.sk, 0.95), (unsigned long long)w.total);
        ys_sketch_free(w.sk);
    }
}

static int count_raw(const struct ys_result *r, void *arg)
{
    uint64_t *n = arg;
    (*n)++;
    return r->status != 0 && r->status != 200 && r->status != 503; /* stop on garbage */
}

static int verify(const char *path)
{
    struct ys_store_options opt = {.path = path, .read_only = true};
    struct ys_store *s;
    struct ys_err err;
    uint64_t all = 0;
    int bad = 0;
    if (ys_store_open("sqlite", &opt, &s, &err) < 0) {
        fprintf(stderr, "verify: %s\n", err.msg);
        return 1;
    }
    for (uint32_t i = 1;; i++) {
        char name[64];
        uint32_t id;
        snprintf(name, sizeof name, "bench-%u", i);
        if (s->type->check_id(s, name, &id, &err) < 0)
            break;
        uint64_t raw = 0;
        struct window h = {0, 0, ys_sketch_new()}, m = {0, 0, ys_sketch_new()};
        int rc = s->type->query_raw(s, id, 0, INT64_MAX / 2, count_raw, &raw, &err);
        if (rc == 0)
            rc = s->type->query_rollups(s, id, YS_RES_HOUR, 0, INT64_MAX / 2, add_rollup, &h, &err);
        if (rc == 0)
            rc = s->type->query_rollups(s, id, YS_RES_MINUTE, 0, INT64_MAX / 2, add_rollup, &m,
                                        &err);
        if (rc < 0 || raw != h.total || raw != m.total || ys_sketch_count(h.sk) != raw) {
            fprintf(stderr, "verify: %s: raw %llu, hour %llu, minute %llu (%s)\n", name,
                    (unsigned long long)raw, (unsigned long long)h.total,
                    (unsigned long long)m.total, rc < 0 ? err.msg : "mismatch");
            bad = 1;
        }
        all += raw;
        ys_sketch_free(h.sk);
        ys_sketch_free(m.sk);
    }
    ys_store_close(s);
    printf("verified %llu results\n", (unsigned long long)all);
    return bad;
}

/* Appends n_per rounds of one result per check, in batches of BATCH.
 * Returns how many were committed, or -1. */
static long long write_all(struct ys_store *s, const uint32_t *ids, long n_checks, long n_per,
                           bool progress)
{
    struct ys_result *batch = calloc(BATCH, sizeof *batch);
    struct ys_err err;
    size_t nb = 0;
    long long written = 0;
    for (long round = 0; round < n_per; round++) {
        for (long i = 1; i <= n_checks; i++) {
            make_result(&batch[nb++], ids[i], round);
            if (nb < BATCH && !(round == n_per - 1 && i == n_checks))
                continue;
            if (s->type->append(s, batch, nb, &err) < 0) {
                fprintf(stderr, "bench_store_bytes: append: %s\n", err.msg);
                free(batch);
                return -1;
            }
            written += (long long)nb;
            nb = 0;
            if (progress) {
                printf("committed %lld\n", written);
                fflush(stdout);
            }
        }
    }
    free(batch);
    return written;
}

int main(int argc, char **argv)
{
    bool progress = false;
    int a = 1;
    if (a < argc && strcmp(argv[a], "--verify") == 0)
        return a + 1 < argc ? verify(argv[a + 1]) : 2;
    if (a < argc && strcmp(argv[a], "--progress") == 0) {
        progress = true;
        a++;
    }
    char tmpdir[] = "/tmp/ys_bench_XXXXXX", defpath[64];
    const char *path = a < argc ? argv[a] : NULL;
    long n_checks = a + 1 < argc ? strtol(argv[a + 1], NULL, 10) : 1000;
    long n_per = a + 2 < argc ? strtol(argv[a + 2], NULL, 10) : 1000;
    if (n_checks <= 0 || n_per <= 0) {
        fprintf(stderr, "usage: bench_store_bytes [--progress] [DB_PATH] [N_CHECKS] [N_PER_CHECK]\n"
                        "       bench_store_bytes --verify DB_PATH\n");
        return 2;
    }
    if (!path) {
        if (!mkdtemp(tmpdir))
            return 1;
        snprintf(defpath, sizeof defpath, "%s/bench.db", tmpdir);
        path = defpath;
    } else if (access(path, F_OK) == 0) {
        fprintf(stderr, "bench_store_bytes: %s exists; give a new path\n", path);
        return 2;
    }
    struct ys_store_options opt = {.path = path};
    struct ys_store *s;
    struct ys_err err;
    if (ys_store_open("sqlite", &opt, &s, &err) < 0) {
        fprintf(stderr, "bench_store_bytes: %s\n", err.msg);
        return 1;
    }
    uint32_t *ids = calloc((size_t)n_checks + 1, sizeof *ids);
    for (long i = 1; i <= n_checks; i++) {
        char name[64];
        snprintf(name, sizeof name, "bench-%ld", i);
        if (s->type->check_id(s, name, &ids[i], &err) < 0)
            return 1;
    }
    double t = now_s();
    long long written = write_all(s, ids, n_checks, n_per, progress);
    if (written < 0)
        return 1;
    double secs = now_s() - t;
    int64_t end_ms = T0 + n_per * 30000 + 30000;
    query_bench(s, ids[1 + (n_checks > 1)], end_ms);
    ys_store_close(s); /* checkpoints the WAL into the file */
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    long long bytes = file_size(path) + file_size(wal), raw, rollup;
    table_bytes(path, &raw, &rollup);
    printf("results:          %lld (%ld checks x %ld)\n", written, n_checks, n_per);
    printf("file bytes:       %lld (db + wal after checkpoint)\n", bytes);
    printf("bytes/result:     %.2f\n", (double)bytes / (double)written);
    printf("  raw chunks:     %.2f bytes/result\n", (double)raw / (double)written);
    printf("  rollups:        %.2f bytes/result (minute, hour, day)\n",
           (double)rollup / (double)written);
    printf("write throughput: %.0f results/s (batches of %d)\n", (double)written / secs, BATCH);
    printf("db: %s\n", path);
    free(ids);
    return 0;
}
