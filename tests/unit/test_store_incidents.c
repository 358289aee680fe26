/*
 * test_store_incidents.c - incidents and goal records in the SQLite store:
 * upsert by (check, start), overlap queries with open incidents, one check
 * or all, goal record history, reading through a read-only connection,
 * the schema migration from version 1, and incidents pushed through the
 * writer thread.
 *
 * Each test works in its own temporary folder.
 */
#include "core/err.h"
#include "store/store.h"
#include "store/writer.h"

#include <setjmp.h>
#include <sqlite3.h>
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

static int setup(void **state)
{
    (void)state;
    return fixture_setup("");
}

static struct ys_store *open_store(bool ro)
{
    return fixture_open(ro, 0);
}

static struct ys_incident mk(uint32_t check, int64_t start, int64_t end, const char *msg)
{
    struct ys_incident inc;
    memset(&inc, 0, sizeof inc);
    inc.check_id = check;
    inc.start_ms = start;
    inc.end_ms = end;
    snprintf(inc.first_error, sizeof inc.first_error, "%s", msg);
    return inc;
}

static void put(struct ys_store *s, struct ys_incident inc)
{
    struct ys_err err = {{0}};
    if (s->type->put_incident(s, &inc, &err) < 0)
        fail_msg("put_incident: %s", err.msg);
}

struct got {
    struct ys_incident v[16];
    size_t n;
    size_t stop_after; /* 0: never stop */
};

static int collect(const struct ys_incident *inc, void *arg)
{
    struct got *g = arg;
    if (g->n < 16)
        g->v[g->n++] = *inc;
    return g->stop_after && g->n >= g->stop_after;
}

static struct got query(struct ys_store *s, uint32_t check, int64_t from, int64_t to)
{
    struct got g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->query_incidents(s, check, from, to, collect, &g, &err) < 0)
        fail_msg("query_incidents: %s", err.msg);
    return g;
}

static void test_put_update_query(void **state)
{
    (void)state;
    struct ys_store *s = open_store(false);
    put(s, mk(1, T0, T0 + 5 * MIN, "connect: refused"));
    put(s, mk(1, T0 + 60 * MIN, 0, "timeout")); /* open */
    put(s, mk(2, T0 + 10 * MIN, T0 + 12 * MIN, "http 503"));
    put(s, mk(2, T0 + 20 * MIN, 0, "dns"));
    /* Closing the open one rewrites its row, keeps the key. */
    put(s, mk(2, T0 + 20 * MIN, T0 + 25 * MIN, "dns: NXDOMAIN"));

    struct got g = query(s, 1, 0, INT64_MAX);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.v[0].start_ms, T0);
    assert_int_equal(g.v[0].end_ms, T0 + 5 * MIN);
    assert_string_equal(g.v[0].first_error, "connect: refused");
    assert_int_equal(g.v[1].end_ms, 0);

    g = query(s, 2, 0, INT64_MAX);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.v[1].end_ms, T0 + 25 * MIN);
    assert_string_equal(g.v[1].first_error, "dns: NXDOMAIN");

    /* Overlap is start < to and (open or end > from): edges are exclusive. */
    static const struct {
        uint32_t check;
        int64_t from, to;
        size_t want;
        int64_t first_start;
    } cases[] = {
        {1, T0 + 5 * MIN, T0 + 60 * MIN, 0, 0},         /* between the two */
        {1, T0 + 5 * MIN - 1, T0 + 60 * MIN, 1, T0},    /* last ms of the first */
        {1, T0 + 5 * MIN, T0 + 60 * MIN + 1, 1, T0 + 60 * MIN}, /* first ms of the open one */
        {1, T0 + 1000 * MIN, T0 + 2000 * MIN, 1, T0 + 60 * MIN}, /* open lasts forever */
        {1, T0 - 10 * MIN, T0, 0, 0},                   /* before everything */
        {0, T0 + 11 * MIN, T0 + 21 * MIN, 2, T0 + 10 * MIN}, /* every check */
        {0, 0, INT64_MAX, 4, T0},
        {3, 0, INT64_MAX, 0, 0},                        /* unknown check */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g = query(s, cases[i].check, cases[i].from, cases[i].to);
        if (g.n != cases[i].want)
            fail_msg("case %zu: %zu incidents, want %zu", i, g.n, cases[i].want);
        if (g.n)
            assert_int_equal(g.v[0].start_ms, cases[i].first_start);
    }
    /* All checks, oldest first. */
    g = query(s, 0, 0, INT64_MAX);
    for (size_t i = 1; i < g.n; i++)
        assert_true(g.v[i - 1].start_ms <= g.v[i].start_ms);
    /* A callback can stop early. */
    memset(&g, 0, sizeof g);
    g.stop_after = 1;
    struct ys_err err = {{0}};
    assert_int_equal(s->type->query_incidents(s, 0, 0, INT64_MAX, collect, &g, &err), 0);
    assert_int_equal(g.n, 1);
    ys_store_close(s);

    /* Kept across reopen, readable read-only, and not writable there. */
    s = open_store(true);
    g = query(s, 0, 0, INT64_MAX);
    assert_int_equal(g.n, 4);
    struct ys_incident inc = mk(1, T0, 0, "x");
    assert_int_not_equal(s->type->put_incident(s, &inc, &err), 0);
    ys_store_close(s);
}

struct recs {
    struct ys_goal_record v[8];
    size_t n;
};

static int collect_rec(const struct ys_goal_record *r, void *arg)
{
    struct recs *rs = arg;
    if (rs->n < 8)
        rs->v[rs->n++] = *r;
    return 0;
}

static void test_goal_records(void **state)
{
    (void)state;
    struct ys_store *s = open_store(false);
    struct ys_err err = {{0}};
    static const struct {
        const char *goal;
        int64_t ts;
        double value;
        const char *note;
    } in[] = {
        {"backups", T0 + 2 * MIN, 1, "restored staging"},
        {"backups", T0, 0, ""},
        {"coverage", T0 + MIN, 61.5, "after the refactor"},
        {"backups", T0 + 2 * MIN, 1, "same time twice"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct ys_goal_record r = {.ts_ms = in[i].ts, .value = in[i].value};
        snprintf(r.note, sizeof r.note, "%s", in[i].note);
        assert_int_equal(s->type->put_goal_record(s, in[i].goal, &r, &err), 0);
    }
    struct recs rs = {0};
    assert_int_equal(s->type->query_goal_records(s, "backups", 0, INT64_MAX, collect_rec, &rs,
                                                 &err),
                     0);
    assert_int_equal(rs.n, 3);
    assert_int_equal(rs.v[0].ts_ms, T0); /* oldest first */
    assert_string_equal(rs.v[0].note, "");
    assert_string_equal(rs.v[1].note, "restored staging"); /* ties in insertion order */
    assert_string_equal(rs.v[2].note, "same time twice");

    memset(&rs, 0, sizeof rs);
    assert_int_equal(s->type->query_goal_records(s, "backups", T0 + 1, T0 + 2 * MIN, collect_rec,
                                                 &rs, &err),
                     0);
    assert_int_equal(rs.n, 0); /* to is exclusive */
    memset(&rs, 0, sizeof rs);
    assert_int_equal(s->type->query_goal_records(s, "coverage", T0, T0 + MIN + 1, collect_rec,
                                                 &rs, &err),
                     0);
    assert_int_equal(rs.n, 1);
    assert_true(rs.v[0].value > 61.49 && rs.v[0].value < 61.51);
    ys_store_close(s);
}

static int scalar(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static void exec(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_migration_from_1(void **state)
{
    (void)state;
    ys_store_close(open_store(false));
    assert_int_equal(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 4);
    /* Make it a version 1 database, as issue 2 wrote them. */
    exec("DROP TABLE incident; DROP TABLE goal_record;"
         "UPDATE meta SET value = 1 WHERE key = 'schema_version';");
    assert_int_equal(scalar("SELECT count(*) FROM sqlite_master WHERE name = 'incident'"), 0);
    /* A read-only open does not migrate: it refuses. */
    struct ys_store_options opt = {.path = path, .read_only = true};
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_store_open("sqlite", &opt, &s, &err), YS_ESTORE);
    assert_non_null(strstr(err.msg, "schema version 1, expected 4"));
    s = open_store(false);
    put(s, mk(7, T0, 0, "migrated"));
    assert_int_equal(query(s, 7, 0, INT64_MAX).n, 1);
    ys_store_close(s);
    assert_int_equal(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 4);
    assert_int_equal(scalar("SELECT count(*) FROM sqlite_master WHERE name = 'incident_start'"),
                     1);
}

static void test_writer_incidents(void **state)
{
    (void)state;
    struct ys_writer *w = NULL;
    struct ys_err err = {{0}};
    struct ys_writer_options wo = {.flush_ms = 10000}; /* only flush writes */
    assert_int_equal(ys_writer_start(open_store(false), &wo, &w, &err), 0);
    struct ys_incident a = mk(4, T0, 0, "opened");
    assert_int_equal(ys_writer_push_incident(w, &a), 0);
    a.end_ms = T0 + MIN; /* closed before the batch is written */
    assert_int_equal(ys_writer_push_incident(w, &a), 0);
    struct ys_incident b = mk(5, T0 + MIN, 0, "still open");
    assert_int_equal(ys_writer_push_incident(w, &b), 0);
    ys_writer_flush(w);
    struct ys_store *r = open_store(true);
    struct got g = query(r, 0, 0, INT64_MAX);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.v[0].check_id, 4);
    assert_int_equal(g.v[0].end_ms, T0 + MIN); /* the later push wins */
    assert_int_equal(g.v[1].end_ms, 0);
    ys_store_close(r);
    ys_writer_stop(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_update_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goal_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_incidents, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
