/*
 * test_rules.c - `yardstick rules` generation (query/rules_gen.c) and the
 * counter it needs on /metrics (live/state.c, web/metrics.c).
 *
 * The rules are parsed back with libyaml, so a quoting mistake in the
 * emitted YAML shows as an expression that does not round-trip; names,
 * windows and the factor * budget of each alert condition are checked
 * against values worked out by hand (99.5% -> budget 0.005). The counter
 * is fed known results through a real live state and rendered.
 */
#include "config/diag.h"
#include "config/model.h"
#include "core/result.h"
#include "live/state.h"
#include "query/rules_gen.h"
#include "slo/window.h"
#include "web/web_int.h"

#include <yaml.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char CFG[] =
    "storage: { path: /tmp/unused.db }\n"
    "checks:\n"
    "  - { name: web.front, kind: tcp, address: 127.0.0.1:1, labels: { area: web } }\n"
    "  - { name: api, kind: tcp, address: 127.0.0.1:2, labels: { area: web } }\n"
    "  - { name: db, kind: tcp, address: 127.0.0.1:3 }\n"
    "slos:\n"
    "  - { name: web-avail, selector: { area: web }, objective: 99.5%, window: 30d }\n"
    "  - { name: api-fast, checks: api, objective: 99%, window: month,\n"
    "      indicator: { latency: 250ms } }\n"
    "  - { name: api-ok, checks: [api], objective: 90%, window: 4w,\n"
    "      indicator: { latency: 1s } }\n"
    "  - { name: api-fast2, checks: [api], objective: 95%, window: 1d,\n"
    "      indicator: { latency: 250ms } }\n";

static struct ys_config *load(const char *text)
{
    struct ys_config *cfg = NULL;
    struct ys_diag d;
    ys_diag_init(&d, "test.yaml");
    int rc = ys_config_load_string(text, strlen(text), &cfg, &d);
    if (rc != 0 || d.n > 0) {
        ys_diag_print(&d, stderr);
        fail_msg("config rejected");
    }
    ys_diag_free(&d);
    return cfg;
}

static void test_seconds_and_durations(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *secs, *dur;
    } cases[] = {
        {250, "0.25", "250ms"},
        {2000, "2", "2s"},
        {1, "0.001", "1ms"},
        {1500, "1.5", "1500ms"},
        {100, "0.1", "100ms"},
        {12345, "12.345", "12345ms"},
        {60000, "60", "1m"},
        {90000, "90", "90s"},
        {30 * 86400000LL, "2592000", "30d"},
        {36 * 3600000LL, "129600", "36h"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[32];
        assert_string_equal(ys_rules_seconds(cases[i].ms, b, sizeof b), cases[i].secs);
        assert_string_equal(ys_rules_duration(cases[i].ms, b, sizeof b), cases[i].dur);
    }
}

static void test_selectors(void **state)
{
    (void)state;
    struct ys_config *cfg = load(CFG);
    struct ys_slo *web = ys_config_find_slo(cfg, "web-avail");
    struct ys_slo *api = ys_config_find_slo(cfg, "api-fast");
    char *s = ys_rules_selector(cfg, web, NULL);
    assert_string_equal(s, "check=~\"web\\\\.front|api\"");
    free(s);
    s = ys_rules_selector(cfg, api, "job=\"ys\"");
    assert_string_equal(s, "check=\"api\",job=\"ys\"");
    free(s);
    s = ys_rules_errors_expr(cfg, web, NULL, "5m");
    assert_string_equal(s, "sum(rate(yardstick_check_results_total{check=~\"web\\\\.front|api\","
                           "result=\"fail\"}[5m]))");
    free(s);
    s = ys_rules_total_expr(cfg, web, NULL, "1h");
    assert_string_equal(
        s, "sum(rate(yardstick_check_results_total{check=~\"web\\\\.front|api\"}[1h]))");
    free(s);
    /* Latency: both sides count from when the threshold's slot began (a
     * reload that adds the SLO), never from the check's older total. */
    s = ys_rules_errors_expr(cfg, api, NULL, "{{.window}}");
    assert_string_equal(s, "sum(rate(yardstick_check_results_latency_total{check=\"api\","
                           "threshold=\"0.25\"}[{{.window}}]))\n-\n"
                           "sum(rate(yardstick_check_results_fast_total{check=\"api\","
                           "threshold=\"0.25\"}[{{.window}}]))");
    free(s);
    s = ys_rules_total_expr(cfg, api, NULL, "1h");
    assert_string_equal(
        s,
        "sum(rate(yardstick_check_results_latency_total{check=\"api\",threshold=\"0.25\"}[1h]))");
    free(s);
    ys_config_unref(cfg);
}

/* ---- a small YAML walker over libyaml's document API ---- */

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

static size_t seq_len(yaml_node_t *seq)
{
    assert_non_null(seq);
    assert_int_equal(seq->type, YAML_SEQUENCE_NODE);
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

static yaml_node_t *item(yaml_document_t *d, yaml_node_t *seq, size_t i)
{
    assert_true(i < seq_len(seq));
    return yaml_document_get_node(d, seq->data.sequence.items.start[i]);
}

static const char *sval(yaml_node_t *n)
{
    assert_non_null(n);
    assert_int_equal(n->type, YAML_SCALAR_NODE);
    return (const char *)n->data.scalar.value;
}

static void parse(const char *text, yaml_document_t *doc)
{
    yaml_parser_t p;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&p, doc))
        fail_msg("not YAML: %s\n%s", p.problem, text);
    yaml_parser_delete(&p);
    assert_non_null(yaml_document_get_root_node(doc));
}

static char *render(const struct ys_config *cfg, struct ys_rules_options *o)
{
    char *text = NULL;
    size_t len = 0;
    struct ys_err err = {{0}};
    if (ys_rules_render(cfg, o, &text, &len, &err) != 0)
        fail_msg("render: %s", err.msg);
    assert_int_equal(strlen(text), len);
    return text;
}

/* The rule of group g whose record or alert is name (and severity sev). */
static yaml_node_t *find_rule(yaml_document_t *d, yaml_node_t *g, const char *kind,
                              const char *name, const char *sev)
{
    yaml_node_t *rules = get(d, g, "rules");
    for (size_t i = 0; i < seq_len(rules); i++) {
        yaml_node_t *r = item(d, rules, i), *k = get(d, r, kind);
        if (k && strcmp(sval(k), name) == 0 &&
            (!sev || strcmp(sval(get(d, get(d, r, "labels"), "severity")), sev) == 0))
            return r;
    }
    fail_msg("no %s %s in the group", kind, name);
    return NULL;
}

static void test_prometheus(void **state)
{
    (void)state;
    struct ys_config *cfg = load(CFG);
    struct ys_rules_options o = {.min_events = 10};
    char *text = render(cfg, &o);
    yaml_document_t doc;
    parse(text, &doc);
    yaml_node_t *groups = get(&doc, yaml_document_get_root_node(&doc), "groups");
    assert_int_equal(seq_len(groups), 4);
    yaml_node_t *g = item(&doc, groups, 0);
    assert_string_equal(sval(get(&doc, g, "name")), "yardstick-slo-web-avail");
    /* Seven burn windows, meta, period ratio and budget, two alerts. */
    assert_int_equal(seq_len(get(&doc, g, "rules")), 7 + 2 + 2 + 2);
    static const char *const windows[] = {"5m", "30m", "1h", "2h", "6h", "1d", "3d"};
    for (size_t w = 0; w < 7; w++) {
        char name[64];
        snprintf(name, sizeof name, "slo:yardstick_sli_error:ratio_rate%s", windows[w]);
        yaml_node_t *r = find_rule(&doc, g, "record", name, NULL);
        assert_string_equal(sval(get(&doc, get(&doc, r, "labels"), "slo")), "web-avail");
        char *errors = ys_rules_errors_expr(cfg, &cfg->slos[0], NULL, windows[w]);
        char *total = ys_rules_total_expr(cfg, &cfg->slos[0], NULL, windows[w]);
        char *want = NULL;
        assert_true(asprintf(&want,
                             "(\n  %s\n)\n/\n%s\nand\nsum(increase(yardstick_check_results_total{"
                             "check=~\"web\\\\.front|api\"}[%s])) >= 10",
                             errors, total, windows[w]) > 0);
        assert_string_equal(sval(get(&doc, r, "expr")), want);
        free(errors);
        free(total);
        free(want);
    }
    assert_string_equal(
        sval(
            get(&doc, find_rule(&doc, g, "record", "slo:yardstick_objective:ratio", NULL), "expr")),
        "vector(0.995)");
    assert_string_equal(
        sval(get(&doc, find_rule(&doc, g, "record", "slo:yardstick_error_budget:ratio", NULL),
                 "expr")),
        "vector(0.005)");
    yaml_node_t *period =
        find_rule(&doc, g, "record", "slo:yardstick_sli_error:ratio_period", NULL);
    assert_string_equal(sval(get(&doc, get(&doc, period, "labels"), "window")), "30d");
    assert_non_null(strstr(sval(get(&doc, period, "expr")), "[30d]"));
    yaml_node_t *page = find_rule(&doc, g, "alert", YS_RULES_ALERT_NAME, "page");
    assert_string_equal(
        sval(get(&doc, page, "expr")),
        "(\n  slo:yardstick_sli_error:ratio_rate1h{slo=\"web-avail\"} > (14.4 * 0.005)\n"
        "  and\n  slo:yardstick_sli_error:ratio_rate5m{slo=\"web-avail\"} > (14.4 * 0.005)\n"
        ")\nor\n"
        "(\n  slo:yardstick_sli_error:ratio_rate6h{slo=\"web-avail\"} > (6 * 0.005)\n"
        "  and\n  slo:yardstick_sli_error:ratio_rate30m{slo=\"web-avail\"} > (6 * 0.005)\n)");
    assert_non_null(get(&doc, get(&doc, page, "annotations"), "summary"));
    yaml_node_t *ticket = find_rule(&doc, g, "alert", YS_RULES_ALERT_NAME, "ticket");
    const char *tx = sval(get(&doc, ticket, "expr"));
    assert_non_null(strstr(tx, "ratio_rate1d{slo=\"web-avail\"} > (3 * 0.005)"));
    assert_non_null(strstr(tx, "ratio_rate2h{slo=\"web-avail\"} > (3 * 0.005)"));
    assert_non_null(strstr(tx, "ratio_rate3d{slo=\"web-avail\"} > (1 * 0.005)"));
    assert_non_null(strstr(tx, "ratio_rate6h{slo=\"web-avail\"} > (1 * 0.005)"));
    /* A calendar window has no period rules; a latency SLO counts fast probes. */
    yaml_node_t *lat = item(&doc, groups, 1);
    assert_string_equal(sval(get(&doc, lat, "name")), "yardstick-slo-api-fast");
    assert_int_equal(seq_len(get(&doc, lat, "rules")), 7 + 2 + 2);
    const char *lx =
        sval(get(&doc, find_rule(&doc, lat, "record", "slo:yardstick_sli_error:ratio_rate5m", NULL),
                 "expr"));
    assert_non_null(
        strstr(lx, "yardstick_check_results_fast_total{check=\"api\",threshold=\"0.25\"}[5m]"));
    assert_non_null(strstr(lx, "\nand\nsum(increase(yardstick_check_results_latency_total{"
                               "check=\"api\",threshold=\"0.25\"}[5m])) >= 10"));
    assert_null(strstr(lx, "yardstick_check_results_total"));
    /* A month counts as the workbook's 30 days: its factors are unscaled. */
    assert_non_null(
        strstr(sval(get(&doc, find_rule(&doc, lat, "alert", YS_RULES_ALERT_NAME, "page"), "expr")),
               "> (14.4 * 0.01)"));
    /* 4w is written as 28d, and its factors are scaled by 28/30 (Sloth's
     * google-28d windows: 2% of the budget in 1h is 13.44x). */
    yaml_node_t *g4w = item(&doc, groups, 2);
    period = find_rule(&doc, g4w, "record", "slo:yardstick_sli_error:ratio_period", NULL);
    assert_string_equal(sval(get(&doc, get(&doc, period, "labels"), "window")), "28d");
    page = find_rule(&doc, g4w, "alert", YS_RULES_ALERT_NAME, "page");
    assert_non_null(
        strstr(sval(get(&doc, page, "expr")), "ratio_rate5m{slo=\"api-ok\"} > (13.44 * 0.1)"));
    assert_non_null(
        strstr(sval(get(&doc, page, "expr")), "ratio_rate6h{slo=\"api-ok\"} > (5.6 * 0.1)"));
    assert_string_equal(sval(get(&doc, get(&doc, page, "annotations"), "description")),
                        "Burn rate of SLO api-ok (error budget 0.1): 1h and 5m above 13.44x, or "
                        "6h and 30m above 5.6x.");
    ticket = find_rule(&doc, g4w, "alert", YS_RULES_ALERT_NAME, "ticket");
    assert_non_null(
        strstr(sval(get(&doc, ticket, "expr")), "ratio_rate1d{slo=\"api-ok\"} > (2.8 * 0.1)"));
    assert_non_null(
        strstr(sval(get(&doc, ticket, "expr")), "ratio_rate3d{slo=\"api-ok\"} > (0.9333 * 0.1)"));
    yaml_document_delete(&doc);
    free(text);
    ys_config_unref(cfg);
}

static void test_options(void **state)
{
    (void)state;
    struct ys_config *cfg = load(CFG);
    struct ys_rules_options o = {.slo = "api-ok", .matchers = "job=\"yardstick\""};
    char *text = render(cfg, &o);
    yaml_document_t doc;
    parse(text, &doc);
    yaml_node_t *groups = get(&doc, yaml_document_get_root_node(&doc), "groups");
    assert_int_equal(seq_len(groups), 1);
    yaml_node_t *g = item(&doc, groups, 0);
    const char *x = sval(get(
        &doc, find_rule(&doc, g, "record", "slo:yardstick_sli_error:ratio_rate1h", NULL), "expr"));
    assert_non_null(strstr(x, "{check=\"api\",job=\"yardstick\",threshold=\"1\"}[1h]"));
    assert_null(strstr(x, "increase(")); /* min_events 0: no clause */
    /* --burn-factors fixed: the workbook's factors whatever the period. */
    assert_non_null(
        strstr(sval(get(&doc, find_rule(&doc, g, "alert", YS_RULES_ALERT_NAME, "page"), "expr")),
               "> (13.44 * 0.1)"));
    yaml_document_delete(&doc);
    free(text);
    o.factors = YS_RULES_FACTORS_FIXED;
    text = render(cfg, &o);
    parse(text, &doc);
    g = item(&doc, get(&doc, yaml_document_get_root_node(&doc), "groups"), 0);
    x = sval(get(&doc, find_rule(&doc, g, "alert", YS_RULES_ALERT_NAME, "page"), "expr"));
    assert_non_null(strstr(x, "> (14.4 * 0.1)"));
    assert_null(strstr(x, "13.44"));
    yaml_document_delete(&doc);
    free(text);
    o.factors = YS_RULES_FACTORS_WINDOW;

    struct ys_err err = {{0}};
    char *none = NULL;
    o.slo = "nope";
    assert_int_equal(ys_rules_render(cfg, &o, &none, NULL, &err), YS_ENOTFOUND);
    assert_null(none);
    assert_non_null(strstr(err.msg, "nope"));
    ys_config_unref(cfg);
    struct ys_config *bare = load("storage: { path: /tmp/unused.db }\n"
                                  "checks: [{ name: a, kind: tcp, address: 127.0.0.1:1 }]\n");
    o.slo = NULL;
    assert_int_equal(ys_rules_render(bare, &o, &none, NULL, &err), YS_EINVAL);
    ys_config_unref(bare);
}

static void test_sloth(void **state)
{
    (void)state;
    struct ys_config *cfg = load(CFG);
    struct ys_rules_options o = {.format = YS_RULES_SLOTH, .service = "shop"};
    char *text = render(cfg, &o);
    yaml_document_t doc;
    parse(text, &doc);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_string_equal(sval(get(&doc, root, "version")), "prometheus/v1");
    assert_string_equal(sval(get(&doc, root, "service")), "shop");
    yaml_node_t *slos = get(&doc, root, "slos");
    assert_int_equal(seq_len(slos), 4);
    yaml_node_t *s = item(&doc, slos, 0);
    assert_string_equal(sval(get(&doc, s, "name")), "web-avail");
    yaml_node_t *obj = get(&doc, s, "objective");
    assert_string_equal(sval(obj), "99.5");
    assert_int_equal(obj->data.scalar.style, YAML_PLAIN_SCALAR_STYLE); /* a number */
    yaml_node_t *ev = get(&doc, get(&doc, s, "sli"), "events");
    char *errors = ys_rules_errors_expr(cfg, &cfg->slos[0], NULL, "{{.window}}");
    assert_string_equal(sval(get(&doc, ev, "error_query")), errors);
    free(errors);
    assert_non_null(strstr(sval(get(&doc, ev, "total_query")), "[{{.window}}]"));
    yaml_node_t *al = get(&doc, s, "alerting");
    assert_string_equal(sval(get(&doc, al, "name")), YS_RULES_ALERT_NAME);
    assert_string_equal(
        sval(get(&doc, get(&doc, get(&doc, al, "page_alert"), "labels"), "severity")), "page");
    assert_string_equal(
        sval(get(&doc, get(&doc, get(&doc, al, "ticket_alert"), "labels"), "severity")), "ticket");
    assert_string_equal(sval(get(&doc, item(&doc, slos, 1), "objective")), "99");
    yaml_document_delete(&doc);
    free(text);
    ys_config_unref(cfg);
}

/* The factors for each period, worked out by hand from the workbook's
 * shares of the budget (2%, 5%, 10%, 10% spent in 1h, 6h, 1d, 3d):
 * factor = share x period / long window. */
static void test_factors(void **state)
{
    (void)state;
    static const struct {
        const char *window;
        int64_t period_h;
        double f[4]; /* 1h&5m page, 6h&30m page, 1d&2h ticket, 3d&6h ticket */
    } cases[] = {
        {"30d", 720, {14.4, 6, 3, 1}},
        {"month", 720, {14.4, 6, 3, 1}},
        {"4w", 672, {13.44, 5.6, 2.8, 0.93333333}},
        {"28d", 672, {13.44, 5.6, 2.8, 0.93333333}},
        {"7d", 168, {3.36, 1.4, 0.7, 0.23333333}},
        {"quarter", 2160, {43.2, 18, 9, 3}},
    };
    static const double share[4] = {0.02, 0.05, 0.10, 0.10};
    static const double long_h[4] = {1, 6, 24, 72};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ys_slo slo = {0};
        assert_int_equal(ys_window_parse(cases[i].window, &slo.window), 0);
        assert_int_equal(ys_rules_slo_period_ms(&slo), cases[i].period_h * 3600000);
        for (int c = 0; c < 4; c++) {
            double f = ys_rules_burn_factor(&slo, &ys_burn_conditions[c], YS_RULES_FACTORS_WINDOW);
            assert_float_equal(f, cases[i].f[c], 1e-6);
            /* The share of the period's budget the condition spends. */
            assert_float_equal(f * long_h[c] / (double)cases[i].period_h, share[c], 1e-9);
            assert_float_equal(
                ys_rules_burn_factor(&slo, &ys_burn_conditions[c], YS_RULES_FACTORS_FIXED),
                ys_burn_conditions[c].factor, 0);
        }
    }
}

/* ---- the counter on /metrics ---- */

static void feed(struct ys_live_state *st, const struct ys_check *ck, bool ok, int64_t ms)
{
    struct ys_result r;
    ys_result_init(&r);
    r.ts_ms = 1700000000000;
    r.duration_us = ms * 1000;
    if (ok)
        r.ok = true;
    else
        ys_result_fail(&r, YS_EC_CONNECT, "refused");
    ys_live_state_feed(st, ck, &r, false);
}

static char *metrics(struct ys_live_state *st)
{
    ys_live_state_publish(st, NULL, NULL, 2000);
    struct ys_live_snapshot *snap = ys_live_state_acquire(st);
    size_t len;
    char *text = ys_web_metrics_render(snap, NULL, NULL, false, 2000, &len);
    ys_live_snapshot_release(snap);
    return text;
}

static void expect_line(const char *text, const char *line, bool present)
{
    char want[256];
    snprintf(want, sizeof want, "\n%s\n", line);
    if ((strstr(text, want) != NULL) != present)
        fail_msg("line %s %s:\n%s", line, present ? "missing" : "unexpected", text);
}

static void test_fast_counter(void **state)
{
    (void)state;
    struct ys_config *cfg = load(CFG);
    struct ys_live_state *st = ys_live_state_new(1000);
    ys_live_state_apply(st, cfg);
    const struct ys_check *api = ys_config_find(cfg, "api");
    feed(st, api, true, 100);  /* fast for both thresholds */
    feed(st, api, true, 250);  /* at most 250 ms: good for 0.25 too */
    feed(st, api, true, 500);  /* good for 1 s only */
    feed(st, api, true, 2000); /* too slow for both */
    feed(st, api, false, 50);  /* a fast failure is never good */
    feed(st, ys_config_find(cfg, "db"), true, 1);
    char *m = metrics(st);
    expect_line(m, "# TYPE yardstick_check_results_fast_total counter", true);
    expect_line(m, "yardstick_check_results_fast_total{check=\"api\",threshold=\"0.25\"} 2", true);
    expect_line(m, "yardstick_check_results_fast_total{check=\"api\",threshold=\"1\"} 3", true);
    /* Two SLOs share 250 ms: one series. Checks without a latency SLO: none. */
    const char *first = strstr(m, "fast_total{check=\"api\",threshold=\"0.25\"}");
    assert_non_null(first);
    assert_null(strstr(first + 1, "fast_total{check=\"api\",threshold=\"0.25\"}"));
    assert_null(strstr(m, "fast_total{check=\"db\""));
    assert_null(strstr(m, "fast_total{check=\"web.front\""));
    /* Every probe counts toward each slot's total, fast or not. */
    expect_line(m, "# TYPE yardstick_check_results_latency_total counter", true);
    expect_line(m, "yardstick_check_results_latency_total{check=\"api\",threshold=\"0.25\"} 5",
                true);
    expect_line(m, "yardstick_check_results_latency_total{check=\"api\",threshold=\"1\"} 5", true);
    assert_null(strstr(m, "latency_total{check=\"db\""));
    free(m);

    /* A reload keeps both counts of a threshold that remains, and starts a
     * new threshold's fast count and slot total together at 0, although
     * the check's own total goes on: so its error ratio, latency - fast
     * over latency, is the 0 of its one fast probe, not (6 - 1) / 6. */
    struct ys_config *next =
        load("storage: { path: /tmp/unused.db }\n"
             "checks:\n"
             "  - { name: api, kind: tcp, address: 127.0.0.1:2 }\n"
             "slos:\n"
             "  - { name: a, checks: api, objective: 99%, indicator: { latency: 2s } }\n"
             "  - { name: b, checks: api, objective: 99%, indicator: { latency: 1s } }\n");
    ys_live_state_apply(st, next);
    feed(st, ys_config_find(next, "api"), true, 1500);
    m = metrics(st);
    expect_line(m, "yardstick_check_results_total{check=\"api\",result=\"ok\"} 5", true);
    expect_line(m, "yardstick_check_results_total{check=\"api\",result=\"fail\"} 1", true);
    expect_line(m, "yardstick_check_results_fast_total{check=\"api\",threshold=\"1\"} 3", true);
    expect_line(m, "yardstick_check_results_latency_total{check=\"api\",threshold=\"1\"} 6", true);
    expect_line(m, "yardstick_check_results_fast_total{check=\"api\",threshold=\"2\"} 1", true);
    expect_line(m, "yardstick_check_results_latency_total{check=\"api\",threshold=\"2\"} 1", true);
    assert_null(strstr(m, "threshold=\"0.25\""));
    free(m);
    ys_live_state_free(st);
    ys_config_unref(next);
    ys_config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds_and_durations),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_sloth),
        cmocka_unit_test(test_factors),
        cmocka_unit_test(test_fast_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
