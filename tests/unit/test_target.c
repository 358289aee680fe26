/*
 * test_target.c - every target form users type (slo/target.h), every error,
 * and meeting, direction and formatting. Values are in the target's unit:
 * percent as percent, durations in seconds, sizes in bytes.
 */
#include "core/err.h"
#include "slo/target.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

struct form_case {
    const char *text;
    enum ys_target_op op;
    enum ys_target_unit unit;
    double lo, hi;
};

static const struct form_case forms[] = {
    {">= 99.5%", YS_TOP_GE, YS_TU_PERCENT, 99.5, 0},
    {"<= 2s", YS_TOP_LE, YS_TU_SECONDS, 2, 0},
    {"< 5m", YS_TOP_LT, YS_TU_SECONDS, 300, 0},
    {"< 5min", YS_TOP_LT, YS_TU_SECONDS, 300, 0},
    {"< 30 s", YS_TOP_LT, YS_TU_SECONDS, 30, 0},
    {"60%..80%", YS_TOP_RANGE, YS_TU_PERCENT, 60, 80},
    {"60-80%", YS_TOP_RANGE, YS_TU_PERCENT, 60, 80},
    {"60..80%", YS_TOP_RANGE, YS_TU_PERCENT, 60, 80},
    {"1s..2s", YS_TOP_RANGE, YS_TU_SECONDS, 1, 2},
    {">= 90%", YS_TOP_GE, YS_TU_PERCENT, 90, 0},
    {"hourly", YS_TOP_LE, YS_TU_FRESHNESS, 3600, 0},
    {"daily", YS_TOP_LE, YS_TU_FRESHNESS, 86400, 0},
    {"Daily", YS_TOP_LE, YS_TU_FRESHNESS, 86400, 0},
    {"Weekly", YS_TOP_LE, YS_TU_FRESHNESS, 604800, 0},
    {"MONTHLY", YS_TOP_LE, YS_TU_FRESHNESS, 2678400, 0},   /* 31 days */
    {"quarterly", YS_TOP_LE, YS_TU_FRESHNESS, 7948800, 0}, /* 92 days */
    {"yes", YS_TOP_EQ, YS_TU_BOOL, 1, 0},
    {"Yes", YS_TOP_EQ, YS_TU_BOOL, 1, 0},
    {"Automated", YS_TOP_EQ, YS_TU_BOOL, 1, 0},
    {"No", YS_TOP_EQ, YS_TU_BOOL, 0, 0},
    {"= yes", YS_TOP_EQ, YS_TU_BOOL, 1, 0},
    {"64Mi", YS_TOP_LE, YS_TU_BYTES, 67108864, 0},
    {"1Gi", YS_TOP_LE, YS_TU_BYTES, 1073741824, 0},
    {"512MB", YS_TOP_LE, YS_TU_BYTES, 512e6, 0},
    {"< 128KiB", YS_TOP_LT, YS_TU_BYTES, 131072, 0},
    {"1.12.0", YS_TOP_GE, YS_TU_VERSION, 1012000, 0},
    {"v1.12.3", YS_TOP_GE, YS_TU_VERSION, 1012003, 0},
    {"1s", YS_TOP_LE, YS_TU_SECONDS, 1, 0},
    {"250ms", YS_TOP_LE, YS_TU_SECONDS, 0.25, 0},
    {"1.5h", YS_TOP_LE, YS_TU_SECONDS, 5400, 0},
    {"99.5%", YS_TOP_GE, YS_TU_PERCENT, 99.5, 0},
    {"100%", YS_TOP_GE, YS_TU_PERCENT, 100, 0},
    {"  >=99.5 %  ", YS_TOP_GE, YS_TU_PERCENT, 99.5, 0},
    {"> 3", YS_TOP_GT, YS_TU_NUMBER, 3, 0},
    {"== 0", YS_TOP_EQ, YS_TU_NUMBER, 0, 0},
    {"\xe2\x89\xa5 99%", YS_TOP_GE, YS_TU_PERCENT, 99, 0}, /* U+2265 */
};

static void test_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        const struct form_case *c = &forms[i];
        struct ys_target t;
        char err[256] = "";
        int rc = ys_target_parse(c->text, &t, err, sizeof err);
        if (rc != 0)
            fail_msg("'%s': rc %d (%s)", c->text, rc, err);
        if (t.op != c->op || t.unit != c->unit || fabs(t.lo - c->lo) > 1e-9 ||
            fabs(t.hi - c->hi) > 1e-9)
            fail_msg("'%s': op %d unit %d lo %g hi %g", c->text, t.op, t.unit, t.lo, t.hi);
    }
    struct ys_target t;
    char err[256];
    assert_int_equal(ys_target_parse("  <= 2s ", &t, err, sizeof err), 0);
    assert_string_equal(t.text, "<= 2s"); /* kept as written, trimmed */
}

struct error_case {
    const char *text;
    const char *needle; /* must appear in the message */
};

static const struct error_case errors[] = {
    {"soon", "cannot read target 'soon': expected a comparison like '>= 99.5%', a duration, a "
             "size, a version, yes/no or hourly/daily/weekly/monthly/quarterly"},
    {"", "empty target: expected a comparison"},
    {"   ", "empty target"},
    {">= ", "cannot read target '>='"},
    {">= hourly", "a comparison needs a number"},
    {"< yes", "a comparison needs a number"},
    {"80%..60%", "lower end is above its upper end"},
    {"1s..5%", "same unit"},
    {"yes..no", "same unit"},
    {"99.5%%", "cannot read target '99.5%%'"},
    {"5 parsecs", "cannot read target"},
    {"-5s", "cannot read target"},
    {"1.2.3.4", "cannot read target"},
    {"<= 60-80%", "cannot read target"},
    {"0x10", "cannot read target"},
    {"inf", "cannot read target"},
    {"99.5 percent of the time, every time, without fail, across every single region and every "
     "availability zone we operate in today",
     "longer than 95 characters"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        struct ys_target t;
        char err[256] = "";
        int rc = ys_target_parse(errors[i].text, &t, err, sizeof err);
        if (rc != YS_EINVAL || !strstr(err, errors[i].needle))
            fail_msg("'%s': rc %d, message '%s'", errors[i].text, rc, err);
    }
}

static void test_met_and_direction(void **state)
{
    (void)state;
    struct {
        const char *target;
        double value;
        bool met;
    } c[] = {
        {">= 99.5%", 99.5, true},
        {">= 99.5%", 99.49, false},
        {"> 3", 3, false},
        {"> 3", 3.1, true},
        {"<= 2s", 2, true},
        {"<= 2s", 2.001, false},
        {"< 5m", 300, false},
        {"< 5m", 299, true},
        {"60-80%", 60, true},
        {"60-80%", 80, true},
        {"60-80%", 80.1, false},
        {"60-80%", 59, false},
        {"hourly", 3600, true},
        {"hourly", 3601, false},
        {"yes", 1, true},
        {"yes", 0, false},
        {"No", 0, true},
        {"1.12.0", 1012000, true},
        {"1.12.0", 1011999, false},
        {"1.12.0", 2000000, true},
        {"64Mi", 67108865, false},
        {">= 90%", NAN, false},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct ys_target t;
        char err[256];
        assert_int_equal(ys_target_parse(c[i].target, &t, err, sizeof err), 0);
        if (ys_target_met(&t, c[i].value) != c[i].met)
            fail_msg("'%s' with %g: met should be %d", c[i].target, c[i].value, c[i].met);
    }
    struct {
        const char *target;
        int dir;
    } d[] = {{">= 99.5%", 1}, {"> 3", 1},    {"1.12.0", 1}, {"<= 2s", -1}, {"64Mi", -1},
             {"daily", -1},   {"60-80%", 0}, {"yes", 0},    {"= 4", 0}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        struct ys_target t;
        char err[256];
        assert_int_equal(ys_target_parse(d[i].target, &t, err, sizeof err), 0);
        if (ys_target_direction(&t) != d[i].dir)
            fail_msg("'%s': direction %d", d[i].target, ys_target_direction(&t));
    }
}

static void test_format(void **state)
{
    (void)state;
    struct {
        const char *target;
        double value;
        const char *want;
    } c[] = {
        {">= 99.5%", 99.52, "99.52%"},
        {">= 99.5%", 100, "100%"},
        {">= 99.5%", 99.5, "99.5%"},
        {"<= 2s", 1.8, "1.8s"},
        {"<= 2s", 0.25, "250ms"},
        {"< 5m", 300, "5m"},
        {"< 5m", 5400, "1.5h"},
        {"< 5m", 0, "0s"},
        {"daily", 172800, "2d"},
        {"64Mi", 67108864, "64Mi"},
        {"64Mi", 1536, "1.5Ki"},
        {"64Mi", 100, "100B"},
        {"yes", 1, "yes"},
        {"yes", 0, "no"},
        {"1.12.0", 1012000, "1.12.0"},
        {"1.12.0", 2003004, "2.3.4"},
        {"> 3", 3, "3"},
        {"> 3", 2.125, "2.125"},
        {">= 99.5%", NAN, "no data"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct ys_target t;
        char err[256], buf[32];
        assert_int_equal(ys_target_parse(c[i].target, &t, err, sizeof err), 0);
        ys_target_format_value(&t, c[i].value, buf, sizeof buf);
        if (strcmp(buf, c[i].want) != 0)
            fail_msg("'%s' %g: '%s', want '%s'", c[i].target, c[i].value, buf, c[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_met_and_direction),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
