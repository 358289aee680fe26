/*
 * test_store_pings.c - heartbeat pings in the SQLite store: every field
 * round-trips (bodies with any bytes, up to a MiB), ranges are half-open
 * and oldest first with ties in arrival order, max keeps the newest max,
 * pings survive reopen and read through a read-only connection, pruning
 * drops only pings older than raw retention in budgeted steps, and pings
 * pushed through the writer thread arrive after a flush.
 *
 * Each test works in its own temporary folder.
 */
#include "core/err.h"
#include "store/store.h"
#include "store/writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define MIN INT64_C(60000)
#define DAY (24 * 60 * MIN)

static int setup(void **state)
{
    (void)state;
    return fixture_setup("");
}

/* A ping; body may hold any bytes (len given). */
struct in_ping {
    uint32_t check;
    int64_t ts;
    uint8_t kind;
    int16_t exit_code;
    const char *run_id;
    int64_t duration_ms;
    const char *body;
    size_t body_len;
};

static struct ys_ping_record rec_of(const struct in_ping *p)
{
    struct ys_ping_record r;
    memset(&r, 0, sizeof r);
    r.ping.check_id = p->check;
    r.ping.ts_ms = p->ts;
    r.ping.kind = p->kind;
    r.ping.exit_code = p->exit_code;
    snprintf(r.ping.run_id, sizeof r.ping.run_id, "%s", p->run_id ? p->run_id : "");
    r.duration_ms = p->duration_ms;
    r.body = p->body;
    r.body_len = p->body_len;
    return r;
}

static void put(struct ys_store *s, const struct in_ping *in, size_t n)
{
    struct ys_ping_record *recs = calloc(n, sizeof *recs);
    for (size_t i = 0; i < n; i++)
        recs[i] = rec_of(&in[i]);
    struct ys_err err = {{0}};
    int rc = s->type->put_pings(s, recs, n, &err);
    free(recs);
    if (rc < 0)
        fail_msg("put_pings: %s", err.msg);
}

/* What a query returned: the fixed part, and the bodies copied. */
#define GOT_MAX 64
struct got {
    struct ys_ping_record v[GOT_MAX];
    char *body[GOT_MAX];
    size_t n;
    size_t stop_after;
};

static int collect(const struct ys_ping_record *r, void *arg)
{
    struct got *g = arg;
    if (g->n < GOT_MAX) {
        g->v[g->n] = *r;
        g->body[g->n] = NULL;
        if (r->body_len) {
            g->body[g->n] = malloc(r->body_len);
            memcpy(g->body[g->n], r->body, r->body_len);
        }
        g->v[g->n].body = g->body[g->n];
        g->n++;
    }
    return g->stop_after && g->n >= g->stop_after;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->body[i]);
    g->n = 0;
}

static void query(struct ys_store *s, uint32_t check, int64_t from, int64_t to, size_t max,
                  struct got *g)
{
    struct ys_err err = {{0}};
    size_t stop = g->stop_after;
    memset(g, 0, sizeof *g);
    g->stop_after = stop;
    if (s->type->query_pings(s, check, from, to, max, collect, g, &err) < 0)
        fail_msg("query_pings: %s", err.msg);
}

static uint32_t check_id(struct ys_store *s, const char *name)
{
    uint32_t id = 0;
    struct ys_err err = {{0}};
    if (s->type->check_id(s, name, &id, &err) < 0)
        fail_msg("check_id: %s", err.msg);
    return id;
}

static const char bin_body[] = {'o', 'k', '\0', '\n', (char)0xff, (char)0x80, '\0', 'z'};

static void test_round_trip(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    uint32_t a = check_id(s, "backup"), b = check_id(s, "cron");
    const struct in_ping in[] = {
        {a, T0 + 2 * MIN, YS_PING_SUCCESS, 0, "r1", 61000, "done\n", 5},
        {a, T0, YS_PING_START, -1, "r1", -1, NULL, 0},
        {b, T0 + MIN, YS_PING_FAIL, 3, "", -1, bin_body, sizeof bin_body},
        {a, T0 + 2 * MIN, YS_PING_FAIL, -2, "same ms", 5, "", 0}, /* tie: after the first */
        {a, T0 + 3 * MIN, YS_PING_SUCCESS, 0, "", 42, bin_body, sizeof bin_body},
    };
    put(s, in, 3);
    put(s, in + 3, 2);
    ys_store_close(s);

    /* Reopened read-only: everything is there, in order. */
    s = fixture_open(true, 0);
    struct got g = {0};
    query(s, a, 0, INT64_MAX, 0, &g);
    assert_int_equal(g.n, 4);
    static const size_t order[] = {1, 0, 3, 4}; /* indexes into in[] */
    for (size_t i = 0; i < 4; i++) {
        const struct in_ping *want = &in[order[i]];
        const struct ys_ping_record *r = &g.v[i];
        assert_int_equal(r->ping.check_id, a);
        assert_int_equal(r->ping.ts_ms, want->ts);
        assert_int_equal(r->ping.kind, want->kind);
        assert_int_equal(r->ping.exit_code, want->exit_code);
        assert_string_equal(r->ping.run_id, want->run_id);
        assert_int_equal(r->duration_ms, want->duration_ms);
        assert_int_equal(r->body_len, want->body_len);
        if (want->body_len)
            assert_memory_equal(r->body, want->body, want->body_len);
        else
            assert_null(r->body);
    }
    got_free(&g);

    query(s, b, 0, INT64_MAX, 0, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.v[0].ping.exit_code, 3);
    assert_int_equal(g.v[0].body_len, sizeof bin_body);
    assert_memory_equal(g.v[0].body, bin_body, sizeof bin_body);
    got_free(&g);

    /* Half-open ranges. */
    query(s, a, T0 + 2 * MIN, T0 + 3 * MIN, 0, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.v[0].ping.run_id, "r1");
    assert_string_equal(g.v[1].ping.run_id, "same ms");
    got_free(&g);
    query(s, a, T0 + 1, T0 + 2 * MIN, 0, &g);
    assert_int_equal(g.n, 0);
    query(s, a, T0 + 3 * MIN, T0 + 3 * MIN, 0, &g); /* empty range */
    assert_int_equal(g.n, 0);
    query(s, check_id(s, "cron") + 1, 0, INT64_MAX, 0, &g); /* unknown check */
    assert_int_equal(g.n, 0);

    /* A callback can stop early. */
    g.stop_after = 2;
    query(s, a, 0, INT64_MAX, 0, &g);
    assert_int_equal(g.n, 2);
    got_free(&g);

    /* Read-only refuses writes. */
    struct ys_ping_record r = rec_of(&in[0]);
    struct ys_err err = {{0}};
    assert_int_not_equal(s->type->put_pings(s, &r, 1, &err), 0);
    ys_store_close(s);
}

/* 12 pings of check 1 at minutes 0..9, with minutes 4 and 7 twice. */
static void put_series(struct ys_store *s, uint32_t id)
{
    static const int minute[] = {0, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9};
    struct in_ping in[12];
    char run[12][8];
    for (size_t i = 0; i < 12; i++) {
        snprintf(run[i], sizeof run[i], "n%zu", i);
        in[i] = (struct in_ping){id, T0 + minute[i] * MIN, YS_PING_SUCCESS, 0, run[i], -1, NULL, 0};
    }
    put(s, in, 12);
}

static void test_newest_max(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = check_id(s, "job");
    put_series(s, id);
    struct got g = {0};
    static const struct {
        int64_t from, to;
        size_t max;
        const char *first, *last; /* run ids */
        size_t want;
    } cases[] = {
        {0, INT64_MAX, 0, "n0", "n11", 12},
        {0, INT64_MAX, 3, "n9", "n11", 3}, /* the edge splits minute 7: only its second */
        {0, INT64_MAX, 4, "n8", "n11", 4}, /* both of minute 7 */
        {0, INT64_MAX, 1, "n11", "n11", 1},
        {0, INT64_MAX, 12, "n0", "n11", 12},
        {0, INT64_MAX, 100, "n0", "n11", 12},
        {T0, T0 + 5 * MIN, 2, "n4", "n5", 2}, /* newest of the range, not of all */
        {T0, T0 + 5 * MIN, 1, "n5", "n5", 1},
        {T0 + MIN, T0 + 3 * MIN, 5, "n1", "n2", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        query(s, id, cases[i].from, cases[i].to, cases[i].max, &g);
        if (g.n != cases[i].want)
            fail_msg("case %zu: %zu pings, want %zu", i, g.n, cases[i].want);
        assert_string_equal(g.v[0].ping.run_id, cases[i].first);
        assert_string_equal(g.v[g.n - 1].ping.run_id, cases[i].last);
        for (size_t j = 1; j < g.n; j++)
            assert_true(g.v[j - 1].ping.ts_ms <= g.v[j].ping.ts_ms);
    }
    ys_store_close(s);
}

static void test_big_binary_body(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = check_id(s, "log");
    size_t len = 1 << 20;
    char *body = malloc(len);
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        body[i] = (char)(x >> 24); /* every byte value, NULs included */
    }
    struct in_ping in = {id, T0, YS_PING_FAIL, 1, "", 10, body, len};
    put(s, &in, 1);
    ys_store_close(s);
    s = fixture_open(true, 0);
    struct got g = {0};
    query(s, id, 0, INT64_MAX, 1, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.v[0].body_len, len);
    assert_memory_equal(g.v[0].body, body, len);
    got_free(&g);
    free(body);
    ys_store_close(s);
}

static void test_prune(void **state)
{
    (void)state;
    int64_t now = T0 + 10 * DAY;
    struct ys_store *s = fixture_open(false, DAY);
    uint32_t a = check_id(s, "a"), b = check_id(s, "b");
    /* Per check: 5 expired pings (older than now - 1 day), 3 kept. */
    struct in_ping in[16];
    size_t n = 0;
    for (uint32_t id = a; id <= b; id++) {
        for (int i = 0; i < 5; i++)
            in[n++] = (struct in_ping){id, now - DAY - 1 - i * MIN, 0, 0, "old", -1, "x", 1};
        in[n++] = (struct in_ping){id, now - DAY, 0, 0, "edge", -1, NULL, 0}; /* exactly at */
        in[n++] = (struct in_ping){id, now - MIN, 0, 0, "new", -1, NULL, 0};
        in[n++] = (struct in_ping){id, now, 0, 0, "new", -1, NULL, 0};
    }
    put(s, in, n);
    /* Budget 3: four calls delete 3, 3, 3, 1. */
    int total = 0, deleted, calls = 0;
    struct ys_err err = {{0}};
    do {
        assert_int_equal(s->type->prune(s, now, 3, &deleted, &err), 0);
        assert_true(deleted <= 3);
        total += deleted;
        calls++;
    } while (deleted == 3 && calls < 20);
    assert_int_equal(total, 10);
    struct got g = {0};
    for (uint32_t id = a; id <= b; id++) {
        query(s, id, 0, INT64_MAX, 0, &g);
        assert_int_equal(g.n, 3);
        assert_int_equal(g.v[0].ping.ts_ms, now - DAY);
        assert_string_equal(g.v[0].ping.run_id, "edge");
        got_free(&g);
    }
    ys_store_close(s);

    /* Retention 0 keeps pings forever. */
    s = fixture_open(false, 0);
    assert_int_equal(s->type->prune(s, now + 1000 * DAY, 100, &deleted, &err), 0);
    assert_int_equal(deleted, 0);
    query(s, a, 0, INT64_MAX, 0, &g);
    assert_int_equal(g.n, 3);
    ys_store_close(s);
}

static void test_writer_pings(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = check_id(s, "nightly");
    struct ys_writer *w = NULL;
    struct ys_err err = {{0}};
    struct ys_writer_options wo = {.flush_ms = 10000}; /* only flush writes */
    assert_int_equal(ys_writer_start(s, &wo, &w, &err), 0);
    char body[64];
    for (int i = 0; i < 20; i++) {
        int len = snprintf(body, sizeof body, "run %d\n", i);
        body[len - 1] = '\0'; /* a NUL inside: copied as bytes, not as a string */
        struct in_ping in = {id, T0 + i * MIN, YS_PING_SUCCESS, 0, "", i, body, (size_t)len};
        struct ys_ping_record r = rec_of(&in);
        assert_int_equal(ys_writer_push_ping(w, &r), 0);
        memset(body, 'X', sizeof body); /* the writer holds its own copy */
    }
    ys_writer_flush(w);
    struct ys_store *r = fixture_open(true, 0);
    struct got g = {0};
    query(r, id, 0, INT64_MAX, 0, &g);
    assert_int_equal(g.n, 20);
    for (int i = 0; i < 20; i++) {
        int len = snprintf(body, sizeof body, "run %d\n", i);
        body[len - 1] = '\0';
        assert_int_equal(g.v[i].ping.ts_ms, T0 + i * MIN);
        assert_int_equal(g.v[i].duration_ms, i);
        assert_int_equal(g.v[i].body_len, (size_t)len);
        assert_memory_equal(g.v[i].body, body, (size_t)len);
    }
    got_free(&g);
    struct ys_writer_stats st;
    ys_writer_stats(w, &st);
    assert_int_equal(st.pings_written, 20);
    assert_int_equal(st.pings_dropped, 0);
    assert_int_equal(st.failed, 0);
    /* Stop drains pings pushed after the last flush. */
    struct in_ping last = {id, T0 + DAY, YS_PING_START, -1, "tail", -1, NULL, 0};
    struct ys_ping_record lr = rec_of(&last);
    assert_int_equal(ys_writer_push_ping(w, &lr), 0);
    ys_writer_stop(w);
    query(r, id, 0, INT64_MAX, 1, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.v[0].ping.run_id, "tail");
    ys_store_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newest_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_binary_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_pings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
