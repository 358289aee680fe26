/*
 * test_heartbeat_live.c - the daemon's heartbeat table (live/heartbeats.h)
 * on a real libuv loop: pings queued from another thread reach the
 * tracker, each closed slot comes out of the result callback with the
 * check's store id, a missed slot comes out of the timer, the change
 * callback reports up -> late -> down, pings are stored through a real
 * writer with the run's duration and body, a restart rebuilt from those
 * stored pings is UP with no spurious miss, and passive checks are never
 * scheduled (the scheduler would call a NULL start). Also: a ping queued
 * before its deadline but read after the timer fired still meets its
 * slot; a never-pinged check whose miss is stored restarts DOWN/missed
 * (its alert neither resolves nor fires again) without emitting that miss
 * twice; and a reload does not read the default zone from disk (the
 * config carries it).
 *
 * Periods are short (1 s, grace 300 ms); the asserted times leave hundreds
 * of milliseconds of slack for a loaded machine or valgrind.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/clock.h"
#include "core/cron.h"
#include "core/err.h"
#include "core/tz.h"
#include "live/heartbeats.h"
#include "live/state.h"
#include "sched/scheduler.h"
#include "store/writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "store_fixture.h"

#define MAX_SEEN 32

struct seen {
    struct ys_result results[MAX_SEEN];
    size_t n_results;
    enum ys_hb_state states[MAX_SEEN];
    enum ys_hb_problem problems[MAX_SEEN];
    size_t n_changes;
};

static void on_result(const struct ys_check *check, const struct ys_result *r, void *arg)
{
    struct seen *s = arg;
    assert_string_equal(check->name, "job");
    if (s->n_results < MAX_SEEN)
        s->results[s->n_results++] = *r;
}

static void on_change(const struct ys_check *check, enum ys_hb_state state,
                      enum ys_hb_problem problem, int64_t now_ms, void *arg)
{
    struct seen *s = arg;
    (void)now_ms;
    assert_string_equal(check->name, "job");
    if (s->n_changes < MAX_SEEN) {
        s->states[s->n_changes] = state;
        s->problems[s->n_changes++] = problem;
    }
}

static struct ys_config *load_cfg(const char *yaml)
{
    struct ys_diag d;
    struct ys_config *cfg = NULL;
    ys_diag_init(&d, "t.yaml");
    if (ys_config_load_string(yaml, strlen(yaml), &cfg, &d) != 0) {
        ys_diag_print(&d, stderr);
        fail_msg("config rejected");
    }
    ys_diag_free(&d);
    for (size_t i = 0; i < cfg->n_checks; i++)
        cfg->checks[i].store_id = (uint32_t)(i + 5);
    return cfg;
}

static const char *const job_yaml = "checks:\n"
                                    "  - name: other\n"
                                    "    kind: heartbeat\n"
                                    "    period: 1h\n"
                                    "  - name: job\n"
                                    "    kind: heartbeat\n"
                                    "    period: 1s\n"
                                    "    grace: 300ms\n"
                                    "    max_body: 4\n";
/* The same checks with job hourly, for a restart that must find it UP
 * however slowly the test runs. */
static const char *const job_hourly_yaml = "checks:\n"
                                           "  - name: other\n"
                                           "    kind: heartbeat\n"
                                           "    period: 1h\n"
                                           "  - name: job\n"
                                           "    kind: heartbeat\n"
                                           "    period: 1h\n";

struct pinger {
    struct ys_heartbeats *hb;
    const char *rid;
    enum ys_ping_kind kind;
};

/* Sends one ping from a thread of its own, as the HTTP server would. */
static void *ping_thread(void *arg)
{
    struct pinger *p = arg;
    struct ys_ping ping = {.ts_ms = ys_wall_ms(), .kind = (uint8_t)p->kind, .exit_code = -1};
    snprintf(ping.run_id, sizeof ping.run_id, "%s", p->rid);
    assert_int_equal(ys_heartbeats_intake(p->hb, "job", &ping, "log tail!", 9), 0);
    return NULL;
}

static void send_ping(struct ys_heartbeats *hb, enum ys_ping_kind kind, const char *rid)
{
    struct pinger p = {hb, rid, kind};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ping_thread, &p), 0);
    pthread_join(t, NULL);
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop for ms milliseconds. */
static void run_for(uv_loop_t *loop, int64_t ms)
{
    uv_timer_t t;
    uv_update_time(loop); /* the loop's clock stood still since the last run */
    uv_timer_init(loop, &t);
    uv_timer_start(&t, stop_loop, (uint64_t)ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static int setup(void **state)
{
    (void)state;
    return fixture_setup("");
}

static void test_pings_and_miss(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_writer *w = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_writer_start(fixture_open(false, 0), NULL, &w, &err), 0);
    struct seen seen = {0};
    struct ys_config *cfg = load_cfg(job_yaml);
    struct ys_heartbeats *hb = ys_heartbeats_new(w, on_result, &seen);
    ys_heartbeats_set_change_cb(hb, on_change, &seen);
    ys_heartbeats_apply(hb, cfg, ys_wall_ms());
    ys_config_unref(cfg);

    /* Queued before the loop runs: handled at start. */
    send_ping(hb, YS_PING_START, "r1");
    ys_heartbeats_start(hb, &loop);
    run_for(&loop, 150);
    send_ping(hb, YS_PING_SUCCESS, "r1");
    run_for(&loop, 50);
    assert_int_equal(seen.n_results, 1);
    assert_true(seen.results[0].ok);
    assert_int_equal(seen.results[0].check_id, 6);
    assert_int_equal(seen.results[0].bytes, 9); /* the body as queued (ping.c caps it) */
    assert_true(seen.results[0].duration_us >= 100000 && seen.results[0].duration_us < 1000000);
    struct ys_hb_status st;
    assert_int_equal(ys_heartbeats_status(hb, "job", ys_wall_ms(), &st), 0);
    assert_int_equal(st.state, YS_HB_UP);
    assert_true(st.last_duration_ms >= 100);
    assert_int_equal(ys_heartbeats_status(hb, "nope", ys_wall_ms(), &st), YS_ENOTFOUND);
    assert_int_equal(ys_heartbeats_status_at(hb, 0, ys_wall_ms(), &st), 0); /* "other" */
    assert_int_equal(st.state, YS_HB_NEW);

    /* No more pings: late after 1 s, missed 300 ms later, by the timer. */
    run_for(&loop, 1600);
    assert_int_equal(seen.n_results, 2);
    assert_false(seen.results[1].ok);
    assert_int_equal(seen.results[1].errclass, YS_EC_TIMEOUT);
    assert_non_null(strstr(seen.results[1].message, "missed"));
    assert_int_equal(seen.results[1].check_id, 6);
    /* new -> running -> up -> late -> down (missed) */
    static const enum ys_hb_state want[] = {YS_HB_RUNNING, YS_HB_UP, YS_HB_LATE, YS_HB_DOWN};
    assert_int_equal(seen.n_changes, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(seen.states[i], want[i]);
    assert_int_equal(seen.problems[3], YS_HBP_MISSED);

    /* The live state carries the figures for the API. */
    struct ys_live_state *live = ys_live_state_new(ys_wall_ms());
    cfg = load_cfg(job_yaml);
    ys_live_state_apply(live, cfg);
    ys_config_unref(cfg);
    ys_heartbeats_fill_live(hb, live, ys_wall_ms());
    ys_live_state_publish(live, NULL, NULL, ys_wall_ms());
    struct ys_live_snapshot *snap = ys_live_state_acquire(live);
    assert_true(snap->checks[1].hb.present);
    assert_int_equal(snap->checks[1].hb.state, YS_HB_DOWN);
    assert_int_equal(snap->checks[1].hb.problem, YS_HBP_MISSED);
    assert_true(snap->checks[1].hb.last_success_ms > 0);
    ys_live_snapshot_release(snap);
    ys_live_state_free(live);

    ys_heartbeats_close(hb);
    assert_int_equal(ys_heartbeats_intake(hb, "job", &(struct ys_ping){.exit_code = -1}, NULL, 0),
                     YS_EBUSY);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_heartbeats_free(hb);
    ys_writer_stop(w);
    assert_int_equal(uv_loop_close(&loop), 0);
}

struct stored {
    struct ys_ping_record v[8];
    char bodies[8][16];
    size_t n;
};

static int keep(const struct ys_ping_record *rec, void *arg)
{
    struct stored *s = arg;
    if (s->n < 8) {
        s->v[s->n] = *rec;
        memcpy(s->bodies[s->n], rec->body ? rec->body : "", rec->body ? rec->body_len : 0);
        s->bodies[s->n][rec->body ? rec->body_len : 0] = '\0';
        s->n++;
    }
    return 0;
}

/* Pings go to the store with the run's duration; a new table restored
 * from them is UP and emits nothing at its first tick. */
static void test_stored_and_restored(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_writer *w = NULL;
    struct ys_err err = {{0}};
    assert_int_equal(ys_writer_start(fixture_open(false, 0), NULL, &w, &err), 0);
    struct seen seen = {0};
    struct ys_config *cfg = load_cfg(job_yaml);
    struct ys_heartbeats *hb = ys_heartbeats_new(w, on_result, &seen);
    ys_heartbeats_apply(hb, cfg, ys_wall_ms());
    ys_heartbeats_start(hb, &loop);
    send_ping(hb, YS_PING_START, "");
    run_for(&loop, 120);
    send_ping(hb, YS_PING_SUCCESS, "");
    run_for(&loop, 30);
    ys_heartbeats_close(hb);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_heartbeats_free(hb);
    ys_writer_stop(w); /* commits */
    ys_config_unref(cfg);
    cfg = load_cfg(job_hourly_yaml);

    struct ys_store *s = fixture_open(true, 0);
    struct stored got = {0};
    assert_int_equal(s->type->query_pings(s, 6, 0, INT64_MAX, 0, keep, &got, &err), 0);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.v[0].ping.kind, YS_PING_START);
    assert_int_equal(got.v[0].duration_ms, -1);
    assert_int_equal(got.v[1].ping.kind, YS_PING_SUCCESS);
    assert_true(got.v[1].duration_ms >= 100 && got.v[1].duration_ms < 1000);
    assert_int_equal(got.v[1].ping.check_id, 6);
    assert_string_equal(got.bodies[1], "log tail!");

    /* A restart: restored from the store, UP, nothing emitted. */
    struct seen again = {0};
    hb = ys_heartbeats_new(NULL, on_result, &again);
    ys_heartbeats_set_change_cb(hb, on_change, &again);
    ys_heartbeats_apply(hb, cfg, ys_wall_ms());
    assert_int_equal(ys_heartbeats_restore(hb, s, ys_wall_ms(), &err), 0);
    ys_store_close(s);
    struct ys_hb_status st;
    assert_int_equal(ys_heartbeats_status(hb, "job", ys_wall_ms(), &st), 0);
    assert_int_equal(st.state, YS_HB_UP);
    assert_int_equal(st.last_success_ms, got.v[1].ping.ts_ms);
    assert_int_equal(st.last_duration_ms, got.v[1].duration_ms);
    ys_heartbeats_start(hb, &loop);
    run_for(&loop, 50);
    assert_int_equal(again.n_results, 0);
    assert_int_equal(again.n_changes, 1); /* new -> up: the restored state, reported once */
    assert_int_equal(again.states[0], YS_HB_UP);

    /* A reload that changes the schedule keeps the history. */
    struct ys_config *cfg2 = load_cfg("checks:\n"
                                      "  - name: job\n"
                                      "    kind: heartbeat\n"
                                      "    period: 2h\n");
    ys_heartbeats_apply(hb, cfg2, ys_wall_ms());
    ys_config_unref(cfg2);
    assert_int_equal(ys_heartbeats_status(hb, "job", ys_wall_ms(), &st), 0);
    assert_int_equal(st.last_success_ms, got.v[1].ping.ts_ms);
    assert_true(st.next_due_ms > ys_wall_ms() + 7000 * 1000);
    assert_int_equal(ys_heartbeats_status(hb, "other", ys_wall_ms(), &st), YS_ENOTFOUND);
    ys_heartbeats_close(hb);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_heartbeats_free(hb);
    ys_config_unref(cfg);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Sleeps until the wall clock reaches at_ms (the loop is not run). */
static void sleep_until(int64_t at_ms)
{
    for (int64_t now = ys_wall_ms(); now < at_ms; now = ys_wall_ms())
        usleep((useconds_t)((at_ms - now) * 1000));
}

/* The loop was busy past the deadline while a ping stamped before it
 * waited in the queue. libuv runs timers before the async handle, so the
 * timer must read the queue first: the ping meets its slot, and no miss
 * is emitted for it. */
static void test_timer_reads_queued_pings_first(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen seen = {0};
    struct ys_config *cfg = load_cfg(job_yaml);
    struct ys_heartbeats *hb = ys_heartbeats_new(NULL, on_result, &seen);
    ys_heartbeats_apply(hb, cfg, ys_wall_ms());
    ys_config_unref(cfg);
    ys_heartbeats_start(hb, &loop);
    struct ys_hb_status st;
    assert_int_equal(ys_heartbeats_status(hb, "job", ys_wall_ms(), &st), 0);
    int64_t deadline = st.next_due_ms + 300;
    sleep_until(deadline + 50);
    struct ys_ping p = {.ts_ms = deadline - 100, .kind = YS_PING_SUCCESS, .exit_code = -1};
    assert_int_equal(ys_heartbeats_intake(hb, "job", &p, NULL, 0), 0);
    run_for(&loop, 50);
    assert_int_equal(seen.n_results, 1);
    assert_true(seen.results[0].ok);
    assert_int_equal(seen.results[0].ts_ms, p.ts_ms);
    ys_heartbeats_close(hb);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_heartbeats_free(hb);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A check never pinged whose "missed" alert was firing at shutdown: its
 * miss is in the store, its pings are not. Restarted, it must read DOWN
 * with problem missed from the first report on (NEW, then LATE with no
 * problem, resolved the alert and fired it again a second later), emit
 * the stored miss no second time, and go on missing its next slots. */
static void test_restart_keeps_a_miss(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_err err = {{0}};
    struct ys_store *s = fixture_open(false, 0);
    int64_t now = ys_wall_ms();
    struct ys_result miss;
    ys_result_init(&miss);
    miss.check_id = 6; /* job */
    miss.ts_ms = now - 200;
    ys_result_fail(&miss, YS_EC_TIMEOUT, "missed: no success ping for the slot");
    assert_int_equal(s->type->append(s, &miss, 1, &err), 0);

    struct seen seen = {0};
    struct ys_config *cfg = load_cfg(job_yaml);
    struct ys_heartbeats *hb = ys_heartbeats_new(NULL, on_result, &seen);
    ys_heartbeats_set_change_cb(hb, on_change, &seen);
    ys_heartbeats_apply(hb, cfg, now);
    ys_config_unref(cfg);
    assert_int_equal(ys_heartbeats_restore(hb, s, now, &err), 0);
    ys_store_close(s);
    struct ys_hb_status st;
    assert_int_equal(ys_heartbeats_status(hb, "job", now, &st), 0);
    assert_int_equal(st.state, YS_HB_DOWN);
    assert_int_equal(st.problem, YS_HBP_MISSED);
    assert_int_equal(st.last_ping_ms, 0);
    assert_int_equal(st.next_due_ms, miss.ts_ms - 300 + 1000); /* the missed slot's + 1 period */

    ys_heartbeats_start(hb, &loop);
    run_for(&loop, 1500);
    assert_true(seen.n_changes >= 1);
    assert_int_equal(seen.states[0], YS_HB_DOWN);
    for (size_t i = 0; i < seen.n_changes; i++)
        assert_int_equal(seen.problems[i], YS_HBP_MISSED);
    assert_true(seen.n_results >= 1); /* the slot due 500 ms after the restart */
    for (size_t i = 0; i < seen.n_results; i++) {
        assert_false(seen.results[i].ok);
        assert_true(seen.results[i].ts_ms > miss.ts_ms);
    }
    ys_heartbeats_close(hb);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_heartbeats_free(hb);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A cron heartbeat without tz runs in defaults.timezone, loaded with the
 * config (off the loop): applying it reads no zone file. The name is
 * changed to one that does not exist after loading; a table that loaded
 * the zone again would fall back to UTC. */
static void test_default_zone_from_config(void **state)
{
    (void)state;
    struct ys_config *cfg = load_cfg("defaults: { timezone: Europe/Berlin }\n"
                                     "checks:\n"
                                     "  - name: job\n"
                                     "    kind: heartbeat\n"
                                     "    cron: \"30 2 * * *\"\n");
    free(cfg->defaults.timezone);
    cfg->defaults.timezone = strdup("Nowhere/Gone");
    struct ys_heartbeats *hb = ys_heartbeats_new(NULL, NULL, NULL);
    int64_t now = ys_wall_ms();
    ys_heartbeats_apply(hb, cfg, now);
    ys_config_unref(cfg);
    struct ys_tz berlin, utc;
    struct ys_cron c;
    struct ys_err err = {{0}};
    assert_int_equal(ys_tz_load("Europe/Berlin", NULL, &berlin, &err), 0);
    ys_tz_utc(&utc);
    assert_int_equal(ys_cron_parse("30 2 * * *", &c, &err), 0);
    struct ys_hb_status st;
    assert_int_equal(ys_heartbeats_status(hb, "job", now, &st), 0);
    assert_int_equal(st.next_due_ms, ys_cron_next(&c, &berlin, now));
    assert_true(st.next_due_ms != ys_cron_next(&c, &utc, now));
    ys_tz_free(&berlin);
    ys_heartbeats_free(hb);
}

static int n_sched_results;

static void count_result(const struct ys_check *check, const struct ys_result *r, void *arg)
{
    (void)check, (void)r, (void)arg;
    n_sched_results++;
}

/* A heartbeat's interval means nothing to the scheduler: it must never
 * fire it (its start is NULL: a firing would crash). */
static void test_never_scheduled(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_probe_env env = {.loop = &loop};
    struct ys_config *cfg = load_cfg("checks:\n"
                                     "  - name: job\n"
                                     "    kind: heartbeat\n"
                                     "    interval: 100ms\n"
                                     "    period: 1s\n");
    struct ys_scheduler *s = ys_scheduler_new(&env, count_result, NULL);
    ys_scheduler_apply(s, cfg);
    run_for(&loop, 350);
    struct ys_sched_stats st;
    ys_scheduler_stats(s, &st);
    assert_int_equal(st.started, 0);
    assert_int_equal(st.failed_to_start, 0);
    assert_int_equal(n_sched_results, 0);
    ys_scheduler_stop(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_config_unref(cfg);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pings_and_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_and_restored, setup, teardown),
        cmocka_unit_test(test_never_scheduled),
        cmocka_unit_test(test_timer_reads_queued_pings_first),
        cmocka_unit_test_setup_teardown(test_restart_keeps_a_miss, setup, teardown),
        cmocka_unit_test(test_default_zone_from_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
