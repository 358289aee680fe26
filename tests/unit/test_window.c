/*
 * test_window.c - rolling and calendar windows (slo/window.h). Calendar
 * bounds are checked in UTC and in Europe/Berlin across month ends, a leap
 * February, a year end and both 2026 DST changes; expected instants are
 * written out by hand beside each case.
 */
#include "core/err.h"
#include "core/tz.h"
#include "slo/window.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#define S(x) (INT64_C(x) * 1000) /* UTC seconds -> ms */
#define DAY INT64_C(86400000)
#define HOUR INT64_C(3600000)

static void test_parse(void **state)
{
    (void)state;
    struct {
        const char *text;
        int rc;
        enum ys_window_kind kind;
        int64_t len;
    } c[] = {
        {"30d", 0, YS_WINDOW_ROLLING, 30 * DAY},
        {"4w", 0, YS_WINDOW_ROLLING, 28 * DAY},
        {"1h30m", 0, YS_WINDOW_ROLLING, 90 * 60000},
        {"month", 0, YS_WINDOW_MONTH, 0},
        {"Quarter", 0, YS_WINDOW_QUARTER, 0},
        {"", YS_EINVAL, 0, 0},
        {"30", YS_EINVAL, 0, 0},
        {"0d", YS_EINVAL, 0, 0},
        {"monthly", YS_EINVAL, 0, 0},
        {"year", YS_EINVAL, 0, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct ys_window w = {YS_WINDOW_ROLLING, -1};
        int rc = ys_window_parse(c[i].text, &w);
        if (rc != c[i].rc)
            fail_msg("'%s': rc %d want %d", c[i].text, rc, c[i].rc);
        if (rc == 0 && (w.kind != c[i].kind || w.length_ms != c[i].len))
            fail_msg("'%s': kind %d len %lld", c[i].text, w.kind, (long long)w.length_ms);
    }
}

struct bounds_case {
    const char *zone;
    const char *window;
    int64_t at_ms, start_ms, end_ms, length_ms;
    const char *why;
};

static const struct bounds_case cases[] = {
    {"UTC", "month", S(1707955200), S(1706745600), S(1709251200), 29 * DAY,
     "2024-02-15: leap February 02-01..03-01"},
    {"UTC", "month", S(1709251200) - 1, S(1706745600), S(1709251200), 29 * DAY,
     "last ms of February 2024"},
    {"UTC", "month", S(1709251200), S(1709251200), S(1709251200) + 31 * DAY, 31 * DAY,
     "first ms of March 2024 starts March"},
    {"UTC", "month", S(1704065400), S(1701388800), S(1704067200), 31 * DAY,
     "2023-12-31 23:30: December, ends at the new year"},
    {"UTC", "quarter", S(1770681600), S(1767225600), S(1775001600), 90 * DAY,
     "2026-02-10: Q1 01-01..04-01 (31+28+31 days)"},
    {"UTC", "quarter", S(1794700800), S(1790812800), S(1798761600), 92 * DAY,
     "2026-11-15: Q4 across the year end"},
    {"Europe/Berlin", "month", S(1792000000), S(1790805600), S(1793487600), 31 * DAY + HOUR,
     "October 2026: 31 days + the hour given back on 10-25"},
    {"Europe/Berlin", "month", S(1790805600) + 1800000, S(1790805600), S(1793487600),
     31 * DAY + HOUR, "09-30 22:30 UTC is already October 00:30 in Berlin"},
    {"Europe/Berlin", "month", S(1774000000), S(1772319600), S(1774994400), 31 * DAY - HOUR,
     "March 2026: 31 days less the hour skipped on 03-29"},
    {"Europe/Berlin", "quarter", S(1775001600), S(1774994400), S(1782856800), 91 * DAY,
     "2026-04-01 02:00 CEST: Q2 (30+31+30 days, no change)"},
    {"Europe/Berlin", "quarter", S(1767222000) - 1, S(1759269600), S(1767222000), 92 * DAY + HOUR,
     "last ms of 2026 in Berlin: Q4 2025 + the October hour"},
    {"UTC", "30d", S(1792000000), S(1792000000) - 30 * DAY, S(1792000000), 30 * DAY,
     "rolling 30d ends at the instant"},
};

static void test_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bounds_case *c = &cases[i];
        struct ys_tz tz;
        struct ys_err err = {{0}};
        struct ys_window w;
        assert_int_equal(ys_tz_load(c->zone, NULL, &tz, &err), 0);
        assert_int_equal(ys_window_parse(c->window, &w), 0);
        int64_t start = 0, end = 0;
        ys_window_bounds(&w, &tz, c->at_ms, &start, &end);
        if (start != c->start_ms || end != c->end_ms || end - start != c->length_ms)
            fail_msg("%s: [%lld, %lld) len %lld, want [%lld, %lld) len %lld", c->why,
                     (long long)start, (long long)end, (long long)(end - start),
                     (long long)c->start_ms, (long long)c->end_ms, (long long)c->length_ms);
        assert_true(start <= c->at_ms && (c->at_ms < end || w.kind == YS_WINDOW_ROLLING));
        ys_tz_free(&tz);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
