/*
 * test_follow.c - the follower feed (src/ha/follow*.c).
 *
 * The cursor and the choice of checks are pure. The feed runs for real on
 * a libuv loop over a temporary store (SQLite, or PostgreSQL with
 * YS_TEST_PG_DSN), with the config of shard 1/2 and a check of shard 2
 * that "another daemon" (the test, through the store) writes: results
 * stored before the feed starts are not handed on, results stored while it
 * runs are, once each and in order, with the incident state the prober's
 * tracker would have (an open incident in the store resumed, a failing
 * streak in progress replayed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config_fixture.h"
#include "store_fixture.h"

#include "config/instance.h"
#include "core/clock.h"
#include "ha/follow.h"

static void test_cursor(void **state)
{
    (void)state;
    struct ys_follow_cursor c;
    ys_follow_cursor_init(&c, 5000, 100000);
    assert_true(ys_follow_cursor_due(&c, 100000));
    assert_false(ys_follow_cursor_take(&c, 4000)); /* history */
    assert_false(ys_follow_cursor_take(&c, 5000)); /* the newest at start */
    assert_true(ys_follow_cursor_take(&c, 5001));
    assert_false(ys_follow_cursor_take(&c, 5001)); /* once */
    assert_true(ys_follow_cursor_take(&c, 9000));
    assert_int_equal(c.seen_ms, 9000);
    ys_follow_cursor_polled(&c, 100000, 250); /* short interval: 1 s */
    assert_false(ys_follow_cursor_due(&c, 100999));
    assert_true(ys_follow_cursor_due(&c, 101000));
    ys_follow_cursor_polled(&c, 101000, 30000); /* long interval: the interval */
    assert_false(ys_follow_cursor_due(&c, 130999));
    assert_true(ys_follow_cursor_due(&c, 131000));
}

/* The first name "<prefix>N" in shard s of 2. */
static void name_in_shard(const char *prefix, int s, char *buf, size_t size)
{
    for (int i = 0; i < 100; i++) {
        snprintf(buf, size, "%s%d", prefix, i);
        if (ys_shard_of(buf, 2) == s)
            return;
    }
    fail_msg("no name %s* in shard %d", prefix, s);
}

static char yaml[1024];

/* Shard 1/2 with: mine (shard 1), theirs (2), a heartbeat of shard 2, a
 * multi-location check of shard 2. */
static void shard_config(struct loaded *l, char *mine, char *theirs)
{
    char hb[32], multi[32];
    name_in_shard("mine", 1, mine, 32);
    name_in_shard("theirs", 2, theirs, 32);
    name_in_shard("hb", 2, hb, sizeof hb);
    name_in_shard("multi", 2, multi, sizeof multi);
    snprintf(yaml, sizeof yaml,
             "instance: { id: a, location: home, shard: \"1/2\" }\n"
             "checks:\n"
             "  - { name: %s, kind: tcp, address: 'localhost:1', interval: 1s }\n"
             "  - { name: %s, kind: tcp, address: 'localhost:1', interval: 1s }\n"
             "  - { name: %s, kind: heartbeat, period: 1m }\n"
             "  - { name: %s, kind: tcp, address: 'localhost:1', locations: [home, eu] }\n",
             mine, theirs, hb, multi);
    load(l, yaml);
    if (l->rc != 0)
        dump(l);
    assert_int_equal(l->rc, 0);
}

static void test_wants(void **state)
{
    (void)state;
    struct loaded l;
    char mine[32], theirs[32];
    shard_config(&l, mine, theirs);
    assert_int_equal(l.cfg->n_checks, 4);
    assert_false(ys_follow_wants(l.cfg, &l.cfg->checks[0])); /* probed here */
    assert_true(ys_follow_wants(l.cfg, &l.cfg->checks[1]));  /* another shard's */
    assert_false(ys_follow_wants(l.cfg, &l.cfg->checks[2])); /* pings reach every daemon */
    assert_false(ys_follow_wants(l.cfg, &l.cfg->checks[3])); /* the combiner's */
    unload(&l);
    /* Without a shard every check is probed here: nothing to follow. */
    load(&l, "checks:\n  - { name: x, kind: tcp, address: 'localhost:1' }\n");
    assert_int_equal(l.rc, 0);
    assert_false(ys_follow_wants(l.cfg, &l.cfg->checks[0]));
    unload(&l);
}

/* ---- the feed over a real store ---- */

struct got {
    struct ys_result r;
    bool open;
};

struct sink {
    const char *name;
    struct got v[64];
    size_t n;
    struct ys_store *s;     /* the prober's writes, on timers */
    struct ys_result *plan; /* appended one per timer tick */
    size_t n_plan, next_plan;
};

static void on_followed(const char *name, const struct ys_result *r, bool open, void *arg)
{
    struct sink *s = arg;
    assert_string_equal(name, s->name);
    if (s->n < 64)
        s->v[s->n++] = (struct got){*r, open};
}

static void on_stop_timer(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* The "other daemon": stores the next planned result, stamped now. */
static void on_write_timer(uv_timer_t *t)
{
    struct sink *s = t->data;
    if (s->next_plan == s->n_plan)
        return;
    struct ys_result r = s->plan[s->next_plan++];
    r.ts_ms = ys_wall_ms();
    struct ys_err err = {{0}};
    assert_int_equal(s->s->type->append(s->s, &r, 1, &err), 0);
}

/* Runs a feed for ms on cfg, storing sink's plan one result per 600 ms. */
static void run_feed(struct ys_config *cfg, struct sink *sink, int64_t ms)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_store_options opt = {.path = path, .read_only = true};
    struct ys_follower *f = ys_follower_new(&loop, fixture_kind("sqlite"), &opt, on_followed, sink);
    ys_follower_apply(f, cfg);
    ys_follower_resume(f);
    assert_true(ys_follower_running(f));
    uv_timer_t stop, write;
    uv_timer_init(&loop, &stop);
    uv_timer_start(&stop, on_stop_timer, (uint64_t)ms, 0);
    uv_timer_init(&loop, &write);
    write.data = sink;
    uv_timer_start(&write, on_write_timer, 300, 600);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_follower_close(f);
    assert_false(ys_follower_running(f));
    uv_close((uv_handle_t *)&stop, NULL);
    uv_close((uv_handle_t *)&write, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static struct ys_result res(uint32_t id, int64_t ts, bool ok)
{
    struct ys_result r;
    ys_result_init(&r);
    r.check_id = id;
    r.ts_ms = ts;
    r.ok = true;
    if (!ok)
        ys_result_fail(&r, YS_EC_CONNECT, "refused");
    return r;
}

/* Stores the prober's history of check id: n results ending 1 s ago. */
static void history(struct ys_store *s, uint32_t id, const char *pattern)
{
    size_t n = strlen(pattern);
    int64_t now = ys_wall_ms();
    struct ys_err err = {{0}};
    for (size_t i = 0; i < n; i++) {
        struct ys_result r = res(id, now - 1000 - (int64_t)(n - 1 - i) * 1000, pattern[i] == 'o');
        assert_int_equal(s->type->append(s, &r, 1, &err), 0);
    }
}

static void test_feed_resumes_open_incident(void **state)
{
    (void)state;
    fixture_setup("");
    struct loaded l;
    char mine[32], theirs[32];
    shard_config(&l, mine, theirs);
    struct ys_store *s = fixture_open(false, 0);
    struct ys_err err = {{0}};
    for (size_t i = 0; i < l.cfg->n_checks; i++)
        assert_int_equal(
            s->type->check_id(s, l.cfg->checks[i].name, &l.cfg->checks[i].store_id, &err), 0);
    uint32_t id = l.cfg->checks[1].store_id;
    /* The prober's past: ok, then failing; its incident is open. */
    history(s, id, "offf");
    struct ys_incident inc = {.check_id = id, .start_ms = ys_wall_ms() - 3000};
    snprintf(inc.first_error, sizeof inc.first_error, "refused");
    assert_int_equal(s->type->put_incident(s, &inc, &err), 0);
    /* A result of the check probed here never comes through the feed. */
    struct ys_result other = res(l.cfg->checks[0].store_id, ys_wall_ms(), false);
    assert_int_equal(s->type->append(s, &other, 1, &err), 0);

    struct ys_result plan[] = {res(id, 0, false), res(id, 0, true), res(id, 0, false)};
    struct sink sink = {.name = theirs, .s = s, .plan = plan, .n_plan = 3};
    run_feed(l.cfg, &sink, 3300);
    /* Only what was stored while it ran, in order: the history is old. */
    assert_int_equal(sink.n, 3);
    assert_false(sink.v[0].r.ok);
    assert_true(sink.v[0].open); /* the store's incident, resumed */
    assert_true(sink.v[1].r.ok);
    assert_false(sink.v[1].open); /* closed (close_after 1) */
    assert_false(sink.v[2].r.ok);
    assert_false(sink.v[2].open); /* one failure of two */
    for (size_t i = 0; i < sink.n; i++) {
        assert_int_equal(sink.v[i].r.check_id, id);
        if (i)
            assert_true(sink.v[i].r.ts_ms > sink.v[i - 1].r.ts_ms);
    }

    /* A new leader: the last stored result (a failure) is the streak in
     * progress, so one more failure opens the incident; nothing old comes
     * again. */
    struct ys_result plan2[] = {res(id, 0, false)};
    struct sink next = {.name = theirs, .s = s, .plan = plan2, .n_plan = 1};
    run_feed(l.cfg, &next, 2300);
    assert_int_equal(next.n, 1);
    assert_false(next.v[0].r.ok);
    assert_true(next.v[0].open);
    assert_true(next.v[0].r.ts_ms > sink.v[2].r.ts_ms);
    ys_store_close(s);
    unload(&l);
    teardown(NULL);
}

int main(void)
{
    (void)assert_diag; /* config_fixture.h's; no diagnostics here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_wants),
        cmocka_unit_test(test_feed_resumes_open_incident),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
