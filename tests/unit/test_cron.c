/*
 * test_cron.c - cron schedules (core/cron.h): parsing (lists, ranges,
 * steps, names, 7 as Sunday, macros, the Vixie day-of-month/day-of-week
 * rule), error messages, next/prev in UTC and across both 2026 DST changes
 * in Europe/Berlin, an impossible date, and a brute-force comparison: every
 * local minute of a few days is matched against the fields by a plain
 * loop, mapped to UTC, and the result must equal what ys_cron_next and
 * ys_cron_prev find by skipping.
 */
#include "core/civil.h"
#include "core/cron.h"
#include "core/err.h"
#include "core/tz.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)

/* 2026-03-29 01:00 UTC: Berlin goes 02:00 CET -> 03:00 CEST. */
#define EU_SPRING_2026_MS INT64_C(1774746000000)
/* 2026-10-25 01:00 UTC: Berlin goes 03:00 CEST -> 02:00 CET. */
#define EU_AUTUMN_2026_MS INT64_C(1792890000000)

/* UTC y-m-d hh:mm as epoch ms. */
static int64_t ut(int y, int m, int d, int hh, int mm)
{
    return (ys_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60) * 1000;
}

static struct ys_cron parse_ok(const char *expr)
{
    struct ys_cron c;
    struct ys_err err = {{0}};
    if (ys_cron_parse(expr, &c, &err) != 0)
        fail_msg("'%s' rejected: %s", expr, err.msg);
    return c;
}

static uint64_t bits(const int *v)
{
    uint64_t b = 0;
    for (; *v >= 0; v++)
        b |= UINT64_C(1) << *v;
    return b;
}
#define B(...) bits((const int[]){__VA_ARGS__, -1})

static void test_parse(void **state)
{
    (void)state;
    struct ys_cron c = parse_ok("*/15 * * * *");
    assert_true(c.minutes == B(0, 15, 30, 45));
    assert_true(c.hours == 0xffffff);
    assert_true(c.mdays == 0xfffffffe);
    assert_true(c.months == 0x1ffe);
    assert_true(c.wdays == 0x7f);
    assert_true(c.mday_star && c.wday_star);

    assert_true(parse_ok("10-50/20 * * * *").minutes == B(10, 30, 50));
    assert_true(parse_ok("1,3,5 * * * *").minutes == B(1, 3, 5));
    assert_true(parse_ok("5/20 * * * *").minutes == B(5, 25, 45));
    assert_true(parse_ok("0-4,58 * * * *").minutes == B(0, 1, 2, 3, 4, 58));
    c = parse_ok("0 9-17 * * MON-FRI");
    assert_true(c.hours == B(9, 10, 11, 12, 13, 14, 15, 16, 17));
    assert_true(c.wdays == B(1, 2, 3, 4, 5));
    assert_true(c.mday_star && !c.wday_star);
    assert_true(parse_ok("0 0 * * 7").wdays == B(0));
    assert_true(parse_ok("0 0 * * 5-7").wdays == B(0, 5, 6));
    assert_true(parse_ok("0 0 * * sun,Sat").wdays == B(0, 6));
    assert_true(parse_ok("0 0 1 jan,DEC *").months == B(1, 12));
    assert_true(parse_ok("0 0 1 Mar-May/2 *").months == B(3, 5));
    c = parse_ok("0 0 */2 * *");
    assert_true(c.mdays == B(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
    assert_true(c.mday_star);
    c = parse_ok("  0   0\t13 * FRI ");
    assert_true(!c.mday_star && !c.wday_star);

    struct {
        const char *macro, *same;
    } m[] = {
        {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"}, {"@DAILY", "0 0 * * *"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        struct ys_cron a = parse_ok(m[i].macro), b = parse_ok(m[i].same);
        if (memcmp(&a, &b, sizeof a) != 0)
            fail_msg("%s differs from %s", m[i].macro, m[i].same);
    }
}

static void test_errors(void **state)
{
    (void)state;
    struct {
        const char *expr, *msg;
    } c[] = {
        {"60 * * * *", "minute: 60 is out of range 0-59"},
        {"* 24 * * *", "hour: 24 is out of range 0-23"},
        {"* * 0 * *", "day-of-month: 0 is out of range 1-31"},
        {"* * 32 * *", "day-of-month: 32 is out of range 1-31"},
        {"* * * 13 *", "month: 13 is out of range 1-12"},
        {"* * * * 8", "day-of-week: 8 is out of range 0-7"},
        {"* * * FOO *", "month: 'FOO' is not a number or name"},
        {"x * * * *", "minute: 'x' is not a number"},
        {"* * * * MONDAY", "day-of-week: 'MONDAY' is not a number or name"},
        {"*/0 * * * *", "minute: step in '*/0' must be 1-59"},
        {"* */x * * *", "hour: step in '*/x' must be 1-23"},
        {"5-1 * * * *", "minute: range 5-1 runs backwards"},
        {"5x * * * *", "minute: cannot read '5x'"},
        {"1,,2 * * * *", "minute: empty element in '1,,2'"},
        {"* * * *", "expected 5 fields"},
        {"* * * * * *", "expected 5 fields"},
        {"", "got 0"},
        {"@reboot", "unknown schedule '@reboot'"},
        {"@daily extra", "unknown schedule"},
        {"99999999999 * * * *", "minute: 99999999999 is out of range 0-59"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct ys_cron cr;
        struct ys_err err = {{0}};
        if (ys_cron_parse(c[i].expr, &cr, &err) != YS_EINVAL)
            fail_msg("'%s' accepted", c[i].expr);
        if (!strstr(err.msg, c[i].msg))
            fail_msg("'%s': message '%s' lacks '%s'", c[i].expr, err.msg, c[i].msg);
    }
}

struct step_case {
    const char *expr;
    int64_t from, next, prev; /* next after from, prev at from */
};

static void check_steps(const struct ys_tz *tz, const struct step_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ys_cron cr = parse_ok(c[i].expr);
        int64_t nx = ys_cron_next(&cr, tz, c[i].from), pv = ys_cron_prev(&cr, tz, c[i].from);
        if (nx != c[i].next || pv != c[i].prev)
            fail_msg("%s '%s' from %lld: next %lld prev %lld, want %lld %lld", tz->name, c[i].expr,
                     (long long)c[i].from, (long long)nx, (long long)pv, (long long)c[i].next,
                     (long long)c[i].prev);
    }
}

static void test_utc(void **state)
{
    (void)state;
    struct ys_tz tz;
    ys_tz_utc(&tz);
    const struct step_case c[] = {
        {"*/15 * * * *", ut(2026, 1, 1, 0, 7) + 30000, ut(2026, 1, 1, 0, 15), ut(2026, 1, 1, 0, 0)},
        /* next is strictly after, prev at or before */
        {"*/15 * * * *", ut(2026, 1, 1, 0, 15), ut(2026, 1, 1, 0, 30), ut(2026, 1, 1, 0, 15)},
        {"*/15 * * * *", ut(2026, 1, 1, 0, 15) - 1, ut(2026, 1, 1, 0, 15), ut(2026, 1, 1, 0, 0)},
        /* over a year end */
        {"45 23 * * *", ut(2026, 12, 31, 23, 50), ut(2027, 1, 1, 23, 45), ut(2026, 12, 31, 23, 45)},
        {"@yearly", ut(2026, 6, 1, 0, 0), ut(2027, 1, 1, 0, 0), ut(2026, 1, 1, 0, 0)},
        {"0 0 31 * *", ut(2026, 4, 1, 0, 0), ut(2026, 5, 31, 0, 0), ut(2026, 3, 31, 0, 0)},
        /* the next 29 February is two years away */
        {"0 12 29 2 *", ut(2026, 3, 1, 0, 0), ut(2028, 2, 29, 12, 0), ut(2024, 2, 29, 12, 0)},
        /* weekdays only: 2026-01-03 is a Saturday */
        {"30 8 * * 1-5", ut(2026, 1, 3, 0, 0), ut(2026, 1, 5, 8, 30), ut(2026, 1, 2, 8, 30)},
        /* Vixie: both day fields restricted -> the 13th OR any Friday
         * (2026-01-02 and 01-09 are Fridays, 01-13 a Tuesday) */
        {"0 0 13 * FRI", ut(2026, 1, 1, 0, 0), ut(2026, 1, 2, 0, 0), ut(2025, 12, 26, 0, 0)},
        {"0 0 13 * FRI", ut(2026, 1, 9, 0, 0), ut(2026, 1, 13, 0, 0), ut(2026, 1, 9, 0, 0)},
        {"0 0 13 * *", ut(2026, 1, 1, 0, 0), ut(2026, 1, 13, 0, 0), ut(2025, 12, 13, 0, 0)},
        /* day-of-month starred (*\/2: odd days) -> AND: odd-dated Fridays */
        {"0 0 */2 * FRI", ut(2026, 1, 1, 0, 0), ut(2026, 1, 9, 0, 0), ut(2025, 12, 19, 0, 0)},
        /* 7 is Sunday: 2026-01-04 */
        {"0 6 * * 7", ut(2026, 1, 1, 0, 0), ut(2026, 1, 4, 6, 0), ut(2025, 12, 28, 6, 0)},
        /* before the epoch */
        {"0 0 1 * *", -1000, 0, ut(1969, 12, 1, 0, 0)},
    };
    check_steps(&tz, c, sizeof c / sizeof c[0]);
    ys_tz_free(&tz);
}

static void test_impossible(void **state)
{
    (void)state;
    struct ys_tz tz;
    ys_tz_utc(&tz);
    struct ys_cron c = parse_ok("0 0 30 2 *");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ys_cron_next(&c, &tz, ut(2026, 1, 1, 0, 0) + i * DAY), -1);
        assert_int_equal(ys_cron_prev(&c, &tz, ut(2026, 1, 1, 0, 0) + i * DAY), -1);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    printf("# 100 five-year searches for '0 0 30 2 *': %.2f ms\n", ms);
    /* 31 April never comes either, but 31 March does */
    c = parse_ok("0 0 31 4 *");
    assert_int_equal(ys_cron_next(&c, &tz, 0), -1);
    c = parse_ok("0 0 31 3,4 *");
    assert_int_equal(ys_cron_next(&c, &tz, ut(2026, 4, 1, 0, 0)), ut(2027, 3, 31, 0, 0));
    ys_tz_free(&tz);
}

static void test_berlin_dst(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    assert_int_equal(ys_tz_load("Europe/Berlin", NULL, &tz, &err), 0);
    const int64_t sp = EU_SPRING_2026_MS, au = EU_AUTUMN_2026_MS;
    const struct step_case c[] = {
        /* winter: 02:30 CET is 01:30 UTC */
        {"30 2 * * *", ut(2026, 3, 27, 12, 0), ut(2026, 3, 28, 1, 30), ut(2026, 3, 27, 1, 30)},
        /* spring forward: 02:30 does not exist; fire once at 03:00 CEST */
        {"30 2 * * *", ut(2026, 3, 28, 12, 0), sp, ut(2026, 3, 28, 1, 30)},
        {"30 2 * * *", sp, ut(2026, 3, 30, 0, 30), sp},
        /* every slot in the gap and 03:00 itself fire once, at the gap's end */
        {"0,30 2,3 * * *", sp - 1, sp, ut(2026, 3, 28, 2, 30)}, /* 03:30 CET */
        {"0,30 2,3 * * *", sp, sp + 30 * MIN, sp},
        /* fall back: 02:30 occurs twice (00:30 and 01:30 UTC); fire at the first */
        {"30 2 * * *", ut(2026, 10, 24, 12, 0), au - 30 * MIN, ut(2026, 10, 24, 0, 30)},
        {"30 2 * * *", au - 30 * MIN, ut(2026, 10, 26, 1, 30), au - 30 * MIN},
        {"30 2 * * *", au + 45 * MIN, ut(2026, 10, 26, 1, 30), au - 30 * MIN},
        /* hourly at :30 skips the repeated 02:30 (01:30 UTC) */
        {"30 * * * *", au - 30 * MIN, au + 90 * MIN, au - 30 * MIN},
        {"30 * * * *", au + 45 * MIN, au + 90 * MIN, au - 30 * MIN},
        /* during the repeated hour the latest fire is the first 02:59 */
        {"* * * * *", au + 45 * MIN, au + 60 * MIN, au - MIN},
        /* midnight is unaffected: 00:00 CEST is 22:00 UTC the day before */
        {"@daily", au, ut(2026, 10, 25, 23, 0), ut(2026, 10, 24, 22, 0)},
    };
    check_steps(&tz, c, sizeof c / sizeof c[0]);

    /* Count the fires of "30 2 * * *" on each changeover day: once each. */
    struct ys_cron cr = parse_ok("30 2 * * *");
    int64_t days[2][2] = {{ut(2026, 3, 28, 22, 0), ut(2026, 3, 29, 22, 0)},
                          {ut(2026, 10, 24, 22, 0), ut(2026, 10, 25, 23, 0)}};
    for (int i = 0; i < 2; i++) {
        int n = 0;
        for (int64_t t = ys_cron_next(&cr, &tz, days[i][0]); t >= 0 && t < days[i][1];
             t = ys_cron_next(&cr, &tz, t))
            n++;
        assert_int_equal(n, 1);
    }
    ys_tz_free(&tz);
}

/* ---- brute force ---- */

/* Whether local minute y-m-d hh:mm matches c, by reading the bits directly. */
static bool brute_match(const struct ys_cron *c, int64_t day, int hh, int mm)
{
    int64_t y;
    int m, d;
    ys_civil_from_days(day, &y, &m, &d);
    int wday = (int)(((day % 7) + 7 + 4) % 7);
    bool dm = (c->mdays >> d) & 1, wm = (c->wdays >> wday) & 1;
    bool dayok = (c->mday_star || c->wday_star) ? dm && wm : dm || wm;
    return dayok && ((c->months >> m) & 1) && ((c->hours >> hh) & 1) && ((c->minutes >> mm) & 1);
}

/* Every fire time of c whose local minute lies in local days [d0, d1),
 * ascending, duplicates (a DST gap) removed. Returns the count. */
static size_t brute_fires(const struct ys_cron *c, const struct ys_tz *tz, int64_t d0, int64_t d1,
                          int64_t *out)
{
    size_t n = 0;
    for (int64_t day = d0; day < d1; day++) {
        int64_t y;
        int m, d;
        ys_civil_from_days(day, &y, &m, &d);
        for (int hh = 0; hh < 24; hh++)
            for (int mm = 0; mm < 60; mm++) {
                if (!brute_match(c, day, hh, mm))
                    continue;
                int64_t u = ys_tz_local_to_utc(tz, (int)y, m, d, hh, mm, 0) * 1000;
                if (n > 0)
                    assert_true(u >= out[n - 1]); /* local -> UTC never goes back */
                if (n == 0 || u != out[n - 1])
                    out[n++] = u;
            }
    }
    return n;
}

static void test_brute_force(void **state)
{
    (void)state;
    static const char *exprs[] = {
        "*/15 * * * *",    "30 2 * * *",   "0,30 2,3 * * *",
        "5 4 * * MON-FRI", "0 0 1,15 * 3", "*/7 9-17/2 * * *",
        "0 12 29 2 *",     "0 0 31 * *",   "10-50/20 1 * JAN-MAR,OCT *",
        "* 2 * * *",       "59 23 * * 0",  "@hourly",
    };
    /* first local day of each stretch: both 2026 changeovers, a leap
     * February, a year end */
    const int64_t starts[] = {ys_days_from_civil(2026, 3, 26), ys_days_from_civil(2026, 10, 22),
                              ys_days_from_civil(2028, 2, 26), ys_days_from_civil(2026, 12, 29)};
    const char *zones[] = {"UTC", "Europe/Berlin", "America/New_York"};
    int64_t *fires = malloc(sizeof *fires * 8 * 1440);
    size_t checked = 0;
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        struct ys_tz tz;
        struct ys_err err = {{0}};
        assert_int_equal(ys_tz_load(zones[z], NULL, &tz, &err), 0);
        for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
            struct ys_cron c = parse_ok(exprs[e]);
            for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
                size_t n = brute_fires(&c, &tz, starts[s], starts[s] + 7, fires);
                /* Fires are complete for instants a day inside the stretch. */
                int64_t lo = (starts[s] + 1) * DAY, hi = (starts[s] + 6) * DAY;
                for (int64_t t = lo; t < hi; t += 13 * MIN + 17000) {
                    size_t i = 0;
                    while (i < n && fires[i] <= t)
                        i++;
                    int64_t nx = ys_cron_next(&c, &tz, t), pv = ys_cron_prev(&c, &tz, t);
                    int64_t want_nx = i < n ? fires[i] : -2, want_pv = i > 0 ? fires[i - 1] : -2;
                    if ((want_nx != -2 && nx != want_nx) ||
                        (want_nx == -2 && nx != -1 && nx < hi + DAY) ||
                        (want_pv != -2 && pv != want_pv) || (want_pv == -2 && pv >= lo - DAY))
                        fail_msg("%s '%s' at %lld: next %lld prev %lld, brute force %lld %lld",
                                 zones[z], exprs[e], (long long)t, (long long)nx, (long long)pv,
                                 (long long)want_nx, (long long)want_pv);
                    /* and at each fire time itself: next is the one after */
                    if (i > 0 && i < n)
                        assert_true(ys_cron_next(&c, &tz, fires[i - 1]) == fires[i]);
                    checked++;
                }
            }
        }
        ys_tz_free(&tz);
    }
    free(fires);
    printf("# %zu instants compared with the brute force\n", checked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_utc),        cmocka_unit_test(test_impossible),
        cmocka_unit_test(test_berlin_dst), cmocka_unit_test(test_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
