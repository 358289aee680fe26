/*
 * test_store_outbox.c - alert records and the notification outbox in the
 * SQLite store: notify_commit writes alerts and rows together (or neither,
 * when it fails half way), ids increase across commits and are never
 * reused after pruning, outbox_pending keeps a notifier's rows in id order,
 * outbox_update moves a row on, outbox_log reads newest first, outbox_heads
 * gives each alert key's first pending row (any number of rows behind it)
 * soonest due first, outbox_next an alert's next row within a window,
 * outbox_count_pending counts them all, outbox_notifier_heads finds every
 * notifier with pending rows however old, query_alerts
 * returns the firing and the recently resolved, pruning spares pending rows
 * and firing alerts, and all of it survives reopen and reads read-only.
 * Also the schema migration from version 2.
 *
 * Each test works in its own temporary folder.
 */
#include "core/err.h"
#include "store/store.h"

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
#define DAY (24 * 60 * MIN)

static int setup(void **state)
{
    (void)state;
    return fixture_setup("");
}

/* ---- helpers ---- */

static struct ys_alert_record alert(const char *key, bool firing, int64_t firing_ms,
                                    int64_t resolved_ms, const char *doc)
{
    struct ys_alert_record a;
    memset(&a, 0, sizeof a);
    snprintf(a.key, sizeof a.key, "%s", key);
    a.firing = firing;
    a.firing_ms = firing_ms;
    a.resolved_ms = resolved_ms;
    a.last_notified_ms = firing_ms;
    a.doc = doc;
    return a;
}

static struct ys_outbox_row row(const char *notifier, const char *key, int64_t created,
                                const char *payload)
{
    struct ys_outbox_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.notifier, sizeof r.notifier, "%s", notifier);
    snprintf(r.alert_key, sizeof r.alert_key, "%s", key);
    r.created_ms = created;
    r.next_attempt_ms = created;
    r.state = YS_OUTBOX_PENDING;
    r.payload = payload;
    return r;
}

static void commit(struct ys_store *s, const struct ys_alert_record *a, size_t na,
                   struct ys_outbox_row *rows, size_t nr)
{
    struct ys_err err = {{0}};
    if (s->type->notify_commit(s, a, na, rows, nr, &err) < 0)
        fail_msg("notify_commit: %s", err.msg);
}

/* Rows and alerts as read back, payloads and docs copied. */
#define GOT_MAX 32
struct got_rows {
    struct ys_outbox_row v[GOT_MAX];
    char payload[GOT_MAX][128];
    size_t n;
};

static int collect_row(const struct ys_outbox_row *r, void *arg)
{
    struct got_rows *g = arg;
    if (g->n < GOT_MAX) {
        g->v[g->n] = *r;
        snprintf(g->payload[g->n], sizeof g->payload[g->n], "%s",
                 r->payload ? r->payload : "(null)");
        g->v[g->n].payload = g->payload[g->n];
        g->n++;
    }
    return 0;
}

static struct got_rows *pending(struct ys_store *s, const char *notifier, size_t max)
{
    static struct got_rows g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->outbox_pending(s, notifier, max, collect_row, &g, &err) < 0)
        fail_msg("outbox_pending: %s", err.msg);
    return &g;
}

static struct got_rows *logged(struct ys_store *s, int64_t since, size_t max)
{
    static struct got_rows g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->outbox_log(s, since, max, collect_row, &g, &err) < 0)
        fail_msg("outbox_log: %s", err.msg);
    return &g;
}

static struct got_rows *heads(struct ys_store *s, const char *notifier, size_t max)
{
    static struct got_rows g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->outbox_heads(s, notifier, max, collect_row, &g, &err) < 0)
        fail_msg("outbox_heads: %s", err.msg);
    return &g;
}

static struct got_rows *next(struct ys_store *s, const char *notifier, const char *key,
                             int64_t after, size_t window)
{
    static struct got_rows g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->outbox_next(s, notifier, key, after, window, collect_row, &g, &err) < 0)
        fail_msg("outbox_next: %s", err.msg);
    return &g;
}

static uint64_t count_pending(struct ys_store *s, const char *notifier)
{
    uint64_t n = UINT64_MAX;
    struct ys_err err = {{0}};
    if (s->type->outbox_count_pending(s, notifier, &n, &err) < 0)
        fail_msg("outbox_count_pending: %s", err.msg);
    return n;
}

static struct got_rows *notifier_heads(struct ys_store *s)
{
    static struct got_rows g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->outbox_notifier_heads(s, collect_row, &g, &err) < 0)
        fail_msg("outbox_notifier_heads: %s", err.msg);
    return &g;
}

struct got_alerts {
    struct ys_alert_record v[GOT_MAX];
    char doc[GOT_MAX][128];
    size_t n;
};

static int collect_alert(const struct ys_alert_record *a, void *arg)
{
    struct got_alerts *g = arg;
    if (g->n < GOT_MAX) {
        g->v[g->n] = *a;
        snprintf(g->doc[g->n], sizeof g->doc[g->n], "%s", a->doc ? a->doc : "(null)");
        g->v[g->n].doc = g->doc[g->n];
        g->n++;
    }
    return 0;
}

static struct got_alerts *alerts(struct ys_store *s, int64_t resolved_since)
{
    static struct got_alerts g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->query_alerts(s, resolved_since, collect_alert, &g, &err) < 0)
        fail_msg("query_alerts: %s", err.msg);
    return &g;
}

static void exec(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

static int64_t scalar(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* ---- tests ---- */

static void test_commit_pending_update(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    struct ys_alert_record a[] = {
        alert("down/api", true, T0, 0, "{\"rule\":\"down\"}"),
        alert("burn/web", true, T0 + MIN, 0, NULL),
    };
    struct ys_outbox_row r1[] = {
        row("hook", "down/api", T0, "{\"n\":1}"),
        row("mail", "down/api", T0, "{\"n\":2}"),
        row("hook", "burn/web", T0 + MIN, NULL),
    };
    commit(s, a, 2, r1, 3);
    assert_true(r1[0].id > 0);
    assert_true(r1[0].id < r1[1].id && r1[1].id < r1[2].id);
    struct ys_outbox_row r2[] = {row("hook", "down/api", T0 + 2 * MIN, "{\"n\":4}")};
    commit(s, NULL, 0, r2, 1);
    assert_true(r2[0].id > r1[2].id);
    commit(s, NULL, 0, NULL, 0); /* nothing to do is fine */

    /* Pending: one notifier's rows, lowest id first, at most max. */
    struct got_rows *g = pending(s, "hook", 0);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->v[0].id, r1[0].id);
    assert_int_equal(g->v[1].id, r1[2].id);
    assert_int_equal(g->v[2].id, r2[0].id);
    assert_string_equal(g->v[0].alert_key, "down/api");
    assert_string_equal(g->v[0].payload, "{\"n\":1}");
    assert_string_equal(g->v[1].payload, "(null)");
    assert_int_equal(g->v[0].state, YS_OUTBOX_PENDING);
    assert_int_equal(pending(s, "hook", 2)->n, 2);
    assert_int_equal(pending(s, "mail", 10)->n, 1);
    assert_int_equal(pending(s, "pager", 10)->n, 0);

    /* A failed attempt stays pending with its new fields; a delivery leaves. */
    struct ys_outbox_row u = r1[0];
    u.attempts = 1;
    u.next_attempt_ms = T0 + 5 * MIN;
    snprintf(u.last_error, sizeof u.last_error, "%s", "http 502");
    struct ys_err err = {{0}};
    assert_int_equal(s->type->outbox_update(s, &u, &err), 0);
    g = pending(s, "hook", 1);
    assert_int_equal(g->v[0].attempts, 1);
    assert_int_equal(g->v[0].next_attempt_ms, T0 + 5 * MIN);
    assert_string_equal(g->v[0].last_error, "http 502");
    u.attempts = 2;
    u.state = YS_OUTBOX_DELIVERED;
    u.done_ms = T0 + 5 * MIN;
    u.last_error[0] = '\0';
    assert_int_equal(s->type->outbox_update(s, &u, &err), 0);
    g = pending(s, "hook", 0);
    assert_int_equal(g->n, 2);
    assert_int_equal(g->v[0].id, r1[2].id);
    u.id = r2[0].id + 100;
    assert_int_equal(s->type->outbox_update(s, &u, &err), YS_ENOTFOUND);

    /* The alerts went in with the rows. */
    struct got_alerts *ga = alerts(s, INT64_MAX);
    assert_int_equal(ga->n, 2);
    assert_string_equal(ga->v[0].key, "down/api");
    assert_string_equal(ga->v[0].doc, "{\"rule\":\"down\"}");
    assert_string_equal(ga->v[1].doc, "(null)");
    ys_store_close(s);
}

static void test_log(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    struct ys_outbox_row r[] = {
        row("hook", "a", T0 + 3 * MIN, "3"),
        row("hook", "b", T0, "0"),
        row("mail", "a", T0 + 3 * MIN, "3b"),
        row("hook", "c", T0 + MIN, "1"),
    };
    commit(s, NULL, 0, r, 2);
    commit(s, NULL, 0, r + 2, 2);
    r[1].state = YS_OUTBOX_GIVEN_UP;
    r[1].done_ms = T0 + 10 * MIN;
    struct ys_err err = {{0}};
    assert_int_equal(s->type->outbox_update(s, &r[1], &err), 0);
    ys_store_close(s);

    s = fixture_open(true, 0); /* the API reads the log read-only */
    struct got_rows *g = logged(s, 0, 0);
    assert_int_equal(g->n, 4);
    /* Newest created first; equal times newest id first; any state. */
    assert_string_equal(g->v[0].payload, "3b");
    assert_string_equal(g->v[1].payload, "3");
    assert_string_equal(g->v[2].payload, "1");
    assert_string_equal(g->v[3].payload, "0");
    assert_int_equal(g->v[3].state, YS_OUTBOX_GIVEN_UP);
    assert_int_equal(g->v[3].done_ms, T0 + 10 * MIN);
    g = logged(s, T0 + MIN, 0); /* since is inclusive */
    assert_int_equal(g->n, 3);
    assert_string_equal(g->v[2].payload, "1");
    g = logged(s, 0, 2);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->v[1].payload, "3");
    assert_int_equal(logged(s, T0 + 3 * MIN + 1, 0)->n, 0);
    /* Read-only refuses writes. */
    assert_int_not_equal(s->type->notify_commit(s, NULL, 0, r, 1, &err), 0);
    assert_int_not_equal(s->type->outbox_update(s, &r[0], &err), 0);
    ys_store_close(s);
}

static void test_alerts(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    struct ys_alert_record a[] = {
        alert("c/firing-late", true, T0 + 5 * MIN, 0, "{\"c\":1}"),
        alert("a/resolved-old", false, T0, T0 + MIN, "{\"a\":1}"),
        alert("b/resolved-new", false, T0 + 2 * MIN, T0 + 10 * MIN, "{\"b\":1}"),
        alert("d/firing-early", true, T0 + MIN, 0, "{\"d\":1}"),
    };
    commit(s, a, 4, NULL, 0);
    struct got_alerts *g = alerts(s, T0 + 10 * MIN);
    assert_int_equal(g->n, 3);                          /* resolved_since is inclusive */
    assert_string_equal(g->v[0].key, "d/firing-early"); /* oldest firing_ms first */
    assert_string_equal(g->v[1].key, "b/resolved-new");
    assert_false(g->v[1].firing);
    assert_int_equal(g->v[1].resolved_ms, T0 + 10 * MIN);
    assert_string_equal(g->v[2].key, "c/firing-late");
    assert_true(g->v[2].firing);
    assert_string_equal(g->v[2].doc, "{\"c\":1}");
    assert_int_equal(alerts(s, T0 + 10 * MIN + 1)->n, 2); /* the firing only */
    assert_int_equal(alerts(s, 0)->n, 4);

    /* Replace by key: d resolves, c is notified again. */
    struct ys_alert_record upd[] = {
        alert("d/firing-early", false, T0 + MIN, T0 + 20 * MIN, "{\"d\":2}"),
        alert("c/firing-late", true, T0 + 5 * MIN, 0, "{\"c\":2}"),
    };
    upd[1].last_notified_ms = T0 + 30 * MIN;
    commit(s, upd, 2, NULL, 0);
    ys_store_close(s);
    s = fixture_open(true, 0);
    g = alerts(s, T0 + 20 * MIN);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->v[0].key, "d/firing-early");
    assert_string_equal(g->v[0].doc, "{\"d\":2}");
    assert_false(g->v[0].firing);
    assert_int_equal(g->v[1].last_notified_ms, T0 + 30 * MIN);
    assert_string_equal(g->v[1].doc, "{\"c\":2}");
    assert_int_equal(alerts(s, 0)->n, 4);
    ys_store_close(s);
}

/* A commit that fails half way leaves neither its alerts nor its rows. */
static void test_commit_atomic(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    struct ys_outbox_row first[] = {row("hook", "x", T0, "first")};
    commit(s, NULL, 0, first, 1);
    /* The store's own schema cannot refuse a row, so a trigger does. */
    exec("CREATE TRIGGER refuse BEFORE INSERT ON outbox WHEN NEW.notifier = 'boom'"
         " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
    struct ys_alert_record a[] = {alert("new/alert", true, T0, 0, "{}")};
    struct ys_outbox_row r[] = {row("hook", "new/alert", T0 + MIN, "ok"),
                                row("boom", "new/alert", T0 + MIN, "bad")};
    struct ys_err err = {{0}};
    assert_int_not_equal(s->type->notify_commit(s, a, 1, r, 2, &err), 0);
    assert_non_null(strstr(err.msg, "refused by the test"));
    assert_int_equal(r[0].id, 0);
    assert_int_equal(r[1].id, 0);
    struct ys_store *ro = fixture_open(true, 0);
    assert_int_equal(alerts(ro, 0)->n, 0);
    assert_int_equal(logged(ro, 0, 0)->n, 1);
    /* The connection is usable afterwards, and a good commit shows whole. */
    r[1] = row("mail", "new/alert", T0 + MIN, "ok2");
    commit(s, a, 1, r, 2);
    assert_true(r[0].id > first[0].id && r[1].id > r[0].id);
    assert_int_equal(alerts(ro, 0)->n, 1);
    assert_int_equal(logged(ro, 0, 0)->n, 3);
    ys_store_close(ro);
    ys_store_close(s);
}

static void test_prune_and_ids(void **state)
{
    (void)state;
    int64_t now = T0 + 10 * DAY;
    struct ys_store *s = fixture_open(false, DAY);
    struct ys_alert_record a[] = {
        alert("firing/old", true, T0, 0, "{}"),             /* kept: firing */
        alert("resolved/old", false, T0, T0 + MIN, "{}"),   /* pruned */
        alert("resolved/edge", false, T0, now - DAY, "{}"), /* kept: not older */
        alert("resolved/new", false, T0, now - MIN, "{}"),  /* kept */
    };
    struct ys_outbox_row r[] = {
        row("hook", "k", T0, "pending/old"),      /* kept: pending, however old */
        row("hook", "k", T0, "delivered/old"),    /* pruned */
        row("hook", "k", T0, "given-up/old"),     /* pruned */
        row("hook", "k", T0, "delivered/recent"), /* kept: done within a day */
        row("hook", "k", now - MIN, "pending/new"),
        row("mail", "k", T0 + MIN, "delivered/last-id"), /* pruned: the highest id */
    };
    commit(s, a, 4, r, 6);
    int64_t max_id = r[5].id;
    struct {
        size_t i;
        uint8_t state;
        int64_t done;
    } done[] = {
        {1, YS_OUTBOX_DELIVERED, T0 + MIN},
        {2, YS_OUTBOX_GIVEN_UP, now - DAY - 1},
        {3, YS_OUTBOX_DELIVERED, now - DAY + 1},
        {5, YS_OUTBOX_DELIVERED, T0 + 2 * MIN},
    };
    struct ys_err err = {{0}};
    for (size_t i = 0; i < sizeof done / sizeof done[0]; i++) {
        r[done[i].i].state = done[i].state;
        r[done[i].i].done_ms = done[i].done;
        assert_int_equal(s->type->outbox_update(s, &r[done[i].i], &err), 0);
    }
    /* Budget 2: 3 outbox rows + 1 alert go in calls of 2, 2, 0. */
    int total = 0, deleted, calls = 0;
    do {
        assert_int_equal(s->type->prune(s, now, 2, &deleted, &err), 0);
        assert_true(deleted <= 2);
        total += deleted;
        calls++;
    } while (deleted == 2 && calls < 20);
    assert_int_equal(total, 4);
    ys_store_close(s);

    s = fixture_open(false, DAY); /* reopen keeps what was left */
    struct got_rows *g = logged(s, 0, 0);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->v[0].payload, "pending/new");
    assert_string_equal(g->v[1].payload, "delivered/recent"); /* same created: id desc */
    assert_string_equal(g->v[2].payload, "pending/old");
    struct got_alerts *ga = alerts(s, 0);
    assert_int_equal(ga->n, 3);
    assert_string_equal(ga->v[0].key, "firing/old");
    assert_string_equal(ga->v[1].key, "resolved/edge");
    assert_string_equal(ga->v[2].key, "resolved/new");
    /* The highest id was pruned: the next one is still higher. */
    struct ys_outbox_row next[] = {row("mail", "k", now, "after prune")};
    commit(s, NULL, 0, next, 1);
    assert_true(next[0].id > max_id);
    ys_store_close(s);
    assert_int_equal(scalar("SELECT count(*) FROM outbox WHERE id <= 6"), 3);
}

static void test_migration_from_2(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    struct ys_incident inc = {.check_id = 3, .start_ms = T0, .end_ms = 0};
    snprintf(inc.first_error, sizeof inc.first_error, "%s", "before v3");
    struct ys_err err = {{0}};
    assert_int_equal(s->type->put_incident(s, &inc, &err), 0);
    ys_store_close(s);
    assert_int_equal(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 4);
    /* Make it a version 2 database, as the last release wrote them (sqlite_sequence
     * cannot be dropped; emptied, it is what a v2 file lacks in effect). */
    exec("DROP TABLE ping; DROP TABLE alert; DROP TABLE outbox; DELETE FROM sqlite_sequence;"
         "UPDATE meta SET value = 2 WHERE key = 'schema_version';");
    assert_int_equal(scalar("SELECT count(*) FROM sqlite_master WHERE name = 'outbox'"), 0);
    /* A read-only open does not migrate: it refuses. */
    struct ys_store_options opt = {.path = path, .read_only = true};
    s = NULL;
    assert_int_equal(ys_store_open("sqlite", &opt, &s, &err), YS_ESTORE);
    assert_non_null(strstr(err.msg, "schema version 2, expected 4"));
    /* A read-write open migrates in place and keeps the old data. */
    s = fixture_open(false, 0);
    struct ys_outbox_row r[] = {row("hook", "k", T0, "{}")};
    commit(s, NULL, 0, r, 1);
    assert_int_equal(r[0].id, 1);
    ys_store_close(s);
    assert_int_equal(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 4);
    static const char *const objects[] = {
        "ping", "ping_check", "alert", "alert_state", "outbox", "outbox_pending", "outbox_created"};
    char sql[128];
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
                 objects[i]);
        if (scalar(sql) != 1)
            fail_msg("%s missing after the migration", objects[i]);
    }
    assert_int_equal(scalar("SELECT count(*) FROM incident WHERE first_error = 'before v3'"), 1);
    s = fixture_open(true, 0);
    assert_int_equal(logged(s, 0, 0)->n, 1);
    ys_store_close(s);
}

static void set_state(struct ys_store *s, struct ys_outbox_row *r, uint8_t state)
{
    r->state = state;
    r->done_ms = r->created_ms + 1;
    struct ys_err err = {{0}};
    if (s->type->outbox_update(s, r, &err) < 0)
        fail_msg("outbox_update: %s", err.msg);
}

/* Heads: each alert key's first pending row, soonest due first, whatever
 * number of rows an earlier key has; the pending count is exact; next
 * finds an alert's next row within its window. */
static void test_heads_next_count(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    enum { BAD = 400 }; /* more than any one read of pending rows */
    struct ys_outbox_row *r = calloc(BAD + 6, sizeof *r);
    for (size_t i = 0; i < BAD; i++)
        r[i] = row("hook", "bad", T0 + (int64_t)i, "bad");
    r[BAD] = row("hook", "b", T0 + BAD, "b1");
    r[BAD + 1] = row("mail", "a", T0 + BAD, "mail-a");
    r[BAD + 2] = row("hook", "a", T0 + BAD + 1, "a1");
    r[BAD + 3] = row("hook", "b", T0 + BAD + 2, "b2");
    r[BAD + 4] = row("hook", "a", T0 + BAD + 3, "a2");
    r[BAD + 5] = row("hook", "c", T0 + BAD + 4, "c1");
    commit(s, NULL, 0, r, BAD + 6);
    struct got_rows *g = heads(s, "hook", 0);
    assert_int_equal(g->n, 4);
    assert_int_equal(g->v[0].id, r[0].id); /* bad's first */
    assert_string_equal(g->v[1].payload, "b1");
    assert_string_equal(g->v[2].payload, "a1");
    assert_string_equal(g->v[3].payload, "c1");
    assert_string_equal(g->v[3].alert_key, "c");
    assert_int_equal(heads(s, "hook", 2)->n, 2);
    assert_int_equal(heads(s, "pager", 0)->n, 0);
    assert_int_equal(count_pending(s, "hook"), BAD + 5);
    assert_int_equal(count_pending(s, "mail"), 1);
    assert_int_equal(count_pending(s, "pager"), 0);

    /* bad's head failed and waits: the heads due sooner come first. */
    struct ys_outbox_row u = r[0];
    u.attempts = 1;
    u.next_attempt_ms = T0 + DAY;
    struct ys_err err = {{0}};
    assert_int_equal(s->type->outbox_update(s, &u, &err), 0);
    g = heads(s, "hook", 0);
    assert_string_equal(g->v[0].payload, "b1");
    assert_string_equal(g->v[3].payload, "bad");
    assert_int_equal(g->v[3].attempts, 1);
    g = heads(s, "hook", 3); /* the cut leaves out the one in backoff */
    assert_int_equal(g->n, 3);
    assert_string_equal(g->v[2].payload, "c1");

    /* next: an alert's next row after an id; a key's first from 0. */
    g = next(s, "hook", "a", r[BAD + 2].id, 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->v[0].payload, "a2");
    assert_string_equal(next(s, "hook", "a", 0, 0)->v[0].payload, "a1");
    assert_string_equal(next(s, "hook", "bad", r[7].id, 0)->v[0].payload, "bad");
    assert_int_equal(next(s, "hook", "bad", r[7].id, 0)->v[0].id, r[8].id);
    assert_int_equal(next(s, "hook", "c", r[BAD + 5].id, 0)->n, 0); /* c's last */
    assert_int_equal(next(s, "hook", "zzz", 0, 0)->n, 0);
    assert_int_equal(next(s, "mail", "b", 0, 0)->n, 0); /* another notifier's */
    /* The window counts the notifier's pending rows after the id: a is
     * 402nd of hook's, so a window of 401 from the start misses it. */
    assert_int_equal(next(s, "hook", "a", 0, BAD + 1)->n, 0);
    assert_int_equal(next(s, "hook", "a", 0, BAD + 2)->n, 1);
    assert_int_equal(next(s, "hook", "a", r[BAD].id, 1)->n, 1);

    /* Done rows are not pending: a2 is a's head once a1 is delivered. */
    struct ys_outbox_row d = r[BAD + 2];
    d.state = YS_OUTBOX_DELIVERED;
    d.done_ms = T0 + DAY;
    assert_int_equal(s->type->outbox_update(s, &d, &err), 0);
    g = heads(s, "hook", 0);
    assert_int_equal(g->n, 4);
    assert_string_equal(g->v[1].payload, "a2");
    assert_string_equal(next(s, "hook", "a", 0, 0)->v[0].payload, "a2");
    assert_int_equal(count_pending(s, "hook"), BAD + 4);
    free(r);
    ys_store_close(s);
    /* Reads work read-only. */
    s = fixture_open(true, 0);
    assert_int_equal(heads(s, "hook", 0)->n, 4);
    assert_int_equal(next(s, "hook", "b", 0, 0)->n, 1);
    assert_int_equal(count_pending(s, "hook"), BAD + 4);
    ys_store_close(s);
}

/* Every notifier with a pending row, found by SQL however old the row is
 * and however many rows came after it. */
static void test_notifier_heads(void **state)
{
    (void)state;
    struct ys_store *s = fixture_open(false, 0);
    assert_int_equal(notifier_heads(s)->n, 0); /* an empty outbox */
    struct ys_outbox_row first[] = {
        row("gone", "k", T0, "gone-1"),
        row("hook", "k", T0, "hook-1"),
        row("gone", "k", T0 + MIN, "gone-2"),
        row("done", "k", T0, "done-1"),
    };
    commit(s, NULL, 0, first, 4);
    set_state(s, &first[3], YS_OUTBOX_DELIVERED);
    enum { N = 12000 }; /* newer than the old rows, more than a log page */
    struct ys_outbox_row *r = calloc(N, sizeof *r);
    for (size_t i = 0; i < N; i++) {
        r[i] = row("hook", "k", T0 + DAY + (int64_t)i, "x");
        r[i].state = YS_OUTBOX_DELIVERED;
    }
    commit(s, NULL, 0, r, N);
    free(r);
    struct got_rows *g = notifier_heads(s);
    assert_int_equal(g->n, 2); /* "done" has nothing pending */
    assert_string_equal(g->v[0].notifier, "gone");
    assert_string_equal(g->v[0].payload, "gone-1");
    assert_int_equal(g->v[0].created_ms, T0);
    assert_string_equal(g->v[1].notifier, "hook");
    assert_string_equal(g->v[1].payload, "hook-1");
    set_state(s, &first[0], YS_OUTBOX_GIVEN_UP);
    g = notifier_heads(s);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->v[0].payload, "gone-2");
    set_state(s, &first[2], YS_OUTBOX_GIVEN_UP);
    set_state(s, &first[1], YS_OUTBOX_DELIVERED);
    assert_int_equal(notifier_heads(s)->n, 0);
    ys_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_pending_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heads_next_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifier_heads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_2, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
