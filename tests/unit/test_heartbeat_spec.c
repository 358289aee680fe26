/*
 * test_heartbeat_spec.c - the heartbeat kind's config fields: values,
 * defaults (grace from the period or the cron's gaps, max_body), the
 * schedule handed to the tracker, and every error with its line and
 * column. Each case loads a whole config, as `yardstick validate` does.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "probe/heartbeat_spec.h"
#include "probe/probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

#define MIN_MS INT64_C(60000)

static const struct ys_heartbeat_spec *only_spec(const struct loaded *l)
{
    if (l->rc != 0)
        dump(l);
    assert_int_equal(l->rc, 0);
    assert_int_equal(l->cfg->n_checks, 1);
    assert_string_equal(l->cfg->checks[0].type->name, "heartbeat");
    return l->cfg->checks[0].spec;
}

static void test_passive_kind(void **state)
{
    (void)state;
    const struct ys_probe_type *t = ys_probe_type_find("heartbeat");
    assert_non_null(t);
    assert_null(t->start);
    assert_null(t->cancel);
}

static void test_period_full(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: etcd-backup\n"
             "    kind: heartbeat\n"
             "    period: 1h\n"
             "    grace: 10m\n"
             "    token: s3cret\n"
             "    min_duration: 30s\n"
             "    max_duration: 20m\n"
             "    max_body: 1KiB\n");
    const struct ys_heartbeat_spec *s = only_spec(&l);
    assert_int_equal(s->period_ms, 60 * MIN_MS);
    assert_null(s->cron_text);
    assert_int_equal(s->grace_ms, 10 * MIN_MS);
    assert_string_equal(s->token, "s3cret");
    assert_int_equal(s->min_duration_ms, 30000);
    assert_int_equal(s->max_duration_ms, 20 * MIN_MS);
    assert_int_equal(s->max_body, 1024);
    struct ys_hb_schedule sch;
    ys_heartbeat_spec_schedule(s, NULL, &sch);
    assert_int_equal(sch.period_ms, 60 * MIN_MS);
    assert_null(sch.cron);
    assert_int_equal(sch.grace_ms, 10 * MIN_MS);
    assert_int_equal(sch.min_duration_ms, 30000);
    assert_int_equal(sch.max_duration_ms, 20 * MIN_MS);
    unload(&l);
}

/* grace: 10% of the period, at least a minute; for cron 5m, at most half
 * the shortest gap between fires. */
static void test_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *sched;
        int64_t grace_ms;
    } cases[] = {
        {"period: 1h", 6 * MIN_MS},
        {"period: 2s", MIN_MS},
        {"period: 5m", MIN_MS},
        {"period: 1d", 144 * MIN_MS},
        {"cron: \"0 * * * *\"", 5 * MIN_MS},
        {"cron: \"*/4 * * * *\"", 2 * MIN_MS},
        {"cron: \"* * * * *\"", 30000},
        {"cron: \"@daily\"", 5 * MIN_MS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "checks:\n  - name: j\n    kind: heartbeat\n    %s\n",
                 cases[i].sched);
        struct loaded l;
        load(&l, yaml);
        const struct ys_heartbeat_spec *s = only_spec(&l);
        if (s->grace_ms != cases[i].grace_ms)
            fail_msg("%s: grace %lld ms, expected %lld", cases[i].sched, (long long)s->grace_ms,
                     (long long)cases[i].grace_ms);
        assert_int_equal(s->max_body, YS_HB_MAX_BODY_DEFAULT);
        assert_null(s->token);
        assert_int_equal(s->min_duration_ms, 0);
        assert_int_equal(s->max_duration_ms, 0);
        assert_false(s->tz_given);
        unload(&l);
    }
}

static void test_cron_tz(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - name: nightly\n"
             "    kind: heartbeat\n"
             "    cron: \"30 2 * * *\"\n"
             "    tz: Europe/Berlin\n"
             "    grace: 1h\n"
             "    max_body: 0\n");
    const struct ys_heartbeat_spec *s = only_spec(&l);
    assert_int_equal(s->period_ms, 0);
    assert_string_equal(s->cron_text, "30 2 * * *");
    assert_true(s->tz_given);
    assert_string_equal(s->tz.name, "Europe/Berlin");
    assert_int_equal(s->grace_ms, 60 * MIN_MS);
    assert_int_equal(s->max_body, 0);
    struct ys_tz utc;
    ys_tz_utc(&utc);
    struct ys_hb_schedule sch;
    ys_heartbeat_spec_schedule(s, &utc, &sch);
    assert_ptr_equal(sch.cron, &s->cron);
    assert_ptr_equal(sch.tz, &s->tz); /* its own zone wins over the default */
    unload(&l);

    /* Without tz the default zone the daemon passes is used. */
    load(&l, "checks:\n  - name: n\n    kind: heartbeat\n    cron: \"0 3 * * *\"\n");
    s = only_spec(&l);
    ys_heartbeat_spec_schedule(s, &utc, &sch);
    assert_ptr_equal(sch.tz, &utc);
    unload(&l);
}

/* The shortest gap of "30 2 * * *" in Berlin is 23.5 h: 02:30 does not
 * exist on 2026-03-29 and fires at 03:00 CEST; in UTC it is 24 h. */
static void test_min_gap(void **state)
{
    (void)state;
    struct ys_cron c;
    struct ys_tz berlin, utc;
    struct ys_err err = {{0}};
    assert_int_equal(ys_cron_parse("30 2 * * *", &c, &err), 0);
    assert_int_equal(ys_tz_load("Europe/Berlin", NULL, &berlin, &err), 0);
    ys_tz_utc(&utc);
    int64_t jan_2026 = INT64_C(1767225600000);
    assert_int_equal(ys_heartbeat_cron_min_gap(&c, &berlin, jan_2026), (23 * 60 + 30) * MIN_MS);
    assert_int_equal(ys_heartbeat_cron_min_gap(&c, &utc, jan_2026), 24 * 60 * MIN_MS);
    assert_int_equal(ys_cron_parse("0 9 * * 1,3", &c, &err), 0);
    assert_int_equal(ys_heartbeat_cron_min_gap(&c, &utc, jan_2026), 2 * 24 * 60 * MIN_MS);
    ys_tz_free(&berlin);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int line, col;
        const char *text;
    } cases[] = {
        {"    period: 1h\n    cron: \"0 * * * *\"\n", 5, 11, "exclude each other"},
        {"    grace: 5m\n", 2, 5, "missing required field 'period' or 'cron'"},
        {"    cron: \"0 24 * * *\"\n", 4, 11, "cron: hour"},
        {"    cron: \"0 0 30 2 *\"\n", 4, 11, "never fires"},
        {"    cron: \"0 * * * *\"\n    tz: Mars/Olympus\n", 5, 9, "unknown time zone"},
        {"    period: 1h\n    tz: Europe/Berlin\n", 5, 9, "cron schedule only"},
        {"    cron: \"*/5 * * * *\"\n    grace: 5m\n", 5, 12, "shortest gap"},
        {"    period: 500ms\n", 4, 13, "at least 1s"},
        {"    period: soon\n", 4, 13, "bad duration"},
        {"    period: 1h\n    max_body: 2MiB\n", 5, 15, "between 0 and 1MiB"},
        {"    period: 1h\n    min_duration: 5m\n    max_duration: 1m\n", 5, 19,
         "shorter than max_duration"},
        {"    period: 1h\n    token: \"\"\n", 5, 12, "must not be empty"},
        {"    period: 1h\n    perod: 2h\n", 5, 5, "did you mean 'period'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "checks:\n  - name: j\n    kind: heartbeat\n%s", cases[i].body);
        struct loaded l;
        load(&l, yaml);
        if (l.rc != YS_ECONFIG)
            fail_msg("case %zu accepted:\n%s", i, yaml);
        assert_diag(&l, cases[i].line, cases[i].col, cases[i].text);
        unload(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_kind), cmocka_unit_test(test_period_full),
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_cron_tz),
        cmocka_unit_test(test_min_gap),      cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
