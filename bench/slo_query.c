/*
 * slo_query.c - how fast SLO and report queries answer from the store.
 *
 * Usage: bench_slo_query [DIR] [--quick]
 *   DIR      where the generated stores live (default /tmp/ys-bench-slo);
 *            a store is reused when DIR/<name>.params matches, so a rerun
 *            skips generation.
 *   --quick  a month instead of a year for the one-check store, 100
 *            checks instead of 1,000 for the report (for a smoke run).
 *
 * 1. One check, a year of 10-second results (3.15 M), appended through the
 *    store interface in batches of 1,000 (timed), ~0.2% failures plus a
 *    30-minute outage every 10 days, log-normal latencies around 40 ms.
 *    Then SLI + P95 over 30, 90 and 365 days ending off any minute edge:
 *    the median of 20 runs each (target: < 5 ms, from rollups).
 * 2. 1,000 checks x 30 days at one result per minute per check (43.2 M
 *    results, appended a check at a time: batches that touch 1,000 checks
 *    each rewrite 1,000 sets of rollup rows and run ~25x slower), 100 goals over
 *    them (SLOs over 10 checks, check availability and P95, selector pass
 *    share, manual): the time to build the report model (target: < 1 s).
 * 3. Bytes on disk per check per day for both stores.
 * Prints a summary table at the end.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "query/query.h"
#include "report/report.h"
#include "slo/sketch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DAY_MS 86400000LL
#define BATCH 1000
/* Data ends at a fixed day so a reused store answers the same questions. */
#define END_MS 1767225600000LL /* 2026-01-01T00:00:00Z */
#define QUERY_AT (END_MS - 37 * 60000 - 13000)

static uint64_t rng = 88172645463325252ULL;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int64_t latency_us(void)
{
    double u1 = urand() + 1e-12, u2 = urand();
    double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
    return (int64_t)(40000.0 * exp(0.4 * z));
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

static off_t store_bytes(const char *db)
{
    char p[512];
    snprintf(p, sizeof p, "%s-wal", db);
    return file_size(db) + file_size(p);
}

static bool params_match(const char *path, const char *want)
{
    char got[256] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(got, sizeof got, f) && strcmp(got, want) == 0;
    fclose(f);
    return ok;
}

static void write_params(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static struct ys_store *open_store(const char *path, bool ro)
{
    struct ys_store_options opt = {.path = path, .read_only = ro};
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    if (ys_store_open("sqlite", &opt, &s, &err) < 0) {
        fprintf(stderr, "bench: %s: %s\n", path, err.msg);
        exit(1);
    }
    return s;
}

/* Appends results of checks ids[0..n) every step_ms over [start, END_MS),
 * in time order across checks. Returns results written. */
static uint64_t generate(struct ys_store *s, const uint32_t *ids, size_t n, int64_t start,
                         int64_t step_ms)
{
    struct ys_result *b = ys_xcalloc(BATCH, sizeof *b);
    struct ys_err err = {{0}};
    size_t nb = 0;
    uint64_t written = 0;
    for (int64_t t = start; t < END_MS; t += step_ms) {
        bool outage = (t / 60000) % (10 * 1440) < 30; /* 30 min every 10 days */
        for (size_t c = 0; c < n; c++) {
            struct ys_result *r = &b[nb++];
            ys_result_init(r);
            r->check_id = ids[c];
            r->ts_ms = t + (int64_t)(c * 7) % step_ms;
            r->duration_us = latency_us();
            r->ok = !outage && urand() >= 0.002;
            r->status = r->ok ? 200 : 503;
            if (!r->ok)
                ys_result_fail(r, YS_EC_HTTP_STATUS, "status 503");
            if (nb == BATCH) {
                if (s->type->append(s, b, nb, &err) < 0) {
                    fprintf(stderr, "bench: append: %s\n", err.msg);
                    exit(1);
                }
                written += nb;
                nb = 0;
            }
        }
    }
    if (nb && s->type->append(s, b, nb, &err) < 0) {
        fprintf(stderr, "bench: append: %s\n", err.msg);
        exit(1);
    }
    free(b);
    return written + nb;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct summary {
    double gen_s, gen_rate, q_ms[3], sli[3], p95[3], bytes1, report_ms, bytes2, gen2_s;
    int days1;
    size_t checks2, goals2;
};

static void one_check(const char *dir, bool quick, struct summary *sm)
{
    char db[400], params[400], want[128];
    sm->days1 = quick ? 31 : 365;
    snprintf(db, sizeof db, "%s/one.db", dir);
    snprintf(params, sizeof params, "%s/one.params", dir);
    snprintf(want, sizeof want, "v1 step=10s days=%d end=%lld\n", sm->days1, (long long)END_MS);
    if (!params_match(params, want)) {
        remove(db);
        struct ys_store *s = open_store(db, false);
        uint32_t id;
        struct ys_err err = {{0}};
        s->type->check_id(s, "one", &id, &err);
        int64_t t0 = ys_mono_us();
        uint64_t n = generate(s, &id, 1, END_MS - sm->days1 * DAY_MS, 10000);
        sm->gen_s = (double)(ys_mono_us() - t0) / 1e6;
        sm->gen_rate = (double)n / sm->gen_s;
        printf("generated %llu results for one check in %.1f s (%.0f results/s)\n",
               (unsigned long long)n, sm->gen_s, sm->gen_rate);
        ys_store_close(s);
        write_params(params, want);
    } else {
        printf("reusing %s\n", db);
    }
    struct ys_store *s = open_store(db, true);
    uint32_t id;
    struct ys_err err = {{0}};
    s->type->check_id(s, "one", &id, &err);
    const int windows[3] = {30, 90, 365};
    for (int w = 0; w < 3; w++) {
        double t[20];
        for (int run = 0; run < 20; run++) {
            struct ys_sketch *sk = ys_sketch_new();
            struct ys_counts c;
            int64_t t0 = ys_mono_us();
            ys_query_counts(s, &id, 1, QUERY_AT - windows[w] * DAY_MS, QUERY_AT, -1, &c, sk, &err);
            sm->p95[w] = ys_sketch_quantile(sk, 0.95) / 1000.0;
            sm->sli[w] = c.total ? 100.0 * (double)c.good / (double)c.total : NAN;
            t[run] = (double)(ys_mono_us() - t0) / 1000.0;
            ys_sketch_free(sk);
        }
        qsort(t, 20, sizeof t[0], cmp_double);
        sm->q_ms[w] = (t[9] + t[10]) / 2;
    }
    ys_store_close(s);
    sm->bytes1 = (double)store_bytes(db) / sm->days1;
}

/* The config of part 2: checks c0000.. with labels area/team, 10 SLOs
 * over 10 checks each, 100 goals of mixed measures. */
static char *report_config(const char *db, size_t checks, size_t goals)
{
    size_t cap = 256 + checks * 128 + goals * 256, len = 0;
    char *t = ys_xmalloc(cap);
    len += (size_t)snprintf(t + len, cap - len, "storage: { path: %s }\nchecks:\n", db);
    for (size_t i = 0; i < checks; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "  - { name: c%04zu, kind: http, url: 'http://127.0.0.1:1/',"
                                " labels: { area: a%zu } }\n",
                                i, i % 10);
    len += (size_t)snprintf(t + len, cap - len, "slos:\n");
    for (size_t i = 0; i < 10; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "  - { name: s%zu, selector: { area: a%zu }, objective: 99%%,"
                                " window: 30d }\n",
                                i, i);
    len += (size_t)snprintf(t + len, cap - len, "goals:\n");
    static const char *const kinds[4] = {
        "target: '>= 99%%', measure: { slo: s%zu }",
        "target: '>= 99.5%%', measure: { check: c%04zu, stat: availability }",
        "target: '<= 100ms', measure: { check: c%04zu, stat: p95 }",
        "target: '100%%', measure: { selector: { area: a%zu }, stat: pass_share }",
    };
    for (size_t g = 0; g < goals; g++) {
        char m[160];
        size_t k = g % 5, arg = k == 0 || k == 3 ? g % 10 : (g * 37) % checks;
        if (k == 4)
            snprintf(m, sizeof m, "target: '>= 1.2.0'");
        else
            snprintf(m, sizeof m, kinds[k], arg);
        len +=
            (size_t)snprintf(t + len, cap - len,
                             "  - { id: g%03zu, title: Goal %zu, area: Area %zu, due: 2026-06-30,"
                             " %s }\n",
                             g, g, g % 8, m);
    }
    return t;
}

static void report_bench(const char *dir, bool quick, struct summary *sm)
{
    char db[400], params[400], want[128];
    sm->checks2 = quick ? 100 : 1000;
    sm->goals2 = 100;
    const int64_t step = 60000, days = 30;
    snprintf(db, sizeof db, "%s/many.db", dir);
    snprintf(params, sizeof params, "%s/many.params", dir);
    snprintf(want, sizeof want, "v1 checks=%zu step=%llds days=%lld\n", sm->checks2,
             (long long)step / 1000, (long long)days);
    char *text = report_config(db, sm->checks2, sm->goals2);
    struct ys_config *cfg = NULL;
    struct ys_diag diag;
    ys_diag_init(&diag, "bench.yaml");
    if (ys_config_load_string(text, strlen(text), &cfg, &diag) < 0 || diag.n) {
        ys_diag_print(&diag, stderr);
        exit(1);
    }
    ys_diag_free(&diag);
    free(text);
    bool reuse = params_match(params, want);
    if (!reuse)
        remove(db);
    struct ys_store *s = open_store(db, false);
    struct ys_err err = {{0}};
    uint32_t *ids = ys_xcalloc(cfg->n_checks, sizeof *ids);
    for (size_t i = 0; i < cfg->n_checks; i++) {
        s->type->check_id(s, cfg->checks[i].name, &cfg->checks[i].store_id, &err);
        ids[i] = cfg->checks[i].store_id;
    }
    if (!reuse) {
        int64_t t0 = ys_mono_us();
        uint64_t n = 0;
        for (size_t c = 0; c < cfg->n_checks; c++)
            n += generate(s, &ids[c], 1, END_MS - days * DAY_MS, step);
        sm->gen2_s = (double)(ys_mono_us() - t0) / 1e6;
        printf("generated %llu results for %zu checks in %.1f s\n", (unsigned long long)n,
               cfg->n_checks, sm->gen2_s);
        write_params(params, want);
    } else {
        printf("reusing %s\n", db);
    }
    ys_store_close(s);
    free(ids);
    s = open_store(db, true);
    struct ys_tz tz;
    ys_tz_utc(&tz);
    double t[5];
    for (int run = 0; run < 5; run++) {
        struct ys_report *r = NULL;
        int64_t t0 = ys_mono_us();
        if (ys_report_build(s, cfg, &tz, QUERY_AT, &r, &err) < 0) {
            fprintf(stderr, "bench: report: %s\n", err.msg);
            exit(1);
        }
        t[run] = (double)(ys_mono_us() - t0) / 1000.0;
        if (run == 0)
            printf("report: %zu met, %zu at risk, %zu missed, %zu no data\n",
                   r->n_status[YS_GOAL_MET], r->n_status[YS_GOAL_AT_RISK],
                   r->n_status[YS_GOAL_MISSED], r->n_status[YS_GOAL_NO_DATA]);
        ys_report_free(r);
    }
    qsort(t, 5, sizeof t[0], cmp_double);
    sm->report_ms = t[2];
    ys_store_close(s);
    sm->bytes2 = (double)store_bytes(db) / (double)(sm->checks2 * days);
    ys_tz_free(&tz);
    ys_config_unref(cfg);
}

int main(int argc, char **argv)
{
    const char *dir = "/tmp/ys-bench-slo";
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else
            dir = argv[i];
    }
    mkdir(dir, 0755);
    struct summary sm;
    memset(&sm, 0, sizeof sm);
    one_check(dir, quick, &sm);
    report_bench(dir, quick, &sm);
    const int windows[3] = {30, 90, 365};
    printf("\n%-44s %12s %10s\n", "measure", "value", "target");
    for (int w = 0; w < 3; w++) {
        char name[64];
        snprintf(name, sizeof name, "SLI + P95, one check, %d days (median)", windows[w]);
        printf("%-44s %9.3f ms %10s   (SLI %.3f%%, P95 %.1f ms)\n", name, sm.q_ms[w], "< 5 ms",
               sm.sli[w], sm.p95[w]);
    }
    char name[80];
    snprintf(name, sizeof name, "report model, %zu goals, %zu checks", sm.goals2, sm.checks2);
    printf("%-44s %9.1f ms %10s\n", name, sm.report_ms, "< 1000 ms");
    printf("%-44s %9.0f B  %10s\n", "bytes on disk per check per day (10 s)", sm.bytes1, "");
    printf("%-44s %9.0f B  %10s\n", "bytes on disk per check per day (1 min)", sm.bytes2, "");
    if (sm.gen_s > 0)
        printf("%-44s %9.1f s  %10s   (%.0f results/s)\n", "generation, one check", sm.gen_s, "",
               sm.gen_rate);
    if (sm.gen2_s > 0)
        printf("%-44s %9.1f s  %10s\n", "generation, many checks", sm.gen2_s, "");
    return 0;
}
