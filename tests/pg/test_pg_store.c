/*
 * test_pg_store.c - what the PostgreSQL store must do that the shared
 * store tests (run again against it as pg/test_store*) cannot check,
 * because they look inside the SQLite file for it:
 *
 * - results' facts round trip (several results in one millisecond, a
 *   reopen between batches, a late result, another hour) and their rows
 *   pruned with raw retention;
 * - a read-only open of an empty schema: YS_ENOTFOUND, nothing created;
 * - four writers opening a fresh schema at once: one migration, all open;
 * - a schema newer than the code refused;
 * - errors name user@host:port/db and never the password;
 * - notify_commit all or nothing (a trigger refuses one row), outbox ids
 *   increasing and never reused after pruning;
 * - a writer whose connection was killed reconnects on its next batch;
 * - one batch over many checks (the multi-row writes), rollups exact;
 * - query_raw over more chunks than one page, in order, and stopping;
 * - texts with quotes and SQL in them stored verbatim;
 * - the storage section: kind postgres with dsn (from the environment),
 *   and its errors at FILE:LINE:COL.
 *
 * Needs YS_TEST_PG_DSN (CTest's pg/test_pg_store sets it from
 * tests/pg/setup.sh); each test runs in a fresh schema (store_fixture.h).
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "core/result.h"
#include "slo/sketch.h"
#include "store/pg_int.h"
#include "store/store.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "store_fixture.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)

static int setup(void **state)
{
    (void)state;
    if (!fixture_pg_dsn())
        fail_msg("YS_TEST_PG_DSN is not set (run through ctest -L pg)");
    return fixture_setup("");
}

/* One value from the test's schema, through its own connection. */
static int64_t scalar(const char *sql)
{
    PGconn *c = PQconnectdb(path);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    int64_t v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(c);
    return v;
}

static void exec_sql(const char *sql)
{
    PGconn *c = PQconnectdb(path);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
}

static uint32_t id_of(struct ys_store *s, const char *name)
{
    uint32_t id = 0;
    struct ys_err err = {{0}};
    if (s->type->check_id(s, name, &id, &err) < 0)
        fail_msg("check_id: %s", err.msg);
    return id;
}

static void append(struct ys_store *s, const struct ys_result *r, size_t n)
{
    struct ys_err err = {{0}};
    if (s->type->append(s, r, n, &err) < 0)
        fail_msg("append: %s", err.msg);
}

struct rows {
    struct ys_result r[64];
    size_t n;
};

static int collect(const struct ys_result *r, void *arg)
{
    struct rows *rows = arg;
    if (rows->n < 64)
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
    if (facts)
        snprintf(r.facts, sizeof r.facts, "%s", facts);
    return r;
}

static void test_facts(void **state)
{
    (void)state;
    static struct rows got;
    struct ys_store *s = fixture_open(false, 2 * HOUR);
    uint32_t id = id_of(s, "dns"), other = id_of(s, "other");
    struct ys_result in[] = {
        mk(id, T0 + 1 * MIN, "{\"a\":1}"),   mk(id, T0 + 2 * MIN, NULL),
        mk(id, T0 + 3 * MIN, "[\"first\"]"), mk(id, T0 + 3 * MIN, NULL),
        mk(id, T0 + 3 * MIN, "[\"third\"]"), mk(other, T0 + 3 * MIN, "{\"other\":true}"),
    };
    append(s, in, 3);
    ys_store_close(s); /* a reopen between batches */
    s = fixture_open(false, 2 * HOUR);
    append(s, in + 3, 3);
    struct ys_result late = mk(id, T0 + 90000, "[\"late\"]");
    append(s, &late, 1);
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
        {T0 + 1 * MIN, "{\"a\":1}"},
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
        assert_string_equal(got.r[i].facts, want[i].facts);
        assert_int_equal(got.r[i].flags & YS_RF_FACTS_ROW, 0);
    }
    raw(s, other, T0, T0 + HOUR, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.r[0].facts, "{\"other\":true}");
    ys_store_close(s);

    /* Raw retention 2h at T0 + 3h: the first hour's facts rows go. */
    s = fixture_open(false, 2 * HOUR);
    int deleted = 0, total = 0;
    struct ys_err err = {{0}};
    do {
        assert_int_equal(s->type->prune(s, T0 + 3 * HOUR, 2, &deleted, &err), 0);
        total += deleted;
    } while (deleted == 2);
    assert_int_equal(scalar("SELECT count(*) FROM facts"), 1);
    assert_int_equal(scalar("SELECT count(*) FROM chunk WHERE start_ms < "
                            "1767229200000"),
                     0);
    raw(s, id, T0, T0 + 2 * HOUR, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.r[0].facts, "[\"next hour\"]");
    assert_true(total >= 6);
    ys_store_close(s);
}

static void test_read_only_empty_schema(void **state)
{
    (void)state;
    struct ys_store_options opt = {.path = path, .read_only = true};
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_store_open("postgres", &opt, &s, &err), YS_ENOTFOUND);
    assert_null(s);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM information_schema.tables WHERE table_schema = '%s'",
             fixture_schema);
    assert_int_equal(scalar(sql), 0);
}

static void *open_close(void *arg)
{
    struct ys_store_options opt = {.path = path};
    struct ys_store *s = NULL;
    struct ys_err *err = arg;
    if (ys_store_open("postgres", &opt, &s, err) < 0)
        return (void *)1;
    ys_store_close(s);
    return NULL;
}

static void test_concurrent_migration(void **state)
{
    (void)state;
    pthread_t t[4];
    struct ys_err errs[4];
    memset(errs, 0, sizeof errs);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, open_close, &errs[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        if (rc)
            fail_msg("open %d: %s", i, errs[i].msg);
    }
    assert_int_equal(scalar("SELECT count(*) FROM yardstick_schema"), 1);
    assert_int_equal(scalar("SELECT max(version) FROM yardstick_schema"), 1);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    ys_store_close(fixture_open(false, 0));
    exec_sql("UPDATE yardstick_schema SET version = 99");
    struct ys_store_options opt = {.path = path};
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_store_open("postgres", &opt, &s, &err), YS_ESTORE);
    assert_non_null(strstr(err.msg, "newer"));
    opt.read_only = true;
    assert_int_equal(ys_store_open("postgres", &opt, &s, &err), YS_ESTORE);
    assert_non_null(strstr(err.msg, "schema version 99"));
}

static void test_errors_hide_password(void **state)
{
    (void)state;
    char dsn[600];
    snprintf(dsn, sizeof dsn, "%s password=sekrit dbname=no_such_db", fixture_pg_dsn());
    struct ys_store_options opt = {.path = dsn};
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    assert_true(ys_store_open("postgres", &opt, &s, &err) < 0);
    assert_non_null(strstr(err.msg, "no_such_db"));
    assert_non_null(strstr(err.msg, "127.0.0.1"));
    assert_null(strstr(err.msg, "sekrit"));
    /* An unreachable server: the same, and the open returns. */
    opt.path = "host=127.0.0.1 port=1 dbname=x password=sekrit connect_timeout=2";
    assert_true(ys_store_open("postgres", &opt, &s, &err) < 0);
    assert_non_null(strstr(err.msg, "127.0.0.1:1/x"));
    assert_null(strstr(err.msg, "sekrit"));
    /* A malformed string: libpq's parse error would quote the password. */
    static const char *const bad[] = {"host=127.0.0.1 password=sekrit oops",
                                      "host=127.0.0.1 password='sekrit",
                                      "postgresql://u:sekrit@127.0.0.1:5432/x?bogus_key=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        opt.path = bad[i];
        memset(&err, 0, sizeof err);
        assert_true(ys_store_open("postgres", &opt, &s, &err) < 0);
        assert_non_null(strstr(err.msg, "malformed connection string"));
        assert_null(strstr(err.msg, "sekrit"));
    }
}

/* The connection defaults (pg_open): keepalives and a statement timeout,
 * unless the connection string sets its own. */
static void show(struct ys_store *st, const char *sql, char *buf, size_t size)
{
    PGresult *res = PQexec(((struct pg_store *)st)->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    snprintf(buf, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

static void test_connection_defaults(void **state)
{
    (void)state;
    char v[64];
    struct ys_store *s = fixture_open(false, 0);
    show(s, "SHOW statement_timeout", v, sizeof v); /* the fixture's options= kept it */
    assert_string_equal(v, "1min");
    show(s, "SHOW search_path", v, sizeof v); /* and its own options */
    assert_string_equal(v, fixture_schema);
    show(s, "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()", v,
         sizeof v);
    assert_string_equal(v, "yardstick");
    int on = 0;
    socklen_t len = sizeof on;
    assert_int_equal(getsockopt(PQsocket(((struct pg_store *)s)->conn), SOL_SOCKET, SO_KEEPALIVE,
                                &on, &len),
                     0);
    assert_int_equal(on, 1);
    ys_store_close(s);
    /* A connection string with its own statement_timeout wins. */
    char dsn[700];
    snprintf(dsn, sizeof dsn, "%s options='-csearch_path=%s -c statement_timeout=1234'",
             fixture_pg_dsn(), fixture_schema);
    struct ys_store_options opt = {.path = dsn};
    struct ys_err err = {{0}};
    if (ys_store_open("postgres", &opt, &s, &err) < 0)
        fail_msg("open: %s", err.msg);
    show(s, "SHOW statement_timeout", v, sizeof v);
    assert_string_equal(v, "1234ms");
    ys_store_close(s);
}

static struct ys_outbox_row row(const char *notifier, const char *key, int64_t created)
{
    struct ys_outbox_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.notifier, sizeof r.notifier, "%s", notifier);
    snprintf(r.alert_key, sizeof r.alert_key, "%s", key);
    r.created_ms = r.next_attempt_ms = created;
    r.payload = "{\"x\":1}";
    return r;
}

static void test_commit_atomic_and_ids(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, HOUR);
    struct ys_err err = {{0}};
    exec_sql("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN"
             " RAISE EXCEPTION 'boom refused'; END $$ LANGUAGE plpgsql;"
             "CREATE TRIGGER refuse BEFORE INSERT ON outbox FOR EACH ROW"
             " WHEN (NEW.notifier = 'boom') EXECUTE FUNCTION refuse()");
    struct ys_alert_record a = {.key = "r/a", .firing = true, .firing_ms = T0, .doc = "{}"};
    struct ys_outbox_row rows[2] = {row("hook", "r/a", T0), row("boom", "r/a", T0)};
    assert_true(s->type->notify_commit(s, &a, 1, rows, 2, &err) < 0);
    assert_non_null(strstr(err.msg, "boom refused"));
    assert_int_equal(rows[0].id, 0);
    assert_int_equal(scalar("SELECT count(*) FROM outbox"), 0);
    assert_int_equal(scalar("SELECT count(*) FROM alert"), 0);

    struct ys_outbox_row ok[3] = {row("hook", "r/a", T0), row("hook", "r/b", T0),
                                  row("hook", "r/a", T0)};
    assert_int_equal(s->type->notify_commit(s, &a, 1, ok, 3, &err), 0);
    assert_true(ok[0].id > 0 && ok[1].id > ok[0].id && ok[2].id > ok[1].id);
    for (int i = 0; i < 3; i++) {
        ok[i].state = YS_OUTBOX_DELIVERED;
        ok[i].done_ms = T0 + MIN;
        assert_int_equal(s->type->outbox_update(s, &ok[i], &err), 0);
    }
    /* A resolved alert past raw retention goes with them; a firing one stays. */
    struct ys_alert_record old = {.key = "r/old", .firing_ms = T0, .resolved_ms = T0 + MIN};
    assert_int_equal(s->type->notify_commit(s, &old, 1, NULL, 0, &err), 0);
    assert_int_equal(scalar("SELECT count(*) FROM alert"), 2);
    int deleted = 0;
    assert_int_equal(s->type->prune(s, T0 + 3 * HOUR, 100, &deleted, &err), 0);
    assert_int_equal(deleted, 4);
    assert_int_equal(scalar("SELECT count(*) FROM outbox"), 0);
    assert_int_equal(scalar("SELECT count(*) FROM alert WHERE key = 'r/a'"), 1);
    assert_int_equal(scalar("SELECT count(*) FROM alert"), 1);
    struct ys_outbox_row more = row("hook", "r/c", T0 + 3 * HOUR);
    assert_int_equal(s->type->notify_commit(s, NULL, 0, &more, 1, &err), 0);
    assert_true(more.id > ok[2].id); /* never reused */
    ys_store_close(s);
}

static void test_reconnect(void **state)
{
    (void)state;
    char dsn[600], sql[200];
    snprintf(dsn, sizeof dsn, "%s application_name=ys_reconnect_%ld", path, (long)getpid());
    struct ys_store_options opt = {.path = dsn};
    struct ys_store *s = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_store_open("postgres", &opt, &s, &err), 0);
    uint32_t id = id_of(s, "c");
    struct ys_result r = mk(id, T0, NULL);
    append(s, &r, 1);
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE application_name = 'ys_reconnect_%ld'",
             (long)getpid());
    assert_int_equal(scalar(sql), 1);
    r.ts_ms = T0 + MIN;
    /* The batch in flight is lost (the caller retries it); the next works. */
    for (int i = 0; i < 50 && s->type->append(s, &r, 1, &err) < 0; i++)
        ;
    /* Killed again while idle: a read fails at most once, then reconnects. */
    assert_int_equal(scalar(sql), 1);
    static struct rows got;
    int failed = 0;
    got.n = 0;
    while (s->type->query_raw(s, id, T0, T0 + HOUR, collect, &got, &err) < 0 && failed < 3) {
        failed++;
        got.n = 0;
    }
    assert_true(failed <= 1);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.r[1].ts_ms, T0 + MIN);
    ys_store_close(s);
}

struct sum {
    uint64_t total, ok;
    double p50;
};

static int add_rollup(const struct ys_rollup *r, void *arg)
{
    struct sum *s = arg;
    s->total += r->total;
    s->ok += r->ok;
    s->p50 = ys_sketch_quantile(r->latency, 0.5);
    return 0;
}

static void test_batch_many_checks(void **state)
{
    (void)state;
    enum { CHECKS = 600, PER = 4 };
    struct ys_store *s = fixture_open(false, 0);
    static uint32_t ids[CHECKS];
    static struct ys_result batch[CHECKS * PER];
    char name[32];
    for (int i = 0; i < CHECKS; i++) {
        snprintf(name, sizeof name, "check-%d", i);
        ids[i] = id_of(s, name);
    }
    /* Two batches: the second appends to the chunks and merges into the
     * rollups the first wrote. */
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < CHECKS * PER; i++) {
            batch[i] = mk(ids[i % CHECKS], T0 + (b * PER + i / CHECKS) * 10000, NULL);
            batch[i].ok = (i / CHECKS) % 2 == 0;
            batch[i].duration_us = 1000 * (1 + i % CHECKS % 7);
        }
        append(s, batch, CHECKS * PER);
    }
    ys_store_close(s);
    assert_int_equal(scalar("SELECT count(*) FROM rollup"), 2 * CHECKS);
    assert_int_equal(scalar("SELECT count(*) FROM rollup_minute"), CHECKS);
    s = fixture_open(true, 0);
    struct ys_err err = {{0}};
    for (int i = 0; i < CHECKS; i += 97) {
        struct sum hour = {0}, minute = {0};
        assert_int_equal(
            s->type->query_rollups(s, ids[i], YS_RES_HOUR, T0, T0 + HOUR, add_rollup, &hour, &err),
            0);
        assert_int_equal(s->type->query_rollups(s, ids[i], YS_RES_MINUTE, T0, T0 + HOUR, add_rollup,
                                                &minute, &err),
                         0);
        assert_int_equal(hour.total, 2 * PER);
        assert_int_equal(hour.ok, PER);
        assert_int_equal(minute.total, 2 * PER);
        double want = 1000.0 * (1 + i % 7);
        assert_true(hour.p50 > want * 0.98 && hour.p50 < want * 1.02);
        static struct rows got;
        raw(s, ids[i], T0, T0 + HOUR, &got);
        assert_int_equal(got.n, 2 * PER);
    }
    ys_store_close(s);
}

static void test_texts_verbatim(void **state)
{
    (void)state;
    static const char *const nasty[] = {
        "it's down'); DROP TABLE chunk; --",
        "$1 $$ \\x00 \" quoted \" \\\\",
        "ünïcødé ✓",
    };
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = id_of(s, nasty[0]); /* a check name too */
    struct ys_result r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = mk(id, T0 + i * MIN, NULL);
        r[i].ok = false;
        snprintf(r[i].message, sizeof r[i].message, "%s", nasty[i]);
    }
    append(s, r, 3);
    ys_store_close(s);
    s = fixture_open(true, 0);
    assert_int_equal(id_of(s, nasty[0]), id);
    static struct rows got;
    raw(s, id, T0, T0 + HOUR, &got);
    assert_int_equal(got.n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(got.r[i].message, nasty[i]);
    ys_store_close(s);
}

/* Texts quoting what a server said reach the store through an incident's
 * first error and an outbox row's last error, past the writer's scrub:
 * PostgreSQL refuses invalid UTF-8, failing the whole transaction, so
 * pg_p_text binds a scrubbed copy ('?' per bad byte). */
static int last_incident(const struct ys_incident *inc, void *arg)
{
    *(struct ys_incident *)arg = *inc;
    return 0;
}

static int last_row(const struct ys_outbox_row *row, void *arg)
{
    struct ys_outbox_row *out = arg;
    *out = *row;
    out->payload = NULL;
    return 0;
}

static void test_invalid_utf8_scrubbed(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    struct ys_err err = {{0}};
    uint32_t id = id_of(s, "latin1");
    struct ys_incident inc = {.check_id = id, .start_ms = T0};
    snprintf(inc.first_error, sizeof inc.first_error, "caf\xe9 ferm\xe9 \xc3(");
    if (s->type->put_incident(s, &inc, &err) < 0)
        fail_msg("put_incident: %s", err.msg);
    struct ys_outbox_row r = row("hook", "k\xff", T0);
    snprintf(r.last_error, sizeof r.last_error, "HTTP 500: \xfe\xff body");
    if (s->type->notify_commit(s, NULL, 0, &r, 1, &err) < 0)
        fail_msg("notify_commit: %s", err.msg);
    snprintf(r.last_error, sizeof r.last_error, "r\xe9ponse \xed\xa0\x80 ok \xe2\x9c\x93");
    r.attempts = 1;
    if (s->type->outbox_update(s, &r, &err) < 0)
        fail_msg("outbox_update: %s", err.msg);
    ys_store_close(s);
    s = fixture_open(true, 0);
    struct ys_incident got = {0};
    if (s->type->query_incidents(s, id, T0 - HOUR, T0 + HOUR, last_incident, &got, &err) < 0)
        fail_msg("query_incidents: %s", err.msg);
    assert_string_equal(got.first_error, "caf? ferm? ?(");
    struct ys_outbox_row back;
    memset(&back, 0, sizeof back);
    if (s->type->outbox_pending(s, "hook", 10, last_row, &back, &err) < 0)
        fail_msg("outbox_pending: %s", err.msg);
    assert_int_equal(back.id, r.id);
    assert_int_equal(back.attempts, 1);
    assert_string_equal(back.alert_key, "k?");
    assert_string_equal(back.last_error, "r?ponse ??? ok \xe2\x9c\x93"); /* valid UTF-8 kept */
    ys_store_close(s);
}

struct walk {
    size_t n, stop_at;
    int64_t last;
    bool ordered;
};

static int walk_cb(const struct ys_result *r, void *arg)
{
    struct walk *w = arg;
    w->ordered = w->ordered && r->ts_ms > w->last;
    w->last = r->ts_ms;
    return ++w->n == w->stop_at;
}

static void test_raw_pages(void **state)
{
    (void)state;
    enum { HOURS = 300 };
    struct ys_store *s = fixture_open(false, 0);
    uint32_t id = id_of(s, "c");
    static struct ys_result r[HOURS];
    for (int h = 0; h < HOURS; h++)
        r[h] = mk(id, T0 + h * HOUR + 5 * MIN, NULL); /* one chunk per hour */
    append(s, r, HOURS / 2);
    append(s, r + HOURS / 2, HOURS - HOURS / 2);
    ys_store_close(s);
    assert_int_equal(scalar("SELECT count(*) FROM chunk"), HOURS);
    s = fixture_open(true, 0);
    struct ys_err err = {{0}};
    struct walk w = {0, 0, INT64_MIN, true};
    assert_int_equal(s->type->query_raw(s, id, T0, T0 + HOURS * HOUR, walk_cb, &w, &err), 0);
    assert_int_equal(w.n, HOURS);
    assert_true(w.ordered);
    /* From inside the range, stopping after 140 (past the first page). */
    w = (struct walk){0, 140, INT64_MIN, true};
    assert_int_equal(
        s->type->query_raw(s, id, T0 + 10 * HOUR, T0 + HOURS * HOUR, walk_cb, &w, &err), 0);
    assert_int_equal(w.n, 140);
    assert_int_equal(w.last, T0 + 149 * HOUR + 5 * MIN);
    ys_store_close(s);
}

/* Loads yaml; returns the config (or NULL) and the diagnostics printed
 * into out. */
static struct ys_config *load(const char *yaml, char *out, size_t size)
{
    struct ys_diag d;
    struct ys_config *c = NULL;
    ys_diag_init(&d, "t.yaml");
    ys_config_load_string(yaml, strlen(yaml), &c, &d);
    FILE *f = fmemopen(out, size, "w");
    ys_diag_print(&d, f);
    fclose(f);
    ys_diag_free(&d);
    return c;
}

static void test_config_storage(void **state)
{
    (void)state;
    char out[1024] = {0};
    setenv("YS_PG_TEST_DSN_VAR", "host=db.example dbname=ys user=ys", 1);
    struct ys_config *c = load("storage:\n  kind: postgres\n  dsn: \"${YS_PG_TEST_DSN_VAR}\"\n"
                               "checks: []\n",
                               out, sizeof out);
    assert_non_null(c);
    assert_string_equal(c->storage.kind, "postgres");
    assert_string_equal(c->storage.path, "host=db.example dbname=ys user=ys");
    ys_config_unref(c);
    static const struct {
        const char *yaml, *want;
    } bad[] = {
        {"storage: {kind: postgres}\n",
         "t.yaml:1:17: storage kind postgres needs dsn (a libpq connection string, such as "
         "\"${YARDSTICK_PG_DSN}\")\n"},
        {"storage:\n  kind: postgres\n  path: x.db\n  dsn: 'host=h'\n",
         "t.yaml:3:9: storage.path is for kind sqlite; kind postgres takes dsn\n"},
        {"storage:\n  dsn: 'host=h'\n",
         "t.yaml:2:8: storage.dsn is for kind postgres (add kind: postgres)\n"},
        {"storage: {kind: postgress, path: x}\n",
         "t.yaml:1:17: unknown storage kind 'postgress' (known: sqlite, postgres); did you "
         "mean 'postgres'?\n"},
        {"storage: {kind: postgres, dsn: ''}\n", "t.yaml:1:32: storage.dsn is empty\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(out, 0, sizeof out);
        assert_null(load(bad[i].yaml, out, sizeof out));
        assert_string_equal(out, bad[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_empty_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_hide_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_atomic_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_many_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_texts_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_scrubbed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_pages, setup, teardown),
        cmocka_unit_test(test_config_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
