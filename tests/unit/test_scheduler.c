/*
 * test_scheduler.c - slot arithmetic (stable phases) and the skip rule.
 *
 * The skip test runs a real libuv loop with a probe kind defined here whose
 * probes take longer than the check's interval: a scheduler unit test needs
 * a probe whose duration it controls, not a network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "sched/scheduler.h"

#include <stdlib.h>
#include <string.h>

static void test_slot_is_after_now_and_within_interval(void **state)
{
    (void)state;
    static const int64_t intervals[] = {100, 1000, 30000, 60000, 3600000};
    for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++) {
        for (int64_t now = 1700000000000LL; now < 1700000000000LL + 5000; now += 137) {
            int64_t slot = ys_sched_next_slot("homepage", intervals[i], now);
            assert_true(slot > now);
            assert_true(slot - now <= intervals[i]);
        }
    }
}

static void test_phase_is_stable_across_restarts(void **state)
{
    (void)state;
    int64_t interval = 30000;
    int64_t a = ys_sched_next_slot("etcd-tls", interval, 1700000000000LL);
    int64_t b = ys_sched_next_slot("etcd-tls", interval, 1700000000000LL + 7 * interval + 5);
    /* Same phase: both slots are congruent modulo the interval. */
    assert_int_equal(a % interval, b % interval);
    assert_int_equal((b - a) % interval, 0);
    /* And a different name gets a different phase. */
    int64_t c = ys_sched_next_slot("etcd-tls-2", interval, 1700000000000LL);
    assert_true(c % interval != a % interval);
}

static void test_phases_spread_evenly(void **state)
{
    (void)state;
    enum { N = 10000, BINS = 10 };
    int64_t interval = 60000;
    int counts[BINS] = {0};
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "check-%d", i);
        int64_t slot = ys_sched_next_slot(name, interval, 0);
        counts[(slot % interval) * BINS / interval]++;
    }
    /* Each tenth of the interval gets 10% of the checks, give or take 15%. */
    for (int b = 0; b < BINS; b++) {
        assert_true(counts[b] > N / BINS * 85 / 100);
        assert_true(counts[b] < N / BINS * 115 / 100);
    }
}

/* A probe kind whose probes take exactly slow_ms on the loop. */
struct slow_probe {
    struct ys_probe super;
    uv_timer_t timer;
};

static int64_t slow_ms = 250;

static void slow_closed(uv_handle_t *h)
{
    free(h->data);
}

static void slow_fire(uv_timer_t *t)
{
    struct slow_probe *p = t->data;
    ys_probe_base_finish(&p->super);
    uv_close((uv_handle_t *)&p->timer, slow_closed);
}

static int slow_start(struct ys_probe_env *env, const struct ys_check *check,
                      ys_probe_done_cb done, void *arg, struct ys_probe **out);

static void slow_cancel(struct ys_probe *probe)
{
    struct slow_probe *p = (struct slow_probe *)probe;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, slow_closed);
}

static const struct ys_probe_type slow_type = {
    .name = "slow", .start = slow_start, .cancel = slow_cancel,
};

static int slow_start(struct ys_probe_env *env, const struct ys_check *check,
                      ys_probe_done_cb done, void *arg, struct ys_probe **out)
{
    struct slow_probe *p = ys_xcalloc(1, sizeof *p);
    ys_probe_base_init(&p->super, &slow_type, check, done, arg);
    uv_timer_init(env->loop, &p->timer);
    p->timer.data = p;
    /* The loop's clock is cached at the start of its iteration; on a busy
     * machine (valgrind) it can lag the start time the probe just took,
     * and the timer would fire before slow_ms had really passed. */
    uv_update_time(env->loop);
    uv_timer_start(&p->timer, slow_fire, (uint64_t)slow_ms, 0);
    *out = &p->super;
    return 0;
}

static struct ys_config *one_check_config(const char *name, int64_t interval_ms)
{
    struct ys_config *c = ys_xcalloc(1, sizeof *c);
    c->refs = 1;
    c->path = ys_xstrdup("test.yaml");
    c->storage.kind = ys_xstrdup("sqlite");
    c->storage.path = ys_xstrdup("unused.db");
    c->n_checks = 1;
    c->checks = ys_xcalloc(1, sizeof *c->checks);
    c->checks[0].name = ys_xstrdup(name);
    c->checks[0].type = &slow_type;
    c->checks[0].interval_ms = interval_ms;
    c->checks[0].timeout_ms = interval_ms;
    c->checks[0].fingerprint = 42;
    return c;
}

static int results_seen;
static void count_result(const struct ys_check *check, const struct ys_result *r, void *arg)
{
    (void)check;
    (void)arg;
    assert_true(r->duration_us >= slow_ms * 1000 - 5000);
    results_seen++;
}

static void stop_after(uv_timer_t *t)
{
    ys_scheduler_stop(t->data);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_running_probe_is_skipped_not_doubled(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_probe_env env = {.loop = &loop};
    struct ys_scheduler *s = ys_scheduler_new(&env, count_result, NULL);
    struct ys_config *cfg = one_check_config("slow-check", 100);
    ys_scheduler_apply(s, cfg);
    ys_config_unref(cfg);
    uv_timer_t stop;
    uv_timer_init(&loop, &stop);
    stop.data = s;
    uv_timer_start(&stop, stop_after, 1050, 0);
    results_seen = 0;
    /* Read the stats just before the stop timer fires. */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    /* 100 ms slots for ~1 s, probes of 250 ms: about 4 probes (each
     * covering three slots) and the slots in between skipped. */
    /* Never more (no two probes of a check overlap); fewer only when the
     * machine is so loaded (valgrind, a busy CI) that the loop runs late. */
    assert_in_range(results_seen, 2, 5);
}

static void test_skip_counter(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_probe_env env = {.loop = &loop};
    struct ys_scheduler *s = ys_scheduler_new(&env, NULL, NULL);
    struct ys_config *cfg = one_check_config("slow-check-2", 100);
    ys_scheduler_apply(s, cfg);
    ys_config_unref(cfg);
    int64_t until = ys_mono_us() + 1050000;
    while (ys_mono_us() < until)
        uv_run(&loop, UV_RUN_ONCE);
    struct ys_sched_stats st;
    ys_scheduler_stats(s, &st);
    assert_true(st.skipped >= 3);
    assert_true(st.started >= 2 && st.started <= 5);
    assert_true(st.started + st.skipped >= 7);
    ys_scheduler_stop(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static struct ys_config *many_checks_config(size_t n, int64_t interval_ms)
{
    struct ys_config *c = one_check_config("c0", interval_ms);
    c->checks = ys_xrealloc(c->checks, n * sizeof *c->checks);
    memset(c->checks + 1, 0, (n - 1) * sizeof *c->checks);
    c->n_checks = n;
    for (size_t i = 1; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu", i);
        c->checks[i] = c->checks[0];
        c->checks[i].name = ys_xstrdup(name);
    }
    return c;
}

/* Runs the loop for ms milliseconds, then stops the scheduler. */
static void run_for(uv_loop_t *loop, struct ys_scheduler *s, int64_t ms, struct ys_sched_stats *st)
{
    int64_t until = ys_mono_us() + ms * 1000;
    while (ys_mono_us() < until)
        uv_run(loop, UV_RUN_ONCE);
    ys_scheduler_stats(s, st);
    ys_scheduler_stop(s);
    uv_run(loop, UV_RUN_DEFAULT);
}

static void test_one_probe_per_slot(void **state)
{
    (void)state;
    /* Probes far shorter than the interval: exactly one per slot, never a
     * second one when the timer wakes a little before the wall-clock slot. */
    slow_ms = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_probe_env env = {.loop = &loop};
    struct ys_scheduler *s = ys_scheduler_new(&env, NULL, NULL);
    struct ys_config *cfg = many_checks_config(20, 50);
    ys_scheduler_apply(s, cfg);
    ys_config_unref(cfg);
    struct ys_sched_stats st;
    run_for(&loop, s, 1000, &st);
    /* 20 checks x 20 slots of 50 ms in one second: never more than one
     * probe per slot (give or take the slot in progress at each end);
     * fewer only when a loaded machine makes the loop run late. */
    assert_in_range(st.started, 20 * 10, 20 * 21);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    slow_ms = 250;
}

static void test_in_flight_cap_throttles(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_probe_env env = {.loop = &loop};
    struct ys_scheduler *s = ys_scheduler_new(&env, NULL, NULL);
    ys_scheduler_set_max_in_flight(s, 1);
    struct ys_config *cfg = many_checks_config(10, 1000);
    ys_scheduler_apply(s, cfg);
    ys_config_unref(cfg);
    struct ys_sched_stats st;
    run_for(&loop, s, 1100, &st);
    /* In 1.1 s each of the 10 checks fires once, or twice if its phase
     * falls in the first 100 ms; 250 ms probes one at a time: at most 5
     * start, and every other firing is throttled. */
    assert_in_range(st.started, 1, 5);
    assert_true(st.throttled >= 5);
    assert_in_range(st.started + st.throttled, 10, 20);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_is_after_now_and_within_interval),
        cmocka_unit_test(test_phase_is_stable_across_restarts),
        cmocka_unit_test(test_phases_spread_evenly),
        cmocka_unit_test(test_running_probe_is_skipped_not_doubled),
        cmocka_unit_test(test_skip_counter),
        cmocka_unit_test(test_one_probe_per_slot),
        cmocka_unit_test(test_in_flight_cap_throttles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
