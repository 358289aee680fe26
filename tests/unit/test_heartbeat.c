/*
 * test_heartbeat.c - the heartbeat tracker (slo/heartbeat.h), table-driven.
 *
 * Each scenario is a schedule, a start time and a list of steps: a ping
 * (success, start, fail, exit code, with or without a run id) or a tick at
 * a given time, with what it must emit (how many results, the last one's
 * verdict, message and duration) and the state, problem and next deadline
 * after it. Times are written as offsets beside the schedule so each
 * answer can be checked by hand. Period mode runs with period 1h, grace
 * 10m; cron mode in Europe/Berlin across both DST changes of 2026. Restore
 * is checked separately: a tracker rebuilt from stored pings must agree
 * with the one that saw them live, and an overdue check counts one miss.
 */
#include "core/civil.h"
#include "core/cron.h"
#include "core/err.h"
#include "core/tz.h"
#include "slo/heartbeat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define T0 INT64_C(1767225600000) /* 2026-01-01 00:00:00 UTC */
#define AT(s) (T0 + (int64_t)(s)*SEC)

enum op { TICK, OK, START, FAIL, EXIT };

struct step {
    int64_t at; /* epoch ms */
    enum op op;
    const char *rid;
    int code; /* EXIT */
    size_t emits;
    bool ok;         /* the last emitted result's verdict */
    const char *msg; /* a substring of its message */
    bool has_dur;
    int64_t dur_ms;
    enum ys_hb_state state; /* after the step, at its time */
    enum ys_hb_problem problem;
    int64_t next; /* ys_hb_next_deadline after the step; 0: not checked */
};
#define DUR(ms) .has_dur = true, .dur_ms = (ms)

static const struct ys_hb_schedule hourly = {
    .period_ms = HOUR,
    .grace_ms = 10 * MIN,
};

static void feed(struct ys_hb_tracker *t, const struct step *s, struct ys_result *out, size_t *n)
{
    if (s->op == TICK) {
        *n = ys_hb_tick(t, s->at, out, 8);
        return;
    }
    struct ys_ping p = {.check_id = 7, .ts_ms = s->at, .exit_code = -1};
    p.kind = s->op == START ? YS_PING_START : s->op == FAIL ? YS_PING_FAIL : YS_PING_SUCCESS;
    if (s->op == EXIT) {
        p.exit_code = (int16_t)s->code;
        p.kind = s->code ? YS_PING_FAIL : YS_PING_SUCCESS;
    }
    snprintf(p.run_id, sizeof p.run_id, "%s", s->rid ? s->rid : "");
    *n = (size_t)ys_hb_ping(t, &p, out);
    if (*n)
        assert_int_equal(out[0].check_id, 7);
}

static void run(const char *name, const struct ys_hb_schedule *sched, int64_t start,
                const struct step *steps, size_t n_steps)
{
    struct ys_hb_tracker t;
    ys_hb_init(&t, sched, start);
    for (size_t i = 0; i < n_steps; i++) {
        const struct step *s = &steps[i];
        struct ys_result out[8];
        size_t n = 0;
        feed(&t, s, out, &n);
        if (n != s->emits)
            fail_msg("%s, step %zu: emitted %zu results, expected %zu", name, i, n, s->emits);
        for (size_t k = 0; k < n; k++)
            if (out[k].ts_ms > s->at || (k > 0 && out[k].ts_ms < out[k - 1].ts_ms))
                fail_msg("%s, step %zu: result %zu at %lld is out of order", name, i, k,
                         (long long)out[k].ts_ms);
        if (n) {
            const struct ys_result *r = &out[n - 1];
            if (r->ok != s->ok)
                fail_msg("%s, step %zu: ok %d, expected %d (%s)", name, i, r->ok, s->ok,
                         r->message);
            if (s->msg && !strstr(r->message, s->msg))
                fail_msg("%s, step %zu: message '%s' lacks '%s'", name, i, r->message, s->msg);
            if (!s->msg && r->message[0])
                fail_msg("%s, step %zu: unexpected message '%s'", name, i, r->message);
            if (s->has_dur &&
                (r->duration_us != s->dur_ms * 1000 || !(r->flags & YS_RF_HAS_VALUE) ||
                 r->value != (double)s->dur_ms / 1000.0))
                fail_msg("%s, step %zu: duration %lld us, expected %lld ms", name, i,
                         (long long)r->duration_us, (long long)s->dur_ms);
            if (!s->has_dur && (r->flags & YS_RF_HAS_VALUE))
                fail_msg("%s, step %zu: a duration where none was measured", name, i);
        }
        enum ys_hb_state st = ys_hb_state(&t, s->at);
        if (st != s->state)
            fail_msg("%s, step %zu: state %s, expected %s", name, i, ys_hb_state_name(st),
                     ys_hb_state_name(s->state));
        if (t.problem != s->problem)
            fail_msg("%s, step %zu: problem '%s', expected '%s'", name, i,
                     ys_hb_problem_name(t.problem), ys_hb_problem_name(s->problem));
        if (s->next && ys_hb_next_deadline(&t) != s->next)
            fail_msg("%s, step %zu: next deadline %+lld s from T0, expected %+lld s", name, i,
                     (long long)((ys_hb_next_deadline(&t) - T0) / SEC),
                     (long long)((s->next - T0) / SEC));
    }
}

#define RUN(name, sched, start, ...)                                                               \
    do {                                                                                           \
        const struct step steps_[] = {__VA_ARGS__};                                                \
        run(name, sched, start, steps_, sizeof steps_ / sizeof steps_[0]);                         \
    } while (0)

/* Tracking starts at T0, so the first slot is due at +3600 s and missed
 * at +4200 s; each success moves the next due time to its own time + 1h. */
static void test_period_on_time_and_late(void **state)
{
    (void)state;
    RUN("on time", &hourly, T0, {.at = AT(0), .op = TICK, .state = YS_HB_NEW, .next = AT(4200)},
        {.at = AT(3000), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP, .next = AT(7200)},
        {.at = AT(6600), .op = TICK, .state = YS_HB_UP},
        {.at = AT(6601), .op = TICK, .state = YS_HB_LATE},
        {.at = AT(7199), .op = TICK, .state = YS_HB_LATE},
        {.at = AT(7100), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP, .next = AT(11300)});
    RUN("late within grace", &hourly, T0, {.at = AT(3700), .op = TICK, .state = YS_HB_LATE},
        {.at = AT(4199), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP, .next = AT(8399)});
}

static void test_period_missed(void **state)
{
    (void)state;
    RUN("missed, one result per slot", &hourly, T0,
        {.at = AT(4199), .op = TICK, .state = YS_HB_LATE},
        {.at = AT(4200),
         .op = TICK,
         .emits = 1,
         .ok = false,
         .msg = "missed",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED,
         .next = AT(7800)},
        /* two more deadlines pass (7800 and 11400): two more results */
        {.at = AT(11400),
         .op = TICK,
         .emits = 2,
         .ok = false,
         .msg = "2026-01-01T03:00:00.000Z",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED,
         .next = AT(15000)},
        /* the job comes back in the second half of the period: this slot */
        {.at = AT(13000), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP, .next = AT(17200)});
    RUN("a late ping after a miss emits nothing more", &hourly, T0,
        {.at = AT(4200),
         .op = TICK,
         .emits = 1,
         .ok = false,
         .msg = "missed",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED},
        {.at = AT(4300), .op = OK, .state = YS_HB_UP, .next = AT(8500)},
        {.at = AT(8400), .op = TICK, .state = YS_HB_LATE},
        {.at = AT(8000), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP});
    RUN("a late failure after a miss", &hourly, T0,
        {.at = AT(4200),
         .op = TICK,
         .emits = 1,
         .ok = false,
         .msg = "missed",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED},
        {.at = AT(4300), .op = EXIT, .code = 2, .state = YS_HB_FAILED, .problem = YS_HBP_FAILED});
}

static void test_period_failures(void **state)
{
    (void)state;
    /* Each verdict below is in a slot of its own (a period apart). */
    RUN("fail ping", &hourly, T0,
        {.at = AT(1000), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP, .next = AT(5200)},
        {.at = AT(5000),
         .op = FAIL,
         .emits = 1,
         .ok = false,
         .msg = "job reported failure",
         .state = YS_HB_FAILED,
         .problem = YS_HBP_FAILED,
         .next = AT(9200)},
        {.at = AT(9000), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP});
    RUN("exit codes", &hourly, T0,
        {.at = AT(1000),
         .op = EXIT,
         .code = 3,
         .emits = 1,
         .ok = false,
         .msg = "job reported failure (exit 3)",
         .state = YS_HB_FAILED,
         .problem = YS_HBP_FAILED},
        {.at = AT(5000), .op = EXIT, .code = 0, .emits = 1, .ok = true, .state = YS_HB_UP},
        {.at = AT(9000),
         .op = EXIT,
         .code = 255,
         .emits = 1,
         .ok = false,
         .msg = "(exit 255)",
         .state = YS_HB_FAILED,
         .problem = YS_HBP_FAILED});
}

/* A slot gets one verdict: the first verdict ping. Later pings in the
 * first half of the next period belong to that slot and only change the
 * state; from half a period before the due time on, a ping meets the next
 * slot. */
static void test_period_one_verdict_per_slot(void **state)
{
    (void)state;
    /* due 4600 after the failure; its slot opens at 4600 - 1800 = 2800 */
    RUN("a retry in the same slot changes the state only", &hourly, T0,
        {.at = AT(1000),
         .op = FAIL,
         .emits = 1,
         .ok = false,
         .msg = "job reported failure",
         .state = YS_HB_FAILED,
         .problem = YS_HBP_FAILED,
         .next = AT(5200)},
        {.at = AT(1060), .op = OK, .state = YS_HB_UP, .next = AT(5200)},
        {.at = AT(2799), .op = OK, .state = YS_HB_UP, .next = AT(5200)},
        {.at = AT(2800), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP, .next = AT(7000)});
    RUN("a failure after a success in the same slot", &hourly, T0,
        {.at = AT(1000), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP},
        {.at = AT(1100),
         .op = EXIT,
         .code = 4,
         .state = YS_HB_FAILED,
         .problem = YS_HBP_FAILED,
         .next = AT(5200)},
        {.at = AT(4700), .op = TICK, .state = YS_HB_FAILED, .problem = YS_HBP_FAILED},
        {.at = AT(4800), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP, .next = AT(9000)});
}

/* Feeds n pings of kind from `from`, step_ms apart, ticking before each
 * as the daemon does; returns how many results came out. */
static size_t flood(struct ys_hb_tracker *t, int64_t from, int64_t step_ms, size_t n,
                    enum ys_ping_kind kind)
{
    struct ys_result out[8];
    size_t emitted = 0;
    for (size_t i = 0; i < n; i++) {
        struct ys_ping p = {.check_id = 7, .ts_ms = from + (int64_t)i * step_ms, .exit_code = -1};
        p.kind = (uint8_t)kind;
        emitted += ys_hb_tick(t, p.ts_ms, out, 8);
        emitted += (size_t)ys_hb_ping(t, &p, out);
    }
    return emitted;
}

/* The review's case: thousands of pings to an hourly check in seconds
 * gave one ok result each. A slot closes once, however often it is
 * pinged. */
static void test_period_flood(void **state)
{
    (void)state;
    struct ys_hb_tracker t;
    ys_hb_init(&t, &hourly, T0);
    /* 1,000 pings within 7 s: one result. */
    assert_int_equal(flood(&t, AT(100), 7, 1000, YS_PING_SUCCESS), 1);
    assert_int_equal(ys_hb_state(&t, AT(107)), YS_HB_UP);
    assert_int_equal(t.last_success_ms, AT(100) + 999 * 7);
    assert_int_equal(ys_hb_next_deadline(&t), AT(100 + 4200)); /* from the first */
    /* 1,000 more spread over the rest of the half period, then 1,000 fail
     * pings: still that one slot. */
    assert_int_equal(flood(&t, AT(108), 1690, 1000, YS_PING_SUCCESS), 0);
    assert_int_equal(flood(&t, AT(1800), 1, 1000, YS_PING_FAIL), 0);
    assert_int_equal(ys_hb_state(&t, AT(1801)), YS_HB_FAILED);
    assert_int_equal(t.problem, YS_HBP_FAILED);
    /* From half a period before the due time: the next slot, once. */
    assert_int_equal(flood(&t, AT(1900), 1000, 1000, YS_PING_SUCCESS), 1);
    assert_int_equal(ys_hb_state(&t, AT(1900)), YS_HB_UP);
    assert_int_equal(ys_hb_next_deadline(&t), AT(1900 + 4200));
}

static void test_period_runs(void **state)
{
    (void)state;
    RUN("start without end", &hourly, T0,
        {.at = AT(1000), .op = START, .state = YS_HB_RUNNING, .next = AT(4200)},
        {.at = AT(4000), .op = TICK, .state = YS_HB_RUNNING},
        {.at = AT(4200),
         .op = TICK,
         .emits = 1,
         .ok = false,
         .msg = "missed",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED});
    RUN("run ids pair two concurrent runs", &hourly, T0,
        {.at = AT(100), .op = START, .rid = "a", .state = YS_HB_RUNNING},
        {.at = AT(200), .op = START, .rid = "b", .state = YS_HB_RUNNING},
        {.at = AT(500),
         .op = OK,
         .rid = "b",
         .emits = 1,
         .ok = true,
         DUR(300 * SEC),
         .state = YS_HB_RUNNING},
        /* in the next slot (it opens at 500 + 1800) */
        {.at = AT(2400),
         .op = OK,
         .rid = "a",
         .emits = 1,
         .ok = true,
         DUR(2300 * SEC),
         .state = YS_HB_UP},
        /* an end whose id started nothing measures nothing */
        {.at = AT(6100), .op = OK, .rid = "zzz", .emits = 1, .ok = true, .state = YS_HB_UP});
    RUN("without an id the newest run ends; a second anonymous start replaces the first", &hourly,
        T0, {.at = AT(100), .op = START, .state = YS_HB_RUNNING},
        {.at = AT(200), .op = START, .state = YS_HB_RUNNING},
        {.at = AT(260), .op = OK, .emits = 1, .ok = true, DUR(60 * SEC), .state = YS_HB_UP},
        {.at = AT(2100), .op = START, .rid = "x", .state = YS_HB_RUNNING},
        {.at = AT(2110),
         .op = FAIL,
         .emits = 1,
         .ok = false,
         .msg = "failure",
         DUR(10 * SEC),
         .state = YS_HB_FAILED,
         .problem = YS_HBP_FAILED});
}

static void test_period_durations(void **state)
{
    (void)state;
    struct ys_hb_schedule s = hourly;
    s.min_duration_ms = 1 * MIN;
    s.max_duration_ms = 10 * MIN;
    RUN("too short", &s, T0, {.at = AT(100), .op = START, .state = YS_HB_RUNNING},
        {.at = AT(110),
         .op = OK,
         .emits = 1,
         .ok = false,
         .msg = "too short: ran 10s, "
                "min_duration 1m",
         DUR(10 * SEC),
         .state = YS_HB_FAILED,
         .problem = YS_HBP_TOO_SHORT},
        {.at = AT(2000), .op = START, .state = YS_HB_RUNNING, .problem = YS_HBP_TOO_SHORT},
        {.at = AT(2060), .op = OK, .emits = 1, .ok = true, DUR(60 * SEC), .state = YS_HB_UP});
    RUN("too long: flagged while running, judged at the end", &s, T0,
        {.at = AT(100), .op = START, .state = YS_HB_RUNNING, .next = AT(700)},
        {.at = AT(699), .op = TICK, .state = YS_HB_RUNNING},
        {.at = AT(700),
         .op = TICK,
         .state = YS_HB_RUNNING,
         .problem = YS_HBP_TOO_LONG,
         .next = AT(4200)},
        {.at = AT(900),
         .op = OK,
         .emits = 1,
         .ok = false,
         .msg = "too long: ran 13m20s, "
                "max_duration 10m",
         DUR(800 * SEC),
         .state = YS_HB_FAILED,
         .problem = YS_HBP_TOO_LONG});
    RUN("no duration without a start", &s, T0,
        {.at = AT(100), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP});
}

/* Europe/Berlin, 2026: spring forward on 03-29 at 01:00 UTC (02:00 CET ->
 * 03:00 CEST), fall back on 10-25 at 01:00 UTC (03:00 CEST -> 02:00 CET). */
static int64_t ut(int y, int m, int d, int hh, int mm, int ss)
{
    return (ys_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * SEC;
}

static void test_cron_dst(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    struct ys_cron daily, hourly_cron;
    assert_int_equal(ys_tz_load("Europe/Berlin", NULL, &tz, &err), 0);
    assert_int_equal(ys_cron_parse("30 2 * * *", &daily, &err), 0);
    assert_int_equal(ys_cron_parse("0 * * * *", &hourly_cron, &err), 0);
    struct ys_hb_schedule s = {.cron = &daily, .tz = &tz, .grace_ms = 5 * MIN};

    /* 02:30 local is 01:30 UTC in winter, 00:30 UTC in summer; on 03-29
     * it does not exist and fires at the end of the gap, 03:00 CEST. */
    RUN("spring forward (23 h day)", &s, ut(2026, 3, 28, 0, 0, 0),
        {.at = ut(2026, 3, 28, 0, 0, 0),
         .op = TICK,
         .state = YS_HB_NEW,
         .next = ut(2026, 3, 28, 1, 35, 0)},
        {.at = ut(2026, 3, 28, 1, 31, 0),
         .op = OK,
         .emits = 1,
         .ok = true,
         .state = YS_HB_UP,
         .next = ut(2026, 3, 29, 1, 0, 0)},
        {.at = ut(2026, 3, 29, 1, 0, 30),
         .op = TICK,
         .state = YS_HB_LATE,
         .next = ut(2026, 3, 29, 1, 5, 0)},
        {.at = ut(2026, 3, 29, 1, 2, 0),
         .op = OK,
         .emits = 1,
         .ok = true,
         .state = YS_HB_UP,
         .next = ut(2026, 3, 30, 0, 30, 0)},
        {.at = ut(2026, 3, 30, 0, 35, 0),
         .op = TICK,
         .emits = 1,
         .ok = false,
         .msg = "slot due 2026-03-30T00:30:00.000Z",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED,
         .next = ut(2026, 3, 31, 0, 30, 0)});

    /* 02:30 local happens twice on 10-25 and fires once, at the first
     * (00:30 UTC); a run at the second 02:30 (01:30 UTC) is the same slot.
     * The next fire is 25 hours later. */
    RUN("fall back (25 h day)", &s, ut(2026, 10, 24, 12, 0, 0),
        {.at = ut(2026, 10, 25, 0, 31, 0),
         .op = OK,
         .emits = 1,
         .ok = true,
         .state = YS_HB_UP,
         .next = ut(2026, 10, 26, 1, 30, 0)},
        {.at = ut(2026, 10, 25, 1, 31, 0), .op = OK, .state = YS_HB_UP},
        {.at = ut(2026, 10, 26, 1, 0, 0), .op = TICK, .state = YS_HB_UP},
        {.at = ut(2026, 10, 26, 1, 35, 0),
         .op = TICK,
         .emits = 1,
         .ok = false,
         .msg = "slot due 2026-10-26T01:30:00.000Z",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED});

    /* Hourly across the fall back: 02:00 local fires once (00:00 UTC), so
     * no slot exists at 01:00 UTC and nothing is missed there. */
    s.cron = &hourly_cron;
    RUN("hourly across the fall back", &s, ut(2026, 10, 24, 23, 30, 0),
        {.at = ut(2026, 10, 25, 0, 1, 0),
         .op = OK,
         .emits = 1,
         .ok = true,
         .state = YS_HB_UP,
         .next = ut(2026, 10, 25, 2, 0, 0)},
        {.at = ut(2026, 10, 25, 1, 1, 0), .op = OK, .state = YS_HB_UP},
        {.at = ut(2026, 10, 25, 1, 50, 0), .op = TICK, .state = YS_HB_UP},
        {.at = ut(2026, 10, 25, 2, 1, 0), .op = OK, .emits = 1, .ok = true, .state = YS_HB_UP});

    /* A clock a little ahead: 30 s before the fire counts for that slot;
     * 2 minutes before is the previous (already closed) slot. */
    RUN("skew", &s, ut(2026, 6, 1, 0, 10, 0),
        {.at = ut(2026, 6, 1, 0, 58, 0),
         .op = OK,
         .state = YS_HB_UP,
         .next = ut(2026, 6, 1, 1, 5, 0)},
        {.at = ut(2026, 6, 1, 0, 59, 30),
         .op = OK,
         .emits = 1,
         .ok = true,
         .state = YS_HB_UP,
         .next = ut(2026, 6, 1, 2, 0, 0)},
        {.at = ut(2026, 6, 1, 1, 6, 0), .op = TICK, .state = YS_HB_UP},
        {.at = ut(2026, 6, 1, 2, 5, 0),
         .op = TICK,
         .emits = 1,
         .ok = false,
         .msg = "missed",
         .state = YS_HB_DOWN,
         .problem = YS_HBP_MISSED},
        /* late for the 02:00 slot: nothing more */
        {.at = ut(2026, 6, 1, 2, 7, 0), .op = OK, .state = YS_HB_UP},
        {.at = ut(2026, 6, 1, 3, 0, 10),
         .op = FAIL,
         .emits = 1,
         .ok = false,
         .msg = "failure",
         .state = YS_HB_FAILED,
         .problem = YS_HBP_FAILED});
    ys_tz_free(&tz);
}

/* Feeds pings to a live tracker (ticking before each, as the daemon
 * does) and returns the pings for restore. */
static void live_feed(struct ys_hb_tracker *t, const struct ys_ping *p, size_t n)
{
    struct ys_result out[8];
    for (size_t i = 0; i < n; i++) {
        while (ys_hb_tick(t, p[i].ts_ms, out, 8) == 8)
            ;
        ys_hb_ping(t, &p[i], out);
    }
}

#define PING(s, k, rid)                                                                            \
    {                                                                                              \
        .check_id = 7, .ts_ms = AT(s), .kind = (k), .exit_code = -1, .run_id = rid                 \
    }

static void test_restore(void **state)
{
    (void)state;
    static const struct ys_ping pings[] = {
        PING(1000, YS_PING_SUCCESS, ""),
        PING(4000, YS_PING_START, "r1"),
        PING(4100, YS_PING_SUCCESS, "r1"),
        PING(8000, YS_PING_START, ""),
    };
    size_t n = sizeof pings / sizeof pings[0];
    struct ys_result out[8];
    struct ys_hb_tracker live, back;

    /* Restarted soon after: same state, same deadline, nothing to emit. */
    ys_hb_init(&live, &hourly, T0);
    live_feed(&live, pings, n);
    ys_hb_init(&back, &hourly, AT(8100));
    ys_hb_restore(&back, pings, n, NULL, AT(8100));
    assert_int_equal(ys_hb_state(&back, AT(8100)), YS_HB_RUNNING);
    assert_int_equal(ys_hb_state(&back, AT(8100)), ys_hb_state(&live, AT(8100)));
    assert_int_equal(back.last_success_ms, AT(4100));
    assert_int_equal(back.last_ping_ms, AT(8000));
    assert_int_equal(back.last_duration_ms, 100 * SEC);
    assert_int_equal(back.n_runs, 1);
    assert_int_equal(back.runs[0].start_ms, AT(8000));
    assert_int_equal(ys_hb_next_deadline(&back), AT(4100 + 3600 + 600));
    assert_int_equal(ys_hb_next_deadline(&back), ys_hb_next_deadline(&live));
    assert_int_equal(ys_hb_tick(&back, AT(8100), out, 8), 0);
    /* the run started before the restart still pairs with its end */
    struct ys_ping end = PING(8200, YS_PING_SUCCESS, "");
    assert_int_equal(ys_hb_ping(&back, &end, out), 1);
    assert_true(out[0].ok);
    assert_int_equal(out[0].duration_us, 200 * SEC * 1000);

    /* Restarted ten hours later: DOWN at once, one missed slot at the next
     * tick (not ten), then the schedule goes on from there. */
    ys_hb_init(&back, &hourly, AT(40000));
    ys_hb_restore(&back, pings, 3, NULL, AT(40000));
    assert_int_equal(ys_hb_state(&back, AT(40000)), YS_HB_DOWN);
    assert_int_equal(ys_hb_tick(&back, AT(40000), out, 8), 1);
    assert_false(out[0].ok);
    assert_non_null(strstr(out[0].message, "missed"));
    assert_true(out[0].ts_ms <= AT(40000) && out[0].ts_ms > AT(40000 - 3600));
    assert_int_equal(ys_hb_tick(&back, AT(40000), out, 8), 0);
    assert_int_equal(ys_hb_state(&back, AT(40000)), YS_HB_DOWN);
    assert_true(ys_hb_next_deadline(&back) > AT(40000));

    /* No stored pings: a fresh start. */
    ys_hb_init(&back, &hourly, AT(5));
    ys_hb_restore(&back, NULL, 0, NULL, AT(5));
    assert_int_equal(ys_hb_state(&back, AT(5)), YS_HB_NEW);
    assert_int_equal(ys_hb_next_deadline(&back), AT(5 + 4200));
}

/* A stored miss at ts, as the live tracker emitted it. */
static struct ys_result miss_at(int64_t ts)
{
    struct ys_result r;
    ys_result_init(&r);
    r.check_id = 7;
    r.ts_ms = ts;
    ys_result_fail(&r, YS_EC_TIMEOUT, "missed: no success ping for the slot");
    return r;
}

/* The newest stored result tells restore which slots were judged before
 * the restart: a never-pinged check that was missing its slots is DOWN
 * with problem missed at once (not NEW, then LATE with no problem, which
 * resolved its alert), and a miss already stored is not emitted again. */
static void test_restore_from_last_result(void **state)
{
    (void)state;
    struct ys_result out[8];
    struct ys_hb_tracker t;

    /* Never pinged; the slot due at 10000 was missed (stored at 10600).
     * Restarted at 11000: missed, the next slot due at 13600. */
    struct ys_result last = miss_at(AT(10600));
    ys_hb_init(&t, &hourly, AT(11000));
    ys_hb_restore(&t, NULL, 0, &last, AT(11000));
    assert_int_equal(ys_hb_state(&t, AT(11000)), YS_HB_DOWN);
    assert_int_equal(t.problem, YS_HBP_MISSED);
    assert_int_equal(t.last_ping_ms, 0);
    assert_int_equal(ys_hb_tick(&t, AT(11000), out, 8), 0); /* stored already */
    assert_int_equal(ys_hb_next_deadline(&t), AT(14200));
    assert_int_equal(ys_hb_tick(&t, AT(14200), out, 8), 1);
    assert_non_null(strstr(out[0].message, "2026-01-01T03:46:40.000Z")); /* 13600 */
    /* Restarted ten hours later: one miss for the downtime, at once. */
    ys_hb_init(&t, &hourly, AT(47000));
    ys_hb_restore(&t, NULL, 0, &last, AT(47000));
    assert_int_equal(ys_hb_state(&t, AT(47000)), YS_HB_DOWN);
    assert_int_equal(t.problem, YS_HBP_MISSED);
    assert_int_equal(ys_hb_tick(&t, AT(47000), out, 8), 1);
    assert_int_equal(ys_hb_tick(&t, AT(47000), out, 8), 0);
    /* A newest result that is not a miss (its pings expired): fresh. */
    struct ys_result ok = last;
    ok.ok = true;
    ok.errclass = YS_EC_NONE;
    ys_hb_init(&t, &hourly, AT(11000));
    ys_hb_restore(&t, NULL, 0, &ok, AT(11000));
    assert_int_equal(ys_hb_state(&t, AT(11000)), YS_HB_NEW);
    assert_int_equal(t.problem, YS_HBP_NONE);

    /* Pinged at 1000 (due 4600), missed at 5200 and stored; restarted at
     * 5300: the stored miss is not emitted again. */
    const struct ys_ping ping = PING(1000, YS_PING_SUCCESS, "");
    last = miss_at(AT(5200));
    ys_hb_init(&t, &hourly, AT(5300));
    ys_hb_restore(&t, &ping, 1, &last, AT(5300));
    assert_int_equal(ys_hb_state(&t, AT(5300)), YS_HB_DOWN);
    assert_int_equal(t.problem, YS_HBP_MISSED);
    assert_int_equal(ys_hb_tick(&t, AT(5300), out, 8), 0);
    assert_int_equal(ys_hb_next_deadline(&t), AT(8800));
    /* Without the stored result it would be (the daemon died before the
     * writer stored it). */
    ys_hb_restore(&t, &ping, 1, NULL, AT(5300));
    assert_int_equal(ys_hb_tick(&t, AT(5300), out, 8), 1);

    /* Cron: hourly, never pinged, the 02:00 slot missed (stored 02:05);
     * restarted at 02:30: missed, and the 03:00 slot is next. */
    struct ys_tz tz;
    struct ys_cron c;
    struct ys_err err = {{0}};
    ys_tz_utc(&tz);
    assert_int_equal(ys_cron_parse("0 * * * *", &c, &err), 0);
    struct ys_hb_schedule s = {.cron = &c, .tz = &tz, .grace_ms = 5 * MIN};
    last = miss_at(AT(2 * 3600 + 300));
    ys_hb_init(&t, &s, AT(2 * 3600 + 1800));
    ys_hb_restore(&t, NULL, 0, &last, AT(2 * 3600 + 1800));
    assert_int_equal(ys_hb_state(&t, AT(2 * 3600 + 1800)), YS_HB_DOWN);
    assert_int_equal(t.problem, YS_HBP_MISSED);
    assert_int_equal(ys_hb_tick(&t, AT(2 * 3600 + 1800), out, 8), 0);
    assert_int_equal(ys_hb_next_deadline(&t), AT(3 * 3600));
    assert_int_equal(ys_hb_tick(&t, AT(3 * 3600 + 300), out, 8), 1);
    assert_non_null(strstr(out[0].message, "2026-01-01T03:00:00.000Z"));
}

static void test_restore_cron(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_cron c;
    struct ys_err err = {{0}};
    ys_tz_utc(&tz);
    assert_int_equal(ys_cron_parse("0 * * * *", &c, &err), 0);
    struct ys_hb_schedule s = {.cron = &c, .tz = &tz, .grace_ms = 5 * MIN};
    /* T0 is on the hour: pings at 00:01 and 01:02 met their slots. */
    const struct ys_ping pings[] = {PING(60, YS_PING_SUCCESS, ""), PING(3720, YS_PING_SUCCESS, "")};
    struct ys_hb_tracker t;
    struct ys_result out[8];
    ys_hb_init(&t, &s, AT(3800));
    ys_hb_restore(&t, pings, 2, NULL, AT(3800));
    assert_int_equal(ys_hb_state(&t, AT(3800)), YS_HB_UP);
    assert_int_equal(ys_hb_tick(&t, AT(3800), out, 8), 0);
    assert_int_equal(ys_hb_next_deadline(&t), AT(7200));
    /* A restart at 02:30 after the 02:00 slot went unmet: DOWN at once. */
    ys_hb_init(&t, &s, AT(2 * 3600 + 1800));
    ys_hb_restore(&t, pings, 2, NULL, AT(2 * 3600 + 1800));
    assert_int_equal(ys_hb_state(&t, AT(2 * 3600 + 1800)), YS_HB_DOWN);
    assert_int_equal(ys_hb_tick(&t, AT(2 * 3600 + 1800), out, 8), 1);
    assert_non_null(strstr(out[0].message, "2026-01-01T02:00:00.000Z"));
    /* A restart at 05:30 after the 02:00..05:00 slots went unmet: one miss. */
    ys_hb_init(&t, &s, AT(5 * 3600 + 1800));
    ys_hb_restore(&t, pings, 2, NULL, AT(5 * 3600 + 1800));
    assert_int_equal(ys_hb_state(&t, AT(5 * 3600 + 1800)), YS_HB_DOWN);
    assert_int_equal(ys_hb_tick(&t, AT(5 * 3600 + 1800), out, 8), 1);
    assert_non_null(strstr(out[0].message, "2026-01-01T05:00:00.000Z"));
    assert_int_equal(ys_hb_tick(&t, AT(5 * 3600 + 1800), out, 8), 0);
    assert_int_equal(ys_hb_next_deadline(&t), AT(6 * 3600));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ys_hb_state_name(YS_HB_NEW), "new");
    assert_string_equal(ys_hb_state_name(YS_HB_UP), "up");
    assert_string_equal(ys_hb_state_name(YS_HB_LATE), "late");
    assert_string_equal(ys_hb_state_name(YS_HB_DOWN), "down");
    assert_string_equal(ys_hb_state_name(YS_HB_RUNNING), "running");
    assert_string_equal(ys_hb_state_name(YS_HB_FAILED), "failed");
    assert_string_equal(ys_hb_problem_name(YS_HBP_NONE), "");
    assert_string_equal(ys_hb_problem_name(YS_HBP_MISSED), "missed");
    assert_string_equal(ys_hb_problem_name(YS_HBP_FAILED), "failed");
    assert_string_equal(ys_hb_problem_name(YS_HBP_TOO_LONG), "too_long");
    assert_string_equal(ys_hb_problem_name(YS_HBP_TOO_SHORT), "too_short");
}

/* More open runs than the tracker keeps: the oldest is dropped. */
static void test_run_cap(void **state)
{
    (void)state;
    struct ys_hb_tracker t;
    struct ys_result out[1];
    ys_hb_init(&t, &hourly, T0);
    for (int i = 0; i < YS_HB_MAX_RUNS + 2; i++) {
        struct ys_ping p = {.ts_ms = AT(i), .kind = YS_PING_START, .exit_code = -1};
        snprintf(p.run_id, sizeof p.run_id, "r%d", i);
        assert_int_equal(ys_hb_ping(&t, &p, out), 0);
    }
    assert_int_equal(t.n_runs, YS_HB_MAX_RUNS);
    struct ys_ping end = {
        .ts_ms = AT(100), .kind = YS_PING_SUCCESS, .exit_code = -1, .run_id = "r0"};
    assert_int_equal(ys_hb_ping(&t, &end, out), 1);
    assert_false(out[0].flags & YS_RF_HAS_VALUE); /* r0 was dropped */
    snprintf(end.run_id, sizeof end.run_id, "r%d", YS_HB_MAX_RUNS + 1);
    end.ts_ms = AT(2000); /* the next slot */
    assert_int_equal(ys_hb_ping(&t, &end, out), 1);
    assert_int_equal(out[0].duration_us, (2000 - YS_HB_MAX_RUNS - 1) * SEC * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period_on_time_and_late),
        cmocka_unit_test(test_period_missed),
        cmocka_unit_test(test_period_failures),
        cmocka_unit_test(test_period_one_verdict_per_slot),
        cmocka_unit_test(test_period_flood),
        cmocka_unit_test(test_period_runs),
        cmocka_unit_test(test_period_durations),
        cmocka_unit_test(test_cron_dst),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_restore_cron),
        cmocka_unit_test(test_restore_from_last_result),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_run_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
