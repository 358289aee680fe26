/*
 * test_tz.c - the TZif reader and local/UTC conversion (core/tz.h), against
 * instants worked out by hand from the EU and US rules. Europe/Berlin and
 * America/New_York come from the system's /usr/share/zoneinfo.
 */
#include "core/err.h"
#include "core/tz.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* 2026-03-29 01:00 UTC (last Sunday of March): EU clocks go 02:00 -> 03:00 CET. */
#define EU_SPRING_2026 INT64_C(1774746000)
/* 2026-10-25 01:00 UTC (last Sunday of October): 03:00 CEST -> 02:00. */
#define EU_AUTUMN_2026 INT64_C(1792890000)

struct offset_case {
    int64_t t;
    int32_t off;
    const char *why;
};

static void check_offsets(const struct ys_tz *tz, const struct offset_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t got = ys_tz_offset_at(tz, c[i].t);
        if (got != c[i].off)
            fail_msg("%s %s: offset %d, want %d", tz->name, c[i].why, got, c[i].off);
    }
}

static void test_utc(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    assert_int_equal(ys_tz_load("Etc/UTC", "/nonexistent", &tz, &err), 0); /* no disk */
    assert_int_equal(ys_tz_offset_at(&tz, EU_SPRING_2026), 0);
    int y, m, d, hh, mm, ss;
    ys_tz_utc_to_local(&tz, EU_SPRING_2026, &y, &m, &d, &hh, &mm, &ss);
    assert_int_equal(y, 2026), assert_int_equal(m, 3), assert_int_equal(d, 29);
    assert_int_equal(hh, 1), assert_int_equal(mm, 0), assert_int_equal(ss, 0);
    assert_int_equal(ys_tz_local_to_utc(&tz, 2026, 3, 29, 1, 0, 0), EU_SPRING_2026);
    /* Before 1970: 1969-12-31 23:59:59 is -1. */
    assert_int_equal(ys_tz_local_to_utc(&tz, 1969, 12, 31, 23, 59, 59), -1);
    ys_tz_utc_to_local(&tz, -1, &y, &m, &d, &hh, &mm, &ss);
    assert_int_equal(y, 1969), assert_int_equal(d, 31), assert_int_equal(ss, 59);
    ys_tz_free(&tz);
    ys_tz_utc(&tz);
    assert_string_equal(tz.name, "UTC");
    assert_int_equal(ys_tz_offset_at(&tz, 0), 0);
    ys_tz_free(&tz);
}

static void test_berlin_offsets(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    assert_int_equal(ys_tz_load("Europe/Berlin", NULL, &tz, &err), 0);
    static const struct offset_case c[] = {
        {EU_SPRING_2026 - 1, 3600, "1s before spring 2026"},
        {EU_SPRING_2026, 7200, "at spring 2026"},
        {EU_AUTUMN_2026 - 1, 7200, "1s before autumn 2026"},
        {EU_AUTUMN_2026, 3600, "at autumn 2026"},
        {INT64_C(1784000000), 7200, "July 2026"},
        /* 2040: past any table, from the footer CET-1CEST,M3.5.0,M10.5.0/3.
         * Last Sundays: 2040-03-25 and 2040-10-28, 01:00 UTC. */
        {INT64_C(2216250000) - 1, 3600, "1s before spring 2040"},
        {INT64_C(2216250000), 7200, "at spring 2040"},
        {INT64_C(2234998800) - 1, 7200, "1s before autumn 2040"},
        {INT64_C(2234998800), 3600, "at autumn 2040"},
        {INT64_C(4102444800), 3600, "2100-01-01"},
    };
    check_offsets(&tz, c, sizeof c / sizeof c[0]);
    int y, m, d, hh, mm, ss;
    ys_tz_utc_to_local(&tz, EU_AUTUMN_2026 - 1, &y, &m, &d, &hh, &mm, &ss);
    assert_int_equal(hh, 2), assert_int_equal(mm, 59), assert_int_equal(ss, 59); /* 02:59:59 CEST */
    ys_tz_utc_to_local(&tz, EU_AUTUMN_2026, &y, &m, &d, &hh, &mm, &ss);
    assert_int_equal(d, 25), assert_int_equal(hh, 2), assert_int_equal(mm, 0); /* 02:00 CET again */
    ys_tz_free(&tz);
}

static void test_new_york(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    assert_int_equal(ys_tz_load("America/New_York", NULL, &tz, &err), 0);
    /* 2026: second Sunday of March (8th) 02:00 EST = 07:00 UTC; first Sunday
     * of November (1st) 02:00 EDT = 06:00 UTC. */
    static const struct offset_case c[] = {
        {INT64_C(1772953200) - 1, -18000, "before spring 2026"},
        {INT64_C(1772953200), -14400, "at spring 2026"},
        {INT64_C(1793512800) - 1, -14400, "before autumn 2026"},
        {INT64_C(1793512800), -18000, "at autumn 2026"},
    };
    check_offsets(&tz, c, sizeof c / sizeof c[0]);
    /* 2026-07-04 12:00 EDT = 16:00 UTC = 1783180800. */
    assert_int_equal(ys_tz_local_to_utc(&tz, 2026, 7, 4, 12, 0, 0), INT64_C(1783180800));
    ys_tz_free(&tz);
}

static void test_gap_and_overlap(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    assert_int_equal(ys_tz_load("Europe/Berlin", NULL, &tz, &err), 0);
    struct {
        int h, mi;
        int d, mo;
        int64_t want;
        const char *why;
    } c[] = {
        {1, 59, 29, 3, EU_SPRING_2026 - 60, "01:59 CET, just before the gap"},
        {2, 0, 29, 3, EU_SPRING_2026, "02:00 does not exist: the instant after the gap"},
        {2, 30, 29, 3, EU_SPRING_2026, "02:30 does not exist: the instant after the gap"},
        {3, 0, 29, 3, EU_SPRING_2026, "03:00 CEST = the transition"},
        {2, 30, 25, 10, EU_AUTUMN_2026 - 1800, "02:30 twice: the earlier (CEST)"},
        {3, 0, 25, 10, EU_AUTUMN_2026 + 3600, "03:00 CET, once"},
        {0, 0, 1, 10, INT64_C(1790805600), "2026-10-01 00:00 CEST = 09-30 22:00 UTC"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t got = ys_tz_local_to_utc(&tz, 2026, c[i].mo, c[i].d, c[i].h, c[i].mi, 0);
        if (got != c[i].want)
            fail_msg("%s: %lld, want %lld", c[i].why, (long long)got, (long long)c[i].want);
    }
    ys_tz_free(&tz);
}

static void test_rules(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    /* A zone with only a rule: southern hemisphere, DST spans new year.
     * 2026: ends Sun 04-05 03:00 AEDT = 04-04 16:00 UTC (1775318400);
     * starts Sun 10-04 02:00 AEST = 10-03 16:00 UTC (1791043200). */
    memset(&tz, 0, sizeof tz);
    assert_int_equal(ys_tz_rule_parse("AEST-10AEDT,M10.1.0,M4.1.0/3", &tz.rule, &err), 0);
    tz.has_rule = 1;
    static const struct offset_case syd[] = {
        {INT64_C(1768435200), 39600, "2026-01-15"},
        {INT64_C(1775318400) - 1, 39600, "before April end"},
        {INT64_C(1775318400), 36000, "at April end"},
        {INT64_C(1791043200) - 1, 36000, "before October start"},
        {INT64_C(1791043200), 39600, "at October start"},
    };
    check_offsets(&tz, syd, sizeof syd / sizeof syd[0]);
    /* Negative transition times (RFC 8536 v3): -1 local std at UTC-2 on the
     * last Sunday of March is 01:00 UTC, as in the EU. */
    assert_int_equal(ys_tz_rule_parse("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", &tz.rule, &err), 0);
    assert_int_equal(tz.rule.std_offset_s, -7200);
    assert_int_equal(tz.rule.start_time_s, -3600);
    static const struct offset_case nuuk[] = {
        {EU_SPRING_2026 - 1, -7200, "before spring"},
        {EU_SPRING_2026, -3600, "at spring"},
        {EU_AUTUMN_2026 - 1, -3600, "before autumn"},
        {EU_AUTUMN_2026, -7200, "at autumn"},
    };
    check_offsets(&tz, nuuk, sizeof nuuk / sizeof nuuk[0]);
    /* Over 24h: Asia/Jerusalem-style M3.4.4/26. */
    assert_int_equal(ys_tz_rule_parse("IST-2IDT,M3.4.4/26,M10.5.0", &tz.rule, &err), 0);
    assert_int_equal(tz.rule.start_time_s, 26 * 3600);
    assert_int_equal(ys_tz_rule_parse("<+01>-1", &tz.rule, &err), 0);
    assert_int_equal(tz.rule.std_offset_s, 3600);
    assert_int_equal(tz.rule.has_dst, 0);
    assert_int_equal(ys_tz_rule_parse("EST5EDT,J60,J300", &tz.rule, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "Julian"));
    static const char *const bad[] = {"",
                                      "C-1",
                                      "CET",
                                      "CET-1CEST",
                                      "CET-1CEST,M13.1.0,M10.5.0",
                                      "CET-1CEST,M3.5.7,M10.5.0",
                                      "CET-1CEST,M3.5.0",
                                      "CET-1CEST,M3.5.0,M10.5.0/x",
                                      "CET-200"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ys_tz_rule_parse(bad[i], &tz.rule, &err) != YS_EINVAL)
            fail_msg("rule '%s' accepted", bad[i]);
}

static void test_bad_names(void **state)
{
    (void)state;
    struct ys_tz tz;
    struct ys_err err = {{0}};
    static const char *const bad[] = {"",
                                      "/etc/passwd",
                                      "../etc/passwd",
                                      "Europe/../../etc",
                                      "Europe/Ber lin",
                                      "Europe/Berlin\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        if (ys_tz_load(bad[i], NULL, &tz, &err) != YS_EINVAL)
            fail_msg("name '%s' accepted", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
    assert_int_equal(ys_tz_load("Mars/Olympus_Mons", NULL, &tz, &err), YS_ENOTFOUND);
    assert_non_null(strstr(err.msg, "Mars/Olympus_Mons"));

    /* Not TZif, and too big: both refused with a reason. */
    char dir[] = "/tmp/ys_tz_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/Text", dir);
    FILE *f = fopen(path, "w");
    fputs("not a zone\n", f);
    fclose(f);
    assert_int_equal(ys_tz_load("Text", dir, &tz, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "TZif"));
    char big[128];
    snprintf(big, sizeof big, "%s/Big", dir);
    f = fopen(big, "w");
    for (int i = 0; i < 300 * 1024; i++)
        fputc(i == 0 ? 'T' : 'x', f);
    fclose(f);
    assert_int_equal(ys_tz_load("Big", dir, &tz, &err), YS_EINVAL);
    assert_non_null(strstr(err.msg, "256 KiB"));
    /* A truncated copy of a real zone. */
    FILE *in = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    char tr[128];
    snprintf(tr, sizeof tr, "%s/Trunc", dir);
    f = fopen(tr, "wb");
    for (int i = 0; i < 200; i++)
        fputc(fgetc(in), f);
    fclose(f);
    fclose(in);
    assert_int_equal(ys_tz_load("Trunc", dir, &tz, &err), YS_EINVAL);
    unlink(path), unlink(big), unlink(tr);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc),      cmocka_unit_test(test_berlin_offsets),
        cmocka_unit_test(test_new_york), cmocka_unit_test(test_gap_and_overlap),
        cmocka_unit_test(test_rules),    cmocka_unit_test(test_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
