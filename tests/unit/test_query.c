/*
 * test_query.c - the query layer against a real SQLite store filled with
 * known results: 1000 results of check "web" over 2 days, exactly 20 of
 * them failed (every 50th), durations 10, 20, ..., 200 ms in turn. Every
 * figure is compared with a brute-force computation over the same raw
 * results: counts tiled across minute/hour/day edges exactly, SLI, burn
 * rates, budget, P95 within the sketch's 1%, each goal measure kind, manual
 * goal records and the report model.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/tz.h"
#include "query/query.h"
#include "report/report.h"
#include "slo/sketch.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N 1000
#define MIN_MS 60000LL
#define DAY_MS 86400000LL
/* 2025-06-10T12:34:56.789Z: on no minute, hour or day edge. */
#define NOW_MS 1749558896789LL
#define STEP_MS 172800LL /* 2 days / 1000 */

static const char cfg_fmt[] =
    "storage: { path: %s/q.db }\n"
    "checks:\n"
    "  - { name: web, kind: http, url: 'http://127.0.0.1:1/', labels: { area: web } }\n"
    "  - { name: api, kind: http, url: 'http://127.0.0.1:2/', labels: { area: web } }\n"
    "  - { name: idle, kind: http, url: 'http://127.0.0.1:3/' }\n"
    "slos:\n"
    "  - { name: web-avail, checks: [web], objective: 97%%, window: 30d }\n"
    "  - { name: web-fast, checks: [web], objective: 90%%, indicator: { latency: 105ms } }\n"
    "goals:\n"
    "  - { id: g-slo, title: SLO, area: A, target: '>= 97%%', measure: { slo: web-avail } }\n"
    "  - { id: g-avail, title: Avail, area: A, target: '>= 99.9%%', due: 2025-01-01,\n"
    "      measure: { check: web, stat: availability } }\n"
    "  - { id: g-p95, title: P95, area: B, target: '<= 1s', measure: { check: web, stat: p95 } }\n"
    "  - { id: g-last, title: Last, area: B, target: '>= 1', measure: { check: web, stat: "
    "last_value } }\n"
    "  - { id: g-cert, title: Cert, area: B, target: '>= 14', measure: { check: web, stat: "
    "cert_days_left } }\n"
    "  - { id: g-fresh, title: Fresh, area: B, target: hourly, measure: { check: web, stat: "
    "freshness } }\n"
    "  - { id: g-share, title: Share, area: C, target: '100%%',\n"
    "      measure: { selector: { area: web }, stat: pass_share } }\n"
    "  - { id: g-mttr, title: MTTR, area: C, target: '< 5m', measure: { check: web, stat: mttr } "
    "}\n"
    "  - { id: g-longest, title: Longest, area: C, target: '< 5m',\n"
    "      measure: { check: web, stat: longest_outage } }\n"
    "  - { id: g-count, title: Count, area: C, target: '<= 1', measure: { check: web, stat: "
    "incidents } }\n"
    "  - { id: g-down, title: Down, area: C, target: '<= 10m', measure: { check: web, stat: "
    "downtime } }\n"
    "  - { id: g-manual, title: Manual, area: D, target: '>= 1.13.0', due: 2099-01-01 }\n"
    "  - { id: g-idle, title: Idle, area: D, target: '>= 99%%', measure: { check: idle, stat: "
    "availability } }\n"
    "milestones:\n"
    "  - { title: M1, due: 2099-01-01, goals: [g-slo, g-p95] }\n"
    "  - { title: M2, due: 2099-01-01, goals: [g-slo, g-avail] }\n";

struct fixture {
    char dir[64];
    struct ys_config *cfg;
    struct ys_store *s;
    struct ys_tz tz;
    struct ys_result r[N];
};

/* Failed probes are fast (a refused connection): a latency SLI must still
 * count them as bad, which the store's passing-only sketches make exact. */
static int64_t dur_us(int i)
{
    return i % 50 == 49 ? 1000 : (int64_t)(10 + 10 * (i % 20)) * 1000;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ys-test-query-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char text[sizeof cfg_fmt + 128];
    int len = snprintf(text, sizeof text, cfg_fmt, f->dir);
    struct ys_diag diag;
    ys_diag_init(&diag, "test.yaml");
    int rc = ys_config_load_string(text, (size_t)len, &f->cfg, &diag);
    if (rc < 0 || diag.n)
        ys_diag_print(&diag, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(diag.n, 0);
    ys_diag_free(&diag);
    struct ys_store_options opt = {.path = f->cfg->storage.path};
    struct ys_err err = {{0}};
    assert_int_equal(ys_store_open("sqlite", &opt, &f->s, &err), 0);
    for (size_t i = 0; i < f->cfg->n_checks; i++)
        assert_int_equal(
            f->s->type->check_id(f->s, f->cfg->checks[i].name, &f->cfg->checks[i].store_id, &err),
            0);
    f->cfg->checks[2].store_id = 0; /* "idle" has never run: no data */
    uint32_t web = f->cfg->checks[0].store_id;
    for (int i = 0; i < N; i++) {
        struct ys_result *r = &f->r[i];
        ys_result_init(r);
        r->check_id = web;
        r->ts_ms = NOW_MS - 2 * DAY_MS + (int64_t)i * STEP_MS;
        r->duration_us = dur_us(i);
        r->ok = i % 50 != 49;
        r->flags = YS_RF_HAS_VALUE | (i == 990 ? YS_RF_HAS_TLS : 0);
        r->value = i;
        r->tls.leaf_not_after = NOW_MS / 1000 + 30 * 86400;
        if (!r->ok)
            ys_result_fail(r, YS_EC_HTTP_STATUS, "status 503");
    }
    for (int i = 0; i < N; i += 100)
        assert_int_equal(f->s->type->append(f->s, &f->r[i], 100, &err), 0);
    struct ys_result api;
    ys_result_init(&api);
    api.check_id = f->cfg->checks[1].store_id;
    api.ts_ms = NOW_MS - 3600000;
    api.ok = true;
    api.duration_us = 5000;
    assert_int_equal(f->s->type->append(f->s, &api, 1, &err), 0);
    struct ys_incident inc[2] = {{web, NOW_MS - DAY_MS, NOW_MS - DAY_MS + 60000, "a"},
                                 {web, NOW_MS - 3600000, NOW_MS - 3600000 + 180000, "b"}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(f->s->type->put_incident(f->s, &inc[i], &err), 0);
    struct ys_goal_record rec = {NOW_MS - 5 * DAY_MS, 1012000, "old"};
    assert_int_equal(f->s->type->put_goal_record(f->s, "g-manual", &rec, &err), 0);
    rec = (struct ys_goal_record){NOW_MS - DAY_MS, 1013000, "new"};
    assert_int_equal(f->s->type->put_goal_record(f->s, "g-manual", &rec, &err), 0);
    ys_tz_utc(&f->tz);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    ys_store_close(f->s);
    ys_config_unref(f->cfg);
    ys_tz_free(&f->tz);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int64_t ceil_min(int64_t t)
{
    return (t + MIN_MS - 1) / MIN_MS * MIN_MS;
}

/* The brute-force count over the raw results, with the same minute rounding. */
static struct ys_counts brute(const struct fixture *f, int64_t from, int64_t to, int64_t thr_us)
{
    struct ys_counts c = {0, 0};
    from = ceil_min(from);
    to = ceil_min(to);
    for (int i = 0; i < N; i++) {
        if (f->r[i].ts_ms < from || f->r[i].ts_ms >= to)
            continue;
        c.total++;
        c.good += f->r[i].ok && (thr_us < 0 || f->r[i].duration_us <= thr_us);
    }
    return c;
}

static void test_counts_tiling(void **state)
{
    struct fixture *f = *state;
    const int64_t H = 3600000, first = NOW_MS - 2 * DAY_MS;
    /* Ranges crossing day, hour and minute edges, inside and around the data. */
    const int64_t ranges[][2] = {
        {first, NOW_MS},
        {first - DAY_MS, NOW_MS + DAY_MS},
        {NOW_MS - 30 * DAY_MS, NOW_MS},
        {first + 17 * MIN_MS + 5, first + 3 * H + 59},
        {NOW_MS - DAY_MS - 7 * H - 123, NOW_MS - 3 * H + 4567},
        {NOW_MS - 5 * MIN_MS, NOW_MS},
        {NOW_MS - 90 * MIN_MS, NOW_MS - 20 * MIN_MS},
        {1749513600000LL, 1749513600000LL + DAY_MS}, /* exactly one UTC day */
        {1749513600000LL - 1, 1749513600000LL + 1},
        {NOW_MS, NOW_MS - 1}, /* empty */
    };
    const int64_t thresholds[] = {-1, 105000, 15000, 250000}; /* off the 1% bucket edges */
    uint32_t id = f->cfg->checks[0].store_id;
    struct ys_err err = {{0}};
    for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++) {
        for (size_t t = 0; t < 4; t++) {
            struct ys_counts got, want = brute(f, ranges[k][0], ranges[k][1], thresholds[t]);
            assert_int_equal(ys_query_counts(f->s, &id, 1, ranges[k][0], ranges[k][1],
                                             thresholds[t], &got, NULL, &err),
                             0);
            if (got.total != want.total || got.good != want.good)
                fail_msg("range %zu thr %lld: got %llu/%llu want %llu/%llu", k,
                         (long long)thresholds[t], (unsigned long long)got.good,
                         (unsigned long long)got.total, (unsigned long long)want.good,
                         (unsigned long long)want.total);
        }
    }
    /* Several ids sum; an unknown one adds nothing. */
    uint32_t ids[3] = {id, id, 9999};
    struct ys_counts got;
    assert_int_equal(ys_query_counts(f->s, ids, 3, first - DAY_MS, NOW_MS, -1, &got, NULL, &err),
                     0);
    assert_int_equal(got.total, 2 * N);
    assert_int_equal(got.good, 2 * (N - 20));
}

static void test_slo(void **state)
{
    struct fixture *f = *state;
    struct ys_slo_status st;
    struct ys_err err = {{0}};
    assert_int_equal(ys_query_slo(f->s, f->cfg, &f->cfg->slos[0], &f->tz, NOW_MS, &st, &err), 0);
    assert_int_equal(st.counts.total, N);
    assert_int_equal(st.counts.good, N - 20);
    assert_false(st.budget.no_data);
    assert_true(fabs(st.budget.sli - 0.98) < 1e-12);
    assert_true(fabs(st.budget.allowed_bad - 30) < 1e-9);
    assert_true(fabs(st.budget.consumed_bad - 20) < 1e-9);
    assert_true(fabs(st.budget.remaining - 1.0 / 3.0) < 1e-9);
    for (int w = 0; w < YS_BURN_COUNT; w++) {
        struct ys_counts c = brute(f, NOW_MS - ys_burn_window_ms[w], NOW_MS, -1);
        double want = ys_burn_rate(c, 0.97, YS_QUERY_MIN_EVENTS);
        if (isnan(want))
            assert_true(isnan(st.burn[w]));
        else
            assert_true(fabs(st.burn[w] - want) < 1e-12);
    }
    /* 5m holds fewer than 10 probes: no data, never 0. */
    assert_true(isnan(st.burn[YS_BURN_5M]));
    assert_false(isnan(st.burn[YS_BURN_1H]));
    /* 2% bad over a 3% budget: burn 2/3, nothing fires. */
    assert_true(fabs(st.burn[YS_BURN_3D] - 2.0 / 3.0) < 1e-9);
    assert_int_equal(st.alert, YS_ALERT_OK);
    /* Latency SLO: good = ok and <= 105 ms. */
    assert_int_equal(ys_query_slo(f->s, f->cfg, &f->cfg->slos[1], &f->tz, NOW_MS, &st, &err), 0);
    struct ys_counts want = brute(f, NOW_MS - 30 * DAY_MS, NOW_MS, 105000);
    assert_int_equal(st.counts.good, want.good);
    assert_int_equal(st.counts.total, N);
}

static struct ys_goal_eval eval(struct fixture *f, const char *id, int64_t at)
{
    struct ys_goal_eval e;
    struct ys_err err = {{0}};
    const struct ys_goal *g = ys_config_find_goal(f->cfg, id);
    assert_non_null(g);
    assert_int_equal(ys_query_goal(f->s, f->cfg, g, &f->tz, at, &e, &err), 0);
    return e;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_goal_measures(void **state)
{
    struct fixture *f = *state;
    struct ys_goal_eval e = eval(f, "g-slo", NOW_MS);
    assert_true(e.has_value);
    assert_true(fabs(e.value - 98.0) < 1e-9);
    assert_int_equal(e.status, YS_GOAL_MET);
    assert_true(e.n_trend >= 2 && e.n_trend <= 4);
    assert_true(e.trend[e.n_trend - 1].value == e.value);

    e = eval(f, "g-avail", NOW_MS);
    assert_true(fabs(e.value - 98.0) < 1e-9);
    assert_int_equal(e.status, YS_GOAL_MISSED); /* due 2025-01-01 passed */

    /* P95 of the passing probes' durations (failures carry no latency). */
    int64_t d[N];
    int nd = 0;
    for (int i = 0; i < N; i++)
        if (f->r[i].ok)
            d[nd++] = f->r[i].duration_us;
    qsort(d, (size_t)nd, sizeof d[0], cmp_i64);
    double exact = (double)d[(int)(0.95 * (nd - 1))] / 1e6;
    e = eval(f, "g-p95", NOW_MS);
    assert_true(e.has_value);
    if (fabs(e.value - exact) > 0.01 * exact)
        fail_msg("p95 %g, exact %g", e.value, exact);
    assert_int_equal(e.status, YS_GOAL_MET);

    e = eval(f, "g-last", NOW_MS);
    assert_true(e.has_value);
    assert_true(e.value == 999.0);
    e = eval(f, "g-last", f->r[500].ts_ms + 1); /* as of then: result 500 */
    assert_true(e.value == 500.0);

    e = eval(f, "g-cert", NOW_MS);
    assert_true(e.has_value);
    assert_true(e.value == (double)ys_tls_days_left(&f->r[990].tls, NOW_MS / 1000));
    assert_true(e.value >= 29 && e.value <= 30);

    e = eval(f, "g-fresh", NOW_MS); /* result 999 failed: the newest ok is 998 */
    assert_true(fabs(e.value - (double)(NOW_MS - f->r[998].ts_ms) / 1000.0) < 1e-9);
    assert_int_equal(e.status, YS_GOAL_MET);

    e = eval(f, "g-share", NOW_MS); /* web's last failed, api's passed */
    assert_true(fabs(e.value - 50.0) < 1e-9);
}

/* The trend read from day rollups once equals measuring each day apart. */
static void test_trend_fast_path(void **state)
{
    struct fixture *f = *state;
    const char *ids[] = {"g-slo", "g-avail", "g-p95"};
    for (size_t k = 0; k < 3; k++) {
        struct ys_goal_eval e = eval(f, ids[k], NOW_MS);
        assert_true(e.n_trend >= 3);
        for (size_t i = 0; i + 1 < e.n_trend; i++) {
            assert_int_equal(e.trend[i].t_ms % DAY_MS, 0);
            struct ys_goal_eval d = eval(f, ids[k], e.trend[i].t_ms);
            assert_true(d.has_value);
            if (d.value != e.trend[i].value)
                fail_msg("%s day %zu: trend %.12g, direct %.12g", ids[k], i, e.trend[i].value,
                         d.value);
        }
    }
    /* A selector's pass share is a snapshot: only the point of now. */
    assert_int_equal(eval(f, "g-share", NOW_MS).n_trend, 1);
}

static void test_goal_incidents_manual(void **state)
{
    struct fixture *f = *state;
    struct ys_goal_eval e = eval(f, "g-mttr", NOW_MS);
    assert_true(e.has_value);
    assert_true(fabs(e.value - 120.0) < 1e-9);
    assert_true(fabs(eval(f, "g-longest", NOW_MS).value - 180.0) < 1e-9);
    assert_true(eval(f, "g-count", NOW_MS).value == 2.0);
    assert_int_equal(eval(f, "g-count", NOW_MS).status != YS_GOAL_MET, true);
    assert_true(fabs(eval(f, "g-down", NOW_MS).value - 240.0) < 1e-9);

    struct ys_incident_stats is;
    struct ys_err err = {{0}};
    assert_int_equal(
        ys_query_incident_stats(f->s, 0, NOW_MS - 2 * 3600000, NOW_MS, NOW_MS, &is, &err), 0);
    assert_int_equal(is.count, 1);
    assert_int_equal(is.downtime_ms, 180000);

    e = eval(f, "g-manual", NOW_MS);
    assert_true(e.has_value);
    assert_true(e.value == 1013000.0);
    assert_int_equal(e.status, YS_GOAL_MET);
    e = eval(f, "g-manual", NOW_MS - 2 * DAY_MS); /* only the old record then */
    assert_true(e.value == 1012000.0);
    assert_int_not_equal(e.status, YS_GOAL_MET);
    e = eval(f, "g-manual", NOW_MS - 10 * DAY_MS);
    assert_false(e.has_value);
    assert_int_equal(e.status, YS_GOAL_NO_DATA);

    e = eval(f, "g-idle", NOW_MS);
    assert_false(e.has_value);
    assert_int_equal(e.status, YS_GOAL_NO_DATA);
    assert_int_equal(e.n_trend, 0);
}

static void test_report_model(void **state)
{
    struct fixture *f = *state;
    struct ys_report *r = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_report_build(f->s, f->cfg, &f->tz, NOW_MS, &r, &err), 0);
    assert_int_equal(r->n_goals, f->cfg->n_goals);
    assert_int_equal(r->n_areas, 4);
    assert_string_equal(r->areas[0].name, "A");
    assert_int_equal(r->areas[2].n_goals, 5);
    assert_string_equal(r->goals[0].current, "98%");
    /* M1: both met; M2: one missed. */
    assert_int_equal(r->milestones[0].status, YS_GOAL_MET);
    assert_true(r->milestones[0].progress == 1.0);
    assert_int_equal(r->milestones[1].status, YS_GOAL_MISSED);
    assert_true(r->milestones[1].progress == 0.5);
    assert_int_equal(r->incidents.count, 2);
    assert_int_equal(r->n_check_incidents, 1);
    FILE *devnull = fopen("/dev/null", "w");
    ys_report_write_table(devnull, r, true);
    ys_report_write_markdown(devnull, r);
    ys_report_write_json(devnull, r);
    fclose(devnull);
    ys_report_free(r);
    /* With no store, everything is no data. */
    assert_int_equal(ys_report_build(NULL, f->cfg, &f->tz, NOW_MS, &r, &err), 0);
    assert_int_equal(r->n_status[YS_GOAL_NO_DATA], f->cfg->n_goals);
    assert_true(r->slos[0].st.budget.no_data);
    ys_report_free(r);
}

static void test_parse_at(void **state)
{
    (void)state;
    struct ys_tz tz;
    int64_t t;
    ys_tz_utc(&tz);
    assert_int_equal(ys_report_parse_at("2025-06-30", &tz, &t), 0);
    assert_true(t == 1751328000000LL); /* 2025-07-01T00:00:00Z */
    assert_int_equal(ys_report_parse_at("2025-06-30T12:00:00Z", &tz, &t), 0);
    assert_true(t == 1751284800000LL);
    assert_int_equal(ys_report_parse_at("2025-06-30T14:00:00.5+02:00", &tz, &t), 0);
    assert_true(t == 1751284800500LL);
    assert_int_equal(ys_report_parse_at("2025-02-30", &tz, &t), YS_EINVAL);
    assert_int_equal(ys_report_parse_at("yesterday", &tz, &t), YS_EINVAL);
    assert_int_equal(ys_report_parse_at("2025-06-30T12:00:00", &tz, &t), YS_EINVAL);
    ys_tz_free(&tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_tiling),
        cmocka_unit_test(test_slo),
        cmocka_unit_test(test_goal_measures),
        cmocka_unit_test(test_trend_fast_path),
        cmocka_unit_test(test_goal_incidents_manual),
        cmocka_unit_test(test_report_model),
        cmocka_unit_test(test_parse_at),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
