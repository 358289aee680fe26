/*
 * test_alerts.c - the alert rules' config (alerts:, maintenance:) and the
 * evaluator's decisions: when an alert opens, notifies, repeats, stays
 * quiet in maintenance, changes level and resolves. The evaluator runs
 * without an outbox here; what it submitted is counted by kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alert/alert_int.h"
#include "config_fixture.h"

#define T0 INT64_C(1800000000000) /* 2027-01-15T08:00:00Z */
#define MIN_MS INT64_C(60000)
#define DAY_S INT64_C(86400)

static const char *const base_yaml =
    "checks:\n"
    "  - { name: api, kind: tcp, address: \"127.0.0.1:1\", labels: { area: edge } }\n"
    "  - { name: db, kind: tcp, address: \"127.0.0.1:2\" }\n"
    "alerts:\n"
    "  - { name: down, when: check_down, checks: [api], repeat_interval: 10m,\n"
    "      labels: { team: sre }, annotations: { runbook: \"see {{check}}\" } }\n"
    "  - { name: certs, when: cert_expiry, days: [7, 30, 14], repeat_interval: never }\n"
    "maintenance:\n"
    "  - { name: patch, checks: [api], start: \"2027-01-15 09:00Z\", end: \"2027-01-15 10:00Z\" }\n";

struct fixture {
    struct loaded l;
    uv_loop_t loop;
    struct ys_alerts *a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    load(&f->l, base_yaml);
    if (f->l.rc != 0)
        dump(&f->l);
    assert_int_equal(f->l.rc, 0);
    uv_loop_init(&f->loop);
    f->a = ys_alerts_new(&f->loop, NULL, "http://dash");
    ys_alerts_apply(f->a, f->l.cfg, T0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ys_alerts_stop(f->a);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    ys_alerts_free(f->a);
    uv_loop_close(&f->loop);
    unload(&f->l);
    free(f);
    return 0;
}

static struct ys_result result(bool ok)
{
    struct ys_result r;
    ys_result_init(&r);
    r.ok = ok;
    if (!ok)
        ys_result_fail(&r, YS_EC_CONNECT, "connection refused");
    return r;
}

static void feed(struct fixture *f, size_t check, bool ok, bool incident_open, int64_t now)
{
    struct ys_result r = result(ok);
    ys_alerts_feed_result(f->a, &f->l.cfg->checks[check], &r, incident_open, now);
}

/* The config section: kinds, thresholds sorted, defaults, notifier refs. */
static void test_config(void **state)
{
    struct fixture *f = *state;
    const struct ys_config *c = f->l.cfg;
    assert_int_equal(c->n_alerts, 2);
    assert_int_equal(c->alerts[0].kind, YS_ALERT_CHECK_DOWN);
    assert_int_equal(c->alerts[0].n_members, 1);
    assert_int_equal(c->alerts[0].repeat_interval_ms, 10 * MIN_MS);
    assert_string_equal(c->alerts[0].severity, "warning");
    assert_int_equal(c->alerts[1].n_days, 3);
    assert_int_equal(c->alerts[1].days[0], 30);
    assert_int_equal(c->alerts[1].days[2], 7);
    assert_int_equal(c->alerts[1].repeat_interval_ms, 0);
    assert_int_equal(c->n_maintenance, 1);
    assert_int_equal(c->maintenance[0].window.start_ms, T0 + 60 * MIN_MS);
    assert_int_equal(c->maintenance[0].window.end_ms, T0 + 120 * MIN_MS);
}

static void test_config_errors(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n"
             "  - { name: api, kind: tcp, address: \"127.0.0.1:1\" }\n"
             "alerts:\n"
             "  - { name: a, when: check_dwn }\n"
             "  - { name: b, when: check_down, checks: [apj], notify: [pager] }\n"
             "  - { name: c, when: heartbeat, problems: [lost], days: [3] }\n"
             "maintenance:\n"
             "  - { name: m, start: \"2027-13-01 00:00\", end: \"2027-01-01 00:00\" }\n"
             "  - { name: n, cron: \"0 99 * * *\" }\n");
    assert_int_equal(l.rc, YS_ECONFIG);
    assert_diag(&l, 4, 22, "did you mean 'check_down'");
    assert_diag(&l, 5, 43, "unknown check 'apj' in alert 'b'");
    assert_diag(&l, 5, 58, "unknown notifier 'pager'");
    assert_diag(&l, 6, 44, "unknown value 'lost'");
    assert_diag(&l, 6, 51, "applies only to when: cert_expiry");
    assert_diag(&l, 8, 23, "bad time '2027-13-01 00:00'");
    assert_diag(&l, 9, 22, "cron in maintenance window 'n'");
    assert_diag(&l, 9, 5, "missing required field 'duration' in maintenance window");
    unload(&l);
}

/* Fires once when the incident opens, not per failing result; repeats
 * every repeat_interval; resolves once. */
static void test_check_down_lifecycle(void **state)
{
    struct fixture *f = *state;
    feed(f, 0, false, false, T0); /* first failure: no incident yet */
    assert_null(ys_alerts_find(f->a, "down/api"));
    feed(f, 0, false, true, T0 + 1000);
    struct ys_alert *al = ys_alerts_find(f->a, "down/api");
    assert_non_null(al);
    assert_true(al->notified);
    assert_string_equal(json_string_value(json_object_get(al->labels, "team")), "sre");
    assert_string_equal(json_string_value(json_object_get(al->labels, "area")), "edge");
    assert_string_equal(json_string_value(json_object_get(al->annotations, "runbook")),
                        "see api");
    for (int i = 2; i < 20; i++)
        feed(f, 0, false, true, T0 + i * 1000);
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING], 1);
    ys_alerts_tick(f->a, T0 + 5 * MIN_MS);
    assert_int_equal(f->a->submitted[YS_EVENT_REPEAT], 0);
    ys_alerts_tick(f->a, T0 + 11 * MIN_MS);
    assert_int_equal(f->a->submitted[YS_EVENT_REPEAT], 1);
    ys_alerts_tick(f->a, T0 + 12 * MIN_MS);
    assert_int_equal(f->a->submitted[YS_EVENT_REPEAT], 1);
    feed(f, 0, true, false, T0 + 13 * MIN_MS);
    assert_null(ys_alerts_find(f->a, "down/api"));
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 1);
    assert_int_equal(ys_alerts_firing(f->a), 0);
    /* the rule names api only: db failing opens nothing */
    feed(f, 1, false, true, T0 + 14 * MIN_MS);
    assert_int_equal(ys_alerts_firing(f->a), 0);
}

/* A firing alert whose incident is not open (resumed after a kill -9
 * that lost the incident in the writer's queue) stays firing while the
 * check fails, and the incident that opens again is not news. */
static void test_failing_never_resolves(void **state)
{
    struct fixture *f = *state;
    feed(f, 0, false, true, T0);
    assert_non_null(ys_alerts_find(f->a, "down/api"));
    feed(f, 0, false, false, T0 + 1000); /* the tracker counts from zero again */
    feed(f, 0, false, false, T0 + 2000);
    assert_non_null(ys_alerts_find(f->a, "down/api"));
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 0);
    feed(f, 0, false, true, T0 + 3000);
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING], 1);
    feed(f, 0, true, false, T0 + 4000);
    assert_null(ys_alerts_find(f->a, "down/api"));
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 1);
}

/* In a maintenance window the alert opens but tells nobody; when the
 * window ends it notifies if it still fires. An alert that opened and
 * closed inside the window says nothing at all. */
static void test_maintenance(void **state)
{
    struct fixture *f = *state;
    int64_t in = T0 + 70 * MIN_MS;
    assert_true(ys_alerts_in_maintenance(f->a, 0, false, in));
    assert_false(ys_alerts_in_maintenance(f->a, 0, true, in)); /* not excluded from SLOs */
    assert_false(ys_alerts_in_maintenance(f->a, 1, false, in));
    feed(f, 0, false, true, in);
    assert_non_null(ys_alerts_find(f->a, "down/api"));
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING], 0);
    feed(f, 0, true, false, in + MIN_MS);
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 0);
    feed(f, 0, false, true, in + 2 * MIN_MS);
    ys_alerts_tick(f->a, in + 30 * MIN_MS);
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING], 0);
    ys_alerts_tick(f->a, T0 + 121 * MIN_MS);
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING], 1);
}

static void feed_cert(struct fixture *f, int64_t days_left, int64_t now)
{
    struct ys_result r = result(true);
    r.flags |= YS_RF_HAS_TLS;
    r.tls.leaf_not_after = now / 1000 + days_left * DAY_S + 3600;
    ys_alerts_feed_result(f->a, &f->l.cfg->checks[1], &r, false, now);
}

/* Each lower threshold crossed is news; staying under one is not. */
static void test_cert_levels(void **state)
{
    struct fixture *f = *state;
    feed_cert(f, 40, T0);
    assert_null(ys_alerts_find(f->a, "certs/db"));
    feed_cert(f, 29, T0);
    struct ys_alert *al = ys_alerts_find(f->a, "certs/db");
    assert_non_null(al);
    assert_string_equal(json_string_value(json_object_get(al->labels, "threshold")), "30d");
    feed_cert(f, 20, T0);
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING], 1);
    feed_cert(f, 13, T0);
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING], 2);
    al = ys_alerts_find(f->a, "certs/db");
    assert_string_equal(json_string_value(json_object_get(al->labels, "threshold")), "14d");
    /* a result without TLS facts (connection failed) changes nothing */
    struct ys_result r = result(false);
    ys_alerts_feed_result(f->a, &f->l.cfg->checks[1], &r, false, T0);
    assert_non_null(ys_alerts_find(f->a, "certs/db"));
    feed_cert(f, 90, T0); /* renewed */
    assert_null(ys_alerts_find(f->a, "certs/db"));
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 1);
}

/* A flapping check (fail, pass, fail, ...) never opens an incident, so
 * it never notifies; the incident rule is what debounces. */
static void test_flapping_is_quiet(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 200; i++)
        feed(f, 0, i % 2 == 0, false, T0 + i * 1000);
    assert_int_equal(f->a->submitted[YS_EVENT_FIRING] + f->a->submitted[YS_EVENT_RESOLVED], 0);
}

/* The table survives many alerts opening and closing in any order (the
 * backward-shift deletion keeps every key findable). */
static void test_table_churn(void **state)
{
    struct fixture *f = *state;
    const struct ys_alert_rule *rule = &f->l.cfg->alerts[0];
    char name[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "s%d", i);
        struct ys_condition c = {.rule = rule, .subject = name, .check = -1, .active = true};
        ys_alerts_set(f->a, &c, T0);
    }
    for (int i = 0; i < 3000; i += 3) {
        snprintf(name, sizeof name, "s%d", i);
        struct ys_condition c = {.rule = rule, .subject = name, .check = -1, .active = false};
        ys_alerts_set(f->a, &c, T0);
    }
    assert_int_equal(ys_alerts_firing(f->a), 2000);
    for (int i = 0; i < 3000; i++) {
        char key[64];
        snprintf(key, sizeof key, "down/s%d", i);
        if (i % 3 == 0)
            assert_null(ys_alerts_find(f->a, key));
        else
            assert_non_null(ys_alerts_find(f->a, key));
    }
}

/* A reload that drops the rule resolves its alerts. */
static void test_reload_resolves(void **state)
{
    struct fixture *f = *state;
    feed(f, 0, false, true, T0);
    assert_int_equal(ys_alerts_firing(f->a), 1);
    struct loaded l2;
    load(&l2, "checks:\n  - { name: api, kind: tcp, address: \"127.0.0.1:1\" }\n");
    assert_int_equal(l2.rc, 0);
    ys_alerts_apply(f->a, l2.cfg, T0 + MIN_MS);
    assert_int_equal(ys_alerts_firing(f->a), 0);
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 1);
    unload(&l2);
}

/* A resolution the outbox refuses (queue full) is kept and retried by
 * the tick, never lost; firing again meanwhile cancels it. */
static void test_resolution_retried(void **state)
{
    struct fixture *f = *state;
    feed(f, 0, false, true, T0);
    f->a->refuse_submits = 1;
    feed(f, 0, true, false, T0 + 1000);
    struct ys_alert *al = ys_alerts_find(f->a, "down/api");
    assert_non_null(al);
    assert_true(al->resolving);
    assert_int_equal(ys_alerts_firing(f->a), 0);
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 0);
    ys_alerts_tick(f->a, T0 + 2000);
    assert_null(ys_alerts_find(f->a, "down/api"));
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 1);
    /* refused again, then firing again before the retry: no resolution */
    feed(f, 0, false, true, T0 + 3000);
    f->a->refuse_submits = 1;
    feed(f, 0, true, false, T0 + 4000);
    feed(f, 0, false, true, T0 + 5000);
    ys_alerts_tick(f->a, T0 + 6000);
    al = ys_alerts_find(f->a, "down/api");
    assert_non_null(al);
    assert_false(al->resolving);
    assert_int_equal(f->a->submitted[YS_EVENT_RESOLVED], 1);
}

/* The alert keeps the names of the notifiers it was sent to, so its
 * resolution reaches them after a reload dropped the rule. */
static void test_alert_keeps_its_notifiers(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "checks:\n  - { name: api, kind: tcp, address: \"127.0.0.1:1\" }\n"
             "notifiers:\n  - { name: hook, kind: webhook, url: \"http://127.0.0.1:1/h\" }\n"
             "  - { name: chat, kind: slack, url: \"http://127.0.0.1:1/s\" }\n"
             "alerts:\n  - { name: down, when: check_down, notify: [hook, chat] }\n");
    if (l.rc)
        dump(&l);
    assert_int_equal(l.rc, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_alerts *a = ys_alerts_new(&loop, NULL, "");
    ys_alerts_apply(a, l.cfg, T0);
    struct ys_result r = result(false);
    ys_alerts_feed_result(a, &l.cfg->checks[0], &r, true, T0);
    struct ys_alert *al = ys_alerts_find(a, "down/api");
    assert_non_null(al);
    assert_int_equal(al->notify.n, 2);
    assert_string_equal(al->notify.v[0], "hook");
    assert_string_equal(al->notify.v[1], "chat");
    ys_alerts_stop(a);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_alerts_free(a);
    uv_loop_close(&loop);
    unload(&l);
}

/* Plan alerts no pass reports any more (their goal was removed, or the
 * rule stopped naming it) are resolved by the sweep after the pass; one
 * the pass kept (evaluation failed) stays. */
static void test_plan_sweep(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "goals:\n  - { id: g1, title: One, target: \">= 99%\" }\n"
             "  - { id: g2, title: Two, target: \">= 99%\" }\n"
             "alerts:\n  - { name: plan, when: goal_status }\n");
    assert_int_equal(l.rc, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_alerts *a = ys_alerts_new(&loop, NULL, "");
    ys_alerts_apply(a, l.cfg, T0);
    const struct ys_alert_rule *rule = &l.cfg->alerts[0];
    a->plan_pass++;
    struct ys_condition c1 = {.rule = rule, .subject = "g1", .check = -1, .active = true};
    struct ys_condition c2 = {.rule = rule, .subject = "g2", .check = -1, .active = true};
    ys_alerts_set(a, &c1, T0);
    ys_alerts_set(a, &c2, T0);
    ys_alerts_sweep_plan(a, T0);
    assert_int_equal(ys_alerts_firing(a), 2);
    a->plan_pass++; /* the next pass reports g1 only and could not evaluate g2 */
    ys_alerts_set(a, &c1, T0 + 1000);
    ys_alerts_keep(a, rule, "g2");
    ys_alerts_sweep_plan(a, T0 + 1000);
    assert_int_equal(ys_alerts_firing(a), 2);
    a->plan_pass++; /* then g2 is gone from the plan */
    ys_alerts_set(a, &c1, T0 + 2000);
    ys_alerts_sweep_plan(a, T0 + 2000);
    assert_non_null(ys_alerts_find(a, "plan/g1"));
    assert_null(ys_alerts_find(a, "plan/g2"));
    assert_int_equal(a->submitted[YS_EVENT_RESOLVED], 1);
    ys_alerts_stop(a);
    uv_run(&loop, UV_RUN_DEFAULT);
    ys_alerts_free(a);
    uv_loop_close(&loop);
    unload(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test_setup_teardown(test_check_down_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_never_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maintenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flapping_is_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_retried, setup, teardown),
        cmocka_unit_test(test_alert_keeps_its_notifiers),
        cmocka_unit_test(test_plan_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
