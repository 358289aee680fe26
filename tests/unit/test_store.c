/*
 * test_store.c - the SQLite store through its public interface: check ids,
 * the raw round trip of every result field, minute/hour/day rollups across
 * bucket boundaries, merging after reopen, late results, pruning in small
 * steps, read-only opens and range edges.
 *
 * Each test works in its own temporary folder.
 */
#include "core/err.h"
#include "core/result.h"
#include "slo/sketch.h"
#include "store/store.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z, a day boundary */
#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)

static int setup(void **state)
{
    (void)state;
    /* A nested folder that does not exist yet: open must create it. */
    return fixture_setup("a/b/");
}

static struct ys_store *open_store(bool ro, int64_t raw_ms)
{
    return fixture_open(ro, raw_ms);
}

static uint32_t id_of(struct ys_store *s, const char *name)
{
    uint32_t id = 0;
    struct ys_err err;
    assert_int_equal(s->type->check_id(s, name, &id, &err), 0);
    return id;
}

static void append(struct ys_store *s, const struct ys_result *r, size_t n)
{
    struct ys_err err = {{0}};
    if (s->type->append(s, r, n, &err) < 0)
        fail_msg("append: %s", err.msg);
}

struct rows {
    struct ys_result r[4096];
    size_t n;
};

static int collect(const struct ys_result *r, void *arg)
{
    struct rows *rows = arg;
    if (rows->n < 4096)
        rows->r[rows->n++] = *r;
    return 0;
}

static void raw(struct ys_store *s, uint32_t id, int64_t from, int64_t to, struct rows *out)
{
    struct ys_err err;
    out->n = 0;
    assert_int_equal(s->type->query_raw(s, id, from, to, collect, out, &err), 0);
}

static void assert_same(const struct ys_result *a, const struct ys_result *b)
{
    assert_int_equal(a->check_id, b->check_id);
    assert_int_equal(a->ts_ms, b->ts_ms);
    assert_int_equal(a->duration_us, b->duration_us);
    assert_int_equal(a->ok, b->ok);
    assert_int_equal(a->errclass, b->errclass);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->bytes, b->bytes);
    if (a->flags & YS_RF_HAS_VALUE)
        assert_memory_equal(&a->value, &b->value, sizeof a->value);
    for (int i = 0; i < YS_PHASE_COUNT; i++)
        assert_int_equal(a->phase_us[i], b->phase_us[i]);
    assert_string_equal(a->message, b->message);
    if (a->flags & YS_RF_HAS_TLS) {
        assert_int_equal(a->tls.leaf_not_after, b->tls.leaf_not_after);
        assert_int_equal(a->tls.earliest_not_after, b->tls.earliest_not_after);
        assert_string_equal(a->tls.subject, b->tls.subject);
        assert_string_equal(a->tls.issuer, b->tls.issuer);
    }
}

static void test_check_ids(void **state)
{
    (void)state;
    struct ys_store *s = open_store(false, 0);
    uint32_t a = id_of(s, "alpha"), b = id_of(s, "beta");
    assert_int_not_equal(a, b);
    assert_int_equal(id_of(s, "alpha"), a);
    ys_store_close(s);
    s = open_store(false, 0);
    assert_int_equal(id_of(s, "beta"), b);
    assert_int_equal(id_of(s, "alpha"), a);
    ys_store_close(s);
    s = open_store(true, 0);
    assert_int_equal(id_of(s, "alpha"), a);
    uint32_t x;
    struct ys_err err;
    assert_int_equal(s->type->check_id(s, "gamma", &x, &err), YS_ENOTFOUND);
    ys_store_close(s);
}

static void test_read_only_never_writes(void **state)
{
    (void)state;
    struct ys_store_options opt = {.path = path, .read_only = true};
    struct ys_store *s = NULL;
    struct ys_err err;
    struct stat sb;
    assert_int_equal(ys_store_open("sqlite", &opt, &s, &err), YS_ENOTFOUND);
    assert_int_not_equal(stat(path, &sb), 0);
    char parent[160];
    snprintf(parent, sizeof parent, "%s/a", fixture_dir);
    assert_int_not_equal(stat(parent, &sb), 0); /* not even the folder */
    s = open_store(false, 0);
    uint32_t id = id_of(s, "c");
    ys_store_close(s);
    s = open_store(true, 0);
    struct ys_result r;
    ys_result_init(&r);
    r.check_id = id;
    r.ts_ms = T0;
    assert_true(s->type->append(s, &r, 1, &err) < 0);
    int deleted;
    assert_true(s->type->prune(s, T0, 10, &deleted, &err) < 0);
    ys_store_close(s);
    assert_int_equal(ys_store_open("nosuch", &opt, &s, &err), YS_EINVAL);
}

/* A table of results exercising every field and every change bit. */
static size_t make_varied(uint32_t id, struct ys_result *out)
{
    static const double values[] = {12, 11, 11, -3, 0.25, NAN, 1e300, -0.0, 7};
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        struct ys_result *r = &out[n++];
        ys_result_init(r);
        r->check_id = id;
        r->ts_ms = T0 + 10 * MIN + i * 30000 + (i % 3) * 7 - (i == 20 ? 45000 : 0);
        r->duration_us = 20000 + i * 313;
        for (int p = 0; p < YS_PHASE_COUNT; p++)
            r->phase_us[p] = (i + p) % 5 == 0 ? -1 : 100 * (p + 1) + i;
        r->status = i % 7 == 0 ? 503 : 200;
        r->bytes = i % 5 == 0 ? 1 << 20 : 612;
        if (i % 2) {
            r->flags |= YS_RF_HAS_TLS;
            r->tls.leaf_not_after = 1790000000 + (i / 10) * 86400;
            r->tls.earliest_not_after = 1780000000 - i;
            snprintf(r->tls.subject, sizeof r->tls.subject, "CN=host%d.example.org", i / 8);
            snprintf(r->tls.issuer, sizeof r->tls.issuer, "CN=Test CA,O=yardstick");
        }
        if (i % 3 == 0) {
            r->flags |= YS_RF_HAS_VALUE;
            r->value = values[(i / 3) % 9];
        }
        if (i % 11 == 0)
            r->flags |= YS_RF_TRUNCATED;
        if (i % 4 == 3)
            ys_result_fail(r, (enum ys_errclass)(1 + i % 7), "failure number %d", i % 3);
        if (i == 38) /* a message that is not a failure, and a huge duration */
            snprintf(r->message, sizeof r->message, "note: ok but slow");
        if (i == 39)
            r->duration_us = INT64_C(1) << 40;
    }
    return n;
}

static void test_raw_round_trip(void **state)
{
    (void)state;
    struct ys_result in[64];
    static struct rows got;
    struct ys_store *s = open_store(false, 0);
    uint32_t id = id_of(s, "rt"), other = id_of(s, "other");
    size_t n = make_varied(id, in);
    append(s, in, 13); /* several batches, and a reopen in between */
    ys_store_close(s);
    s = open_store(false, 0);
    append(s, in + 13, n - 13);
    struct ys_result o = in[0];
    o.check_id = other;
    append(s, &o, 1);
    raw(s, id, 0, INT64_MAX / 2, &got);
    assert_int_equal(got.n, n);
    /* Oldest first: result 20 was late (45 s early), so it sorts earlier. */
    struct ys_result sorted[64];
    memcpy(sorted, in, n * sizeof *in);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && sorted[j - 1].ts_ms > sorted[j].ts_ms; j--) {
            struct ys_result t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++)
        assert_same(&sorted[i], &got.r[i]);
    raw(s, other, 0, INT64_MAX / 2, &got);
    assert_int_equal(got.n, 1);
    ys_store_close(s);
}

static void test_range_edges(void **state)
{
    (void)state;
    static struct rows got;
    struct ys_store *s = open_store(false, 0);
    uint32_t id = id_of(s, "edges");
    struct ys_result r[4];
    const int64_t ts[4] = {T0 - 1, T0, T0 + HOUR - 1, T0 + HOUR};
    for (int i = 0; i < 4; i++) {
        ys_result_init(&r[i]);
        r[i].check_id = id;
        r[i].ts_ms = ts[i];
    }
    append(s, r, 4);
    static const struct {
        int64_t from, to;
        size_t n;
        int first;
    } cases[] = {
        {T0, T0 + HOUR, 2, 1},     {T0 - 1, T0, 1, 0},     {T0, T0, 0, 0},
        {T0 + 1, T0 + HOUR, 1, 2}, {T0 + HOUR, T0 + DAY, 1, 3}, {0, T0 + DAY, 4, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        raw(s, id, cases[i].from, cases[i].to, &got);
        assert_int_equal(got.n, cases[i].n);
        if (got.n)
            assert_int_equal(got.r[0].ts_ms, ts[cases[i].first]);
    }
    ys_store_close(s);
}

struct agg {
    size_t n;
    int64_t bucket[256];
    uint64_t total[256], ok[256];
    int64_t sum[256];
    double p95[256];
};

static int collect_rollup(const struct ys_rollup *r, void *arg)
{
    struct agg *a = arg;
    if (a->n < 256) {
        a->bucket[a->n] = r->bucket_ms;
        a->total[a->n] = r->total;
        a->ok[a->n] = r->ok;
        a->sum[a->n] = r->sum_duration_us;
        a->p95[a->n] = ys_sketch_quantile(r->latency, 0.95);
        /* Latency counts passing probes only. */
        assert_int_equal(ys_sketch_count(r->latency), r->ok);
        a->n++;
    }
    return 0;
}

static void rollups(struct ys_store *s, uint32_t id, enum ys_resolution res, int64_t from,
                    int64_t to, struct agg *out)
{
    struct ys_err err;
    memset(out, 0, sizeof *out);
    assert_int_equal(s->type->query_rollups(s, id, res, from, to, collect_rollup, out, &err), 0);
}

/* Results every 20 s from 23:58:00 on day 0 to 01:01:40 on day 1, ok
 * unless i % 10 == 0, duration 1000 + i us. */
static void fill(struct ys_store *s, uint32_t id, int from, int to)
{
    struct ys_result r[512];
    size_t n = 0;
    for (int i = from; i < to; i++) {
        ys_result_init(&r[n]);
        r[n].check_id = id;
        r[n].ts_ms = T0 + DAY - 2 * MIN + i * 20000;
        r[n].duration_us = 1000 + i;
        r[n].ok = i % 10 != 0;
        n++;
    }
    append(s, r, n);
}

static void test_rollups(void **state)
{
    (void)state;
    static struct agg a;
    struct ys_store *s = open_store(false, 0);
    uint32_t id = id_of(s, "roll");
    int total = 3 * 63 + 6; /* 23:58:00 .. 01:01:40 */
    fill(s, id, 0, 100);
    ys_store_close(s);
    s = open_store(false, 0); /* the rest merges into the stored buckets */
    fill(s, id, 100, total);
    /* Day buckets: day 0 has 6 results (23:58:00 .. 23:59:40). */
    rollups(s, id, YS_RES_DAY, 0, T0 + 10 * DAY, &a);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.bucket[0], T0);
    assert_int_equal(a.total[0], 6);
    assert_int_equal(a.ok[0], 5);
    assert_int_equal(a.sum[0], 5 * 1000 + 15); /* i = 1..5: i = 0 failed */
    assert_int_equal(a.bucket[1], T0 + DAY);
    assert_int_equal(a.total[1], total - 6);
    /* Hours: 23:00 (6), 00:00 (180), 01:00 (9). */
    rollups(s, id, YS_RES_HOUR, T0, T0 + 2 * DAY, &a);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.total[0], 6);
    assert_int_equal(a.total[1], 180);
    assert_int_equal(a.total[2], 9);
    assert_int_equal(a.bucket[2], T0 + DAY + HOUR);
    /* p95 of the passing durations 1006..1185 (multiples of 10 failed):
     * 162 values, rank floor(0.95 * 161) = 152. */
    int64_t passing[180];
    size_t np = 0;
    for (int i = 6; i < 186; i++)
        if (i % 10 != 0)
            passing[np++] = 1000 + i;
    double exact = (double)passing[(size_t)(0.95 * (double)(np - 1))];
    assert_true(fabs(a.p95[1] - exact) / exact <= 0.01);
    uint64_t ok = 0;
    for (int i = 6; i < 186; i++)
        ok += i % 10 != 0;
    assert_int_equal(a.ok[1], ok);
    /* Minutes: 3 per minute, 65 minutes; the first query edge is inclusive. */
    rollups(s, id, YS_RES_MINUTE, T0 + DAY - 2 * MIN, T0 + DAY + 2 * HOUR, &a);
    assert_int_equal(a.n, 65);
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(a.bucket[i], T0 + DAY - 2 * MIN + (int64_t)i * MIN);
        assert_int_equal(a.total[i], 3);
    }
    rollups(s, id, YS_RES_MINUTE, T0 + DAY, T0 + DAY + MIN, &a);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.sum[0], 3 * 1000 + 6 + 7 + 8);
    struct ys_err err;
    assert_int_equal(s->type->query_rollups(s, id, YS_RES_RAW, 0, 1, collect_rollup, &a, &err),
                     YS_EINVAL);
    ys_store_close(s);
}

static void test_late_result(void **state)
{
    (void)state;
    static struct agg a;
    struct ys_store *s = open_store(false, 0);
    uint32_t id = id_of(s, "late");
    struct ys_result r;
    const int64_t ts[] = {T0 + 5 * MIN, T0 + 6 * MIN, T0 + 5 * MIN + 1, T0 - HOUR, T0 + 7 * MIN};
    for (size_t i = 0; i < 5; i++) {
        ys_result_init(&r);
        r.check_id = id;
        r.ts_ms = ts[i];
        r.duration_us = 100 * (int64_t)(i + 1);
        append(s, &r, 1);
    }
    rollups(s, id, YS_RES_MINUTE, T0 - DAY, T0 + DAY, &a);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.bucket[0], T0 - HOUR);
    assert_int_equal(a.bucket[1], T0 + 5 * MIN);
    assert_int_equal(a.total[1], 2); /* merged from two entries */
    assert_int_equal(a.sum[1], 100 + 300);
    rollups(s, id, YS_RES_HOUR, T0 - DAY, T0 + DAY, &a);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.total[1], 4);
    rollups(s, id, YS_RES_DAY, T0 - DAY, T0 + DAY, &a);
    assert_int_equal(a.n, 2);
    ys_store_close(s);
}

static void test_prune(void **state)
{
    (void)state;
    static struct rows got;
    static struct agg a;
    struct ys_store_options opt = {.path = path};
    opt.retention = (struct ys_retention){2 * HOUR, 3 * HOUR, 10 * HOUR, 0};
    struct ys_store *s;
    struct ys_err err;
    assert_int_equal(ys_store_open("sqlite", &opt, &s, &err), 0);
    uint32_t ids[3] = {id_of(s, "p1"), id_of(s, "p2"), id_of(s, "p3")};
    /* 24 hours of one result per 10 minutes for three checks. */
    for (int h = 0; h < 24; h++) {
        struct ys_result r[18];
        for (int k = 0; k < 18; k++) {
            ys_result_init(&r[k]);
            r[k].check_id = ids[k % 3];
            r[k].ts_ms = T0 + h * HOUR + (k / 3) * 10 * MIN;
            r[k].duration_us = 500;
        }
        append(s, r, 18);
    }
    int64_t now = T0 + 24 * HOUR;
    int deleted, sum = 0, calls = 0;
    do {
        assert_int_equal(s->type->prune(s, now, 7, &deleted, &err), 0);
        assert_true(deleted <= 7);
        sum += deleted;
        calls++;
    } while (deleted == 7);
    assert_true(calls > 3);
    /* Raw: 2 h kept, so only hours 22 and 23 remain (whole chunks). */
    raw(s, ids[1], 0, now, &got);
    assert_int_equal(got.n, 12);
    assert_int_equal(got.r[0].ts_ms, T0 + 22 * HOUR);
    rollups(s, ids[2], YS_RES_MINUTE, 0, now, &a);
    assert_int_equal(a.n, 18); /* hours 21..23 */
    rollups(s, ids[0], YS_RES_HOUR, 0, now, &a);
    assert_int_equal(a.n, 10);
    assert_int_equal(a.bucket[0], T0 + 14 * HOUR);
    rollups(s, ids[0], YS_RES_DAY, 0, now, &a);
    assert_int_equal(a.n, 1); /* kept forever */
    /* 3 checks x (22 chunks + 21 minute rows + 14 hour rows). */
    assert_int_equal(sum, 3 * (22 + 21 + 14));
    assert_int_equal(s->type->prune(s, now, 7, &deleted, &err), 0);
    assert_int_equal(deleted, 0);
    /* Writing after a prune continues cleanly in the kept buckets. */
    struct ys_result r;
    ys_result_init(&r);
    r.check_id = ids[1];
    r.ts_ms = now - 1;
    append(s, &r, 1);
    raw(s, ids[1], 0, now, &got);
    assert_int_equal(got.n, 13);
    ys_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_never_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
