/*
 * test_store_facts.c - results' facts in the SQLite store: the round trip
 * through append and query_raw (mixed with results without facts, several
 * results of one check in one millisecond, late results, another check at
 * the same time, a reopen between batches, a read-only reader), one row
 * per result with facts and none for the others, pruning with the raw
 * retention in small steps, and the migration of a version 3 file.
 *
 * Each test works in its own temporary folder.
 */
#include "core/err.h"
#include "core/result.h"
#include "store/store.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)

static int setup(void **state)
{
    (void)state;
    return fixture_setup("");
}

static uint32_t id_of(struct ys_store *s, const char *name)
{
    uint32_t id = 0;
    struct ys_err err = {{0}};
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
    struct ys_result r[512];
    size_t n;
};

static int collect(const struct ys_result *r, void *arg)
{
    struct rows *rows = arg;
    if (rows->n < 512)
        rows->r[rows->n++] = *r;
    return 0;
}

static void raw(struct ys_store *s, uint32_t id, int64_t from, int64_t to, struct rows *out)
{
    struct ys_err err = {{0}};
    out->n = 0;
    if (s->type->query_raw(s, id, from, to, collect, out, &err) < 0)
        fail_msg("query_raw: %s", err.msg);
}

static struct ys_result mk(uint32_t id, int64_t ts, const char *facts)
{
    struct ys_result r;
    ys_result_init(&r);
    r.check_id = id;
    r.ts_ms = ts;
    r.duration_us = 1000 + ts % 977;
    r.flags |= YS_RF_HAS_VALUE;
    r.value = (double)(ts % 13);
    if (facts)
        snprintf(r.facts, sizeof r.facts, "%s", facts);
    return r;
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

/* The facts of a dns check, as the kind writes them. */
static const char *const dns_facts =
    "[{\"server\":\"127.0.0.1:5300\",\"rcode\":\"NOERROR\",\"ms\":0.123,"
    "\"answers\":[\"192.0.2.10\"],\"ttl\":300}]";

static void test_round_trip(void **state)
{
    (void)state;
    static struct rows got;
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = id_of(s, "dns"), other = id_of(s, "other");
    struct ys_result in[] = {
        mk(id, T0 + 1 * MIN, dns_facts),
        mk(id, T0 + 2 * MIN, NULL),
        /* Three results in one millisecond: facts, none, facts. */
        mk(id, T0 + 3 * MIN, "[\"first\"]"),
        mk(id, T0 + 3 * MIN, NULL),
        mk(id, T0 + 3 * MIN, "[\"third\"]"),
        /* Another check at the same time, with its own facts. */
        mk(other, T0 + 3 * MIN, "{\"other\":true}"),
    };
    append(s, in, 3);
    ys_store_close(s); /* a reopen between batches */
    s = fixture_open(false, 0);
    append(s, in + 3, 3);
    /* A late result (earlier than the last), in a later batch. */
    struct ys_result late = mk(id, T0 + 90000, "[\"late\"]");
    append(s, &late, 1);
    /* And one in the next hour. */
    struct ys_result next = mk(id, T0 + HOUR + MIN, "[\"next hour\"]");
    append(s, &next, 1);
    ys_store_close(s);

    assert_int_equal(scalar("SELECT count(*) FROM facts"), 6);
    s = fixture_open(true, 0);
    raw(s, id, T0, T0 + 2 * HOUR, &got);
    static const struct {
        int64_t ts;
        const char *facts;
    } want[] = {
        {T0 + 1 * MIN, NULL},
        {T0 + 90000, "[\"late\"]"},
        {T0 + 2 * MIN, ""},
        {T0 + 3 * MIN, "[\"first\"]"},
        {T0 + 3 * MIN, ""},
        {T0 + 3 * MIN, "[\"third\"]"},
        {T0 + HOUR + MIN, "[\"next hour\"]"},
    };
    assert_int_equal(got.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < got.n; i++) {
        assert_int_equal(got.r[i].ts_ms, want[i].ts);
        assert_string_equal(got.r[i].facts, want[i].facts ? want[i].facts : dns_facts);
        /* The store's flag never shows; the rest of the record is intact. */
        assert_int_equal(got.r[i].flags, YS_RF_HAS_VALUE);
        assert_true(got.r[i].value == (double)(got.r[i].ts_ms % 13));
    }
    raw(s, other, T0, T0 + HOUR, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.r[0].facts, "{\"other\":true}");
    /* A range that starts inside the hour still pairs correctly. */
    raw(s, id, T0 + 3 * MIN, T0 + 3 * MIN + 1, &got);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.r[0].facts, "[\"first\"]");
    assert_string_equal(got.r[1].facts, "");
    assert_string_equal(got.r[2].facts, "[\"third\"]");
    ys_store_close(s);
}

/* A flag set by a caller without facts writes no row; facts at the size
 * limit survive whole. */
static void test_flag_and_size(void **state)
{
    (void)state;
    static struct rows got;
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = id_of(s, "c");
    struct ys_result a = mk(id, T0, NULL), b = mk(id, T0 + MIN, NULL);
    a.flags |= YS_RF_FACTS_ROW;
    memset(b.facts, 'x', sizeof b.facts - 1);
    b.facts[0] = '"';
    b.facts[sizeof b.facts - 2] = '"';
    b.facts[sizeof b.facts - 1] = '\0';
    struct ys_result in[] = {a, b};
    append(s, in, 2);
    raw(s, id, T0, T0 + HOUR, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.r[0].facts, "");
    assert_int_equal(got.r[0].flags, YS_RF_HAS_VALUE);
    assert_string_equal(got.r[1].facts, b.facts);
    ys_store_close(s);
    assert_int_equal(scalar("SELECT count(*) FROM facts"), 1);
}

static void test_prune(void **state)
{
    (void)state;
    static struct rows got;
    struct ys_store *s = fixture_open(false, 2 * HOUR);
    uint32_t ids[2] = {id_of(s, "p1"), id_of(s, "p2")};
    /* 24 hours of one result per 10 minutes for two checks, p1 with facts. */
    for (int h = 0; h < 24; h++) {
        struct ys_result r[12];
        for (int k = 0; k < 12; k++) {
            char f[32];
            snprintf(f, sizeof f, "[%d]", h * 6 + k / 2);
            r[k] = mk(ids[k % 2], T0 + h * HOUR + (k / 2) * 10 * MIN, k % 2 ? NULL : f);
        }
        append(s, r, 12);
    }
    assert_int_equal(scalar("SELECT count(*) FROM facts"), 24 * 6);
    /* Now is 23:30, so the cutoff (2 h) falls inside hour 21, whose chunk
     * stays (its last result is newer) while its first facts go. */
    int64_t now = T0 + 23 * HOUR + 30 * MIN;
    int64_t cutoff = now - 2 * HOUR;
    struct ys_err err = {{0}};
    int deleted, sum = 0;
    do {
        assert_int_equal(s->type->prune(s, now, 5, &deleted, &err), 0);
        sum += deleted;
    } while (deleted == 5);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM facts WHERE ts_ms < %lld", (long long)cutoff);
    assert_int_equal(scalar(sql), 0);
    /* 21:30 .. 23:50 are left: 15 rows. */
    assert_int_equal(scalar("SELECT count(*) FROM facts"), 15);
    raw(s, ids[0], 0, now + HOUR, &got);
    assert_int_equal(got.n, 18); /* hours 21..23, whole chunks */
    for (size_t i = 0; i < got.n; i++) {
        char want[32] = "";
        if (got.r[i].ts_ms >= cutoff)
            snprintf(want, sizeof want, "[%lld]", (long long)((got.r[i].ts_ms - T0) / (10 * MIN)));
        assert_string_equal(got.r[i].facts, want);
    }
    raw(s, ids[1], 0, now + HOUR, &got);
    assert_int_equal(got.n, 18);
    for (size_t i = 0; i < got.n; i++)
        assert_string_equal(got.r[i].facts, "");
    /* Writing after a prune pairs as before, here with a second result in
     * the millisecond of 23:30's. */
    struct ys_result r = mk(ids[0], now, "[\"after\"]");
    append(s, &r, 1);
    raw(s, ids[0], now, now + 1, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.r[0].facts, "[141]");
    assert_string_equal(got.r[1].facts, "[\"after\"]");
    /* 2 checks x 21 chunks, and the facts of 21 hours and a half. */
    assert_int_equal(sum, 2 * 21 + 21 * 6 + 3);
    ys_store_close(s);
}

static void test_migration_from_3(void **state)
{
    (void)state;
    static struct rows got;
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = id_of(s, "old");
    struct ys_result r = mk(id, T0, NULL);
    append(s, &r, 1);
    ys_store_close(s);
    assert_int_equal(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 4);
    /* Make it a version 3 database, as the last release wrote them. */
    exec("DROP TABLE facts; UPDATE meta SET value = 3 WHERE key = 'schema_version';");
    struct ys_store_options opt = {.path = path, .read_only = true};
    struct ys_err err = {{0}};
    s = NULL;
    assert_int_equal(ys_store_open("sqlite", &opt, &s, &err), YS_ESTORE);
    assert_non_null(strstr(err.msg, "schema version 3, expected 4"));
    /* A read-write open migrates in place; old results read back as before. */
    s = fixture_open(false, 0);
    struct ys_result with = mk(id, T0 + MIN, "[1]");
    append(s, &with, 1);
    raw(s, id, T0, T0 + HOUR, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.r[0].facts, "");
    assert_string_equal(got.r[1].facts, "[1]");
    ys_store_close(s);
    assert_int_equal(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 4);
    assert_int_equal(scalar("SELECT count(*) FROM sqlite_master WHERE name = 'facts_check'"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flag_and_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_3, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
