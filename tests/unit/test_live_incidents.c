/*
 * test_live_incidents.c - live incident tracking fed results, written by a
 * real writer to a temporary store and read back with query_incidents:
 * per-check thresholds from the config, flapping below the threshold,
 * reloads that keep state, removed checks, and resuming after a restart.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "live/incidents.h"
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

#define T0 INT64_C(1767225600000)
#define S INT64_C(1000)

static int setup(void **state)
{
    (void)state;
    return fixture_setup("");
}

static struct ys_store *open_store(bool ro)
{
    return fixture_open(ro, 0);
}

static struct ys_writer *start_writer(void)
{
    struct ys_writer *w = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_writer_start(open_store(false), NULL, &w, &err), 0);
    return w;
}

/* Checks named in names get store ids 1, 2, ... in order. */
static struct ys_config *config(const char *yaml)
{
    struct ys_diag d;
    struct ys_config *c = NULL;
    ys_diag_init(&d, "t.yaml");
    if (ys_config_load_string(yaml, strlen(yaml), &c, &d) < 0) {
        ys_diag_print(&d, stderr);
        fail_msg("config");
    }
    ys_diag_free(&d);
    for (size_t i = 0; i < c->n_checks; i++)
        c->checks[i].store_id = (uint32_t)(i + 1);
    return c;
}

static const char *const abc = "checks:\n"
                               "  - {name: a, kind: tcp, address: 127.0.0.1:1}\n"
                               "  - {name: b, kind: tcp, address: 127.0.0.1:1,"
                               " incident: {open_after: 3, close_after: 2}}\n"
                               "  - {name: c, kind: tcp, address: 127.0.0.1:1}\n";

static void feed(struct ys_live_incidents *li, const struct ys_config *c, size_t check,
                 int64_t ts, bool ok, const char *msg)
{
    struct ys_result r;
    ys_result_init(&r);
    r.check_id = c->checks[check].store_id;
    r.ts_ms = ts;
    r.ok = ok;
    snprintf(r.message, sizeof r.message, "%s", msg);
    ys_live_incidents_feed(li, &c->checks[check], &r);
}

struct got {
    struct ys_incident v[16];
    size_t n;
};

static int collect(const struct ys_incident *inc, void *arg)
{
    struct got *g = arg;
    if (g->n < 16)
        g->v[g->n++] = *inc;
    return 0;
}

static struct got stored(struct ys_writer *w)
{
    ys_writer_flush(w);
    struct ys_store *s = open_store(true);
    struct got g;
    memset(&g, 0, sizeof g);
    struct ys_err err = {{0}};
    if (s->type->query_incidents(s, 0, 0, INT64_MAX, collect, &g, &err) < 0)
        fail_msg("query: %s", err.msg);
    ys_store_close(s);
    return g;
}

static void test_open_close_thresholds(void **state)
{
    (void)state;
    struct ys_writer *w = start_writer();
    struct ys_config *c = config(abc);
    struct ys_live_incidents *li = ys_live_incidents_new(w);
    ys_live_incidents_apply(li, c, T0);

    /* a: one failure is no incident; two are. */
    feed(li, c, 0, T0, false, "first blip");
    feed(li, c, 0, T0 + 30 * S, true, "");
    assert_int_equal(stored(w).n, 0);
    feed(li, c, 0, T0 + 60 * S, false, "connect: refused");
    feed(li, c, 0, T0 + 90 * S, false, "timeout");
    assert_true(ys_live_incidents_is_open(li, 1));
    struct got g = stored(w);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.v[0].check_id, 1);
    assert_int_equal(g.v[0].start_ms, T0 + 60 * S);
    assert_int_equal(g.v[0].end_ms, 0);
    assert_string_equal(g.v[0].first_error, "connect: refused");
    feed(li, c, 0, T0 + 120 * S, true, "");
    assert_false(ys_live_incidents_is_open(li, 1));
    g = stored(w);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.v[0].end_ms, T0 + 120 * S);

    /* b: open_after 3, close_after 2 from its incident: key. */
    feed(li, c, 1, T0, false, "x");
    feed(li, c, 1, T0 + 10 * S, false, "x");
    assert_false(ys_live_incidents_is_open(li, 2));
    feed(li, c, 1, T0 + 20 * S, false, "x");
    assert_true(ys_live_incidents_is_open(li, 2));
    feed(li, c, 1, T0 + 30 * S, true, "");
    feed(li, c, 1, T0 + 40 * S, false, "again"); /* flap: the ok streak restarts */
    feed(li, c, 1, T0 + 50 * S, true, "");
    assert_true(ys_live_incidents_is_open(li, 2));
    feed(li, c, 1, T0 + 60 * S, true, "");
    assert_false(ys_live_incidents_is_open(li, 2));
    g = stored(w);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.v[0].check_id, 2); /* oldest first: b started at T0 */
    assert_int_equal(g.v[0].start_ms, T0);
    assert_int_equal(g.v[0].end_ms, T0 + 50 * S);

    ys_live_incidents_free(li);
    ys_config_unref(c);
    ys_writer_stop(w);
}

static void test_reload(void **state)
{
    (void)state;
    struct ys_writer *w = start_writer();
    struct ys_config *c = config(abc);
    struct ys_live_incidents *li = ys_live_incidents_new(w);
    ys_live_incidents_apply(li, c, T0);
    feed(li, c, 0, T0, false, "a down");
    feed(li, c, 0, T0 + S, false, "a down");
    feed(li, c, 2, T0, false, "c down");
    feed(li, c, 2, T0 + S, false, "c down");
    feed(li, c, 1, T0, false, "b 1"); /* one of three failures */

    /* c is removed; a stays with close_after 2; b keeps its streak. */
    struct ys_config *c2 = config("checks:\n"
                                  "  - {name: a, kind: tcp, address: 127.0.0.1:1,"
                                  " incident: {close_after: 2}}\n"
                                  "  - {name: b, kind: tcp, address: 127.0.0.1:1,"
                                  " incident: {open_after: 3}}\n");
    ys_live_incidents_apply(li, c2, T0 + 100 * S);
    ys_config_unref(c);
    assert_true(ys_live_incidents_is_open(li, 1));
    assert_false(ys_live_incidents_is_open(li, 3));
    struct got g = stored(w);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.v[1].check_id, 3);
    assert_int_equal(g.v[1].end_ms, T0 + 100 * S);

    feed(li, c2, 0, T0 + 110 * S, true, "");
    assert_true(ys_live_incidents_is_open(li, 1)); /* the new close_after applies */
    feed(li, c2, 0, T0 + 120 * S, true, "");
    assert_false(ys_live_incidents_is_open(li, 1));
    feed(li, c2, 1, T0 + 110 * S, false, "b 2");
    feed(li, c2, 1, T0 + 120 * S, false, "b 3");
    assert_true(ys_live_incidents_is_open(li, 2)); /* the streak survived the reload */
    g = stored(w);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.v[0].check_id, 1);
    assert_int_equal(g.v[0].end_ms, T0 + 110 * S);
    assert_int_equal(g.v[1].check_id, 2);
    assert_int_equal(g.v[1].start_ms, T0);
    assert_string_equal(g.v[1].first_error, "b 1");

    ys_live_incidents_free(li);
    ys_config_unref(c2);
    ys_writer_stop(w);
}

static void test_resume_after_restart(void **state)
{
    (void)state;
    struct ys_writer *w = start_writer();
    struct ys_config *c = config(abc);
    struct ys_live_incidents *li = ys_live_incidents_new(w);
    ys_live_incidents_apply(li, c, T0);
    feed(li, c, 0, T0, false, "before the restart");
    feed(li, c, 0, T0 + S, false, "before the restart");
    ys_live_incidents_free(li);
    ys_writer_stop(w);

    /* A new process: the open incident is resumed, not opened again. */
    w = start_writer();
    li = ys_live_incidents_new(w);
    ys_live_incidents_apply(li, c, T0 + 60 * S);
    struct ys_store *s = open_store(true);
    struct ys_err err = {{0}};
    assert_int_equal(ys_live_incidents_resume(li, s, &err), 0);
    ys_store_close(s);
    assert_true(ys_live_incidents_is_open(li, 1));
    assert_false(ys_live_incidents_is_open(li, 2));
    feed(li, c, 0, T0 + 70 * S, false, "after the restart");
    feed(li, c, 0, T0 + 80 * S, false, "after the restart");
    feed(li, c, 0, T0 + 90 * S, true, "");
    struct got g = stored(w);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.v[0].start_ms, T0);
    assert_int_equal(g.v[0].end_ms, T0 + 90 * S);
    assert_string_equal(g.v[0].first_error, "before the restart");
    ys_live_incidents_free(li);
    ys_config_unref(c);
    ys_writer_stop(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_close_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
