/*
 * test_goal_promql.c - goal measures computed by PromQL: the merge of the
 * sources' values (tables beside hand-computed answers), the window as a
 * PromQL duration, $window substitution, and the measure's config (valid
 * shapes and each error at its exact line:col).
 *
 * The requests themselves run against two real Prometheus servers in
 * tests/integration/test_promql_goal.sh.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/err.h"
#include "query/goal_promql.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_merge(void **state)
{
    (void)state;
    /* prod: 3 series summing 2.7 (mean 0.9); staging: 1 series, 0.5;
     * empty: no series (left out); single: 2 series summing 2 (mean 1). */
    const struct ys_pq_value two[] = {{2.7, 3}, {0.5, 1}, {0, 0}};
    static const struct {
        enum ys_measure_merge m;
        double want;
    } cases[] = {
        {YS_MERGE_MIN, 0.5},
        {YS_MERGE_MAX, 0.9},
        {YS_MERGE_AVG, 0.7},            /* (0.9 + 0.5) / 2 */
        {YS_MERGE_WEIGHTED, 3.2 / 4.0}, /* (2.7 + 0.5) / (3 + 1) = 0.8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -1;
        assert_true(ys_pq_merge(cases[i].m, two, 3, &v));
        if (fabs(v - cases[i].want) > 1e-12)
            print_error("merge %d: %.17g, want %.17g\n", (int)cases[i].m, v, cases[i].want);
        assert_true(fabs(v - cases[i].want) <= 1e-12);
    }
    /* One source with series: every merge is its mean. */
    const struct ys_pq_value one[] = {{0, 0}, {2, 2}};
    for (int m = YS_MERGE_MIN; m <= YS_MERGE_WEIGHTED; m++) {
        double v = -1;
        assert_true(ys_pq_merge((enum ys_measure_merge)m, one, 2, &v));
        assert_true(v == 1.0);
    }
    /* None with series: no data, and the output is left alone (never 0). */
    const struct ys_pq_value none[] = {{0, 0}, {0, 0}};
    double v = 42;
    assert_false(ys_pq_merge(YS_MERGE_MIN, none, 2, &v));
    assert_false(ys_pq_merge(YS_MERGE_WEIGHTED, none, 0, &v));
    assert_true(v == 42);
}

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {30 * INT64_C(86400000), "30d"},
        {36 * INT64_C(3600000), "36h"},
        {90 * INT64_C(60000), "90m"},
        {45000, "45s"},
        {1500, "1500ms"},
        {0, "1ms"},
        {INT64_C(86400000) + 1000, "86401s"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ys_pq_duration(cases[i].ms, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_expand(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"avg_over_time(up[$window]) * 100", "avg_over_time(up[30d]) * 100"},
        {"a[$window] / b[$window]", "a[30d] / b[30d]"},
        {"$window", "30d"},
        {"up", "up"},
        {"x[$windows] + y[$window_1]", "x[$windows] + y[$window_1]"}, /* other names */
        {"x[$window]$window", "x[30d]30d"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = ys_pq_expand(cases[i].in, "30d");
        assert_string_equal(out, cases[i].want);
        free(out);
    }
}

static const char *const sources = "sources:\n" /* 1 */
                                   "  - { name: prod, kind: prometheus, url: http://p:9090 }\n"
                                   "  - { name: staging, kind: prometheus, url: http://s:9090 }\n"
                                   "  - { name: k8s, kind: kubernetes, in_cluster: false }\n"
                                   "checks:\n" /* 5 */
                                   "  - { name: web, kind: tcp, address: 127.0.0.1:1 }\n"
                                   "goals:\n"; /* 7 */

static struct ys_config *C;
static struct ys_diag D;
static char buf[8192];

static int load(const char *goals, bool with_k8s)
{
    char head[1024];
    snprintf(head, sizeof head, "%s", sources);
    if (!with_k8s) {
        char *k = strstr(head, "  - { name: k8s");
        memmove(k, strchr(k, '\n') + 1, strlen(strchr(k, '\n') + 1) + 1);
    }
    snprintf(buf, sizeof buf, "%s%s", head, goals);
    ys_diag_free(&D);
    ys_diag_init(&D, "t.yaml");
    ys_config_unref(C);
    C = NULL;
    return ys_config_load_string(buf, strlen(buf), &C, &D);
}

static void test_config(void **state)
{
    (void)state;
    int rc = load("  - id: nodes\n"
                  "    title: Node availability\n"
                  "    target: \">= 99.5%\"\n"
                  "    measure: { promql: 'avg_over_time(x[$window]) * 100', "
                  "sources: [staging, prod], merge: weighted, window: 7d }\n"
                  "  - id: one\n"
                  "    title: One cluster\n"
                  "    target: \">= 99%\"\n"
                  "    measure: { promql: 'up', source: staging }\n"
                  "  - id: all\n"
                  "    title: Every cluster\n"
                  "    target: \">= 99%\"\n"
                  "    measure: { promql: 'up' }\n",
                  false);
    if (rc != 0)
        ys_diag_print(&D, stderr);
    assert_int_equal(rc, 0);
    const struct ys_measure *m = &C->goals[0].measure;
    assert_int_equal(m->kind, YS_MEASURE_PROMQL);
    assert_string_equal(m->query, "avg_over_time(x[$window]) * 100");
    assert_int_equal(m->merge, YS_MERGE_WEIGHTED);
    assert_int_equal(m->n_sources, 2);
    assert_string_equal(C->sources[m->sources[0]].name, "staging");
    assert_string_equal(C->sources[m->sources[1]].name, "prod");
    assert_true(m->window.length_ms == 7 * INT64_C(86400000));
    m = &C->goals[1].measure;
    assert_int_equal(m->merge, YS_MERGE_MIN); /* the default */
    assert_int_equal(m->n_sources, 1);
    assert_string_equal(C->sources[m->sources[0]].name, "staging");
    assert_true(m->window.length_ms == 30 * INT64_C(86400000));
    m = &C->goals[2].measure; /* neither: every prometheus source */
    assert_int_equal(m->n_sources, 2);
    assert_string_equal(C->sources[m->sources[0]].name, "prod");
    assert_string_equal(C->sources[m->sources[1]].name, "staging");
}

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

static void test_config_errors(void **state)
{
    (void)state;
    int rc = load("  - id: a\n" /* 7 */
                  "    title: A\n"
                  "    target: \">= 99%\"\n"
                  "    measure: { promql: 'up', sources: [prod, stagin], merge: mean }\n" /* 10 */
                  "  - id: b\n"
                  "    title: B\n"
                  "    target: \">= 99%\"\n"
                  "    measure: { promql: 'up', check: web }\n" /* 14 */
                  "  - id: c\n"
                  "    title: C\n"
                  "    target: \">= 99%\"\n"
                  "    measure: { slo: x, merge: min }\n" /* 18 */
                  "  - id: d\n"
                  "    title: D\n"
                  "    target: \">= 99%\"\n"
                  "    measure: { promql: 'up', source: k8s, stat: p95 }\n" /* 22 */
                  "  - id: e\n"
                  "    title: E\n"
                  "    target: \">= 99%\"\n"
                  "    measure: { promql: '', source: prod, sources: [prod] }\n", /* 26 */
                  true);
    assert_int_equal(rc, YS_ECONFIG);
    expect_exact(11, 46,
                 "unknown source 'stagin' in the promql measure of goal 'a' (did you "
                 "mean 'staging'?)");
    expect_exact(11, 62,
                 "unknown merge 'mean' in goal 'a' (use min, max, avg or weighted; did "
                 "you mean 'min'?)");
    expect_exact(15, 16, "measure in goal 'b' has both check and promql: give one");
    expect_exact(19, 24, "measure in goal 'c': merge applies to promql measures, not slo");
    expect_exact(23, 38,
                 "source 'k8s' of the promql measure in goal 'd' is not a prometheus "
                 "source");
    expect_exact(23, 49,
                 "measure in goal 'd': stat applies to check and selector measures, not "
                 "promql (the query computes the value)");
    expect_exact(27, 24, "measure.promql in goal 'e' is empty: write a PromQL query");
    expect_exact(27, 51, "measure in goal 'e' has both source and sources: give one");
    /* No prometheus source at all, and none named: nothing to query. */
    snprintf(buf, sizeof buf,
             "goals:\n"
             "  - { id: x, title: X, target: '>= 1', measure: { promql: up } }\n");
    ys_diag_free(&D);
    ys_diag_init(&D, "t.yaml");
    rc = ys_config_load_string(buf, strlen(buf), &C, &D);
    assert_int_equal(rc, YS_ECONFIG);
    expect_exact(2, 49,
                 "the promql measure in goal 'x' needs a prometheus source (define one "
                 "under sources:)");
}

static int teardown(void **state)
{
    (void)state;
    ys_config_unref(C);
    C = NULL;
    ys_diag_free(&D);
    return 0;
}

int main(void)
{
    ys_diag_init(&D, "t.yaml");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_expand),
        cmocka_unit_test_teardown(test_config, teardown),
        cmocka_unit_test_teardown(test_config_errors, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ys_diag_free(&D);
    return rc;
}
