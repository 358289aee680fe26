/*
 * store_fixture.h - a temporary store for the unit tests that need a real
 * one (test_store*, test_outbox, test_live_incidents, test_heartbeat_live):
 * SQLite by default, PostgreSQL when YS_TEST_PG_DSN is set.
 *
 * Each test runs with a fresh folder under /tmp, removed afterwards. With
 * YS_TEST_PG_DSN (a key=value connection string, e.g. "host=127.0.0.1
 * port=5433 dbname=postgres user=postgres"; CTest's pg/ variants set it,
 * see tests/pg/) each test also gets a fresh schema, dropped afterwards,
 * and `path` becomes that DSN with the schema as its search_path: the
 * store's location is then a connection string. The tests' own calls of
 * ys_store_open and ys_outbox_start with kind "sqlite" are redirected to
 * "postgres" (the macros below), so a test written against SQLite runs
 * unchanged against PostgreSQL.
 *
 * Tests that look inside the SQLite file (migrations, triggers, counts
 * with sqlite3) cannot run on PostgreSQL: YS_TEST_PG_SKIP lists them
 * (comma-separated names, set per test in CMakeLists.txt) and they are
 * left out of the run, each reported as skipped.
 *
 * Header only: every test is its own executable, so these are static and
 * each test gets its own copy of the folder name. Include after
 * <cmocka.h> (and after outbox/outbox.h, if the test uses it).
 */
#ifndef YS_TESTS_STORE_FIXTURE_H
#define YS_TESTS_STORE_FIXTURE_H

#include "store/store.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fixture_dir[64], path[512];
static char fixture_schema[64];

/* The PostgreSQL server the tests run against, or NULL for SQLite. */
static const char *fixture_pg_dsn(void)
{
    const char *dsn = getenv("YS_TEST_PG_DSN");
    return dsn && *dsn ? dsn : NULL;
}

/* Runs sql on the test server (schema set-up and removal). The schema
 * name is an identifier made here, never a value from outside. */
static int fixture_pg_exec(const char *sql)
{
    PGconn *c = PQconnectdb(fixture_pg_dsn());
    int rc = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PQclear(PQexec(c, "SET client_min_messages = warning")); /* no "drop cascades" */
        PGresult *res = PQexec(c, sql);
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
            rc = 0;
        else
            fprintf(stderr, "store_fixture: %s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
    } else {
        fprintf(stderr, "store_fixture: cannot connect: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return rc;
}

/* Makes a fresh folder; the store file is `path` inside it, under subdir
 * ("" for the folder itself). With PostgreSQL, also a fresh schema. */
static int fixture_setup(const char *subdir)
{
    static int seq;
    snprintf(fixture_dir, sizeof fixture_dir, "/tmp/ys_test_XXXXXX");
    assert_non_null(mkdtemp(fixture_dir));
    snprintf(path, sizeof path, "%s/%st.db", fixture_dir, subdir);
    if (fixture_pg_dsn()) {
        char sql[128];
        snprintf(fixture_schema, sizeof fixture_schema, "ys_t_%ld_%d", (long)getpid(), ++seq);
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", fixture_schema);
        assert_int_equal(fixture_pg_exec(sql), 0);
        int n = snprintf(path, sizeof path, "%s options=-csearch_path=%s", fixture_pg_dsn(),
                         fixture_schema);
        assert_true(n > 0 && (size_t)n < sizeof path);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    if (fixture_pg_dsn() && fixture_schema[0]) {
        /* A test that failed half-way may still hold a transaction open:
         * give up rather than wait (the server is temporary anyway). */
        snprintf(cmd, sizeof cmd, "SET lock_timeout = '5s'; DROP SCHEMA %s CASCADE",
                 fixture_schema);
        fixture_pg_exec(cmd);
        fixture_schema[0] = '\0';
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The store kind a test asked for, redirected to PostgreSQL when the
 * tests run against it. */
static inline const char *fixture_kind(const char *kind)
{
    return fixture_pg_dsn() && kind && strcmp(kind, "sqlite") == 0 ? "postgres" : kind;
}

/* Opens the store at path, with raw retention raw_ms (0: forever). */
static struct ys_store *fixture_open(bool read_only, int64_t raw_ms)
{
    struct ys_store_options opt = {.path = path, .read_only = read_only};
    opt.retention.raw_ms = raw_ms;
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    if (ys_store_open(fixture_kind("sqlite"), &opt, &s, &err) < 0)
        fail_msg("open: %s", err.msg);
    return s;
}

/* Leaves out the tests named in YS_TEST_PG_SKIP when running against
 * PostgreSQL, then runs the group as cmocka would. */
static int fixture_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
                             CMFixtureFunction setup, CMFixtureFunction teardown_fn)
{
    const char *skip = fixture_pg_dsn() ? getenv("YS_TEST_PG_SKIP") : NULL;
    struct CMUnitTest *run = calloc(n ? n : 1, sizeof *run);
    size_t k = 0;
    assert_non_null(run);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(tests[i].name);
        const char *p = skip;
        bool skipped = false;
        while (p && *p && !skipped) {
            const char *end = strchr(p, ',');
            size_t plen = end ? (size_t)(end - p) : strlen(p);
            skipped = plen == len && strncmp(p, tests[i].name, len) == 0;
            p = end ? end + 1 : NULL;
        }
        if (skipped)
            printf("[  SKIPPED ] %s (looks inside the SQLite file)\n", tests[i].name);
        else
            run[k++] = tests[i];
    }
    int rc = _cmocka_run_group_tests(name, run, k, setup, teardown_fn);
    free(run);
    return rc;
}

#undef cmocka_run_group_tests
#define cmocka_run_group_tests(group_tests, group_setup, group_teardown)                           \
    fixture_run_group(#group_tests, group_tests, sizeof(group_tests) / sizeof((group_tests)[0]),   \
                      group_setup, group_teardown)

#define ys_store_open(kind, opt, out, err) ys_store_open(fixture_kind(kind), opt, out, err)
#ifdef YS_OUTBOX_OUTBOX_H
#define ys_outbox_start(cfg, kind, ...) ys_outbox_start(cfg, fixture_kind(kind), __VA_ARGS__)
#endif

#endif
