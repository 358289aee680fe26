/*
 * test_config_goals.c - the slos:, goals:, milestones: and actions:
 * sections, defaults.timezone and the per-check incident: thresholds.
 *
 * Each valid shape is loaded and its parsed fields checked; each error is
 * looked up by its exact line:col and message, so a test fails if an error
 * moves, changes or goes missing. Due dates are checked as instants in
 * UTC and Europe/Berlin (summer and winter time).
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DAY INT64_C(86400000)
#define HOUR INT64_C(3600000)

static struct ys_diag D;
static struct ys_config *C;
static char buf[8192];

static int setup(void **state)
{
    (void)state;
    ys_diag_init(&D, "t.yaml");
    C = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ys_config_unref(C);
    ys_diag_free(&D);
    return 0;
}

/* Three checks on lines 2-13; sections under test start on line 14. */
static const char *const checks = "checks:\n"
                                  "  - name: homepage\n"
                                  "    kind: http\n"
                                  "    url: http://127.0.0.1:8080/\n"
                                  "    labels: {area: networking, tier: web}\n"
                                  "  - name: grafana\n"
                                  "    kind: http\n"
                                  "    url: http://127.0.0.1:3000/\n"
                                  "    labels: {area: networking}\n"
                                  "  - name: db\n"
                                  "    kind: tcp\n"
                                  "    address: 127.0.0.1:5432\n"
                                  "    incident: {open_after: 3, close_after: 2}\n";

static int load(const char *rest)
{
    snprintf(buf, sizeof buf, "%s%s", checks, rest);
    return ys_config_load_string(buf, strlen(buf), &C, &D);
}

static void load_ok(const char *rest)
{
    if (load(rest) != 0 || D.n != 0) {
        ys_diag_print(&D, stderr);
        fail_msg("expected the config to load");
    }
    assert_non_null(C);
}

/* Asserts there is an error exactly msg at line:col, and that the load
 * failed. */
#define expect_exact(line, col, msg) expect_exact_at(line, col, msg, __FILE__, __LINE__)
static void expect_exact_at(int line, int col, const char *msg, const char *file, int at)
{
    assert_null(C);
    for (size_t i = 0; i < D.n; i++)
        if (D.v[i].line == line && D.v[i].col == col && strcmp(D.v[i].msg, msg) == 0)
            return;
    ys_diag_print(&D, stderr);
    _fail(file, at);
}

/* The same for a message that starts with prefix. */
#define expect_prefix(line, col, pre) expect_prefix_at(line, col, pre, __FILE__, __LINE__)
static void expect_prefix_at(int line, int col, const char *pre, const char *file, int at)
{
    assert_null(C);
    for (size_t i = 0; i < D.n; i++)
        if (D.v[i].line == line && D.v[i].col == col &&
            strncmp(D.v[i].msg, pre, strlen(pre)) == 0)
            return;
    ys_diag_print(&D, stderr);
    _fail(file, at);
}

static void test_incident_thresholds(void **state)
{
    (void)state;
    load_ok("");
    assert_int_equal(C->checks[0].incident_open_after, 2);
    assert_int_equal(C->checks[0].incident_close_after, 1);
    assert_int_equal(C->checks[2].incident_open_after, 3);
    assert_int_equal(C->checks[2].incident_close_after, 2);
    assert_string_equal(C->defaults.timezone, "UTC");
    assert_int_equal(C->n_slos, 0);
    assert_int_equal(C->n_goals, 0);
}

static void test_incident_errors(void **state)
{
    (void)state;
    const char *y = "checks:\n"
                    "  - name: a\n"
                    "    kind: tcp\n"
                    "    address: 127.0.0.1:1\n"
                    "    incident: {open_after: 0, close_afte: 2}\n"
                    "  - name: b\n"
                    "    kind: tcp\n"
                    "    address: 127.0.0.1:1\n"
                    "    incident: {close_after: 101}\n"
                    "  - name: c\n"
                    "    kind: tcp\n"
                    "    address: 127.0.0.1:1\n"
                    "    incident: 3\n";
    assert_int_equal(ys_config_load_string(y, strlen(y), &C, &D), YS_ECONFIG);
    expect_exact(5, 28, "checks[0].incident.open_after must be between 1 and 100, not 0");
    expect_exact(5, 31, "unknown key 'close_afte' in checks[0].incident (did you mean "
                        "'close_after'?)");
    expect_exact(9, 29, "checks[1].incident.close_after must be between 1 and 100, not 101");
    expect_exact(13, 15, "checks[2].incident must be a mapping, not a string");
}

static void test_slo_shapes(void **state)
{
    (void)state;
    load_ok("slos:\n"
            "  - name: ingress-availability\n"
            "    checks: [homepage, grafana, homepage]\n"
            "    objective: 99.9%\n"
            "  - name: net-latency\n"
            "    selector: {area: networking}\n"
            "    objective: 99\n"
            "    window: month\n"
            "    indicator: {latency: 2s}\n"
            "  - name: db-q\n"
            "    checks: db\n"
            "    objective: 95.5%\n"
            "    window: quarter\n"
            "    indicator: availability\n"
            "  - name: web\n"
            "    selector: {area: networking, tier: web}\n"
            "    objective: \"50%\"\n"
            "    window: 7d\n");
    assert_int_equal(C->n_slos, 4);
    const struct ys_slo *s = &C->slos[0];
    assert_string_equal(s->name, "ingress-availability");
    assert_int_equal(s->n_members, 2); /* homepage listed twice counts once */
    assert_int_equal(s->members[0], 0);
    assert_int_equal(s->members[1], 1);
    assert_true(s->objective > 0.99899 && s->objective < 0.99901);
    assert_int_equal(s->window.kind, YS_WINDOW_ROLLING);
    assert_int_equal(s->window.length_ms, 30 * DAY);
    assert_int_equal(s->indicator, YS_SLI_AVAILABILITY);
    s = &C->slos[1];
    assert_int_equal(s->n_members, 2);
    assert_int_equal(s->members[0], 0);
    assert_int_equal(s->members[1], 1);
    assert_int_equal(s->window.kind, YS_WINDOW_MONTH);
    assert_int_equal(s->indicator, YS_SLI_LATENCY);
    assert_int_equal(s->latency_threshold_ms, 2000);
    assert_true(s->objective > 0.98999 && s->objective < 0.99001);
    s = &C->slos[2];
    assert_int_equal(s->n_members, 1);
    assert_int_equal(s->members[0], 2);
    assert_int_equal(s->window.kind, YS_WINDOW_QUARTER);
    s = &C->slos[3];
    assert_int_equal(s->n_members, 1); /* both labels must match: grafana has no tier */
    assert_int_equal(s->members[0], 0);
    assert_int_equal(s->window.length_ms, 7 * DAY);
    assert_ptr_equal(ys_config_find_slo(C, "db-q"), &C->slos[2]);
    assert_null(ys_config_find_slo(C, "db"));
    assert_null(ys_config_find_slo(C, NULL));
}

static void test_slo_errors(void **state)
{
    (void)state;
    int rc = load("slos:\n"                                     /* 14 */
                  "  - name: a\n"                               /* 15 */
                  "    checks: [homepag, nothing-like-it]\n"    /* 16 */
                  "    objective: 100%\n"                       /* 17 */
                  "  - name: a\n"                               /* 18 */
                  "    selector: {area: storage}\n"             /* 19 */
                  "    objective: 0\n"                          /* 20 */
                  "    window: fortnight\n"                     /* 21 */
                  "  - name: c\n"                               /* 22 */
                  "    checks: [db]\n"                          /* 23 */
                  "    selector: {area: networking}\n"          /* 24 */
                  "    objective: ninety\n"                     /* 25 */
                  "    indicator: latency\n"                    /* 26 */
                  "    windw: 30d\n"                            /* 27 */
                  "  - name: d\n"                               /* 28 */
                  "    indicator: {latency: soon}\n"            /* 29 */
                  "  - name: bad name\n"                        /* 30 */
                  "    checks: [db]\n"                          /* 31 */
                  "    objective: 99%\n");                      /* 32 */
    assert_int_equal(rc, YS_ECONFIG);
    expect_exact(16, 14, "unknown check 'homepag' in slo 'a' (did you mean 'homepage'?)");
    expect_exact(16, 23, "unknown check 'nothing-like-it' in slo 'a'");
    expect_exact(17, 16, "objective in slo 'a' must be a percentage above 0 and below 100, "
                         "such as 99.9%, not '100%'");
    expect_exact(18, 11, "duplicate slo name 'a' (first defined at 15:5)");
    expect_exact(19, 15, "selector in slo 'a' matches no check");
    expect_prefix(20, 16, "objective in slo 'a' must be a percentage above 0");
    expect_exact(21, 13, "window in slo 'a': bad window 'fortnight' (use a duration such as "
                         "30d or 4w, month or quarter)");
    expect_exact(24, 5, "slo 'c' has both checks and selector: give one of them");
    expect_prefix(25, 16, "objective in slo 'c' must be a percentage");
    expect_exact(26, 16,
                 "indicator in slo 'c' must be availability or { latency: 2s }, not 'latency'");
    expect_exact(27, 5, "unknown key 'windw' in slo 'c' (did you mean 'window'?)");
    expect_exact(28, 5, "missing required field 'checks' or 'selector' in slo 'd'");
    expect_exact(28, 5, "missing required field 'objective' in slo 'd'");
    expect_prefix(29, 26, "indicator latency in slo 'd': bad duration 'soon'");
    expect_exact(30, 11, "bad slo name 'bad name' (use 1-128 of A-Z a-z 0-9 . _ -)");
}

static const char *const goals_ok =
    "defaults:\n"
    "  timezone: Europe/Berlin\n"
    "slos:\n"
    "  - name: ingress-availability\n"
    "    checks: [homepage]\n"
    "    objective: 99.9%\n"
    "    window: month\n"
    "goals:\n"
    "  - id: node-availability\n"
    "    title: Node availability\n"
    "    area: Kubernetes Cluster Reliability\n"
    "    priority: P0\n"
    "    baseline: \"~95%\"\n"
    "    target: \">= 99.5%\"\n"
    "    due: 2025-09-30\n"
    "    measure: { slo: ingress-availability }\n"
    "  - id: rollback.time_1\n"
    "    title: Rollback time\n"
    "    priority: p3\n"
    "    baseline: 95\n"
    "    target: < 5m\n"
    "    due: 2025-12-31\n"
    "    measure: { check: db, stat: mttr, window: 90d }\n"
    "  - id: manual-one\n"
    "    title: Backups tested\n"
    "    target: \"yes\"\n"
    "    measure: manual\n"
    "  - id: multi-arch\n"
    "    title: Multi-arch builds\n"
    "    target: 100%\n"
    "    measure: { selector: {area: networking} }\n"
    "  - id: web-avail\n"
    "    title: Web availability\n"
    "    target: 99%\n"
    "    measure: { check: homepage }\n"
    "  - id: share\n"
    "    title: Share\n"
    "    target: 60%..80%\n"
    "    measure: { selector: {tier: web}, stat: availability }\n"
    "milestones:\n"
    "  - title: 99.5% availability\n"
    "    due: 2025-09-30\n"
    "    goals: [node-availability, manual-one]\n"
    "  - title: Later\n"
    "actions:\n"
    "  - area: Networking\n"
    "    title: Write the runbook\n"
    "    done: true\n"
    "  - title: Buy a UPS\n";

static void test_goal_shapes(void **state)
{
    (void)state;
    load_ok(goals_ok);
    assert_string_equal(C->defaults.timezone, "Europe/Berlin");
    assert_int_equal(C->n_goals, 6);
    const struct ys_goal *g = &C->goals[0];
    assert_string_equal(g->id, "node-availability");
    assert_string_equal(g->title, "Node availability");
    assert_string_equal(g->area, "Kubernetes Cluster Reliability");
    assert_int_equal(g->priority, 0);
    assert_string_equal(g->baseline, "~95%");
    assert_int_equal(g->target.op, YS_TOP_GE);
    assert_int_equal(g->target.unit, YS_TU_PERCENT);
    assert_true(g->target.lo > 99.49 && g->target.lo < 99.51);
    assert_string_equal(g->due_text, "2025-09-30");
    /* End of 30 September in Berlin (CEST, +2): 2025-09-30T22:00:00Z. */
    assert_int_equal(g->due_ms, INT64_C(1759269600000));
    assert_int_equal(g->measure.kind, YS_MEASURE_SLO);
    assert_int_equal(g->measure.stat, YS_STAT_SLI);
    assert_string_equal(g->measure.ref, "ingress-availability");
    assert_int_equal(g->measure.ref_index, 0);
    assert_int_equal(g->measure.window.kind, YS_WINDOW_MONTH); /* the SLO's */

    g = &C->goals[1];
    assert_int_equal(g->priority, 3);
    assert_string_equal(g->baseline, "95"); /* a number, kept as text */
    assert_null(g->area);
    assert_int_equal(g->target.op, YS_TOP_LT);
    assert_int_equal(g->target.unit, YS_TU_SECONDS);
    /* End of 31 December in Berlin (CET, +1): 2025-12-31T23:00:00Z. */
    assert_int_equal(g->due_ms, INT64_C(1767222000000));
    assert_int_equal(g->measure.kind, YS_MEASURE_CHECK);
    assert_int_equal(g->measure.stat, YS_STAT_MTTR);
    assert_int_equal(g->measure.ref_index, 2);
    assert_int_equal(g->measure.window.kind, YS_WINDOW_ROLLING);
    assert_int_equal(g->measure.window.length_ms, 90 * DAY);

    g = &C->goals[2];
    assert_int_equal(g->priority, -1);
    assert_null(g->baseline);
    assert_null(g->due_text);
    assert_int_equal(g->due_ms, 0);
    assert_int_equal(g->measure.kind, YS_MEASURE_MANUAL);
    assert_int_equal(g->target.unit, YS_TU_BOOL);

    g = &C->goals[3];
    assert_int_equal(g->measure.kind, YS_MEASURE_SELECTOR);
    assert_int_equal(g->measure.stat, YS_STAT_PASS_SHARE);
    assert_string_equal(ys_strmap_get(&g->measure.selector, "area"), "networking");
    assert_int_equal(g->measure.window.length_ms, 30 * DAY);
    g = &C->goals[4];
    assert_int_equal(g->measure.kind, YS_MEASURE_CHECK);
    assert_int_equal(g->measure.stat, YS_STAT_AVAILABILITY);
    assert_int_equal(g->measure.ref_index, 0);
    g = &C->goals[5];
    assert_int_equal(g->measure.stat, YS_STAT_AVAILABILITY);
    assert_int_equal(g->target.op, YS_TOP_RANGE);

    assert_int_equal(C->n_milestones, 2);
    assert_string_equal(C->milestones[0].title, "99.5% availability");
    assert_int_equal(C->milestones[0].due_ms, INT64_C(1759269600000));
    assert_int_equal(C->milestones[0].goal_ids.n, 2);
    assert_int_equal(C->milestones[0].goals[0], 0);
    assert_int_equal(C->milestones[0].goals[1], 2);
    assert_int_equal(C->milestones[1].goal_ids.n, 0);
    assert_int_equal(C->milestones[1].due_ms, 0);

    assert_int_equal(C->n_actions, 2);
    assert_string_equal(C->actions[0].area, "Networking");
    assert_string_equal(C->actions[0].title, "Write the runbook");
    assert_true(C->actions[0].done);
    assert_null(C->actions[1].area);
    assert_false(C->actions[1].done);

    assert_ptr_equal(ys_config_find_goal(C, "share"), &C->goals[5]);
    assert_null(ys_config_find_goal(C, "nope"));
}

/* Due dates: the next local midnight, table-driven across zones, DST
 * changes and leap days. */
static void test_due_dates(void **state)
{
    (void)state;
    static const struct {
        const char *tz, *date;
        int64_t want_ms;
    } cases[] = {
        {"UTC", "2025-09-30", INT64_C(1759276800000)},           /* 2025-10-01T00:00Z */
        {"UTC", "2024-02-29", INT64_C(1709251200000)},           /* 2024-03-01T00:00Z */
        {"Europe/Berlin", "2025-03-29", INT64_C(1743289200000)}, /* 03-30 00:00 CET = 23:00Z */
        {"Europe/Berlin", "2025-03-30", INT64_C(1743372000000)}, /* 03-31 00:00 CEST = 22:00Z */
        {"Europe/Berlin", "2025-10-25", INT64_C(1761429600000)}, /* 10-26 00:00 CEST */
        {"Europe/Berlin", "2025-10-26", INT64_C(1761519600000)}, /* 10-27 00:00 CET */
        {"America/New_York", "2025-12-31", INT64_C(1767243600000)}, /* 01-01 05:00Z */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rest[512];
        snprintf(rest, sizeof rest,
                 "defaults: {timezone: %s}\ngoals:\n  - id: g\n    title: G\n    target: 1s\n"
                 "    due: %s\n",
                 cases[i].tz, cases[i].date);
        setup(NULL);
        load_ok(rest);
        if (C->goals[0].due_ms != cases[i].want_ms)
            fail_msg("%s %s: due_ms %lld, want %lld", cases[i].tz, cases[i].date,
                     (long long)C->goals[0].due_ms, (long long)cases[i].want_ms);
        teardown(NULL);
    }
}

static void test_goal_errors(void **state)
{
    (void)state;
    int rc = load("slos:\n"                                              /* 14 */
                  "  - name: ingress\n"                                  /* 15 */
                  "    checks: [homepage]\n"                             /* 16 */
                  "    objective: 99%\n"                                 /* 17 */
                  "goals:\n"                                             /* 18 */
                  "  - id: Bad_ID\n"                                     /* 19 */
                  "    title: T\n"                                       /* 20 */
                  "    priority: P4\n"                                   /* 21 */
                  "    target: fast-ish\n"                               /* 22 */
                  "    due: 2025-02-29\n"                                /* 23 */
                  "    measure: { slo: ingres }\n"                       /* 24 */
                  "  - id: g2\n"                                         /* 25 */
                  "    measure: { check: grafan, stat: p95x }\n"         /* 26 */
                  "    targt: 1s\n"                                      /* 27 */
                  "  - id: g2\n"                                         /* 28 */
                  "    title: T\n"                                       /* 29 */
                  "    target: 1s\n"                                     /* 30 */
                  "    due: 30.09.2025\n"                                /* 31 */
                  "    measure: { selector: {area: none}, stat: p95 }\n" /* 32 */
                  "  - id: g4\n"                                         /* 33 */
                  "    title: T\n"                                       /* 34 */
                  "    target: 1s\n"                                     /* 35 */
                  "    measure: { slo: ingress, check: db }\n"           /* 36 */
                  "  - id: g5\n"                                         /* 37 */
                  "    title: T\n"                                       /* 38 */
                  "    target: 1s\n"                                     /* 39 */
                  "    measure: sometimes\n"                             /* 40 */
                  "  - id: g6\n"                                         /* 41 */
                  "    title: T\n"                                       /* 42 */
                  "    target: 1s\n"                                     /* 43 */
                  "    measure: { slo: ingress, stat: p50 }\n"           /* 44 */
                  "  - id: g7\n"                                         /* 45 */
                  "    title: T\n"                                       /* 46 */
                  "    target: 1s\n"                                     /* 47 */
                  "    measure: { window: 30d }\n"                       /* 48 */
                  "milestones:\n"                                        /* 49 */
                  "  - due: 2025-13-01\n"                                /* 50 */
                  "    goals: [g22, g4]\n"                               /* 51 */
                  "actions:\n"                                           /* 52 */
                  "  - done: maybe\n"                                    /* 53 */
                  "  - Do it\n");                                        /* 54 */
    assert_int_equal(rc, YS_ECONFIG);
    expect_exact(19, 9, "bad goal id 'Bad_ID' (use 1-128 of a-z 0-9 . _ -)");
    expect_exact(21, 15, "priority in goal 'Bad_ID' must be P0, P1, P2 or P3, not 'P4'");
    expect_prefix(22, 13, "goal 'Bad_ID': cannot read target 'fast-ish'");
    expect_exact(23, 10, "due in goal 'Bad_ID': bad date '2025-02-29' (use YYYY-MM-DD, such "
                         "as 2025-09-30)");
    expect_exact(24, 21, "unknown slo 'ingres' in goal 'Bad_ID' (did you mean 'ingress'?)");
    expect_exact(25, 5, "missing required field 'title' in goal 'g2'");
    expect_exact(25, 5, "missing required field 'target' in goal 'g2'");
    expect_exact(26, 23, "unknown check 'grafan' in goal 'g2' (did you mean 'grafana'?)");
    expect_exact(26, 37, "unknown stat 'p95x' in goal 'g2' (did you mean 'p95'?)");
    expect_exact(27, 5, "unknown key 'targt' in goal 'g2' (did you mean 'target'?)");
    expect_exact(28, 9, "duplicate goal id 'g2' (first defined at 25:5)");
    expect_exact(31, 10, "due in goal 'g2': bad date '30.09.2025' (use YYYY-MM-DD, such as "
                         "2025-09-30)");
    expect_exact(32, 26, "measure.selector in goal 'g2' matches no check");
    expect_prefix(32, 46, "unknown stat 'p95' in goal 'g2'");
    expect_exact(36, 30, "measure in goal 'g4' has both slo and check: give one");
    expect_exact(40, 14, "measure in goal 'g5' must be manual or a mapping with slo, check, "
                         "selector or promql, not 'sometimes'");
    expect_exact(44, 36, "measure in goal 'g6': stat applies to check and selector measures, "
                         "not slo");
    expect_exact(48, 14, "measure in goal 'g7' needs one of slo, check, selector or promql (or "
                         "write manual)");
    expect_exact(50, 5, "missing required field 'title' in milestones[0]");
    expect_exact(50, 10, "due in milestones[0]: bad date '2025-13-01' (use YYYY-MM-DD, such as "
                         "2025-09-30)");
    expect_exact(51, 13, "unknown goal 'g22' in milestones[0] (did you mean 'g2'?)");
    expect_exact(53, 5, "missing required field 'title' in actions[0]");
    expect_exact(53, 11, "action done must be true or false, not 'maybe'");
    expect_exact(54, 5, "actions[1] must be a mapping, not a string");
}

static void test_timezone_errors(void **state)
{
    (void)state;
    int rc = load("defaults:\n"
                  "  timezone: Mars/Olympus_Mons\n"
                  "  tz: UTC\n");
    assert_int_equal(rc, YS_ECONFIG);
    expect_prefix(15, 13, "defaults.timezone: unknown time zone 'Mars/Olympus_Mons'");
    expect_exact(16, 3, "unknown key 'tz' in defaults");
}

static void test_section_shapes(void **state)
{
    (void)state;
    int rc = load("slos: {a: 1}\n"
                  "goals: nope\n"
                  "milestones: 3\n"
                  "actions:\n"
                  "  - title: fine\n"
                  "actoins: []\n");
    assert_int_equal(rc, YS_ECONFIG);
    expect_exact(14, 7, "slos must be a list of SLOs, not a mapping");
    expect_exact(15, 8, "goals must be a list, not a string");
    expect_exact(16, 13, "milestones must be a list, not a string");
    expect_exact(19, 1, "unknown key 'actoins' (did you mean 'actions'?)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_incident_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incident_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slo_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slo_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goal_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_dates, NULL, NULL),
        cmocka_unit_test_setup_teardown(test_goal_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timezone_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_section_shapes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
