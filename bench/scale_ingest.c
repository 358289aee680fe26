/*
 * scale_ingest.c - results/s the store writer ingests into one backend,
 * and the CPU each result costs: this process (all of it, and the writer
 * thread alone, which is what the daemon spends) and, for PostgreSQL, the
 * server (every process of the cluster, from /proc/<pid>/stat). Driven by
 * bench/scale.sh, which runs it against SQLite and PostgreSQL in turn.
 *
 *   bench_scale_ingest KIND LOCATION DURATION_S N_CHECKS [POSTMASTER_PID]
 *       KIND sqlite (LOCATION a new file) or postgres (LOCATION a DSN of
 *       an empty database). Pushes results for N_CHECKS checks through
 *       ys_writer_push (the daemon's path: queue, batches, one transaction
 *       per batch, the writer's default flush and batch sizes) as fast as
 *       the queue drains, for DURATION_S seconds, then waits until all is
 *       committed. Prints one line of key=value figures.
 *
 * Results look like store_bytes.c's (lognormal phases, TLS facts on half
 * the checks, ~1% failures), 10 s apart per check, in the last days, so no
 * pruning is due (the writer's pruning is off). The pusher waits while
 * more than half the queue is taken, so nothing is dropped and the rate is
 * what the writer sustains.
 */
#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"
#include "store/writer.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX 65536

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

static void make_result(struct ys_result *r, uint32_t id, int64_t ts_ms)
{
    bool https = id % 2 == 0;
    ys_result_init(r);
    r->check_id = id;
    r->ts_ms = ts_ms;
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
        r->tls.leaf_not_after = ts_ms / 1000 + 86400 * (30 + id % 300);
        r->tls.earliest_not_after = r->tls.leaf_not_after - 86400 * 20;
        snprintf(r->tls.subject, sizeof r->tls.subject, "CN=svc-%u.example.org", id);
        snprintf(r->tls.issuer, sizeof r->tls.issuer, "CN=R3,O=Let's Encrypt,C=US");
        r->value = (double)ys_tls_days_left(&r->tls, ts_ms / 1000);
    }
    if (uniform() < 0.01) {
        ys_result_fail(r, YS_EC_HTTP_STATUS, "status 503 not in [2xx]");
        r->status = 503;
    }
}

/* utime + stime of /proc/<path>/stat, in seconds (0 if it is gone). */
static double stat_cpu_s(const char *path)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long stat_ppid(const char *path)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    long ppid = -1;
    if (!p || sscanf(p + 2, "%*c %ld", &ppid) != 1)
        return -1;
    return ppid;
}

/* CPU of the writer thread: every thread of this process but the main one. */
static double writer_cpu_s(void)
{
    DIR *d = opendir("/proc/self/task");
    double s = 0;
    struct dirent *e;
    char path[300];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strtol(e->d_name, NULL, 10) == (long)getpid())
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        s += stat_cpu_s(path);
    }
    if (d)
        closedir(d);
    return s;
}

/* CPU of a PostgreSQL cluster: the postmaster and its children (the
 * backends, the WAL writer, the checkpointer...). */
static double server_cpu_s(long postmaster)
{
    if (postmaster <= 0)
        return 0;
    DIR *d = opendir("/proc");
    char path[300];
    snprintf(path, sizeof path, "/proc/%ld/stat", postmaster);
    double s = stat_cpu_s(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (stat_ppid(path) == postmaster)
            s += stat_cpu_s(path);
    }
    if (d)
        closedir(d);
    return s;
}

static double proc_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int open_checks(struct ys_store *st, uint32_t n, uint32_t *ids)
{
    for (uint32_t i = 0; i < n; i++) {
        char name[32];
        struct ys_err err = {{0}};
        snprintf(name, sizeof name, "check-%05u", i);
        if (st->type->check_id(st, name, &ids[i], &err) < 0) {
            fprintf(stderr, "scale_ingest: %s\n", err.msg);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_scale_ingest sqlite|postgres LOCATION DURATION_S N_CHECKS"
                        " [POSTMASTER_PID]\n");
        return 2;
    }
    const char *kind = argv[1];
    double duration = strtod(argv[3], NULL);
    uint32_t n = (uint32_t)strtoul(argv[4], NULL, 10);
    long postmaster = argc > 5 ? strtol(argv[5], NULL, 10) : 0;
    if (n == 0 || duration <= 0)
        return 2;
    struct ys_store_options opt = {.path = argv[2]};
    struct ys_store *st = NULL;
    struct ys_writer *w = NULL;
    struct ys_err err = {{0}};
    uint32_t *ids = calloc(n, sizeof *ids);
    if (ys_store_open(kind, &opt, &st, &err) < 0) {
        fprintf(stderr, "scale_ingest: %s\n", err.msg);
        return 1;
    }
    if (open_checks(st, n, ids) < 0)
        return 1;
    struct ys_writer_options wopt = {.queue_max = QUEUE_MAX, .prune_every_ms = 0};
    if (ys_writer_start(st, &wopt, &w, &err) < 0) {
        fprintf(stderr, "scale_ingest: %s\n", err.msg);
        return 1;
    }
    int64_t base = ys_wall_ms() - INT64_C(3) * 86400000; /* three days ago */
    double proc0 = proc_cpu_s(), writer0 = writer_cpu_s(), server0 = server_cpu_s(postmaster);
    int64_t t0 = ys_mono_us(), end = t0 + (int64_t)(duration * 1e6);
    uint64_t pushed = 0;
    struct ys_result r;
    for (int64_t round = 0; ys_mono_us() < end; round++) {
        for (uint32_t i = 0; i < n; i++) {
            make_result(&r, ids[i], base + round * 10000 + (int64_t)(i * 7919u % 10000));
            while (ys_writer_push(w, &r) < 0)
                usleep(1000); /* counted as dropped: the check below keeps it rare */
            if (++pushed % 256 == 0) {
                struct ys_writer_stats s;
                ys_writer_stats(w, &s);
                while (s.queued - s.written - s.failed > QUEUE_MAX / 2) {
                    usleep(1000);
                    ys_writer_stats(w, &s);
                }
            }
        }
    }
    ys_writer_flush(w);
    double wall = (double)(ys_mono_us() - t0) / 1e6;
    double proc = proc_cpu_s() - proc0, writer = writer_cpu_s() - writer0;
    double server = server_cpu_s(postmaster) - server0;
    struct ys_writer_stats s;
    ys_writer_stats(w, &s);
    ys_writer_stop(w);
    double per = s.written ? 1e6 / (double)s.written : 0;
    printf("kind=%s checks=%u results=%llu dropped=%llu failed=%llu batches=%llu wall_s=%.2f"
           " rps=%.0f proc_cpu_s=%.2f writer_cpu_s=%.2f server_cpu_s=%.2f proc_us=%.1f"
           " writer_us=%.1f server_us=%.1f\n",
           kind, n, (unsigned long long)s.written, (unsigned long long)s.dropped,
           (unsigned long long)s.failed, (unsigned long long)s.batches, wall,
           (double)s.written / wall, proc, writer, server, proc * per, writer * per, server * per);
    free(ids);
    return s.failed ? 1 : 0;
}
