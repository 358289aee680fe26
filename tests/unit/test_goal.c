/*
 * test_goal.c - goal status rules and the least-squares projection
 * (slo/goal.h). Lines are worked out by hand beside the points.
 */
#include "slo/goal.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DAY INT64_C(86400000)
#define NOW (100 * DAY)

static struct ys_target target(const char *text)
{
    struct ys_target t;
    char err[256];
    assert_int_equal(ys_target_parse(text, &t, err, sizeof err), 0);
    return t;
}

struct proj_case {
    const char *why;
    const char *target;
    size_t n;
    struct ys_trend_point p[5];
    bool valid;
    double slope, intercept;
    int64_t reach;
};

static const struct proj_case projs[] = {
    /* 96, 96.5, 97, 97.5 on days 97..100: slope 0.5/day, 97.5 now, so
     * 99.5 in 4 days; at t = 0 the line is 97.5 - 0.5 * 100 = 47.5. */
    {"exact line",
     ">= 99.5%",
     4,
     {{97 * DAY, 96}, {98 * DAY, 96.5}, {99 * DAY, 97}, {100 * DAY, 97.5}},
     true,
     0.5,
     47.5,
     104 * DAY},
    /* 90, 93, 92 on days 98..100: mean x -1, mean y 91.667; Sxx 2, Sxy
     * (-1)(-1.667) + (1)(0.333) = 2: slope 1, 92.667 now; 95 is 7/3 days
     * (201600000 ms) away; intercept 92.667 - 100 = -7.333. */
    {"noisy",
     ">= 95%",
     3,
     {{98 * DAY, 90}, {99 * DAY, 93}, {100 * DAY, 92}},
     true,
     1.0,
     92.0 + 2.0 / 3 - 100,
     100 * DAY + 201600000},
    /* Latency 3.0, 2.8, 2.6 falling 0.2/day toward "<= 2s": 3 days more. */
    {"falling toward <=",
     "<= 2s",
     3,
     {{98 * DAY, 3.0}, {99 * DAY, 2.8}, {100 * DAY, 2.6}},
     true,
     -0.2,
     2.6 + 0.2 * 100,
     103 * DAY},
    {"moving away",
     ">= 99.5%",
     3,
     {{98 * DAY, 97}, {99 * DAY, 96}, {100 * DAY, 95}},
     false,
     -1.0,
     95.0 + 100,
     0},
    {"flat", ">= 99.5%", 3, {{98 * DAY, 97}, {99 * DAY, 97}, {100 * DAY, 97}}, false, 0, 97, 0},
    {"two points", ">= 99.5%", 2, {{99 * DAY, 97}, {100 * DAY, 98}}, false, 0, 0, 0},
    {"one instant", ">= 99.5%", 3, {{NOW, 97}, {NOW, 98}, {NOW, 99}}, false, 0, 0, 0},
    {"range: no direction",
     "60-80%",
     3,
     {{98 * DAY, 40}, {99 * DAY, 45}, {100 * DAY, 50}},
     false,
     5,
     50 - 500,
     0},
    /* NaN days are skipped: the three real points are the exact line. */
    {"gap skipped",
     ">= 99.5%",
     4,
     {{97 * DAY, 96}, {98 * DAY, NAN}, {99 * DAY, 97}, {100 * DAY, 97.5}},
     true,
     0.5,
     47.5,
     104 * DAY},
};

static void test_projection(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof projs / sizeof projs[0]; i++) {
        const struct proj_case *c = &projs[i];
        struct ys_target t = target(c->target);
        struct ys_projection p;
        ys_goal_project(&t, c->p, c->n, NOW, &p);
        if (p.valid != c->valid || fabs(p.slope_per_day - c->slope) > 1e-9 ||
            fabs(p.intercept - c->intercept) > 1e-6 || llabs(p.reach_ms - c->reach) > 1)
            fail_msg("%s: valid %d slope %.12g intercept %.12g reach %lld", c->why, p.valid,
                     p.slope_per_day, p.intercept, (long long)p.reach_ms);
    }
}

static void test_status(void **state)
{
    (void)state;
    struct ys_target t = target(">= 99.5%");
    const struct ys_projection soon = {true, 0.5, 47.5, 104 * DAY};
    const struct ys_projection late = {true, 0.1, 0, 115 * DAY};
    const struct ys_projection none = {false, -1, 0, 0};
    struct {
        bool has;
        double value;
        int64_t due, now;
        const struct ys_projection *proj;
        enum ys_goal_status want;
        const char *why;
    } c[] = {
        {false, 0, 110 * DAY, NOW, &soon, YS_GOAL_NO_DATA, "nothing measured"},
        {true, NAN, 110 * DAY, NOW, &soon, YS_GOAL_NO_DATA, "NaN value"},
        {true, 99.6, 110 * DAY, NOW, &none, YS_GOAL_MET, "met"},
        {true, 99.5, 90 * DAY, NOW, &none, YS_GOAL_MET, "met exactly, after due"},
        {true, 99.0, 90 * DAY, NOW, &soon, YS_GOAL_MISSED, "due passed"},
        {true, 99.0, NOW, NOW, &none, YS_GOAL_AT_RISK, "due is now: not yet passed"},
        {true, 99.0, 110 * DAY, NOW, &soon, YS_GOAL_ON_TRACK, "reaches on day 104 <= 110"},
        {true, 99.0, 104 * DAY, NOW, &soon, YS_GOAL_ON_TRACK, "reaches on the due instant"},
        {true, 99.0, 110 * DAY, NOW, &late, YS_GOAL_AT_RISK, "reaches on day 115 > 110"},
        {true, 99.0, 110 * DAY, NOW, &none, YS_GOAL_AT_RISK, "no valid trend"},
        {true, 99.0, 110 * DAY, NOW, NULL, YS_GOAL_AT_RISK, "no projection at all"},
        {true, 99.0, 0, NOW, &late, YS_GOAL_ON_TRACK, "no due date, reaches some day"},
        {true, 99.0, 0, NOW, &none, YS_GOAL_AT_RISK, "no due date, no trend"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        enum ys_goal_status s =
            ys_goal_status(&t, c[i].has, c[i].value, c[i].due, c[i].now, c[i].proj);
        if (s != c[i].want)
            fail_msg("%s: %s, want %s", c[i].why, ys_goal_status_name(s),
                     ys_goal_status_name(c[i].want));
    }
    assert_string_equal(ys_goal_status_name(YS_GOAL_NO_DATA), "no data");
    assert_string_equal(ys_goal_status_name(YS_GOAL_MET), "met");
    assert_string_equal(ys_goal_status_name(YS_GOAL_ON_TRACK), "on track");
    assert_string_equal(ys_goal_status_name(YS_GOAL_AT_RISK), "at risk");
    assert_string_equal(ys_goal_status_name(YS_GOAL_MISSED), "missed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_projection),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
