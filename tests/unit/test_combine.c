/*
 * test_combine.c - probes from several locations (src/ha/combine*.c).
 *
 * The verdict is table-driven: which locations reported what, k, and the
 * hand-worked answer (ok or down, median duration, message, facts). The
 * config keys are checked with their FILE:LINE:COL errors. The combiner
 * runs for real on a libuv loop over a temporary store: per-location
 * results written into their "<check>@<location>" series come back as one
 * combined result per slot, and a second combiner (a new leader) goes on
 * after the newest combined result the store holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config_fixture.h"
#include "store_fixture.h"

#include "core/clock.h"
#include "ha/combine.h"
#include "sched/scheduler.h"

#include <jansson.h>

static const char *const LOCS[] = {"home", "eu-west", "us-east"};

static struct ys_result res(bool ok, int64_t dur_us, const char *msg)
{
    struct ys_result r;
    ys_result_init(&r);
    r.ok = true; /* ys_result_fail keeps only a first failure */
    r.duration_us = dur_us;
    if (!ok)
        ys_result_fail(&r, YS_EC_CONNECT, "%s", msg);
    return r;
}

/* One row of the verdict table: per location 'o' ok, 'f' failed, '-'
 * missing, 'n' no data; durations in us. */
struct row {
    const char *pattern;
    int k;
    bool want_ok;
    int64_t want_dur;
    size_t want_reported;
    const char *want_msg; /* substring; NULL: empty message */
};

static void test_verdict_table(void **state)
{
    (void)state;
    static const struct row rows[] = {
        {"ooo", 2, true, 200, 3, NULL},
        {"ofo", 2, true, 200, 3, "failing in 1 of 3 locations (down at 2): eu-west (connect"},
        {"off", 2, false, 200, 3, "down in 2 of 3 locations: eu-west (connect: refused), us-east"},
        {"off", 0, true, 200, 3, "failing in 2 of 3 locations (down at 3)"},
        {"fff", 0, false, 200, 3, "down in 3 of 3"},
        {"fff", 1, false, 200, 3, "down in 3 of 3"},
        {"ofo", 1, false, 200, 3, "down in 1 of 3"},
        /* Missing is unknown: n is who reported; "all" is all of them,
         * and with fewer than k reporting the check is not down. */
        {"-fo", 2, true, 250, 2, "no result from home"},
        {"-ff", 2, false, 250, 2, "down in 2 of 2 locations"},
        {"-ff", 0, false, 250, 2, "down in 2 of 2"},
        {"--f", 2, true, 300, 1,
         "(down at 2): us-east (connect: refused); no result from home, eu-west"},
        {"f--", 0, false, 100, 1, "down in 1 of 1 locations: home"},
        {"n-o", 2, true, 300, 1, "no result from home, eu-west"},
        {"ff-", 0, false, 150, 2, "down in 2 of 2"},
    };
    const int64_t durs[3] = {100, 200, 300};
    for (size_t t = 0; t < sizeof rows / sizeof rows[0]; t++) {
        const struct row *w = &rows[t];
        struct ys_result in[3];
        const struct ys_result *p[3];
        for (size_t i = 0; i < 3; i++) {
            char c = w->pattern[i];
            in[i] = res(c == 'o', durs[i], "refused");
            if (c == 'n')
                in[i].errclass = YS_EC_NO_DATA; /* a probe with nothing to judge */
            p[i] = c == '-' ? NULL : &in[i];
        }
        struct ys_result out;
        size_t n = ys_combine_verdict(LOCS, p, 3, w->k, &out);
        if (n != w->want_reported || out.ok != w->want_ok || out.duration_us != w->want_dur ||
            (w->want_msg ? !strstr(out.message, w->want_msg) : out.message[0] != '\0'))
            fail_msg("row %zu (%s, k=%d): reported %zu ok %d dur %lld msg '%s'", t, w->pattern,
                     w->k, n, out.ok, (long long)out.duration_us, out.message);
        if (!out.ok)
            assert_int_equal(out.errclass, YS_EC_CONNECT);
    }
}

static void test_verdict_facts_and_median(void **state)
{
    (void)state;
    struct ys_result a = res(true, 40, NULL), b = res(false, 10, "refused"),
                     c = res(true, 1000, NULL);
    const struct ys_result *p[3] = {&a, &b, &c};
    struct ys_result out;
    assert_int_equal(ys_combine_verdict(LOCS, p, 3, 2, &out), 3);
    assert_true(out.ok);
    assert_int_equal(out.duration_us, 40); /* median of 10, 40, 1000, not the mean */
    assert_string_equal(out.facts,
                        "{\"locations\":{\"home\":\"ok\",\"eu-west\":\"connect: refused\","
                        "\"us-east\":\"ok\"}}");
    /* Even count: the mean of the middle two. */
    p[2] = NULL;
    assert_int_equal(ys_combine_verdict(LOCS, p, 3, 2, &out), 2);
    assert_int_equal(out.duration_us, 25);
    assert_non_null(strstr(out.facts, "\"us-east\":\"no result\""));
    /* Nobody reported: no data, which SLOs leave out. */
    const struct ys_result *none[3] = {NULL, NULL, NULL};
    assert_int_equal(ys_combine_verdict(LOCS, none, 3, 2, &out), 0);
    assert_false(out.ok);
    assert_int_equal(out.errclass, YS_EC_NO_DATA);
}

/* Long failure messages are cut so the facts stay whole JSON. */
static void test_verdict_facts_fit(void **state)
{
    (void)state;
    char long_msg[300];
    memset(long_msg, 'x', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    struct ys_result r[3] = {res(false, 1, long_msg), res(false, 2, long_msg),
                             res(false, 3, long_msg)};
    const struct ys_result *p[3] = {&r[0], &r[1], &r[2]};
    struct ys_result out;
    ys_combine_verdict(LOCS, p, 3, 0, &out);
    assert_false(out.ok);
    assert_true(strlen(out.facts) > 0 && strlen(out.facts) < sizeof out.facts);
    json_error_t jerr;
    json_t *doc = json_loads(out.facts, 0, &jerr);
    assert_non_null(doc);
    assert_int_equal(json_object_size(json_object_get(doc, "locations")), 3);
    json_decref(doc);
    assert_true(strlen(out.message) < sizeof out.message);
}

/* Slots are centred on the check's probe instants. */
static void test_slot_start(void **state)
{
    (void)state;
    const int64_t iv = 30000, now = INT64_C(1767225600000);
    int64_t p = ys_sched_next_slot("api", iv, now);
    assert_int_equal(ys_combine_slot_start("api", iv, p), p - iv / 2);
    assert_int_equal(ys_combine_slot_start("api", iv, p - 1), p - iv / 2);   /* early */
    assert_int_equal(ys_combine_slot_start("api", iv, p + 900), p - iv / 2); /* late */
    assert_int_equal(ys_combine_slot_start("api", iv, p - iv / 2), p - iv / 2);
    assert_int_equal(ys_combine_slot_start("api", iv, p + iv / 2 - 1), p - iv / 2);
    assert_int_equal(ys_combine_slot_start("api", iv, p + iv / 2), p + iv / 2);
    assert_int_equal(ys_combine_slot_start("api", iv, p - iv / 2 - 1), p - 3 * (iv / 2));
}

static void test_config_keys(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: api\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    locations: [home, eu-west, us-east]\n"
             "    down_when: { failing: 2 }\n"
             "  - name: all\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    locations: [home, eu-west]\n"
             "  - name: one\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n");
    if (l.rc != 0)
        dump(&l);
    assert_int_equal(l.rc, 0);
    const struct ys_check *api = ys_config_find(l.cfg, "api");
    assert_int_equal(api->locations.n, 3);
    assert_string_equal(api->locations.v[1], "eu-west");
    assert_int_equal(api->down_when_failing, 2);
    assert_int_equal(ys_config_find(l.cfg, "all")->down_when_failing, 0);
    assert_int_equal(ys_config_find(l.cfg, "one")->locations.n, 0);
    /* instance.location defaults to "default": not among api's. */
    assert_false(ys_combine_probes_here(l.cfg, api));
    assert_true(ys_combine_probes_here(l.cfg, ys_config_find(l.cfg, "one")));
    unload(&l);

    load(&l, "checks:\n"
             "  - name: a\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    locations: [home, eu-west]\n"
             "    down_when: { failing: 3 }\n" /* 6: k > n */
             "  - name: b\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    locations: [home, eu-west, home]\n" /* 10: duplicate */
             "  - name: c\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    down_when: { failing: 1 }\n" /* 14: no locations */
             "  - name: d\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    locations: [home]\n"
             "    down_when: { failing: 0, fail: 1 }\n" /* 19 */
             "  - name: e\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    locations: ['bad@name']\n"); /* 23 */
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 6, 27, "checks[0].down_when.failing is 3 but the check has only 2 locations");
    assert_diag(&l, 10, 32, "duplicate location 'home'");
    assert_diag(&l, 14, 16, "checks[2].down_when needs locations");
    assert_diag(&l, 19, 27, "must be between 1 and");
    assert_diag(&l, 19, 30, "unknown key 'fail'");
    assert_diag(&l, 23, 17, "bad location name 'bad@name'");
    unload(&l);
}

/* ---- the combiner over a real store ---- */

struct sink {
    struct ys_result got[64];
    size_t n;
};

static void on_combined(const char *name, const struct ys_result *r, void *arg)
{
    struct sink *s = arg;
    assert_string_equal(name, "api");
    if (s->n < 64)
        s->got[s->n++] = *r;
}

static void on_stop_timer(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs a combiner for ms on cfg over the fixture's store. */
static void run_combiner(struct ys_config *cfg, struct sink *sink, int64_t ms)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_store_options opt = {.path = path, .read_only = true};
    struct ys_combiner *c = ys_combiner_new(&loop, fixture_kind("sqlite"), &opt, on_combined, sink);
    ys_combiner_apply(c, cfg);
    ys_combiner_resume(c);
    assert_true(ys_combiner_running(c));
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_stop_timer, (uint64_t)ms, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_combiner_close(c);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_combiner(void **state)
{
    (void)state;
    fixture_setup("");
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: api\n"
             "    kind: tcp\n"
             "    address: 'localhost:1'\n"
             "    interval: 1s\n"
             "    timeout: 500ms\n"
             "    locations: [home, eu-west, us-east]\n"
             "    down_when: { failing: 2 }\n");
    assert_int_equal(l.rc, 0);
    struct ys_check *ck = &l.cfg->checks[0];
    struct ys_store *s = fixture_open(false, 0);
    struct ys_err err = {{0}};
    assert_int_equal(s->type->check_id(s, "api", &ck->store_id, &err), 0);
    assert_int_equal(ys_combine_register(s, l.cfg, &err), 0);
    uint32_t ids[3];
    for (size_t j = 0; j < 3; j++) {
        ids[j] = ys_combine_series_id("api", LOCS[j]);
        assert_true(ids[j] != 0 && ids[j] != ck->store_id);
    }
    /* Ten past slots: eu-west always fails, us-east from slot 5 on and
     * says nothing in slot 2; home is always fine. */
    int64_t p0 = ys_sched_next_slot("api", 1000, ys_wall_ms() - 30000);
    for (int j = 0; j < 10; j++) {
        struct ys_result r[3] = {res(true, 100, NULL), res(false, 300, "refused"),
                                 res(j < 5, 200, "timed out")};
        for (size_t i = 0; i < 3; i++) {
            r[i].check_id = ids[i];
            r[i].ts_ms = p0 + j * 1000 + (int64_t)i * 3 - 2; /* a few ms off the instant */
        }
        assert_int_equal(s->type->append(s, r, j == 2 ? 2 : 3, &err), 0);
    }
    struct sink sink = {0};
    run_combiner(l.cfg, &sink, 2500);
    assert_int_equal(sink.n, 10);
    for (int j = 0; j < 10; j++) {
        const struct ys_result *g = &sink.got[j];
        assert_int_equal(g->check_id, ck->store_id);
        assert_int_equal(g->ts_ms, p0 + j * 1000);
        assert_int_equal(g->ok, j < 5);
        assert_int_equal(g->duration_us, 200); /* median of 100, 300 (, 200) */
    }
    assert_non_null(strstr(sink.got[2].message, "no result from us-east"));
    assert_non_null(strstr(sink.got[7].facts, "\"us-east\":\"connect: timed out\""));

    /* A new leader: the store holds the first six combined results. */
    assert_int_equal(s->type->append(s, sink.got, 6, &err), 0);
    struct sink next = {0};
    run_combiner(l.cfg, &next, 1500);
    assert_int_equal(next.n, 4);
    assert_int_equal(next.got[0].ts_ms, p0 + 6 * 1000);
    assert_false(next.got[0].ok);
    ys_store_close(s);
    unload(&l);
    ys_combine_ids_clear();
    teardown(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_table),     cmocka_unit_test(test_verdict_facts_and_median),
        cmocka_unit_test(test_verdict_facts_fit), cmocka_unit_test(test_slot_start),
        cmocka_unit_test(test_config_keys),       cmocka_unit_test(test_combiner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
