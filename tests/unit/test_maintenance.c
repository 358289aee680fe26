/*
 * test_maintenance.c - maintenance windows (slo/maintenance.h): one-off
 * [start, end), recurring cron windows with overlapping and touching
 * occurrences, windows in Europe/Berlin across both 2026 DST changes, and
 * the next opening. Expected instants are written out in UTC beside each
 * case.
 */
#include "core/civil.h"
#include "core/cron.h"
#include "core/err.h"
#include "core/tz.h"
#include "slo/maintenance.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)

/* UTC y-m-d hh:mm as epoch ms. */
static int64_t ut(int y, int m, int d, int hh, int mm)
{
    return (ys_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60) * 1000;
}

struct active_case {
    int64_t t;
    bool open;
    int64_t until; /* when open */
    int64_t next_open;
};

static void check_cases(const struct ys_maint_window *w, const char *what,
                        const struct active_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t until = -7;
        bool open = ys_maint_active(w, c[i].t, &until);
        int64_t nx = ys_maint_next_open(w, c[i].t);
        if (open != c[i].open || (open && until != c[i].until) || nx != c[i].next_open)
            fail_msg("%s case %zu: open %d until %lld next_open %lld, want %d %lld %lld", what, i,
                     open, (long long)until, (long long)nx, c[i].open, (long long)c[i].until,
                     (long long)c[i].next_open);
        assert_int_equal(ys_maint_active(w, c[i].t, NULL), open); /* until is optional */
    }
}

static struct ys_cron cron(const char *expr)
{
    struct ys_cron c;
    struct ys_err err = {{0}};
    if (ys_cron_parse(expr, &c, &err) != 0)
        fail_msg("%s: %s", expr, err.msg);
    return c;
}

static void test_one_off(void **state)
{
    (void)state;
    int64_t s = ut(2026, 5, 1, 10, 0), e = ut(2026, 5, 1, 12, 0);
    struct ys_maint_window w = {.start_ms = s, .end_ms = e};
    const struct active_case c[] = {
        {s - 1, false, 0, s},    {s, true, e, -1}, {e - 1, true, e, -1},
        {e, false, 0, -1}, /* end is exclusive; a past window never opens again */
        {e + DAY, false, 0, -1},
    };
    check_cases(&w, "one-off", c, sizeof c / sizeof c[0]);
    struct ys_maint_window empty = {.start_ms = s, .end_ms = s};
    assert_false(ys_maint_active(&empty, s, NULL));
    assert_int_equal(ys_maint_next_open(&empty, s - 1), -1);
}

static void test_recurring(void **state)
{
    (void)state;
    struct ys_tz utc;
    ys_tz_utc(&utc);
    /* daily 02:00 for an hour */
    struct ys_cron daily = cron("0 2 * * *");
    struct ys_maint_window w = {.recurring = true, .cron = &daily, .duration_ms = HOUR, .tz = &utc};
    const struct active_case c1[] = {
        {ut(2026, 5, 1, 1, 0), false, 0, ut(2026, 5, 1, 2, 0)},
        {ut(2026, 5, 1, 2, 0), true, ut(2026, 5, 1, 3, 0), ut(2026, 5, 2, 2, 0)},
        {ut(2026, 5, 1, 2, 59), true, ut(2026, 5, 1, 3, 0), ut(2026, 5, 2, 2, 0)},
        {ut(2026, 5, 1, 3, 0), false, 0, ut(2026, 5, 2, 2, 0)},
    };
    check_cases(&w, "daily", c1, sizeof c1 / sizeof c1[0]);

    /* Overlaps: 01:00, 02:00 and 03:00 for 90 minutes each make one stretch
     * 01:00-04:30; at 02:15 the open occurrences end at 02:30 and 03:30,
     * but the window only closes at 04:30. Starts inside the stretch are
     * not openings. */
    struct ys_cron three = cron("0 1-3 * * *");
    w = (struct ys_maint_window){
        .recurring = true, .cron = &three, .duration_ms = 90 * MIN, .tz = &utc};
    const struct active_case c2[] = {
        {ut(2026, 5, 1, 0, 59), false, 0, ut(2026, 5, 1, 1, 0)},
        {ut(2026, 5, 1, 1, 0), true, ut(2026, 5, 1, 4, 30), ut(2026, 5, 2, 1, 0)},
        {ut(2026, 5, 1, 2, 15), true, ut(2026, 5, 1, 4, 30), ut(2026, 5, 2, 1, 0)},
        {ut(2026, 5, 1, 4, 29), true, ut(2026, 5, 1, 4, 30), ut(2026, 5, 2, 1, 0)},
        {ut(2026, 5, 1, 4, 30), false, 0, ut(2026, 5, 2, 1, 0)},
    };
    check_cases(&w, "overlapping", c2, sizeof c2 / sizeof c2[0]);

    /* Touching occurrences (01:00-02:00, 02:00-03:00) leave no gap. */
    struct ys_cron two = cron("0 1,2 * * *");
    w = (struct ys_maint_window){.recurring = true, .cron = &two, .duration_ms = HOUR, .tz = &utc};
    const struct active_case c3[] = {
        {ut(2026, 5, 1, 1, 30), true, ut(2026, 5, 1, 3, 0), ut(2026, 5, 2, 1, 0)},
        {ut(2026, 5, 1, 2, 0), true, ut(2026, 5, 1, 3, 0), ut(2026, 5, 2, 1, 0)},
    };
    check_cases(&w, "touching", c3, sizeof c3 / sizeof c3[0]);

    /* A window that never closes: open, closing far ahead, never opening anew. */
    struct ys_cron hourly = cron("@hourly");
    w = (struct ys_maint_window){
        .recurring = true, .cron = &hourly, .duration_ms = 2 * HOUR, .tz = &utc};
    int64_t until = 0, t = ut(2026, 5, 1, 10, 30);
    assert_true(ys_maint_active(&w, t, &until));
    assert_true(until >= t + DAY);
    assert_int_equal(ys_maint_next_open(&w, t), -1);

    /* A schedule that never fires, and a zero duration, are never open. */
    struct ys_cron never = cron("0 0 30 2 *");
    w = (struct ys_maint_window){.recurring = true, .cron = &never, .duration_ms = DAY, .tz = &utc};
    assert_false(ys_maint_active(&w, t, NULL));
    assert_int_equal(ys_maint_next_open(&w, t), -1);
    w = (struct ys_maint_window){.recurring = true, .cron = &daily, .duration_ms = 0, .tz = &utc};
    assert_false(ys_maint_active(&w, ut(2026, 5, 1, 2, 0), NULL));
    ys_tz_free(&utc);
}

static void test_dst(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    assert_int_equal(ys_tz_load("Europe/Berlin", NULL, &tz, &err), 0);
    /* 02:30 local for an hour. Spring (2026-03-29): 02:30 does not exist,
     * so the window opens at 03:00 CEST = 01:00 UTC, until 02:00 UTC. Autumn
     * (2026-10-25): only the first 02:30 (00:30 UTC) opens it, until 01:30
     * UTC; the repeated 02:30 CET (01:30 UTC) opens nothing. */
    struct ys_cron c = cron("30 2 * * *");
    struct ys_maint_window w = {.recurring = true, .cron = &c, .duration_ms = HOUR, .tz = &tz};
    const struct active_case cs[] = {
        {ut(2026, 3, 28, 1, 29), false, 0, ut(2026, 3, 28, 1, 30)}, /* winter: 01:30 UTC */
        {ut(2026, 3, 28, 23, 0), false, 0, ut(2026, 3, 29, 1, 0)},
        {ut(2026, 3, 29, 0, 59), false, 0, ut(2026, 3, 29, 1, 0)},
        {ut(2026, 3, 29, 1, 0), true, ut(2026, 3, 29, 2, 0), ut(2026, 3, 30, 0, 30)},
        {ut(2026, 3, 29, 2, 0), false, 0, ut(2026, 3, 30, 0, 30)},
        {ut(2026, 10, 25, 0, 30), true, ut(2026, 10, 25, 1, 30), ut(2026, 10, 26, 1, 30)},
        {ut(2026, 10, 25, 1, 29), true, ut(2026, 10, 25, 1, 30), ut(2026, 10, 26, 1, 30)},
        {ut(2026, 10, 25, 1, 45), false, 0, ut(2026, 10, 26, 1, 30)},
    };
    check_cases(&w, "Berlin 02:30", cs, sizeof cs / sizeof cs[0]);

    /* A window's length is real time: 22:00 local for 4 hours on the night
     * the clocks go forward ends at 01:00 UTC, 03:00 CEST on the wall. */
    struct ys_cron night = cron("0 22 * * *");
    w = (struct ys_maint_window){
        .recurring = true, .cron = &night, .duration_ms = 4 * HOUR, .tz = &tz};
    const struct active_case cn[] = {
        {ut(2026, 3, 28, 21, 0), true, ut(2026, 3, 29, 1, 0), ut(2026, 3, 29, 20, 0)},
        {ut(2026, 3, 29, 1, 0), false, 0, ut(2026, 3, 29, 20, 0)},
    };
    check_cases(&w, "Berlin night", cn, sizeof cn / sizeof cn[0]);
    ys_tz_free(&tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_off),
        cmocka_unit_test(test_recurring),
        cmocka_unit_test(test_dst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
