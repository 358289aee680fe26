/*
 * test_metrics_format.c - the /metrics renderer (web/metrics.c) on a
 * hand-built live snapshot (live/state.c): label escaping, the exact lines
 * for known results, counters, certificates and check labels, the
 * differences between the Prometheus text format and OpenMetrics, and a
 * line-by-line syntax check of everything rendered.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/result.h"
#include "live/state.h"
#include "web/web_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t size;
        const char *want;
    } cases[] = {
        {"plain", 64, "plain"},
        {"a\"b", 64, "a\\\"b"},
        {"back\\slash", 64, "back\\\\slash"},
        {"two\nlines", 64, "two\\nlines"},
        {"", 64, ""},
        {"abcdef", 4, "abc"},   /* truncated, terminated */
        {"ab\"cd", 4, "ab"},    /* an escape is never split */
        {"a\xc3\xa9z", 3, "a"}, /* nor a UTF-8 character */
        {"\xc3\xa9t\xc3\xa9", 64, "\xc3\xa9t\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[64];
        ys_web_metrics_escape(cases[i].in, buf, cases[i].size);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].want, buf);
    }
}

static const char CFG[] = "storage: { path: /tmp/unused.db }\n"
                          "checks:\n"
                          "  - name: web\n"
                          "    kind: http\n"
                          "    url: https://example.org/\n"
                          "    labels: { area: \"net \\\"core\\\"\", team_2: x }\n"
                          "  - name: db\n"
                          "    kind: tcp\n"
                          "    address: 127.0.0.1:5432\n"
                          "  - name: never\n"
                          "    kind: tcp\n"
                          "    address: 127.0.0.1:1\n";

struct fixture {
    struct ys_config *cfg;
    struct ys_live_state *st;
    struct ys_live_snapshot *snap;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct ys_diag d;
    ys_diag_init(&d, "test.yaml");
    assert_int_equal(ys_config_load_string(CFG, strlen(CFG), &f->cfg, &d), 0);
    ys_diag_free(&d);
    f->st = ys_live_state_new(1000);
    ys_live_state_apply(f->st, f->cfg);
    struct ys_result r;
    ys_result_init(&r);
    r.ts_ms = 1700000000000;
    r.ok = true;
    r.duration_us = 250000;
    r.phase_us[YS_PHASE_DNS] = 1000;
    r.phase_us[YS_PHASE_CONNECT] = 2000;
    r.phase_us[YS_PHASE_TLS] = 3000;
    r.phase_us[YS_PHASE_TTFB] = 125000;
    r.flags = YS_RF_HAS_TLS;
    r.tls.leaf_not_after = 1800000000;
    ys_live_state_feed(f->st, &f->cfg->checks[0], &r, false);
    ys_live_state_feed(f->st, &f->cfg->checks[0], &r, false);
    struct ys_result bad;
    ys_result_init(&bad);
    bad.ts_ms = 1700000000000;
    bad.duration_us = 1500000;
    ys_result_fail(&bad, YS_EC_TIMEOUT, "timed out");
    ys_live_state_feed(f->st, &f->cfg->checks[0], &bad, true);
    ys_result_init(&bad); /* a failed result keeps its first failure */
    bad.duration_us = 1000;
    ys_result_fail(&bad, YS_EC_CONNECT, "refused");
    ys_live_state_feed(f->st, &f->cfg->checks[1], &bad, false);
    struct ys_sched_stats ss = {
        .lateness_p50_ms = 1.5, .lateness_p99_ms = 12, .lateness_max_ms = 40};
    struct ys_writer_stats ws = {.written = 42, .dropped = 3};
    ys_live_state_publish(f->st, &ss, &ws, 2000);
    f->snap = ys_live_state_acquire(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ys_live_snapshot_release(f->snap);
    ys_live_state_free(f->st);
    ys_config_unref(f->cfg);
    free(f);
    return 0;
}

static void expect_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("missing line: %s\n--- rendered:\n%s", line, text);
}

/* Every line is a comment (# HELP / # TYPE / # EOF) or `name{labels} value`
 * with a valid metric name and a number. */
static void check_syntax(const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        size_t n = (size_t)(nl - p);
        char line[1024];
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        if (line[0] == '#') {
            assert_true(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0 ||
                        strcmp(line, "# EOF") == 0);
        } else {
            size_t k = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
            assert_true(k > 10 && strncmp(line, "yardstick_", 10) == 0);
            const char *sp = strrchr(line, ' ');
            assert_non_null(sp);
            char *end;
            strtod(sp + 1, &end);
            if (*end != '\0' || end == sp + 1)
                fail_msg("bad value in: %s", line);
        }
        p = nl + 1;
    }
}

static void test_text_format(void **state)
{
    struct fixture *f = *state;
    size_t len;
    char *t = ys_web_metrics_render(f->snap, NULL, NULL, false, 2500, &len);
    assert_int_equal(strlen(t), len);
    expect_line(t, "# TYPE yardstick_check_up gauge");
    expect_line(t, "yardstick_check_up{check=\"web\",kind=\"http\"} 0");
    expect_line(t, "yardstick_check_up{check=\"db\",kind=\"tcp\"} 0");
    assert_null(strstr(t, "yardstick_check_up{check=\"never\"")); /* no result: no up line */
    expect_line(t, "yardstick_check_duration_seconds{check=\"web\"} 1.5");
    expect_line(t, "# TYPE yardstick_check_results_total counter");
    expect_line(t, "yardstick_check_results_total{check=\"web\",result=\"ok\"} 2");
    expect_line(t, "yardstick_check_results_total{check=\"web\",result=\"fail\"} 1");
    expect_line(t, "yardstick_check_results_total{check=\"never\",result=\"ok\"} 0");
    expect_line(t, "yardstick_check_failures_total{check=\"web\",error=\"timeout\"} 1");
    expect_line(t, "yardstick_check_failures_total{check=\"db\",error=\"connect\"} 1");
    expect_line(t, "yardstick_tls_cert_not_after_timestamp_seconds{check=\"web\"} 1800000000");
    assert_null(strstr(t, "not_after_timestamp_seconds{check=\"db\"}"));
    expect_line(t, "# TYPE yardstick_check_info gauge");
    expect_line(t, "yardstick_check_info{check=\"web\",kind=\"http\",area=\"net \\\"core\\\"\","
                   "team_2=\"x\"} 1");
    expect_line(t, "yardstick_scheduler_lateness_seconds{quantile=\"0.99\"} 0.012");
    expect_line(t, "yardstick_store_results_written_total 42");
    expect_line(t, "yardstick_store_results_dropped_total 3");
    expect_line(t, "yardstick_live_snapshot_age_seconds 0.5");
    assert_null(strstr(t, "# EOF"));
    assert_null(strstr(t, "yardstick_slo_sli{")); /* no evaluation given */
    check_syntax(t);
    free(t);
}

static void test_openmetrics(void **state)
{
    struct fixture *f = *state;
    size_t len;
    char *t = ys_web_metrics_render(f->snap, NULL, NULL, true, 2500, &len);
    expect_line(t, "# TYPE yardstick_check_results counter");
    expect_line(t, "yardstick_check_results_total{check=\"web\",result=\"ok\"} 2");
    expect_line(t, "# TYPE yardstick_check info");
    assert_null(strstr(t, "# TYPE yardstick_check_results_total"));
    assert_true(len > 6 && strcmp(t + len - 6, "# EOF\n") == 0);
    check_syntax(t);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test_setup_teardown(test_text_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openmetrics, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
