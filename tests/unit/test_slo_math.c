/*
 * test_slo_math.c - SLIs, budgets, burn rates and the four multiwindow
 * conditions (slo/slo_math.h). Every expected number is worked out by hand
 * in the comment or column beside its inputs.
 */
#include "slo/slo_math.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DAY_MS INT64_C(86400000)

static void near(double got, double want, const char *why)
{
    if (isnan(want) ? !isnan(got) : !(fabs(got - want) <= 1e-9 * (1 + fabs(want))))
        fail_msg("%s: got %.12g, want %.12g", why, got, want);
}

static void test_window_table(void **state)
{
    (void)state;
    static const int64_t ms[YS_BURN_COUNT] = {300000,   1800000,  3600000,  7200000,
                                              21600000, 86400000, 259200000};
    static const char *const names[YS_BURN_COUNT] = {"5m", "30m", "1h", "2h", "6h", "1d", "3d"};
    for (int i = 0; i < YS_BURN_COUNT; i++) {
        assert_int_equal(ys_burn_window_ms[i], ms[i]);
        assert_string_equal(ys_burn_window_name[i], names[i]);
    }
    assert_string_equal(ys_alert_state_name(YS_ALERT_NO_DATA), "no data");
    assert_string_equal(ys_alert_state_name(YS_ALERT_PAGE), "page");
    assert_string_equal(ys_alert_state_name(YS_ALERT_TICKET), "ticket");
    assert_string_equal(ys_alert_state_name(YS_ALERT_OK), "ok");
}

static void test_burn_rate(void **state)
{
    (void)state;
    struct {
        uint64_t total, good;
        double objective;
        uint64_t min_events;
        double want;
    } c[] = {
        {1000, 1000, 0.999, 10, 0.0},   /* no failures */
        {1000, 999, 0.999, 10, 1.0},    /* 0.1% bad / 0.1% allowed */
        {1000, 986, 0.999, 10, 14.0},   /* 1.4% / 0.1% */
        {10000, 9856, 0.999, 10, 14.4}, /* 1.44% / 0.1% */
        {2000, 1990, 0.995, 10, 1.0},   /* 0.5% / 0.5% */
        {300, 282, 0.99, 10, 6.0},      /* 6% / 1% */
        {10, 10, 1.0, 1, 0.0},          /* 100% objective, nothing failed */
        {10, 9, 1.0, 1, INFINITY},      /* 100% objective, one failure */
        {10, 12, 0.99, 1, 0.0},         /* good > total: no bad events */
        {50, 49, 0.999, 100, NAN},      /* fewer than min_events */
        {0, 0, 0.999, 0, NAN},          /* nothing at all */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char why[64];
        snprintf(why, sizeof why, "case %zu", i);
        struct ys_counts k = {c[i].total, c[i].good};
        double got = ys_burn_rate(k, c[i].objective, c[i].min_events);
        if (isinf(c[i].want))
            assert_true(isinf(got) && got > 0);
        else
            near(got, c[i].want, why);
    }
}

/* One check probed every 10s, 99.5% objective (0.5% allowed), through
 * each window: burn = (bad / total) / 0.005. */
static void test_each_window(void **state)
{
    (void)state;
    static const struct {
        uint64_t total, bad;
        double want;
    } w[YS_BURN_COUNT] = {
        {30, 3, 20.0},                     /* 5m:  10%      / 0.5% */
        {180, 9, 10.0},                    /* 30m: 5%       / 0.5% */
        {360, 9, 5.0},                     /* 1h:  2.5%     / 0.5% */
        {720, 9, 2.5},                     /* 2h:  1.25%    / 0.5% */
        {2160, 27, 2.5},                   /* 6h:  1.25%    / 0.5% */
        {8640, 27, 0.625},                 /* 1d:  0.3125%  / 0.5% */
        {25920, 45, 45.0 / 25920 / 0.005}, /* 3d: 0.17361% / 0.5% = 0.347222 */
    };
    double burn[YS_BURN_COUNT];
    for (int i = 0; i < YS_BURN_COUNT; i++) {
        assert_int_equal(w[i].total * 10000, ys_burn_window_ms[i]); /* 10s probes */
        struct ys_counts k = {w[i].total, w[i].total - w[i].bad};
        burn[i] = ys_burn_rate(k, 0.995, 10);
        near(burn[i], w[i].want, ys_burn_window_name[i]);
    }
    near(burn[YS_BURN_3D], 0.3472222222222222, "3d");
    /* 1h 5 <= 14.4, 6h 2.5 <= 6, 1d 0.625 <= 3, 3d 0.35 <= 1: nothing fires. */
    bool fired[4] = {true, true, true, true};
    assert_int_equal(ys_burn_alert(burn, 1.0, fired), YS_ALERT_OK);
    for (int i = 0; i < 4; i++)
        assert_false(fired[i]);
}

static void test_conditions(void **state)
{
    (void)state;
    static const struct {
        enum ys_burn_window lw, sw;
        double factor;
        enum ys_alert_state sev;
    } want[4] = {
        {YS_BURN_1H, YS_BURN_5M, 14.4, YS_ALERT_PAGE},
        {YS_BURN_6H, YS_BURN_30M, 6.0, YS_ALERT_PAGE},
        {YS_BURN_1D, YS_BURN_2H, 3.0, YS_ALERT_TICKET},
        {YS_BURN_3D, YS_BURN_6H, 1.0, YS_ALERT_TICKET},
    };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ys_burn_conditions[i].long_w, want[i].lw);
        assert_int_equal(ys_burn_conditions[i].short_w, want[i].sw);
        assert_true(ys_burn_conditions[i].factor == want[i].factor);
        assert_int_equal(ys_burn_conditions[i].severity, want[i].sev);
        /* long, short: exactly at the factor, just above, or only one above. */
        struct {
            double l, s;
            bool fires;
        } rows[] = {
            {want[i].factor, want[i].factor, false},
            {want[i].factor + 0.01, want[i].factor, false},
            {want[i].factor, want[i].factor + 0.01, false},
            {want[i].factor + 0.01, want[i].factor + 0.01, true},
            {1000, 0, false},
        };
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            double burn[YS_BURN_COUNT] = {0};
            burn[want[i].lw] = rows[r].l;
            burn[want[i].sw] = rows[r].s;
            bool fired[4];
            enum ys_alert_state st = ys_burn_alert(burn, 1.0, fired);
            for (int j = 0; j < 4; j++)
                if (fired[j] != (j == i && rows[r].fires))
                    fail_msg("condition %d row %zu: fired[%d] = %d", i, r, j, fired[j]);
            assert_int_equal(st, rows[r].fires ? want[i].sev : YS_ALERT_OK);
        }
    }
    /* A page and a ticket together: the page wins. */
    double burn[YS_BURN_COUNT] = {20, 0, 20, 0, 2, 0, 2};
    bool fired[4];
    assert_int_equal(ys_burn_alert(burn, 1.0, fired), YS_ALERT_PAGE);
    assert_true(fired[0] && !fired[1] && !fired[2] && fired[3]);
}

static void test_no_data(void **state)
{
    (void)state;
    double burn[YS_BURN_COUNT];
    for (int i = 0; i < YS_BURN_COUNT; i++)
        burn[i] = NAN;
    bool fired[4] = {true, true, true, true};
    assert_int_equal(ys_burn_alert(burn, 1.0, fired), YS_ALERT_NO_DATA);
    assert_false(fired[0] || fired[1] || fired[2] || fired[3]);
    /* 5m has no data but the 1h burns at 20: condition 1 cannot be judged, the
     * others can and do not fire. */
    double some[YS_BURN_COUNT] = {NAN, 0, 20, 0, 0, 0, 0};
    assert_int_equal(ys_burn_alert(some, 1.0, NULL), YS_ALERT_OK);
    /* Only the 3d&6h condition judged, and firing. */
    double only[YS_BURN_COUNT] = {NAN, NAN, NAN, NAN, 2, NAN, 2};
    assert_int_equal(ys_burn_alert(only, 1.0, NULL), YS_ALERT_TICKET);
    /* A 7-day SLO: the factors shrink to 7/30 (14.4 -> 3.36, 1 -> 0.233),
     * the same 2% / 10% of its budget; a 90-day one triples them. */
    assert_true(fabs(ys_burn_scale(7 * DAY_MS) - 7.0 / 30.0) < 1e-12);
    double week[YS_BURN_COUNT] = {4, 0, 4, 0, 0, 0, 0};
    assert_int_equal(ys_burn_alert(week, 1.0, NULL), YS_ALERT_OK);
    assert_int_equal(ys_burn_alert(week, ys_burn_scale(7 * DAY_MS), NULL), YS_ALERT_PAGE);
    double hot[YS_BURN_COUNT] = {20, 0, 20, 0, 0, 0, 0};
    assert_int_equal(ys_burn_alert(hot, 1.0, NULL), YS_ALERT_PAGE);
    assert_int_equal(ys_burn_alert(hot, ys_burn_scale(90 * DAY_MS), NULL), YS_ALERT_OK);

    struct ys_budget b;
    struct ys_counts k = {50, 40};
    ys_budget_compute(k, 0.999, 100, 5.0, 0, 30 * DAY_MS, 15 * DAY_MS, &b);
    assert_true(b.no_data);
    assert_true(isnan(b.sli) && isnan(b.remaining));
    assert_int_equal(b.exhausted_at_ms, 0);
    k.total = 100;
    ys_budget_compute(k, 0.999, 100, 5.0, 0, 30 * DAY_MS, 15 * DAY_MS, &b);
    assert_false(b.no_data); /* exactly min_events is enough */
}

struct budget_case {
    uint64_t total, good;
    double objective, recent;
    int64_t start, end, now;
    double sli, allowed, consumed, remaining;
    int64_t exhausted;
    const char *why;
};

static const struct budget_case budgets[] = {
    /* 100000 events, 50 bad, 0.1% allowed = 100: half the budget left.
     * Calendar window [0, 30d) at 15d: 100000 / 15d events per ms. At burn 2
     * bad events come at 2 * 0.001 * 100000 / 15d = 200 per 15d; the 50
     * left last 15d / 4 = 3.75d: out at 18.75d = 1620000000 ms. */
    {100000, 99950, 0.999, 2.0, 0, 30 * DAY_MS, 15 * DAY_MS, 0.9995, 100, 50, 0.5,
     INT64_C(1620000000), "calendar, burn 2"},
    /* Burn 0.4: 40 bad per 15d, 50 last 18.75d: past the window's end. */
    {100000, 99950, 0.999, 0.4, 0, 30 * DAY_MS, 15 * DAY_MS, 0.9995, 100, 50, 0.5, 0,
     "calendar, burn 0.4 outlasts the window"},
    {100000, 99950, 0.999, NAN, 0, 30 * DAY_MS, 15 * DAY_MS, 0.9995, 100, 50, 0.5, 0,
     "no recent burn"},
    {100000, 99950, 0.999, 0.0, 0, 30 * DAY_MS, 15 * DAY_MS, 0.9995, 100, 50, 0.5, 0,
     "recent burn 0"},
    /* 200 bad of 100 allowed: remaining 1 - 2 = -1, already exhausted -> 0. */
    {100000, 99800, 0.999, 2.0, 0, 30 * DAY_MS, 15 * DAY_MS, 0.998, 100, 200, -1.0, 0, "overspent"},
    /* Rolling 30d ending now (30d): 200 bad per 30d at burn 2, the 50 left
     * last 7.5d = 648000000 ms: 2592000000 + 648000000. */
    {100000, 99950, 0.999, 2.0, 0, 30 * DAY_MS, 30 * DAY_MS, 0.9995, 100, 50, 0.5,
     INT64_C(3240000000), "rolling, burn 2"},
    /* 99% objective, 10000 events, 25 bad of 100 allowed: 75% left. */
    {10000, 9975, 0.99, 0.0, 0, DAY_MS, DAY_MS / 2, 0.9975, 100, 25, 0.75, 0, "99%"},
    {10, 10, 1.0, 1.0, 0, DAY_MS, DAY_MS / 2, 1.0, 0, 0, 1.0, 0, "100% objective, clean"},
    {10, 9, 1.0, 1.0, 0, DAY_MS, DAY_MS / 2, 0.9, 0, 1, 0.0, 0, "100% objective, one bad"},
};

static void test_budget(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        const struct budget_case *c = &budgets[i];
        struct ys_budget b;
        struct ys_counts k = {c->total, c->good};
        ys_budget_compute(k, c->objective, 10, c->recent, c->start, c->end, c->now, &b);
        assert_false(b.no_data);
        near(b.sli, c->sli, c->why);
        if (fabs(b.allowed_bad - c->allowed) > 1e-6 || fabs(b.consumed_bad - c->consumed) > 1e-9 ||
            fabs(b.remaining - c->remaining) > 1e-9)
            fail_msg("%s: allowed %g consumed %g remaining %g", c->why, b.allowed_bad,
                     b.consumed_bad, b.remaining);
        /* 1 - 0.999 is not exact in binary: allow a millisecond either way. */
        if (llabs(b.exhausted_at_ms - c->exhausted) > 1 ||
            (c->exhausted == 0) != (b.exhausted_at_ms == 0))
            fail_msg("%s: exhausted at %lld, want %lld", c->why, (long long)b.exhausted_at_ms,
                     (long long)c->exhausted);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_table), cmocka_unit_test(test_burn_rate),
        cmocka_unit_test(test_each_window),  cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_no_data),      cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
